import type { Convention } from './conventions.js'
import { protectedPatterns } from './lifecycle.js'
import { matchesWildcard, type ImageDetails } from './model.js'
import { versionTagMatcher } from './tags.js'
import { compareVersions, isStable, parseVersion, type Version } from './version.js'

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
  readonly pushedAt?: Date
  readonly sizeBytes?: number
}

export interface PrunePlan {
  readonly keptMinors: readonly string[]
  readonly delete: readonly PruneCandidate[]
}

const DAY_MS = 86_400_000

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
