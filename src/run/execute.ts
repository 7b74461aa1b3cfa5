/**
 * The stages both hosts share, and `execute`, the pipeline in a screen: inputs → derive (pure) →
 * read the registry → plan (pure) → gates → restore archived images → apply → report, with the
 * status, lifecycle, prune, withdrawn-mark and deployment stages. The action (src/action) and the
 * command line (src/cli) differ only in the Host they pass and how they report the result.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { applyPlans } from './apply.js'
import { workspaceReader } from './context.js'
import {
  lifecycleIntent,
  maintainLifecycle,
  pruneLimits,
  pruneReleases,
  type LifecycleIntent
} from './cleanup.js'
import { loadConvention, writesProduction } from '../core/conventions.js'
import { derive, type ActiveTrigger, type Intent, type RunValues } from '../core/derive.js'
import {
  environmentOf,
  notRecorded,
  plannedDeployments,
  recordDeployments,
  recordsAt,
  type DeploymentOutcome
} from './deployments.js'
import { type Registry } from '../ecr/registry.js'
import { connectGitHub, type Deployments } from '../github/client.js'
import type { PointerRecord } from '../core/history.js'
import { checkGates, gateProblems } from './gatekeeper.js'
import type { Host } from './host.js'
import type { Inputs } from '../core/inputs.js'
import {
  leftToUndo,
  putBack,
  type Journal,
  type JournalEntry,
  type UndoOutcome
} from './journal.js'
import { asError, Cancelled, messageOf, shortDigest, type Manifest } from '../core/model.js'
import { WritePacer } from './pace.js'
import {
  planRepository,
  withSourceTag,
  type RepositoryPlan,
  type RepositoryState
} from '../core/plan.js'
import type { Effects } from './effects.js'
import { problemsError, problemsOf, tryEach } from '../core/problems.js'
import { restoreArchived, restoreProblems, type RestoreOutcome } from './archived.js'
import {
  changeRow,
  describeCopy,
  describeIntent,
  describePlan,
  cleanupFailure,
  preview,
  wroteTags,
  type RunResult
} from '../report/result.js'
import { readStatesWaiting, repositoryWork } from './state.js'
import { copyImage, uploadTurns } from './copy.js'
import { CopyFailed, nothingCopied, type CopyReport } from '../core/copy.js'
import { fetchBlob } from '../ecr/blobs.js'
import { readStatus } from './status.js'
import { describeTrigger, resolveTrigger } from '../core/trigger.js'
import type { Version } from '../core/version.js'
import { clearWithdrawn } from './withdrawn.js'
import { type Context } from '../core/context.js'
import { type Convention } from '../core/convention.js'
import { assumedRole, createRegistry } from '../ecr/client.js'

/** What a run starts from: its environment and its checked inputs. */
export interface Setup {
  readonly context: Context
  readonly inputs: Inputs
}

/**
 * inputs → derive (pure) → read registry state → plan (pure) → apply → report, for the action and
 * the command line alike. A failure before the registry is reached is bad input (`badInput`).
 */
