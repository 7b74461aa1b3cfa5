import { messageOf, shortDigest, type Manifest } from '../../../src/core/model.js'
import { problemsOf } from '../../../src/core/problems.js'
import { restoreArchived, restoreProblems, type RestoreOutcome } from '../../../src/run/archived.js'
import { manifests, plan, write } from '../../support/builders.js'
import { fakeEffects, rejection } from '../../support/harness.js'
import { memoryRegistry, type Fault, type MemoryRegistry } from '../../support/memory-registry.js'

const [archivedImage, otherImage] = manifests('a', 'b')
/** The plan of a move of production to `source`, stored as `archived` says (ACTIVE when absent). */
const moving = (repository: string, source: Manifest, archived?: string) =>
  plan(repository, {
    source,
    steps: [write('production', 'forward', source)],
    ...(archived && { archived })
  })
/** Image a, archived; b active. */
const holding = (...faults: Fault[]) =>
  memoryRegistry({
    images: [archivedImage, otherImage],
    facts: { [archivedImage.digest]: { status: 'ARCHIVED' } },
    faults
  })
/** DescribeImages shows image a ACTIVE from its `read`th read on (1 = the first). */
const activeOnRead = (read: number): Fault => {
  let reads = 0
  return {
    operation: 'stored',
    times: Infinity,
    before: (registry) => {
      reads += 1
      if (reads >= read) registry.facts[archivedImage.digest] = { status: 'ACTIVE' }
    }
  }
}
const HOUR = { text: '1h', ms: 3_600_000 }
const name = `api@${shortDigest(archivedImage.digest)}`

const restore = (
  registry: MemoryRegistry,
  plans: ReturnType<typeof moving>[],
  { dryRun = false, timeout = HOUR, effects = fakeEffects().effects } = {}
) => restoreArchived(registry, plans, dryRun, timeout, effects)

/** One outcome for api's image a, the restored image unless told. */
const outcome = (
  was: string,
  action: RestoreOutcome['action'],
  seconds?: number,
  repository = 'api',
  of = archivedImage
): RestoreOutcome => ({
  repository,
  digest: of.digest,
  was,
  action,
  ...(seconds !== undefined && { seconds })
})

