import * as core from '@actions/core'
import { describeUndo, fileJournal, readJournal } from '../run/journal.js'
import { finishUndo } from '../run/execute.js'
import { ACTION_HOST, JOURNAL_STATE } from './main.js'
import { messageOf } from '../core/model.js'
import { escape } from './summary.js'

/**
 * The action's post step. GitHub runs it when the job ends, after a cancelled or killed main step
 * too: it puts back what the main step's undo could not, from the journal the main step kept (its
 * path in the step's state), and says so in the job summary, below what the main step wrote.
 */
export async function post(): Promise<void> {
  const path = core.getState(JOURNAL_STATE)
  if (!path) return
  const journal = fileJournal(path, 'put it back by hand, as the line says', { existing: true })
  const rate = Number(core.getInput('max-writes-per-second'))
  let outcomes
  try {
    outcomes = await finishUndo(ACTION_HOST, readJournal(path), {
      maxWritesPerSecond: rate > 0 ? rate : 10,
      journal
    })
  } catch (error) {
    core.setFailed(`the post step could not put back what the run left: ${messageOf(error)}`)
    return
  }
  for (const outcome of outcomes) core.info(describeUndo(outcome))
  const failed = outcomes.filter(({ result }) => result === 'failed')
  if (failed.length === 0) journal.note({ note: 'finished' })
  // Tags that were where the undo wanted them already are no news.
  if (outcomes.every(({ result }) => result === 'already back')) return
  await core.summary
    .addHeading('ecr-promote: the undo, finished by the post step', 3)
    .addRaw(
      'The main step was stopped before it had put back everything it wrote. This post step put back the rest, where no other writer had moved it since: the list below supersedes what the main step said was left.',
      true
    )
    .addList(outcomes.map((outcome) => escape(describeUndo(outcome))))
    .write()
  for (const outcome of failed) core.error(`not put back: ${describeUndo(outcome)}`)
  if (failed.length > 0) process.exitCode = 1
}