export async function execute(
  host: Host,
  setup: () => Setup | Promise<Setup>,
  { signal, undo }: Cancel
): Promise<RunResult> {
  let result: RunResult = { title: 'ecr-promote', repositories: [], plans: [], changes: [] }
  let configured = false
  try {
    const { context, inputs } = await setup()
    const convention = await loadConvention(inputs.convention, workspaceReader(context.workspace))
    // A convention that cannot have the policy asked for fails here, before any tag is written.
    const lifecycle =
      inputs.lifecycle === 'off' ? undefined : lifecycleIntent(convention, inputs.lifecycle)
    const trigger = resolveTrigger(inputs.trigger, context, host.messages)
    result = { ...result, title: describeTrigger(trigger), repositories: inputs.repositories }
    configured = true
    for (const notice of inputs.notices ?? []) host.notice(notice)
    if (trigger.event === 'none') {
      host.notice(`${result.title}: no tag is written`)
      return result
    }
    const { source, registry, pace } = pacedRegistries(inputs, host, signal, context.github.runId)
    let connected: Promise<Deployments> | undefined
    const github = () => (connected ??= connectGitHub(inputs.githubToken, context.github))
    const effects: Effects = {
      signal,
      sleep: (ms, abort = signal) => sleep(ms, undefined, { signal: abort }),
      clock: Date.now,
      log: (message) => host.info(message),
      progress: (message) => host.progress(message)
    }
    const run: Run = {
      host,
      inputs,
      context,
      convention,
      source,
      registry,
      pace,
      effects,
      undo,
      github
    }
    switch (trigger.event) {
      case 'lifecycle':
        break
      case 'prune':
        result = await prune(result, run)
        break
      case 'status':
        result = await status(result, run)
        break
      case 'restore-version':
        result = await clearMark(result, run, trigger.version)
        break
      default:
        result = await recordMoves(
          await readAgain(await writeTags(result, { ...run, trigger }), run),
          run
        )
    }
    if (result.failure !== undefined || !lifecycle) return result
    return await keepLifecyclePolicy(result, run, lifecycle)
  } catch (error) {
    // Every request under way was abandoned: unless a stage said what that left, the error that
    // surfaced says only that.
    const said = problemsOf(error).every((problem) => problem instanceof Cancelled)
    const failure =
      signal.aborted && !said
        ? new Error(`the job was cancelled (${String(signal.reason)}): ${whatStays(result)}`)
        : asError(error)
    return { ...result, failure, ...(!configured && { badInput: true }) }
  }
}

/** What a run cancelled outside its writes leaves: nothing, or the tags written as reported. */
const whatStays = (result: RunResult): string =>
  wroteTags(result) ? 'the tags stay written as reported' : 'no tag was written'

/**
 * The registry clients, the source's and the target's (the same one in place), and the run's write
 * pace, shared by both: each paced write says how far the run is, and how often ECR slowed it.
 */
function pacedRegistries(
  where: Pick<Inputs, 'region' | 'registryId' | 'maxWritesPerSecond' | 'target'>,
  host: Host,
  signal: AbortSignal | undefined,
  runId = ''
) {
  const pacer = new WritePacer(where.maxWritesPerSecond, Date.now, (ms, abort) =>
    sleep(ms, undefined, { signal: abort })
  )
  const paced = { writes: 0, throttled: 0 }
  const show = () =>
    host.progress(
      `${paced.writes} ${paced.writes === 1 ? 'write' : 'writes'}${paced.throttled > 0 ? `, ECR throttled ${paced.throttled} times` : ''}`
    )
  const common = {
    ...(signal && { signal }),
    messages: host.messages,
    onThrottle: () => {
      paced.throttled += 1
      pacer.throttled()
      // Writes sent together are all under way: a throttle is news even when no write starts after it.
      show()
    }
  }
  const source = createRegistry({
    ...common,
    region: where.region,
    ...(where.registryId && { registryId: where.registryId })
  })
  const { target } = where
  const registry = target
    ? createRegistry({
        ...common,
        region: target.region,
        registryId: target.account,
        names: { host: target.host, target: true },
        ...(target.roleArn && {
          credentials: assumedRole(
            target.roleArn,
            `ecr-promote-${runId || 'run'}`,
            // STS is asked in the run's own region: its credentials are for that one.
            where.region
          )
        })
      })
    : source
  const pace = async (abort?: AbortSignal) => {
    await pacer.take(abort)
    paced.writes += 1
    show()
  }
  return { source, registry, pace }
}

