import type { Intent, SourceRef, Target, TestedRule, VersionLine } from './derive.js'
import type { PointerRecord } from './history.js'
import {
  describeRef,
  matchesWildcard,
  immutableRemedy,
  shortDigest,
  type ImageDetails,
  type ImageRef,
  type Manifest,
  type TagMutability
} from './model.js'
import { runVariables, versionTagMatcher } from './tags.js'
import { compareVersions, highestVersion, isStable, parseVersion, type Version } from './version.js'
import { say, type Messages } from './messages.js'
import { problemsError } from './problems.js'

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
  /**
   * Every tag in the repository and its digest, read when a decision needs released versions; for a
   * rollback to a named version, only the tags on its image and on its pointer's (`describedPointer`).
   */
  readonly tags?: ReadonlyMap<string, string>
  /** Push times and tags of the images a decision compares without versions, by digest. */
  readonly details?: ReadonlyMap<string, ImageDetails>
  /** Where each tag a tested-image rule names (without `*`) points now: tag to digest. */
  readonly proofs?: ReadonlyMap<string, string>
  /**
   * Versions withdrawn in any repository of the run (withdrawn in one is withdrawn in all), by the
   * tag lists and the marks of the run's version read with the targets.
   */
  readonly withdrawnInRun?: ReadonlySet<string>
  /** A rollback: the marks to write here, by tag, each on the image of the version the run withdraws. */
  readonly withdrawing?: ReadonlyMap<string, { readonly image: Manifest; readonly version: string }>
  /**
   * ARCHIVED or ACTIVATING when the source image is in archive storage: `sourceManifest` then holds
   * only its digest and media type, as DescribeImages tells them, until it is restored and read.
   */
  readonly archived?: string
  /**
   * With a target registry, where the source image was read: the source registry (copied into this
   * one before any tag moves), or this one (a rollback to a version it has).
   */
  readonly copyFrom?: 'source' | 'target'
}

export interface ResolvedSource {
  readonly ref: ImageRef
  /** The version a rollback to `previous` resolved to. */
  readonly version?: Version
  /** A rollback to `previous` resolved to the version its pointer already carries. */
  readonly stays?: PreviousStays
  /** A build tag pattern that no tag matches: `ref` names the pattern, which no registry call takes. */
  readonly unmatched?: true
}

/**
 * A rollback to `previous` that leaves the pointer on `version`: a rollback already took it there
 * from `withdrawn`, and `previous` never goes below that, so a re-run changes nothing. Further back
 * is a version by name: `further`, the highest stable one below that is not withdrawn, if any.
 */
export interface PreviousStays {
  readonly version: Version
  readonly withdrawn: Version
  readonly further?: Version
}

/** `withdrawn`: the mark a rollback puts on the image it rolls back from. */
export type StepKind = Target['kind'] | 'withdrawn'

interface StepBase {
  readonly tag: string
  readonly kind: StepKind
  readonly from?: Manifest
  /** Why a tag that could have moved stays where it is. */
  readonly note?: string
  /**
   * A forward pointer held on an image without a version, by push time: the image may be a release
   * whose version tag is still on its way, so the pointer is checked again after the writes.
   */
  readonly unranked?: true
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
  /** The tag whose digest before the run is the `previous-digest` output. */
  readonly pointer?: string
  readonly steps: readonly Step[]
  /**
   * For each pointer a tested-image rule covers and the plan moves: the tag on the image that proves
   * it was tested, or why none does (the gates then refuse the run).
   */
  readonly tested?: readonly TestedProof[]
  /** The source is archived (ARCHIVED or ACTIVATING): it must be restored, and the plan made again, before any write. */
  readonly archived?: string
  /** A rollback to a moment: the deployment record the source came from. */
  readonly recorded?: PointerRecord
  /** A rollback to `previous` that leaves the pointer where it is. */
  readonly stays?: PreviousStays
  /** The version on each image the steps name, where the registry's tags tell, for people to read. */
  readonly versions?: ReadonlyMap<string, string>
}

/**
 * Tags whose right place depends on what else the registry holds: they take their turns after the
 * other tags of the wave, and an undo puts them back first. A withdrawn mark goes where the rollback
 * pointer was, so it moves with the pointers.
 */
export const isPointer = (kind: StepKind): boolean =>
  kind === 'forward' || kind === 'highest' || kind === 'rollback' || kind === 'withdrawn'

