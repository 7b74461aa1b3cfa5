// Only the comparison: the package's index evaluates all of semver (ranges too) at every start.
import compare from 'semver/functions/compare.js'

/** A release version as it appears in tags: strict SemVer, no leading `v`, build metadata dropped. */
export interface Version {
  text: string
  major: number
  minor: number
  patch: number
  prerelease: string
}

// semver.org's own grammar; `semver.parse` alone accepts loose forms such as `=1.2.3` or ` 1.2.3`.
const STRICT_SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/

/** The largest MAJOR, MINOR or PATCH that semver orders; it throws on a larger one. */
const MAX_NUMBER = Number.MAX_SAFE_INTEGER

/**
 * Parses `1.2.3` or `1.2.3-rc.1+build.5`; returns undefined for anything that is not strict SemVer,
 * or whose MAJOR, MINOR or PATCH is larger than semver orders.
 */
export function parseVersion(input: string): Version | undefined {
  const match = STRICT_SEMVER.exec(input)
  if (!match) return undefined
  const [, major, minor, patch, prerelease = ''] = match
  const numbers = [major, minor, patch].map(Number) as [number, number, number]
  if (numbers.some((number) => number > MAX_NUMBER)) return undefined
  const text = `${major}.${minor}.${patch}${prerelease ? `-${prerelease}` : ''}`
  return { text, major: numbers[0], minor: numbers[1], patch: numbers[2], prerelease }
}

/** A version a user typed: strict SemVer with an optional `v` prefix. */
export function requireVersion(input: string, what: string): Version {
  const text = input.startsWith('v') ? input.slice(1) : input
  const version = parseVersion(text)
  if (!version) {
    throw new Error(
      STRICT_SEMVER.test(text)
        ? `${what} '${input}' is out of range: MAJOR, MINOR and PATCH are each at most ${MAX_NUMBER}`
        : `${what} '${input}' is not a semantic version: expected MAJOR.MINOR.PATCH with an optional v prefix and -prerelease, such as v1.2.0 or 1.2.0-rc.1`
    )
  }
  return version
}

export const isStable = (version: Version): boolean => version.prerelease === ''

export const compareVersions = (a: Version, b: Version): number => compare(a.text, b.text)

export function highestVersion(versions: Iterable<Version>): Version | undefined {
  let highest: Version | undefined
  for (const version of versions) {
    if (!highest || compareVersions(version, highest) > 0) highest = version
  }
  return highest
}