/** What every stage of a run works with. */
interface Run {
  readonly host: Host
  readonly inputs: Inputs
  readonly context: Context
  readonly convention: Convention
  /** The registry the source image is read in: the gates and the archived restore act there. */
  readonly source: Registry
  /** The registry the run writes its tags in: the target registry, or the source's in place. */
  readonly registry: Registry
  /** Waits for a write's turn under the run's pace. */
  readonly pace: (signal?: AbortSignal) => Promise<void>
  /** Waits, the clock, the log, and the cancel's signal: every request under way is abandoned, and no write starts. */
  readonly effects: Effects
  /** Aborted when the time to put back what the run wrote is over. */
  readonly undo: AbortSignal
  /** GitHub's deployments API, connected on first use. */
  readonly github: () => Promise<Deployments>
}

/** Where every pointer is, and what is on its image: reads only. */
async function status(result: RunResult, { host, inputs, context, convention, registry }: Run) {
  const status = await host.group('Status', () =>
    readStatus(registry, convention, inputs.repositories, context.github)
  )
  return { ...result, status }
}

/** `restore-version`: takes the withdrawn mark off a version in every repository. */
async function clearMark(
  result: RunResult,
  { host, inputs, convention, registry, pace, effects }: Run,
  version: Version
): Promise<RunResult> {
  const { changes, failure } = await host.group('Clear the withdrawn mark', () =>
    clearWithdrawn(
      registry,
      convention,
      inputs.repositories,
      version,
      inputs.dryRun,
      pace,
      effects.signal
    )
  )
  const title = inputs.dryRun ? `${result.title} (dry run: nothing was written)` : result.title
  return { ...result, title, changes, ...(failure && { failure }) }
}

/**
 * With `deployments: on`, records each pointer move of a GitHub environment as a deployment. The
 * tags are written already, so a GitHub failure is a warning, never the run's failure.
 */
async function recordMoves(result: RunResult, run: Run): Promise<RunResult> {
  const { host, inputs, context, convention, registry, effects } = run
  if (!inputs.deployments || inputs.dryRun) return result
  const planned = plannedDeployments(convention, result.plans, result.changes)
  if (planned.length === 0) return result
  const deployments = await host.group('Record deployments', async () => {
    let outcomes: DeploymentOutcome[]
    try {
      outcomes = await recordDeployments(
        await run.github(),
        registry,
        convention,
        { sha: inputs.sha, github: context.github },
        planned,
        effects.signal
      )
    } catch (error) {
      outcomes = planned.map((deployment) => ({ ...deployment, warning: asError(error) }))
    }
    const warning = notRecorded(outcomes)
    if (warning) host.warning(warning)
    return outcomes
  })
  return { ...result, deployments }
}

/**
 * Where the host asks for it (the command line), the tags the run wrote are read once more after a
 * settle time: a person is told when another writer has moved one since, rather than "moved".
 */
async function readAgain(result: RunResult, { host, registry, effects }: Run): Promise<RunResult> {
  const written = result.changes.filter(
    ({ action, to, now }) => (action === 'created' || action === 'moved') && now === to
  )
  if (!host.readAgainAfterMs || written.length === 0 || result.failure !== undefined) return result
  const repositories = [...new Set(written.map(({ repository }) => repository))]
  let now: Map<string, Map<string, Manifest>>
  try {
    await effects.sleep(host.readAgainAfterMs)
    now = new Map(
      await Promise.all(
        repositories.map(
          async (repository) =>
            [
              repository,
              await registry.getManifests(
                repository,
                written
                  .filter((change) => change.repository === repository)
                  .map(({ tag }) => ({ tag }))
              )
            ] as const
        )
      )
    )
  } catch (error) {
    host.warning(`the tags were not read again after writing them: ${messageOf(error)}`)
    return result
  }
  const changes = result.changes.map((change) => {
    if (!written.includes(change)) return change
    const there = now.get(change.repository)?.get(change.tag)?.digest ?? null
    if (there === change.now) return change
    const note = `moved since by another writer to ${there ? shortDigest(there) : 'no image (removed)'}`
    host.warning(
      `${change.repository}:${change.tag} was ${change.action} by this run, then ${note} within ${host.readAgainAfterMs / 1000} s`
    )
    return { ...change, now: there, note }
  })
  return { ...result, changes }
}

