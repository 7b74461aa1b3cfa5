import { shortDigest, type Manifest } from '../../../src/core/model.js'
import { problemsOf } from '../../../src/core/problems.js'
import { restoreArchived, restoreProblems, type RestoreOutcome } from '../../../src/run/archived.js'
import { manifests, plan, write } from '../../support/builders.js'
import { fakeEffects } from '../../support/harness.js'
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
      {
        repository: 'api',
        digest: archivedImage.digest,
        was: 'ARCHIVED',
        action: 'would restore'
      },
      {
        repository: 'worker',
        digest: otherImage.digest,
        was: 'ACTIVATING',
        action: 'would restore'
      }
    ])
    expect(registry.log).toEqual([])
    expect(sleeps).toEqual([])
    expect(logs).toEqual([])
  })

  it('restores an ARCHIVED image once, then reads it until it is ACTIVE', async () => {
    const registry = holding(activeOnRead(3))
    const { effects, sleeps, logs } = fakeEffects()
    const outcomes = await restore(registry, [moving('api', archivedImage, 'ARCHIVED')], {
      effects
    })
    expect(outcomes).toEqual([
      {
        repository: 'api',
        digest: archivedImage.digest,
        was: 'ARCHIVED',
        action: 'restored',
        seconds: 14
      }
    ])
    expect(registry.log).toEqual(['restore api a', 'stored api a', 'stored api a', 'stored api a'])
    expect(sleeps).toEqual([2_000, 4_000, 8_000])
    expect(logs).toEqual([
      `${name} is archived: restoring it to standard storage (ACTIVATING)`,
      `${name}: restoring, 0 s`,
      `${name}: restoring, 2 s`,
      `${name}: restoring, 6 s`
    ])
  })

  it('does not restore again an image already ACTIVATING: it only waits', async () => {
    const registry = holding(activeOnRead(1))
    const { effects, logs } = fakeEffects()
    const outcomes = await restore(registry, [moving('api', archivedImage, 'ACTIVATING')], {
      effects
    })
    expect(outcomes).toEqual([
      {
        repository: 'api',
        digest: archivedImage.digest,
        was: 'ACTIVATING',
        action: 'restored',
        seconds: 2
      }
    ])
    expect(registry.log).toEqual(['stored api a'])
    expect(logs[0]).toBe(`${name} is archived: restoring it to standard storage (ACTIVATING)`)
  })

  it('does not wait when the restore answers ACTIVE at once', async () => {
    const registry = holding({
      operation: 'restore',
      before: (r) => (r.facts[archivedImage.digest] = { status: 'ACTIVE' })
    })
    const { effects, sleeps } = fakeEffects()
    const outcomes = await restore(registry, [moving('api', archivedImage, 'ARCHIVED')], {
      effects
    })
    expect(outcomes).toEqual([
      {
        repository: 'api',
        digest: archivedImage.digest,
        was: 'ARCHIVED',
        action: 'restored',
        seconds: 0
      }
    ])
    expect(registry.log).toEqual(['restore api a'])
    expect(sleeps).toEqual([])
  })

  it('times out when the image is not ACTIVE within the timeout, and restoreProblems says no tag was written', async () => {
    const registry = holding()
    const { effects, now } = fakeEffects()
    const outcomes = await restore(registry, [moving('api', archivedImage, 'ARCHIVED')], {
      timeout: { text: '1m', ms: 60_000 },
      effects
    })
    expect(outcomes).toEqual([
      {
        repository: 'api',
        digest: archivedImage.digest,
        was: 'ARCHIVED',
        action: 'timed out',
        seconds: 60
      }
    ])
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

  it('stops waiting, with an error, when the image is deleted while it is being restored', async () => {
    const registry = holding({
      operation: 'stored',
      before: (r) => r.manifests.delete(archivedImage.digest)
    })
    const failure = await restore(registry, [moving('api', archivedImage, 'ARCHIVED')]).catch(
      (error: unknown) => error
    )
    expect(problemsOf(failure).map((error) => (error as Error).message)).toEqual([
      `${name} was deleted while it was being restored`
    ])
  })

  it('reports the failed restore of every repository, not only the first', async () => {
    const registry = holding({ operation: 'restore', kind: 'failed', times: 2 })
    const failure = await restore(registry, [
      moving('api', archivedImage, 'ARCHIVED'),
      moving('web', otherImage, 'ARCHIVED')
    ]).catch((error: unknown) => error)
    expect(problemsOf(failure).map((error) => (error as Error).message)).toEqual([
      'ecr:UpdateImageStorageClass on api failed',
      'ecr:UpdateImageStorageClass on web failed'
    ])
  })
})

describe('restoreProblems', () => {
  const outcome = (
    repository: string,
    action: RestoreOutcome['action'],
    of = archivedImage
  ): RestoreOutcome => ({ repository, digest: of.digest, was: 'ARCHIVED', action, seconds: 1 })

  it.each<[string, RestoreOutcome[], string[]]>([
    ['none for no outcomes', [], []],
    [
      'none for restored and would-restore outcomes',
      [outcome('api', 'restored'), outcome('web', 'would restore')],
      []
    ],
    [
      'one per image that timed out',
      [
        outcome('api', 'timed out'),
        outcome('web', 'restored'),
        outcome('worker', 'timed out', otherImage)
      ],
      [`api@${shortDigest(archivedImage.digest)}`, `worker@${shortDigest(otherImage.digest)}`]
    ]
  ])('%s', (_name, outcomes, named) => {
    const problems = restoreProblems(outcomes, '30m')
    expect(problems).toHaveLength(named.length)
    problems.forEach((problem, at) => {
      expect(problem).toMatch(
        new RegExp(
          `^${named[at]} is still being restored from archive after restore-timeout \\(30m\\): no tag was written;`
        )
      )
    })
  })
})
