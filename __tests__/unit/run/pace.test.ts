import { WritePacer } from '../../../src/run/pace.js'

/** A pacer on a fake clock: sleeping advances time, so every test is exact and instant. */
function pacer(rate: number) {
  let now = 0
  const sleeps: number[] = []
  const paced = new WritePacer(
    rate,
    () => now,
    async (ms, signal) => {
      signal?.throwIfAborted()
      sleeps.push(ms)
      now += ms
    }
  )
  return { paced, sleeps, time: () => now, advance: (ms: number) => (now += ms) }
}

/** When each of `count` takes that start together is let through, in ms. */
async function admitted(paced: WritePacer, time: () => number, count: number): Promise<number[]> {
  const times: number[] = []
  await Promise.all(
    Array.from({ length: count }, () => paced.take().then(() => void times.push(time())))
  )
  return times
}

describe('WritePacer', () => {
  it.each([
    [10, 10, [0, 0, 0, 0, 0, 0, 0, 0, 0, 100]],
    [10, 12, [0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 200, 300]],
    [2, 4, [0, 500, 1000, 1500]],
    [0.5, 3, [0, 2000, 4000]]
  ])(
    "at %d a second, with a burst one short of ECR's, lets %d writes through at %j ms",
    async (rate, count, expected) => {
      const { paced, time } = pacer(rate)
      expect(await admitted(paced, time, count)).toEqual(expected)
    }
  )

  it('refills while idle, up to the burst and no more', async () => {
    const { paced, time, advance } = pacer(10)
    await admitted(paced, time, 9)
    advance(5_000)
    expect(await admitted(paced, time, 12)).toEqual([
      5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5100, 5200, 5300
    ])
  })

  it('slows the pace by a quarter after a throttle and empties the bucket, then recovers', async () => {
    const { paced, time, advance } = pacer(10)
    paced.throttled()
    // No token left, at 7.5 a second recovering towards 10: the first write waits 134 ms, then the gaps shrink.
    expect(await admitted(paced, time, 3)).toEqual([134, 260, 379])
    advance(10_000)
    const recovered = await admitted(paced, time, 12)
    expect(recovered.map((at) => at - recovered[0]!)).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 200, 300
    ])
  })

  it('never slows below an eighth of the pace, however often it is throttled', async () => {
    const { paced, time } = pacer(8)
    for (let i = 0; i < 10; i++) paced.throttled()
    const times = await admitted(paced, time, 2)
    expect(times[1]! - times[0]!).toBeLessThanOrEqual(1000)
  })

  it('lets an aborted wait go without taking a turn, and serves the rest in order', async () => {
    const { paced, time } = pacer(1)
    await paced.take()
    const controller = new AbortController()
    controller.abort('stop')
    await expect(paced.take(controller.signal)).rejects.toBe('stop')
    await paced.take()
    expect(time()).toBe(1000)
  })
})