/**
 * Finishes an undo that a run could not, from its journal: the action's post step, the command
 * line's `undo`. Each tag still where the run put it goes back; one another writer moved is theirs.
 */
export async function finishUndo(
  host: Host,
  entries: readonly JournalEntry[],
  {
    maxWritesPerSecond,
    journal,
    signal
  }: { maxWritesPerSecond: number; journal: Journal; signal?: AbortSignal }
): Promise<UndoOutcome[]> {
  const { registry: where, undos } = leftToUndo(entries)
  if (!where || undos.length === 0) return []
  // A run with a target registry wrote there, with the role it assumed for it.
  const { registry, pace } = pacedRegistries(
    {
      ...where,
      // The region the run was in, where STS is asked for the target's role.
      region: where.roleRegion ?? where.region,
      maxWritesPerSecond,
      ...(where.host && {
        target: {
          account: where.registryId,
          region: where.region,
          host: where.host,
          ...(where.roleArn && { roleArn: where.roleArn })
        }
      })
    },
    host,
    signal
  )
  return putBack(registry, undos, () => pace(signal), journal)
}

/** A rollback to a moment: where the pointer was then in each repository, by the deployment records. */
async function recordedPointers(
  { host, inputs, context, convention, registry, github, effects }: Run,
  trigger: ActiveTrigger
): Promise<Map<string, PointerRecord> | undefined> {
  if (trigger.event !== 'rollback' || trigger.to === 'previous' || !('at' in trigger.to))
    return undefined
  const moment = trigger.to
  const pointer = convention.rollbackPointer
  const environment = pointer && environmentOf(convention, pointer)
  if (!pointer || !environment)
    throw new Error(
      `the ${convention.name} convention maps its rollback pointer to no GitHub environment (deployments), so there is no history to roll back to ${moment.text} by: roll back to a version`
    )
  if (!context.github.repository || !inputs.githubToken)
    throw new Error(
      `a rollback to ${moment.text} reads GitHub's deployment records, which needs GITHUB_REPOSITORY and a github-token`
    )
  return host.group('Read deployment history', async () => {
    const repositories = await Promise.all(
      inputs.repositories.map(async (name) => ({
        name,
        uri: (await registry.describeRepository(name)).uri
      }))
    )
    return recordsAt(await github(), environment, repositories, pointer, moment, effects.signal)
  })
}

/** Deletes (or, in a dry run, lists) the release images outside the kept minor versions. */
async function prune(
  result: RunResult,
  { host, inputs, convention, registry, pace, effects, undo }: Run
) {
  const limits = pruneLimits(convention, inputs.prune, host.messages)
  const pruned = await host.group('Prune', () =>
    pruneReleases(registry, convention, inputs.repositories, limits, inputs.dryRun, effects, {
      pace,
      undo: { registry: registry.withSignal(undo), signal: undo }
    })
  )
  const next = { ...result, prune: pruned }
  return { ...next, ...cleanupFailure(next) }
}

/** Checks, or previews and writes, each repository's lifecycle policy, after any tag is written. */
async function keepLifecyclePolicy(
  result: RunResult,
  { host, inputs, convention, registry, effects }: Run,
  intent: LifecycleIntent
): Promise<RunResult> {
  const lifecycle = await host.group('Lifecycle policy', () =>
    maintainLifecycle(
      registry,
      convention,
      intent,
      inputs.repositories,
      inputs.dryRun,
      effects,
      wroteTags(result)
    )
  )
  const next = { ...result, lifecycle }
  return { ...next, ...cleanupFailure(next) }
}

/**
 * derive (pure) → read registry state → plan (pure) → gates → restore archived sources → apply; a
 * dry run stops before the restore and the tags are written.
 */
