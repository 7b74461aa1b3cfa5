/**
 * src/github/client.ts against the GitHub fake (support/github-fake.mjs), through `@actions/github`'s own
 * client: every request has a timeout, every page included, and ends on the run's cancel; pages are
 * followed one by one and a loop is stopped; rate limits are waited out within the time given; an
 * answer that is not JSON is named as such.
 */
import {
  connectGitHub,
  MAX_PAGES,
  type DeploymentRequest,
  type Deployments
} from '../../../src/github/client.js'
import type { DeploymentRecord } from '../../../src/core/history.js'
import { startGitHubFake } from '../../support/github-fake.mjs'
import { fakeDigest } from '../../support/builders.js'
import { rejection } from '../../support/harness.js'

type Fake = Awaited<ReturnType<typeof startGitHubFake>>

const OWNER = { owner: 'octo', repo: 'app' }
const DEPLOYMENTS = '/repos/octo/app/deployments'
const running = { signal: new AbortController().signal }

let fake: Fake
let github: Deployments
const connect = (requestTimeoutMs?: number) =>
  connectGitHub(
    'ghs_test',
    { apiUrl: fake.url, serverUrl: 'https://github.example', repository: 'octo/app', runId: '42' },
    requestTimeoutMs
  )
beforeAll(async () => {
  fake = await startGitHubFake()
  github = await connect()
})
afterEach(() => fake.control.reset())
afterAll(() => fake.close())

const request: DeploymentRequest = {
  environment: 'production',
  ref: 'main',
  payload: {
    repository: 'app',
    tag: 'production',
    digest: fakeDigest('a'),
    version: '1.2.0',
    image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@${fakeDigest('a')}`
  },
  description: 'app:production on sha256:aaaaaaaaaaaa (1.2.0)',
  state: 'success',
  logUrl: 'https://github.example/octo/app/actions/runs/42'
}

/** `count` deployments of production, a minute apart. */
function seed(count: number) {
  for (let minute = 0; minute < count; minute++)
    fake.control.seed({
      ...OWNER,
      environment: 'production',
      createdAt: new Date(Date.UTC(2026, 10, 1, 0, minute)),
      statuses: [{ state: 'success' }]
    })
}

/** Every page the history yields until it ends or fails, and how it ended. */
async function readHistory(bounds = running, client = github) {
  const pages: DeploymentRecord[][] = []
  try {
    for await (const page of client.history('production', bounds)) pages.push(page)
    return { pages, error: undefined }
  } catch (error) {
    return { pages, error: error as Error }
  }
}

const asked = (method: string, path: string) =>
  fake.control.requests().filter((each) => each.method === method && each.path === path)

describe('every request is bounded', () => {
  it('gives up a page after the first that GitHub does not answer, within the page timeout', async () => {
    seed(150)
    fake.control.fault({ method: 'GET', path: DEPLOYMENTS, query: { page: '2' } }, { hang: true })
    const { pages, error } = await readHistory(running, await connect(300))
    expect(pages.map((page) => page.length)).toEqual([100])
    expect(error?.message).toBe(`GitHub did not answer GET ${DEPLOYMENTS} (page 2) within 0.3 s`)
  })

  it("ends a request on the run's cancel", async () => {
    fake.control.setOutage({ hang: true })
    const cancel = new AbortController()
    const recording = rejection(github.record(request, { signal: cancel.signal }))
    while (fake.control.requests().length === 0) await new Promise((done) => setTimeout(done, 5))
    const started = Date.now()
    cancel.abort('SIGINT')
    expect((await recording).message).toBe(`POST ${DEPLOYMENTS} was given up: SIGINT`)
    expect(Date.now() - started).toBeLessThan(5_000)
  })
})

describe('pages', () => {
  it('stops at a Link rel="next" that points at the page itself, after one request', async () => {
    seed(3)
    fake.control.fault(
      { path: DEPLOYMENTS },
      { next: (url: URL) => `${url.pathname}${url.search}` }
    )
    const { pages, error } = await readHistory()
    expect(pages).toHaveLength(1)
    expect(error?.message).toBe(
      `GitHub's next page after GET ${DEPLOYMENTS} is one already read: the history goes round in a loop`
    )
    expect(asked('GET', DEPLOYMENTS)).toHaveLength(1)
  })

  it(`stops after ${MAX_PAGES} pages of a Link that never ends`, async () => {
    const nextPage = (url: URL) =>
      `${url.pathname}?page=${Number(url.searchParams.get('page') ?? 1) + 1}`
    fake.control.fault({ path: DEPLOYMENTS }, { next: nextPage })
    const { pages, error } = await readHistory()
    expect(pages).toHaveLength(MAX_PAGES)
    expect(error?.message).toBe(
      `GitHub's deployment history goes on past ${MAX_PAGES} pages of 100: it is read no further back`
    )
    expect(asked('GET', DEPLOYMENTS)).toHaveLength(MAX_PAGES)
  })
})

