/**
 * End to end, faults on the wire: the bundle as a runner runs it against the stand-in with its
 * seeded fault injection (answers lost before or after a write is applied), answers rewritten as a
 * proxy would (legal in form, not whole), requests never answered, errors that never stop, and
 * ECR's PutImage quota. Each scenario has a stand-in of its own, so they run at once. What the run
 * decides about a lost answer, in-process, is in __tests__/unit (apply, ecr, state); this shows it
 * holds over HTTP, with the SDK's own retries and timeouts.
 */
import { multiArchImage, seedImage } from '../support/images.mjs'
import { runAction } from '../support/run-action.mjs'
import {
  callsOf,
  createRepository,
  expectOutputsPerRepository,
  expectTruthful,
  releaseRun,
  movesOf,
  rowsOf,
  ON_1_0,
  releases,
  SHA_B,
  SHAS,
  tagsOf,
  withStandIn,
  type Registry
} from '../support/e2e.js'

const AS_BEFORE =
  'every tag this run had written was put back: the registry is as it was before the run'

it.concurrent(
  'tells the truth about every write when half the answers are lost, over 8 seeds',
  async () => {
    // Each seed draws another sequence of faults over the dozen requests of a release (about six
    // of them faulted: reset before the write, or applied and then an error or a reset), so the
    // SDK retries writes that did land; 8 runs lose a PutImage answer after the write about 15
    // times, and the test requires at least one. Every run, green or red, must match the registry.
    const kinds = ['error-after', 'reset-after', 'reset-before'] as const
    const trial = (seed: number) =>
      withStandIn(async (registry) => {
        const { standIn } = registry
        const repository = `faults/app-${seed}`
        const { '1.0.0': old, '1.1.0': build } = await releases(registry, repository, ON_1_0)
        const before = standIn.control.snapshot(repository)
        const from = standIn.control.calls.length
        standIn.control.faults({ seed, rate: 0.5, kinds: [...kinds] })
        const result = await runAction(
          releaseRun(standIn.url, [repository], 'v1.1.0', SHAS['1.1.0'])
        )
        standIn.control.faults(null)
        const injected = [...standIn.control.injected]
        const context = { seed, status: result.status, errors: result.errors }
        expect({ ...context, signal: result.signal, injected: injected.length > 0 }).toEqual({
          ...context,
          signal: null,
          injected: true
        })
        const writes = standIn.control.calls
          .slice(from)
          .filter(({ operation }) => operation === 'PutImage' || operation === 'BatchDeleteImage')
        // A run whose reads fail for good ends before it plans, and then sets no output at all.
        if (result.outputs.json === undefined)
          expect({ ...context, writes }).toEqual({ ...context, writes: [] })
        else expectOutputsPerRepository(result, [repository])
        expectTruthful(result, standIn, [repository])
        const after = standIn.control.snapshot(repository)
        if (result.status === 0) {
          expect(movesOf(result)).toEqual([
            ['v1.1.0', null, build, 'created'],
            ['production', old, build, 'moved']
          ])
          expect(tagsOf(after)).toEqual({ ...tagsOf(before), 'v1.1.0': build, production: build })
          expect(after.images.map(({ digest }) => digest)).toEqual(
            before.images.map(({ digest }) => digest)
          )
        } else {
          expect(context.status).toBe(1)
          const [was, now] = [tagsOf(before), tagsOf(after)]
          const differing = Object.keys({ ...was, ...now }).filter((tag) => was[tag] !== now[tag])
          // Once a write was sent, the run says how it left the registry: as before, or tag by tag.
          if (differing.length === 0 && writes.length > 0)
            expect(context.errors.at(-1)).toBe(AS_BEFORE)
          for (const tag of differing)
            expect({ tag, errors: context.errors }).toEqual({
              tag,
              errors: expect.arrayContaining([expect.stringContaining(`${repository}:${tag}`)])
            })
        }
        return { seed, status: result.status, injected }
      })
    const runs = []
    for (const seeds of [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8]
    ])
      runs.push(...(await Promise.all(seeds.map(trial))))
    const lostAfterPut = runs
      .flatMap(({ injected }) => injected)
      .filter(({ operation, kind }) => operation === 'PutImage' && kind !== 'reset-before')
    console.log(
      `lost answers, rate 0.5: ${runs.map(({ seed, status, injected }) => `#${seed} exit ${status} (${injected.length} faults)`).join(', ')}; ${lostAfterPut.length} PutImage answers lost after the write`
    )
    expect(lostAfterPut.length).toBeGreaterThan(0)
  },
  60_000
)

