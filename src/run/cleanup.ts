import {
  keepsTag,
  policyDifference,
  policyProblems,
  policyText,
  renderPolicy,
  unsafeExpirations,
  type Expiring,
  type LifecyclePolicy
} from '../core/lifecycle.js'
import { batches, type PreviewPoll, type Registry } from '../ecr/registry.js'
import { asError, Cancelled, childDigests, isIndex, messageOf, shortDigest } from '../core/model.js'
import { problemsError, settleAll } from '../core/problems.js'
import {
  changeOf,
  nextBatch,
  planPrune,
  stayedBecause,
  tagsByDigest,
  type PruneCandidate,
  type PruneLimits,
  type PrunePlan,
  type PruneState
} from '../core/prune.js'
import type { Cleanup, Convention } from '../core/convention.js'
import type { LifecycleMode } from '../core/lifecycle.js'
import { say, type Messages } from '../core/messages.js'
import { pollUntil, type Effects, type Writes } from './effects.js'

/** How long ECR may take to preview a policy before the run gives up, writing nothing. */
const PREVIEW_TIMEOUT_MS = 300_000

export interface LifecycleOutcome {
  readonly repository: string
  /** The policy the convention renders. */
  readonly policy: string
  /** How the repository's policy differs from it; empty when they agree. */
  readonly difference: readonly string[]
  /** `not written`: this repository's policy was safe, but another's was refused, so none is written. */
  readonly action:
    'in sync' | 'drift' | 'written' | 'would write' | 'not written' | 'refused' | 'failed'
  /** Why PutLifecyclePolicy failed, for `failed`. */
  readonly error?: Error
  /** What ECR's preview of the rendered policy expires, per rule and in all; `apply` only. */
  readonly preview?: {
    readonly expiring: readonly PreviewImage[]
    readonly byRule: Readonly<Record<number, number>>
    readonly bytes: number
  }
  readonly refused: readonly { readonly image: Expiring; readonly reason: string }[]
}

export type PreviewImage = Expiring & { readonly pushedAt?: Date; readonly sizeBytes?: number }

type LifecycleRegistry = Pick<
  Registry,
  | 'getLifecyclePolicy'
  | 'putLifecyclePolicy'
  | 'startLifecyclePreview'
  | 'lifecyclePreview'
  | 'listTags'
  | 'getManifests'
  | 'describeImages'
>

/**
 * Keeps each repository's lifecycle policy to the convention's cleanup intent. `check` reports how
 * they differ; `apply` previews the rendered policy with ECR and writes it only where it differs and
 * only when, in every repository, the preview expires nothing the convention keeps.
 */
export async function maintainLifecycle(
  registry: LifecycleRegistry,
  convention: Convention,
  { mode, cleanup, policy }: LifecycleIntent,
  repositories: readonly string[],
  dryRun: boolean,
  effects: Effects,
  /** Whether the run wrote tags before this stage, which a cancel leaves as reported. */
  wroteTags = false
): Promise<LifecycleOutcome[]> {
  const text = policyText(policy)
  const outcomes = await settleAll(
    repositories.map(async (repository): Promise<LifecycleOutcome> => {
      const difference = policyDifference(await registry.getLifecyclePolicy(repository), policy)
      const base = { repository, policy: text, difference, refused: [] }
      if (difference.length === 0) return { ...base, action: 'in sync' }
      for (const line of difference) effects.log(`${repository}: ${line}`)
      if (mode === 'check') return { ...base, action: 'drift' }
      const preview = await previewPolicy(registry, repository, text, effects, wroteTags)
      const refused = unsafeExpirations(
        preview.expiring,
        convention,
        cleanup,
        await keptImages(registry, repository, convention, cleanup)
      )
      return { ...base, preview, refused, action: refused.length > 0 ? 'refused' : 'would write' }
    })
  )
  if (outcomes.some(({ action }) => action === 'refused'))
    return outcomes.map((outcome) =>
      outcome.action === 'would write' ? { ...outcome, action: 'not written' } : outcome
    )
  if (dryRun) return outcomes
  return Promise.all(
    outcomes.map(async (outcome): Promise<LifecycleOutcome> => {
      if (outcome.action !== 'would write') return outcome
      try {
        await registry.putLifecyclePolicy(outcome.repository, text)
        return { ...outcome, action: 'written' }
      } catch (error) {
        return { ...outcome, action: 'failed', error: asError(error) }
      }
    })
  )
}

