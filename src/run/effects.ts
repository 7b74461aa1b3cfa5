/**
 * What a stage does besides reading and writing the registry: wait, tell the time, log, show
 * progress, and learn that the job is cancelled. One set, injected, so a test needs no clock and
 * no wait; every wait is `pollUntil` or a `sleep` the cancel ends.
 */
export interface Effects {
  /** Aborted when the job is cancelled: every wait ends, every request under way is abandoned. */
  readonly signal: AbortSignal
  /** Waits `ms`; rejects when `signal` (the run's, unless another is given) aborts first. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  readonly clock: () => number
  /** The run's log. */
  readonly log: (message: string) => void
  /** Long work under way (a wait, paced writes): a terminal rewrites it in place. */
  readonly progress: (message: string) => void
}

/** How a stage writes: its turn under the run's pace, and what an undo (or a repair) writes with. */
export interface Writes<Registry> {
  /** Waits for a write's turn under the run's pace; rejects, having taken nothing, if `signal` aborts first. */
  readonly pace: (signal?: AbortSignal) => Promise<void>
  /** The registry an undo reads and writes with, and the signal that ends it: the time left before the job is killed. */
  readonly undo: { readonly registry: Registry; readonly signal: AbortSignal }
}

/** The first pause is this long, each next one twice as long, up to the last. */
const FIRST_POLL_MS = 2_000
const LAST_POLL_MS = 30_000

/**
 * Asks `done` again, with growing pauses, until it says yes or `ms` has passed; before each pause it
 * shows `progress(seconds waited)`. Returns whether `done` said yes.
 */
export async function pollUntil(
  done: () => Promise<boolean>,
  ms: number,
  { clock, sleep, progress: show }: Effects,
  progress: (waitedSeconds: number) => string
): Promise<boolean> {
  const started = clock()
  for (let pause = FIRST_POLL_MS; ; pause = Math.min(pause * 2, LAST_POLL_MS)) {
    const left = started + ms - clock()
    if (left <= 0) return false
    show(progress(Math.round((clock() - started) / 1000)))
    await sleep(Math.min(pause, left))
    if (await done()) return true
  }
}