describe('restoreArchived', () => {
  it('a dry run only says which images it would restore, and calls nothing', async () => {
    const registry = holding()
    const { effects, sleeps, logs } = fakeEffects()
    const outcomes = await restore(
      registry,
      [
        moving('api', archivedImage, 'ARCHIVED'),
        moving('web', otherImage),
        moving('worker', otherImage, 'ACTIVATING')
      ],
      { dryRun: true, effects }
    )
    expect(outcomes).toEqual([
      outcome('ARCHIVED', 'would restore'),
      outcome('ACTIVATING', 'would restore', undefined, 'worker', otherImage)
    ])
    expect([registry.log, sleeps, logs]).toEqual([[], [], []])
  })

  it.each<[string, Fault, string, number, string[], number[]]>([
    [
      'restores an ARCHIVED image once, then reads it until it is ACTIVE',
      activeOnRead(3),
      'ARCHIVED',
      14,
      ['restore api a', 'stored api a', 'stored api a', 'stored api a'],
      [2_000, 4_000, 8_000]
    ],
    [
      'does not restore again an image already ACTIVATING: it only waits',
      activeOnRead(1),
      'ACTIVATING',
      2,
      ['stored api a'],
      [2_000]
    ],
    [
      'does not wait when the restore answers ACTIVE at once',
      {
        operation: 'restore',
        before: (r) => (r.facts[archivedImage.digest] = { status: 'ACTIVE' })
      },
      'ARCHIVED',
      0,
      ['restore api a'],
      []
    ]
  ])('%s', async (_name, fault, was, seconds, calls, pauses) => {
    const registry = holding(fault)
    const { effects, sleeps, logs } = fakeEffects()
    const outcomes = await restore(registry, [moving('api', archivedImage, was)], { effects })
    expect(outcomes).toEqual([outcome(was, 'restored', seconds)])
    expect(registry.log).toEqual(calls)
    expect(sleeps).toEqual(pauses)
    expect(logs).toEqual([
      `${name} is archived: restoring it to standard storage (${seconds ? 'ACTIVATING' : 'ACTIVE'})`,
      ...[0, 2, 6].slice(0, pauses.length).map((waited) => `${name}: restoring, ${waited} s`)
    ])
  })

  it('times out when the image is not ACTIVE within the timeout, and restoreProblems says no tag was written', async () => {
    const registry = holding()
    const { effects, now } = fakeEffects()
    const outcomes = await restore(registry, [moving('api', archivedImage, 'ARCHIVED')], {
      timeout: { text: '1m', ms: 60_000 },
      effects
    })
    expect(outcomes).toEqual([outcome('ARCHIVED', 'timed out', 60)])
    expect(now()).toBe(60_000)
    expect(registry.log.filter((call) => call.startsWith('restore'))).toHaveLength(1)
    expect(restoreProblems(outcomes, '1m')).toEqual([
      `${name} is still being restored from archive after restore-timeout (1m): no tag was written; ECR goes on restoring it, so run this step again later (it waits again), or raise restore-timeout`
    ])
  })

  it('ignores plans whose source is not archived', async () => {
    const registry = holding(activeOnRead(1))
    const outcomes = await restore(registry, [
      moving('web', otherImage),
      moving('api', archivedImage, 'ARCHIVED'),
      moving('worker', otherImage)
    ])
    expect(outcomes.map(({ repository, action }) => [repository, action])).toEqual([
      ['api', 'restored']
    ])
    expect(registry.log).toEqual(['restore api a', 'stored api a'])
    expect(await restore(registry, [moving('web', otherImage)])).toEqual([])
  })

  it.each<[string, Fault, ReturnType<typeof moving>[], string[]]>([
    [
      'stops waiting, with an error, when the image is deleted while it is being restored',
      { operation: 'stored', before: (r) => r.manifests.delete(archivedImage.digest) },
      [moving('api', archivedImage, 'ARCHIVED')],
      [`${name} was deleted while it was being restored`]
    ],
    [
      'reports the failed restore of every repository, not only the first',
      { operation: 'restore', kind: 'failed', times: 2 },
      [moving('api', archivedImage, 'ARCHIVED'), moving('web', otherImage, 'ARCHIVED')],
      ['ecr:UpdateImageStorageClass on api failed', 'ecr:UpdateImageStorageClass on web failed']
    ]
  ])('%s', async (_name, fault, plans, messages) => {
    const failure = await rejection(restore(holding(fault), plans))
    expect(problemsOf(failure).map(messageOf)).toEqual(messages)
  })
})

describe('restoreProblems', () => {
  it.each<[string, RestoreOutcome[], string[]]>([
    ['none for no outcomes', [], []],
    [
      'none for restored and would-restore outcomes',
      [outcome('ARCHIVED', 'restored', 1), outcome('ARCHIVED', 'would restore', 1, 'web')],
      []
    ],
    [
      'one per image that timed out',
      [
        outcome('ARCHIVED', 'timed out', 1),
        outcome('ARCHIVED', 'restored', 1, 'web'),
        outcome('ARCHIVED', 'timed out', 1, 'worker', otherImage)
      ],
      [`api@${shortDigest(archivedImage.digest)}`, `worker@${shortDigest(otherImage.digest)}`]
    ]
  ])('%s', (_name, outcomes, named) => {
    expect(restoreProblems(outcomes, '30m')).toEqual(
      named.map((image) =>
        expect.stringMatching(
          new RegExp(
            `^${image} is still being restored from archive after restore-timeout \\(30m\\): no tag was written;`
          )
        )
      )
    )
  })
})
