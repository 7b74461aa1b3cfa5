import type { Cleanup, Convention } from './convention.js'
import { matchesWildcard } from './model.js'
import { templatePattern, templateVariables, versionTagMatcher } from './tags.js'
import { parseVersion } from './version.js'

/** What a run does about lifecycle policies: nothing, report drift, or write the rendered policy. */
export type LifecycleMode = 'off' | 'check' | 'apply'
export const LIFECYCLE_MODES: readonly LifecycleMode[] = ['off', 'check', 'apply']

export interface LifecycleRule {
  readonly rulePriority: number
  readonly description: string
  readonly selection: {
    readonly tagStatus: 'tagged' | 'untagged'
    readonly tagPatternList?: readonly string[]
    readonly countType: 'imageCountMoreThan' | 'sinceImagePushed'
    readonly countUnit?: 'days'
    readonly countNumber: number
  }
  readonly action: { readonly type: 'expire' }
}

export interface LifecyclePolicy {
  readonly rules: readonly LifecycleRule[]
}

/** A protection rule selects its images first, so no later rule can expire them; it never expires them itself within any useful time. */
const FOREVER_DAYS = 36_500
/** ECR's limits on a lifecycle policy (LifecyclePolicyText length; wildcards in one tagPatternList entry). */
const MAX_POLICY_LENGTH = 30_720
const MAX_WILDCARDS = 4

/**
 * The convention's pointers and floating tags: every tag rule without a variable, such as
 * `production`, then the rollback, guarded and deployed pointers a rule may not name.
 */
export function pointerTags(convention: Convention): string[] {
  const rules = [
    ...convention.push,
    ...convention.release,
    ...convention.prerelease,
    ...Object.values(convention.promote).flat()
  ]
  return [
    ...new Set([
      ...rules.map(({ tag }) => tag).filter((tag) => templateVariables(tag).length === 0),
      ...(convention.rollbackPointer ? [convention.rollbackPointer] : []),
      ...convention.gates.guard,
      ...Object.keys(convention.deployments)
    ])
  ]
}

/** Every tag or pattern whose images the policy keeps forever, in the order its rules are written. */
export function protectedPatterns(convention: Convention, cleanup: Cleanup): string[] {
  return [
    ...new Set([
      ...pointerTags(convention),
      ...cleanup.protect,
      ...(cleanup.protectReleases ? [templatePattern(convention.versionTag)] : []),
      // A withdrawn mark is the one record that a version must not come back: it never expires.
      templatePattern(convention.withdrawnTag)
    ])
  ]
}

/**
 * The ECR lifecycle policy that does what the cleanup intent says. ECR selects an image for the first
 * rule (by priority) whose tag selection it matches, and no later rule can expire it. So each
 * protected tag or pattern gets a rule of its own ahead of the rest: in one list, ECR would select
 * only images that carry every entry. Promotion does not change an image's push date, which is
 * why a protection rule, not an age rule, keeps what is in production.
 */
export function renderPolicy(convention: Convention, cleanup: Cleanup): LifecyclePolicy {
  const rules: LifecycleRule[] = []
  const add = (description: string, selection: LifecycleRule['selection']) =>
    rules.push({
      rulePriority: rules.length + 1,
      description,
      selection,
      action: { type: 'expire' }
    })
  for (const pattern of protectedPatterns(convention, cleanup)) {
    add(`keep images tagged ${pattern}`, {
      tagStatus: 'tagged',
      tagPatternList: [pattern],
      countType: 'sinceImagePushed',
      countUnit: 'days',
      countNumber: FOREVER_DAYS
    })
  }
  if (cleanup.keepBuilds !== undefined) {
    const builds = templatePattern(convention.buildTag)
    add(`keep the newest ${cleanup.keepBuilds} builds tagged ${builds}`, {
      tagStatus: 'tagged',
      tagPatternList: [builds],
      countType: 'imageCountMoreThan',
      countNumber: cleanup.keepBuilds
    })
  }
  if (cleanup.expireAfterDays !== undefined) {
    add(`expire other tagged images ${cleanup.expireAfterDays} days after their push`, {
      tagStatus: 'tagged',
      tagPatternList: ['*'],
      countType: 'sinceImagePushed',
      countUnit: 'days',
      countNumber: cleanup.expireAfterDays
    })
  }
  if (cleanup.expireUntaggedAfterDays !== undefined) {
    add(`expire untagged images ${cleanup.expireUntaggedAfterDays} days after their push`, {
      tagStatus: 'untagged',
      countType: 'sinceImagePushed',
      countUnit: 'days',
      countNumber: cleanup.expireUntaggedAfterDays
    })
  }
  return { rules }
}

export const policyText = (policy: LifecyclePolicy): string => JSON.stringify(policy)