async function writeTags(
  result: RunResult,
  run: Run & { trigger: ActiveTrigger }
): Promise<RunResult> {
  const { host, inputs, context, convention, trigger, registry, pace, effects, undo } = run
  const recorded = await recordedPointers(run, trigger)
  let intents: Intent[]
  try {
    intents = await host.group('Decide', () => {
      host.info(`${result.title}; convention ${convention.name}`)
      host.info(`sha ${inputs.sha || '(none)'} from ${inputs.shaOrigin}`)
      const derived = tryEach(inputs.repositories, (repository) => {
        const intent = derive(
          convention,
          trigger,
          runValues(repository, inputs, context, recorded?.get(repository))
        )
        // A tag named by `source` may be a pointer: only the build tag (or a rollback's version) goes along.
        return inputs.target && !inputs.source ? withSourceTag(intent) : intent
      })
      for (const intent of derived) host.info(describeIntent(intent))
      return Promise.resolve(derived)
    })
  } catch (error) {
    // What the inputs and the convention cannot derive (a promotion it does not know, a missing sha) is bad input.
    return { ...result, failure: asError(error), badInput: true }
  }
  const prepared = await prepare(run, intents)
  const { gates, restores, problems } = prepared
  // A refused run moves nothing, so it reports no plan: no output may name a tag it did not write.
  if (problems.length > 0) return { ...result, restores, gates, failure: problemsError(problems) }
  const planned = {
    ...result,
    plans: prepared.plans,
    changes: preview(prepared.plans),
    restores,
    gates
  }
  if (inputs.dryRun)
    return {
      ...planned,
      ...(await copyImages(run, prepared, true)),
      title: `${result.title} (dry run: nothing was written)`
    }
  const { states, plans } = await confirmed(run, intents, prepared)
  effects.signal.throwIfAborted()
  if (plans.some(({ archived }) => archived))
    throw new Error('an image was archived again after its restore: no tag was written; run again')
  const copied = await copyImages(run, { states, plans }, false)
  // As a refused run: no output may name a tag the run did not write.
  if (copied.failure) return { ...result, restores, gates, ...copied }
  const work = plans.map((plan, index) =>
    repositoryWork(registry, intents[index]!, states[index]!, plan)
  )
  const journal = host.journal()
  const { target } = inputs
  journal.note({
    note: 'registry',
    registryId: registryOf(plans[0]?.uri ?? '') ?? inputs.registryId,
    region: target?.region ?? inputs.region,
    ...(target && { host: target.host }),
    ...(target?.roleArn && { roleArn: target.roleArn, roleRegion: inputs.region })
  })
  const outcome = await host.group('Write tags', () =>
    applyPlans(work, registry, effects, {
      pace,
      undo: { registry: registry.withSignal(undo), signal: undo },
      journal,
      beforeUndo: ({ steps, failure }) =>
        host.checkpoint({ ...planned, changes: steps.map(changeRow), ...(failure && { failure }) })
    })
  )
  return {
    ...planned,
    ...copied,
    changes: outcome.steps.map(changeRow),
    ...(outcome.failure && { failure: outcome.failure })
  }
}

/**
 * With a target registry, copies each source image read in the source registry into the target,
 * before any tag moves; a dry run only reads both and says what it would copy. A failed copy writes
 * no tag, and says what it copied, which stays in the target: blobs and untagged manifests.
 */
