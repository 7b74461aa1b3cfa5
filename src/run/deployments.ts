import type { Action } from './apply.js'
import type { Registry } from '../ecr/registry.js'
import type { Deployments } from '../github/client.js'
import {
  LANDED_STATES,
  noRecordAt,
  recordOf,
  type DeploymentPayload,
  type Moment,
  type PointerRecord
} from '../core/history.js'
import { asError, Cancelled, messageOf, shortDigest, type ImageDetails } from '../core/model.js'
import type { RepositoryPlan } from '../core/plan.js'
import { problemsError } from '../core/problems.js'
import { commitOfBuildTag } from '../core/tags.js'
import { type Context } from '../core/context.js'
import { type Convention } from '../core/convention.js'

/** A deployment a run's changes call for, before GitHub is asked. */
export interface PlannedDeployment {
  readonly environment: string
  readonly state: 'success' | 'failure'
  readonly payload: DeploymentPayload
}

/** What GitHub recorded for one moved pointer, or the warning that says why it did not. */
export interface DeploymentOutcome extends PlannedDeployment {
  readonly id?: number
  readonly ref?: string
  readonly warning?: Error
}

/** A pointer the run moved is a deployment that succeeded; one it put back or failed to write, one that failed. */
const STATE_OF: Partial<Record<Action, PlannedDeployment['state']>> = {
  created: 'success',
  moved: 'success',
  undone: 'failure',
  failed: 'failure'
}

/** How a record names its image; a rollback to a moment takes only records naming this registry's. */
export const imageOf = (uri: string, digest: string): string => `${uri}@${digest}`

/** The environment a pointer's moves are recorded in, if the convention maps it to one. */
export const environmentOf = (convention: Convention, tag: string): string | undefined =>
  Object.hasOwn(convention.deployments, tag) ? convention.deployments[tag] : undefined

/**
 * The deployments to record (pure): one for each pointer of a GitHub environment that the run moved
 * or tried to move; a tag left where it was is no deployment.
 */
export function plannedDeployments(
  convention: Convention,
  plans: readonly RepositoryPlan[],
  changes: readonly {
    repository: string
    tag: string
    to: string | null
    now: string | null
    action: Action
  }[]
): PlannedDeployment[] {
  return changes.flatMap(({ repository, tag, to, now, action }) => {
    const environment = environmentOf(convention, tag)
    const state = STATE_OF[action]
    const plan = plans.find((candidate) => candidate.repository === repository)
    if (!environment || !state || !plan || !to) return []
    // A success names where the pointer is: one handed on or moved since is that run's to record.
    if (state === 'success' && now !== to) return []
    const version = plan.source.digest === to ? (plan.version?.text ?? null) : null
    return [
      {
        environment,
        state,
        payload: { repository, tag, digest: to, version, image: imageOf(plan.uri, to) }
      }
    ]
  })
}

/** How many records are sent at once. */
const CONCURRENCY = 4
/** Recording deployments, every record and every wait GitHub asks for, never holds a run longer. */
export const RECORDING_BUDGET_MS = 30_000

/**
 * Records the deployments, a few at a time, started in the order of the moves (records in flight
 * together may land in another order); within `budgetMs`, and none once the run is cancelled. The
 * ref is the image's commit, read off its build tag, else the workflow's; a ref GitHub cannot
 * resolve (an image built from another repository) is recorded at the workflow's commit. A GitHub
 * failure is a warning on that deployment: the registry is already as the run left it.
 */
export async function recordDeployments(
  github: Deployments,
  registry: Pick<Registry, 'describeImages'>,
  convention: Convention,
  context: Pick<Context, 'sha' | 'github'>,
  planned: readonly PlannedDeployment[],
  signal: AbortSignal,
  budgetMs = RECORDING_BUDGET_MS
): Promise<DeploymentOutcome[]> {
  const { serverUrl, repository, runId } = context.github
  const logUrl = `${serverUrl}/${repository}${runId ? `/actions/runs/${runId}` : ''}`
  const budget = AbortSignal.timeout(budgetMs)
  const bounds = { signal: AbortSignal.any([signal, budget]), deadline: Date.now() + budgetMs }
  // Said of every deployment the budget or a cancel stopped, sent or not, instead of its own error.
  const stopped = () =>
    signal.aborted
      ? new Error(`the job was cancelled (${String(signal.reason)})`)
      : budget.aborted
        ? new Error(`the ${budgetMs / 1000} s for recording deployments ran out`)
        : undefined
  const record = async (deployment: PlannedDeployment): Promise<DeploymentOutcome> => {
    const { payload } = deployment
    const description = `${payload.repository}:${payload.tag} on ${shortDigest(payload.digest)}${payload.version ? ` (${payload.version})` : ''}`
    const send = (ref: string) =>
      github.record({ ...deployment, ref, description: description.slice(0, 140), logUrl }, bounds)
    let ref = context.sha
    try {
      ref = (await imageCommit(registry, convention, payload, context.sha)) ?? context.sha
      const id = await send(ref).catch(async (error: unknown) => {
        if (!isUnresolvableRef(error) || ref === context.sha || !context.sha) throw error
        ref = context.sha
        return send(ref)
      })
      return { ...deployment, id, ref }
    } catch (error) {
      return { ...deployment, ref, warning: stopped() ?? asError(error) }
    }
  }
  const outcomes: DeploymentOutcome[] = []
  let next = 0
  const worker = async () => {
    for (let index = next++; index < planned.length; index = next++) {
      const deployment = planned[index]!
      const unsent = stopped()
      outcomes[index] = unsent ? { ...deployment, warning: unsent } : await record(deployment)
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, planned.length) }, worker))
  return outcomes
}

