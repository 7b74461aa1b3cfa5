import { type Convention, type Cleanup } from '../../../src/core/convention.js'
import { parseConvention } from '../../../src/core/convention-file.js'
import {
  type Expiring,
  type LifecycleMode,
  policyText,
  renderPolicy
} from '../../../src/core/lifecycle.js'
import { messageOf, type Manifest } from '../../../src/core/model.js'
import { problemsOf } from '../../../src/core/problems.js'
import { lifecycleIntent, maintainLifecycle, pruneReleases } from '../../../src/run/cleanup.js'
import type { Effects } from '../../../src/run/effects.js'
import {
  channels,
  environments,
  fakeDigest,
  fakeDigests,
  manifest,
  manifests
} from '../../support/builders.js'
import { fakeEffects, rejection } from '../../support/harness.js'
import {
  memoryRegistry,
  type Fault,
  type MemoryRegistry,
  type Preview
} from '../../support/memory-registry.js'

const rendered = policyText(renderPolicy(environments, environments.cleanup as Cleanup))
const [amd64, arm64] = fakeDigests('amd', 'arm')
const [build, older, oldest, untagged, release] = manifests('b', 'c', 'f', 'd', 'e')
const index: Manifest = {
  digest: fakeDigest('idx'),
  mediaType: 'application/vnd.oci.image.index.v1+json',
  body: JSON.stringify({ manifests: [{ digest: amd64 }, { digest: arm64 }] })
}

/** A repository as the lifecycle stage sees it: its tags, its policy, and what a preview of it answers. */
interface Repository {
  readonly tags?: Record<string, Manifest>
  readonly policy?: string
  readonly preview?: Partial<Preview>
}

/** production is on an OCI index of two platform images; latest and the build tag on another image. */
const TAGS = { production: index, 'v1.0.0': release, latest: build, 'sha-bbbbbbb': build }

/** The repositories, with the images a preview expires (c of 100 bytes, d of 200, f of unknown size). */
const holding = (repositories: Record<string, Repository>) =>
  memoryRegistry({
    tags: Object.fromEntries(
      Object.entries(repositories).map(([name, { tags = TAGS }]) => [name, tags])
    ),
    images: [older, oldest, untagged],
    facts: { [older.digest]: { sizeBytes: 100 }, [untagged.digest]: { sizeBytes: 200 } },
    policies: Object.fromEntries(
      Object.entries(repositories).flatMap(([name, { policy }]) => (policy ? [[name, policy]] : []))
    ),
    previews: Object.fromEntries(
      Object.entries(repositories).map(([name, { preview }]) => [
        name,
        { expiring: [], ...preview }
      ])
    )
  })
/** The calls that read, preview and write policies. */
const policyCalls = (registry: MemoryRegistry) =>
  registry.log.filter((call) => /^(policy|preview|put-policy) /.test(call))

/** Effects whose clock only sleep moves, so a five-minute wait takes no time; logs and progress in one list. */
function fakeDeps(signal?: AbortSignal) {
  const fake = fakeEffects(signal)
  const deps: Effects = { ...fake.effects, log: (message) => void fake.logs.push(message) }
  return { ...fake, deps }
}

/** maintainLifecycle over every repository of the registry, in their order. */
const maintain = async (
  registry: MemoryRegistry,
  mode: Exclude<LifecycleMode, 'off'>,
  { dryRun = false, convention = environments, deps = fakeDeps().deps, wroteTags = false } = {}
) =>
  maintainLifecycle(
    registry,
    convention,
    lifecycleIntent(convention, mode),
    Object.keys(registry.repositories),
    dryRun,
    deps,
    wroteTags
  )

