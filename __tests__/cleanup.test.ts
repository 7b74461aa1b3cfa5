import { lifecycleIntent, maintainLifecycle, pruneReleases } from '../src/run/cleanup.js'
import type { Effects } from '../src/run/effects.js'
import { fakeEffects } from './support/harness.js'
import { builtInConvention, parseConvention } from '../src/core/conventions.js'
import type { PreviewPoll } from '../src/ecr/registry.js'
import {
  type Expiring,
  type LifecycleMode,
  policyText,
  renderPolicy
} from '../src/core/lifecycle.js'
import {
  describeRef,
  messageOf,
  type ImageDetails,
  type ImageRef,
  type Manifest
} from '../src/core/model.js'
import { problemsOf } from '../src/core/problems.js'
import { type Convention, type Cleanup } from '../src/core/convention.js'

const environments = builtInConvention('environments')
const rendered = policyText(renderPolicy(environments, environments.cleanup as Cleanup))
const digest = (name: string) => `sha256:${name.padEnd(64, '0')}`
const [index, amd64, arm64, build, older, oldest, untagged, release] = [
  'idx',
  'amd',
  'arm',
  'b',
  'c',
  'f',
  'd',
  'e'
].map(digest) as [string, string, string, string, string, string, string, string]

interface Repository {
  policy?: string
  /** tag → digest */
  tags: Record<string, string>
  sizes: Record<string, number>
  /** How many polls answer IN_PROGRESS before the preview ends. */
  inProgress: number
  status?: string
  expiring: Expiring[]
}

/** production is on an OCI index of two platform images; latest and the build tag on another image. */
const repository = (extra: Partial<Repository> = {}): Repository => ({
  tags: { production: index, 'v1.0.0': release, latest: build, 'sha-bbbbbbb': build },
  sizes: { [older]: 100, [untagged]: 200 },
  inProgress: 0,
  expiring: [],
  ...extra
})

const manifests: Record<string, Manifest> = {
  [index]: {
    digest: index,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    body: JSON.stringify({ manifests: [{ digest: amd64 }, { digest: arm64 }] })
  },
  [build]: { digest: build, mediaType: 'application/vnd.oci.image.manifest.v1+json', body: '{}' }
}

/** The registry calls maintainLifecycle makes, over repositories kept in memory. */
function fakeRegistry(repositories: Record<string, Repository>) {
  const calls: string[] = []
  const previewed: Record<string, string> = {}
  const polls: Record<string, number> = {}
  const repo = (name: string) => repositories[name] as Repository
  return {
    repositories,
    calls,
    previewed,
    async getLifecyclePolicy(name: string) {
      calls.push(`get ${name}`)
      return repo(name).policy
    },
    async putLifecyclePolicy(name: string, text: string) {
      calls.push(`put ${name}`)
      repo(name).policy = text
    },
    async startLifecyclePreview(name: string, text: string) {
      calls.push(`preview ${name}`)
      previewed[name] = text
      polls[name] = 0
    },
    async lifecyclePreview(name: string): Promise<PreviewPoll> {
      const { inProgress, status = 'COMPLETE', expiring } = repo(name)
      const poll = (polls[name] = (polls[name] ?? 0) + 1)
      if (poll <= inProgress) return { status: 'IN_PROGRESS', expiring: [] }
      return { status, expiring: status === 'COMPLETE' ? expiring : [] }
    },
    async listTags(name: string) {
      return new Map(Object.entries(repo(name).tags))
    },
    async getManifests(_name: string, refs: readonly ImageRef[]) {
      return new Map(
        refs.flatMap((ref) => {
          const found = 'digest' in ref ? manifests[ref.digest] : undefined
          return found ? [[describeRef(ref), found] as const] : []
        })
      )
    },
    async describeImages(name: string, digests: readonly string[]) {
      const { sizes } = repo(name)
      return new Map<string, ImageDetails>(
        digests.flatMap((each) =>
          sizes[each] === undefined ? [] : [[each, { tags: [], sizeBytes: sizes[each] }]]
        )
      )
    }
  }
}

/** A clock that only sleep moves, so a five-minute wait takes no time; logs and progress in one list. */
function fakeDeps() {
  const fake = fakeEffects()
  const deps: Effects = { ...fake.effects, log: (message) => void fake.logs.push(message) }
  return { deps, sleeps: fake.sleeps, logs: fake.logs, now: fake.now }
}