async function copyImages(
  { host, inputs, source, registry, pace, effects }: Run,
  { states, plans }: { states: readonly RepositoryState[]; plans: readonly RepositoryPlan[] },
  dryRun: boolean
): Promise<Pick<RunResult, 'copies' | 'failure'>> {
  const { target } = inputs
  // A plan that writes no tag (a push of a branch that is not main) copies nothing.
  const copying = plans.filter(
    ({ steps }, index) => states[index]?.copyFrom === 'source' && steps.some(({ write }) => write)
  )
  if (!target || copying.length === 0) return {}
  const uploads = uploadTurns()
  const copy = (repository: string, report: CopyReport, archived?: true) => ({
    repository,
    into: target.host,
    ...(dryRun && { dryRun: true as const }),
    ...report,
    ...(archived && { archived })
  })
  return host.group('Copy', async () => {
    const settled = await Promise.allSettled(
      copying.map(async ({ repository, source: manifest, archived }) => {
        const { uri } = await source.describeRepository(repository)
        const job = { repository, manifest, from: `${uri}@${manifest.digest}`, to: target.host }
        // An archived image's manifests are read once it is restored, which a dry run does not do.
        if (dryRun && archived) return copy(repository, nothingCopied(job.from), true)
        const options = { dryRun, effects, pace, fetchBlob, uploads }
        return copy(repository, await copyImage(source, registry, job, options))
      })
    )
    const copies = settled.flatMap((outcome, index) => {
      if (outcome.status === 'fulfilled') return [outcome.value]
      const failed: unknown = outcome.reason
      const repository = copying[index]?.repository ?? ''
      return failed instanceof CopyFailed ? [copy(repository, failed.report)] : []
    })
    for (const each of copies) {
      for (const warning of each.warnings) host.warning(warning)
      host.info(describeCopy(each))
    }
    const errors = settled.flatMap((outcome) =>
      outcome.status === 'rejected' ? [asError(outcome.reason)] : []
    )
    // Each failed copy says what it left in the target.
    return { copies, ...(errors.length > 0 && { failure: problemsError(errors) }) }
  })
}

/**
 * A person at a terminal confirms a plan that writes a production pointer. Once they have, the
 * registry is read and the plan made again: a plan that changed meanwhile is refused, not written.
 */
async function confirmed(
  run: Run,
  intents: readonly Intent[],
  prepared: Awaited<ReturnType<typeof prepare>>
) {
  if (!writesProduction(run.convention, prepared.plans)) return prepared
  const answer = await run.host.confirm(prepared.plans)
  if (answer === 'declined') throw new Error('not confirmed: no tag was written')
  if (answer === 'not asked') return prepared
  const again = await prepare(run, intents)
  if (again.problems.length > 0) throw problemsError(again.problems)
  const decisions = (plans: readonly RepositoryPlan[]) =>
    JSON.stringify(
      plans.map(({ steps }) =>
        steps.map(({ tag, write, from, to }) => [tag, write, from?.digest, to?.digest])
      )
    )
  if (decisions(again.plans) !== decisions(prepared.plans))
    throw new Error(
      'the registry changed while the plan was read: no tag was written; run again to see the new plan'
    )
  return again
}

/**
 * A read the gates held longer than this is read again before the writes: a run decides where its
 * tags go from its read, and a release's check after the writes hands on only what overlapping
 * releases leave, not a promotion or rollback made while the gates waited. Once: the gates' second
 * pass finds the scans and signatures done.
 */
const STALE_READ_MS = 1_000

/**
 * Reads, plans and checks the gates, and does it all again when the gates took long enough for the
 * registry to change; then restores the archived images the plans point tags at (a dry run only
 * says it would), and reads, plans and checks again. The gates go first, so a refused run restores
 * nothing; an archived image is gated once restored.
 */
