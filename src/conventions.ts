import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { parse } from 'yaml'
import schema from '../convention.schema.json' with { type: 'json' }
import type { Cleanup } from './lifecycle.js'
import { matchesWildcard } from './model.js'
import { templatePattern, templateVariables, versionTagMatcher } from './tags.js'
import { problemsError } from './problems.js'
import { parseVersion } from './version.js'

/**
 * A convention is plain data: which image a run starts from, and which tags each trigger derives.
 * The built-ins below are convention documents like any a team writes; `convention.schema.json`
 * describes the format.
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

/** `../shared/seeds/container-registry-strategy.md`: sha-<7 hex> builds, latest, deploy pointers, v<semver>. */
const ENVIRONMENTS = `
name: environments
build-tag: sha-{sha7}
version-tag: v{version}
rollback: production
withdrawn-tag: withdrawn-{version}
push: [latest]
release:
  - { tag: 'v{version}', kind: version }
  - { tag: production, kind: forward }
prerelease:
  - { tag: 'v{version}', kind: version }
promote:
  staging: [staging]
  canary: [canary]
  production:
    - { tag: production, kind: forward }
    - { tag: 'v{version}', kind: version, optional: true }
cleanup:
  protect: [production, staging, canary, latest]
  protect-releases: true
  keep-builds: 20
  expire-untagged-after-days: 7
gates:
  guard: [production]
  tested: { production: staging }
deployments: { production: production, staging: staging, canary: canary }
`

/** `../shared/seeds/docker-registry-and-image-versioning.md`: SemVer without v, edge, rc builds, stable, latest. */
const CHANNELS = `
name: channels
build-tag: '{service}-{branch}-{sha7}'
version-tag: '{version}'
rollback: stable
withdrawn-tag: withdrawn-{version}
push: [edge]
release:
  - { tag: '{version}', kind: version }
  - { tag: stable, kind: forward }
  - { tag: latest, kind: highest }
prerelease:
  - { tag: '{version}', kind: version }
promote:
  staging:
    - { tag: '{version}-rc.{build}', kind: version }
cleanup:
  protect: [stable, latest, edge]
  protect-releases: true
  expire-after-days: 90
  expire-untagged-after-days: 90
  keep-minor-versions: 5
gates:
  guard: [stable]
  tested: { stable: '{version}-rc.*' }
deployments: { stable: production }
`

const DEFAULT_WITHDRAWN_TAG = 'withdrawn-{version}'

/** The pointers that say what runs in production: the rollback pointer, the guarded ones, and those deployed to `production`. */
const productionPointers = (convention: Convention): string[] => [
  ...new Set([
    ...(convention.rollbackPointer ? [convention.rollbackPointer] : []),
    ...convention.gates.guard,
    ...Object.keys(convention.deployments).filter(
      (tag) => convention.deployments[tag] === 'production'
    )
  ])
]

/** Whether these plans write a production pointer: a person at a terminal is asked first. */
export const writesProduction = (
  convention: Convention,
  plans: readonly { steps: readonly { tag: string; write: boolean }[] }[]
): boolean =>
  plans.some(({ steps }) =>
    steps.some(({ tag, write }) => write && productionPointers(convention).includes(tag))
  )

export const BUILT_IN_CONVENTIONS: Readonly<Record<string, string>> = {
  environments: ENVIRONMENTS,
  channels: CHANNELS
}

/** Variables every trigger has; `{build}` and `{run_number}` are the workflow run number. */
const BUILD_VARIABLES = ['sha', 'sha7', 'branch', 'service', 'build', 'run_number', 'date']
const VERSION_VARIABLES = ['version', 'major', 'minor', 'patch', 'prerelease']
export const TEMPLATE_VARIABLES = [...BUILD_VARIABLES, ...VERSION_VARIABLES, 'environment']
const VARIABLES_BY_SECTION: Readonly<Record<string, readonly string[]>> = {
  'build-tag': BUILD_VARIABLES,
  push: BUILD_VARIABLES,
  release: [...BUILD_VARIABLES, ...VERSION_VARIABLES],
  prerelease: [...BUILD_VARIABLES, ...VERSION_VARIABLES],
  promote: TEMPLATE_VARIABLES
}

