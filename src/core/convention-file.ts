/** A convention file: parsed (YAML or JSON), checked against the schema and the rules of tags. */
import type { ErrorObject, ValidateFunction } from 'ajv'
import { parse } from 'yaml'
import schema from '../../convention.schema.json' with { type: 'json' }
import { validate as validateSchema } from './convention.validate.js'
import { versionValues } from './derive.js'
import {
  DEFAULT_WITHDRAWN_TAG,
  toConvention,
  type Convention,
  type ConventionDocument,
  type RuleDocument,
  type TagRule
} from './convention.js'
import { matchesWildcard, messageOf } from './model.js'
import {
  anyRun,
  renderTemplate,
  runVariables,
  templatePattern,
  templateVariables,
  versionTagMatcher,
  type TemplateValues
} from './tags.js'
import { problemsError } from './problems.js'
import { parseVersion, requireVersion, type Version } from './version.js'

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

const validate = validateSchema as ValidateFunction<ConventionDocument>

/** Parses and checks a convention document; every problem is named with its field. */
export function parseConvention(text: string, origin: string): Convention {
  let document: unknown
  try {
    document = parse(text)
  } catch (error) {
    const [where] = messageOf(error).split(':\n')
    throw new Error(`convention ${origin} is not valid YAML or JSON: ${where}`, { cause: error })
  }
  if (!validate(document)) throw conventionError(origin, schemaProblems(validate.errors ?? []))
  const problems = [
    ...templateProblems(document),
    ...withdrawnTagProblems(document),
    ...buildTagProblems(document)
  ]
  if (problems.length > 0) throw conventionError(origin, problems)
  const convention = toConvention(document, origin)
  const conflicts = ruleProblems(convention)
  if (conflicts.length > 0) throw conventionError(origin, conflicts)
  return convention
}

/** A commit hash's length, which a `{sha:N}` cannot exceed. */
const SHA_LENGTH = 40

/**
 * Each template may use only the variables its trigger has, must not start with `-` or `.`, and may
 * take no more of the sha than there is.
 */
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
    for (const [placeholder, length] of template.matchAll(/\{sha:(\d+)\}/g))
      if (Number(length) > SHA_LENGTH)
        problems.push(
          `${field}: ${placeholder} takes more characters than a commit hash has (${SHA_LENGTH})`
        )
    return problems
  })
}

/**
 * A build tag with run variables is found again by its other parts, which must name one commit: a
 * release cannot know the date or run number of the build it starts from.
 */
function buildTagProblems(document: ConventionDocument): string[] {
  const template = document['build-tag']
  const runOnly = runVariables(template).map((name) => `{${name}}`)
  const variables = templateVariables(template)
  if (runOnly.length === 0 || variables.includes('sha') || variables.includes('sha7')) return []
  return [
    `build-tag: '${template}' uses ${runOnly.join(', ')}, which only the build's own run knows: a later run finds the build by the tag's other parts, and without {sha} or {sha7} they name no commit; add one, such as '${template}-{sha7}'`
  ]
}

/** Build values for checking rules: each distinct, so two templates render alike only where a run can make them. */
const SAMPLE: TemplateValues = {
  sha: '0123456789abcdef0123456789abcdef01234567',
  sha7: '0123456',
  branch: 'sample-branch',
  service: 'sample-service',
  build: '4242',
  run_number: '4242',
  date: '20260102'
}
/** A stable and a prerelease version, which rules render differently. */
const [STABLE, PRERELEASE] = ['1.2.3', '1.2.3-rc.1'].map((text) =>
  requireVersion(text, 'sample')
) as [Version, Version]

/**
 * What would corrupt a run of one event, found by rendering its rules with sample values: two rules
 * for one tag (a plain one would move a pointer its pointer rule holds), a rule for the build tag or
 * for a withdrawn mark, a rule that would move a version tag. One problem a rule.
 */
function ruleProblems(convention: Convention): string[] {
  // A release of a prerelease version is a prerelease; so is a stable one with GitHub's prerelease flag.
  const events: [string, readonly TagRule[], (Version | undefined)[], string?][] = [
    ['push', convention.push, [undefined]],
    ['release', convention.release, [STABLE]],
    ['prerelease', convention.prerelease, [STABLE, PRERELEASE]],
    ...Object.entries(convention.promote).map(
      ([environment, rules]): [string, readonly TagRule[], Version[], string] => [
        `promote.${environment}`,
        rules,
        [STABLE, PRERELEASE],
        environment
      ]
    )
  ]
  const problems = new Map<string, string>()
  for (const [event, rules, versions, environment] of events)
    for (const version of versions) {
      const first = new Map<string, number>()
      rules.forEach((rule, index) => {
        const tag = renderTemplate(rule.tag, { ...SAMPLE, environment, ...versionValues(version) })
        if (tag === undefined) return
        const earlier = first.get(tag)
        if (earlier === undefined) first.set(tag, index)
        const field = `${event}[${index}]`
        const problem =
          tagProblem(convention, rule, tag) ??
          (earlier === undefined
            ? undefined
            : sameTagProblem(
                event,
                [earlier, rules[earlier] as TagRule],
                [index, rule],
                tag,
                version
              ))
        if (problem && !problems.has(field)) problems.set(field, `${field}: ${problem}`)
      })
    }
  return [...problems.values()]
}

/** Why a rule must not render this tag, if it must not: it reads as a tag the run treats apart. */
function tagProblem(convention: Convention, rule: TagRule, tag: string): string | undefined {
  if (matchesWildcard(renderTemplate(convention.buildTag, anyRun(SAMPLE)) as string, tag))
    return `renders '${tag}', which reads as the build tag '${convention.buildTag}': every later run of that commit would start from where this rule moved it; use another tag`
  const withdrawn = parseVersion(versionTagMatcher(convention.withdrawnTag)(tag) ?? '')
  if (withdrawn)
    return `renders '${tag}', the withdrawn mark of ${withdrawn.text} (withdrawn-tag '${convention.withdrawnTag}'): every later run would take ${withdrawn.text} as withdrawn by a rollback; use another tag`
  const released = parseVersion(versionTagMatcher(convention.versionTag)(tag) ?? '')
  if (released && rule.kind !== 'version')
    return `renders '${tag}', the version tag of ${released.text} (version-tag '${convention.versionTag}'), but is kind ${rule.kind}: a version tag never moves, so make it kind: version`
  return undefined
}

/** Two rules of one event that render one tag: the later one is the problem. */
function sameTagProblem(
  event: string,
  [earlier, other]: [number, TagRule],
  [index, rule]: [number, TagRule],
  tag: string,
  version: Version | undefined
): string {
  const byVersion = [other, rule].some(({ tag: template }) =>
    templateVariables(template).some((name) => VERSION_VARIABLES.includes(name))
  )
  const when = version && byVersion && other.tag !== rule.tag ? ` for version ${version.text}` : ''
  const same = `renders '${tag}' as ${event}[${earlier}] does${when}`
  const pointer = [other, rule].find(({ kind }) => kind === 'forward' || kind === 'highest')
  const plain = [other, rule].find(({ kind }) => kind === 'plain')
  if (!pointer || !plain) return `${same}: an event writes each tag once; keep one rule`
  const pointerField = `${event}[${pointer === other ? earlier : index}]`
  return `${same}, which ${pointerField} makes a ${pointer.kind} pointer: the plain rule would move it backwards, which only a rollback may; keep one rule`
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
          case 'maxItems':
            return `${field}: lists more than ${error.params.limit} rules: ECR allows 1,000 tags per image, and the build tag is one of them`
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
