import {
  anyRun,
  renderTag,
  renderTemplate,
  runVariables,
  sanitizeTagPart,
  templateVariables,
  type TemplateValues
} from './tags.js'
import { describeRecord, type PointerRecord } from './history.js'
import type { Trigger } from './trigger.js'
import type { Version } from './version.js'
import { type Convention, type TagKind, type TagRule } from './convention.js'

/** The image a run starts from. */
export type SourceRef =
  | { readonly tag: string }
  | { readonly digest: string }
  /** Rollback to `previous`: the highest stable version below the one the pointer carries now. */
  | { readonly previousVersionOf: string }
  /**
   * A build tag with run variables (`{date}`…), which only the build's run knew: the one image
   * carrying a tag that matches this ECR wildcard pattern, such as `build-*-0123456789`.
   */
  | { readonly buildTagMatching: string; readonly buildTag: string }

/** Which versions a `highest` tag ranks against: all of them, one major, or one minor. */
export type VersionLine = 'all' | 'major' | 'minor'

export type Target =
  | { readonly tag: string; readonly kind: Exclude<TagKind, 'highest'> | 'rollback' }
  | { readonly tag: string; readonly kind: 'highest'; readonly line: VersionLine }

/** What one repository should look like after this run, before the registry is consulted. */
export interface Intent {
  readonly repository: string
  readonly source: SourceRef
  /** `rollback` moves the pointer in either direction. */
  readonly targets: readonly Target[]
  /** The version this run releases, promotes or rolls back to, where one applies. */
  readonly version?: Version
  /** The tag whose previous digest the run reports. */
  readonly pointer?: string
  /**
   * What the run does. A promotion is explicit: a pointer the forward rule holds back fails it. A
   * release hands its pointers to a higher release that another run made meanwhile.
   */
  readonly event: ActiveTrigger['event']
  /** The convention's version tag template, for reading versions off the registry. */
  readonly versionTag: string
  /** Where the source tag came from and what to do if it is missing, for the error that says so. */
  readonly sourceAdvice?: string
  /** With `require-tested`: the tag (or `*` pattern) an image must carry before each pointer moves to it. */
  readonly tested?: readonly TestedRule[]
  /** The convention's withdrawn mark template, such as `withdrawn-{version}`. */
  readonly withdrawnTag: string
  /** `allow-withdrawn`: the run may move to a withdrawn version, and says so. */
  readonly allowWithdrawn?: boolean
  /** A rollback to a moment: the deployment record that says where the pointer was then. */
  readonly recorded?: PointerRecord
}

export interface TestedRule {
  readonly pointer: string
  /** A tag, or an ECR wildcard pattern such as `2.1.0-rc.*`. */
  readonly pattern: string
}

export interface RunValues {
  readonly repository: string
  /** The commit built, when known; the build tag needs it. */
  readonly sha?: string
  readonly service: string
  /** `source` input: a tag or `sha256:` digest overriding the convention's build tag. */
  readonly source: string
  /** The workflow run number, for `{build}` and `{run_number}`. */
  readonly runNumber?: string
  /** Today, for `{date}`. */
  readonly date: Date
  /** Where `sha` came from, such as GITHUB_SHA; without one, where it would have come from. */
  readonly shaOrigin: string
  /** The wait-for-source input, when the run waits for its source at all. */
  readonly waitForSource?: string
  /** `require-tested`: a release or promotion moves a pointer only to an image tested before. */
  readonly requireTested?: boolean
  readonly allowWithdrawn?: boolean
  /** A rollback to a moment: this repository's deployment record from then. */
  readonly recorded?: PointerRecord
}

/** A trigger that writes (or checks) tags; the others never reach derivation. */
export type ActiveTrigger = Exclude<
  Trigger,
  { event: 'none' | 'lifecycle' | 'prune' | 'status' | 'restore-version' }
>