type RuleDocument = string | { tag: string; kind?: TagKind; optional?: boolean }
interface ConventionDocument {
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

/** Compiled on first use: only a convention file needs it, and compiling costs more than the rest of a run's start. */
let compiled: ValidateFunction<ConventionDocument> | undefined
const validator = (): ValidateFunction<ConventionDocument> =>
  (compiled ??= new Ajv({ allErrors: true }).compile<ConventionDocument>(schema))

/** `environments`, `channels`, or a path to a YAML or JSON convention file. */
export async function loadConvention(
  spec: string,
  readText: (path: string) => Promise<string>
): Promise<Convention> {
  if (Object.hasOwn(BUILT_IN_CONVENTIONS, spec)) return builtInConvention(spec)
  if (!/[/\\]|\.(ya?ml|json)$/.test(spec)) {
    throw new Error(
      `unknown convention '${spec}': use ${Object.keys(BUILT_IN_CONVENTIONS).join(' or ')}, or the path of a convention file such as .github/ecr-convention.yml`
    )
  }
  let text: string
  try {
    text = await readText(spec)
  } catch (error) {
    throw new Error(`cannot read convention file ${spec}: ${(error as Error).message}`, {
      cause: error
    })
  }
  return parseConvention(text, spec)
}

/** A built-in convention; a test checks each against the schema, so a run need not. */
export const builtInConvention = (name: string): Convention =>
  toConvention(parse(BUILT_IN_CONVENTIONS[name] as string) as ConventionDocument, name)

/** Parses and checks a convention document; every problem is named with its field. */
export function parseConvention(text: string, origin: string): Convention {
  let document: unknown
  try {
    document = parse(text)
  } catch (error) {
    const [where] = (error as Error).message.split(':\n')
    throw new Error(`convention ${origin} is not valid YAML or JSON: ${where}`, { cause: error })
  }
  const validate = validator()
  if (!validate(document)) throw conventionError(origin, schemaProblems(validate.errors ?? []))
  const problems = [...templateProblems(document), ...withdrawnTagProblems(document)]
  if (problems.length > 0) throw conventionError(origin, problems)
  return toConvention(document, origin)
}

function toConvention(document: ConventionDocument, origin: string): Convention {
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

/** Each template may use only the variables its trigger has, and must not start with `-` or `.`. */
function templateProblems(document: ConventionDocument): string[] {
  const templates: [field: string, section: string, template: string][] = [
    ['build-tag', 'build-tag', document['build-tag']],
    ['version-tag', 'release', document['version-tag']]
  ]
  const addRules = (field: string, section: string, list: RuleDocument[] = []) =>
    list.forEach((rule, index) =>
      templates.push([
        typeof rule === 'string' ? `${field}[${index}]` : `${field}[${index}].tag`,
        section,
        typeof rule === 'string' ? rule : rule.tag
      ])
    )
  for (const section of ['push', 'release', 'prerelease'] as const)
    addRules(section, section, document[section])
  for (const [environment, list] of Object.entries(document.promote ?? {})) {
    addRules(`promote.${environment}`, 'promote', list)
  }
  for (const [pointer, pattern] of Object.entries(document.gates?.tested ?? {}))
    templates.push([`gates.tested.${pointer}`, 'promote', pattern])
  return templates.flatMap(([field, section, template]) => {
    const available = VARIABLES_BY_SECTION[section] as readonly string[]
    const problems = templateVariables(template).flatMap((name) =>
      !TEMPLATE_VARIABLES.includes(name)
        ? [
            `${field}: {${name}} is not a template variable; use ${TEMPLATE_VARIABLES.map((v) => `{${v}}`).join(', ')}`
          ]
        : available.includes(name)
          ? []
          : [
              `${field}: {${name}} has no value there; available: ${available.map((v) => `{${v}}`).join(', ')}`
            ]
    )
    if (/^[-.]/.test(template))
      problems.push(`${field}: '${template}' starts with '${template[0]}', which a tag cannot`)
    return problems
  })
}

/**
 * The withdrawn mark must never read as a version tag or a build tag: a mark taken for a release
 * would make a withdrawn version look released twice, or a build look withdrawn.
 */
function withdrawnTagProblems(document: ConventionDocument): string[] {
  const template = document['withdrawn-tag'] ?? DEFAULT_WITHDRAWN_TAG
  const sample = template.replace('{version}', '1.2.3')
  const problems: string[] = []
  const read = versionTagMatcher(document['version-tag'])(sample)
  if (read !== undefined && parseVersion(read))
    problems.push(
      `withdrawn-tag: '${template}' renders tags that read as the version tag '${document['version-tag']}': add a prefix such as withdrawn-`
    )
  if (matchesWildcard(templatePattern(document['build-tag']), sample))
    problems.push(
      `withdrawn-tag: '${template}' renders tags that match the build tag '${document['build-tag']}'`
    )
  return problems
}

const FRIENDLY_PATTERNS: Readonly<Record<string, string>> = {
  [schema.definitions.template.pattern]:
    'must be a tag template: letters, digits, . _ - and {variables} such as {version} or {sha:7}',
  [schema.properties['version-tag'].pattern]:
    'must contain {version} exactly once, and no other variable',
  [schema.properties.rollback.pattern]: 'must be a valid tag (letters, digits, . _ -; at most 128)',
  [schema.properties.gates.properties.tested.additionalProperties.pattern]:
    'must be a tag or tag template, with * for any run of characters, such as staging or {version}-rc.*'
}

/** Turns schema errors into `field: what is wrong`, keeping the most specific error per field. */
function schemaProblems(errors: readonly ErrorObject[]): string[] {
  const informative = errors.filter(({ keyword }) => keyword !== 'oneOf')
  // A rule may be a string or an object, so a wrong rule fails both ways; keep the failure that explains it.
  const explained = (error: ErrorObject) =>
    informative.some(
      (other) =>
        other.instancePath.startsWith(`${error.instancePath}/`) ||
        (other.instancePath === error.instancePath && other.keyword !== 'type')
    )
  const specific = informative.filter((error) => error.keyword !== 'type' || !explained(error))
  return [
    ...new Set(
      specific.map((error) => {
        const field = fieldName(error.instancePath, error.params)
        switch (error.keyword) {
          case 'required':
            return `${field}: is required`
          case 'additionalProperties':
            return `${field}: is not a known field`
          case 'enum':
            return `${field}: must be one of ${(error.params.allowedValues as string[]).join(', ')}`
          case 'pattern':
            return `${field}: ${FRIENDLY_PATTERNS[error.params.pattern as string] ?? error.message}`
          case 'type':
            return `${field}: must be ${error.params.type === 'array' ? 'a list' : `a ${error.params.type}`}`
          default:
            return `${field}: ${error.message}`
        }
      })
    )
  ]
}

const conventionError = (origin: string, problems: readonly string[]): AggregateError =>
  problemsError(problems.map((problem) => `convention ${origin}: ${problem}`))

function fieldName(instancePath: string, params: ErrorObject['params']): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
  const named: unknown = params.missingProperty ?? params.additionalProperty ?? params.propertyName
  if (typeof named === 'string') parts.push(named)
  return (
    parts.reduce(
      (path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part),
      ''
    ) || '(document)'
  )
}
