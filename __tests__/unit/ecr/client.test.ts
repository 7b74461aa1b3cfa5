import { boundedRetries } from '../../../src/ecr/client.js'

describe('boundedRetries', () => {
  const error = (name: string) => Object.assign(new Error(name), { name })
  /** Asks the strategy for retries one after another, the clock at `at` ms for each, and says what it answered. */
  async function retries(
    errorType: string,
    name: string,
    at: readonly number[],
    random = 1,
    read = false
  ) {
    let now = 0
    const strategy = boundedRetries(
      () => now,
      () => random,
      () => read
    )
    let token = await strategy.acquireInitialRetryToken()
    const pauses: number[] = []
    for (const ms of at) {
      now = ms
      try {
        token = await strategy.refreshRetryTokenForRetry(token, { errorType, error: error(name) })
        pauses.push(token.getRetryDelay())
      } catch {
        return { pauses, gaveUp: true }
      }
    }
    return { pauses, gaveUp: false }
  }

  it.each<[string, string, string, number[], number[], boolean]>([
    [
      'a throttle',
      'THROTTLING',
      'ThrottlingException',
      [0, 0, 0, 0, 0, 0],
      [100, 200, 400, 800, 1000, 1000],
      false
    ],
    ['a timeout', 'TRANSIENT', 'TimeoutError', [0, 0], [100, 200], false],
    ['a 5xx answer', 'SERVER_ERROR', 'InternalFailure', [0], [100], false],
    ['an abort, a denial, a bad request', 'CLIENT_ERROR', 'AbortError', [0], [], true],
    [
      'LimitExceededException, also a hard quota: once',
      'THROTTLING',
      'LimitExceededException',
      [0, 0],
      [100],
      true
    ],
    [
      'anything, once the call is 10 s old',
      'THROTTLING',
      'ThrottlingException',
      [1000, 9_950],
      [100],
      true
    ]
  ])(
    '%s (%s %s at %j ms): pauses %j ms, then gives up: %s',
    async (_what, type, name, at, pauses, gaveUp) => {
      expect(await retries(type, name, at)).toEqual({ pauses, gaveUp })
    }
  )

  it.each<[string, string, number, number[]]>([
    [
      'a throttled read: three short pauses, then as any other',
      'THROTTLING',
      1,
      [100, 100, 100, 800]
    ],
    ['a throttled read, jittered from 20 ms', 'THROTTLING', 0, [20, 20, 20, 0]],
    ["a read's 5xx answer: as any other", 'SERVER_ERROR', 1, [100, 200, 400, 800]]
  ])('%s: pauses %j ms', async (_what, type, random, pauses) => {
    expect(await retries(type, 'ThrottlingException', [0, 0, 0, 0], random, true)).toEqual({
      pauses,
      gaveUp: false
    })
  })

  it('jitters each pause over all of it', async () => {
    expect((await retries('THROTTLING', 'ThrottlingException', [0, 0, 0], 0.5)).pauses).toEqual([
      50, 100, 200
    ])
  })
})