export type TestedProof = { readonly pointer: string } & (
  { readonly by: string } | { readonly refused: string }
)

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

/** Every version withdrawn in any of these repositories, by their tags. */
export const withdrawnInRun = (
  intents: readonly Intent[],
  tagsOf: (intent: Intent) => Iterable<[string, string]> | undefined
): Set<string> =>
  new Set(
    intents.flatMap((intent) => [...withdrawnVersions(tagsOf(intent) ?? [], intent.withdrawnTag)])
  )

/**
 * The versions a rollback withdraws, the same in every repository: each version a pointer leaves
 * for a lower one (or one without a version). `targetOf` is the digest each rollback goes back to.
 */
export function versionsLeft(
  intents: readonly Intent[],
  tagsOf: (intent: Intent) => ReadonlyMap<string, string> | undefined,
  targetOf: (intent: Intent) => string | undefined
): Version[] {
  const left = intents.flatMap((intent) => {
    const tags = tagsOf(intent)
    if (intent.event !== 'rollback' || !tags || !intent.pointer) return []
    const released = releasedVersions(tags, intent.versionTag)
    const from = tags.get(intent.pointer)
    const to = targetOf(intent)
    const leaving = from === undefined ? undefined : versionsOn(released, from)
    const going = to === undefined ? undefined : versionsOn(released, to)
    if (!leaving || from === to) return []
    return !going || compareVersions(leaving, going) > 0 ? [leaving] : []
  })
  return [...new Map(left.map((version) => [version.text, version])).values()]
}

/** A template with `{version}` once and no other variable, rendered: `v1.2.0`, `withdrawn-1.2.0`. */
export const renderVersion = (template: string, version: Version): string =>
  template.replace('{version}', version.text)

/** The versions whose withdrawn mark is among these tags. */
export function withdrawnVersions(tags: Iterable<[string, string]>, template: string): Set<string> {
  const versionOf = versionTagMatcher(template)
  return new Set(
    [...tags].flatMap(([tag]) => {
      const version = parseVersion(versionOf(tag) ?? '')
      return version ? [version.text] : []
    })
  )
}

const versionsOn = (released: readonly ReleasedVersion[], digest: string): Version | undefined =>
  highestVersion(released.filter((entry) => entry.digest === digest).map((entry) => entry.version))

/**
 * With a target registry, the tag the source has in the source registry is written in the target
 * too, in the same wave: a release's or promotion's build tag (plain), a rollback's version tag.
 */
export function withSourceTag(intent: Intent): Intent {
  const { source, targets } = intent
  if (!('tag' in source) || targets.length === 0 || targets.some(({ tag }) => tag === source.tag))
    return intent
  const kind = intent.event === 'rollback' ? 'version' : 'plain'
  return { ...intent, targets: [{ tag: source.tag, kind }, ...targets] }
}

/** Sources found in the repository's tags, and so read once they are listed. */
export const isFoundInTags = (source: SourceRef): source is Exclude<SourceRef, ImageRef> =>
  'previousVersionOf' in source || 'buildTagMatching' in source

/**
 * The image each intent starts from, given each repository's tags (read where versions decide). A
 * rollback to `previous` resolves one version for the whole run: the highest stable version below the
 * highest version any repository's pointer carries, which every repository must have. So rolling back
 * a half-finished release across repositories is one command. A build tag with run variables is the
 * one image carrying tags that match its pattern.
 */
export function resolveSources(
  intents: readonly Intent[],
  tagsOf: (intent: Intent) => ReadonlyMap<string, string> | undefined
): ResolvedSource[] {
  const rollingBack = intents.filter((intent) => 'previousVersionOf' in intent.source)
  const { chosen, stays } =
    rollingBack.length > 0 ? previousVersion(rollingBack, tagsOf) : { chosen: new Map() }
  const resolved = intents.map((intent): ResolvedSource | string => {
    const { source } = intent
    if ('buildTagMatching' in source) return buildOf(intent.repository, source, tagsOf(intent))
    if (!('previousVersionOf' in source)) return { ref: source }
    const { tag, version } = chosen.get(intent.repository) as ReleasedVersion
    return { ref: { tag }, version, ...(stays && { stays }) }
  })
  const problems = resolved.filter((each) => typeof each === 'string')
  if (problems.length > 0) throw problemsError(problems)
  return resolved as ResolvedSource[]
}

/**
 * The image carrying the tags that match a build tag's pattern, by digest; or why there is no
 * telling which one is meant. Several such tags on one image are one build, pushed again.
 */
