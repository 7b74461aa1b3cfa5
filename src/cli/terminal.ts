import type { Host } from '../run/host.js'
import type { Journal } from '../run/journal.js'
import { describeRecord } from '../core/history.js'
import { messageOf, shortDigest, toSeconds } from '../core/model.js'
import { describeStays, type RepositoryPlan } from '../core/plan.js'
import { problemsOf } from '../core/problems.js'
import { CLI_MESSAGES } from './messages.js'
import {
  describeCopy,
  leftChanged,
  preview,
  versionOn,
  type Change,
  type RunResult
} from '../report/result.js'

/** The terminal a command runs in: its streams, whether a person is there, and how to ask them. */
export interface Terminal {
  readonly stdout: { write(text: string): unknown }
  readonly stderr: { write(text: string): unknown }
  /** stderr is a terminal: progress is rewritten in place there. */
  readonly live: boolean
  /** stdin and stderr are terminals: a person can be asked. */
  readonly interactive: boolean
  /** Colour on stdout: a terminal, and NO_COLOR unset. */
  readonly color: boolean
  ask(question: string): Promise<string>
}

/**
 * The command line's host: warnings and progress on stderr (progress rewritten in one line on a
 * terminal, a line each when piped), the log only with --verbose, and a question before a
 * production pointer is written when a person is at the terminal and --yes was not given: its plan
 * on stdout with the result (on stderr with --json, whose stdout is the json alone), the question
 * on stderr.
 */
export function terminalHost(
  terminal: Terminal,
  {
    yes,
    verbose,
    json = false
  }: { readonly yes: boolean; readonly verbose: boolean; readonly json?: boolean },
  journal: () => Journal
): Host & { settle(): void } {
  let showing = false
  /** Takes the progress line away. */
  const settle = () => {
    if (showing) terminal.stderr.write('\r\x1b[2K')
    showing = false
  }
  const line = (text: string) => {
    settle()
    terminal.stderr.write(`${text}\n`)
  }
  return {
    /** Before the result is printed. */
    settle,
    group: async (name, work) => {
      if (verbose) line(`== ${name}`)
      return work()
    },
    info: (message) => {
      if (verbose) line(message)
    },
    notice: (message) => line(`note: ${message}`),
    warning: (message) => line(`warning: ${message}`),
    progress: (message) => {
      if (!terminal.live) return line(message)
      terminal.stderr.write(`\r\x1b[2K${message}`)
      showing = true
    },
    async confirm(plans) {
      if (yes || !terminal.interactive) return 'not asked'
      const plan = `${changesTable(preview(plans), plans, false)}\n`
      if (json) line(plan)
      else {
        settle()
        terminal.stdout.write(`${plan}\n`)
      }
      const answer = await terminal.ask('Write these tags, production included? [y/N] ')
      return /^y(es)?$/i.test(answer.trim()) ? 'confirmed' : 'declined'
    },
    readAgainAfterMs: READ_AGAIN_AFTER_MS,
    journal,
    checkpoint: () => {
      line('putting back what this run wrote (press Ctrl-C again to stop waiting)')
      return Promise.resolve()
    },
    messages: CLI_MESSAGES
  }
}

/** Long enough for a write that raced this run's to land; short enough that nobody waits for it. */
const READ_AGAIN_AFTER_MS = 1_000

const COLORS: Readonly<Record<string, string>> = {
  created: '32',
  moved: '32',
  removed: '32',
  undone: '33',
  failed: '31',
  planned: '36'
}
const paint = (text: string, code: string | undefined, color: boolean) =>
  color && code ? `\x1b[${code}m${text}\x1b[0m` : text

/** Columns padded to their widest cell; colour codes do not count. */
function table(rows: readonly (readonly string[])[]): string {
  // eslint-disable-next-line no-control-regex -- an ANSI colour code is exactly what is not shown
  const visible = (cell: string) => cell.replace(/\x1b\[[0-9;]*m/g, '').length
  const widths = rows[0]?.map((_, column) =>
    Math.max(...rows.map((row) => visible(row[column] ?? '')))
  )
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column === row.length - 1
            ? cell
            : cell + ' '.repeat((widths?.[column] ?? 0) - visible(cell))
        )
        .join('  ')
    )
    .join('\n')
}

