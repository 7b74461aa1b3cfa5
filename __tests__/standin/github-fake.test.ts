/**
 * The GitHub deployments fake (support/github-fake.mjs) against the rules it takes from GitHub's
 * REST documentation, and its faults, with plain fetch as the client.
 */
import { fakeSha, startGitHubFake } from '../support/github-fake.mjs'
import { sleep } from './ecr.js'

type Fake = Awaited<ReturnType<typeof startGitHubFake>>
type Seed = Parameters<Fake['control']['seed']>[0]

const START = Date.parse('2024-05-01T12:00:00.750Z')
const BASE = '/repos/acme/app/deployments'
const day = (d: number) => `2024-01-0${d}T00:00:00Z`
let fake: Fake
let now = START

beforeAll(async () => {
  fake = await startGitHubFake({ clock: () => now })
})
afterEach(() => {
  fake.control.reset()
  now = START
})
afterAll(() => fake.close())

/** One call; `body` is sent as JSON (a string as it is); auth defaults to a token. */
async function api(method: string, path: string, body?: unknown, auth: string | null = 'token t') {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: { ...(auth !== null && { authorization: auth }) },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) })
  })
  const text = await res.text()
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const json: any = text === '' ? null : JSON.parse(text)
  return { status: res.status, link: res.headers.get('link'), body: json }
}
const create = (body: Record<string, unknown>) => api('POST', BASE, body)
const addStatus = (id: number, body: Record<string, unknown>) =>
  api('POST', `${BASE}/${id}/statuses`, body)
const seed = (more: Partial<Seed> = {}) =>
  fake.control.seed({ owner: 'acme', repo: 'app', environment: 'staging', ...more })
const stored = () => fake.control.deployments({ owner: 'acme', repo: 'app' })
const statesOf = (id: number) =>
  stored()
    .find((d) => d.id === id)
    ?.statuses.map((s) => s.state)
const ids = (body: { id: number }[]) => body.map((d) => d.id)
/** The rel → page map of a Link header. */
const pages = (link: string | null) =>
  Object.fromEntries(
    [...(link ?? '').matchAll(/<([^<>]+)>;\s*rel="(\w+)"/g)].map(([, url = '', rel]) => [
      rel,
      Number(new URL(url).searchParams.get('page'))
    ])
  )

describe('deployments and statuses', () => {
  it('creates, lists and reads a deployment; adds and lists a status, stamped by the clock', async () => {
    const payload = { image: 'app@sha256:abc' }
    const created = await create({ ref: 'v1', environment: 'staging', description: 'go', payload })
    const { id } = created.body
    const [url, repository_url] = [`${fake.url}${BASE}/${id}`, `${fake.url}/repos/acme/app`]
    expect([created.status, created.body]).toEqual([
      201,
      expect.objectContaining({
        ...{ url, sha: fakeSha('v1'), task: 'deploy', original_environment: 'staging', payload },
        ...{ created_at: '2024-05-01T12:00:00Z', updated_at: '2024-05-01T12:00:00Z' },
        ...{ statuses_url: `${url}/statuses`, repository_url, transient_environment: false },
        production_environment: false
      })
    ])
    expect(await api('GET', BASE)).toEqual({ status: 200, link: null, body: [created.body] })
    now += 65_000
    const given = { state: 'success', environment_url: 'https://stage', description: 'promoted' }
    const status = await addStatus(id, { ...given, log_url: 'https://ci/1' })
    const at = '2024-05-01T12:01:05Z'
    expect([status.status, status.body]).toEqual([
      201,
      expect.objectContaining({
        ...{ ...given, log_url: 'https://ci/1', target_url: 'https://ci/1' },
        ...{ environment: 'staging', created_at: at, deployment_url: url, repository_url }
      })
    ])
    expect((await api('GET', `${BASE}/${id}/statuses`)).body).toEqual([status.body])
    expect((await api('GET', `${BASE}/${id}`)).body.updated_at).toBe(at)
    const [logUrl, environmentUrl] = ['https://ci/1', given.environment_url]
    const { state, description } = given
    expect(stored()).toEqual([
      expect.objectContaining({
        ...{ id, ref: 'v1', environment: 'staging', createdAt: '2024-05-01T12:00:00Z' },
        statuses: [
          { id: status.body.id, state, logUrl, environmentUrl, description, createdAt: at }
        ]
      })
    ])
  })

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'the defaults: production (a production environment), task deploy, no description',
      {},
      { environment: 'production', production_environment: true, task: 'deploy', description: '' }
    ],
    [
      'production_environment and transient_environment as given',
      { environment: 'pr-7', production_environment: true, transient_environment: true },
      { production_environment: true, transient_environment: true }
    ],
    [
      'a 40-hex ref as its own sha, lower case',
      { ref: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01' },
      { sha: 'abcdef0123456789abcdef0123456789abcdef01' }
    ],
    ['auto_merge and required_contexts ignored', { required_contexts: ['ci'] }, { ref: 'main' }],
    ['a payload object as an object', { payload: { n: 2 } }, { payload: { n: 2 } }],
    ['a payload string as a string', { payload: '{"n":2}' }, { payload: '{"n":2}' }],
    ['no payload as {}', {}, { payload: {} }]
  ])('creates with %s', async (_, body, expected) => {
    const created = await create({ ref: 'main', ...body })
    expect([created.status, created.body]).toEqual([201, expect.objectContaining(expected)])
    expect((await api('GET', `${BASE}/${created.body.id}`)).body).toEqual(created.body)
  })

  it('moves the deployment where a status says, keeping original_environment', async () => {
    const { body } = await create({ ref: 'main', environment: 'staging' })
    await addStatus(body.id, { state: 'in_progress', environment: 'qa' })
    expect((await api('GET', `${BASE}/${body.id}`)).body).toMatchObject({
      environment: 'qa',
      original_environment: 'staging'
    })
  })
})

