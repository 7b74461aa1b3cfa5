/**
 * What every unit suite builds its cases from: digests and manifests, conventions, triggers,
 * intents, plans and their steps, `changes` rows and run results. One default each; a case says
 * only what it changes.
 */
import { builtInConvention } from '../../src/core/conventions.js'
import type { Convention } from '../../src/core/convention.js'
import { derive, type ActiveTrigger, type Intent, type RunValues } from '../../src/core/derive.js'
import type { GateSettings } from '../../src/core/gates.js'
import { shortDigest, type Manifest } from '../../src/core/model.js'
import type { RepositoryPlan, Step, StepKind } from '../../src/core/plan.js'
import { requireVersion, type Version } from '../../src/core/version.js'
import type { Change, Copy, RunResult } from '../../src/report/result.js'
import type { LifecycleOutcome } from '../../src/run/cleanup.js'
import type { PointerStatus } from '../../src/run/status.js'
import { MEDIA_TYPES } from './oci.mjs'

const names = new Map<string, string>()

/** A well-formed digest of one repeated name, such as sha256:aaaa…, for tests that need no content. */
export function fakeDigest(name: string): string {
  const digest = `sha256:${name.repeat(64).slice(0, 64)}`
  names.set(digest, name)
  return digest
}

/** The name a digest was made from, or its short form: how logs and summaries of a test name images. */
export const nameOf = (digest: string): string => names.get(digest) ?? shortDigest(digest)

const byName = new Map<string, Manifest>()

/** An image manifest with a body of its own, so that a write of another one would show; one object per name. */
export function manifest(name: string, mediaType: string = MEDIA_TYPES.ociManifest): Manifest {
  const key = `${name} ${mediaType}`
  const made = byName.get(key) ?? {
    digest: fakeDigest(name),
    mediaType,
    body: `{"schemaVersion":2,"name":"${name}"}`
  }
  byName.set(key, made)
  return made
}

/** Several manifests at once: `const [build, old] = manifests('b', 'c')`. */
export const manifests = <const T extends readonly string[]>(...names: T) =>
  names.map((name) => manifest(name)) as { [K in keyof T]: Manifest }

/** Several digests at once: `const [index, amd64] = fakeDigests('e', 'f')`. */
export const fakeDigests = <const T extends readonly string[]>(...names: T) =>
  names.map(fakeDigest) as { [K in keyof T]: string }

/** A repository's tags written `tag=image …`, each image `manifest(name)`: `v1.0.0=c production=c`. */
export const tagged = (text: string): Record<string, Manifest> =>
  Object.fromEntries(
    text
      .split(' ')
      .filter(Boolean)
      .map((pair) => [
        pair.slice(0, pair.lastIndexOf('=')),
        manifest(pair.slice(pair.lastIndexOf('=') + 1))
      ])
  )

/** Repositories and their tags, each written as `tagged` takes it: `{ app: 'production=c' }`. */
export const taggedRepositories = (repositories: Record<string, string>) =>
  Object.fromEntries(Object.entries(repositories).map(([name, text]) => [name, tagged(text)]))

/** An OCI index as BuildKit pushes it: two platform images and an attestation manifest. */
export const buildKitIndex = (digests: {
  index: string
  amd64: string
  arm64: string
  attestation: string
}): Manifest => ({
  digest: digests.index,
  mediaType: MEDIA_TYPES.ociIndex,
  body: JSON.stringify({
    schemaVersion: 2,
    manifests: [
      { digest: digests.amd64, platform: { os: 'linux', architecture: 'amd64' } },
      { digest: digests.arm64, platform: { os: 'linux', architecture: 'arm64' } },
      {
        digest: digests.attestation,
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest' }
      }
    ]
  })
})

/** The same tags as ListImages lists them: tag → digest. */
export const listing = (text: string): Map<string, string> =>
  new Map(Object.entries(tagged(text)).map(([tag, { digest }]) => [tag, digest]))

export const environments = builtInConvention('environments')
export const channels = builtInConvention('channels')

export const v = (text: string): Version => requireVersion(text, 'version')

export const push = (branch = 'main', defaultBranch = branch === 'main'): ActiveTrigger => ({
  event: 'push',
  branch,
  defaultBranch,
  pullRequest: false
})
export const release = (version: string, prerelease = false): ActiveTrigger => ({
  event: 'release',
  branch: 'main',
  version: v(version),
  prerelease
})
export const promote = (environment: string, version?: string): ActiveTrigger => ({
  event: 'promote',
  branch: 'main',
  environment,
  ...(version && { version: v(version) })
})
export const rollback = (to: string): ActiveTrigger => ({
  event: 'rollback',
  branch: 'main',
  to: to === 'previous' ? 'previous' : v(to)
})