describe('a partial answer is never an absence: a release of a lower version refuses before any write, naming the call', () => {
  type Body = {
    imageIds?: unknown[]
    images?: { imageId: { imageTag?: string } }[]
    nextToken?: string
  }
  it.concurrent.each<[string, string, (registry: Registry) => (body: Body) => unknown, RegExp]>([
    [
      'ListImages answering 200 with no entries',
      'ListImages',
      () => (body) => ({ ...body, imageIds: [] }),
      /^ECR's ListImages answer for partial\/app contradicts the tags read by name \(.*production: listed nowhere, read by name on sha256:/
    ],
    [
      'BatchGetImage leaving production out (neither an image nor a failure)',
      'BatchGetImage',
      () => (body) => ({
        ...body,
        images: body.images?.filter(({ imageId }) => imageId.imageTag !== 'production')
      }),
      /^ECR answered BatchGetImage on partial\/app in part \(production: asked for, returned neither as an image nor as a failure\)/
    ],
    [
      'ListImages giving its first nextToken again and again, over 1,001 tags',
      'ListImages',
      ({ standIn }) => {
        const production = standIn.control
          .snapshot('partial/app')
          .images.find(({ tags }) => tags.includes('production'))
        const extra = Array.from({ length: 1_001 }, (_, index) => `extra-${index}`)
        standIn.control.seedTags('partial/app', production!.digest, extra)
        let first: string | undefined
        return (body) => ({ ...body, nextToken: (first ??= body.nextToken) })
      },
      /^ECR answered ListImages on partial\/app in part \(a nextToken it had given before\)/
    ]
  ])('%s', (_name, operation, change, error) =>
    withStandIn(async (registry) => {
      const { standIn, client } = registry
      await createRepository(client, 'partial/app')
      await seedImage(client, 'partial/app', multiArchImage('partial-old'), [
        'v1.3.0',
        'production'
      ])
      await seedImage(client, 'partial/app', multiArchImage('partial-build'), ['sha-bbbbbbb'])
      standIn.control.rewrite(operation, change(registry))
      const before = standIn.control.snapshot('partial/app')
      const from = standIn.control.calls.length
      const run = await runAction(releaseRun(standIn.url, ['partial/app'], 'v1.2.5', SHA_B))
      expect(run.status).toBe(1)
      expect(run.errors).toEqual([expect.stringMatching(error)])
      expect(standIn.control.snapshot('partial/app')).toEqual(before)
      const calls = standIn.control.calls.slice(from).map(({ operation: called }) => called)
      expect(calls).not.toContain('PutImage')
      // A repeated token ends the listing at once, not after thousands of pages.
      expect(calls.filter((called) => called === 'ListImages').length).toBeLessThanOrEqual(4)
    })
  )
})

it.concurrent.each([
  ['not applied: the request times out after 5 s and is tried again', false],
  ['applied, answer never sent: the retry finds it done and the row says created', true]
])('a PutImage that is never answered, %s', (_name, apply) =>
  withStandIn(async (registry) => {
    const { standIn } = registry
    const repository = apply ? 'hang/applied' : 'hang/lost'
    const { '1.0.0': old, '1.1.0': build } = await releases(registry, repository, ON_1_0)
    standIn.control.hang('PutImage', { count: 1, apply })
    const started = Date.now()
    const result = await runAction(releaseRun(standIn.url, [repository], 'v1.1.0', SHAS['1.1.0']))
    const seconds = (Date.now() - started) / 1000
    expect(result.errors).toEqual([])
    expect(result.status).toBe(0)
    expect(standIn.control.injected).toEqual([{ operation: 'PutImage', kind: 'hang' }])
    expect(seconds).toBeGreaterThanOrEqual(5)
    expect(movesOf(result)).toEqual([
      ['v1.1.0', null, build, 'created'],
      ['production', old, build, 'moved']
    ])
    expectTruthful(result, standIn, [repository])
  })
)