/** What a run does about lifecycle policies, and the policy the convention renders for it. */
export interface LifecycleIntent {
  readonly mode: Exclude<LifecycleMode, 'off'>
  readonly cleanup: Cleanup
  readonly policy: LifecyclePolicy
}

/**
 * The policy the convention's cleanup section renders, checked against ECR's limits; a run derives
 * it before it writes any tag, so a convention that cannot have one fails before anything changes.
 */
export function lifecycleIntent(
  convention: Convention,
  mode: Exclude<LifecycleMode, 'off'>
): LifecycleIntent {
  const cleanup = convention.cleanup
  if (!cleanup) {
    throw new Error(
      `the ${convention.name} convention has no cleanup section, so there is no lifecycle policy to ${mode}`
    )
  }
  const policy = renderPolicy(convention, cleanup)
  const problems = policyProblems(policy)
  if (problems.length > 0) {
    throw problemsError(problems.map((problem) => `the rendered lifecycle policy: ${problem}`))
  }
  return { mode, cleanup, policy }
}

/** ECR's preview of a policy, polled until COMPLETE within a bounded wait, with what each image frees. */
async function previewPolicy(
  registry: LifecycleRegistry,
  repository: string,
  text: string,
  effects: Effects,
  wroteTags: boolean
): Promise<NonNullable<LifecycleOutcome['preview']>> {
  try {
    return await preview(registry, repository, text, effects)
  } catch (error) {
    if (!effects.signal.aborted) throw error
    throw new Cancelled(
      `the job was cancelled during the lifecycle preview of ${repository}: no lifecycle policy was written${wroteTags ? '; the tags stay written as reported' : ''}`,
      { cause: error }
    )
  }
}

async function preview(
  registry: LifecycleRegistry,
  repository: string,
  text: string,
  effects: Effects
): Promise<NonNullable<LifecycleOutcome['preview']>> {
  await registry.startLifecyclePreview(repository, text)
  let poll: PreviewPoll | undefined
  const complete = async () => {
    poll = await registry.lifecyclePreview(repository)
    if (poll.text !== undefined && poll.text !== text)
      throw new Error(
        `another lifecycle preview was started on ${repository} meanwhile, so this one cannot be trusted: nothing was written`
      )
    if (poll.status !== 'COMPLETE' && poll.status !== 'IN_PROGRESS')
      throw new Error(
        `ECR's lifecycle preview of ${repository} ended ${poll.status}: nothing was written`
      )
    return poll.status === 'COMPLETE'
  }
  const done =
    (await complete()) ||
    (await pollUntil(
      complete,
      PREVIEW_TIMEOUT_MS,
      effects,
      (waited) => `${repository}: lifecycle preview in progress (${waited} s)`
    ))
  if (!done || !poll)
    throw new Error(
      `ECR's lifecycle preview of ${repository} was not complete after ${PREVIEW_TIMEOUT_MS / 1000} s: nothing was written`
    )
  const details = await registry.describeImages(
    repository,
    poll.expiring.map(({ digest }) => digest)
  )
  const expiring = poll.expiring.map((image): PreviewImage => {
    const size = details.get(image.digest)?.sizeBytes
    return size === undefined ? image : { ...image, sizeBytes: size }
  })
  const byRule: Record<number, number> = {}
  for (const { rulePriority } of expiring)
    if (rulePriority !== undefined) byRule[rulePriority] = (byRule[rulePriority] ?? 0) + 1
  return {
    expiring,
    byRule,
    bytes: expiring.reduce((sum, { sizeBytes = 0 }) => sum + sizeBytes, 0)
  }
}

/**
 * The images the convention keeps as the registry shows them now (a tag may have moved since the
 * preview), and the platform images of those that are indexes, tagged or not.
 */
async function keptImages(
  registry: LifecycleRegistry,
  repository: string,
  convention: Convention,
  cleanup: Cleanup
): Promise<Map<string, string>> {
  const keeps = keepsTag(convention, cleanup)
  const kept = new Map<string, string>()
  for (const [tag, digest] of await registry.listTags(repository))
    if (keeps(tag)) kept.set(digest, `it carries ${tag} now, which the convention keeps`)
  const manifests = await registry.getManifests(
    repository,
    [...kept.keys()].map((digest) => ({ digest }))
  )
  for (const manifest of manifests.values())
    for (const child of childDigests(manifest))
      kept.set(
        child,
        `it is a platform image of ${shortDigest(manifest.digest)}, which the convention keeps`
      )
  return kept
}

