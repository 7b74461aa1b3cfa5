import type { StoredImage } from '../src/ecr/registry.js'
import { shortDigest, describeRef, type ImageRef, type Manifest } from '../src/core/model.js'
import type { RepositoryPlan } from '../src/core/plan.js'
import { problemsOf } from '../src/core/problems.js'
import {
  restoreArchived,
  restoreProblems,
  type RestoreOutcome,
  type ArchivedRegistry
} from '../src/run/archived.js'
import { fakeDigest, fakeEffects } from './support/harness.js'
import { MEDIA_TYPES } from './support/oci.mjs'

const [archivedImage, otherImage] = ['a', 'b'].map(fakeDigest) as [string, string]
const manifest = (of: string): Manifest => ({
  digest: of,
  mediaType: MEDIA_TYPES.ociManifest,
  body: ''
})

const plan = (repository: string, source: string, archived?: string): RepositoryPlan => ({
  repository,
  uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${repository}`,
  source: manifest(source),
  steps: [{ tag: 'production', kind: 'forward', write: true, to: manifest(source) }],
  ...(archived && { archived })
})

interface Storage {
  /** What UpdateImageStorageClass answers. */
  restoreAnswer?: string
  /** DescribeImages says ACTIVE from this read on (1 = the first); never when undefined. */
  activeOnRead?: number
  /** Repositories whose restore call fails. */
  failing?: string[]
  /** DescribeImages finds the image no more from this read on. */
  goneOnRead?: number
}

/** The two calls a restore makes, recording each one; every image is ACTIVATING until `activeOnRead`. */
function fakeRestorer({
  restoreAnswer = 'ACTIVATING',
  activeOnRead,
  failing = [],
  goneOnRead
}: Storage = {}) {
  const calls: string[] = []
  const reads: Record<string, number> = {}
  const restorer: ArchivedRegistry = {
    async restoreImage(repository, restored) {
      calls.push(`restore ${repository} ${shortDigest(restored)}`)
      if (failing.includes(repository))
        throw new Error(`ecr:UpdateImageStorageClass on ${repository} failed`)
      return restoreAnswer
    },
    async storedImage(repository, ref: ImageRef): Promise<StoredImage | undefined> {
      calls.push(`stored ${repository} ${shortDigest(describeRef(ref))}`)
      const read = (reads[repository] = (reads[repository] ?? 0) + 1)
      const digestRef = 'digest' in ref ? ref.digest : ''
      if (goneOnRead !== undefined && read >= goneOnRead) return undefined
      return {
        digest: digestRef,
        mediaType: MEDIA_TYPES.ociManifest,
        status: activeOnRead !== undefined && read >= activeOnRead ? 'ACTIVE' : 'ACTIVATING'
      }
    }
  }
  return { restorer, calls }
}

const HOUR = { text: '1h', ms: 3_600_000 }
const name = `api@${shortDigest(archivedImage)}`

describe('restoreArchived', () => {
  it('a dry run only says which images it would restore, and calls nothing', async () => {
    const { restorer, calls } = fakeRestorer({ activeOnRead: 1 })
    const { effects, sleeps, logs } = fakeEffects()
    const outcomes = await restoreArchived(
      restorer,
      [
        plan('api', archivedImage, 'ARCHIVED'),
        plan('web', otherImage),
        plan('worker', otherImage, 'ACTIVATING')
      ],
      true,
      HOUR,
      effects
    )
    expect(outcomes).toEqual([
      { repository: 'api', digest: archivedImage, was: 'ARCHIVED', action: 'would restore' },
      { repository: 'worker', digest: otherImage, was: 'ACTIVATING', action: 'would restore' }
    ])
    expect(calls).toEqual([])
    expect(sleeps).toEqual([])
    expect(logs).toEqual([])
  })

  it('restores an ARCHIVED image once, then reads it until it is ACTIVE', async () => {
    const { restorer, calls } = fakeRestorer({ activeOnRead: 3 })
    const { effects, sleeps, logs } = fakeEffects()
    const outcomes = await restoreArchived(
      restorer,
      [plan('api', archivedImage, 'ARCHIVED')],
      false,
      HOUR,
      effects
    )
    expect(outcomes).toEqual([
      { repository: 'api', digest: archivedImage, was: 'ARCHIVED', action: 'restored', seconds: 14 }
    ])
    expect(calls).toEqual([
      `restore api ${shortDigest(archivedImage)}`,
      `stored api ${shortDigest(archivedImage)}`,
      `stored api ${shortDigest(archivedImage)}`,
      `stored api ${shortDigest(archivedImage)}`
    ])
    expect(sleeps).toEqual([2_000, 4_000, 8_000])
    expect(logs).toEqual([
      `${name} is archived: restoring it to standard storage (ACTIVATING)`,
      `${name}: restoring, 0 s`,
      `${name}: restoring, 2 s`,
      `${name}: restoring, 6 s`
    ])
  })

  it('does not restore again an image already ACTIVATING: it only waits', async () => {
    const { restorer, calls } = fakeRestorer({ activeOnRead: 1 })
    const { effects, logs } = fakeEffects()
    const outcomes = await restoreArchived(
      restorer,
      [plan('api', archivedImage, 'ACTIVATING')],
      false,
      HOUR,
      effects
    )
    expect(outcomes).toEqual([
      {
        repository: 'api',
        digest: archivedImage,
        was: 'ACTIVATING',
        action: 'restored',
        seconds: 2
      }
    ])
    expect(calls).toEqual([`stored api ${shortDigest(archivedImage)}`])
    expect(logs[0]).toBe(`${name} is archived: restoring it to standard storage (ACTIVATING)`)
  })

  it('does not wait when the restore answers ACTIVE at once', async () => {
    const { restorer, calls } = fakeRestorer({ restoreAnswer: 'ACTIVE' })
    const { effects, sleeps } = fakeEffects()
    const outcomes = await restoreArchived(
      restorer,
      [plan('api', archivedImage, 'ARCHIVED')],
      false,
      HOUR,
      effects
    )
    expect(outcomes).toEqual([
      { repository: 'api', digest: archivedImage, was: 'ARCHIVED', action: 'restored', seconds: 0 }
    ])
    expect(calls).toEqual([`restore api ${shortDigest(archivedImage)}`])
    expect(sleeps).toEqual([])
  })

  it('times out when the image is not ACTIVE within the timeout, and restoreProblems says no tag was written', async () => {
    const { restorer, calls } = fakeRestorer()
    const { effects, sleeps, now } = fakeEffects()
    const outcomes = await restoreArchived(
      restorer,
      [plan('api', archivedImage, 'ARCHIVED')],
      false,
      { text: '1m', ms: 60_000 },
      effects
    )
    expect(outcomes).toEqual([
      {
        repository: 'api',
        digest: archivedImage,
        was: 'ARCHIVED',
        action: 'timed out',
        seconds: 60
      }
    ])
    expect(now()).toBe(60_000)
    expect(sleeps).toEqual([2_000, 4_000, 8_000, 16_000, 30_000])
    expect(calls.filter((call) => call.startsWith('restore'))).toHaveLength(1)
    expect(restoreProblems(outcomes, '1m')).toEqual([
      `${name} is still being restored from archive after restore-timeout (1m): no tag was written; ECR goes on restoring it, so run this step again later (it waits again), or raise restore-timeout`
    ])
  })

  it('ignores plans whose source is not archived', async () => {
    const { restorer, calls } = fakeRestorer({ activeOnRead: 1 })
    const outcomes = await restoreArchived(
      restorer,
      [plan('web', otherImage), plan('api', archivedImage, 'ARCHIVED'), plan('worker', otherImage)],
      false,
      HOUR,
      fakeEffects().effects
    )
    expect(outcomes.map(({ repository, action }) => [repository, action])).toEqual([
      ['api', 'restored']
    ])
    expect(calls).toEqual([
      `restore api ${shortDigest(archivedImage)}`,
      `stored api ${shortDigest(archivedImage)}`
    ])
    expect(
      await restoreArchived(restorer, [plan('web', otherImage)], false, HOUR, fakeEffects().effects)
    ).toEqual([])
  })

  it('stops waiting, with an error, when the image is deleted while it is being restored', async () => {
    const { restorer } = fakeRestorer({ goneOnRead: 1 })
    const failure = await restoreArchived(
      restorer,
      [plan('api', archivedImage, 'ARCHIVED')],
      false,
      HOUR,
      fakeEffects().effects
    ).catch((error: unknown) => error)
    expect(problemsOf(failure).map((error) => (error as Error).message)).toEqual([
      `${name} was deleted while it was being restored`
    ])
  })

  it('reports the failed restore of every repository, not only the first', async () => {
    const { restorer } = fakeRestorer({ failing: ['api', 'web'] })
    const failure = await restoreArchived(
      restorer,
      [plan('api', archivedImage, 'ARCHIVED'), plan('web', otherImage, 'ARCHIVED')],
      false,
      HOUR,
      fakeEffects().effects
    ).catch((error: unknown) => error)
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
  ): RestoreOutcome => ({ repository, digest: of, was: 'ARCHIVED', action, seconds: 1 })

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
      [`api@${shortDigest(archivedImage)}`, `worker@${shortDigest(otherImage)}`]
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