/** maintainLifecycle over every repository of the fake registry, in their order. */
const maintain = async (
  registry: ReturnType<typeof fakeRegistry>,
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
    const registry = fakeRegistry({ app: repository() })
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
    expect(registry.calls).toEqual(['get app'])
  })

  it.each<Exclude<LifecycleMode, 'off'>>(['check', 'apply'])(
    '%s leaves a repository in sync alone',
    async (mode) => {
      const registry = fakeRegistry({ app: repository({ policy: rendered }) })
      const [outcome] = await maintain(registry, mode)
      expect(outcome).toMatchObject({ action: 'in sync', difference: [], refused: [] })
      expect(outcome?.preview).toBeUndefined()
      expect(registry.calls).toEqual(['get app'])
    }
  )

  it('apply previews until COMPLETE, counts what expires, then writes the rendered policy', async () => {
    const registry = fakeRegistry({
      app: repository({
        inProgress: 2,
        expiring: [
          { digest: older, tags: ['sha-ccccccc'], rulePriority: 6 },
          { digest: oldest, tags: ['sha-fffffff'], rulePriority: 6 },
          { digest: untagged, tags: [], rulePriority: 7 }
        ]
      })
    })
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
    expect(outcome?.preview?.expiring[0]).toEqual({
      digest: older,
      tags: ['sha-ccccccc'],
      rulePriority: 6,
      sizeBytes: 100
    })
    expect(registry.calls).toEqual(['get app', 'preview app', 'put app'])
    expect(registry.previewed.app).toBe(rendered)
    expect(registry.repositories.app?.policy).toBe(rendered)
  })

  it.each<[string, Partial<Repository>, Expiring, unknown]>([
    [
      'the image production points at, as a rollback left it after the preview',
      { tags: { ...repository().tags, production: older } },
      { digest: older, tags: ['sha-ccccccc'], rulePriority: 6 },
      'it carries production now, which the convention keeps'
    ],
    [
      "a platform image of production's index",
      {},
      { digest: amd64, tags: [], rulePriority: 7 },
      expect.stringMatching(
        /^it is a platform image of sha256:[0-9a-z]{12}, which the convention keeps$/
      )
    ],
    [
      "a tagged platform image of production's index (sha-…-arm64)",
      {},
      { digest: arm64, tags: ['sha-bbbbbbb-arm64'], rulePriority: 6 },
      expect.stringMatching(
        /^it is a platform image of sha256:[0-9a-z]{12}, which the convention keeps$/
      )
    ],
    [
      'an image carrying v1.0.0',
      {},
      { digest: release, tags: ['v1.0.0'], rulePriority: 6 },
      'it carries v1.0.0, which the convention keeps'
    ],
    [
      'a platform image of the index v1.0.0 is on, which the convention keeps forever',
      { tags: { ...repository().tags, production: build, 'v1.0.0': index } },
      { digest: amd64, tags: [], rulePriority: 7 },
      expect.any(String)
    ]
  ])(
    'apply refuses a preview that expires %s, and writes no repository',
    async (_name, web, image, reason) => {
      const registry = fakeRegistry({
        api: repository({ expiring: [{ digest: untagged, tags: [], rulePriority: 7 }] }),
        web: repository({ ...web, expiring: [image] })
      })
      const outcomes = await maintain(registry, 'apply')
      expect(outcomes.map(({ repository, action }) => `${repository} ${action}`)).toEqual([
        'api not written',
        'web refused'
      ])
      expect(outcomes[1]?.refused).toEqual([{ image: expect.objectContaining(image), reason }])
      expect(registry.calls).toEqual(['get api', 'get web', 'preview api', 'preview web'])
    }
  )

  it('a dry run previews and says it would write, writing nothing', async () => {
    const registry = fakeRegistry({ app: repository({ policy: '{"rules":[]}' }) })
    const [outcome] = await maintain(registry, 'apply', { dryRun: true })
    expect(outcome).toMatchObject({
      action: 'would write',
      preview: { expiring: [], byRule: {}, bytes: 0 }
    })
    expect(outcome?.difference).toHaveLength(8)
    expect(registry.calls).toEqual(['get app', 'preview app'])
    expect(registry.repositories.app?.policy).toBe('{"rules":[]}')
  })

  it('refuses to trust a preview of another policy, started meanwhile by someone else', async () => {
    const registry = fakeRegistry({ app: repository() })
    const poll = registry.lifecyclePreview.bind(registry)
    registry.lifecyclePreview = async (name) => ({ ...(await poll(name)), text: '{"rules":[]}' })
    await expect(maintain(registry, 'apply')).rejects.toThrow(
      'another lifecycle preview was started on app meanwhile, so this one cannot be trusted: nothing was written'
    )
    expect(registry.calls).not.toContain('put app')
  })

  it('stops when the preview FAILED, writing nothing', async () => {
    const registry = fakeRegistry({ app: repository({ inProgress: 1, status: 'FAILED' }) })
    await expect(maintain(registry, 'apply')).rejects.toThrow(
      "ECR's lifecycle preview of app ended FAILED: nothing was written"
    )
    expect(registry.calls).toEqual(['get app', 'preview app'])
  })

  it('names every repository whose preview failed, not just the first', async () => {
    const registry = fakeRegistry({
      api: repository({ status: 'FAILED' }),
      web: repository({ status: 'EXPIRED' })
    })
    const error = await maintain(registry, 'apply').catch((thrown: unknown) => thrown)
    expect(problemsOf(error).map(messageOf)).toEqual([
      "ECR's lifecycle preview of api ended FAILED: nothing was written",
      "ECR's lifecycle preview of web ended EXPIRED: nothing was written"
    ])
  })

  it('gives up on a preview still in progress after five minutes, writing nothing', async () => {
    const registry = fakeRegistry({ app: repository({ inProgress: Infinity }) })
    const { deps, sleeps, now } = fakeDeps()
    await expect(maintain(registry, 'apply', { deps })).rejects.toThrow(
      "ECR's lifecycle preview of app was not complete after 300 s: nothing was written"
    )
    expect(now()).toBe(300_000)
    expect(sleeps).toEqual([2000, 4000, 8000, 16000, ...Array<number>(9).fill(30_000)])
    expect(registry.calls).toEqual(['get app', 'preview app'])
  })

  it.each([
    [false, ''],
    [true, '; the tags stay written as reported']
  ])(
    'a cancel while the preview is polled says so, and writes no policy (tags written before: %s)',
    async (wroteTags, tail) => {
      const registry = fakeRegistry({ api: repository({ inProgress: 1 }), web: repository() })
      const cancel = new AbortController()
      const deps: Effects = {
        ...fakeDeps().deps,
        signal: cancel.signal,
        sleep: () => {
          cancel.abort('SIGINT')
          return Promise.reject(new DOMException('The operation was aborted', 'AbortError'))
        }
      }
      const error = await maintain(registry, 'apply', { deps, wroteTags }).catch(
        (thrown: unknown) => thrown
      )
      expect(problemsOf(error).map(messageOf)).toEqual([
        `the job was cancelled during the lifecycle preview of api: no lifecycle policy was written${tail}`
      ])
      expect(registry.calls).not.toContain('put web')
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
      const registry = fakeRegistry({ app: repository() })
      await expect(maintain(registry, 'check', { convention })).rejects.toThrow(message)
      expect(registry.calls).toEqual([])
    }
  )
})

