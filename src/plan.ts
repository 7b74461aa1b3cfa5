import type { Intent, Target, VersionLine } from './derive.js'
import { versionTagMatcher } from './tags.js'
import { compareVersions, highestVersion, isStable, parseVersion, type Version } from './version.js'
import { problemsError } from './problems.js'

/** A manifest exactly as the registry stores it; `body` is never re-serialised. */
export interface Manifest {
  readonly digest: string
  readonly mediaType: string
  readonly body: string
}

export interface TagMutability {
  readonly mode: string
  /** WILDCARD exclusion filters, such as `prod*`. */
  readonly exclusions: readonly string[]
}

/** An image to read, by tag or digest. */
export type ImageRef = { readonly tag: string } | { readonly digest: string }

/** What the registry holds that matters to one intent. */
export interface RepositoryState {
  readonly repository: string
  readonly uri: string
  readonly mutability: TagMutability
  readonly source: ResolvedSource
  /** The manifest of the source image; absent when the registry does not have it. */
  readonly sourceManifest?: Manifest
  /** What each target tag points at now; a tag that does not exist yet is absent. */
  readonly current: ReadonlyMap<string, Manifest>
  /** Every tag in the repository and its digest, read when a decision needs released versions. */
  readonly tags?: ReadonlyMap<string, string>
}

export interface ResolvedSource {
  readonly ref: ImageRef
  /** The version a rollback to `previous` resolved to. */
  readonly version?: Version
}

interface StepBase {
  readonly tag: string
  readonly from?: Manifest
  /** Why a tag that could have moved stays where it is. */
  readonly note?: string
}

/** One tag: written to `to`, or left alone (`to` is then where it stays, if it exists). */
export type Step = StepBase &
  (
    | { readonly write: true; readonly to: Manifest }
    | { readonly write: false; readonly to?: Manifest }
  )

export interface RepositoryPlan {
  readonly repository: string
  readonly uri: string
  readonly source: Manifest
  readonly version?: Version
  /** Where the intent's pointer tag pointed before this run. */
  readonly previousDigest?: string
  readonly steps: readonly Step[]
}

export const describeRef = (ref: ImageRef): string => ('tag' in ref ? ref.tag : ref.digest)

export const shortDigest = (digest: string): string => digest.slice(0, 'sha256:'.length + 12)

interface ReleasedVersion {
  readonly tag: string
  readonly digest: string
  readonly version: Version
}

function releasedVersions(
  tags: ReadonlyMap<string, string>,
  versionTag: string
): ReleasedVersion[] {
  const versionOf = versionTagMatcher(versionTag)
  return [...tags].flatMap(([tag, digest]) => {
    const text = versionOf(tag)
    const version = text === undefined ? undefined : parseVersion(text)
    return version ? [{ tag, digest, version }] : []
  })
}

const versionsOn = (released: readonly ReleasedVersion[], digest: string): Version | undefined =>
  highestVersion(released.filter((entry) => entry.digest === digest).map((entry) => entry.version))

/** The image to start from; for a rollback to `previous`, worked out from the versions in the registry. */
export function resolveSource(intent: Intent, tags?: ReadonlyMap<string, string>): ResolvedSource {
  if (!('previousVersionOf' in intent.source)) return { ref: intent.source }
  const pointer = intent.source.previousVersionOf
  const released = releasedVersions(tags ?? new Map(), intent.versionTag)
  const pointerDigest = tags?.get(pointer)
  if (!pointerDigest) {
    throw new Error(
      `cannot roll back ${intent.repository} to previous: it has no '${pointer}' tag; set version to the version to roll back to`
    )
  }
  const current = versionsOn(released, pointerDigest)
  if (!current) {
    throw new Error(
      `cannot roll back ${intent.repository} to previous: '${pointer}' (${shortDigest(pointerDigest)}) carries no version tag; set version to the version to roll back to`
    )
  }
  const below = released.filter(
    (entry) => isStable(entry.version) && compareVersions(entry.version, current) < 0
  )
  const previous = highestVersion(below.map((entry) => entry.version))
  const chosen = previous && below.find((entry) => entry.version === previous)
  if (!chosen) {
    throw new Error(
      `cannot roll back ${intent.repository} to previous: no stable version below ${current.text}`
    )
  }
  return { ref: { tag: chosen.tag }, version: chosen.version }
}

