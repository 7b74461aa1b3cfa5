// @ts-check
/**
 * Fault injection, latency and quotas (control; none of it is active until a test asks).
 *
 * Real ECR calls can be slow, fail with HTTP 500 ServerException (API Reference: Errors), or lose
 * their answer after the change was made (the connection drops, the client times out). The SDK
 * retries 5xx, resets and timeouts, so a retried write can meet its own earlier attempt (the retry
 * of a PutImage whose answer was lost gets ImageAlreadyExistsException, as from real ECR).
 * - The way of a request: read in full and recorded in control.calls on arrival; held while a
 *   hold() it matches says so; then, if it names a known operation with a JSON object body, its
 *   fault decided at once in arrival order (a pending hang() first, else one draw of the faults()
 *   PRNG); then its latency delay (every request); then applied (quota(), registry id, deny(),
 *   failPutImage(), the operation) and answered, unless its fault says otherwise.
 * - latency(spec, seed = 1): ms for every operation, or { [operation]: ms | [minMs, maxMs],
 *   default? } (operations not named: `default`, else none); a range draws uniformly from a
 *   mulberry32 PRNG seeded with `seed`, one draw per delayed request. latency(0) turns it off.
 *   Delays are timers: none blocks another. The state changes at the end of the delay, whether or
 *   not the client is still there: latency past the client's timeout is another lost answer.
 * - hang(operation, { count = 1, apply = false }): the next `count` requests of it are never
 *   answered (the connection stays open until the client gives up or close()); with apply, applied
 *   first. Recorded in `injected` as 'hang'; they take precedence over faults() and draw nothing.
 * - faults({ seed = 1, rate, operations?, kinds? }) or null: each later request of `operations`
 *   (default every one) is faulted with probability `rate`, of a kind drawn from `kinds` (default
 *   all): 'reset-before' (TCP RST, not applied), 'error-after' (applied, then HTTP 500
 *   ServerException "injected: applied, answer lost"), 'reset-after' (applied, then RST), 'hang'
 *   (as hang() without apply). One draw per eligible request and one for the kind: the same seed,
 *   the same decisions; calling faults() again restarts from the seed. A faulted request the
 *   operation rejects (any ECR error, deny()) follows its kind all the same, changing nothing
 *   ('error-after' then says "injected: rejected, answer lost").
 * - injected: { operation, kind } per fault decided (faults() and hang()), in arrival order.
 * - quota({ [operation]: { rate, burst } } | null): ECR's API rate quotas (per account and Region,
 *   per action; PutImage's default is 10 per second) as one token bucket per operation, shared by
 *   the repositories: at most `burst` tokens, full at first, refilled continuously at `rate` a
 *   second on the stand-in's clock. A request takes its token when it is about to be applied
 *   (after its latency), rejected or not; without one it is not applied and is answered HTTP 400
 *   ThrottlingException "Rate exceeded" (the SDK retries it with backoff). Requests faulted before
 *   they are applied never reach a bucket. quota() again: full new buckets; null or {}: off.
 * - throttle(operation, { count = 1 }): the next `count` requests of it that reach the quota check
 *   are throttled as by an empty bucket, spending no token.
 * - throttled: { operation, at } per request answered ThrottlingException; `at` on the clock (ms).
 * - hold(operation, { repositoryName?, tag?, count = 1 }): the next `count` requests of it (in
 *   that repository; naming that tag, as imageTag or in imageIds) wait on arrival, unapplied, until
 *   release(), then go on whether or not their client is still there: a test pins an interleaving
 *   instead of timing it. Returns { arrived(n = 1): resolves once n are held, release() }; the
 *   first hold a request matches takes it. reset() releases them; close() ends them unapplied.
 * - rewrite(operation, change) or (operation, null): every later successful answer of it is sent
 *   as change(a deep copy) returns it, until null: an answer legal in form but odd (a page without
 *   its list, an id left out, a nextToken again), as a proxy might send. No reading of ECR. Failed
 *   and faulted answers are not rewritten.
 * - reset() turns latency, faults and quotas off and clears hangs, throttles, rewrites, `injected`
 *   and `throttled`; requests already delayed or hanging go on. close() ends them all at once
 *   (delays cancelled unapplied), so it returns promptly.
 */

