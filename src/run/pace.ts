/**
 * One token bucket for every write of a run, in every repository, undo included: ECR's PutImage
 * quota is per account and region (10 a second, bursts of 10, by default), so the run paces itself
 * instead of being throttled. A throttle from ECR slows the pace; it then recovers over a few seconds.
 */
export class WritePacer {
  private readonly burst: number
  private tokens: number
  private rate: number
  private updated: number
  /** Callers are served in order: each waits for the one before it. */
  private queue: Promise<void> = Promise.resolve()

  constructor(
    private readonly maxRate: number,
    private readonly clock: () => number,
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  ) {
    // One token short of ECR's own burst, so that requests arriving a little unevenly never find its bucket empty.
    this.burst = Math.max(1, maxRate - 1)
    this.tokens = this.burst
    this.rate = maxRate
    this.updated = clock()
  }

  /** Waits for a write's turn; rejects, having taken nothing, if `signal` aborts first. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.acquire(signal))
    this.queue = turn.catch(() => undefined)
    return turn
  }

  /** ECR throttled a write: slow the pace by a quarter and empty the bucket, so the next writes wait. */
  throttled(): void {
    this.refill()
    this.rate = Math.max(this.maxRate / 8, this.rate * THROTTLE_FACTOR)
    this.tokens = Math.min(this.tokens, 0)
  }

  private async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted()
      this.refill()
      if (this.tokens >= 1) {
        this.tokens -= 1
        return
      }
      // Whole milliseconds, so that rounding can never leave a wait too short to refill anything.
      await this.sleep(Math.max(1, Math.ceil(((1 - this.tokens) / this.rate) * 1000)), signal)
    }
  }

  private refill(): void {
    const now = this.clock()
    const seconds = Math.max(0, now - this.updated) / 1000
    this.updated = now
    this.tokens = Math.min(this.burst, this.tokens + seconds * this.rate)
    // Back to the full pace over a few seconds without a throttle.
    this.rate = Math.min(this.maxRate, this.rate + (seconds * this.maxRate) / RECOVERY_SECONDS)
  }
}

const THROTTLE_FACTOR = 0.75
const RECOVERY_SECONDS = 3