describe('maintainLifecycle', () => {
  it('check reports drift without previewing or writing', async () => {
    const registry = holding({ app: {} })
    const { deps, logs } = fakeDeps()
    const [outcome] = await maintain(registry, 'check', { deps })
    expect(outcome).toEqual({
      repository: 'app',
      policy: rendered,
      difference: ['the repository has no lifecycle policy'],
      action: 'drift',
      refused: []
    })
    expect(logs).toEqual(['app: the repository has no lifecycle policy'])
    expect(registry.log).toEqual(['policy app'])
  })

  it.each<Exclude<LifecycleMode, 'off'>>(['check', 'apply'])(
    '%s leaves a repository in sync alone',
    async (mode) => {
      const registry = holding({ app: { policy: rendered } })
      const [outcome] = await maintain(registry, mode)
      expect(outcome).toMatchObject({ action: 'in sync', difference: [], refused: [] })
      expect(outcome?.preview).toBeUndefined()
      expect(registry.log).toEqual(['policy app'])
    }
  )

  it('apply previews until COMPLETE, counts what expires, then writes the rendered policy', async () => {
    const expiring = [
      { digest: older.digest, tags: ['sha-ccccccc'], rulePriority: 6 },
      { digest: oldest.digest, tags: ['sha-fffffff'], rulePriority: 6 },
      { digest: untagged.digest, tags: [], rulePriority: 7 }
    ]
    const registry = holding({ app: { preview: { inProgress: 2, expiring } } })
    const { deps, sleeps, logs } = fakeDeps()
    const [outcome] = await maintain(registry, 'apply', { deps })
    expect(logs).toEqual([
      'app: the repository has no lifecycle policy',
      'app: lifecycle preview in progress (0 s)',
      'app: lifecycle preview in progress (2 s)'
    ])
    // pollUntil's growing pauses.
    expect(sleeps).toEqual([2000, 4000])
    expect(outcome).toMatchObject({ action: 'written', refused: [] })
    expect(outcome?.preview?.byRule).toEqual({ 6: 2, 7: 1 })
    expect(outcome?.preview?.bytes).toBe(300)
    expect(outcome?.preview?.expiring[0]).toEqual({ ...expiring[0], sizeBytes: 100 })
    expect(policyCalls(registry)).toEqual(['policy app', 'preview app', 'put-policy app'])
    expect(registry.previewed.app).toBe(rendered)
    expect(registry.policies.app).toBe(rendered)
  })

  it.each<[string, Record<string, Manifest>, Expiring, unknown]>([
    [
      'the image production points at, as a rollback left it after the preview',
      { ...TAGS, production: older },
      { digest: older.digest, tags: ['sha-ccccccc'], rulePriority: 6 },
      'it carries production now, which the convention keeps'
    ],
    [
      "a platform image of production's index",
      TAGS,
      { digest: amd64, tags: [], rulePriority: 7 },
      expect.stringMatching(
        /^it is a platform image of sha256:[0-9a-z]{12}, which the convention keeps$/
      )
    ],
    [
      "a tagged platform image of production's index (sha-…-arm64)",
      TAGS,
      { digest: arm64, tags: ['sha-bbbbbbb-arm64'], rulePriority: 6 },
      expect.stringMatching(
        /^it is a platform image of sha256:[0-9a-z]{12}, which the convention keeps$/
      )
    ],
    [
      'a platform image of the index v1.0.0 is on, which the convention keeps forever',
      { ...TAGS, production: build, 'v1.0.0': index },
      { digest: amd64, tags: [], rulePriority: 7 },
      expect.any(String)
    ]
  ])(
    'apply refuses a preview that expires %s, and writes no repository',
    async (_name, tags, image, reason) => {
      const registry = holding({
        api: { preview: { expiring: [{ digest: untagged.digest, tags: [], rulePriority: 7 }] } },
        web: { tags, preview: { expiring: [image] } }
      })
      const outcomes = await maintain(registry, 'apply')
      expect(outcomes.map(({ repository, action }) => `${repository} ${action}`)).toEqual([
        'api not written',
        'web refused'
      ])
      expect(outcomes[1]?.refused).toEqual([{ image: expect.objectContaining(image), reason }])
      expect(policyCalls(registry)).toEqual([
        'policy api',
        'policy web',
        'preview api',
        'preview web'
      ])
    }
  )

  it('a dry run previews and says it would write, writing nothing', async () => {
    const registry = holding({ app: { policy: '{"rules":[]}' } })
    const [outcome] = await maintain(registry, 'apply', { dryRun: true })
    expect(outcome).toMatchObject({
      action: 'would write',
      preview: { expiring: [], byRule: {}, bytes: 0 }
    })
    expect(outcome?.difference).toHaveLength(8)
    expect(policyCalls(registry)).toEqual(['policy app', 'preview app'])
    expect(registry.policies.app).toBe('{"rules":[]}')
  })

  it('refuses to trust a preview of another policy, started meanwhile by someone else', async () => {
    const registry = holding({ app: {} }).fault({
      operation: 'poll',
      before: (r) => void (r.previewed.app = '{"rules":[]}')
    })
    await expect(maintain(registry, 'apply')).rejects.toThrow(
      'another lifecycle preview was started on app meanwhile, so this one cannot be trusted: nothing was written'
    )
    expect(registry.log).not.toContain('put-policy app')
  })

  it('names every repository whose preview failed, not just the first, writing nothing', async () => {
    const registry = holding({
      api: { preview: { inProgress: 1, status: 'FAILED' } },
      web: { preview: { status: 'EXPIRED' } }
    })
    const error = await rejection(maintain(registry, 'apply'))
    expect(problemsOf(error).map(messageOf)).toEqual([
      "ECR's lifecycle preview of api ended FAILED: nothing was written",
      "ECR's lifecycle preview of web ended EXPIRED: nothing was written"
    ])
    expect(policyCalls(registry)).toEqual([
      'policy api',
      'policy web',
      'preview api',
      'preview web'
    ])
  })

  it('gives up on a preview still in progress after five minutes, writing nothing', async () => {
    const registry = holding({ app: { preview: { inProgress: Infinity } } })
    const { deps, now } = fakeDeps()
    await expect(maintain(registry, 'apply', { deps })).rejects.toThrow(
      "ECR's lifecycle preview of app was not complete after 300 s: nothing was written"
    )
    expect(now()).toBe(300_000)
    expect(policyCalls(registry)).toEqual(['policy app', 'preview app'])
  })

  it.each([
    [false, ''],
    [true, '; the tags stay written as reported']
  ])(
    'a cancel while the preview is polled says so, and writes no policy (tags written before: %s)',
    async (wroteTags, tail) => {
      const registry = holding({ api: { preview: { inProgress: 1 } }, web: {} })
      const cancel = new AbortController()
      const deps: Effects = {
        ...fakeDeps().deps,
        signal: cancel.signal,
        sleep: () => {
          cancel.abort('SIGINT')
          return Promise.reject(new DOMException('The operation was aborted', 'AbortError'))
        }
      }
      const error = await rejection(maintain(registry, 'apply', { deps, wroteTags }))
      expect(problemsOf(error).map(messageOf)).toEqual([
        `the job was cancelled during the lifecycle preview of api: no lifecycle policy was written${tail}`
      ])
      expect(registry.log).not.toContain('put-policy web')
    }
  )

  it.each<[string, Convention, string]>([
    [
      'has no cleanup section',
      parseConvention('name: bare\nbuild-tag: b-{sha7}\nversion-tag: v{version}\n', 'bare.yml'),
      'the bare convention has no cleanup section, so there is no lifecycle policy to check'
    ],
    [
      'renders a policy ECR would reject',
      { ...environments, cleanup: { protect: ['a*b*c*d*e*'], protectReleases: true } },
      "the rendered lifecycle policy: rule 5: 'a*b*c*d*e*' has more than 4 wildcards"
    ]
  ])(
    'refuses a convention that %s, before reading any repository',
    async (_, convention, message) => {
      const registry = holding({ app: {} })
      await expect(maintain(registry, 'check', { convention })).rejects.toThrow(message)
      expect(registry.log).toEqual([])
    }
  )
})

