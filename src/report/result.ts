/**
 * What a run did, as one value shared by both hosts: the changes (the `changes` output), the
 * outcome of every stage, the failure, and the `json` output built from them; the action writes it
 * to the runner (src/action/summary.ts), the command line to the terminal (src/cli/terminal.ts).
 */
import type { Intent } from '../core/derive.js'
import type { RepositoryPlan } from '../core/plan.js'
import type { CopyReport } from '../core/copy.js'
import { describeRef, messageOf, shortDigest } from '../core/model.js'
import { problemsError } from '../core/problems.js'
import type { Action, StepOutcome } from '../run/apply.js'
import type { RestoreOutcome } from '../run/archived.js'
import type { LifecycleOutcome, PruneOutcome } from '../run/cleanup.js'
import type { DeploymentOutcome } from '../run/deployments.js'
import type { GateOutcome } from '../run/gatekeeper.js'
import type { RepositoryStatus } from '../run/status.js'
import { VERSION } from './version.js'

/** A `failed` write did not land, so only these mean the registry was written. */
const WRITING_ACTIONS: readonly Action[] = ['created', 'moved', 'undone', 'removed']

/**
 * One row of the `changes` output: `to` is where this run points (or would point) the tag, `now`
 * where the registry shows it when the run ends (which another writer may have changed since).
 */
export interface Change {
  readonly repository: string
  readonly tag: string
  readonly from: string | null
  readonly to: string | null
  readonly action: Action
  readonly now: string | null
  /** Why a tag stayed or what became of it, for the log and summary; not part of the `changes` output. */
  readonly note?: string
}

export function changeRow({
  repository,
  step,
  action,
  now,
  note = step.note
}: StepOutcome): Change {
  return {
    repository,
    tag: step.tag,
    from: step.from?.digest ?? null,
    to: step.to?.digest ?? null,
    action,
    now,
    ...(note && { note })
  }
}

/** A dry run's rows: where each tag would be once the plan is written. */
export const preview = (plans: readonly RepositoryPlan[]): Change[] =>
  plans.flatMap(({ repository, steps }) =>
    steps.map((step) =>
      changeRow(
        step.write
          ? { repository, step, action: 'planned', now: step.to.digest }
          : { repository, step, action: 'unchanged', now: step.from?.digest ?? null }
      )
    )
  )

export const describeChange = (change: Change): string => {
  const note = change.note ? ` (${change.note})` : ''
  return `${change.repository}:${change.tag} ${change.from ? shortDigest(change.from) : '(none)'} -> ${change.now ? shortDigest(change.now) : '(none)'} ${change.action}${note}`
}

/** What the copy of one repository's source image into the target registry did. */
export type Copy = CopyReport & {
  readonly repository: string
  /** The target registry's host. */
  readonly into?: string
  readonly dryRun?: true
  /** A dry run's archived source image: what it holds is read only once it is restored. */
  readonly archived?: true
}

/** `copied 3 of 7 blobs (41.2 MiB), 4 manifests, 2 referrers from <source> in 12.4 s`; a dry run's: `would copy …`. */
export function describeCopy(copy: Copy): string {
  const { blobs, bytes, manifests, referrers, from, ms, dryRun, archived } = copy
  const into = copy.into ? ` into ${copy.into}` : ''
  if (archived)
    return `${copy.repository}: would copy ${from}${into} once it is restored (an archived image cannot be read before)`
  const what = `${blobs.copied} of ${blobs.lacking + blobs.present} blobs (${formatBytes(bytes)}), ${manifests} manifests, ${referrers} referrers from ${from}${into}`
  return dryRun
    ? `${copy.repository}: would copy ${what}`
    : `${copy.repository}: copied ${what} in ${(ms / 1000).toFixed(1)} s`
}

