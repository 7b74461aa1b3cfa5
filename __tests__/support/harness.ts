/** Small pieces many tests share: a client for a test endpoint, catchers of a rejection and a throw, a clock that only sleeping moves. */
import { ECRClient } from '@aws-sdk/client-ecr'
import type { Effects } from '../../src/run/effects.js'

/** An ECR client for a test endpoint (the stand-in or moto_server), with dummy credentials. */
export const clientFor = (url: string): ECRClient =>
  new ECRClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
  })

/** Awaits a promise that must reject and returns the rejection reason. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the call to fail, but it succeeded')
}

/** The error `action` throws; fails the test when it throws nothing. */
export function thrownBy(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

/**
 * Effects whose clock only sleep (or `advance`) moves, so a long wait takes no time; `logs` keeps the
 * progress shown, `events` the progress and the sleeps in order.
 */
export function fakeEffects(signal: AbortSignal = new AbortController().signal) {
  let now = 0
  const sleeps: number[] = []
  const logs: string[] = []
  const events: string[] = []
  const effects: Effects = {
    signal,
    sleep: async (ms) => {
      sleeps.push(ms)
      events.push(`sleep ${ms}`)
      now += ms
    },
    clock: () => now,
    log: () => {},
    progress: (message) => {
      logs.push(message)
      events.push(`log ${message}`)
    }
  }
  return {
    effects,
    sleeps,
    logs,
    events,
    now: () => now,
    advance: (ms: number) => void (now += ms)
  }
}
