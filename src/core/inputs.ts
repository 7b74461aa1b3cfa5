import { messageOf } from './model.js'
import type { Context } from './context.js'
import { LIFECYCLE_MODES, type LifecycleMode } from './lifecycle.js'
import { SEVERITIES, SIGNATURE_MODES, type GateSettings, type SignatureMode } from './gates.js'
import { isValidRepositoryName, isValidTag } from './tags.js'
import { EVENTS, type TriggerInputs } from './trigger.js'
import { requireVersion } from './version.js'
import { parseMoment } from './history.js'
import { problemsError } from './problems.js'
import { say, type Messages } from './messages.js'

export interface Inputs {
  readonly repositories: readonly string[]
  readonly registryId: string
  readonly region: string
  readonly convention: string
  readonly trigger: TriggerInputs
  readonly source: string
  readonly sha: string
  /** Where `sha` came from, for the log. */
  readonly shaOrigin: string
  readonly service: string
  /** A prune only plans unless `dry-run: false` is given. */
  readonly dryRun: boolean
  /** The run's write pace, shared by every repository: ECR's default PutImage quota is 10 a second. */
  readonly maxWritesPerSecond: number
  /** How long to wait for a source image that is not there yet, as given (`5m`), and in ms. */
  readonly waitForSource: { readonly text: string; readonly ms: number }
  /** What to do about each repository's lifecycle policy, after the tags are written. */
  readonly lifecycle: LifecycleMode
  /** A prune's limits as given; the convention's apply where these are not given. */
  readonly prune: { readonly keepMinorVersions?: number; readonly olderThanDays?: number }
  /** What a guarded pointer's image must show before it moves. */
  readonly gates: GateSettings
  /** A release or promotion moves a tested pointer only to an image the convention's tested rule names. */
  readonly requireTested: boolean
  /** How long to wait for an archived image to be restored, as given (`15m`), and in ms. */
  readonly restoreTimeout: { readonly text: string; readonly ms: number }
  /** Record each move of a pointer the convention maps to a GitHub environment as a deployment. */
  readonly deployments: boolean
  /** For GitHub's deployments API: recording them, and reading them back for a rollback to a moment. */
  readonly githubToken: string
  /** A promotion or rollback may name a withdrawn version, and a release re-run may move to it. */
  readonly allowWithdrawn: boolean
  /** Where the run writes its tags when that is not the source registry; undefined: in place. */
  readonly target?: Target
  /** What the run says of its inputs before it starts: a target-registry that is the source registry. */
  readonly notices?: readonly string[]
}

/** The registry a run copies the source image into and writes its tags in, and the role it assumes there. */
export interface Target {
  readonly account: string
  readonly region: string
  /** `<account>.dkr.ecr.<region>.amazonaws.com`, as people and image URIs name it. */
  readonly host: string
  readonly roleArn?: string
}

/** Where the inputs come from, by their action.yml names: the runner for the action, flags for the command line. */
export interface InputSource {
  get(name: string): string
  /** One value per line (or per repeated flag). */
  list(name: string): string[]
}

