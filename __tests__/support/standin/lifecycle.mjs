// @ts-check
/**
 * How ECR evaluates a lifecycle policy, written from the ECR User Guide ("Lifecycle policy
 * evaluation rules", "Lifecycle policy properties"), for the stand-in's preview.
 *
 * - Rules run from the lowest rulePriority up. A rule's tag selection picks images: `tagged` with a
 *   tagPrefixList or tagPatternList picks an image only when, for EVERY entry of the list, one of the
 *   image's tags starts with (prefix) or matches (pattern, `*` any run of characters) that entry;
 *   `untagged` picks images without tags; `any` picks every image.
 * - An image picked by a rule can never be expired by a rule of lower priority (a higher number),
 *   whether or not the rule that picked it expired it. A lower rule still counts it.
 * - imageCountMoreThan N: of the picked images, newest push first, those after the first N expire.
 *   sinceImagePushed N days: picked images pushed more than N days ago expire.
 * - An image that an image index kept by the policy references is not expired.
 *
 * Operations (API Reference: PutLifecyclePolicy, GetLifecyclePolicy, StartLifecyclePolicyPreview,
 * GetLifecyclePolicyPreview)
 * - PutLifecyclePolicy stores lifecyclePolicyText (100-30,720 characters, JSON with a non-empty
 *   `rules` list, else InvalidParameterException) and returns it; GetLifecyclePolicy returns it,
 *   or LifecyclePolicyNotFoundException when the repository has none.
 * - StartLifecyclePolicyPreview evaluates lifecyclePolicyText (default: the repository's policy,
 *   else LifecyclePolicyNotFoundException) against the images as they are then and answers
 *   IN_PROGRESS; another preview while one is in progress fails with
 *   LifecyclePolicyPreviewInProgressException.
 * - GetLifecyclePolicyPreview answers IN_PROGRESS once, then COMPLETE with previewResults
 *   (imageDigest, imageTags, imagePushedAt, action EXPIRE, appliedRulePriority), up to maxResults
 *   (1-100, default 100) a page with nextToken, and summary.expiringImageTotalCount. Without a
 *   preview: LifecyclePolicyPreviewNotFoundException.
 */

import { EcrError, invalidParameter, isObject } from './protocol.mjs'
import { wildcardMatch } from './repositories.mjs'

const DAY_MS = 86_400_000
/** LifecyclePolicyText: 100 to 30,720 characters (API Reference: PutLifecyclePolicy). */
const [MIN_POLICY_LENGTH, MAX_POLICY_LENGTH] = [100, 30_720]
/** Polls that answer IN_PROGRESS before a preview is COMPLETE, as ECR takes a while to evaluate. */
const PREVIEW_POLLS = 1
const PREVIEW_PAGE = 100

/**
 * @typedef {{ digest: string, tags: string[], pushedAt: number, children: string[] }} PolicyImage
 * @typedef {{ rulePriority: number, selection: { tagStatus: string, tagPrefixList?: string[],
 *   tagPatternList?: string[], countType: string, countNumber: number } }} PolicyRule
 */

/**
 * @param {PolicyRule['selection']} selection
 * @param {PolicyImage} image
 */
function picks(selection, image) {
  switch (selection.tagStatus) {
    case 'untagged':
      return image.tags.length === 0
    case 'any':
      return true
    default: {
      if (image.tags.length === 0) return false
      const prefixes = selection.tagPrefixList ?? []
      const patterns = selection.tagPatternList ?? []
      return (
        prefixes.every((prefix) => image.tags.some((tag) => tag.startsWith(prefix))) &&
        patterns.every((pattern) => image.tags.some((tag) => wildcardMatch(pattern, tag)))
      )
    }
  }
}

/**
 * The images a policy expires now, each with the priority of the rule that expires it.
 * @param {{ rules: PolicyRule[] }} policy
 * @param {PolicyImage[]} images
 * @param {number} now epoch ms
 * @returns {{ image: PolicyImage, rulePriority: number }[]}
 */
export function evaluatePolicy(policy, images, now) {
  const rules = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority)
  /** Images some earlier rule picked: no later rule may expire them. */
  const claimed = new Set()
  /** @type {Map<string, number>} */
  const expires = new Map()
  for (const { rulePriority, selection } of rules) {
    const picked = images
      .filter((image) => picks(selection, image))
      .sort((a, b) => b.pushedAt - a.pushedAt)
    const expiring =
      selection.countType === 'imageCountMoreThan'
        ? picked.slice(selection.countNumber)
        : picked.filter(({ pushedAt }) => now - pushedAt > selection.countNumber * DAY_MS)
    for (const image of expiring)
      if (!claimed.has(image.digest)) expires.set(image.digest, rulePriority)
    for (const image of picked) claimed.add(image.digest)
  }
  const keptChildren = new Set(
    images.filter(({ digest }) => !expires.has(digest)).flatMap(({ children }) => children)
  )
  return images.flatMap((image) => {
    const rulePriority = expires.get(image.digest)
    return rulePriority === undefined || keptChildren.has(image.digest)
      ? []
      : [{ image, rulePriority }]
  })
}

