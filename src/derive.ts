import type { Convention, TagKind, TagRule } from './conventions.js'
import { renderTag, templateVariables, type TemplateValues } from './tags.js'
import type { Trigger } from './trigger.js'
import type { Version } from './version.js'

/** The image a run starts from. */
export type SourceRef =
  | { readonly tag: string }
  | { readonly digest: string }
  /** Rollback to `previous`: the highest stable version below the one the pointer carries now. */
  | { readonly previousVersionOf: string }

export interface Target {
  readonly tag: string
  /** `rollback` moves the pointer in either direction. */
  readonly kind: TagKind | 'rollback'
}

/** What one repository should look like after this run, before the registry is consulted. */
export interface Intent {
  readonly repository: string
  readonly source: SourceRef
  readonly targets: readonly Target[]
  /** The version this run releases, promotes or rolls back to, where one applies. */
  readonly version?: Version
  /** The tag whose previous digest the run reports. */
  readonly pointer?: string
  /** The convention's version tag template, for reading versions off the registry. */
  readonly versionTag: string
}

export interface RunValues {
  readonly repository: string
  /** The commit built, when known; the build tag needs it. */
  readonly sha?: string
  readonly service: string
  /** `source` input: a tag or `sha256:` digest overriding the convention's build tag. */
  readonly source: string
}

export function derive(convention: Convention, trigger: Trigger, run: RunValues): Intent {
  const version = versionOf(trigger)
  const values: TemplateValues = {
    sha: run.sha,
    sha7: run.sha?.slice(0, 7),
    service: run.service,
    branch: trigger.event === 'push' ? trigger.branch : undefined,
    environment: trigger.event === 'promote' ? trigger.environment : undefined,
    version: version?.text,
    major: version && String(version.major),
    minor: version && String(version.minor),
    patch: version && String(version.patch),
    prerelease: version?.prerelease || undefined
  }
  const render = (template: string): string => {
    const tag = renderTag(template, values)
    if (tag === undefined) {
      const missing = templateVariables(template).filter((name) => values[name] === undefined)
      throw new Error(
        `tag template '${template}' needs {${missing.join('}, {')}}, which this run does not have`
      )
    }
    return tag
  }
  const buildSource = (): SourceRef =>
    sourceFromInput(run.source) ?? { tag: render(convention.buildTag) }
  const common = {
    repository: run.repository,
    versionTag: convention.versionTag,
    ...(version && { version })
  }

  switch (trigger.event) {
    case 'push':
      return {
        ...common,
        source: buildSource(),
        targets: trigger.defaultBranch ? renderRules(convention.push, values) : []
      }
    case 'release': {
      const targets = renderRules(
        trigger.prerelease ? convention.prerelease : convention.release,
        values
      )
      const pointer = targets.find((target) => target.kind === 'forward')?.tag
      return { ...common, source: buildSource(), targets, ...(pointer && { pointer }) }
    }
    case 'promote': {
      const rules = convention.promote[trigger.environment]
      if (!rules) {
        throw new Error(
          `the ${convention.name} convention has no promotion to '${trigger.environment}': it knows ${Object.keys(convention.promote).join(', ')}`
        )
      }
      const targets = renderRules(rules, values)
      return {
        ...common,
        source: buildSource(),
        targets,
        ...(targets[0] && { pointer: targets[0].tag })
      }
    }
    case 'rollback': {
      const pointer = convention.rollbackPointer
      const source = version
        ? { tag: render(convention.versionTag) }
        : { previousVersionOf: pointer }
      return { ...common, source, targets: [{ tag: pointer, kind: 'rollback' }], pointer }
    }
  }
}

/** Rules whose template needs a value this run lacks (`v{version}` on a promotion without a version) are left out. */
function renderRules(rules: readonly TagRule[], values: TemplateValues): Target[] {
  return rules.flatMap((rule) => {
    const tag = renderTag(rule.tag, values)
    return tag === undefined ? [] : [{ tag, kind: rule.kind }]
  })
}

function sourceFromInput(source: string): SourceRef | undefined {
  if (!source) return undefined
  return source.startsWith('sha256:') ? { digest: source } : { tag: source }
}

function versionOf(trigger: Trigger): Version | undefined {
  switch (trigger.event) {
    case 'push':
      return undefined
    case 'rollback':
      return trigger.to === 'previous' ? undefined : trigger.to
    default:
      return trigger.version
  }
}