import { performance } from 'node:perf_hooks'
import { EcrError, checkCount, isObject } from './protocol.mjs'

/** @type {readonly FaultKind[]} */
const FAULT_KINDS = Object.freeze(['reset-before', 'error-after', 'reset-after', 'hang'])
const DEFAULT_SEED = 1
/** setTimeout's largest delay; anything longer would fire at once. */
const MAX_DELAY_MS = 2147483647

/**
 * @typedef {import('./protocol.mjs').Answer} Answer
 * @typedef {'reset-before' | 'error-after' | 'reset-after' | 'hang'} FaultKind
 * @typedef {{ operation: string, kind: FaultKind }} InjectedFault
 * @typedef {{ kind: FaultKind, apply: boolean }} Fault a decided fault; apply: run the operation first
 * @typedef {number | [number, number]} LatencyValue ms, or a [minMs, maxMs] range drawn uniformly
 * @typedef {number | ({ default?: LatencyValue } & { [operation: string]: LatencyValue | undefined })} LatencySpec
 * @typedef {{ count?: number, apply?: boolean }} HangOptions
 * @typedef {{ repositoryName?: string, tag?: string, count?: number }} HoldOptions
 * @typedef {{ arrived(count?: number): Promise<void>, release(): void }} Hold
 * @typedef {{ matches(operation: string, input: any): boolean, remaining: number,
 *   held: Set<(go: boolean) => void>, count: number, arrivals: (() => boolean)[] }} HoldState
 * @typedef {{ seed?: number, rate: number, operations?: string[], kinds?: FaultKind[] }} FaultOptions
 * @typedef {{ rate: number, burst: number }} QuotaSpec tokens per second, and the bucket's size
 * @typedef {{ operation: string, at: number }} ThrottledCall
 * @typedef {{
 *   injected: InjectedFault[],
 *   latency(spec: LatencySpec, seed?: number): void,
 *   hang(operation: string, options?: HangOptions): void,
 *   hold(operation: string, options?: HoldOptions): Hold,
 *   faults(options: FaultOptions | null): void,
 *   rewrite(operation: string, change: ((body: any) => unknown) | null): void,
 *   quota(spec: { [operation: string]: QuotaSpec | undefined } | null): void,
 *   throttle(operation: string, options?: { count?: number }): void,
 *   throttled: ThrottledCall[]
 * }} FaultControl
 */

/**
 * mulberry32: a small seeded PRNG with uniform output in [0, 1). The same seed always yields the
 * same sequence, which is what makes injected faults and latency ranges reproducible.
 * @param {number} seed an integer
 * @returns {() => number}
 */
export function mulberry32(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** @param {unknown} seed @param {string} what */
function random(seed, what) {
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new TypeError(`${what}: seed must be an integer, got ${String(seed)}`)
  }
  return mulberry32(seed)
}

