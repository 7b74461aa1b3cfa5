/** Waiting on the registry: how a stage pauses, tells the time and logs progress (injected, so tests need not wait). */
export interface Waiting {
  readonly sleep: (ms: number) => Promise<void>
  readonly clock: () => number
  readonly log: (message: string) => void
}

/** The first pause is this long, each next one twice as long, up to the last. */
const FIRST_POLL_MS = 2_000
const LAST_POLL_MS = 30_000

/**
 * Asks `done` again, with growing pauses, until it says yes or `ms` has passed; before each pause it
 * logs `progress(seconds waited)`. Returns whether `done` said yes.
 */
export async function pollUntil(
  done: () => Promise<boolean>,
  ms: number,
  waiting: Waiting,
  progress: (waitedSeconds: number) => string
): Promise<boolean> {
  const started = waiting.clock()
  for (let pause = FIRST_POLL_MS; ; pause = Math.min(pause * 2, LAST_POLL_MS)) {
    const left = started + ms - waiting.clock()
    if (left <= 0) return false
    waiting.log(progress(Math.round((waiting.clock() - started) / 1000)))
    await waiting.sleep(Math.min(pause, left))
    if (await done()) return true
  }
}
