/**
 * The action's glue: its inputs from the runner (INPUT_*), its environment, and its outputs,
 * annotations and job summary back to the runner; the pipeline itself is run/execute.ts, which the
 * command line shares.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as core from '@actions/core'
import { readInputs } from '../core/inputs.js'
import { messageOf } from '../core/model.js'
import { problemsOf } from '../core/problems.js'
import { readContext } from '../run/context.js'
import { execute, onCancel, type Setup } from '../run/execute.js'
import type { Host } from '../run/host.js'
import { fileJournal, type Journal } from '../run/journal.js'
import { RUNNER_INPUTS } from './inputs.js'
import { report } from './summary.js'
import { ACTION_MESSAGES } from './messages.js'

/** The action: inputs from the runner; outputs, annotations and the job summary back to it. */
export async function run(): Promise<void> {
  // The post step runs this same entry; this tells it apart (src/index.ts).
  core.saveState(POST_STATE, 'true')
  const cancel = onCancel(ACTION_HOST, ACTION_UNDO_GRACE_MS)
  const result = await execute(ACTION_HOST, actionSetup, cancel).finally(() => cancel.dispose())
  await report(result)
  if (result.failure !== undefined) fail(result.failure)
}

/** Saved by the main step: the post step, which runs the same entry, finds it set. */
export const POST_STATE = 'isPost'

/**
 * GitHub kills a cancelled job 2.5 s after its SIGTERM: the undo stops 1.5 s after it, so that the
 * outputs and the summary say what is left, and the post step puts that back.
 */
const ACTION_UNDO_GRACE_MS = 1_500

/** In a runner, the log is the job's log and nobody is asked: the workflow is the decision. */
export const ACTION_HOST: Host = {
  group: (name, work) => core.group(name, work),
  info: (message) => core.info(message),
  notice: (message) => core.notice(message),
  warning: (message) => core.warning(message),
  progress: (message) => core.info(message),
  confirm: () => Promise.resolve('not asked'),
  readAgainAfterMs: 0,
  journal: stateJournal,
  // Outputs and the summary now, and again when the undo ends: a killed step still leaves a record.
  checkpoint: (result) => report(result, 'before the undo'),
  messages: ACTION_MESSAGES
}

function actionSetup(): Setup {
  const context = readContext()
  return {
    context,
    inputs: readInputs(context, RUNNER_INPUTS, ACTION_MESSAGES)
  }
}

/**
 * The action's journal: a file in the job's temporary directory, whose path the step's state
 * (GITHUB_STATE) keeps for the post step; the runner keeps both until the job ends, a killed step's too.
 */
function stateJournal(): Journal {
  const directory = process.env.RUNNER_TEMP || tmpdir()
  return fileJournal(
    join(directory, `ecr-promote-journal-${Date.now()}-${process.pid}.jsonl`),
    "this action's post step puts back what is left, with the same rule, when the job ends",
    { opened: (path) => core.saveState(JOURNAL_STATE, path) }
  )
}

/** The state that names the journal's file for the post step. */
export const JOURNAL_STATE = 'journal'

/**
 * One `::error::` line per problem, and exit code 1: set here, as stand-ins of `@actions/core` (such
 * as `@github/local-action`'s) have no `ExitCode`.
 */
function fail(error: unknown): void {
  for (const problem of problemsOf(error)) core.error(messageOf(problem))
  process.exitCode = 1
}
