/**
 * End to end, several runs of the bundle at once against one stand-in, as overlapping workflow runs
 * are: two releases racing for production, a run that fails late while another finishes green (its
 * undo puts production on the other's release), a prune overlapping a rollback. Requests the stand-in
 * holds until the test releases them pin each interleaving; latency spreads the others; every trial
 * checks that the registry ends right and that each run's report matches it. The decisions each run
 * makes about another writer are pinned one by one in-process (__tests__/unit: apply, state, cleanup).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { multiArchImage, seedImage } from '../support/images.mjs'
import { runAction, startAction, type RunResult } from '../support/run-action.mjs'
import {
  actionsOf,
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
  withStandIn,
  type Registry
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
        // The lower run's check may hand production on to the higher release before the higher
        // run's own write lands; that write then finds it there, another run's, and says unchanged.
        expect(rowsOf(higher).find(({ tag }) => tag === 'production')).toMatchObject({
          to: c12,
          action: expect.stringMatching(/^(moved|unchanged)$/)
        })
        expectTruthful(higher, standIn, ['overlap/app'], ['overlap/app:production'])
        console.log(
          `overlapping releases, trial ${trial} (${gap} ms): the v1.1.0 run: ${actionsOf(lower).join(', ')}`
        )
      })
  )
})

it("the higher release's pointer write finds production already on its image, where the lower run's check handed it on: unchanged, and said so", () =>
  withStandIn(async (registry) => {
    // Pinned: H (v1.2.0) has read production on 1.0.0; its version tag and its production are held.
    // L (v1.1.0) reads (no 1.2.0 yet) and moves production; its check is held until H's version tag
    // has landed, then finds 1.2.0 above it and hands production on to it. H's write of production
    // then lands where production already is.
    const { standIn } = registry
    const { control } = standIn
    const one = await releases(registry, 'handed/app', ON_1_0)
    const production = () => tagsOf(control.snapshot('handed/app')).production
    const higherVersion = control.hold('PutImage', { tag: 'v1.2.0' })
    const higherPointer = control.hold('PutImage', { tag: 'production' })
    const runH = startAction(
      releaseRun(standIn.url, ['handed/app'], 'v1.2.0', SHAS['1.2.0'])
    ).result
    await Promise.all([higherVersion.arrived(), higherPointer.arrived()])
    const runL = startAction(
      releaseRun(standIn.url, ['handed/app'], 'v1.1.0', SHAS['1.1.0'])
    ).result
    await until(() => production() === one['1.1.0'], "L's write of production")
    const check = control.hold('ListImages')
    await check.arrived()
    higherVersion.release()
    await until(() => 'v1.2.0' in tagsOf(control.snapshot('handed/app')), "H's version tag")
    check.release()
    const resultL = await runL
    expect(production()).toBe(one['1.2.0'])
    higherPointer.release()
    const resultH = await runH
    for (const run of [resultH, resultL])
      expect({ status: run.status, errors: run.errors }).toEqual({ status: 0, errors: [] })
    expect(rowsOf(resultH).find(({ tag }) => tag === 'production')).toMatchObject({
      from: one['1.0.0'],
      to: one['1.2.0'],
      now: one['1.2.0'],
      action: 'unchanged'
    })
    expect(resultH.stdout).toContain(
      `handed/app:production ${one['1.0.0'].slice(0, 19)} -> ${one['1.2.0'].slice(0, 19)} unchanged (another writer had put it there since this run read it)`
    )
    expectTruthful(resultH, standIn, ['handed/app'], ['handed/app:production'])
    expectTruthful(resultL, standIn, ['handed/app'])
  }))

it('a late-failing run puts production back where it found it: on the release another run made meanwhile', () =>
  withStandIn(async (registry) => {
    // Pinned: A releases v1.2.0 to two repositories, its version tags and production in one wave;
    // its version tags land, its writes of production are held while B releases v1.1.0 to the first
    // one in full (production moved, green). A's production then lands in the first repository, its
    // write in the second is denied, and A undoes: production goes back to v1.1.0, not to 1.0.0.
    const { standIn } = registry
    const [first, second] = ['late/first', 'late/second']
    const one = await releases(registry, first, ON_1_0)
    await releases(registry, second, ON_1_0)
    const beforeSecond = standIn.control.snapshot(second)
    const { control } = standIn

    const pointer = (repositoryName: string) =>
      control.hold('PutImage', { repositoryName, tag: 'production' })
    const [onFirst, onSecond] = [pointer(first), pointer(second)]
    const runA = startAction(
      releaseRun(standIn.url, [first, second], 'v1.2.0', SHAS['1.2.0'])
    ).result
    await Promise.all([onFirst.arrived(), onSecond.arrived()])
    const versioned = (name: string) => 'v1.2.0' in tagsOf(control.snapshot(name))
    await until(() => versioned(first) && versioned(second), "A's version tags")
    control.deny('PutImage', second)

    const runB = await runAction(releaseRun(standIn.url, [first], 'v1.1.0', SHAS['1.1.0']))
    // A writes production in the first repository before its write in the second is refused.
    onFirst.release()
    const moved = () => tagsOf(control.snapshot(first)).production === one['1.2.0']
    await until(moved, "A's write of production in the first repository")
    onSecond.release()
    expect(runB.errors).toEqual([])
    expect(actionsOf(runB)).toEqual(['v1.1.0 created', 'production moved'])

    const resultA = await runA
    expect(resultA.status).toBe(1)
    expect(resultA.errors).toEqual([
      expect.stringMatching(/^access denied: .*ecr:PutImage on repository late\/second/),
      'every tag this run had written was put back',
      `late/first:production was put back on ${one['1.1.0'].slice(0, 19)}, which another run released meanwhile, rather than on ${one['1.0.0'].slice(0, 19)}`
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
      [first, 'production', one['1.0.0'], one['1.2.0'], 'undone'],
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

describe('a release whose pointer lands before its version tag', () => {
  /** Both runs green, production on 1.2.0 at the end, and the higher run's report as the registry shows. */
  function expectHigherWins(
    standIn: Registry['standIn'],
    [higher, lower]: [RunResult, RunResult],
    digest: string
  ) {
    for (const run of [higher, lower])
      expect({ status: run.status, errors: run.errors }).toEqual({ status: 0, errors: [] })
    expect(tagsOf(standIn.control.snapshot('land/app')).production).toBe(digest)
    expectTruthful(higher, standIn, ['land/app'])
    expect(rowsOf(higher).find(({ tag }) => tag === 'production')).toMatchObject({
      action: 'moved',
      now: digest
    })
  }

  it('the higher release puts production right when the lower one wrote it last, its version tag still on its way', () =>
    withStandIn(async (registry) => {
      // Pinned: H (v1.2.0) has written its version tag, its production is held; L (v1.1.0) reads
      // (v1.2.0 is there, production on 1.0.0), and its version tag and production are held. H's
      // production lands, then L's; H's check lists production on L's image, which has no version
      // yet: H writes it again. L's version tag lands last; its check finds 1.2.0 and leaves it.
      const { standIn } = registry
      const { control } = standIn
      const one = await releases(registry, 'land/app', ON_1_0)
      const production = () => tagsOf(control.snapshot('land/app')).production
      const higherPointer = control.hold('PutImage', { tag: 'production' })
      const runH = startAction(
        releaseRun(standIn.url, ['land/app'], 'v1.2.0', SHAS['1.2.0'])
      ).result
      await higherPointer.arrived()
      await until(() => 'v1.2.0' in tagsOf(control.snapshot('land/app')), "H's version tag")
      const lowerVersion = control.hold('PutImage', { tag: 'v1.1.0' })
      const lowerPointer = control.hold('PutImage', { tag: 'production' })
      const runL = startAction(
        releaseRun(standIn.url, ['land/app'], 'v1.1.0', SHAS['1.1.0'])
      ).result
      await Promise.all([lowerVersion.arrived(), lowerPointer.arrived()])
      const check = control.hold('ListImages')
      higherPointer.release()
      await check.arrived()
      lowerPointer.release()
      await until(() => production() === one['1.1.0'], "L's write of production")
      check.release()
      const resultH = await runH
      lowerVersion.release()
      const resultL = await runL
      expectHigherWins(standIn, [resultH, resultL], one['1.2.0'])
    }))

  it('a release that held production on an image without a version moves it once that image shows a lower one', () =>
    withStandIn(async (registry) => {
      // Pinned: L (v1.1.0) has written production, its version tag is held. H (v1.2.0) reads
      // production on L's image, which has no version and was pushed after H's: by push time H
      // holds production, and its version tag is held. L's version tag lands, L's check (no 1.2.0
      // yet) is content; then H's version tag lands, and H's check finds production on 1.1.0.
      const { standIn } = registry
      const { control } = standIn
      const one = await releases(registry, 'land/app', ON_1_0)
      control.setPushedAt('land/app', one['1.2.0'], new Date(Date.UTC(2026, 0, 1)))
      control.setPushedAt('land/app', one['1.1.0'], new Date(Date.UTC(2026, 0, 2)))
      const lowerVersion = control.hold('PutImage', { tag: 'v1.1.0' })
      const runL = startAction(
        releaseRun(standIn.url, ['land/app'], 'v1.1.0', SHAS['1.1.0'])
      ).result
      await lowerVersion.arrived()
      const production = () => tagsOf(control.snapshot('land/app')).production
      await until(() => production() === one['1.1.0'], "L's write of production")
      const higherVersion = control.hold('PutImage', { tag: 'v1.2.0' })
      const runH = startAction(
        releaseRun(standIn.url, ['land/app'], 'v1.2.0', SHAS['1.2.0'])
      ).result
      await higherVersion.arrived()
      lowerVersion.release()
      const resultL = await runL
      higherVersion.release()
      const resultH = await runH
      expectHigherWins(standIn, [resultH, resultL], one['1.2.0'])
    }))
})