/** A prune's limits: the inputs where given, else the convention's cleanup section. */
export function pruneLimits(
  convention: Convention,
  given: { readonly keepMinorVersions?: number; readonly olderThanDays?: number },
  messages: Messages
): PruneLimits {
  const keepMinorVersions = given.keepMinorVersions ?? convention.cleanup?.keepMinorVersions
  if (keepMinorVersions === undefined) {
    throw new Error(
      `the ${convention.name} convention does not say how many minor versions to keep: ${say(messages, { kind: 'set', name: 'keep-minor-versions' })}, or cleanup.keep-minor-versions in a convention file`
    )
  }
  return {
    keepMinorVersions,
    olderThanDays: given.olderThanDays ?? convention.cleanup?.expireAfterDays ?? 0
  }
}

export interface PruneOutcome {
  readonly repository: string
  readonly keptMinors: readonly string[]
  /** The images deleted, or in a dry run those planned. */
  readonly images: readonly PruneCandidate[]
  /** Planned images this prune left in place, each with why: most often a tag it gained meanwhile. */
  readonly kept: readonly KeptImage[]
  /** Whether `images` were deleted, or only planned (a dry run). */
  readonly deleted: boolean
  /** Why deleting stopped; `images` are those deleted before it did. */
  readonly error?: Error
}

export interface KeptImage extends PruneCandidate {
  /** The tags it gained since it was read, how else it changed, or the tags ECR did not remove. */
  readonly reason: string
  /** Tags this prune removed from it and could not put back. */
  readonly removed: readonly string[]
}

type PruneRegistry = Pick<
  Registry,
  'listTags' | 'describeImages' | 'getManifests' | 'removeTags' | 'putTag'
>

/**
 * Deletes, in each repository, the release images outside the minor versions kept, by removing
 * their tags (ECR deletes an image with its last tag, so one that gained a pointer meanwhile stays).
 */
export async function pruneReleases(
  registry: PruneRegistry,
  convention: Convention,
  repositories: readonly string[],
  limits: PruneLimits,
  dryRun: boolean,
  effects: Effects,
  /** The put-back, like an undo, goes on after a cancel, until the time to put things back is over. */
  writes: Writes<PruneRegistry>
): Promise<PruneOutcome[]> {
  // Each repository answers for itself: a failure in one never hides what another deleted.
  return Promise.all(
    repositories.map(async (repository): Promise<PruneOutcome> => {
      let keptMinors: readonly string[] = []
      try {
        const state = await readPruneState(registry, repository)
        const planned = planPrune(convention, limits, state, new Date())
        keptMinors = planned.keptMinors
        if (dryRun || planned.delete.length === 0)
          return { repository, keptMinors, images: planned.delete, kept: [], deleted: false }
        const pruning = { registry, convention, limits, repository, state, effects, writes }
        return { repository, keptMinors, deleted: true, ...(await deletePlanned(pruning, planned)) }
      } catch (error) {
        const failure = { images: [], kept: [], error: asError(error) }
        return { repository, keptMinors, deleted: true, ...failure }
      }
    })
  )
}

interface Pruning {
  readonly registry: PruneRegistry
  readonly convention: Convention
  readonly limits: PruneLimits
  readonly repository: string
  /** What the plan was made from; each batch reads the tags again. */
  readonly state: PruneState
  readonly effects: Effects
  readonly writes: Writes<PruneRegistry>
}

/**
 * Deletes the planned images batch by batch, each batch planned again from a listing read just
 * before it, dropping every image that changed; then reads the tags once more, and puts back the
 * tags of every image that stayed (it gained a tag between that listing and its deletion).
 */