it.concurrent(
  'a removal whose answer is lost during an undo: the retry finds the tag gone, and the row says undone',
  () =>
    withStandIn(async (registry) => {
      const { standIn } = registry
      const { '1.0.0': old, '1.1.0': build } = await releases(registry, 'undo/app', ON_1_0)
      const before = standIn.control.snapshot('undo/app')
      standIn.control.failPutImage('production')
      standIn.control.faults({
        seed: 3,
        rate: 1,
        operations: ['BatchDeleteImage'],
        kinds: ['error-after']
      })
      void standIn.control.waitFor('BatchDeleteImage', 1).then(() => standIn.control.faults(null))
      const result = await runAction(releaseRun(standIn.url, ['undo/app'], 'v1.1.0', SHAS['1.1.0']))
      expect(standIn.control.injected).toEqual([
        { operation: 'BatchDeleteImage', kind: 'error-after' }
      ])
      expect(result.status).toBe(1)
      expect(movesOf(result)).toEqual([
        ['v1.1.0', null, build, 'undone'],
        ['production', old, build, 'failed']
      ])
      expect(standIn.control.snapshot('undo/app')).toEqual(before)
      expect(result.errors).toEqual([
        'ecr:PutImage on undo/app failed: KmsException: injected failure',
        AS_BEFORE
      ])
      expectTruthful(result, standIn, ['undo/app'])
    })
)

it.concurrent(
  'a PutImage that fails with a 5xx answer every time: tried again for 10 s, then the run ends, undone, within 20 s',
  () =>
    withStandIn(async (registry) => {
      const { standIn } = registry
      const { '1.0.0': old } = await releases(registry, 'sticky/app', ON_1_0)
      const before = standIn.control.snapshot('sticky/app')
      standIn.control.failPutImage('production', {
        exception: 'ServerException',
        message: 'internal failure',
        times: Infinity
      })
      const started = Date.now()
      const run = await runAction(releaseRun(standIn.url, ['sticky/app'], 'v1.1.0', SHAS['1.1.0']))
      const seconds = (Date.now() - started) / 1000
      expect(seconds).toBeLessThan(20)
      expect(run.status).toBe(1)
      expect(run.errors).toEqual([
        'ecr:PutImage on sticky/app failed: ServerException: internal failure',
        AS_BEFORE
      ])
      expect(standIn.control.snapshot('sticky/app')).toEqual(before)
      expect(tagsOf(before).production).toBe(old)
      const attempts = callsOf(standIn, 'PutImage').filter(
        ({ input }) => input.imageTag === 'production'
      )
      console.log(
        `sticky ServerException: ${attempts.length} attempts, undone in ${seconds.toFixed(1)} s`
      )
    }),
  30_000
)

it.concurrent(
  "releases 40 tags across 10 repositories at ECR's PutImage quota (10 a second) without a failure",
  () =>
    withStandIn(async (registry) => {
      const { standIn } = registry
      const repositories = Array.from({ length: 10 }, (_, index) => `quota/service-${index}`)
      const builds: Record<string, string> = {}
      for (const name of repositories)
        builds[name] = (
          await releases(registry, name, { '1.0.0': ['v1.0.0', '1.0', '1', 'production'] })
        )['1.1.0']
      const start = standIn.control.calls.length
      standIn.control.quota({ PutImage: { rate: 10, burst: 10 } })
      const result = await runAction(
        releaseRun(standIn.url, repositories, 'v1.1.0', SHAS['1.1.0'], {
          convention: '__tests__/support/four-tags-convention.yml'
        })
      )
      expect(result.errors).toEqual([])
      expect(result.status).toBe(0)
      for (const name of repositories)
        expect(tagsOf(standIn.control.snapshot(name))).toMatchObject(
          Object.fromEntries(['v1.1.0', '1.1', '1', 'production'].map((tag) => [tag, builds[name]]))
        )
      expect(
        rowsOf(result).filter(({ action }) => action === 'created' || action === 'moved')
      ).toHaveLength(40)
      // Paced at the quota: a handful of throttles at most, each retried, none failing the run.
      const throttled = standIn.control.throttled.length
      expect(throttled).toBeLessThanOrEqual(10)
      expect(
        standIn.control.calls.slice(start).filter(({ operation }) => operation === 'PutImage')
          .length - throttled
      ).toBe(40)
    })
)