/** What ECR would reject in a policy, or what it would read otherwise than meant, per its documented rules. */
export function policyProblems(policy: LifecyclePolicy): string[] {
  const problems: string[] = []
  const priorities = policy.rules.map(({ rulePriority }) => rulePriority)
  if (policy.rules.length === 0) problems.push('a lifecycle policy needs at least one rule')
  if (new Set(priorities).size !== priorities.length)
    problems.push(`rule priorities must be unique: ${priorities.join(', ')}`)
  const untagged = policy.rules.filter(({ selection }) => selection.tagStatus === 'untagged')
  if (untagged.length > 1) problems.push('only one rule may select untagged images')
  for (const { rulePriority: priority, selection } of policy.rules) {
    const patterns = selection.tagPatternList ?? []
    if (!Number.isInteger(priority) || priority < 1)
      problems.push(`rule ${priority}: rulePriority must be a whole number from 1`)
    if (selection.tagStatus === 'tagged' && patterns.length === 0)
      problems.push(`rule ${priority}: a tagged rule needs a tagPatternList`)
    if (selection.tagStatus === 'untagged' && patterns.length > 0)
      problems.push(`rule ${priority}: an untagged rule cannot list tags`)
    for (const pattern of patterns) {
      if ((pattern.match(/\*/g) ?? []).length > MAX_WILDCARDS)
        problems.push(`rule ${priority}: '${pattern}' has more than ${MAX_WILDCARDS} wildcards`)
    }
    if (!Number.isInteger(selection.countNumber) || selection.countNumber < 1)
      problems.push(`rule ${priority}: countNumber must be a whole number from 1`)
    if ((selection.countType === 'sinceImagePushed') !== (selection.countUnit === 'days'))
      problems.push(`rule ${priority}: countUnit days goes with sinceImagePushed, and only with it`)
  }
  const length = policyText(policy).length
  if (length > MAX_POLICY_LENGTH)
    problems.push(`the policy is ${length} characters; ECR takes at most ${MAX_POLICY_LENGTH}`)
  return problems
}

/**
 * How the registry's policy differs from the rendered one, compared as data (key order and spacing
 * do not count): one line per rule added, removed or changed, by priority.
 */
export function policyDifference(current: string | undefined, wanted: LifecyclePolicy): string[] {
  if (current === undefined) return ['the repository has no lifecycle policy']
  let parsed: unknown
  try {
    parsed = JSON.parse(current)
  } catch {
    return ['the repository has a lifecycle policy that is not JSON']
  }
  const rules = (policy: unknown): Map<number, string> => {
    const list = (policy as { rules?: unknown } | null)?.rules
    return new Map(
      (Array.isArray(list) ? list : []).map((rule: unknown) => [
        Number((rule as { rulePriority?: unknown } | null)?.rulePriority),
        canonical(rule)
      ])
    )
  }
  const [have, want] = [rules(parsed), rules(wanted)]
  const lines: string[] = []
  const priorities = [...new Set([...have.keys(), ...want.keys()])].sort((a, b) => a - b)
  for (const priority of priorities) {
    const [before, after] = [have.get(priority), want.get(priority)]
    if (before === after) continue
    lines.push(
      before === undefined
        ? `rule ${priority} missing: ${after}`
        : after === undefined
          ? `rule ${priority} not in the convention: ${before}`
          : `rule ${priority} is ${before}, the convention has ${after}`
    )
  }
  const extra = canonical({ ...(parsed as object), rules: undefined })
  if (extra !== '{}') lines.push(`the policy has other fields: ${extra}`)
  return lines
}

/** JSON with sorted keys, so two equal policies compare equal whatever their layout. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item
  )
}

/** One image ECR's preview of a policy says it would expire. */
export interface Expiring {
  readonly digest: string
  readonly tags: readonly string[]
  readonly rulePriority?: number
}

/** Whether the convention keeps an image that carries this tag: a protected tag or pattern, or a version. */
export function keepsTag(convention: Convention, cleanup: Cleanup): (tag: string) => boolean {
  const patterns = protectedPatterns(convention, cleanup)
  const versionOf = versionTagMatcher(convention.versionTag)
  return (tag) =>
    patterns.some((pattern) => matchesWildcard(pattern, tag)) ||
    parseVersion(versionOf(tag) ?? '') !== undefined
}

/**
 * The expiring images a policy must never touch: one that carries a tag the convention keeps, or one
 * the registry shows kept now (`kept`: digest → why), which the preview may predate.
 */
export function unsafeExpirations(
  expiring: readonly Expiring[],
  convention: Convention,
  cleanup: Cleanup,
  kept: ReadonlyMap<string, string>
): { image: Expiring; reason: string }[] {
  const keeps = keepsTag(convention, cleanup)
  return expiring.flatMap((image) => {
    const keptTag = image.tags.find(keeps)
    const reason =
      keptTag !== undefined
        ? `it carries ${keptTag}, which the convention keeps`
        : kept.get(image.digest)
    return reason === undefined ? [] : [{ image, reason }]
  })
}