export function derive(convention: Convention, trigger: ActiveTrigger, run: RunValues): Intent {
  try {
    return intentOf(convention, trigger, run)
  } catch (error) {
    if (!(error instanceof MissingValues)) throw error
    // The commit comes from where this host takes it: the run says where that is.
    const origin: Readonly<Record<string, string>> = {
      ...ORIGIN,
      sha: run.shaOrigin,
      sha7: run.shaOrigin
    }
    const named = error.missing.map(
      (name) => `{${name}} (from ${Object.hasOwn(origin, name) ? origin[name] : 'the run'})`
    )
    throw new Error(
      `tag template '${error.template}' needs ${named.join(', ')}, which this run does not have`,
      { cause: error }
    )
  }
}

function intentOf(convention: Convention, trigger: ActiveTrigger, run: RunValues): Intent {
  const version = versionOf(trigger)
  const values: TemplateValues = {
    sha: run.sha,
    sha7: run.sha?.slice(0, 7),
    branch: sanitizeTagPart(trigger.branch),
    service: sanitizeTagPart(run.service),
    build: run.runNumber,
    run_number: run.runNumber,
    date: run.date.toISOString().slice(0, 10).replaceAll('-', ''),
    environment: trigger.event === 'promote' ? trigger.environment : undefined,
    ...versionValues(version)
  }
  const fromInput = sourceFromInput(run.source)
  const { buildTag } = convention
  const runOnly = runVariables(buildTag).map((name) => `{${name}}`)
  const source = (): SourceRef =>
    fromInput ??
    (runOnly.length > 0
      ? { buildTagMatching: required(buildTag, anyRun(values), true), buildTag }
      : { tag: required(buildTag, values) })
  const sourceAdvice = fromInput
    ? undefined
    : `it is the build tag ${buildTag} of commit ${run.sha ?? '(none)'} (sha from ${run.shaOrigin})${
        runOnly.length > 0 ? `, whatever its ${runOnly.join(', ')}` : ''
      }; ${
        run.waitForSource === undefined
          ? 'if the build pushes it later, set wait-for-source (such as 10m) or run this step after the build'
          : `it did not appear within wait-for-source (${run.waitForSource}): check that the build pushed it`
      }`
  const common = {
    repository: run.repository,
    versionTag: convention.versionTag,
    withdrawnTag: convention.withdrawnTag,
    ...(run.allowWithdrawn && { allowWithdrawn: true }),
    event: trigger.event,
    ...(sourceAdvice && trigger.event !== 'rollback' && { sourceAdvice }),
    ...(version && { version })
  }

  switch (trigger.event) {
    case 'push':
      return {
        ...common,
        source: source(),
        targets: trigger.defaultBranch ? renderRules(convention.push, values, version) : []
      }
    case 'release': {
      const targets = renderRules(
        trigger.prerelease ? convention.prerelease : convention.release,
        values,
        version
      )
      const pointer = targets.find((target) => target.kind === 'forward')?.tag
      return {
        ...common,
        source: source(),
        targets,
        ...(pointer && { pointer }),
        ...testedRules(convention, targets, values, run)
      }
    }
    case 'promote': {
      const rules = Object.hasOwn(convention.promote, trigger.environment)
        ? convention.promote[trigger.environment]
        : undefined
      if (!rules) {
        throw new Error(
          `the ${convention.name} convention has no promotion to '${trigger.environment}': it knows ${Object.keys(convention.promote).join(', ') || 'none'}`
        )
      }
      const targets = renderRules(rules, values, version)
      return {
        ...common,
        source: source(),
        targets,
        ...(targets[0] && { pointer: targets[0].tag }),
        ...testedRules(convention, targets, values, run)
      }
    }
    case 'rollback': {
      const pointer = convention.rollbackPointer
      if (!pointer) throw new Error(`the ${convention.name} convention has no rollback pointer`)
      const targets: Target[] = [{ tag: pointer, kind: 'rollback' }]
      if (trigger.to !== 'previous' && 'at' in trigger.to) {
        const { recorded } = run
        if (!recorded) throw new Error(`no deployment record of ${run.repository}:${pointer}`)
        return {
          ...common,
          source: { digest: recorded.payload.digest },
          targets,
          pointer,
          recorded,
          sourceAdvice: `it is the image ${pointer} pointed at on ${trigger.to.text}, by ${describeRecord(recorded)}, and it has been deleted since: roll back to a version instead`
        }
      }
      const from = version
        ? { tag: required(convention.versionTag, values) }
        : { previousVersionOf: pointer }
      return { ...common, source: from, targets, pointer }
    }
  }
}

