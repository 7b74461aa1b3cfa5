import type { Journal } from './journal.js'
import type { RepositoryPlan } from '../core/plan.js'
import type { RunResult } from '../report/result.js'
import type { Messages } from '../core/messages.js'

/**
 * Where a run tells what it does, and whom it asks: the runner for the action, the terminal for the
 * command line. The pipeline is the same for both; only this differs.
 */
export interface Host {
  group<T>(name: string, work: () => Promise<T>): Promise<T>
  info(message: string): void
  notice(message: string): void
  warning(message: string): void
  /** Long work under way (waits, paced writes); a terminal rewrites the line in place. */
  progress(message: string): void
  /**
   * Before a production pointer is written. `declined` stops the run, nothing written; after a
   * person `confirmed`, the registry is read again, since they may have taken their time.
   */
  confirm(plans: readonly RepositoryPlan[]): Promise<'confirmed' | 'declined' | 'not asked'>
  /** How long after writing to read the written tags again, and say which another writer has moved since; 0: not at all. */
  readonly readAgainAfterMs: number
  /** Where the run's writes are noted before they are sent, for whoever finishes an undo it could not. */
  journal(): Journal
  /** Before an undo: what the run wrote, told at once, since the job may be killed before the undo ends. */
  checkpoint(result: RunResult): Promise<void>
  /** Its words for what went wrong. */
  readonly messages: Messages
}
