/**
 * A convention is plain data: which image a run starts from, and which tags each trigger derives.
 * The built-ins (`conventions.ts`) are convention documents like any a team writes;
 * `convention.schema.json` describes the format.
 *
 * Tag kinds:
 * - `plain`: points at this run's image, wherever it pointed before (`latest` on a merge to main).
 * - `version`: names one release; created once and never moved (a run that would move it fails before writing).
 * - `forward`: a deploy pointer; moves only when this run's version is not lower than the version it
 *   carries now. Only an explicit rollback moves it back.
 * - `highest`: a floating tag that moves only when this run's stable version is the highest in its
 *   line: every version (`latest`), one major (`{major}`), or one minor (`{major}.{minor}`).
 */
export type TagKind = 'plain' | 'version' | 'forward' | 'highest'

export interface TagRule {
  /** A template such as `v{version}`. */
  readonly tag: string
  readonly kind: TagKind
  /** Left out, instead of failing the run, when the run lacks a value the template needs. */
  readonly optional: boolean
}

export interface Convention {
  readonly name: string
  /** The tag CI pushes for every build; the image every push, release and promotion starts from. */
  readonly buildTag: string
  /** How a version appears as a tag; used to find released versions and rollback targets. */
  readonly versionTag: string
  /** The deploy pointer a rollback re-points; a convention without one has no rollback. */
  readonly rollbackPointer?: string
  /** Push to the default branch. A push to any other branch only checks that the build image exists. */
  readonly push: readonly TagRule[]
  readonly release: readonly TagRule[]
  readonly prerelease: readonly TagRule[]
  /** Promotion targets by environment name. */
  readonly promote: Readonly<Record<string, readonly TagRule[]>>
  /** What the lifecycle policy keeps and expires, and what `prune` keeps; none means no cleanup. */
  readonly cleanup?: Cleanup
  /** Which pointers the scan and signature gates guard, and where each pointer's image must be tested. */
  readonly gates: Gates
  /**
   * The mark a rollback tags the image it rolls back from with, such as `withdrawn-{version}`: it is
   * in the registry, on the image, so every later run sees that the version was withdrawn.
   */
  readonly withdrawnTag: string
  /** By pointer: the GitHub environment a move of that pointer is recorded in as a deployment. */
  readonly deployments: Readonly<Record<string, string>>
}

export interface Gates {
  /** Pointer tags whose moves the scan and signature gates check. */
  readonly guard: readonly string[]
  /**
   * By pointer: the tag (or template with `*`, such as `{version}-rc.*`) the image must carry before
   * `require-tested` lets the pointer move to it. The same digest, so the very image that was tested.
   */
  readonly tested: Readonly<Record<string, string>>
}

/** What a convention keeps and what it lets ECR expire. */
export interface Cleanup {
  /** Tags or `*` patterns whose images are kept forever, besides the convention's own pointers. */
  readonly protect: readonly string[]
  /** Keep every image that carries a version tag (releases and prereleases) forever. */
  readonly protectReleases: boolean
  /** How many of the newest build-tagged images to keep. */
  readonly keepBuilds?: number
  /** Days after its push that any other tagged image expires; also the age `prune` requires. */
  readonly expireAfterDays?: number
  readonly expireUntaggedAfterDays?: number
  /** How many minor versions `prune` keeps. */
  readonly keepMinorVersions?: number
}

/** A convention as its file says it (`convention.schema.json`); `toConvention` reads it. */
export type RuleDocument = string | { tag: string; kind?: TagKind; optional?: boolean }
export interface ConventionDocument {
  name?: string
  'build-tag': string
  'version-tag': string
  rollback?: string
  'withdrawn-tag'?: string
  push?: RuleDocument[]
  release?: RuleDocument[]
  prerelease?: RuleDocument[]
  promote?: Record<string, RuleDocument[]>
  cleanup?: {
    protect?: string[]
    'protect-releases'?: boolean
    'keep-builds'?: number
    'expire-after-days'?: number
    'expire-untagged-after-days'?: number
    'keep-minor-versions'?: number
  }
  gates?: { guard?: string[]; tested?: Record<string, string> }
  deployments?: Record<string, string>
}

/** The mark a convention without `withdrawn-tag` uses. */
export const DEFAULT_WITHDRAWN_TAG = 'withdrawn-{version}'

export function toConvention(document: ConventionDocument, origin: string): Convention {
  const rules = (list: RuleDocument[] = []): TagRule[] =>
    list.map((rule) =>
      typeof rule === 'string'
        ? { tag: rule, kind: 'plain', optional: false }
        : { tag: rule.tag, kind: rule.kind ?? 'plain', optional: rule.optional ?? false }
    )
  return {
    name: document.name ?? origin,
    buildTag: document['build-tag'],
    versionTag: document['version-tag'],
    ...(document.rollback && { rollbackPointer: document.rollback }),
    push: rules(document.push),
    release: rules(document.release),
    prerelease: rules(document.prerelease),
    promote: Object.fromEntries(
      Object.entries(document.promote ?? {}).map(([name, list]) => [name, rules(list)])
    ),
    ...(document.cleanup && { cleanup: toCleanup(document.cleanup) }),
    gates: { guard: document.gates?.guard ?? [], tested: document.gates?.tested ?? {} },
    withdrawnTag: document['withdrawn-tag'] ?? DEFAULT_WITHDRAWN_TAG,
    deployments: document.deployments ?? {}
  }
}

function toCleanup(document: NonNullable<ConventionDocument['cleanup']>): Cleanup {
  const number = (field: keyof typeof document, name: keyof Cleanup) => {
    const value = document[field]
    return typeof value === 'number' ? { [name]: value } : {}
  }
  return {
    protect: document.protect ?? [],
    protectReleases: document['protect-releases'] ?? true,
    ...number('keep-builds', 'keepBuilds'),
    ...number('expire-after-days', 'expireAfterDays'),
    ...number('expire-untagged-after-days', 'expireUntaggedAfterDays'),
    ...number('keep-minor-versions', 'keepMinorVersions')
  }
}