/** Reads and checks every input before anything talks to AWS; each problem is named in one line. */
export function readInputs(
  context: Pick<Context, 'sha' | 'shaFrom' | 'region' | 'github'>,
  source: InputSource,
  messages: Messages
): Inputs {
  const input = (name: string): string => source.get(name)
  const given = source.list('repository').filter(Boolean)
  const located = locateRepositories(given, input('registry-id'), input('region'), messages)
  const pace = input('max-writes-per-second') || String(DEFAULT_WRITES_PER_SECOND)
  const wait = input('wait-for-source') || '0'
  const dryRun = input('dry-run')
  const [keepMinor, olderThan] = [input('keep-minor-versions'), input('prune-older-than')]
  const severity = input('fail-on-severity') || 'off'
  const failOnSeverity = severity.toLowerCase() === 'off' ? 'off' : severity.toUpperCase()
  const [requireScan, requireTested] = [input('require-scan'), input('require-tested')]
  const restore = input('restore-timeout') || '15m'
  const [deployments, allowWithdrawn] = [input('deployments') || 'off', input('allow-withdrawn')]
  const inputs: Inputs = {
    repositories: located.repositories,
    registryId: located.registryId,
    region: located.region || context.region,
    convention: input('convention') || 'environments',
    trigger: {
      event: input('event'),
      branch: input('branch'),
      releaseTag: input('release-tag'),
      version: input('version'),
      environment: input('environment')
    },
    source: input('source'),
    sha: (input('sha') || context.sha).toLowerCase(),
    shaOrigin:
      input('sha') || !context.sha
        ? say(messages, { kind: 'sha-origin', given: input('sha') !== '' })
        : context.shaFrom,
    service: input('service'),
    dryRun: dryRun === '' ? input('event') === 'prune' : dryRun === 'true',
    maxWritesPerSecond: Number(pace),
    waitForSource: { text: wait, ms: durationMs(wait) ?? Number.NaN },
    lifecycle: (input('lifecycle') || 'off') as LifecycleMode,
    prune: {
      ...(keepMinor && { keepMinorVersions: Number(keepMinor) }),
      ...(olderThan && { olderThanDays: Number(olderThan) })
    },
    gates: {
      failOnSeverity: failOnSeverity as GateSettings['failOnSeverity'],
      // Unless told otherwise, a severity gate needs a scan to judge.
      requireScan: requireScan === '' ? failOnSeverity !== 'off' : requireScan === 'true',
      ignoreFindings: source.list('ignore-findings').filter(Boolean),
      requireSignature: (input('require-signature') || 'off') as SignatureMode
    },
    requireTested: requireTested === 'true',
    restoreTimeout: { text: restore, ms: durationMs(restore) ?? Number.NaN },
    deployments: deployments === 'on',
    githubToken: input('github-token'),
    allowWithdrawn: allowWithdrawn === 'true'
  }
  const target = targetOf(input('target-registry'), input('target-role-to-assume'), inputs)
  const problems = [
    ...target.problems,
    ...located.problems,
    ...check(inputs, messages),
    ...(inputs.region ? [] : [say(messages, { kind: 'no-region' })])
  ]
  if (Number.isNaN(inputs.waitForSource.ms))
    problems.push(
      `wait-for-source '${wait}' is not a duration: use a number with s, m or h, such as 90s, 10m or 1h (0 waits not at all)`
    )
  else if (inputs.waitForSource.ms > MAX_WAIT_MS)
    problems.push(
      `wait-for-source '${wait}' is longer than a GitHub job may run (6h): wait for the build with needs: instead`
    )
  if (!(inputs.maxWritesPerSecond > 0 && Number.isFinite(inputs.maxWritesPerSecond)))
    problems.push(
      `max-writes-per-second '${pace}' is not a positive number of writes a second, such as 10 (ECR's default PutImage quota)`
    )
  for (const [name, value] of [
    ['dry-run', dryRun],
    ['require-scan', requireScan],
    ['require-tested', requireTested],
    ['allow-withdrawn', allowWithdrawn]
  ]) {
    if (!['', 'true', 'false'].includes(value as string))
      problems.push(`${name} '${value}' is not true or false`)
  }
  if (failOnSeverity !== 'off' && !(SEVERITIES as readonly string[]).includes(failOnSeverity))
    problems.push(`fail-on-severity '${severity}' is not one of off, ${SEVERITIES.join(', ')}`)
  if (!(SIGNATURE_MODES as readonly string[]).includes(inputs.gates.requireSignature))
    problems.push(
      `require-signature '${inputs.gates.requireSignature}' is not one of ${SIGNATURE_MODES.join(', ')}`
    )
  if (!(inputs.restoreTimeout.ms > 0))
    problems.push(
      `restore-timeout '${restore}' is not a duration: use a number with s, m or h, such as 15m or 1h`
    )
  if (!['off', 'on'].includes(deployments))
    problems.push(`deployments '${deployments}' is not off or on`)
  else if (inputs.deployments && !inputs.githubToken)
    problems.push(say(messages, { kind: 'no-github-token' }))
  else if (inputs.deployments && !context.github.repository)
    problems.push(say(messages, { kind: 'no-github-repository' }))
  if (keepMinor && !/^[1-9]\d*$/.test(keepMinor))
    problems.push(`keep-minor-versions '${keepMinor}' is not a whole number from 1`)
  if (olderThan && !/^\d+$/.test(olderThan))
    problems.push(`prune-older-than '${olderThan}' is not a whole number of days`)
  if (problems.length > 0) throw problemsError(problems)
  return {
    ...inputs,
    ...(target.target && { target: target.target }),
    ...(target.notice && { notices: [target.notice] })
  }
}