/** @param {unknown} value @param {string} what @returns {LatencyValue} */
function checkLatencyValue(value, what) {
  const ms = (/** @type {unknown} */ v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_DELAY_MS
  if (ms(value)) return /** @type {number} */ (value)
  if (Array.isArray(value) && value.length === 2 && ms(value[0]) && ms(value[1])) {
    const [min, max] = /** @type {[number, number]} */ (value)
    if (min <= max) return [min, max]
  }
  throw new RangeError(
    `${what}: latency must be ms (0-${MAX_DELAY_MS}) or [minMs, maxMs] with minMs <= maxMs, got ${JSON.stringify(value)}`
  )
}

/**
 * @param {() => number} clock ms; quota buckets refill on it
 * @param {(operation: unknown, what: string) => string} checkOperation
 */
export function createFaults(clock, checkOperation) {
  /** @type {InjectedFault[]} */
  const injected = []
  /** @type {ThrottledCall[]} */
  const throttled = []
  /** @type {{ byOperation: Map<string, LatencyValue>, fallback: LatencyValue | undefined, random: () => number } | undefined} */
  let latencyConfig
  /** @type {{ rate: number, operations: Set<string> | undefined, kinds: FaultKind[], random: () => number } | undefined} */
  let faultConfig
  /** @type {{ operation: string, remaining: number, apply: boolean }[]} */
  const pendingHangs = []
  /** rewrite() by operation. @type {Map<string, (body: any) => unknown>} */
  const rewrites = new Map()
  /** quota() token buckets by operation. @type {Map<string, { rate: number, burst: number, tokens: number, last: number }>} */
  const buckets = new Map()
  /** throttle(): how many more requests of each operation to throttle. @type {Map<string, number>} */
  const pendingThrottles = new Map()
  /** How to end each latency delay in progress (close() does). @type {Set<(ran: boolean) => void>} */
  const sleepers = new Set()
  /** Every hold() made since the last reset(), oldest first. @type {HoldState[]} */
  const holds = []
  let closed = false

  /**
   * Wait at least `ms` (re-arming if a timer fires early) without blocking other requests.
   * @param {number} ms
   * @returns {Promise<boolean>} true when the delay ran out, false when close() cut it short
   */
  function sleep(ms) {
    if (closed) return Promise.resolve(false)
    const end = performance.now() + ms
    return new Promise((resolve) => {
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let timer
      const done = (/** @type {boolean} */ ran) => {
        clearTimeout(timer)
        sleepers.delete(done)
        resolve(ran)
      }
      const arm = (/** @type {number} */ wait) => {
        timer = setTimeout(
          () => (end > performance.now() ? arm(end - performance.now()) : done(true)),
          wait
        )
      }
      sleepers.add(done)
      arm(ms)
    })
  }

  /**
   * Holds a request until its hold is released (true) or the stand-in closes (false).
   * @param {HoldState} hold
   * @returns {Promise<boolean>}
   */
  function held(hold) {
    if (closed) return Promise.resolve(false)
    hold.remaining -= 1
    hold.count += 1
    return new Promise((resolve) => {
      /** @param {boolean} go */
      const done = (go) => {
        hold.held.delete(done)
        resolve(go)
      }
      hold.held.add(done)
      hold.arrivals = hold.arrivals.filter((check) => !check())
    })
  }

  /** @param {string} operation @returns {number} the delay for one request, in ms */
  function latencyFor(operation) {
    const value = latencyConfig?.byOperation.get(operation) ?? latencyConfig?.fallback
    if (value === undefined || !latencyConfig) return 0
    if (typeof value === 'number') return value
    const [min, max] = value
    return min + latencyConfig.random() * (max - min)
  }

  /**
   * Decide, when the request arrives, whether it suffers a fault: a pending hang() first, else a
   * draw from the faults() PRNG. Every decided fault is recorded in `injected`.
   * @param {string} operation
   * @returns {Fault | undefined}
   */
  function decide(operation) {
    /** @type {Fault | undefined} */
    let fault
    const hang = pendingHangs.find((h) => h.operation === operation)
    if (hang) {
      hang.remaining -= 1
      if (hang.remaining === 0) pendingHangs.splice(pendingHangs.indexOf(hang), 1)
      fault = { kind: 'hang', apply: hang.apply }
    } else if (
      faultConfig &&
      (faultConfig.operations === undefined || faultConfig.operations.has(operation)) &&
      faultConfig.random() < faultConfig.rate
    ) {
      const { kinds, random } = faultConfig
      const kind = kinds[Math.floor(random() * kinds.length)] ?? 'reset-before'
      fault = { kind, apply: kind === 'error-after' || kind === 'reset-after' }
    }
    if (fault) injected.push({ operation, kind: fault.kind })
    return fault
  }

  /**
   * A successful answer as rewrite() changes it.
   * @param {string} operation
   * @param {import('./protocol.mjs').Outcome} outcome
   * @returns {import('./protocol.mjs').Outcome}
   */
  function rewritten(operation, outcome) {
    const change = rewrites.get(operation)
    if (!change || outcome.status !== 200) return outcome
    return { ...outcome, body: change(structuredClone(outcome.body)) }
  }

  /** @type {FaultControl} */
  const control = {
    injected,
    throttled,
    latency(spec, seed = DEFAULT_SEED) {
      const draw = random(seed, 'latency')
      if (typeof spec === 'number') {
        const ms = checkLatencyValue(spec, 'latency')
        latencyConfig =
          ms === 0 ? undefined : { byOperation: new Map(), fallback: ms, random: draw }
        return
      }
      if (!isObject(spec)) {
        throw new TypeError('latency: spec must be ms or { [operation]: ms | [min, max] }')
      }
      /** @type {Map<string, LatencyValue>} */
      const byOperation = new Map()
      /** @type {LatencyValue | undefined} */
      let fallback
      for (const [key, value] of Object.entries(spec)) {
        if (value === undefined) continue
        if (key === 'default') fallback = checkLatencyValue(value, 'latency.default')
        else byOperation.set(checkOperation(key, 'latency'), checkLatencyValue(value, key))
      }
      latencyConfig = { byOperation, fallback, random: draw }
    },
    hold(operation, { repositoryName, tag, count = 1 } = {}) {
      checkOperation(operation, 'hold')
      checkCount('hold', count)
      /** @type {HoldState} */
      const hold = {
        matches: (op, input) =>
          op === operation &&
          (repositoryName === undefined || input.repositoryName === repositoryName) &&
          (tag === undefined ||
            input.imageTag === tag ||
            (Array.isArray(input.imageIds) &&
              input.imageIds.some((/** @type {any} */ id) => id?.imageTag === tag))),
        remaining: count,
        held: new Set(),
        count: 0,
        arrivals: []
      }
      holds.push(hold)
      return {
        arrived: (n = 1) =>
          new Promise((resolve) => {
            const check = () => {
              if (hold.count < n) return false
              resolve()
              return true
            }
            if (!check()) hold.arrivals.push(check)
          }),
        release() {
          hold.remaining = 0
          for (const go of hold.held) go(true)
        }
      }
    },
    hang(operation, { count = 1, apply = false } = {}) {
      checkOperation(operation, 'hang')
      checkCount('hang', count)
      pendingHangs.push({ operation, remaining: count, apply: apply === true })
    },
    throttle(operation, { count = 1 } = {}) {
      checkOperation(operation, 'throttle')
      checkCount('throttle', count)
      pendingThrottles.set(operation, (pendingThrottles.get(operation) ?? 0) + count)
    },
    faults(options) {
      if (options === null) {
        faultConfig = undefined
        return
      }
      if (!isObject(options))
        throw new TypeError('faults: pass { rate, seed?, operations?, kinds? } or null')
      const { seed = DEFAULT_SEED, rate, operations: only, kinds = [...FAULT_KINDS] } = options
      const draw = random(seed, 'faults')
      if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
        throw new RangeError(`faults: rate must be a number from 0 to 1, got ${String(rate)}`)
      }
      if (!Array.isArray(kinds) || !kinds.length || kinds.some((k) => !FAULT_KINDS.includes(k)))
        throw new RangeError(`faults: kinds must be a non-empty list of ${FAULT_KINDS.join(', ')}`)
      if (only !== undefined && !Array.isArray(only)) {
        throw new TypeError('faults: operations must be a list of operation names')
      }
      const operations = only && new Set(only.map((op) => checkOperation(op, 'faults')))
      faultConfig = { rate, operations, kinds: [...kinds], random: draw }
    },
    rewrite(operation, change) {
      checkOperation(operation, 'rewrite')
      if (change === null) return void rewrites.delete(operation)
      if (typeof change !== 'function')
        throw new TypeError('rewrite: change must be a function or null')
      rewrites.set(operation, change)
    },
    quota(spec) {
      if (spec === null) return buckets.clear()
      if (!isObject(spec)) {
        throw new TypeError('quota: pass { [operation]: { rate, burst } } or null')
      }
      const now = clock()
      const entries = Object.entries(spec).flatMap(([operation, value]) => {
        if (value === undefined) return []
        checkOperation(operation, 'quota')
        const { rate = NaN, burst = NaN } = isObject(value) ? value : {}
        if (!(Number.isFinite(rate) && rate > 0))
          throw new RangeError(`quota: ${operation}.rate must be a positive number, got ${rate}`)
        if (!(Number.isFinite(burst) && burst >= 1))
          throw new RangeError(`quota: ${operation}.burst must be a number >= 1, got ${burst}`)
        return [{ operation, bucket: { rate, burst, tokens: burst, last: now } }]
      })
      buckets.clear()
      for (const { operation, bucket } of entries) buckets.set(operation, bucket)
    }
  }

  return {
    control,

    /**
     * Take one token from the operation's quota() bucket, refilled for the time since it was
     * last used; without a token, or with a throttle() pending, the request is throttled
     * (recorded, and rejected as ECR does).
     * @param {string} operation
     */
    checkQuota(operation) {
      const now = clock()
      const reject = () => {
        throttled.push({ operation, at: now })
        return new EcrError('ThrottlingException', 'Rate exceeded')
      }
      const pending = pendingThrottles.get(operation) ?? 0
      if (pending > 0) {
        pendingThrottles.set(operation, pending - 1)
        throw reject()
      }
      const bucket = buckets.get(operation)
      if (!bucket) return
      if (now > bucket.last) {
        const refill = ((now - bucket.last) * bucket.rate) / 1000
        bucket.tokens = Math.min(bucket.burst, bucket.tokens + refill)
        bucket.last = now
      }
      // The epsilon absorbs float error in the refill, so 300 ms at 10/s gives exactly 3 tokens.
      if (bucket.tokens >= 1 - 1e-9) {
        bucket.tokens = Math.max(0, bucket.tokens - 1)
        return
      }
      throw reject()
    },

    /**
     * A request's way through the faults: held while a hold() it matches says so, its fault decided on arrival (`routed`: it names a
     * known operation with a JSON object body), its latency delay, then `apply`, unless its
     * fault drops it first; then the answer its fault leaves of the outcome.
     * @param {string} operation
     * @param {any} input
     * @param {boolean} routed
     * @param {() => import('./protocol.mjs').Outcome} apply
     * @returns {Promise<Answer>}
     */
    async through(operation, input, routed, apply) {
      const hold = routed
        ? holds.find((h) => h.remaining > 0 && h.matches(operation, input))
        : undefined
      if (hold && !(await held(hold))) return 'silent' // close() ended it
      // Decided on arrival, in arrival order, so a seed reproduces the same decisions.
      const fault = routed ? decide(operation) : undefined
      const delay = latencyFor(operation)
      if (delay > 0 && !(await sleep(delay))) return 'silent' // close() cut the delay short
      if (fault && !fault.apply) return fault.kind === 'reset-before' ? 'reset' : 'silent'
      const outcome = rewritten(operation, apply())
      switch (fault?.kind) {
        case 'error-after': {
          const message = `injected: ${outcome.applied ? 'applied' : 'rejected'}, answer lost`
          return { status: 500, body: { __type: 'ServerException', message }, applied: false }
        }
        case 'reset-after':
          return 'reset'
        case 'hang':
          return 'silent' // applied (or rejected), never answered
        default:
          return outcome
      }
    },

    reset() {
      for (const hold of holds.splice(0)) for (const go of hold.held) go(true)
      rewrites.clear()
      buckets.clear()
      pendingThrottles.clear()
      throttled.length = 0
      latencyConfig = undefined
      faultConfig = undefined
      pendingHangs.length = 0
      injected.length = 0
    },

    close() {
      closed = true
      for (const done of [...sleepers]) done(false)
      for (const hold of holds) for (const go of hold.held) go(false)
    }
  }
}