describe('listing', () => {
  it.each<[string, string[]]>([
    // names case-insensitive
    ['/repos/ACME/App/deployments', ['qa-migrate', 'staging-v2', 'prod-v1', 'staging-v1']],
    ['/repos/acme/empty/deployments', []], // every repository exists
    ['environment=staging', ['staging-v2', 'staging-v1']],
    ['environment=production', ['prod-v1']],
    ['ref=v1', ['prod-v1', 'staging-v1']],
    ['task=deploy:migrations', ['qa-migrate']],
    [`sha=${fakeSha('v2')}`, ['staging-v2']],
    ['environment=staging&ref=v1', ['staging-v1']],
    ['environment=nowhere', []]
  ])('lists %s', async (query, expected) => {
    const names: Record<number, string> = {
      [seed({ ref: 'v1', createdAt: day(1) })]: 'staging-v1',
      [seed({ ref: 'v1', environment: 'production', createdAt: day(2) })]: 'prod-v1',
      [seed({ ref: 'v2', createdAt: day(3) })]: 'staging-v2',
      [seed({ ref: 'v3', environment: 'qa', task: 'deploy:migrations', createdAt: day(4) })]:
        'qa-migrate'
    }
    const listed = await api('GET', query.startsWith('/') ? query : `${BASE}?${query}`)
    expect([
      listed.status,
      listed.link,
      listed.body.map((d: { id: number }) => names[d.id])
    ]).toEqual([200, null, expected])
  })

  it('lists newest first, by created_at then id, seeded history included', async () => {
    const march = seed({ createdAt: new Date('2024-03-01T00:00:00Z') })
    const january = seed({ createdAt: '2024-01-01T00:00:00Z' })
    const tieFirst = seed({ createdAt: '2024-02-01T00:00:00Z' })
    const tieSecond = seed({ createdAt: '2024-02-01T00:00:00.400Z' }) // GitHub keeps whole seconds
    const { body: created } = await create({ ref: 'main', environment: 'staging' })
    const { body } = await api('GET', BASE)
    expect(ids(body)).toEqual([created.id, march, tieSecond, tieFirst, january])
    expect(body[2].created_at).toBe('2024-02-01T00:00:00Z')
    expect(stored().map((d) => d.id)).toEqual([january, tieFirst, tieSecond, march, created.id])
  })

  it.each<[string, number, number[], Record<string, number>]>([
    ['per_page=2&page=1', 5, [0, 1], { next: 2, last: 3 }],
    ['per_page=2&page=2', 5, [2, 3], { prev: 1, next: 3, last: 3, first: 1 }],
    ['per_page=2&page=3', 5, [4], { prev: 2, first: 1 }],
    ['per_page=500', 101, [...Array(100).keys()], { next: 2, last: 2 }],
    ['per_page=500&page=2', 101, [100], { prev: 1, first: 1 }],
    ['', 101, [...Array(30).keys()], { next: 2, last: 4 }]
  ])('pages ?%s of %i (per_page at most 100, 30 by default)', async (query, count, at, rels) => {
    const newest = Array.from({ length: count }, (_, i) => seed({ createdAt: new Date(i * 1000) }))
    newest.reverse()
    const listed = await api('GET', query.startsWith('/') ? query : `${BASE}?${query}`)
    expect([ids(listed.body), pages(listed.link)]).toEqual([at.map((i) => newest[i]), rels])
  })

  it('writes Link as GitHub does, keeping the query, so rel="next" leads through every page', async () => {
    const newest = [1, 2, 3, 4, 5].map((d) => seed({ createdAt: day(d) })).reverse()
    const first = `${BASE}?environment=staging&per_page=2`
    const { link } = await api('GET', first)
    expect(link).toBe(
      `<${fake.url}${first}&page=2>; rel="next", <${fake.url}${first}&page=3>; rel="last"`
    )
    const seen: number[] = []
    for (let next: string | undefined = `${fake.url}${first}`; next;) {
      const res = await api('GET', next.slice(fake.url.length))
      seen.push(...ids(res.body))
      next = /<([^<>]+)>;\s*rel="next"/.exec(res.link ?? '')?.[1]
    }
    expect(seen).toEqual(newest)
  })

  it('pages statuses newest first too', async () => {
    const statuses = [
      { state: 'queued' },
      { state: 'in_progress', createdAt: '2024-01-01T00:01:00Z' },
      { state: 'success', createdAt: '2024-01-01T00:02:00Z' }
    ]
    const id = seed({ createdAt: day(1), statuses })
    const first = await api('GET', `${BASE}/${id}/statuses?per_page=2`)
    const last = await api('GET', `${BASE}/${id}/statuses?per_page=2&page=2`)
    expect([first.body, pages(first.link), last.body]).toMatchObject([
      [{ state: 'success' }, { state: 'in_progress' }],
      { next: 2, last: 2 },
      [{ state: 'queued', created_at: '2024-01-01T00:00:00Z' }]
    ])
  })
})

