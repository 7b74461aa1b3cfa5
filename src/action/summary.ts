/**
 * The action's account of a run: every output (`GITHUB_OUTPUT`), a log line or annotation per
 * change, and the job summary (`GITHUB_STEP_SUMMARY`). The command line has its own (src/cli).
 */
import * as core from '@actions/core'
import { describeCounts, describeFinding } from '../core/gates.js'
import { describeRecord } from '../core/history.js'
import { messageOf, shortDigest, toSeconds } from '../core/model.js'
import { describeStays } from '../core/plan.js'
import { problemsOf } from '../core/problems.js'
import type { LifecycleOutcome, PruneOutcome } from '../run/cleanup.js'
import type { DeploymentOutcome } from '../run/deployments.js'
import type { GateOutcome } from '../run/gatekeeper.js'
import type { RestoreOutcome } from '../run/archived.js'
import type { RepositoryStatus } from '../run/status.js'
import {
  describeChange,
  describeCopy,
  formatBytes,
  jsonOutput,
  versionOn,
  wroteAnything,
  type RunResult
} from '../report/result.js'
import { VERSION } from '../report/version.js'

const COLUMNS = ['Repository', 'Tag', 'Before', 'After', 'Action']

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
  const stays = result.plans.flatMap(
    (plan) => describeStays(plan, (version) => `version: ${version}`) ?? []
  )
  // A tag held back (a lower release, a prerelease) is worth an annotation on the run, not just a log line.
  if (final) {
    for (const change of changes) (change.note ? core.notice : core.info)(describeChange(change))
    for (const line of stays) core.notice(line)
  }
  for (const { repository, action, difference } of final ? (result.lifecycle ?? []) : []) {
    if (action === 'drift')
      core.warning(
        `${repository}: the lifecycle policy differs from the one the convention renders (run with lifecycle: apply to write it): ${difference.join('; ')}`
      )
  }
  const summary = core.summary
    .addHeading(`ecr-promote ${VERSION}`, 3)
    .addRaw(escape(result.title), true)
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
  for (const line of stays) summary.addRaw(escape(line), true)
  if (result.status) addStatus(summary, result.status)
  if (result.deployments) addDeployments(summary, result.deployments)
  if (result.copies && result.copies.length > 0)
    summary.addHeading('Copied', 4).addList(result.copies.map((copy) => escape(describeCopy(copy))))
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
          warning ? `not recorded (${messageOf(warning)})` : `${state}, deployment ${id} at ${ref}`
        }`
      )
    )
  )
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

const imageCell = (digest: string | null, version: string | undefined): string =>
  digest ? `<code>${shortDigest(digest)}</code>${version ? escape(` (${version})`) : ''}` : '—'

const digestCell = (digest: string | null): string =>
  digest ? `<code>${shortDigest(digest)}</code>` : '—'

/** Branch names, tags and messages come from whoever pushed: shown as text, never as HTML or Markdown. */
export const escape = (text: string): string =>
  text.replace(/[^\w .,:;'/@+=()-]|_/g, (char) => `&#${char.codePointAt(0)};`)
