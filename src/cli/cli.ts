/**
 * The command line: the action's pipeline (src/run) with its inputs from flags (command.ts) and its
 * account on the terminal (terminal.ts); bin.ts is the entry. It imports nothing of the action.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { commandContext } from '../run/context.js'
import { exitCode, parseCommand, type Command } from './command.js'
import { readInputs } from '../core/inputs.js'
import { describeUndo, fileJournal, readJournal, type JournalEntry } from '../run/journal.js'
import { execute, finishUndo, onCancel, type Setup } from '../run/execute.js'
import { messageOf } from '../core/model.js'
import { problemsOf } from '../core/problems.js'
import { jsonOutput } from '../report/result.js'
import { renderResult, terminalHost, type Terminal } from './terminal.js'
import { sdkRegion } from '../ecr/client.js'
import { profileExists } from '../ecr/registry.js'
import { say } from '../core/messages.js'
import { CLI_MESSAGES } from './messages.js'

/**
 * The command line: the action's pipeline, with its inputs from flags and its report on the
 * terminal. Returns the exit code.
 */
export async function cli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  terminal: Terminal
): Promise<number> {
  const parsed = parseCommand(argv)
  if ('help' in parsed) {
    terminal.stdout.write(`${parsed.help}\n`)
    return 0
  }
  if ('usage' in parsed) {
    terminal.stderr.write(`error: ${parsed.usage}\n`)
    return 2
  }
  const { command } = parsed
  // The AWS SDK reads both from the environment, as it reads every other setting of its chain.
  if (command.profile) env.AWS_PROFILE = command.profile
  if (command.endpointUrl) env.AWS_ENDPOINT_URL_ECR = command.endpointUrl
  const journal = () => {
    const path = join(tmpdir(), `ecr-promote-journal-${Date.now()}-${process.pid}.jsonl`)
    return fileJournal(path, resumeCommand(path, command))
  }
  const host = terminalHost(terminal, command, journal)
  // A second Ctrl-C stops the undo at once: the person at the terminal decides how long to wait.
  const cancel = onCancel(host, 0)
  try {
    if (command.event === 'undo') return await undo(command, host, cancel.signal, terminal)
    const result = await execute(host, () => setup(command, env), cancel)
    host.settle()
    if (command.json) {
      terminal.stdout.write(`${JSON.stringify(jsonOutput(result), null, 2)}\n`)
      if (result.failure !== undefined)
        for (const problem of problemsOf(result.failure))
          terminal.stderr.write(`error: ${messageOf(problem)}\n`)
    } else terminal.stdout.write(renderResult(result, terminal.color))
    return exitCode(result)
  } finally {
    cancel.dispose()
  }
}

async function setup(command: Command, env: NodeJS.ProcessEnv): Promise<Setup> {
  // Before the region: a misspelt profile has none, and that is not what to fix.
  if (env.AWS_PROFILE && !(await profileExists(env.AWS_PROFILE)))
    throw new Error(say(CLI_MESSAGES, { kind: 'profile-not-found', profile: env.AWS_PROFILE }))
  const region =
    command.inputs.get('region') || env.AWS_REGION || env.AWS_DEFAULT_REGION || (await sdkRegion())
  const context = commandContext(env, process.cwd(), region)
  const inputs = readInputs(
    context,
    {
      get: (name) =>
        command.inputs.get(name) || (name === 'github-token' ? (env.GITHUB_TOKEN ?? '') : ''),
      list: (name) => command.inputs.list(name)
    },
    CLI_MESSAGES
  )
  return { context, inputs }
}

/** What finishes an undo this command could not: the same command line's `undo`, with its flags. */
const resumeCommand = (path: string, { profile, endpointUrl }: Command): string =>
  `to put back what is left, run: ecr-promote undo ${path}${profile ? ` --profile ${profile}` : ''}${endpointUrl ? ` --endpoint-url ${endpointUrl}` : ''}`

/** `ecr-promote undo <journal>`: puts back what a cancelled or killed run left, from its journal. */
async function undo(
  command: Command,
  host: ReturnType<typeof terminalHost>,
  signal: AbortSignal,
  terminal: Terminal
): Promise<number> {
  const path = command.inputs.get('journal')
  let entries: JournalEntry[]
  try {
    entries = readJournal(path)
  } catch (error) {
    terminal.stderr.write(`error: cannot read the journal ${path}: ${messageOf(error)}\n`)
    return 2
  }
  const journal = fileJournal(path, resumeCommand(path, command), { existing: true })
  const maxWritesPerSecond = Number(command.inputs.get('max-writes-per-second') || 10)
  const outcomes = await finishUndo(host, entries, { maxWritesPerSecond, journal, signal })
  host.settle()
  for (const outcome of outcomes) terminal.stdout.write(`${describeUndo(outcome)}\n`)
  const failed = outcomes.filter(({ result }) => result === 'failed')
  if (failed.length > 0) {
    terminal.stderr.write(`error: ${failed.length} tags are not put back yet; ${journal.resume}\n`)
    return 3
  }
  journal.note({ note: 'finished' })
  terminal.stdout.write(
    outcomes.length > 0
      ? 'nothing is left to put back\n'
      : 'the journal leaves nothing to put back\n'
  )
  return 0
}