async function deletePlanned(
  pruning: Pruning,
  planned: PrunePlan
): Promise<Pick<PruneOutcome, 'images' | 'kept' | 'error'>> {
  const { registry, convention, limits, repository, state, effects, writes } = pruning
  const { signal, log } = effects
  const { pace } = writes
  const kept: KeptImage[] = []
  const sent = new Set<PruneCandidate>()
  const problems: string[] = []
  const cancelled = () =>
    new Error(`the job was cancelled (${String(signal.reason)}): no further image is deleted`)
  let remaining = planned.delete
  try {
    while (remaining.length > 0) {
      if (signal.aborted) throw cancelled()
      const tags = await registry.listTags(repository)
      const now = tagsByDigest(tags)
      const again = planPrune(convention, limits, { ...state, tags }, new Date())
      remaining = remaining.filter((candidate) => {
        const change = changeOf(candidate, now, again)
        if (change === undefined) return true
        if (now.has(candidate.digest)) {
          kept.push({ ...candidate, reason: change, removed: [] })
          log(`${named(repository, candidate)} kept: ${change}`)
        } else log(`${named(repository, candidate)} left alone: another writer removed its tags`)
        return false
      })
      const batch = nextBatch(remaining)
      remaining = remaining.filter((candidate) => !batch.includes(candidate))
      for (const request of batches(batch.flatMap(({ tags }) => tags))) {
        await pace(signal).catch((error: unknown) => {
          throw signal.aborted ? cancelled() : error
        })
        for (const candidate of batch) sent.add(candidate)
        const refused = await registry.removeTags(repository, request)
        if (refused.size > 0)
          throw new Error(
            `ECR did not remove ${[...refused].map(([tag, reason]) => `${tag} (${reason})`).join(', ')}`
          )
      }
    }
  } catch (error) {
    problems.push(messageOf(error))
  }
  const images = await checkDeleted(pruning, [...sent], kept, problems)
  return { images, kept, ...(problems.length > 0 && { error: new Error(problems.join('; ')) }) }
}

/**
 * Reads the tags once more after the last batch: an image whose tags were sent for deletion and
 * that is still listed stays (it gained a tag meanwhile, or ECR did not remove one), so the tags
 * this prune removed from it are put back, digest-exact. Returns the images deleted.
 */
async function checkDeleted(
  pruning: Pruning,
  sent: readonly PruneCandidate[],
  kept: KeptImage[],
  problems: string[]
): Promise<PruneCandidate[]> {
  const { repository, effects, writes } = pruning
  if (sent.length === 0) return []
  let now: Map<string, string[]>
  try {
    now = tagsByDigest(await writes.undo.registry.listTags(repository))
  } catch (error) {
    problems.push(
      `the tags could not be read again, so an image reported deleted may have stayed: ${messageOf(error)}`
    )
    return [...sent]
  }
  // A tag another image carries now is another writer's: it is never taken back.
  const taken = new Set([...now.values()].flat())
  const deleted: PruneCandidate[] = []
  for (const candidate of sent) {
    const carries = now.get(candidate.digest)
    if (!carries) {
      deleted.push(candidate)
      effects.log(`${named(repository, candidate)} deleted`)
      continue
    }
    const reason = stayedBecause(candidate, carries)
    const removed = await putBack(
      pruning,
      candidate.digest,
      candidate.tags.filter((tag) => !taken.has(tag)),
      problems
    )
    kept.push({ ...candidate, reason, removed })
    effects.log(`${named(repository, candidate)} kept: ${reason}`)
  }
  return deleted
}

/**
 * Puts tags back on an image, digest-exact, and returns those it could not, naming why in
 * `problems`. A repair, like an undo: it goes on after the job is cancelled.
 */
async function putBack(
  { repository, effects, writes }: Pruning,
  digest: string,
  tags: readonly string[],
  problems: string[]
): Promise<string[]> {
  const left = [...tags]
  try {
    if (left.length === 0) return left
    const { registry, signal } = writes.undo
    const manifest = (await registry.getManifests(repository, [{ digest }])).get(digest)
    if (!manifest) throw new Error('ECR no longer returns its manifest')
    for (const tag of tags) {
      await writes.pace(signal)
      await registry.putTag(repository, tag, manifest)
      left.shift()
      effects.log(`${repository}:${tag} put back on ${shortDigest(digest)}`)
    }
  } catch (error) {
    problems.push(
      `could not put back ${left.join(', ')} on ${repository}@${digest}: ${messageOf(error)}`
    )
  }
  return left
}

const named = (repository: string, { digest, versions }: PruneCandidate): string =>
  `${repository}@${shortDigest(digest)} (${versions.join(', ')})`

async function readPruneState(registry: PruneRegistry, repository: string): Promise<PruneState> {
  const tags = await registry.listTags(repository)
  const details = await registry.describeImages(repository, [...new Set(tags.values())])
  const indexes = [...details].flatMap(([digest, { mediaType }]) =>
    isIndex(mediaType) ? [{ digest }] : []
  )
  const manifests = await registry.getManifests(repository, indexes)
  // An index a prune deletes frees its children too, but they are untagged: the lifecycle policy's job.
  return { tags, details, keptChildren: new Set([...manifests.values()].flatMap(childDigests)) }
}