function buildOf(
  repository: string,
  { buildTagMatching: pattern, buildTag }: Extract<SourceRef, { buildTagMatching: string }>,
  tags: ReadonlyMap<string, string> = new Map()
): ResolvedSource | string {
  const matching = [...tags].filter(([tag]) => matchesWildcard(pattern, tag)).sort()
  const digests = new Set(matching.map(([, digest]) => digest))
  const [digest] = digests
  if (digest === undefined) return { ref: { tag: pattern }, unmatched: true }
  if (digests.size === 1) return { ref: { digest } }
  const named = matching.map(([tag, on]) => `${tag} (${shortDigest(on)})`).join(', ')
  const variables = runVariables(buildTag).map((name) => `{${name}}`)
  return `cannot tell which build ${repository} starts from: ${named} match the build tag ${buildTag} on different images, and its ${variables.join(', ')} cannot be known after the build's own run; set source to the tag of the image meant`
}

function previousVersion(
  intents: readonly Intent[],
  tagsOf: (intent: Intent) => ReadonlyMap<string, string> | undefined
): { chosen: Map<string, ReleasedVersion>; stays?: PreviousStays } {
  const withdrawn = withdrawnInRun(intents, tagsOf)
  const repositories = intents.map((intent) => {
    const tags = tagsOf(intent) ?? new Map<string, string>()
    const released = releasedVersions(tags, intent.versionTag)
    const pointer = intent.pointer as string
    const pointerDigest = tags.get(pointer)
    return {
      repository: intent.repository,
      pointer,
      pointerDigest,
      released,
      candidates: released.filter(({ version }) => !withdrawn.has(version.text)),
      carried: pointerDigest === undefined ? undefined : versionsOn(released, pointerDigest)
    }
  })
  const top = highestVersion(repositories.flatMap(({ carried }) => (carried ? [carried] : [])))
  if (!top) {
    throw problemsError(
      repositories.map(({ repository, pointer, pointerDigest }) =>
        pointerDigest === undefined
          ? `cannot roll back ${repository} to previous: it has no '${pointer}' tag; set version to the version to roll back to`
          : `cannot roll back ${repository} to previous: '${pointer}' (${shortDigest(pointerDigest)}) carries no version tag; set version to the version to roll back to`
      )
    )
  }
  const stable = repositories.flatMap(({ candidates }) =>
    candidates.map(({ version }) => version).filter(isStable)
  )
  // The pointer already sits where a rollback from a withdrawn version put it: a re-run of that
  // rollback stays, rather than withdrawing a good version and going one further back.
  const above = [...withdrawn]
    .map((text) => parseVersion(text) as Version)
    .filter((version) => compareVersions(version, top) > 0)
  const below = highestVersion(stable.filter((version) => compareVersions(version, top) < 0))
  const rolledBack = above.length > 0 && highestVersion(stable)?.text === top.text
  const previous = rolledBack ? top : below
  if (!previous) {
    throw new Error(
      `cannot roll back ${repositories.map(({ repository }) => repository).join(', ')} to previous: no stable version below ${top.text} that is not withdrawn`
    )
  }
  const chosen = new Map<string, ReleasedVersion>()
  const missing: string[] = []
  for (const { repository, candidates } of repositories) {
    const entry = candidates.find(({ version }) => version.text === previous.text)
    if (entry) chosen.set(repository, entry)
    else missing.push(repository)
  }
  if (missing.length > 0) {
    throw new Error(
      `cannot roll back to previous: the previous version ${previous.text} (below ${top.text}) is missing or withdrawn in ${missing.join(', ')}; set version to a version every repository has`
    )
  }
  if (!rolledBack) return { chosen }
  // The lowest withdrawn version above it: the one the first rollback left.
  const [left] = above.sort(compareVersions) as [Version]
  return { chosen, stays: { version: top, withdrawn: left, ...(below && { further: below }) } }
}

/**
 * Why a rollback to `previous` left the pointer where it is, and how to go further back, if it did;
 * `byName` is how the host asks for a rollback to a version (an input, a command).
 */
export function describeStays(
  { repository, pointer, stays }: RepositoryPlan,
  byName: (version: string) => string
): string | undefined {
  if (!stays) return undefined
  const { version, withdrawn, further } = stays
  return `${repository}: ${pointer} stays on ${version.text}, already below ${withdrawn.text}, which a rollback withdrew: previous goes back from a withdrawn version once, so running it again changes nothing; ${further ? `to go further back, name a version: ${byName(further.text)}` : `no stable version below ${version.text} is left that is not withdrawn`}`
}