/** Decides, without any I/O, which tags to write. Throws an AggregateError naming every problem. */
export function planRepository(intent: Intent, state: RepositoryState): RepositoryPlan {
  const source = state.sourceManifest
  if (!source) {
    throw new Error(
      `source image '${describeRef(state.source.ref)}' not found in repository ${intent.repository}`
    )
  }
  const released = state.tags ? releasedVersions(state.tags, intent.versionTag) : []
  const version = intent.version ?? state.source.version
  const runVersion = version ?? versionsOn(released, source.digest)
  const problems: string[] = []

  const steps = intent.targets.map((target): Step => {
    const from = state.current.get(target.tag)
    if (from?.digest === source.digest) return { tag: target.tag, from, to: source, write: false }
    const note = holdReason(target, from, released, runVersion)
    if (note) return { tag: target.tag, ...(from && { from, to: from }), write: false, note }
    if (from && target.kind === 'version') {
      problems.push(
        `version tag '${target.tag}' in ${intent.repository} already points at ${shortDigest(from.digest)}, not at the source ${shortDigest(source.digest)}: a version tag never moves; release a new version`
      )
    }
    if (from && isImmutable(target.tag, state.mutability)) {
      problems.push(
        `tag '${target.tag}' in ${intent.repository} is immutable (imageTagMutability ${state.mutability.mode}) and already points at ${shortDigest(from.digest)}: set imageTagMutability to IMMUTABLE_WITH_EXCLUSION with an exclusion filter matching '${target.tag}', so floating tags can move while every other tag stays immutable`
      )
    }
    return { tag: target.tag, ...(from && { from }), to: source, write: true }
  })
  if (problems.length > 0) throw problemsError(problems)
  const previousDigest = intent.pointer && state.current.get(intent.pointer)?.digest
  return {
    repository: intent.repository,
    uri: state.uri,
    source,
    steps,
    ...(version && { version }),
    ...(previousDigest && { previousDigest })
  }
}

/** Why a forward-only or highest-only tag must not move to this run's version, if it must not. */
function holdReason(
  target: Target,
  from: Manifest | undefined,
  released: readonly ReleasedVersion[],
  runVersion: Version | undefined
): string | undefined {
  if (target.kind === 'forward') {
    const carried = from && versionsOn(released, from.digest)
    if (carried && runVersion && compareVersions(runVersion, carried) < 0) {
      return `stays on ${carried.text}: ${runVersion.text} is lower, and only a rollback moves it back`
    }
  }
  if (target.kind === 'highest') {
    if (!runVersion || !isStable(runVersion)) return 'moves only for a stable version'
    const higher = highestVersion(
      released
        .map((entry) => entry.version)
        .filter(
          (other) =>
            isStable(other) &&
            inLine(other, runVersion, target.line) &&
            compareVersions(other, runVersion) > 0
        )
    )
    if (higher) return `${higher.text} is higher, so it stays`
  }
  return undefined
}

const inLine = (version: Version, other: Version, line: VersionLine): boolean =>
  line === 'all' ||
  (version.major === other.major && (line === 'major' || version.minor === other.minor))

export function isImmutable(tag: string, { mode, exclusions }: TagMutability): boolean {
  const excluded = exclusions.some((filter) => wildcard(filter).test(tag))
  switch (mode) {
    case 'IMMUTABLE':
      return true
    case 'IMMUTABLE_WITH_EXCLUSION':
      return !excluded
    case 'MUTABLE_WITH_EXCLUSION':
      return excluded
    default:
      return false
  }
}

const wildcard = (filter: string): RegExp =>
  new RegExp(
    `^${filter
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`
  )

/** Whether deciding this intent needs every tag of the repository (to know which versions exist where). */
export const needsAllTags = (intent: Intent): boolean =>
  'previousVersionOf' in intent.source ||
  intent.targets.some(({ kind }) => kind === 'forward' || kind === 'highest')