/** What a run knows of itself: its build tag is `sha-a1b2c3d` in environments, `app-main-a1b2c3d` in channels. */
export const RUN: RunValues = {
  repository: 'app',
  sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  service: 'app',
  source: '',
  runNumber: '57',
  date: new Date('2026-11-23T12:00:00Z'),
  shaOrigin: 'GITHUB_SHA'
}

/** The intent of a trigger in repository `app`, by the built-in environments unless told otherwise. */
export const intentFor = (
  trigger: ActiveTrigger,
  { convention = environments, ...values }: Partial<RunValues> & { convention?: Convention } = {}
): Intent => derive(convention, trigger, { ...RUN, ...values })

/** Where GitHub is and which run this is, on a GitHub Enterprise server. */
export const GITHUB = {
  apiUrl: 'https://ghe.example.com/api/v3',
  serverUrl: 'https://ghe.example.com',
  repository: 'acme/shop',
  runId: '42'
}

export const uri = (repository: string): string =>
  `123456789012.dkr.ecr.us-east-1.amazonaws.com/${repository}`

/** A repository's plan from `manifest('b')`, with no steps unless given. */
export const plan = (repository: string, extra: Partial<RepositoryPlan> = {}): RepositoryPlan => ({
  repository,
  uri: uri(repository),
  source: extra.source ?? manifest('b'),
  steps: [],
  ...extra
})

/** A step that writes `tag` onto `to`, from where it is (`from`, absent for a new tag). */
export const write = (tag: string, kind: StepKind, to: Manifest, from?: Manifest): Step => ({
  tag,
  kind,
  to,
  write: true,
  ...(from && { from })
})

/** A step that leaves `tag` where it is (on `on`, if it exists), saying why. */
export const hold = (tag: string, kind: StepKind, on?: Manifest, note?: string): Step => ({
  tag,
  kind,
  write: false,
  ...(on && { from: on, to: on }),
  ...(note && { note })
})

/** A `changes` row: api:production moved from image a to image b, unless told otherwise. */
export const change = (extra: Partial<Change> = {}): Change => ({
  repository: 'api',
  tag: 'production',
  from: fakeDigest('a'),
  to: fakeDigest('b'),
  action: 'moved',
  now: extra.to === undefined ? fakeDigest('b') : extra.to,
  ...extra
})

/** What the copy of a repository's build (b) into the target did: 3 of 7 blobs, 41.2 MiB, in 12.4 s. */
export const copied = (repository: string, extra: Partial<Copy> = {}): Copy => ({
  repository,
  from: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${repository}@${fakeDigest('b')}`,
  blobs: { copied: 3, present: 4, lacking: 3 },
  bytes: 43_201_331,
  manifests: 4,
  referrers: 2,
  ms: 12_400,
  warnings: [],
  ...extra
})

/** What a run did: a release of api that changed nothing, unless told otherwise. */
export const result = (extra: Partial<RunResult> = {}): RunResult => ({
  title: 'release 1.2.0',
  repositories: ['api'],
  plans: [],
  changes: [],
  ...extra
})

/** The gates a release is judged by: fail on HIGH, a scan required, no signature, unless told. */
export const gateSettings = (extra: Partial<GateSettings> = {}): GateSettings => ({
  failOnSeverity: 'HIGH',
  requireScan: true,
  ignoreFindings: [],
  requireSignature: 'off',
  ...extra
})

/** What the lifecycle stage did in a repository: its policy `{}`, no difference, unless told. */
export const lifecycleOutcome = (
  repository: string,
  action: LifecycleOutcome['action'],
  extra: Partial<LifecycleOutcome> = {}
): LifecycleOutcome => ({ repository, policy: '{}', difference: [], action, refused: [], ...extra })

/** A pointer as status shows it: on no image, nothing known of it, unless told. */
export const pointerStatus = (tag: string, extra: Partial<PointerStatus> = {}): PointerStatus => ({
  tag,
  digest: null,
  versions: [],
  buildTag: null,
  commit: null,
  commitUrl: null,
  pushedAt: null,
  sizeBytes: null,
  scan: null,
  signature: null,
  withdrawn: false,
  ...extra
})

/**
 * A trigger written as one says it, for tables whose rows are one line each: `push`, `push feature`,
 * `release 1.2.0`, `prerelease 1.3.0-rc.1`, `promote staging`, `promote production 1.2.0`,
 * `rollback previous`.
 */
export function triggerOf(text: string): ActiveTrigger {
  const [event, first = '', second] = text.split(' ')
  if (event === 'push') return push(first || undefined)
  if (event === 'release' || event === 'prerelease') return release(first, event === 'prerelease')
  if (event === 'promote') return promote(first, second)
  if (event === 'rollback') return rollback(first)
  throw new Error(`no trigger is written '${text}'`)
}

/** Table rows written `a | b | c`, one line each, as their columns. */
export const rows = (...lines: string[]): string[][] => lines.map((line) => line.split(' | '))
