import * as core from '@actions/core'
import type { Action, StepOutcome } from './apply.js'
import type { LifecycleOutcome, PruneOutcome } from './cleanup.js'
import type { Intent } from './derive.js'
import type { DeploymentOutcome } from './deployments.js'
import type { GateOutcome } from './gatekeeper.js'
import { describeRecord } from './history.js'
import type { RepositoryStatus } from './status.js'
import { describeCounts, describeFinding } from './gates.js'
import type { RestoreOutcome } from './restore.js'
import { describeRef, messageOf, shortDigest, toSeconds } from './model.js'
import type { RepositoryPlan } from './plan.js'
import { problemsError, problemsOf } from './problems.js'

const COLUMNS = ['Repository', 'Tag', 'Before', 'After', 'Action']
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

export interface RunResult {
  /** What the run was asked to do, such as `release 1.2.0`. */
  readonly title: string
  /** The repositories, in the order of the `repository` input. */
  readonly repositories: readonly string[]
  readonly plans: readonly RepositoryPlan[]
  readonly changes: readonly Change[]
  readonly lifecycle?: readonly LifecycleOutcome[]
  readonly prune?: readonly PruneOutcome[]
  /** Archived source images, restored (or, in a dry run, to be restored) before any write. */
  readonly restores?: readonly RestoreOutcome[]
  /** What the gates found for each repository that moves a guarded or tested pointer. */
  readonly gates?: readonly GateOutcome[]
  /** `event: status`: where every pointer is, by repository. */
  readonly status?: readonly RepositoryStatus[]
  /** The GitHub deployments recorded for the pointers the run moved. */
  readonly deployments?: readonly DeploymentOutcome[]
  readonly failure?: unknown
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
      error ? [`the lifecycle policy of ${repository} was not written: ${error}`] : []
    ),
    ...prune.flatMap(({ repository, images, error }) =>
      error
        ? [`prune of ${repository} stopped after deleting ${images.length} images: ${error}`]
        : []
    )
  ]
  return problems.length > 0 ? { failure: problemsError(problems) } : {}
}

/**
 * Sets every output, logs each change and writes the job summary, for a run that ended well or not.
 * `before the undo`: the outputs and the summary only, as the registry is when an undo starts; the
 * run's end sets and writes them again (a killed step keeps these).
 */
export async function report(
  result: RunResult,
  moment: 'at the end' | 'before the undo' = 'at the end'
): Promise<void> {
  const { changes } = result
  if (result.repositories.length > 0) setOutputs(result)
  const final = moment === 'at the end'
  // A tag held back (a lower release, a prerelease) is worth an annotation on the run, not just a log line.
  if (final)
    for (const change of changes) (change.note ? core.notice : core.info)(describeChange(change))
  for (const { repository, action, difference } of final ? (result.lifecycle ?? []) : []) {
    if (action === 'drift')
      core.warning(
        `${repository}: the lifecycle policy differs from the one the convention renders (run with lifecycle: apply to write it): ${difference.join('; ')}`
      )
  }
  const summary = core.summary.addHeading('ecr-promote', 3).addRaw(escape(result.title), true)
  if (changes.length > 0) {
    summary.addTable([
      COLUMNS.map((data) => ({ data, header: true })),
      ...changes.map((change) => [
        escape(change.repository),
        `<code>${escape(change.tag)}</code>`,
        imageCell(change.from, versionOn(result.plans, change.repository, change.from)),
        imageCell(change.now, versionOn(result.plans, change.repository, change.now)),
        escape(change.note ? `${change.action}: ${change.note}` : change.action)
      ])
    ])
  }
  const recorded = result.plans.flatMap(({ repository, recorded }) =>
    recorded ? [`${repository}: back to ${describeRecord(recorded)}`] : []
  )
  if (recorded.length > 0)
    summary.addHeading('From the deployment history', 4).addList(recorded.map(escape))
  if (result.status) addStatus(summary, result.status)
  if (result.deployments) addDeployments(summary, result.deployments)
  if (result.restores && result.restores.length > 0) addRestores(summary, result.restores)
  if (result.gates && result.gates.length > 0) addGates(summary, result.gates)
  if (result.prune) addPrune(summary, result.prune)
  if (result.lifecycle) addLifecycle(summary, result.lifecycle)
  if (result.failure !== undefined) {
    summary
      .addHeading('Failed', 4)
      .addList(problemsOf(result.failure).map((p) => escape(messageOf(p))))
    if (!wroteAnything(result)) summary.addRaw('Nothing was written.', true)
  }
  if (!final)
    summary.addRaw(
      'Putting back what this run wrote. If the job is killed first, the post step of this action puts back what is left, and writes the summary again.',
      true
    )
  try {
    await summary.write({ overwrite: true })
  } catch (error) {
    // Outside a runner there is no GITHUB_STEP_SUMMARY; the log and outputs still tell everything.
    core.warning(`no job summary written: ${messageOf(error)}`)
  }
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
  deployments
}: RunResult) {
  return repositories.map((repository) => {
    const plan = plans.find((candidate) => candidate.repository === repository)
    const policy = lifecycle?.find((candidate) => candidate.repository === repository)
    const pruned = prune?.find((candidate) => candidate.repository === repository)
    const restored = restores?.find((candidate) => candidate.repository === repository)
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
            ...(warning && { warning })
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
      })
    }
  })
}