describe('pruneReleases', () => {
  const channels = builtInConvention('channels')
  const longAgo = new Date(0)
  const limits = { keepMinorVersions: 4, olderThanDays: 90 }
  const image = (minor: number) => digest(`m${minor}-`)
  const manifestOf = (image: string): Manifest => ({
    digest: image,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    body: '{}'
  })

  /**
   * Repository `app` over tags kept in memory, with ECR's rules for removing tags: an image goes with
   * its last tag. Releases 1.<minor>.0 for each minor, on image `m<minor>`, all old; `broken` cannot
   * be read. `calls` keeps the listings, removals and writes in order; `meanwhile` runs as each
   * listing or removal arrives, before it is answered or lands, as a concurrent writer would.
   */
  function registry(minors = 6, { refuse = new Set<string>() } = {}) {
    const tags = new Map(
      Array.from({ length: minors }, (_, minor) => [`1.${minor}.0`, image(minor)])
    )
    const calls: string[] = []
    const fake = {
      tags,
      calls,
      meanwhile: (() => {}) as (calls: readonly string[]) => void,
      async listTags(name: string) {
        if (name === 'broken') throw new Error('access denied')
        calls.push('list')
        fake.meanwhile(calls)
        return new Map(tags)
      },
      async describeImages(_name: string, digests: readonly string[]) {
        return new Map(digests.map((each) => [each, { tags: [], pushedAt: longAgo }]))
      },
      async getManifests(_name: string, refs: readonly ImageRef[]) {
        return new Map(
          refs.flatMap((ref) => ('digest' in ref ? [[ref.digest, manifestOf(ref.digest)]] : []))
        )
      },
      async removeTags(_name: string, removed: readonly string[]) {
        calls.push(`remove ${removed.length}`)
        fake.meanwhile(calls)
        for (const tag of removed) if (!refuse.has(tag)) tags.delete(tag)
        return new Map(
          removed
            .filter((tag) => refuse.has(tag))
            .map((tag) => [tag, 'ImageReferencedByManifestList: held'])
        )
      },
      async putTag(_name: string, tag: string, manifest: Manifest) {
        calls.push(`put ${tag}`)
        tags.set(tag, manifest.digest)
        return 'written' as const
      }
    }
    return fake
  }

  const deps = (signal = new AbortController().signal) => {
    const logs: string[] = []
    const effects: Effects = {
      ...fakeEffects(signal).effects,
      log: (message) => void logs.push(message)
    }
    return { logs, effects }
  }

  const prune = (
    fake: ReturnType<typeof registry>,
    repositories = ['app'],
    given = deps(),
    pace: (signal?: AbortSignal) => Promise<void> = async () => {}
  ) =>
    pruneReleases(fake, channels, repositories, limits, false, given.effects, {
      pace,
      undo: { registry: fake, signal: new AbortController().signal }
    })

  it('reports per repository what it deleted before a failure, and a read failure without hiding the others', async () => {
    const fake = registry()
    const outcomes = await prune(fake, ['app', 'broken'])
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
    expect([...fake.tags.keys()]).toEqual(['1.2.0', '1.3.0', '1.4.0', '1.5.0'])
  })

  it('keeps an image ECR did not remove a tag of, puts back the tags it did remove, and names the failure', async () => {
    const fake = registry(6, { refuse: new Set(['1.1.0']) })
    fake.tags.set('app-main-1111111', image(1))
    const [outcome] = await prune(fake)
    expect(outcome?.images.map(({ versions }) => versions)).toEqual([['1.0.0']])
    expect(outcome?.kept).toEqual([
      expect.objectContaining({
        digest: image(1),
        reason: 'ECR did not remove 1.1.0',
        removed: []
      })
    ])
    expect(outcome?.error?.message).toBe(
      'ECR did not remove 1.1.0 (ImageReferencedByManifestList: held)'
    )
    expect(fake.tags.get('app-main-1111111')).toBe(image(1))
  })

  it('keeps an image that gains production between the re-read and its deletion, puts back its version tag, and reports it kept', async () => {
    const fake = registry()
    // A rollback points production at 1.0.0's image while the removal is on its way.
    fake.meanwhile = (calls) => {
      if (calls.at(-1) === 'remove 2') fake.tags.set('production', image(0))
    }
    const given = deps()
    const [outcome] = await prune(fake, ['app'], given)
    expect(fake.tags.get('production')).toBe(image(0))
    expect(fake.tags.get('1.0.0')).toBe(image(0))
    expect(fake.tags.has('1.1.0')).toBe(false)
    expect(outcome?.images.map(({ digest }) => digest)).toEqual([image(1)])
    expect(outcome?.kept).toEqual([
      expect.objectContaining({
        digest: image(0),
        versions: ['1.0.0'],
        reason: 'it gained production',
        removed: []
      })
    ])
    expect(outcome?.error).toBeUndefined()
    expect(fake.calls).toEqual(['list', 'list', 'remove 2', 'list', 'put 1.0.0'])
    expect(given.logs).toEqual([
      'app:1.0.0 put back on sha256:m0-000000000',
      'app@sha256:m0-000000000 (1.0.0) kept: it gained production',
      'app@sha256:m1-000000000 (1.1.0) deleted'
    ])
  })

  it('lists the tags again before every batch of 100, and leaves an image that gained a tag between two batches', async () => {
    const fake = registry(124)
    // 120 candidates (1.0 … 1.119): 100 in the first request, 20 in the second.
    fake.meanwhile = (calls) => {
      if (calls.at(-1) === 'remove 100') fake.tags.set('stable', image(110))
    }
    const [outcome] = await prune(fake)
    expect(fake.calls).toEqual(['list', 'list', 'remove 100', 'list', 'remove 19', 'list'])
    expect(outcome?.images).toHaveLength(119)
    expect(outcome?.kept).toEqual([
      expect.objectContaining({ versions: ['1.110.0'], reason: 'it gained stable', removed: [] })
    ])
    expect(fake.tags.get('1.110.0')).toBe(image(110))
    expect(fake.tags.get('stable')).toBe(image(110))
  })

  it('leaves alone an image another writer deleted between the plan and the batch, reporting it neither deleted nor kept', async () => {
    const fake = registry()
    fake.meanwhile = (calls) => {
      if (calls.length === 2) fake.tags.delete('1.0.0')
    }
    const given = deps()
    const [outcome] = await prune(fake, ['app'], given)
    expect(outcome).toMatchObject({ images: [{ versions: ['1.1.0'] }], kept: [] })
    expect(fake.calls).toEqual(['list', 'list', 'remove 1', 'list'])
    expect(given.logs).toContain(
      'app@sha256:m0-000000000 (1.0.0) left alone: another writer removed its tags'
    )
  })

  it('starts no further batch once the job is cancelled, and says so', async () => {
    const fake = registry(124)
    const cancel = new AbortController()
    fake.meanwhile = (calls) => {
      if (calls.at(-1) === 'remove 100') cancel.abort('SIGINT')
    }
    const given = deps(cancel.signal)
    const [outcome] = await prune(fake, ['app'], given, async (signal) => signal?.throwIfAborted())
    expect(fake.calls).toEqual(['list', 'list', 'remove 100', 'list'])
    expect(outcome?.images).toHaveLength(100)
    expect(outcome?.error?.message).toBe(
      'the job was cancelled (SIGINT): no further image is deleted'
    )
  })
})