/** The digests whose push times a forward decision needs: where this run's image or the pointer's carries no version. */
export function pushTimesNeeded(intent: Intent, state: Omit<RepositoryState, 'details'>): string[] {
  const source = state.sourceManifest
  if (!source) return []
  const released = state.tags ? releasedVersions(state.tags, intent.versionTag) : []
  const runVersion = intent.version ?? state.source.version ?? versionsOn(released, source.digest)
  const digests = intent.targets.flatMap(({ tag, kind }) => {
    const from = state.current.get(tag)
    if (kind !== 'forward' || !from || from.digest === source.digest) return []
    return runVersion && versionsOn(released, from.digest) ? [] : [from.digest]
  })
  return digests.length > 0 ? [...new Set([source.digest, ...digests])] : []
}

/** Decides, without any I/O, which tags to write. Throws an AggregateError naming every problem. */
export function planRepository(
  intent: Intent,
  state: RepositoryState,
  messages: Messages
): RepositoryPlan {
  const source = state.sourceManifest
  if (!source) {
    const advice = intent.sourceAdvice ? `: ${intent.sourceAdvice}` : ''
    throw new Error(
      `source image '${describeRef(state.source.ref)}' not found in repository ${intent.repository}${advice}`
    )
  }
  const released = state.tags ? releasedVersions(state.tags, intent.versionTag) : []
  // A rollback names the version it goes back to, however its source was found.
  const found = versionsOn(released, source.digest)
  const version =
    intent.version ?? state.source.version ?? (intent.event === 'rollback' ? found : undefined)
  const runVersion = version ?? found
  const pushedAt = (digest: string) => state.details?.get(digest)?.pushedAt
  const withdrawn = new Set([
    ...withdrawnVersions(state.tags ?? [], intent.withdrawnTag),
    ...(state.withdrawnInRun ?? [])
  ])
  const refusal = withdrawnRefusal(intent, runVersion, withdrawn, messages)
  const problems: string[] = []

  const steps = intent.targets.map((target): Step => {
    const { tag, kind } = target
    const from = state.current.get(tag)
    if (from?.digest === source.digest) return { tag, kind, from, to: source, write: false }
    const note =
      (kind !== 'version' && refusal?.hold) ||
      holdReason(target, from, released, withdrawn, runVersion, pushedAt, source.digest)
    if (note && intent.event === 'promote' && kind === 'forward') {
      problems.push(
        `cannot promote ${intent.repository}:${tag}: it ${note}; to move it back, run ${say(messages, { kind: 'event', event: 'rollback' })}`
      )
    }
    if (note) {
      const unranked =
        kind === 'forward' && from && !refusal?.hold && !versionsOn(released, from.digest)
      return {
        tag,
        kind,
        ...(from && { from, to: from }),
        write: false,
        note,
        ...(unranked && { unranked: true })
      }
    }
    if (from && kind === 'version') {
      problems.push(
        `version tag '${tag}' in ${intent.repository} already points at ${shortDigest(from.digest)}, not at the source ${shortDigest(source.digest)}: a version tag never moves; release a new version`
      )
    }
    if (from && isImmutable(tag, state.mutability)) {
      problems.push(
        `tag '${tag}' in ${intent.repository} is immutable (imageTagMutability ${state.mutability.mode}) and already points at ${shortDigest(from.digest)}: ${immutableRemedy(tag)}`
      )
    }
    return {
      tag,
      kind,
      ...(from && { from }),
      to: source,
      write: true,
      ...(refusal?.allowed && kind !== 'version' && { note: refusal.allowed })
    }
  })
  if (refusal?.problem && steps.some(({ write }) => write)) problems.push(refusal.problem)
  const marks = withdrawalMarks(state, steps)
  const tested = (intent.tested ?? []).flatMap((rule): TestedProof[] => {
    if (!steps.some(({ tag, write }) => write && tag === rule.pointer)) return []
    const by = testedBy(rule, state, source.digest)
    const { pointer } = rule
    return [
      by
        ? { pointer, by }
        : { pointer, refused: untested(intent.repository, rule, state, source.digest) }
    ]
  })
  if (problems.length > 0) throw problemsError(problems)
  const { stays } = state.source
  const stayed = stays && steps.some(({ tag, write }) => tag === intent.pointer && !write)
  const named = new Set([...marks, ...steps].flatMap(({ from, to }) => [from?.digest, to?.digest]))
  const versions = new Map(
    [...named].flatMap((digest) => {
      const on = digest === source.digest ? runVersion : digest && versionsOn(released, digest)
      return digest && on ? [[digest, on.text] as const] : []
    })
  )
  return {
    repository: intent.repository,
    uri: state.uri,
    source,
    steps: [...marks, ...steps],
    ...(tested.length > 0 && { tested }),
    ...(state.archived && { archived: state.archived }),
    ...(intent.recorded && { recorded: intent.recorded }),
    ...(stayed && { stays }),
    ...(versions.size > 0 && { versions }),
    ...(version && { version }),
    ...(intent.pointer && { pointer: intent.pointer })
  }
}

