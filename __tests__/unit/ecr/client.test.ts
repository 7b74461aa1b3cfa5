import { boundedRetries } from '../../../src/ecr/client.js'

describe('boundedRetries', () => {
  const error = (name: string) => Object.assign(new Error(name), { name })
  /** Asks the strategy for retries one after another, the clock at `at` ms for each, and says what it answered. */
  async function retries(errorType: string, name: string, at: readonly number[], random = 1) {
    let now = 0
    const strategy = boundedRetries(
      () => now,
      () => random
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

  it.each([
    {
      what: 'a throttle',
      type: 'THROTTLING',
      name: 'ThrottlingException',
      at: [0, 0, 0, 0, 0, 0],
      pauses: [100, 200, 400, 800, 1000, 1000],
      gaveUp: false
    },
    {
      what: 'a timeout',
      type: 'TRANSIENT',
      name: 'TimeoutError',
      at: [0, 0],
      pauses: [100, 200],
      gaveUp: false
    },
    {
      what: 'a 5xx answer',
      type: 'SERVER_ERROR',
      name: 'InternalFailure',
      at: [0],
      pauses: [100],
      gaveUp: false
    },
    {
      what: 'an abort, a denial, a bad request',
      type: 'CLIENT_ERROR',
      name: 'AbortError',
      at: [0],
      pauses: [],
      gaveUp: true
    },
    {
      what: 'LimitExceededException, also a hard quota: once',
      type: 'THROTTLING',
      name: 'LimitExceededException',
      at: [0, 0],
      pauses: [100],
      gaveUp: true
    },
    {
      what: 'anything, once the call is 10 s old',
      type: 'THROTTLING',
      name: 'ThrottlingException',
      at: [1000, 9_950],
      pauses: [100],
      gaveUp: true
    }
  ])(
    '$what: pauses $pauses ms, then gives up: $gaveUp',
    async ({ type, name, at, pauses, gaveUp }) => {
      expect(await retries(type, name, at)).toEqual({ pauses, gaveUp })
    }
  )

  it('jitters each pause over all of it', async () => {
    expect((await retries('THROTTLING', 'ThrottlingException', [0, 0, 0], 0.5)).pauses).toEqual([
      50, 100, 200
    ])
  })
})