describe('an answer that is not JSON', () => {
  const html = '<!DOCTYPE html>\n<html><head><title>Unicorn! · GitHub</title></head></html>'
  it.each<[string, string, () => Promise<unknown>, object, string]>([
    [
      'an HTML page for a created deployment',
      'POST',
      () => github.record(request, running),
      { status: 201, text: html },
      `GitHub answered POST ${DEPLOYMENTS} with something that is not JSON (status 201, first bytes: "<!DOCTYPE html>\\n<html><head><title>Unicorn! \\u00b7 GitHub</title>"…)`
    ],
    [
      'malformed JSON for a page of the history',
      'GET',
      () => readHistory().then(({ error }) => Promise.reject(error)),
      {
        status: 200,
        text: '[{"id": 1, "payload": ',
        headers: { 'content-type': 'application/json' }
      },
      `GitHub answered GET ${DEPLOYMENTS} with something that is not JSON (status 200, first bytes: "[{\\"id\\": 1, \\"payload\\": ")`
    ],
    [
      "a proxy's error page, control characters escaped",
      'GET',
      () => github.latestState(7, running),
      { status: 502, text: '\u001b[31mBad gateway\r\n::error::forged' },
      `GitHub answered GET ${DEPLOYMENTS}/7/statuses with something that is not JSON (status 502, first bytes: "\\u001b[31mBad gateway\\r\\n::error::forged")`
    ]
  ])('%s', async (_name, method, call, fault, message) => {
    fake.control.fault({ method }, fault as { status: number; text: string })
    expect((await rejection(call())).message).toBe(message)
  })
})

describe('rate limits', () => {
  const limited = (headers: Record<string, string>) => ({
    status: 403,
    text: JSON.stringify({ message: 'You have exceeded a secondary rate limit' }),
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers }
  })
  const withinSeconds = (seconds: number) => ({ ...running, deadline: Date.now() + seconds * 1000 })

  it.each<[string, () => Record<string, string>]>([
    ['retry-after', () => ({ 'retry-after': '1' })],
    [
      'x-ratelimit-reset with none remaining',
      () => ({
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 1)
      })
    ]
  ])('waits as %s asks when it fits the time given, then sends again', async (_name, headers) => {
    fake.control.fault({ method: 'POST', path: DEPLOYMENTS, times: 1 }, limited(headers()))
    const id = await github.record(request, withinSeconds(10))
    expect(asked('POST', DEPLOYMENTS)).toHaveLength(2)
    expect(fake.control.deployments(OWNER)).toMatchObject([
      { id, statuses: [{ state: 'success' }] }
    ])
  })

  it('fails at once when the wait asked for does not fit the time given', async () => {
    fake.control.fault({ method: 'POST', path: DEPLOYMENTS }, limited({ 'retry-after': '60' }))
    const failure = await rejection(github.record(request, withinSeconds(10)))
    expect(failure.message).toMatch(
      /^GitHub limits the rate of requests and asks to wait 60 s before POST \/repos\/octo\/app\/deployments again, more than the time left: You have exceeded a secondary rate limit/
    )
    expect(asked('POST', DEPLOYMENTS)).toHaveLength(1)
  })
})