const isPattern = (pattern: string): boolean => pattern.includes('*')

/**
 * What a withdrawn version means for this run: a release re-run holds its pointers (`hold`); a
 * promotion or rollback that names it fails (`problem`); with allow-withdrawn it moves, noted (`allowed`).
 */
function withdrawnRefusal(
  intent: Intent,
  runVersion: Version | undefined,
  withdrawn: ReadonlySet<string>,
  messages: Messages
): { hold?: string; problem?: string; allowed?: string } | undefined {
  if (!runVersion || !withdrawn.has(runVersion.text) || intent.event === 'push') return undefined
  const mark = renderVersion(intent.withdrawnTag, runVersion)
  if (intent.allowWithdrawn)
    return {
      allowed: `${runVersion.text} is withdrawn (${mark}); moved because allow-withdrawn is true`
    }
  const allow = say(messages, { kind: 'set', name: 'allow-withdrawn', value: 'true' })
  if (intent.event === 'release')
    return {
      hold: `stays: ${runVersion.text} was withdrawn by a rollback (${mark}), and a release re-run does not move a pointer to it; ${allow} to move it on purpose`
    }
  return {
    problem: `cannot ${intent.event} ${intent.repository} to ${runVersion.text}: it was withdrawn by a rollback (tag ${mark}); ${allow} to move to it anyway, or run ${say(messages, { kind: 'event', event: 'restore-version' })} first`
  }
}

/**
 * A rollback marks each version it withdraws (`state.withdrawing`, the same in every repository of
 * the run) on that version's image: a tag, so the mark lives in the registry with the image.
 */
function withdrawalMarks(state: RepositoryState, steps: readonly Step[]): Step[] {
  const pointer = steps.find(({ kind }) => kind === 'rollback')
  return [...(state.withdrawing ?? [])].map(([tag, { image, version }]) => ({
    tag,
    kind: 'withdrawn',
    to: image,
    write: true,
    note: `${version}, which ${pointer?.tag ?? 'the pointer'} rolls back from, is withdrawn`
  }))
}

/** The tag on the image that satisfies a tested-image rule, if one does. */
function testedBy(rule: TestedRule, state: RepositoryState, digest: string): string | undefined {
  if (!isPattern(rule.pattern))
    return state.proofs?.get(rule.pattern) === digest ? rule.pattern : undefined
  return [...(state.tags ?? [])]
    .filter(([tag, on]) => on === digest && matchesWildcard(rule.pattern, tag))
    .map(([tag]) => tag)
    .sort()[0]
}

function untested(
  repository: string,
  { pointer, pattern }: TestedRule,
  state: RepositoryState,
  digest: string
): string {
  const refused = `cannot move ${repository}:${pointer} to ${shortDigest(digest)}: require-tested is on`
  if (!isPattern(pattern)) {
    const now = state.proofs?.get(pattern)
    return `${refused}, and ${pointer} takes only the image that ${pattern} points at, which is ${now ? shortDigest(now) : 'none (there is no such tag)'}: move ${pattern} to this image first and test it there`
  }
  const carried = [...(state.tags ?? [])].filter(([, on]) => on === digest).map(([tag]) => tag)
  return `${refused}, and ${pointer} takes only an image carrying a tag matching '${pattern}'; this image carries ${carried.sort().join(', ') || 'no tag'}`
}

