import * as core from '@actions/core'
import type { Context } from './context.js'
import { isValidRepositoryName, isValidTag } from './tags.js'
import { EVENTS, type TriggerInputs } from './trigger.js'
import { requireVersion } from './version.js'
import { problemsError } from './problems.js'

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
  readonly dryRun: boolean
  /** The run's write pace, shared by every repository: ECR's default PutImage quota is 10 a second. */
  readonly maxWritesPerSecond: number
}

/** Reads and checks every input before anything talks to AWS; each problem is named in one line. */
export function readInputs(context: Pick<Context, 'sha' | 'region'>): Inputs {
  const input = (name: string): string => core.getInput(name)
  const repositories = core.getMultilineInput('repository', { required: true }).filter(Boolean)
  const pace = input('max-writes-per-second') || String(DEFAULT_WRITES_PER_SECOND)
  const inputs: Inputs = {
    repositories,
    registryId: input('registry-id'),
    region: input('region') || context.region,
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
    shaOrigin: input('sha') ? 'the sha input' : context.sha ? 'GITHUB_SHA' : 'nowhere',
    service: input('service'),
    dryRun: core.getBooleanInput('dry-run'),
    maxWritesPerSecond: Number(pace)
  }
  const problems = check(inputs)
  if (!(inputs.maxWritesPerSecond > 0 && Number.isFinite(inputs.maxWritesPerSecond)))
    problems.push(
      `max-writes-per-second '${pace}' is not a positive number of writes a second, such as 10 (ECR's default PutImage quota)`
    )
  if (problems.length > 0) throw problemsError(problems)
  return inputs
}

const DEFAULT_WRITES_PER_SECOND = 10

function check({ repositories, registryId, region, trigger, source, sha }: Inputs): string[] {
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
  if (!region)
    problems.push(
      'no AWS region: set the region input, or AWS_REGION (aws-actions/configure-aws-credentials sets it)'
    )
  if (trigger.event && !(EVENTS as readonly string[]).includes(trigger.event)) {
    problems.push(`event '${trigger.event}' is not one of ${EVENTS.join(', ')}`)
  }
  if (trigger.version && trigger.version !== 'previous')
    problems.push(...problemOf(() => requireVersion(trigger.version, 'version')))
  if (trigger.releaseTag)
    problems.push(...problemOf(() => requireVersion(trigger.releaseTag, 'release-tag')))
  if (trigger.environment && !isValidTag(trigger.environment)) {
    problems.push(`environment '${trigger.environment}' is not a valid tag name`)
  }
  if (source && !(isValidTag(source) || /^sha256:[0-9a-f]{64}$/.test(source))) {
    problems.push(`source '${source}' is neither a tag nor a sha256: digest`)
  }
  if (sha && !/^[0-9a-f]{7,40}$/i.test(sha)) problems.push(`sha '${sha}' is not a git commit hash`)

  return problems
}

function problemOf(validate: () => unknown): string[] {
  try {
    validate()
    return []
  } catch (error) {
    return [(error as Error).message]
  }
}
