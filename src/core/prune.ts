import { protectedPatterns } from './lifecycle.js'
import { matchesWildcard, type ImageDetails } from './model.js'
import { versionTagMatcher } from './tags.js'
import { compareVersions, isStable, parseVersion, type Version } from './version.js'
import { type Convention } from './convention.js'

export interface PruneLimits {
  /** How many minor versions (major.minor lines with a stable release) to keep, newest first. */
  readonly keepMinorVersions: number
  /** Only images pushed more than this many days ago are deleted. */
  readonly olderThanDays: number
}

/** What a prune reads of one repository. */
export interface PruneState {
  /** Every tag and its digest. */
  readonly tags: ReadonlyMap<string, string>
  /** Push time and size of each release image, by digest. */
  readonly details: ReadonlyMap<string, ImageDetails>
  /** Platform images held by an index that stays: deleting one would break that index. */
  readonly keptChildren: ReadonlySet<string>
}

export interface PruneCandidate {
  readonly digest: string
  readonly versions: readonly string[]
  /** Every tag the image carried when last read, sorted: deleting them all deletes the image. */
  readonly tags: readonly string[]
  readonly pushedAt?: Date
  readonly sizeBytes?: number
}

export interface PrunePlan {
  readonly keptMinors: readonly string[]
  readonly delete: readonly PruneCandidate[]
}

const DAY_MS = 86_400_000
/** BatchDeleteImage takes at most 100 image ids a request. */
const REQUEST_IDS = 100

/**
 * The release images that fall outside the newest `keepMinorVersions` minor versions and are older
 * than the age limit. An image stays if any of its versions is in a kept minor, if it carries a
 * pointer or a protected tag, or if an index that stays holds it.
 */
export function planPrune(
  convention: Convention,
  limits: PruneLimits,
  state: PruneState,
  now: Date
): PrunePlan {
  const versionOf = versionTagMatcher(convention.versionTag)
  const versionsByDigest = new Map<string, Version[]>()
  // Releases are what a prune weighs, so only pointers and the protect list keep an image outright.
  const keptPatterns = protectedPatterns(convention, {
    protect: convention.cleanup?.protect ?? [],
    protectReleases: false
  })
  const protectedDigests = new Set<string>()
  for (const [tag, digest] of state.tags) {
    const version = parseVersion(versionOf(tag) ?? '')
    if (version) versionsByDigest.set(digest, [...(versionsByDigest.get(digest) ?? []), version])
    if (keptPatterns.some((pattern) => matchesWildcard(pattern, tag))) protectedDigests.add(digest)
  }
  const minorOf = ({ major, minor }: Version) => `${major}.${minor}`
  const stableMinors = [...versionsByDigest.values()]
    .flat()
    .filter(isStable)
    .sort((a, b) => compareVersions(b, a))
    .map(minorOf)
  const keptMinors = [...new Set(stableMinors)].slice(0, limits.keepMinorVersions)
  const lowestKept = keptMinors.at(-1)
  const kept = (version: Version) =>
    keptMinors.includes(minorOf(version)) ||
    // A prerelease of a minor newer than every kept one (or of any, before the first release) is on its way in.
    lowestKept === undefined ||
    compareMinor(version, lowestKept) > 0
  const cutoff = now.getTime() - limits.olderThanDays * DAY_MS
  const tagsOf = tagsByDigest(state.tags)
  const candidates = [...versionsByDigest].flatMap(([digest, versions]): PruneCandidate[] => {
    const details = state.details.get(digest)
    const pushedAt = details?.pushedAt
    const stays =
      versions.some(kept) ||
      protectedDigests.has(digest) ||
      state.keptChildren.has(digest) ||
      pushedAt === undefined ||
      pushedAt.getTime() > cutoff
    if (stays) return []
    return [
      {
        digest,
        versions: versions.map(({ text }) => text).sort(),
        tags: tagsOf.get(digest) ?? [],
        ...(pushedAt && { pushedAt }),
        ...(details?.sizeBytes !== undefined && { sizeBytes: details.sizeBytes })
      }
    ]
  })
  return { keptMinors, delete: candidates }
}

function compareMinor(version: Version, minor: string): number {
  const [major = 0, minorNumber = 0] = minor.split('.').map(Number)
  return version.major - major || version.minor - minorNumber
}

/** Each digest's tags, sorted. */
export function tagsByDigest(tags: ReadonlyMap<string, string>): Map<string, string[]> {
  const byDigest = new Map<string, string[]>()
  for (const [tag, digest] of tags) byDigest.set(digest, [...(byDigest.get(digest) ?? []), tag])
  for (const each of byDigest.values()) each.sort()
  return byDigest
}

/**
 * How a candidate changed since it was read, by a listing read since (`tags`, by digest) and the
 * plan made from it: the tags it gained, those it lost, or that it is no longer one to delete;
 * undefined while it carries the same tags and is still planned.
 */
export function changeOf(
  candidate: PruneCandidate,
  tags: ReadonlyMap<string, readonly string[]>,
  plan: PrunePlan
): string | undefined {
  const now = tags.get(candidate.digest) ?? []
  const gained = gainedBy(candidate, now)
  if (gained) return gained
  const lost = candidate.tags.filter((tag) => !now.includes(tag))
  if (lost.length > 0) return `it lost ${lost.join(', ')}`
  if (!plan.delete.some(({ digest }) => digest === candidate.digest))
    return 'it is no longer one to delete'
  return undefined
}

/**
 * Why an image whose tags were all sent for deletion is still listed, carrying `now`: the tags it
 * gained meanwhile (ECR keeps an image while it has one), or those ECR did not remove.
 */
export const stayedBecause = (candidate: PruneCandidate, now: readonly string[]): string =>
  gainedBy(candidate, now) ?? `ECR did not remove ${now.join(', ')}`

const gainedBy = (candidate: PruneCandidate, now: readonly string[]): string | undefined => {
  const gained = now.filter((tag) => !candidate.tags.includes(tag))
  return gained.length > 0 ? `it gained ${gained.join(', ')}` : undefined
}

/**
 * The candidates the next BatchDeleteImage request takes, in plan order: as many as fit with all
 * their tags, or a candidate alone whose tags need more than one request.
 */
export function nextBatch(candidates: readonly PruneCandidate[]): PruneCandidate[] {
  const batch: PruneCandidate[] = []
  let ids = 0
  for (const candidate of candidates) {
    if (batch.length > 0 && ids + candidate.tags.length > REQUEST_IDS) continue
    batch.push(candidate)
    ids += candidate.tags.length
    if (ids >= REQUEST_IDS) break
  }
  return batch
}