/** Why a forward-only or highest-only tag must not move to this run's image, if it must not. */
function holdReason(
  target: Target,
  from: Manifest | undefined,
  released: readonly ReleasedVersion[],
  withdrawn: ReadonlySet<string>,
  runVersion: Version | undefined,
  pushedAt: (digest: string) => Date | undefined,
  sourceDigest: string
): string | undefined {
  if (target.kind === 'forward' && from) {
    const carried = versionsOn(released, from.digest)
    if (carried && runVersion) {
      return compareVersions(runVersion, carried) < 0
        ? `stays on ${carried.text}: ${runVersion.text} is lower, and only a rollback moves it back`
        : undefined
    }
    // Without a version on both sides, the image built later is the newer one.
    const [before, ours] = [pushedAt(from.digest), pushedAt(sourceDigest)]
    if (before && ours && ours < before) {
      return `stays on ${carried?.text ?? 'the image'} pushed ${before.toISOString()}: this image was pushed earlier (${ours.toISOString()}), and only a rollback moves it back`
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
            !withdrawn.has(other.text) &&
            inLine(other, runVersion, target.line) &&
            compareVersions(other, runVersion) > 0
        )
    )
    if (higher) return `${higher.text} is higher, so it stays`
  }
  return undefined
}

/** Where a forward or highest pointer is, and where it should go, once the run has written it. */
export interface PointerCheck {
  readonly tag: string
  readonly now: string | null
  /** The digest to point it at instead, when it is not where it belongs. */
  readonly moveTo?: string
  readonly note?: string
}

/**
 * After the run wrote its forward and highest pointers (version tags and pointers in one wave), with
 * every tag listed again: where each belongs. The winner is the highest of the run's own version and
 * the releases made while it ran (version tags the first read did not see). A pointer the run wrote
 * that now sits on its own image, on a lower version, on an image with no version (yet: a release
 * whose version tag is still on its way), or nowhere, goes to the winner: a concurrent lower release
 * that wrote last, or its undo, is overridden, and a release hands its pointers on to a higher one.
 * A rollback made meanwhile (a withdrawn mark the first read did not see) keeps the pointer where it
 * put it, and one on a higher version is left alone. A pointer the run held on an image with no
 * version (`step.write` false) moves only once that image shows a version lower than the run's.
 */
export function checkPointers(
  intent: Intent,
  plan: RepositoryPlan,
  firstTags: ReadonlyMap<string, string> | undefined,
  freshTags: ReadonlyMap<string, string>,
  steps: readonly Step[]
): PointerCheck[] {
  const released = releasedVersions(freshTags, intent.versionTag)
  const ours = plan.version ?? versionsOn(released, plan.source.digest)
  const marks = withdrawnVersions(freshTags, intent.withdrawnTag)
  const appeared = releasedSince(released, firstTags, plan.source.digest, marks)
  const marked = withdrawnVersions(firstTags ?? [], intent.withdrawnTag)
  const rolledBack = [...marks].some((version) => !marked.has(version))
  return steps.map(({ tag, write, from }): PointerCheck => {
    const now = freshTags.get(tag) ?? null
    const target = intent.targets.find((candidate) => candidate.tag === tag) as Target
    if (!ours) return { tag, now }
    if (marks.has(ours.text) && !marked.has(ours.text))
      return { tag, now, note: `a rollback withdrew ${ours.text} meanwhile; left alone` }
    const rivals = intent.event === 'release' ? inLineWith(appeared, target, ours) : []
    const best = highestEntry(rivals)
    const winner =
      best && compareVersions(best.version, ours) > 0
        ? best
        : { digest: plan.source.digest, version: ours }
    const carried = now === null ? undefined : versionsOn(released, now)
    const moveTo = (note: string): PointerCheck => ({ tag, now, moveTo: winner.digest, note })
    if (now === winner.digest) {
      return winner.digest === plan.source.digest
        ? { tag, now }
        : {
            tag,
            now,
            note: `another run released ${winner.version.text} meanwhile and moved it there`
          }
    }
    if (!write) {
      return now === from?.digest &&
        carried &&
        compareVersions(carried, ours) < 0 &&
        winner.version === ours
        ? moveTo(
            `the image it stayed on carries ${carried.text} now, lower than ${ours.text}; moved`
          )
        : { tag, now }
    }
    if (now === plan.source.digest)
      return moveTo(`handed on to ${winner.version.text}, which another run released meanwhile`)
    const taken = appeared.find((entry) => entry.digest === now)
    if (taken && compareVersions(taken.version, winner.version) < 0) {
      return moveTo(
        `${taken.version.text}, released by another run meanwhile, took it after this run wrote it; ${winner.version.text} is higher, so it was written again`
      )
    }
    if (!rolledBack && (!carried || compareVersions(carried, winner.version) < 0)) {
      const what =
        now === null
          ? 'it was removed'
          : `${carried?.text ?? `${shortDigest(now)}, an image with no version (yet),`} took it`
      return moveTo(
        `${what} after this run wrote it; it belongs on ${winner.version.text}, so it was written again`
      )
    }
    return {
      tag,
      now,
      note: `another writer has since moved it to ${carried?.text ?? (now ? shortDigest(now) : 'nothing')}; left alone`
    }
  })
}