/** The values of the version variables; none without a version. */
export const versionValues = (version: Version | undefined): TemplateValues => ({
  version: version?.text,
  major: version && String(version.major),
  minor: version && String(version.minor),
  patch: version && String(version.patch),
  prerelease: version?.prerelease || undefined
})

/** Where each variable's value comes from, for the error when a run lacks it. */
const ORIGIN: Readonly<Record<string, string>> = {
  build: 'GITHUB_RUN_NUMBER',
  run_number: 'GITHUB_RUN_NUMBER',
  version: 'the version input',
  major: 'the version input',
  minor: 'the version input',
  patch: 'the version input',
  prerelease: 'a prerelease version',
  environment: 'a promotion'
}

/** Renders a template the run must have every value for; a `pattern` may hold `*` and is not a tag. */
function required(template: string, values: TemplateValues, pattern = false): string {
  const tag = pattern ? renderTemplate(template, values) : renderTag(template, values)
  if (tag === undefined) {
    throw new MissingValues(
      template,
      templateVariables(template).filter((name) => values[name] === undefined)
    )
  }
  return tag
}

/** A template the run lacks values for; `derive` says where each comes from. */
class MissingValues extends Error {
  constructor(
    readonly template: string,
    readonly missing: readonly string[]
  ) {
    super(`tag template '${template}' lacks ${missing.join(', ')}`)
  }
}

/** The tested-image rules of the pointers this release or promotion moves, rendered for this run. */
function testedRules(
  convention: Convention,
  targets: readonly Target[],
  values: TemplateValues,
  run: RunValues
): { tested?: TestedRule[] } {
  if (!run.requireTested) return {}
  const tested = targets.flatMap(({ tag }) =>
    Object.hasOwn(convention.gates.tested, tag)
      ? [{ pointer: tag, pattern: required(convention.gates.tested[tag] as string, values, true) }]
      : []
  )
  return tested.length > 0 ? { tested } : {}
}

function renderRules(
  rules: readonly TagRule[],
  values: TemplateValues,
  version?: Version
): Target[] {
  return rules.flatMap((rule): Target[] => {
    const tag = rule.optional ? renderTag(rule.tag, values) : required(rule.tag, values)
    if (tag === undefined) return []
    if (rule.kind !== 'highest') return [{ tag, kind: rule.kind }]
    const line = versionLine(rule.tag)
    // 0.x minors may break anything, so a 0.x version never moves a `{major}` tag such as `0`.
    if (line === 'major' && version?.major === 0) return []
    return [{ tag, kind: 'highest', line }]
  })
}

function versionLine(template: string): VersionLine {
  const variables = templateVariables(template)
  if (variables.includes('minor')) return 'minor'
  return variables.includes('major') ? 'major' : 'all'
}

function sourceFromInput(source: string): SourceRef | undefined {
  if (!source) return undefined
  return source.startsWith('sha256:') ? { digest: source } : { tag: source }
}

function versionOf(trigger: ActiveTrigger): Version | undefined {
  switch (trigger.event) {
    case 'push':
      return undefined
    case 'rollback':
      return trigger.to === 'previous' || 'at' in trigger.to ? undefined : trigger.to
    default:
      return trigger.version
  }
}