async function prepare(
  { host, inputs, convention, source, registry, effects }: Run,
  intents: readonly Intent[]
) {
  let gatesTook = 0
  /** The plans by the registry their image is in: the source's, but a rollback's version the target holds. */
  const imagesIn = (states: readonly RepositoryState[], plans: readonly RepositoryPlan[]) => {
    const inTarget = (plan: RepositoryPlan) => states[plans.indexOf(plan)]?.copyFrom === 'target'
    return [
      [source, plans.filter((plan) => !inTarget(plan))],
      [registry, plans.filter(inTarget)]
    ] as const
  }
  const readPlanAndGate = async () => {
    const states = await host.group('Read the registry', () =>
      readStatesWaiting(
        registry,
        intents,
        inputs.waitForSource.ms,
        effects,
        inputs.target && source
      )
    )
    const plans = await host.group('Plan', () => {
      const planned = tryEach(intents, (intent, index) =>
        planRepository(intent, states[index]!, host.messages)
      )
      for (const line of planned.flatMap(describePlan)) host.info(line)
      return Promise.resolve(planned)
    })
    const gated = effects.clock()
    const gates = await host.group('Gates', async () =>
      (
        await Promise.all(
          imagesIn(states, plans).map(([where, held]) =>
            checkGates(where, convention, held, inputs.gates, effects, host.messages)
          )
        )
      ).flat()
    )
    gatesTook = effects.clock() - gated
    return { states, plans, gates, problems: gateProblems(gates) }
  }
  let ready = await readPlanAndGate()
  // The gates waited (a scan, a signature): another writer may have moved a pointer meanwhile.
  if (!inputs.dryRun && ready.problems.length === 0 && gatesTook > STALE_READ_MS) {
    host.info(`the gates took ${Math.round(gatesTook / 1000)} s: reading the registry again`)
    ready = await readPlanAndGate()
  }
  let restores: RestoreOutcome[] = []
  if (ready.problems.length === 0 && ready.plans.some(({ archived }) => archived)) {
    const { states, plans } = ready
    restores = await host.group('Restore archived images', async () =>
      (
        await Promise.all(
          imagesIn(states, plans).map(([where, held]) =>
            restoreArchived(where, held, inputs.dryRun, inputs.restoreTimeout, effects)
          )
        )
      ).flat()
    )
    const late = restoreProblems(restores, inputs.restoreTimeout.text)
    if (late.length > 0) ready = { ...ready, problems: late }
    else if (!inputs.dryRun) ready = await readPlanAndGate()
  }
  return { ...ready, restores }
}

function runValues(
  repository: string,
  inputs: Inputs,
  context: Context,
  recorded: PointerRecord | undefined
): RunValues {
  return {
    repository,
    ...(inputs.sha && { sha: inputs.sha }),
    service: inputs.service || repository.split('/').pop() || repository,
    source: inputs.source,
    ...(context.runNumber && { runNumber: context.runNumber }),
    date: new Date(),
    shaOrigin: inputs.shaOrigin,
    ...(inputs.waitForSource.ms > 0 && { waitForSource: inputs.waitForSource.text }),
    ...(inputs.requireTested && { requireTested: true }),
    ...(inputs.allowWithdrawn && { allowWithdrawn: true }),
    ...(recorded && { recorded })
  }
}

/** The account of a repository URI such as `123456789012.dkr.ecr.us-east-1.amazonaws.com/app`. */
const registryOf = (uri: string): string | undefined => /^(\d{12})\./.exec(uri)?.[1]

/** How a run learns that it is cancelled, and that its time to put things back is over. */
export interface Cancel {
  /** The first SIGINT or SIGTERM: no further write starts, and every request under way is abandoned. */
  readonly signal: AbortSignal
  /** `grace` ms after a SIGTERM or a second signal: the undo stops, so the run can say what is left. */
  readonly undo: AbortSignal
}

/**
 * GitHub cancels a job with SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that: the
 * first signal stops the writes and starts the undo at once, instead of dying half-promoted; a SIGTERM
 * or a second signal leaves the undo `grace` ms before the run reports what is left to put back.
 */
export function onCancel(host: Host, grace: number): Cancel & { dispose(): void } {
  const cancel = new AbortController()
  const undo = new AbortController()
  let deadline: NodeJS.Timeout | undefined
  const stop = (signal: NodeJS.Signals) => {
    const first = !cancel.signal.aborted
    if (first) {
      host.warning(
        `${signal} received: no further tag is written, and what this run wrote is put back`
      )
      cancel.abort(signal)
      if (signal === 'SIGINT') return
    }
    if (deadline !== undefined) return
    if (!first)
      host.warning(
        `${signal} received: the undo stops ${grace > 0 ? `in ${grace / 1000} s` : 'now'}`
      )
    deadline = setTimeout(() => undo.abort(`${signal} received`), grace)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  return {
    signal: cancel.signal,
    undo: undo.signal,
    dispose() {
      clearTimeout(deadline)
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }
}
