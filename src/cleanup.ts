import type { Convention } from './conventions.js'
import {
  keepsTag,
  policyDifference,
  policyProblems,
  policyText,
  renderPolicy,
  unsafeExpirations,
  type Cleanup,
  type Expiring,
  type LifecyclePolicy
} from './lifecycle.js'
import { batches, type PreviewPoll, type Registry } from './ecr.js'
import { childDigests, isIndex, messageOf, shortDigest } from './model.js'
import { problemsError, settleAll } from './problems.js'
import {
  planPrune,
  type PruneCandidate,
  type PruneLimits,
  type PrunePlan,
  type PruneState
} from './prune.js'

export type LifecycleMode = 'off' | 'check' | 'apply'
export const LIFECYCLE_MODES: readonly LifecycleMode[] = ['off', 'check', 'apply']

/** How long ECR may take to preview a policy before the run gives up, writing nothing. */
const PREVIEW_TIMEOUT_MS = 300_000
const PREVIEW_POLL_MS = 2_000

export interface LifecycleDeps {
  readonly sleep: (ms: number) => Promise<void>
  readonly clock: () => number
  readonly log: (message: string) => void
  /** How long the preview has been running, while it runs. */
  readonly progress: (message: string) => void
}

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
  readonly error?: string
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
  deps: LifecycleDeps
): Promise<LifecycleOutcome[]> {
  const text = policyText(policy)
  const outcomes = await settleAll(
    repositories.map(async (repository): Promise<LifecycleOutcome> => {
      const difference = policyDifference(await registry.getLifecyclePolicy(repository), policy)
      const base = { repository, policy: text, difference, refused: [] }
      if (difference.length === 0) return { ...base, action: 'in sync' }
      for (const line of difference) deps.log(`${repository}: ${line}`)
      if (mode === 'check') return { ...base, action: 'drift' }
      const preview = await previewPolicy(registry, repository, text, deps)
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
        return { ...outcome, action: 'failed', error: messageOf(error) }
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
  { sleep, clock, progress }: LifecycleDeps
): Promise<NonNullable<LifecycleOutcome['preview']>> {
  await registry.startLifecyclePreview(repository, text)
  const started = clock()
  let poll: PreviewPoll
  for (;;) {
    poll = await registry.lifecyclePreview(repository)
    const waited = clock() - started
    if (poll.text !== undefined && poll.text !== text) {
      throw new Error(
        `another lifecycle preview was started on ${repository} meanwhile, so this one cannot be trusted: nothing was written`
      )
    }
    if (poll.status === 'COMPLETE') break
    if (poll.status !== 'IN_PROGRESS')
      throw new Error(
        `ECR's lifecycle preview of ${repository} ended ${poll.status}: nothing was written`
      )
    if (waited >= PREVIEW_TIMEOUT_MS) {
      throw new Error(
        `ECR's lifecycle preview of ${repository} was not complete after ${Math.round(waited / 1000)} s: nothing was written`
      )
    }
    progress(`${repository}: lifecycle preview in progress (${Math.round(waited / 1000)} s)`)
    await sleep(PREVIEW_POLL_MS)
  }
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
  given: { readonly keepMinorVersions?: number; readonly olderThanDays?: number }
): PruneLimits {
  const keepMinorVersions = given.keepMinorVersions ?? convention.cleanup?.keepMinorVersions
  if (keepMinorVersions === undefined) {
    throw new Error(
      `the ${convention.name} convention does not say how many minor versions to keep: set the keep-minor-versions input, or cleanup.keep-minor-versions in a convention file`
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
  readonly images: readonly PruneCandidate[]
  /** Whether `images` were deleted, or only planned (a dry run). */
  readonly deleted: boolean
  /** Why deleting stopped; `images` are those deleted before it did. */
  readonly error?: string
}

type PruneRegistry = Pick<Registry, 'listTags' | 'describeImages' | 'getManifests' | 'deleteImages'>

/**
 * Deletes, in each repository, the release images outside the minor versions kept. The tags are read
 * again just before deleting: an image a pointer reached meanwhile stays.
 */
export async function pruneReleases(
  registry: PruneRegistry,
  convention: Convention,
  repositories: readonly string[],
  limits: PruneLimits,
  dryRun: boolean,
  pace: () => Promise<void>
): Promise<PruneOutcome[]> {
  // Each repository answers for itself: a failure in one never hides what another deleted.
  return Promise.all(
    repositories.map(async (repository): Promise<PruneOutcome> => {
      const deleted: PruneCandidate[] = []
      let planned: PrunePlan | undefined
      try {
        const state = await readPruneState(registry, repository)
        planned = planPrune(convention, limits, state, new Date())
        if (dryRun || planned.delete.length === 0)
          return {
            repository,
            keptMinors: planned.keptMinors,
            images: planned.delete,
            deleted: false
          }
        const again = planPrune(
          convention,
          limits,
          { ...state, tags: await registry.listTags(repository) },
          new Date()
        )
        const still = new Set(again.delete.map(({ digest }) => digest))
        for (const batch of batches(planned.delete.filter(({ digest }) => still.has(digest)))) {
          await pace()
          const failed = await registry.deleteImages(
            repository,
            batch.map(({ digest }) => digest)
          )
          deleted.push(...batch.filter(({ digest }) => !failed.has(digest)))
          if (failed.size > 0)
            throw new Error(
              `could not delete ${[...failed].map(([digest, reason]) => `${digest} (${reason})`).join(', ')}`
            )
        }
        return { repository, keptMinors: planned.keptMinors, images: deleted, deleted: true }
      } catch (error) {
        return {
          repository,
          keptMinors: planned?.keptMinors ?? [],
          images: deleted,
          deleted: true,
          error: messageOf(error)
        }
      }
    })
  )
}

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
