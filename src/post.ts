import * as core from '@actions/core'
import { describeUndo, type JournalEntry } from './journal.js'
import { ACTION_HOST, finishUndo, JOURNAL_STATE } from './main.js'
import { messageOf } from './model.js'
import { escape } from './report.js'

/**
 * The action's post step. GitHub runs it when the job ends, after a cancelled or killed main step
 * too: it puts back what the main step's undo could not, from the journal the main step kept in its
 * state, and replaces the job summary's account with the final one.
 */
export async function post(): Promise<void> {
  const entries = journalOf(process.env)
  const rate = Number(core.getInput('max-writes-per-second'))
  const outcomes = await finishUndo(ACTION_HOST, entries, {
    maxWritesPerSecond: rate > 0 ? rate : 10,
    journal: { note: () => undefined, resume: 'run the workflow again, or put it back by hand' }
  }).catch((error: unknown) => {
    core.setFailed(`the post step could not put back what the run left: ${messageOf(error)}`)
    return undefined
  })
  if (!outcomes || outcomes.length === 0) return
  for (const outcome of outcomes) core.info(describeUndo(outcome))
  const failed = outcomes.filter(({ result }) => result === 'failed')
  await core.summary
    .addHeading('ecr-promote: the undo, finished after the job was stopped', 3)
    .addRaw(
      'The main step was stopped before it had put back everything it wrote; this post step put back the rest, where no other writer had moved it since. This replaces what the main step said was left.',
      true
    )
    .addList(outcomes.map((outcome) => escape(describeUndo(outcome))))
    .write()
  for (const outcome of failed) core.error(`not put back: ${describeUndo(outcome)}`)
  if (failed.length > 0) process.exitCode = 1
}

/** The main step's journal, as the runner hands a post step its state: `STATE_journal-1`, … */
function journalOf(env: NodeJS.ProcessEnv): JournalEntry[] {
  const entries: JournalEntry[] = []
  for (let index = 1; env[`STATE_${JOURNAL_STATE}${index}`] !== undefined; index++)
    entries.push(JSON.parse(env[`STATE_${JOURNAL_STATE}${index}`] as string) as JournalEntry)
  return entries
}