/** An ECR registry host: account, region, and the partition's domain. */
const REGISTRY_HOST = /^(\d{12})\.dkr\.ecr\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(\.cn)?$/
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/

/** The registry host of an account in a region (China's regions have a domain of their own). */
export const registryHost = (account: string, region: string): string =>
  `${account}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`

/** `target-registry` and `target-role-to-assume`, checked; a target that is the source registry is in place. */
function targetOf(
  given: string,
  roleArn: string,
  { registryId, region }: Pick<Inputs, 'registryId' | 'region'>
): { target?: Target; notice?: string; problems: string[] } {
  const problems: string[] = []
  if (roleArn && !ROLE_ARN.test(roleArn))
    problems.push(
      `target-role-to-assume '${escaped(roleArn)}' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`
    )
  if (!given) {
    if (roleArn)
      problems.push(
        'target-role-to-assume needs target-registry: the role is assumed for the target registry only'
      )
    return { problems }
  }
  const host = REGISTRY_HOST.exec(given)
  const [account, targetRegion] = /^\d{12}$/.test(given)
    ? [given, region]
    : host
      ? [host[1] as string, host[2] as string]
      : []
  if (!account || !targetRegion) {
    problems.push(
      `target-registry '${escaped(given)}' is neither an ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com) nor a 12-digit account id`
    )
    return { problems }
  }
  if (account === registryId && targetRegion === region)
    return {
      notice: `target-registry ${given} is the source registry: the tags are written in place`,
      problems
    }
  const target = {
    account,
    region: targetRegion,
    host: host ? given : registryHost(account, targetRegion),
    ...(roleArn && { roleArn })
  }
  return { target, problems }
}

/** An untrusted value as a message shows it: on one line, its control characters escaped. */
const escaped = (value: string): string => JSON.stringify(value).slice(1, -1)

const DEFAULT_WRITES_PER_SECOND = 10
const MAX_WAIT_MS = 6 * 3_600_000

/** Anything naming an AWS registry host: if it is not an IMAGE_URI, it is a mistake worth naming. */
const REGISTRY_ADDRESS = /amazonaws\.com|\.on\.aws|ecr\.aws/

/** A full image URI, as amazon-ecr-login and metadata-action's `images` write it. */
const IMAGE_URI = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(.+)$/

/**
 * Repository names, with the registry and region a full image URI names. A URI must agree with the
 * registry-id and region inputs when they are given, and every URI of a run must name one registry.
 */
function locateRepositories(
  given: readonly string[],
  registryIdInput: string,
  regionInput: string,
  messages: Messages
): { repositories: string[]; registryId: string; region: string; problems: string[] } {
  const problems: string[] = []
  const registries = new Set<string>()
  let located = { registryId: registryIdInput, region: regionInput }
  const repositories = given.map((entry) => {
    // A tag or digest after the name is not part of a repository: refused below, with the reason.
    const match = /[:@]/.test(entry) ? null : IMAGE_URI.exec(entry)
    if (!match) {
      if (REGISTRY_ADDRESS.test(entry))
        problems.push(
          `repository '${entry}' looks like a registry address, but not like an ECR repository URI: use <account>.dkr.ecr.<region>.amazonaws.com/<name>, with no tag or digest (a source image goes in ${say(messages, { kind: 'input', name: 'source' })})`
        )
      return entry
    }
    const [, registryId, region, name] = match as unknown as [string, string, string, string]
    const conflicts: [string, string, string][] = [
      ['registry', registryId, registryIdInput],
      ['region', region, regionInput]
    ]
    for (const [what, named, input] of conflicts) {
      if (input && input !== named)
        problems.push(
          `repository '${entry}' is in ${what} ${named}, but ${say(messages, { kind: 'input', name: what === 'registry' ? 'registry-id' : 'region' })} is ${input}: drop one or make them agree`
        )
    }
    registries.add(`${registryId} in ${region}`)
    located = { registryId: registryIdInput || registryId, region: regionInput || region }
    return name
  })
  if (registries.size > 1)
    problems.push(
      `the repositories name more than one registry (${[...registries].join(', ')}): one run works in one registry and region`
    )
  return { repositories, ...located, problems }
}

