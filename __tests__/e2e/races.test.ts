/**
 * End to end, several runs of the bundle at once against one stand-in, as overlapping workflow runs
 * are: two releases racing for production, a run that fails late while another finishes green (its
 * undo puts production on the other's release), a prune overlapping a rollback. Latency the stand-in
 * applies per request on arrival pins each interleaving, or spreads them over a range; every trial
 * checks that the registry ends right and that each run's report matches it. The decisions each run
 * makes about another writer are pinned one by one in-process (__tests__/unit: apply, state, cleanup).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { multiArchImage, seedImage } from '../support/images.mjs'
import { runAction, startAction, type RunResult } from '../support/run-action.mjs'
import {
  actionsOf,
  callsOf,
  createRepository,
  dispatchRun,
  expectTruthful,
  releaseRun,
  rowsOf,
  ON_1_0,
  releases,
  SHAS,
  tagsOf,
  until,
  withStandIn
} from '../support/e2e.js'

describe('two overlapping releases', () => {
  // The second release starts 0 to 300 ms after the first, in even steps, the higher one first in
  // every other trial; every request takes 50-100 ms. A release's reads and writes take about that
  // long, so the six trials start the second run in each phase of the first: before its reads,
  // between its reads and its writes, between its version tag and its pointer, after both.
  const trials = Array.from(
    { length: 6 },
    (_, trial) => [trial, trial * 60, trial % 2 === 1] as const
  )

  it.concurrent.each(trials)(
    'trial %d, the second %d ms after the first (the higher first: %s): production ends on the higher, both runs green',
    (trial, gap, highFirst) =>
      withStandIn(async (registry) => {
        const { standIn } = registry
        const { '1.1.0': b11, '1.2.0': c12 } = await releases(registry, 'overlap/app', ON_1_0)
        standIn.control.latency({ default: [50, 100] }, trial + 1)
        const start = (tag: string, sha: string) =>
          startAction(releaseRun(standIn.url, ['overlap/app'], tag, sha)).result
        const first = highFirst ? start('v1.2.0', SHAS['1.2.0']) : start('v1.1.0', SHAS['1.1.0'])
        await sleep(gap)
        const second = highFirst ? start('v1.1.0', SHAS['1.1.0']) : start('v1.2.0', SHAS['1.2.0'])
        const [a, b] = await Promise.all([first, second])
        const [lower, higher] = highFirst ? [b, a] : [a, b]
        standIn.control.latency(0)

        for (const run of [lower, higher])
          expect({ status: run.status, errors: run.errors }).toEqual({ status: 0, errors: [] })
        expect(tagsOf(standIn.control.snapshot('overlap/app'))).toMatchObject({
          production: c12,
          'v1.1.0': b11,
          'v1.2.0': c12
        })
        expect(rowsOf(higher).find(({ tag }) => tag === 'production')).toMatchObject({
          to: c12,
          action: 'moved'
        })
        expectTruthful(higher, standIn, ['overlap/app'])
        console.log(
          `overlapping releases, trial ${trial} (${gap} ms): the v1.1.0 run: ${actionsOf(lower).join(', ')}`
        )
      })
  )
})

it('a late-failing run puts production back where it found it: on the release another run made meanwhile', () =>
  withStandIn(async (registry) => {
    // Pinned: A releases v1.2.0 to two repositories and has written v1.2.0 in both; its re-reads of
    // production (just before writing it) are held 4 s, while B releases v1.1.0 to the first one in
    // full (production moved, green). A's re-read then shows v1.1.0, A moves production to v1.2.0,
    // its write in the second repository is denied, and A undoes: production goes back to v1.1.0.
    const { standIn } = registry
    const [first, second] = ['late/first', 'late/second']
    const one = await releases(registry, first, ON_1_0)
    await releases(registry, second, ON_1_0)
    const beforeSecond = standIn.control.snapshot(second)
    const { calls } = standIn.control
    const base = callsOf(standIn, 'PutImage').length
    const from = calls.length

    standIn.control.latency({ PutImage: 300 })
    const runA = startAction(
      releaseRun(standIn.url, [first, second], 'v1.2.0', SHAS['1.2.0'])
    ).result
    // Every read of A is done before its first write arrives; hold the next reads.
    await until(() => callsOf(standIn, 'PutImage').length > base, "A's first PutImage")
    standIn.control.latency({ PutImage: 300, BatchGetImage: 4_000 })
    await standIn.control.waitFor('PutImage', base + 2)
    standIn.control.deny('PutImage', second)
    const isReRead = (repository: string) => (call: (typeof calls)[number]) =>
      call.operation === 'BatchGetImage' &&
      call.input.repositoryName === repository &&
      JSON.stringify(call.input.imageIds) === JSON.stringify([{ imageTag: 'production' }])
    await until(
      () => calls.slice(from).some(isReRead(first)) && calls.slice(from).some(isReRead(second)),
      "A's re-reads of production"
    )
    standIn.control.latency(0)

    const runB = await runAction(releaseRun(standIn.url, [first], 'v1.1.0', SHAS['1.1.0']))
    expect(runB.errors).toEqual([])
    expect(actionsOf(runB)).toEqual(['v1.1.0 created', 'production moved'])

    const resultA = await runA
    expect(resultA.status).toBe(1)
    expect(resultA.errors).toEqual([
      expect.stringMatching(/^access denied: .*ecr:PutImage on repository late\/second/),
      'every tag this run had written was put back: the registry is as it was before the run'
    ])
    expect(
      rowsOf(resultA).map(({ repository, tag, from, to, action }) => [
        repository,
        tag,
        from,
        to,
        action
      ])
    ).toEqual([
      [first, 'v1.2.0', null, one['1.2.0'], 'undone'],
      [first, 'production', one['1.1.0'], one['1.2.0'], 'undone'],
      [second, 'v1.2.0', null, expect.any(String), 'undone'],
      [second, 'production', expect.any(String), expect.any(String), 'failed']
    ])
    expect(tagsOf(standIn.control.snapshot(first))).toMatchObject({
      production: one['1.1.0'],
      'v1.1.0': one['1.1.0']
    })
    expect(tagsOf(standIn.control.snapshot(first))['v1.2.0']).toBeUndefined()
    expect(standIn.control.snapshot(second)).toEqual(beforeSecond)
    expectTruthful(runB, standIn, [first])
    expectTruthful(resultA, standIn, [first, second])
  }))

describe('a prune overlapping a rollback, with slow deletes', () => {
  /** Every other request takes 0-40 ms, drawn from the trial's seed; a delete takes 1.5 s. */
  const latency = { BatchDeleteImage: 1_500, default: [0, 40] as [number, number] }
  /**
   * Where the second run starts: the prune once the rollback has read the tags it names (a
   * rollback to a version lists nothing); or the rollback once the prune has listed the tags, once
   * the prune's read of the images is held (2.5 s) before it lists them again, or once its delete
   * is on its way. These are the three ways a prune meets
   * the rollback: it never plans the image, drops it at the re-read, or puts it back after its delete.
   */
  type Start = 'rollback first' | 'listed' | 'held before the re-read' | 'deleting'
  const trials: [Start, string][] = [
    ['rollback first', '1.0.0'],
    ['listed', '1.1.0'],
    ['held before the re-read', '1.0.0'],
    ['deleting', '1.1.0']
  ]

  it.concurrent.each(trials.map(([start, version], index) => [index + 1, start, version] as const))(
    "trial %d (%s, rollback to %s): production stays on the rollback's image, which keeps its version, and the prune reports what the registry shows",
    (seed, start, version) =>
      withStandIn(async ({ standIn, client }) => {
        await createRepository(client, 'race/app')
        // 1.0 and 1.1 are outside the two minors kept; production is on 1.3.0.
        const images: Record<string, string> = {}
        for (const minor of [0, 1, 2, 3]) {
          const built = multiArchImage(`race-${seed}-${minor}`)
          const tags = [
            `v1.${minor}.0`,
            `sha-${minor}000000`,
            ...(minor === 3 ? ['production'] : [])
          ]
          await seedImage(client, 'race/app', built, tags)
          standIn.control.setPushedAt(
            'race/app',
            built.digest,
            new Date(Date.now() - 200 * 86_400_000)
          )
          images[`1.${minor}.0`] = built.digest
        }
        standIn.control.latency(latency, seed)
        const prune = () =>
          startAction({
            endpoint: standIn.url,
            eventName: 'schedule',
            inputs: {
              repository: 'race/app',
              event: 'prune',
              'dry-run': 'false',
              'keep-minor-versions': '2'
            }
          }).result
        const rollback = () =>
          startAction(dispatchRun(standIn.url, ['race/app'], { event: 'rollback', version })).result
        const arrived = (operation: string) => callsOf(standIn, operation).length > 0
        let runs: [Promise<RunResult>, Promise<RunResult>]
        if (start === 'rollback first') {
          const rolled = rollback()
          await standIn.control.waitFor('BatchGetImage', 1)
          runs = [prune(), rolled]
        } else {
          const pruned = prune()
          await standIn.control.waitFor('ListImages', 1)
          if (start === 'held before the re-read') {
            // The prune's next request, its read of the images, arrives now and is held.
            standIn.control.latency({ ...latency, DescribeImages: 2_500 }, seed)
            await until(() => arrived('DescribeImages'), "the prune's DescribeImages")
            standIn.control.latency(latency, seed)
          }
          if (start === 'deleting') await until(() => arrived('BatchDeleteImage'), 'the delete')
          runs = [pruned, rollback()]
        }
        const [pruned, rolled] = await Promise.all(runs)
        expect({ prune: pruned.errors, rollback: rolled.errors }).toEqual({
          prune: [],
          rollback: []
        })
        expect([pruned.status, rolled.status]).toEqual([0, 0])

        const target = images[version]!
        const other = images[version === '1.0.0' ? '1.1.0' : '1.0.0']!
        const tagsOn = (digest: string) =>
          standIn.control.snapshot('race/app').images.find((image) => image.digest === digest)?.tags
        expect(tagsOn(target)).toEqual(
          [`sha-${version.split('.')[1]}000000`, 'production', `v${version}`].sort()
        )
        const [entry] = JSON.parse(pruned.outputs.json ?? '[]') as {
          prune: { images: { digest: string }[]; kept: unknown[] }
        }[]
        // What the prune reported is what the registry shows: the other old release is gone, the
        // rollback's image is either kept with the tag it gained or was never planned.
        expect(entry?.prune.images.map(({ digest }) => digest)).toEqual([other])
        expect(tagsOn(other)).toBeUndefined()
        expect(entry?.prune.kept).toEqual(
          entry?.prune.kept.length
            ? [{ digest: target, versions: [version], reason: 'it gained production' }]
            : []
        )
        const path = pruned.stdout.includes('put back on')
          ? 'put back after its delete'
          : entry?.prune.kept.length
            ? 'dropped at the re-read'
            : 'never planned'
        console.log(`prune and rollback, trial ${seed} (${start}, ${version}): ${path}`)
      }),
    20_000
  )
})