/**
 * One warning for every deployment not recorded, the pointers grouped by why; undefined when every
 * one was recorded.
 */
export function notRecorded(outcomes: readonly DeploymentOutcome[]): string | undefined {
  const pointersBy = new Map<string, string[]>()
  for (const { payload, environment, warning } of outcomes) {
    if (warning === undefined) continue
    const pointer = `${payload.repository}:${payload.tag} in ${environment}`
    const why = messageOf(warning)
    pointersBy.set(why, [...(pointersBy.get(why) ?? []), pointer])
  }
  if (pointersBy.size === 0) return undefined
  const count = [...pointersBy.values()].flat().length
  const why = [...pointersBy].map(([reason, pointers]) => `${pointers.join(', ')}: ${reason}`)
  return `${count} of ${outcomes.length} GitHub ${outcomes.length === 1 ? 'deployment' : 'deployments'} not recorded (the tags are written as reported): ${why.join('; ')}`
}

/** The commit the image's build tag names: the workflow's full sha when it is that commit. */
async function imageCommit(
  registry: Pick<Registry, 'describeImages'>,
  convention: Convention,
  { repository, digest }: DeploymentPayload,
  workflowSha: string
): Promise<string | undefined> {
  // Without the image's tags, the deployment is still worth recording, at the workflow's commit.
  const details = await registry
    .describeImages(repository, [digest])
    .catch(() => new Map<string, ImageDetails>())
  const commit = (details.get(digest)?.tags ?? [])
    .map((tag) => commitOfBuildTag(convention.buildTag, tag))
    .find((found) => found !== undefined)
  return commit && workflowSha.startsWith(commit) ? workflowSha : commit
}

const isUnresolvableRef = (error: unknown): boolean =>
  (error as { status?: unknown } | null)?.status === 422

/**
 * Where the pointer was in each repository at the moment, by the environment's deployment records:
 * the newest record at or before it that landed. Read newest first, page by page, only as far back
 * as the answer needs; every repository without one is named in one error.
 */
export async function recordsAt(
  github: Deployments,
  environment: string,
  repositories: readonly { readonly name: string; readonly uri: string }[],
  tag: string,
  moment: Moment,
  signal: AbortSignal
): Promise<Map<string, PointerRecord>> {
  const found = new Map<string, PointerRecord>()
  const earliest = new Map<string, Date>()
  try {
    for await (const page of github.history(environment, { signal })) {
      for (const record of page) {
        for (const { name: repository, uri } of repositories) {
          const mine = found.has(repository) ? undefined : recordOf(record, repository, tag)
          // Another registry's repository of the same name is not this one's history.
          if (!mine || mine.payload.image !== imageOf(uri, mine.payload.digest)) continue
          earliest.set(repository, mine.createdAt)
          if (mine.createdAt > moment.at) continue
          if (LANDED_STATES.includes((await github.latestState(mine.id, { signal })) ?? ''))
            found.set(repository, mine)
        }
      }
      if (found.size === repositories.length) break
    }
  } catch (error) {
    if (signal.aborted)
      throw new Cancelled(
        'the job was cancelled while it read the deployment history: no tag was written',
        { cause: error }
      )
    throw new Error(
      `cannot read the deployment history of the GitHub environment ${environment}: ${messageOf(error)}; no tag was written`,
      { cause: error }
    )
  }
  const missing = repositories
    .map(({ name }) => name)
    .filter((repository) => !found.has(repository))
  if (missing.length > 0)
    throw problemsError(
      missing.map((repository) =>
        noRecordAt(repository, tag, environment, moment, earliest.get(repository))
      )
    )
  return found
}