/**
 * @typedef {import('./repositories.mjs').StoredRepository & {
 *   lifecyclePolicy?: string,
 *   preview?: { text: string, polls: number, results: Record<string, unknown>[] }
 * }} PolicyRepository
 */

/** @param {unknown} text @returns {{ rules: PolicyRule[] }} */
function readPolicy(text) {
  if (
    typeof text !== 'string' ||
    text.length < MIN_POLICY_LENGTH ||
    text.length > MAX_POLICY_LENGTH
  )
    throw invalidParameter(
      "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint"
    )
  /** @type {unknown} */
  let policy
  try {
    policy = JSON.parse(text)
  } catch {
    throw invalidParameter(
      'Invalid parameter at LifecyclePolicyText failed to satisfy constraint: not JSON'
    )
  }
  if (!isObject(policy) || !Array.isArray(policy.rules) || policy.rules.length === 0)
    throw invalidParameter('Invalid parameter at LifecyclePolicyText: a policy needs rules')
  return /** @type {{ rules: PolicyRule[] }} */ (policy)
}

/**
 * The lifecycle operations over the stand-in's repositories.
 * @param {(input: Record<string, any>) => PolicyRepository} repositoryFor
 * @param {() => number} clock
 */
export function createLifecycleOperations(repositoryFor, clock) {
  /** @param {PolicyRepository} repository */
  const noPolicy = (repository) =>
    new EcrError(
      'LifecyclePolicyNotFoundException',
      `Lifecycle policy does not exist for the repository with name '${repository.name}'`
    )
  /** @satisfies {Record<string, import('./protocol.mjs').Operation>} */
  const operations = {
    PutLifecyclePolicy(input) {
      const repository = repositoryFor(input)
      readPolicy(input.lifecyclePolicyText)
      repository.lifecyclePolicy = input.lifecyclePolicyText
      return { repositoryName: repository.name, lifecyclePolicyText: input.lifecyclePolicyText }
    },

    GetLifecyclePolicy(input) {
      const repository = repositoryFor(input)
      if (repository.lifecyclePolicy === undefined) throw noPolicy(repository)
      return { repositoryName: repository.name, lifecyclePolicyText: repository.lifecyclePolicy }
    },

    StartLifecyclePolicyPreview(input) {
      const repository = repositoryFor(input)
      const text = input.lifecyclePolicyText ?? repository.lifecyclePolicy
      if (text === undefined) throw noPolicy(repository)
      if (repository.preview && repository.preview.polls < PREVIEW_POLLS)
        throw new EcrError(
          'LifecyclePolicyPreviewInProgressException',
          'A lifecycle policy preview is already in progress'
        )
      const images = [...repository.images.values()].map((image) => ({
        digest: image.digest,
        tags: [...image.tags].sort(),
        pushedAt: image.pushedAt * 1000,
        children: image.references
      }))
      const results = evaluatePolicy(readPolicy(text), images, clock()).map(
        ({ image, rulePriority }) => ({
          imageDigest: image.digest,
          imageTags: image.tags,
          imagePushedAt: image.pushedAt / 1000,
          action: { type: 'EXPIRE' },
          appliedRulePriority: rulePriority
        })
      )
      repository.preview = { text, polls: 0, results }
      return { repositoryName: repository.name, lifecyclePolicyText: text, status: 'IN_PROGRESS' }
    },

    GetLifecyclePolicyPreview(input) {
      const repository = repositoryFor(input)
      const preview = repository.preview
      if (!preview)
        throw new EcrError('LifecyclePolicyPreviewNotFoundException', 'There is no preview')
      const base = { repositoryName: repository.name, lifecyclePolicyText: preview.text }
      if (preview.polls++ < PREVIEW_POLLS) return { ...base, status: 'IN_PROGRESS' }
      const size = input.maxResults ?? PREVIEW_PAGE
      if (!Number.isInteger(size) || size < 1 || size > PREVIEW_PAGE)
        throw invalidParameter("Invalid parameter at 'maxResults' failed to satisfy constraint")
      const start = input.nextToken === undefined ? 0 : Number(input.nextToken)
      const end = start + size
      return {
        ...base,
        status: 'COMPLETE',
        previewResults: preview.results.slice(start, end),
        ...(end < preview.results.length && { nextToken: String(end) }),
        summary: { expiringImageTotalCount: preview.results.length }
      }
    }
  }
  return operations
}