describe('errors', () => {
  it.each<[string, string, string | null, number, string | undefined]>([
    ['GET without authorization', 'GET', null, 401, 'Requires authentication'],
    ['POST without authorization', 'POST', null, 401, 'Requires authentication'],
    ['a Basic credential', 'GET', 'Basic dXNlcjpwYXNz', 401, 'Bad credentials'],
    ['a bare scheme', 'GET', 'token', 401, 'Bad credentials'],
    ['a token', 'GET', 'token ghs_abc', 200, undefined],
    ['a Bearer token', 'GET', 'Bearer ghs_abc', 200, undefined]
  ])('answers %s with %s', async (_, method, auth, status, message) => {
    const body = method === 'POST' ? { ref: 'main' } : undefined
    const res = await api(method, BASE, body, auth)
    expect([res.status, res.body.message]).toEqual([status, message])
    expect([fake.control.requests(), stored()]).toEqual([
      [{ method, path: BASE, query: {}, body: body ?? null, authorization: auth }],
      []
    ])
  })

  it.each([
    ['POST', `${BASE}/999/statuses`],
    ['GET', `${BASE}/999/statuses`],
    ['GET', `${BASE}/999`],
    ['GET', '/repos/acme/other/deployments/{id}'],
    ['GET', '/repos/acme/app/releases'],
    ['DELETE', BASE]
  ])('answers %s %s with 404', async (method, path) => {
    const id = seed()
    const body = method === 'POST' ? { state: 'success' } : undefined
    const res = await api(method, path.replace('{id}', String(id)), body)
    expect([res.status, res.body.message, statesOf(id)]).toEqual([404, 'Not Found', []])
  })

  it.each<[string, (seeded: number) => ReturnType<typeof api>, RegExp]>([
    ['a missing ref', () => create({ environment: 'staging' }), /"ref" wasn't supplied/],
    ['a payload that is a number', () => create({ ref: 'main', payload: 7 }), /payload/],
    ['an invalid state', (id) => addStatus(id, { state: 'done' }), /Validation Failed/],
    ['a missing state', (id) => addStatus(id, { log_url: 'x' }), /Validation Failed/]
  ])('answers 422 for %s and stores nothing', async (_, call, message) => {
    const seeded = seed()
    const res = await call(seeded)
    expect([res.status, res.body.message, res.body.documentation_url]).toEqual([
      422,
      expect.stringMatching(message),
      expect.any(String)
    ])
    expect(stored().map((d) => [d.id, d.statuses])).toEqual([[seeded, []]])
  })

  it('answers 400 for a body that is not JSON', async () => {
    const res = await api('POST', BASE, '{"ref": ')
    expect([res.status, res.body.message, fake.control.requests()[0]?.body]).toEqual([
      400,
      'Problems parsing JSON',
      null
    ])
  })
})

// What a fault answers, its `times` and what it matches, its headers, a Link rel="next" of its own
// and a hang are proven through the client in unit/github/client.test.ts.
it('a hang holds what it matches unanswered until reset() cuts it; control refuses what it cannot do', async () => {
  const id = seed()
  fake.control.fault({ path: `${BASE}/${id}/statuses` }, { hang: true })
  const held = fetch(`${fake.url}${BASE}/${id}/statuses`, { headers: { authorization: 'token t' } })
  while (fake.control.requests().length === 0) await sleep(10)
  expect((await api('GET', `${BASE}/${id}`)).status).toBe(200)
  fake.control.reset()
  await expect(held).rejects.toThrow()
  expect(() => fake.control.fault({ times: 0 }, { hang: true })).toThrow(TypeError)
  expect(() => fake.control.setOutage({ status: 503 } as never)).toThrow(TypeError)
})

describe('auto_inactive', () => {
  const production = { environment: 'production' }
  const failed = [{ state: 'success' }, { state: 'failure' }]
  const flagged = { productionEnvironment: true }
  it.each<[string, Partial<Seed>, Record<string, unknown>, Record<string, unknown>, string]>([
    ['marks the prior success of a non-production environment inactive', {}, {}, {}, 'inactive'],
    ['leaves production alone', production, production, {}, 'success'],
    ['leaves a prior production_environment alone', flagged, {}, {}, 'success'],
    ['leaves a transient environment alone', { transientEnvironment: true }, {}, {}, 'success'],
    ['leaves another environment alone', { environment: 'qa' }, {}, {}, 'success'],
    ['leaves a prior whose latest state is not success', { statuses: failed }, {}, {}, 'failure'],
    ['does nothing with auto_inactive false', {}, {}, { auto_inactive: false }, 'success'],
    ['does nothing for another state than success', {}, {}, { state: 'failure' }, 'success']
  ])('%s', async (_, prior, deployment, status, expected) => {
    const priorId = seed({ createdAt: day(1), statuses: [{ state: 'success' }], ...prior })
    const { body } = await create({ ref: 'v2', environment: 'staging', ...deployment })
    now += 60_000
    expect((await addStatus(body.id, { state: 'success', ...status })).status).toBe(201)
    expect(statesOf(priorId)?.at(-1)).toBe(expected)
  })

  it('adds the inactive status at the time of the success, and never to a newer deployment', async () => {
    const prior = seed({ createdAt: day(1), statuses: [{ state: 'success' }] })
    const { body } = await create({ ref: 'v2', environment: 'staging' })
    const newer = seed({ createdAt: '2024-06-01T00:00:00Z', statuses: [{ state: 'success' }] })
    now += 60_000
    await addStatus(body.id, { state: 'success' })
    expect((await api('GET', `${BASE}/${prior}/statuses`)).body).toMatchObject([
      { state: 'inactive', created_at: '2024-05-01T12:01:00Z', environment: 'staging' },
      { state: 'success', created_at: day(1) }
    ])
    expect(statesOf(newer)).toEqual(['success'])
  })
})

it('reset() forgets deployments, requests, faults and the outage; ids keep increasing', async () => {
  const { body } = await create({ ref: 'main' })
  fake.control.fault({ path: BASE }, { status: 503, text: 'down' })
  fake.control.setOutage({ hang: true })
  fake.control.reset()
  expect([fake.control.requests(), stored()]).toEqual([[], []])
  const again = await create({ ref: 'v9' })
  expect([again.status, again.body.id > body.id]).toEqual([201, true])
  expect(await api('GET', BASE)).toMatchObject({ status: 200, body: [{ ref: 'v9' }] })
})