describe('a prune overlapping a rollback', () => {
  /**
   * Where the rollback's write of production lands: before the prune starts; once the prune has
   * listed the tags and before it lists them again; while its read of the images, before it lists
   * them again, is held; or while its delete is held on its way. The prune's requests named are
   * held in turn, the last until that write has landed. These are the three ways a prune meets the
   * rollback: it never plans the image, drops it at the re-read, or puts it back after its delete.
   */
  type Path = 'never planned' | 'dropped at the re-read' | 'put back after its delete'
  const trials: [string, string, string[], Path][] = [
    ['rollback first', '1.0.0', [], 'never planned'],
    ['listed', '1.1.0', ['DescribeImages', 'ListImages'], 'dropped at the re-read'],
    ['held before the re-read', '1.0.0', ['DescribeImages'], 'dropped at the re-read'],
    ['deleting', '1.1.0', ['BatchDeleteImage'], 'put back after its delete']
  ]

  it.concurrent.each(trials.map((trial, index) => [index + 1, ...trial] as const))(
    "trial %d (%s, rollback to %s): production stays on the rollback's image, which keeps its version, and the prune reports what the registry shows",
    (seed, _start, version, held, expected) =>
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
        const { control } = standIn
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
        /** Starts the rollback, and returns once its write of production has landed. */
        const rollback = async () => {
          const run = startAction(
            dispatchRun(standIn.url, ['race/app'], { event: 'rollback', version })
          ).result
          await until(
            () => tagsOf(control.snapshot('race/app')).production === images[version],
            "the rollback's write"
          )
          return { run }
        }
        let rolling = held.length === 0 ? await rollback() : undefined
        let hold = held[0] === undefined ? undefined : control.hold(held[0])
        const pruning = prune()
        for (const operation of held.slice(1)) {
          await hold?.arrived()
          const next = control.hold(operation)
          hold?.release()
          hold = next
        }
        if (hold) {
          await hold.arrived()
          rolling = await rollback()
          hold.release()
        }
        const [pruned, rolled] = await Promise.all([pruning, rolling!.run])
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
        expect(path).toBe(expected)
      }),
    20_000
  )
})
