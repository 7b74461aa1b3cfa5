import type { RepositoryPlan } from './plan.js'

/**
 * Where a run tells what it does, and whom it asks: the runner's log for the action, the terminal
 * for the command line. The pipeline is the same for both; only this differs.
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
}
