import { createHash } from 'node:crypto'
import { escapeRegExp } from './model.js'

/** OCI distribution-spec tag grammar, which ECR enforces. */
export const TAG_GRAMMAR = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/
const MAX_TAG_LENGTH = 128

/** ECR repository names: lowercase path components separated by `/`, 2 to 256 characters. */
const REPOSITORY_GRAMMAR = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/

export const isValidTag = (tag: string): boolean => TAG_GRAMMAR.test(tag)

export const isValidRepositoryName = (name: string): boolean =>
  name.length >= 2 && name.length <= 256 && REPOSITORY_GRAMMAR.test(name)

const shortHash = (value: string): string =>
  createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 8)

/**
 * Makes any string, such as a branch name, safe inside a tag: accents are transliterated, other
 * non-ASCII is dropped, runs of characters a tag cannot hold become `-`, and a leading `-` or `.`
 * is dropped. A value with nothing left becomes a short hash of itself.
 */
export function sanitizeTagPart(value: string): string {
  const ascii = value
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\x20-\x7e]/g, '')
  const cleaned = ascii.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '')
  return cleaned || shortHash(value)
}

/** Shortens a value to `length` characters, ending in a hash of the whole so that two long values never collide. */
function shorten(value: string, length: number): string {
  const hash = shortHash(value)
  return length <= hash.length
    ? hash.slice(0, Math.max(length, 1))
    : `${value.slice(0, length - hash.length - 1)}-${hash}`
}

export type TemplateValues = Readonly<Record<string, string | undefined>>

const PLACEHOLDER = /\{([a-z_][a-z0-9_]*)(?::(\d+))?\}/g

/** The variables a template uses, such as `version` for `v{version}`. */
export function templateVariables(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map(([, name]) => name as string)
}

/**
 * Variables whose value belongs to the run that renders them (`{build}` and `{run_number}` are its
 * number, `{date}` its day): a later run cannot render again a tag a build rendered with them.
 */
const RUN_VARIABLES: readonly string[] = ['date', 'run_number', 'build']

export const runVariables = (template: string): string[] =>
  templateVariables(template).filter((name) => RUN_VARIABLES.includes(name))

/**
 * The values that render a template into an ECR wildcard pattern matching what it rendered in any
 * run with these values otherwise: each run variable is `*`, so `build-{date}-{sha:10}` renders
 * `build-*-0123456789`, which matches that commit's build of any day.
 */
export const anyRun = (values: TemplateValues): TemplateValues => ({
  ...values,
  ...Object.fromEntries(RUN_VARIABLES.map((name) => [name, '*']))
})

/**
 * An ECR wildcard pattern matching every tag a template renders: `{version}` (at least
 * major.minor.patch) becomes `*.*.*`, any other variable `*`.
 */
export const templatePattern = (template: string): string =>
  template
    .replace(PLACEHOLDER, (_, name: string) => (name === 'version' ? '*.*.*' : '*'))
    .replace(/\*{2,}/g, '*')

/**
 * Renders `{name}` and `{name:N}` (the first N characters) placeholders.
 * Returns undefined when a variable has no value in this run.
 */
export function renderTemplate(template: string, values: TemplateValues): string | undefined {
  let missing = false
  const rendered = template.replace(PLACEHOLDER, (_, name: string, length?: string) => {
    if (!Object.hasOwn(values, name))
      throw new Error(`tag template '${template}' uses unknown variable {${name}}`)
    const value = values[name]
    if (value === undefined) missing = true
    // A commit names one build: a shorter sha would render a tag that no build pushed.
    if (
      name === 'sha' &&
      value !== undefined &&
      length !== undefined &&
      value.length < Number(length)
    )
      throw new Error(
        `sha '${value}' has ${value.length} characters, but the tag template '${template}' takes ${length}: pass the full commit hash as sha`
      )
    return length === undefined ? (value ?? '') : (value ?? '').slice(0, Number(length))
  })
  return missing ? undefined : rendered
}

/**
 * Renders a template into a valid tag. A tag longer than 128 characters gets its `{branch}` shortened
 * (with a hash suffix); anything else that is not a valid tag is an error.
 * Returns undefined when a variable has no value in this run.
 */
export function renderTag(template: string, values: TemplateValues): string | undefined {
  let tag = renderTemplate(template, values)
  const branch = values.branch
  const branchUses = templateVariables(template).filter((name) => name === 'branch').length
  if (tag !== undefined && tag.length > MAX_TAG_LENGTH && branch && branchUses > 0) {
    const excess = Math.ceil((tag.length - MAX_TAG_LENGTH) / branchUses)
    tag = renderTemplate(template, { ...values, branch: shorten(branch, branch.length - excess) })
  }
  if (tag !== undefined && !isValidTag(tag)) {
    throw new Error(
      `tag template '${template}' renders '${tag}', which is not a valid image tag (${TAG_GRAMMAR.source})`
    )
  }
  return tag
}

/** Matches tags rendered from a version template such as `v{version}` and returns the version text. */
export function versionTagMatcher(template: string): (tag: string) => string | undefined {
  const [before, after, ...rest] = template.split('{version}')
  if (
    before === undefined ||
    after === undefined ||
    rest.length > 0 ||
    templateVariables(before + after).length > 0
  ) {
    throw new Error(
      `version tag template '${template}' must contain {version} exactly once and no other variable`
    )
  }
  return (tag) =>
    tag.startsWith(before) && tag.endsWith(after) && tag.length > before.length + after.length
      ? tag.slice(before.length, tag.length - after.length)
      : undefined
}

/**
 * The commit a build tag names, such as `abcdef1` from `sha-abcdef1` with `sha-{sha7}`: as much of
 * the hash as the template keeps. Undefined when the tag is not one the template renders.
 */
export function commitOfBuildTag(template: string, tag: string): string | undefined {
  let pattern = ''
  let end = 0
  let groups = 0
  let commitGroup: number | undefined
  for (const match of template.matchAll(PLACEHOLDER)) {
    const [text, name, length] = match
    pattern += escapeRegExp(template.slice(end, match.index))
    end = match.index + text.length
    groups += 1
    if ((name === 'sha' || name === 'sha7') && commitGroup === undefined) {
      commitGroup = groups
      // As renderTemplate keeps it: `{sha7:N}` is the first N of the seven.
      const kept = name === 'sha7' ? Math.min(Number(length ?? 7), 7) : Number(length ?? 40)
      pattern += `([0-9a-f]{${kept}})`
    } else pattern += '(.+?)'
  }
  if (commitGroup === undefined) return undefined
  pattern += escapeRegExp(template.slice(end))
  return new RegExp(`^${pattern}$`).exec(tag)?.[commitGroup]
}

/** The tag cosign stores a digest's signature (or its attestations, or SBOM) under: `sha256-<hex>.sig`. */
export const cosignTag = (digest: string, kind: 'sig' | 'att' | 'sbom' = 'sig'): string =>
  `${digest.replace(':', '-')}.${kind}`
