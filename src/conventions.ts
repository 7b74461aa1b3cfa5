/**
 * A convention is plain data: which image a run starts from, and which tags each trigger derives.
 *
 * Tag kinds:
 * - `plain`: points at this run's image, wherever it pointed before (`latest` on a merge to main).
 * - `version`: names one release; created once and never moved (a run that would move it fails before writing).
 * - `forward`: a deploy pointer; moves only when this run's version is not lower than the version it
 *   carries now. Only an explicit rollback moves it back.
 */
export type TagKind = 'plain' | 'version' | 'forward'

export interface TagRule {
  /** A template such as `v{version}`; see `renderTemplate` for the variables. */
  readonly tag: string
  readonly kind: TagKind
}

export interface Convention {
  readonly name: string
  /** The tag CI pushes for every build; the image every promotion starts from. */
  readonly buildTag: string
  /** How a version appears as a tag; used to find released versions and rollback targets. */
  readonly versionTag: string
  /** The deploy pointer a rollback re-points. */
  readonly rollbackPointer: string
  /** Push to the default branch. A push to any other branch only checks that the build image exists. */
  readonly push: readonly TagRule[]
  readonly release: readonly TagRule[]
  readonly prerelease: readonly TagRule[]
  /** Promotion targets by environment name. */
  readonly promote: Readonly<Record<string, readonly TagRule[]>>
}

const versionTag = { tag: 'v{version}', kind: 'version' } as const
const production = { tag: 'production', kind: 'forward' } as const

/** `../shared/seeds/container-registry-strategy.md`: sha-<7 hex> builds, latest, deploy pointers, v<semver>. */
export const environments: Convention = {
  name: 'environments',
  buildTag: 'sha-{sha7}',
  versionTag: versionTag.tag,
  rollbackPointer: production.tag,
  push: [{ tag: 'latest', kind: 'plain' }],
  release: [versionTag, production],
  prerelease: [versionTag],
  promote: {
    staging: [{ tag: 'staging', kind: 'plain' }],
    canary: [{ tag: 'canary', kind: 'plain' }],
    production: [production, versionTag]
  }
}

const BUILT_IN: Readonly<Record<string, Convention>> = { environments }

export function loadConvention(name: string): Convention {
  const convention = BUILT_IN[name]
  if (!convention) {
    throw new Error(
      `unknown convention '${name}': the built-in conventions are ${Object.keys(BUILT_IN).join(', ')}`
    )
  }
  return convention
}