export const formatBytes = (bytes: number): string =>
  bytes < 1024 ** 2 ? `${bytes} B` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`

export interface RunResult {
  /** What the run was asked to do, such as `release 1.2.0`. */
  readonly title: string
  /** The repositories, in the order of the `repository` input. */
  readonly repositories: readonly string[]
  readonly plans: readonly RepositoryPlan[]
  readonly changes: readonly Change[]
  readonly lifecycle?: readonly LifecycleOutcome[]
  readonly prune?: readonly PruneOutcome[]
  /** With a target registry: each source image copied (or, in a dry run, to be copied) before any tag moved. */
  readonly copies?: readonly Copy[]
  /** Archived source images, restored (or, in a dry run, to be restored) before any write. */
  readonly restores?: readonly RestoreOutcome[]
  /** What the gates found for each repository that moves a guarded or tested pointer. */
  readonly gates?: readonly GateOutcome[]
  /** `event: status`: where every pointer is, by repository. */
  readonly status?: readonly RepositoryStatus[]
  /** The GitHub deployments recorded for the pointers the run moved. */
  readonly deployments?: readonly DeploymentOutcome[]
  readonly failure?: Error
  /** The failure came before the registry was reached: an input, the convention, the event. */
  readonly badInput?: boolean
}

/**
 * What a failed run leaves changed in the registry, that its undo could not put back: each tag left
 * written, each image deleted, each policy written. Empty when the registry is as it was.
 */
export function leftChanged({ changes, lifecycle = [], prune = [] }: RunResult): string[] {
  return [
    ...changes
      .filter(
        // Still where this run put it: a tag another writer moved since is theirs.
        ({ action, from, to, now }) =>
          (WRITING_ACTIONS.includes(action) || action === 'failed') && now === to && now !== from
      )
      .map(
        ({ repository, tag, now }) =>
          `${repository}:${tag} now ${now ? `on ${shortDigest(now)}` : 'removed'}`
      ),
    ...lifecycle.flatMap(({ repository, action }) =>
      action === 'written' ? [`${repository}: lifecycle policy written`] : []
    ),
    ...prune.flatMap(({ repository, deleted, images, kept }) => [
      ...(deleted
        ? images.map(({ digest }) => `${repository}@${shortDigest(digest)} deleted`)
        : []),
      ...kept.flatMap(({ removed }) => removed.map((tag) => `${repository}:${tag} now removed`))
    ])
  ]
}

/**
 * What the cleanup stages could not do: a policy whose preview expires what the convention keeps is
 * refused in every repository; a write or delete that failed is named with what it left.
 */
export function cleanupFailure({ lifecycle = [], prune = [] }: RunResult): { failure?: Error } {
  const problems = [
    ...lifecycle.flatMap(({ repository, refused }) =>
      refused.map(
        ({ image, reason }) =>
          `the lifecycle policy would expire ${repository}@${shortDigest(image.digest)}${image.tags.length > 0 ? ` (${image.tags.join(', ')})` : ''}: ${reason}`
      )
    ),
    ...(lifecycle.some(({ action }) => action === 'refused')
      ? ['no lifecycle policy was written']
      : []),
    ...lifecycle.flatMap(({ repository, error }) =>
      error ? [`the lifecycle policy of ${repository} was not written: ${messageOf(error)}`] : []
    ),
    ...prune.flatMap(({ repository, images, error }) =>
      error
        ? [
            `prune of ${repository} stopped after deleting ${images.length} images: ${messageOf(error)}`
          ]
        : []
    )
  ]
  return problems.length > 0 ? { failure: problemsError(problems) } : {}
}

/** The `json` output: one object per repository, in the order of `repository`; the CLI's `--json` too. */
export function jsonOutput({
  repositories,
  plans,
  changes,
  lifecycle,
  prune,
  restores,
  gates,
  status,
  deployments,
  copies
}: RunResult) {
  return repositories.map((repository) => {
    const plan = plans.find((candidate) => candidate.repository === repository)
    const policy = lifecycle?.find((candidate) => candidate.repository === repository)
    const pruned = prune?.find((candidate) => candidate.repository === repository)
    const restored = restores?.find((candidate) => candidate.repository === repository)
    const copied = copies?.find(
      (candidate) => candidate.repository === repository && !candidate.archived
    )
    const gated = gates?.find((candidate) => candidate.repository === repository)
    const read = status?.find((candidate) => candidate.repository === repository)
    const deployed = deployments?.filter(({ payload }) => payload.repository === repository)
    const rows = changes.filter((change) => change.repository === repository)
    const onSource = rows.filter(({ now }) => plan && now === plan.source.digest)
    return {
      repository,
      uri: plan?.uri ?? read?.uri ?? '',
      digest: plan?.source.digest ?? '',
      version: plan?.version?.text ?? '',
      'previous-digest': rows.find(({ tag }) => tag === plan?.pointer)?.from ?? '',
      tags: onSource.map(({ tag }) => tag),
      changes: rows.map(({ tag, from, to, action, now }) => ({
        repository,
        tag,
        from,
        to,
        action,
        now
      })),
      ...(copied && {
        copy: {
          from: copied.from,
          blobs: { copied: copied.blobs.copied, present: copied.blobs.present },
          bytes: copied.bytes,
          manifests: copied.manifests,
          referrers: copied.referrers
        }
      }),
      ...(restored && {
        restore: {
          digest: restored.digest,
          was: restored.was,
          action: restored.action,
          seconds: restored.seconds ?? null
        }
      }),
      ...(gated && { gates: gateJson(gated) }),
      ...(plan?.recorded && {
        history: {
          deployment: plan.recorded.id,
          environment: plan.recorded.environment,
          'created-at': plan.recorded.createdAt.toISOString(),
          digest: plan.recorded.payload.digest
        }
      }),
      ...(read && statusJson(read)),
      ...(deployed &&
        deployed.length > 0 && {
          deployments: deployed.map(({ environment, state, payload, id, ref, warning }) => ({
            environment,
            tag: payload.tag,
            digest: payload.digest,
            state,
            id: id ?? null,
            ref: ref ?? null,
            ...(warning && { warning: messageOf(warning) })
          }))
        }),
      ...(pruned && {
        prune: {
          deleted: pruned.deleted,
          'kept-minor-versions': pruned.keptMinors,
          images: pruned.images.map(({ digest, versions, pushedAt, sizeBytes }) => ({
            digest,
            versions,
            'pushed-at': pushedAt?.toISOString() ?? null,
            size: sizeBytes ?? null
          })),
          kept: pruned.kept.map(({ digest, versions, reason }) => ({ digest, versions, reason }))
        }
      }),
      ...(policy && {
        lifecycle: {
          action: policy.action,
          difference: policy.difference,
          expiring: policy.preview?.expiring.map(({ digest, tags }) => ({ digest, tags })) ?? [],
          'bytes-freed': policy.preview?.bytes ?? 0
        }
      }),
      // Named after the tool, so it reads as no fact of the repository: `version` is its release's.
      'ecr-promote': VERSION
    }
  })
}

function statusJson({ pointers, withdrawn }: RepositoryStatus) {
  return {
    pointers: pointers.map((pointer) => ({
      tag: pointer.tag,
      digest: pointer.digest,
      versions: pointer.versions,
      'build-tag': pointer.buildTag,
      commit: pointer.commit,
      'commit-url': pointer.commitUrl,
      'pushed-at': pointer.pushedAt?.toISOString() ?? null,
      size: pointer.sizeBytes,
      scan: pointer.scan,
      signature: pointer.signature,
      withdrawn: pointer.withdrawn
    })),
    withdrawn
  }
}

function gateJson({ tags, image, scan, signature, tested }: GateOutcome) {
  return {
    tags,
    digest: image.digest,
    scan: scan
      ? {
          threshold: scan.threshold,
          passed: scan.problems.length === 0,
          counts: scan.counts,
          images: scan.images.map(({ digest, platform, status }) => ({
            digest,
            platform: platform ?? null,
            status
          })),
          top: scan.top.map(({ id, severity, package: name, fixAvailable }) => ({
            id,
            severity,
            package: name ?? null,
            'fix-available': fixAvailable ?? null
          })),
          ignored: scan.ignored
        }
      : 'off',
    signature: signature
      ? {
          mode: signature.mode,
          status: signature.status,
          passed: signature.problems.length === 0,
          detail: signature.detail ?? null
        }
      : 'off',
    tested
  }
}

/** Whether any tag write of the run landed. */
export const wroteTags = ({ changes }: Pick<RunResult, 'changes'>): boolean =>
  changes.some(({ action }) => WRITING_ACTIONS.includes(action))

export const wroteAnything = ({ changes, lifecycle = [], prune = [] }: RunResult): boolean =>
  wroteTags({ changes }) ||
  lifecycle.some(({ action }) => action === 'written') ||
  prune.some(
    ({ deleted, images, kept }) =>
      (deleted && images.length > 0) || kept.some(({ removed }) => removed.length > 0)
  )

/** The version the registry's tags put on an image a plan names, for people to read. */
export const versionOn = (
  plans: readonly RepositoryPlan[],
  repository: string,
  digest: string | null
): string | undefined =>
  digest === null
    ? undefined
    : plans.find((plan) => plan.repository === repository)?.versions?.get(digest)

/** One log line per planned tag, with the reason for each decision. */
export function describePlan(plan: RepositoryPlan): string[] {
  const version = plan.version ? ` (version ${plan.version.text})` : ''
  return [
    `${plan.repository}: source ${shortDigest(plan.source.digest)}${version}`,
    ...plan.steps.map((step) => {
      const from = step.from ? shortDigest(step.from.digest) : '(none)'
      const decision = step.write
        ? `write ${from} -> ${shortDigest(step.to.digest)}`
        : step.note
          ? `hold on ${from}: ${step.note}`
          : `already on ${from}`
      return `  ${step.tag} [${step.kind}]: ${decision}`
    })
  ]
}

/** What a run derived for one repository, before reading the registry. */
export function describeIntent(intent: Intent): string {
  const source =
    'previousVersionOf' in intent.source
      ? `the stable version below the one on ${intent.source.previousVersionOf}`
      : 'buildTagMatching' in intent.source
        ? `the build tagged ${intent.source.buildTagMatching}`
        : describeRef(intent.source)
  const targets =
    intent.targets.map(({ tag, kind }) => `${tag} (${kind})`).join(', ') ||
    'no tag: it only checks that the image exists'
  return `${intent.repository}: from ${source}; ${targets}`
}