function setOutputs(result: RunResult): void {
  const perRepository = jsonOutput(result)
  // One line per repository, in input order, blank where none applies, so lines match repositories.
  const lines = (field: 'digest' | 'version' | 'previous-digest') =>
    perRepository.map((entry) => entry[field]).join('\n')
  core.setOutput('digest', lines('digest'))
  core.setOutput('previous-digest', lines('previous-digest'))
  core.setOutput('version', lines('version'))
  core.setOutput('tags', [...new Set(perRepository.flatMap(({ tags }) => tags))].join('\n'))
  core.setOutput(
    'images',
    perRepository.flatMap(({ uri, tags }) => tags.map((tag) => `${uri}:${tag}`)).join('\n')
  )
  core.setOutput('changes', JSON.stringify(perRepository.flatMap((entry) => entry.changes)))
  core.setOutput('json', JSON.stringify(perRepository))
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

function addStatus(summary: typeof core.summary, statuses: readonly RepositoryStatus[]): void {
  summary.addTable([
    [
      'Repository',
      'Pointer',
      'Image',
      'Versions',
      'Commit',
      'Pushed',
      'Size',
      'Scan',
      'Signature'
    ].map((data) => ({ data, header: true })),
    ...statuses.flatMap(({ repository, pointers }) =>
      pointers.map((pointer) => {
        const commit = pointer.commit ? `<code>${escape(pointer.commit)}</code>` : '—'
        return [
          escape(repository),
          `<code>${escape(pointer.tag)}</code>`,
          pointer.digest ? digestCell(pointer.digest) : 'not set',
          escape(pointer.versions.join(', ') + (pointer.withdrawn ? ' (withdrawn)' : '') || '—'),
          pointer.commitUrl ? `<a href="${escape(pointer.commitUrl)}">${commit}</a>` : commit,
          pointer.pushedAt ? escape(toSeconds(pointer.pushedAt)) : '—',
          pointer.sizeBytes === null ? '—' : escape(formatBytes(pointer.sizeBytes)),
          escape(pointer.scan ?? '—'),
          escape(pointer.signature ?? '—')
        ]
      })
    )
  ])
  const withdrawn = statuses.flatMap(({ repository, withdrawn }) =>
    withdrawn.map(
      ({ version, tag, digest }) => `${repository}: ${version} (${tag} on ${shortDigest(digest)})`
    )
  )
  summary.addHeading('Withdrawn versions', 4)
  if (withdrawn.length > 0) summary.addList(withdrawn.map(escape))
  else summary.addRaw('None.', true)
}

function addDeployments(summary: typeof core.summary, outcomes: readonly DeploymentOutcome[]) {
  summary.addHeading('GitHub deployments', 4)
  summary.addList(
    outcomes.map(({ environment, state, payload, id, ref, warning }) =>
      escape(
        `${environment}: ${payload.repository}:${payload.tag} on ${shortDigest(payload.digest)}${payload.version ? ` (${payload.version})` : ''}: ${
          warning ? `not recorded (${warning})` : `${state}, deployment ${id} at ${ref}`
        }`
      )
    )
  )
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

function addRestores(summary: typeof core.summary, outcomes: readonly RestoreOutcome[]): void {
  summary.addHeading('Archived images', 4)
  summary.addList(
    outcomes.map(({ repository, digest, was, action, seconds }) =>
      escape(
        `${repository}@${shortDigest(digest)} was ${was}: ${action}${seconds === undefined ? '' : ` (${seconds} s)`}${action === 'would restore' ? '; the gates check it once it is restored' : ''}`
      )
    )
  )
}

function addGates(summary: typeof core.summary, outcomes: readonly GateOutcome[]): void {
  summary.addHeading('Gates', 4)
  summary.addTable([
    ['Repository', 'Pointer', 'Image', 'Scan', 'Signature', 'Tested'].map((data) => ({
      data,
      header: true
    })),
    ...outcomes.map(({ repository, tags, image, scan, signature, tested }) => [
      escape(repository),
      escape(tags.join(', ') || '—'),
      digestCell(image.digest),
      scan ? scanCell(scan) : 'off',
      signature
        ? escape(
            `${signature.problems.length > 0 ? 'refused' : 'passed'}: ${signature.mode} ${signature.status}${signature.detail ? ` (${signature.detail})` : ''}`
          )
        : 'off',
      escape(
        tested
          .map((proof) =>
            'by' in proof ? `${proof.pointer} from ${proof.by}` : `${proof.pointer}: refused`
          )
          .join('; ') || '—'
      )
    ])
  ])
}

function scanCell({
  threshold,
  problems,
  counts,
  images,
  top,
  ignored
}: NonNullable<GateOutcome['scan']>) {
  const lines = [
    `${problems.length > 0 ? 'refused' : 'passed'} (${threshold === 'off' ? 'scan required, no severity limit' : `fail on ${threshold}`}): ${describeCounts(counts)}`,
    ...images.map(({ platform, status }) => `${platform ?? 'image'}: ${status}`),
    ...top.map(describeFinding),
    ...(ignored.length > 0 ? [`ignored: ${ignored.join(', ')}`] : [])
  ]
  return lines.map(escape).join('<br>')
}

function addPrune(summary: typeof core.summary, outcomes: readonly PruneOutcome[]): void {
  for (const { repository, keptMinors, images, kept, deleted } of outcomes) {
    const total = images.reduce((sum, { sizeBytes = 0 }) => sum + sizeBytes, 0)
    summary.addHeading(
      escape(
        `${repository}: ${deleted ? 'deleted' : 'would delete'} ${images.length} release images (${formatBytes(total)})`
      ),
      4
    )
    summary.addRaw(escape(`kept minor versions: ${keptMinors.join(', ') || 'none'}`), true)
    if (images.length > 0)
      summary.addTable([
        ['Versions', 'Digest', 'Pushed', 'Size'].map((data) => ({ data, header: true })),
        ...images.map(({ versions, digest, pushedAt, sizeBytes }) => [
          escape(versions.join(', ')),
          digestCell(digest),
          pushedAt ? pushedAt.toISOString().slice(0, 10) : '—',
          sizeBytes === undefined ? '—' : escape(formatBytes(sizeBytes))
        ])
      ])
    if (kept.length > 0)
      summary
        .addRaw(escape(`kept ${kept.length} planned release images:`), true)
        .addList(
          kept.map(
            ({ versions, digest, reason }) =>
              `${escape(versions.join(', '))} <code>${shortDigest(digest)}</code>: ${escape(reason)}`
          )
        )
  }
}

function addLifecycle(summary: typeof core.summary, outcomes: readonly LifecycleOutcome[]): void {
  summary.addHeading('Lifecycle policy', 4)
  summary.addTable([
    ['Repository', 'Policy', 'Expiring', 'Freed', 'Refused'].map((data) => ({
      data,
      header: true
    })),
    ...outcomes.map(({ repository, action, preview, refused }) => [
      escape(repository),
      escape(action),
      preview
        ? escape(
            Object.entries(preview.byRule)
              .map(([rule, count]) => `rule ${rule}: ${count}`)
              .join('; ') || 'none'
          )
        : '—',
      preview ? escape(formatBytes(preview.bytes)) : '—',
      refused.length > 0
        ? refused
            .map(
              ({ image, reason }) => `<code>${shortDigest(image.digest)}</code> ${escape(reason)}`
            )
            .join('<br>')
        : '—'
    ])
  ])
  for (const { repository, difference } of outcomes) {
    if (difference.length > 0)
      summary.addDetails(
        escape(`${repository}: how the policy differs`),
        `<ul>${difference.map((line) => `<li>${escape(line)}</li>`).join('')}</ul>`
      )
  }
}

/** Whether any tag write of the run landed. */
export const wroteTags = ({ changes }: Pick<RunResult, 'changes'>): boolean =>
  changes.some(({ action }) => WRITING_ACTIONS.includes(action))

const wroteAnything = ({ changes, lifecycle = [], prune = [] }: RunResult): boolean =>
  wroteTags({ changes }) ||
  lifecycle.some(({ action }) => action === 'written') ||
  prune.some(
    ({ deleted, images, kept }) =>
      (deleted && images.length > 0) || kept.some(({ removed }) => removed.length > 0)
  )

const formatBytes = (bytes: number): string =>
  bytes < 1024 ** 2 ? `${bytes} B` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`

/** The version the registry's tags put on an image a plan names, for people to read. */
export const versionOn = (
  plans: readonly RepositoryPlan[],
  repository: string,
  digest: string | null
): string | undefined =>
  digest === null
    ? undefined
    : plans.find((plan) => plan.repository === repository)?.versions?.get(digest)

const imageCell = (digest: string | null, version: string | undefined): string =>
  digest ? `<code>${shortDigest(digest)}</code>${version ? escape(` (${version})`) : ''}` : '—'

const digestCell = (digest: string | null): string =>
  digest ? `<code>${shortDigest(digest)}</code>` : '—'

/** Branch names, tags and messages come from whoever pushed: shown as text, never as HTML or Markdown. */
export const escape = (text: string): string =>
  text.replace(/[^\w .,:;'/@+=()-]|_/g, (char) => `&#${char.codePointAt(0)};`)

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