/** A digest with the version on it, where the registry's tags tell: `sha256:4f1c0e9a77d2 (1.1.0)`. */
function imageCell(digest: string | null, plans: readonly RepositoryPlan[], repository: string) {
  if (!digest) return '—'
  const version = versionOn(plans, repository, digest)
  return `${shortDigest(digest)}${version ? ` (${version})` : ''}`
}

export function changesTable(
  changes: readonly Change[],
  plans: readonly RepositoryPlan[],
  color: boolean
): string {
  return table([
    ['REPOSITORY', 'TAG', 'BEFORE', 'AFTER', 'ACTION'],
    ...changes.map(({ repository, tag, from, now, action, note }) => [
      repository,
      tag,
      imageCell(from, plans, repository),
      imageCell(now, plans, repository),
      paint(action, COLORS[action], color) + (note ? `: ${note}` : '')
    ])
  ])
}

/** What a run did, for a person to read: the same facts as the action's job summary. */
export function renderResult(result: RunResult, color: boolean): string {
  const parts = [result.title]
  if (result.changes.length > 0) parts.push(changesTable(result.changes, result.plans, color))
  for (const plan of result.plans) {
    if (plan.recorded) parts.push(`${plan.repository}: back to ${describeRecord(plan.recorded)}`)
    const stays = describeStays(plan, (version) => `ecr-promote rollback ${version}`)
    if (stays) parts.push(`note: ${stays}`)
  }
  for (const { repository, pointers, withdrawn } of result.status ?? []) {
    parts.push(
      table([
        [repository, 'IMAGE', 'VERSIONS', 'COMMIT', 'PUSHED', 'SCAN', 'SIGNATURE'],
        ...pointers.map((pointer) => [
          pointer.tag,
          pointer.digest ? shortDigest(pointer.digest) : 'not set',
          pointer.versions.join(', ') + (pointer.withdrawn ? ' (withdrawn)' : '') || '—',
          pointer.commit ?? '—',
          pointer.pushedAt ? toSeconds(pointer.pushedAt) : '—',
          pointer.scan ?? '—',
          pointer.signature ?? '—'
        ])
      ]),
      `withdrawn: ${withdrawn.map(({ version, digest }) => `${version} (${shortDigest(digest)})`).join(', ') || 'none'}`
    )
  }
  for (const copy of result.copies ?? []) parts.push(describeCopy(copy))
  for (const { repository, digest, was, action, seconds } of result.restores ?? [])
    parts.push(
      `${repository}@${shortDigest(digest)} was ${was}: ${action}${seconds === undefined ? '' : ` (${seconds} s)`}`
    )
  // A gate that was on, and what it found; a move no gate looked at says nothing.
  for (const { repository, tags, scan, signature, tested } of result.gates ?? []) {
    if (!scan && !signature && tested.length === 0) continue
    parts.push(
      `gates ${repository}${tags.length > 0 ? `:${tags.join(',')}` : ''}: scan ${scan ? (scan.problems.length > 0 ? 'refused' : 'passed') : 'off'}, signature ${signature ? `${signature.mode} ${signature.status}` : 'off'}${tested.length > 0 ? `, tested ${tested.map((proof) => ('by' in proof ? `from ${proof.by}` : 'refused')).join(', ')}` : ''}`
    )
  }
  for (const { repository, images, deleted, keptMinors } of result.prune ?? [])
    parts.push(
      `${repository}: ${deleted ? 'deleted' : 'would delete'} ${images.length} release images (${images.map(({ versions }) => versions.join('/')).join(', ') || 'none'}); kept minor versions ${keptMinors.join(', ') || 'none'}`
    )
  for (const { repository, action, difference } of result.lifecycle ?? [])
    parts.push(
      `${repository}: lifecycle policy ${action}${difference.length > 0 ? ` (${difference.length} differences)` : ''}`
    )
  for (const { environment, state, payload, id, warning } of result.deployments ?? [])
    parts.push(
      `deployment ${environment}: ${payload.repository}:${payload.tag} ${state}${warning ? `, not recorded (${messageOf(warning)})` : ` (${id})`}`
    )
  if (result.failure !== undefined) {
    parts.push(
      paint('failed:', '31', color),
      ...problemsOf(result.failure).map((problem) => `  ${messageOf(problem)}`)
    )
    const left = leftChanged(result)
    if (left.length > 0)
      parts.push('left changed (not undone):', ...left.map((entry) => `  ${entry}`))
  }
  return `${parts.join('\n')}\n`
}