/**
 * Where an undo puts a forward or highest pointer back: where it was before this run, unless a
 * release made while the run ran ranks above that (it would be there had this run never happened).
 */
export function undoTarget(
  intent: Intent,
  plan: RepositoryPlan,
  step: Step,
  before: Manifest | undefined,
  firstTags: ReadonlyMap<string, string> | undefined,
  freshTags: ReadonlyMap<string, string>
): string | null {
  const back = before?.digest ?? null
  const target = intent.targets.find(({ tag }) => tag === step.tag)
  if (target?.kind !== 'forward' && target?.kind !== 'highest') return back
  const released = releasedVersions(freshTags, intent.versionTag)
  const marks = withdrawnVersions(freshTags, intent.withdrawnTag)
  const appeared = releasedSince(released, firstTags, plan.source.digest, marks)
  const ours = plan.version ?? versionsOn(released, plan.source.digest)
  const best = highestEntry(ours ? inLineWith(appeared, target, ours) : appeared)
  const previous = back === null ? undefined : versionsOn(released, back)
  return best && (!previous || compareVersions(best.version, previous) > 0) ? best.digest : back
}

/**
 * Stable versions whose tags the first read did not see, on images other than the run's, and not
 * withdrawn (`marks`) since.
 */
const releasedSince = (
  released: readonly ReleasedVersion[],
  firstTags: ReadonlyMap<string, string> | undefined,
  sourceDigest: string,
  marks: ReadonlySet<string>
): ReleasedVersion[] =>
  released.filter(
    ({ tag, digest, version }) =>
      !firstTags?.has(tag) &&
      digest !== sourceDigest &&
      isStable(version) &&
      !marks.has(version.text)
  )

const inLineWith = (
  entries: readonly ReleasedVersion[],
  target: Target,
  version: Version
): ReleasedVersion[] =>
  target.kind === 'highest'
    ? entries.filter((entry) => inLine(entry.version, version, target.line))
    : [...entries]

function highestEntry(entries: readonly ReleasedVersion[]): ReleasedVersion | undefined {
  const top = highestVersion(entries.map(({ version }) => version))
  return top && entries.find(({ version }) => version === top)
}

const inLine = (version: Version, other: Version, line: VersionLine): boolean =>
  line === 'all' ||
  (version.major === other.major && (line === 'major' || version.minor === other.minor))

export function isImmutable(tag: string, { mode, exclusions }: TagMutability): boolean {
  const excluded = exclusions.some((filter) => matchesWildcard(filter, tag))
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

/**
 * Whether deciding this intent needs every tag of the repository: to know which versions exist
 * where, or which image a build tag pattern matches.
 */
export const needsAllTags = (intent: Intent): boolean =>
  (intent.event === 'rollback' && describedPointer(intent) === undefined) ||
  'buildTagMatching' in intent.source ||
  intent.targets.some(({ kind }) => kind === 'forward' || kind === 'highest') ||
  (intent.tested ?? []).some(({ pattern }) => isPattern(pattern))

/**
 * A rollback to a named version decides by the versions on two images, its own and its pointer's:
 * the pointer is described with its tags as the source is, and the repository is not listed.
 */
export const describedPointer = (intent: Intent): string | undefined =>
  intent.event === 'rollback' && intent.version ? intent.pointer : undefined

/** The withdrawn mark of the run's version, read with the targets where no listing shows it. */
export const markTags = (intent: Intent): string[] =>
  intent.version && !needsAllTags(intent)
    ? [renderVersion(intent.withdrawnTag, intent.version)]
    : []

/** The tags a tested-image rule names without `*`: read with the targets. */
export const proofTags = (intent: Intent): string[] =>
  (intent.tested ?? []).flatMap(({ pattern }) => (isPattern(pattern) ? [] : [pattern]))
