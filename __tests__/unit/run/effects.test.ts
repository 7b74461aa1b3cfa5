import { pollUntil } from '../../../src/run/effects.js'
import { fakeEffects } from '../../support/harness.js'

/** A `done` that says yes on its `yesOn`th ask (never when undefined), counting asks. */
function asker(yesOn?: number, events?: string[]) {
  let asks = 0
  return {
    done: async () => {
      asks += 1
      events?.push(`ask ${asks}`)
      return asks === yesOn
    },
    asks: () => asks
  }
}

const progress = (seconds: number) => `waited ${seconds} s`

describe('pollUntil', () => {
  it.each<[string, number, number[]]>([
    ['doubles from 2 s', 30_000, [2_000, 4_000, 8_000, 16_000]],
    [
      'caps each pause at 30 s',
      150_000,
      [2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]
    ],
    ['cuts the last pause to the time left', 10_000, [2_000, 4_000, 4_000]],
    ['cuts the first pause when less than 2 s is allowed', 500, [500]],
    [
      'cuts a capped pause to the time left',
      100_000,
      [2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 10_000]
    ]
  ])('%s (%d ms → pauses %j) and gives up when time is out', async (_name, ms, pauses) => {
    const { effects, sleeps, now } = fakeEffects()
    const { done, asks } = asker()
    expect(await pollUntil(done, ms, effects, progress)).toBe(false)
    expect(sleeps).toEqual(pauses)
    expect(now()).toBe(ms)
    expect(asks()).toBe(pauses.length)
  })

  it('returns true as soon as done says yes, without pausing again', async () => {
    const { effects, sleeps } = fakeEffects()
    const { done, asks } = asker(3)
    expect(await pollUntil(done, 60_000, effects, progress)).toBe(true)
    expect(sleeps).toEqual([2_000, 4_000, 8_000])
    expect(asks()).toBe(3)
  })

  it('returns false at once when ms is 0: no log, no pause, no ask', async () => {
    const { effects, sleeps, logs } = fakeEffects()
    const { done, asks } = asker(1)
    expect(await pollUntil(done, 0, effects, progress)).toBe(false)
    expect(sleeps).toEqual([])
    expect(logs).toEqual([])
    expect(asks()).toBe(0)
  })

  it('logs the seconds waited before each pause, then asks after it', async () => {
    const { effects, events } = fakeEffects()
    const { done } = asker(3, events)
    await pollUntil(done, 60_000, effects, progress)
    expect(events).toEqual([
      'log waited 0 s',
      'sleep 2000',
      'ask 1',
      'log waited 2 s',
      'sleep 4000',
      'ask 2',
      'log waited 6 s',
      'sleep 8000',
      'ask 3'
    ])
  })

  it('counts time done itself takes against the limit', async () => {
    const { effects, sleeps, advance } = fakeEffects()
    // Each ask takes 1 s: after 2 + 1 + 4 + 1 s, 2 s of 10 are left.
    const done = async () => {
      advance(1_000)
      return false
    }
    expect(await pollUntil(done, 10_000, effects, progress)).toBe(false)
    expect(sleeps).toEqual([2_000, 4_000, 2_000])
  })
})