describe('pruneReleases', () => {
  const limits = { keepMinorVersions: 4, olderThanDays: 90 }
  const image = (minor: number) => manifest(`m${minor}-`)

  /**
   * Repository `app`: releases 1.<minor>.0 for each minor, on image `m<minor>-`, all old; `broken`
   * cannot be listed. `faults` strike as the listings and removals arrive, before each is answered or
   * lands, as a concurrent writer would.
   */
  const released = (minors = 6, ...faults: Fault[]) =>
    memoryRegistry({
      tags: {
        app: Object.fromEntries(
          Array.from({ length: minors }, (_, minor) => [`1.${minor}.0`, image(minor)])
        )
      },
      facts: Object.fromEntries(
        Array.from({ length: minors }, (_, minor) => [
          image(minor).digest,
          { pushedAt: new Date(0) }
        ])
      ),
      faults: [
        { operation: 'list', repository: 'broken', kind: 'failed', error: 'access denied' },
        ...faults
      ]
    })
  /** The listings, removals (how many tags each) and writes, in order. */
  const writes = (registry: MemoryRegistry) =>
    registry.log.flatMap((call) =>
      call.startsWith('list')
        ? ['list']
        : call.startsWith('remove')
          ? [`remove ${call.split(',').length}`]
          : call.startsWith('put')
            ? [call.replace(/^put app:(.*)=.*$/, 'put $1')]
            : []
    )
  /** The faults of another writer acting on app as the `nth` call of an operation arrives. */
  const meanwhile = (
    operation: Fault['operation'],
    nth: number,
    act: (registry: MemoryRegistry) => unknown
  ): Fault[] => [
    ...Array.from({ length: nth - 1 }, (): Fault => ({ operation, repository: 'app' })),
    { operation, repository: 'app', before: act }
  ]

  const prune = (
    registry: MemoryRegistry,
    repositories = ['app'],
    given = fakeDeps(),
    pace: (signal?: AbortSignal) => Promise<void> = async () => {}
  ) =>
    pruneReleases(registry, channels, repositories, limits, false, given.deps, {
      pace,
      undo: { registry, signal: new AbortController().signal }
    })

  it('reports per repository what it deleted before a failure, and a read failure without hiding the others', async () => {
    const registry = released()
    const outcomes = await prune(registry, ['app', 'broken'])
    expect(outcomes).toEqual([
      {
        repository: 'app',
        keptMinors: ['1.5', '1.4', '1.3', '1.2'],
        images: [
          expect.objectContaining({ versions: ['1.0.0'], tags: ['1.0.0'] }),
          expect.objectContaining({ versions: ['1.1.0'], tags: ['1.1.0'] })
        ],
        kept: [],
        deleted: true
      },
      {
        repository: 'broken',
        keptMinors: [],
        images: [],
        kept: [],
        deleted: true,
        error: new Error('access denied')
      }
    ])
    expect(Object.keys(registry.tags('app'))).toEqual(['1.2.0', '1.3.0', '1.4.0', '1.5.0'])
  })

  it('keeps an image ECR did not remove a tag of, puts back the tags it did remove, and names the failure', async () => {
    const registry = released(6, {
      operation: 'remove',
      ref: '1.1.0',
      kind: 'refused',
      error: 'ImageReferencedByManifestList: held',
      times: Infinity
    })
    registry.set('app', { 'app-main-1111111': image(1) })
    const [outcome] = await prune(registry)
    expect(outcome?.images.map(({ versions }) => versions)).toEqual([['1.0.0']])
    expect(outcome?.kept).toEqual([
      expect.objectContaining({
        digest: image(1).digest,
        reason: 'ECR did not remove 1.1.0',
        removed: []
      })
    ])
    expect(outcome?.error?.message).toBe(
      'ECR did not remove 1.1.0 (ImageReferencedByManifestList: held)'
    )
    expect(registry.tags('app')['app-main-1111111']).toBe(image(1).digest)
  })

  it('keeps an image that gains production between the re-read and its deletion, puts back its version tag, and reports it kept', async () => {
    // A rollback points production at 1.0.0's image while the removal is on its way.
    const registry = released(
      6,
      ...meanwhile('remove', 1, (r) => r.set('app', { production: image(0) }))
    )
    const given = fakeDeps()
    const [outcome] = await prune(registry, ['app'], given)
    expect(registry.tags('app')).toMatchObject({
      production: image(0).digest,
      '1.0.0': image(0).digest
    })
    expect(registry.tags('app')['1.1.0']).toBeUndefined()
    expect(outcome?.images.map(({ digest }) => digest)).toEqual([image(1).digest])
    expect(outcome?.kept).toEqual([
      expect.objectContaining({
        digest: image(0).digest,
        versions: ['1.0.0'],
        reason: 'it gained production',
        removed: []
      })
    ])
    expect(outcome?.error).toBeUndefined()
    expect(writes(registry)).toEqual(['list', 'list', 'remove 2', 'list', 'put 1.0.0'])
    expect(given.logs).toEqual([
      'app:1.0.0 put back on sha256:m0-m0-m0-m0-',
      'app@sha256:m0-m0-m0-m0- (1.0.0) kept: it gained production',
      'app@sha256:m1-m1-m1-m1- (1.1.0) deleted'
    ])
  })

  it('lists the tags again before every batch of 100, and leaves an image that gained a tag between two batches', async () => {
    // 120 candidates (1.0 … 1.119): 100 in the first request, 20 in the second.
    const registry = released(
      124,
      ...meanwhile('remove', 1, (r) => r.set('app', { stable: image(110) }))
    )
    const [outcome] = await prune(registry)
    expect(writes(registry)).toEqual(['list', 'list', 'remove 100', 'list', 'remove 19', 'list'])
    expect(outcome?.images).toHaveLength(119)
    expect(outcome?.kept).toEqual([
      expect.objectContaining({ versions: ['1.110.0'], reason: 'it gained stable', removed: [] })
    ])
    expect(registry.tags('app')).toMatchObject({
      '1.110.0': image(110).digest,
      stable: image(110).digest
    })
  })

  it('leaves alone an image another writer deleted between the plan and the batch, reporting it neither deleted nor kept', async () => {
    const registry = released(6, ...meanwhile('list', 2, (r) => delete r.tags('app')['1.0.0']))
    const given = fakeDeps()
    const [outcome] = await prune(registry, ['app'], given)
    expect(outcome).toMatchObject({ images: [{ versions: ['1.1.0'] }], kept: [] })
    expect(writes(registry)).toEqual(['list', 'list', 'remove 1', 'list'])
    expect(given.logs).toContain(
      'app@sha256:m0-m0-m0-m0- (1.0.0) left alone: another writer removed its tags'
    )
  })

  it('starts no further batch once the job is cancelled, and says so', async () => {
    const cancel = new AbortController()
    const registry = released(124, ...meanwhile('remove', 1, () => cancel.abort('SIGINT')))
    const [outcome] = await prune(registry, ['app'], fakeDeps(cancel.signal), async (signal) =>
      signal?.throwIfAborted()
    )
    expect(writes(registry)).toEqual(['list', 'list', 'remove 100', 'list'])
    expect(outcome?.images).toHaveLength(100)
    expect(outcome?.error?.message).toBe(
      'the job was cancelled (SIGINT): no further image is deleted'
    )
  })
})
