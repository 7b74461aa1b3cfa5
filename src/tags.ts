/** OCI distribution-spec tag grammar, which ECR enforces. */
export const TAG_GRAMMAR = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/

/** ECR repository names: lowercase path components separated by `/`, 2 to 256 characters. */
const REPOSITORY_GRAMMAR = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/

export const isValidTag = (tag: string): boolean => TAG_GRAMMAR.test(tag)

export const isValidRepositoryName = (name: string): boolean =>
  name.length >= 2 && name.length <= 256 && REPOSITORY_GRAMMAR.test(name)

export type TemplateValues = Readonly<Record<string, string | undefined>>

const PLACEHOLDER = /\{([a-z_][a-z0-9_]*)(?::(\d+))?\}/g

/** The variables a template uses, such as `version` for `v{version}`. */
export function templateVariables(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map(([, name]) => name as string)
}

/**
 * Renders `{name}` and `{name:N}` (the first N characters) placeholders.
 * Returns undefined when a variable has no value in this run, so the caller can leave that tag out.
 */
export function renderTemplate(template: string, values: TemplateValues): string | undefined {
  let missing = false
  const rendered = template.replace(PLACEHOLDER, (_, name: string, length?: string) => {
    if (!(name in values))
      throw new Error(`tag template '${template}' uses unknown variable {${name}}`)
    const value = values[name]
    if (value === undefined) missing = true
    return length === undefined ? (value ?? '') : (value ?? '').slice(0, Number(length))
  })
  return missing ? undefined : rendered
}

/** Renders a template that must yield a valid tag in this run. */
export function renderTag(template: string, values: TemplateValues): string | undefined {
  const tag = renderTemplate(template, values)
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
