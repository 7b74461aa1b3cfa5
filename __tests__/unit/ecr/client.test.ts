import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ACTION_MESSAGES } from '../../../src/action/messages.js'
import { assumedRole, boundedRetries, createRegistry } from '../../../src/ecr/client.js'

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

  it.each<[string, string, number, boolean, number[]]>([
    [
      'a throttled read: three short pauses, then as any other',
      'THROTTLING',
      1,
      true,
      [100, 100, 100, 800]
    ],
    ['a throttled read, jittered from 20 ms', 'THROTTLING', 0, true, [20, 20, 20, 0]],
    ["a read's 5xx answer: as any other", 'SERVER_ERROR', 1, true, [100, 200, 400, 800]],
    ['a throttle, jittered over all of each pause', 'THROTTLING', 0.5, false, [50, 100, 200, 400]]
  ])('%s (%s, random %d, read %s): pauses %j ms', async (_what, type, random, read, pauses) => {
    expect(await retries(type, 'ThrottlingException', [0, 0, 0, 0], random, read)).toEqual({
      pauses,
      gaveUp: false
    })
  })
})

describe('assumedRole', () => {
  /** One HTTP endpoint for STS and ECR: STS issues session `n` for each AssumeRole, valid for `validMs`. */
  async function endpoint(validMs: number) {
    const seen: { assumed: string[]; tokens: string[] } = { assumed: [], tokens: [] }
    const server = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => (body += chunk.toString()))
      request.on('end', () => {
        if (request.headers['x-amz-target']) {
          seen.tokens.push(String(request.headers['x-amz-security-token']))
          response.setHeader('content-type', 'application/x-amz-json-1.1')
          return response.end(JSON.stringify({ repositories: [{ repositoryUri: 'u/api' }] }))
        }
        // Chained: STS is asked with the run's own credentials.
        if (!String(request.headers.authorization).includes('Credential=AKIARUN/')) {
          response.statusCode = 403
          return response.end()
        }
        seen.assumed.push(body)
        const expiration = new Date(Date.now() + validMs).toISOString()
        response.setHeader('content-type', 'text/xml')
        return response.end(
          `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA${seen.assumed.length}</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>session-${seen.assumed.length}</SessionToken><Expiration>${expiration}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`
        )
      })
    })
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
    const { port } = server.address() as AddressInfo
    return { seen, server, url: `http://127.0.0.1:${port}` }
  }
  const saved = { ...process.env }
  afterEach(() => void (process.env = { ...saved }))

  it.each([
    ['asks STS once while the session has more than 5 minutes left', 3_600_000, false],
    ['asks STS again before a call within 5 minutes of the expiry', 240_000, true]
  ])('%s', async (_name, validMs, refreshed) => {
    const { seen, server, url } = await endpoint(validMs)
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIARUN',
      AWS_SECRET_ACCESS_KEY: 'run',
      AWS_ENDPOINT_URL_ECR: url,
      AWS_ENDPOINT_URL_STS: url
    })
    try {
      const registry = createRegistry({
        region: 'eu-west-1',
        registryId: '210987654321',
        messages: ACTION_MESSAGES,
        credentials: assumedRole(
          'arn:aws:iam::210987654321:role/promoter',
          'ecr-promote-7',
          'us-east-1'
        )
      })
      await registry.describeRepository('api')
      await registry.describeRepository('api')
    } finally {
      server.close()
    }
    expect(seen.assumed.length > 1).toBe(refreshed)
    expect(seen.assumed[0]).toBe(
      'Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A210987654321%3Arole%2Fpromoter&RoleSessionName=ecr-promote-7'
    )
    // Each ECR call is signed with a session STS issued; a refreshed one with a newer session.
    const [first, second] = seen.tokens
    expect(first).toMatch(/^session-\d+$/)
    expect(second === first).toBe(!refreshed)
  })
})