function check(
  { repositories, registryId, trigger, source, sha, lifecycle }: Inputs,
  messages: Messages
): string[] {
  const problems = repositories.flatMap((name) =>
    isValidRepositoryName(name)
      ? []
      : [
          `repository '${name}' is not a valid ECR repository name (lowercase letters, digits, and . _ - / between them)`
        ]
  )
  if (repositories.length === 0)
    problems.push('repository is required: name at least one ECR repository')
  if (new Set(repositories).size !== repositories.length)
    problems.push('repository lists the same repository twice')
  if (registryId && !/^\d{12}$/.test(registryId))
    problems.push(`registry-id '${registryId}' is not a 12-digit AWS account id`)
  if (trigger.event && !(EVENTS as readonly string[]).includes(trigger.event)) {
    problems.push(`event '${trigger.event}' is not one of ${EVENTS.join(', ')}`)
  }
  if (trigger.version && trigger.version !== 'previous' && !parseMoment(trigger.version))
    problems.push(
      ...(/^\d{4}-\d{2}-\d{2}/.test(trigger.version)
        ? [
            `version '${trigger.version}' is not a date or date-time: use 2026-11-19 (the end of that day, UTC) or 2026-11-19T15:00:00Z, with Z or an offset such as +01:00`
          ]
        : problemOf(() => requireVersion(trigger.version, 'version')))
    )
  if (trigger.releaseTag)
    problems.push(...problemOf(() => requireVersion(trigger.releaseTag, 'release-tag')))
  if (trigger.environment && !isValidTag(trigger.environment)) {
    problems.push(`environment '${trigger.environment}' is not a valid tag name`)
  }
  if (source.startsWith('sha256:')) {
    if (!/^sha256:[0-9a-f]{64}$/.test(source))
      problems.push(
        `source '${source}' is not a digest: a digest is sha256: followed by 64 lowercase hexadecimal characters`
      )
  } else if (source && !isValidTag(source)) {
    problems.push(`source '${source}' is neither a tag nor a sha256: digest`)
  }
  if (sha && !/^[0-9a-f]{7,40}$/i.test(sha)) problems.push(`sha '${sha}' is not a git commit hash`)
  if (!LIFECYCLE_MODES.includes(lifecycle))
    problems.push(`lifecycle '${lifecycle}' is not one of ${LIFECYCLE_MODES.join(', ')}`)
  else if (trigger.event === 'lifecycle' && lifecycle === 'off')
    problems.push(
      `${say(messages, { kind: 'event', event: 'lifecycle' })} needs ${say(messages, { kind: 'input', name: 'lifecycle' })}: check (report drift) or apply`
    )
  else if (trigger.event === 'status' && lifecycle === 'apply')
    problems.push(
      `${say(messages, { kind: 'event', event: 'status' })} never writes, so it cannot apply a lifecycle policy: ${say(messages, { kind: 'set', name: 'lifecycle', value: 'check' })}, or run ${say(messages, { kind: 'event', event: 'lifecycle' })}`
    )

  return problems
}

function problemOf(validate: () => unknown): string[] {
  try {
    validate()
    return []
  } catch (error) {
    return [messageOf(error)]
  }
}

/** `90s`, `10m`, `1h` or a plain number of seconds, in ms; undefined when it is none of these. */
export function durationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim())
  if (!match) return undefined
  const unit = { s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 's' | 'm' | 'h']
  return Number(match[1]) * unit
}
