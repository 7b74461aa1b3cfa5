/**
 * The GitHub deployments fake (support/github-fake.mjs) checked against the rules it takes from
 * GitHub's REST documentation, with plain fetch as the client.
 */
import { fakeSha, startGitHubFake } from './support/github-fake.mjs'

type Fake = Awaited<ReturnType<typeof startGitHubFake>>
type Seed = Parameters<Fake['control']['seed']>[0]

const START = Date.parse('2024-05-01T12:00:00.750Z')
const OWNER = 'acme'
const REPO = 'app'
const BASE = `/repos/${OWNER}/${REPO}/deployments`

let fake: Fake
let now = START

beforeAll(async () => {
  fake = await startGitHubFake({ clock: () => now })
})

afterEach(() => {
  fake.control.reset()
  now = START
})

afterAll(async () => {
  await fake.close()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Call {
  auth?: string | null
  signal?: AbortSignal
}

/** One API call; `body` is sent as JSON (a string as it is); auth defaults to a token. */
async function api(method: string, path: string, body?: unknown, { auth, signal }: Call = {}) {
  const headers: Record<string, string> = { accept: 'application/vnd.github+json' }
  const authorization = auth === undefined ? 'token test-token' : auth
  if (authorization !== null) headers.authorization = authorization
  const init: RequestInit = { method, headers }
  if (body !== undefined) {
    headers['content-type'] = 'application/json'
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
  }
  if (signal) init.signal = signal
  const res = await fetch(`${fake.url}${path}`, init)
  const text = await res.text()
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const json: any = text === '' ? null : JSON.parse(text)
  return { status: res.status, headers: res.headers, body: json }
}

const createDeployment = (body: Record<string, unknown>) => api('POST', BASE, body)
const createStatus = (id: number, body: Record<string, unknown>) =>
  api('POST', `${BASE}/${id}/statuses`, body)
const seed = (more: Partial<Seed> = {}) =>
  fake.control.seed({ owner: OWNER, repo: REPO, environment: 'staging', ...more })
const stateOf = (id: number) =>
  fake.control.deployments({ owner: OWNER, repo: REPO }).find((d) => d.id === id)?.statuses

/** The rel → page-number map of a Link header (absent header: {}). */
function linkPages(link: string | null): Record<string, number> {
  const pages: Record<string, number> = {}
  for (const [, url, rel] of (link ?? '').matchAll(/<([^<>]+)>;\s*rel="(\w+)"/g)) {
    pages[rel ?? ''] = Number(new URL(url ?? '').searchParams.get('page'))
  }
  return pages
}

describe('deployments round trip', () => {
  it('creates a deployment, lists it, adds a status and lists the statuses', async () => {
    const created = await createDeployment({
      ref: 'v1.2.3',
      environment: 'staging',
      description: 'promote v1.2.3',
      payload: { image: 'app@sha256:abc' }
    })
    expect(created.status).toBe(201)
    expect(created.headers.get('content-type')).toBe('application/json; charset=utf-8')
    const id: number = created.body.id
    const url = `${fake.url}${BASE}/${id}`
    expect(created.body).toMatchObject({
      id,
      url,
      ref: 'v1.2.3',
      sha: fakeSha('v1.2.3'),
      task: 'deploy',
      environment: 'staging',
      original_environment: 'staging',
      description: 'promote v1.2.3',
      payload: { image: 'app@sha256:abc' },
      created_at: '2024-05-01T12:00:00Z',
      updated_at: '2024-05-01T12:00:00Z',
      statuses_url: `${url}/statuses`,
      repository_url: `${fake.url}/repos/${OWNER}/${REPO}`,
      transient_environment: false,
      production_environment: false
    })
    expect(created.body.sha).toMatch(/^[0-9a-f]{40}$/)
    expect(typeof created.body.node_id).toBe('string')
    expect(typeof created.body.creator.login).toBe('string')

    const listed = await api('GET', BASE)
    expect(listed.status).toBe(200)
    expect(listed.body).toEqual([created.body])
    expect(listed.headers.get('link')).toBeNull()

    now += 65_000
    const status = await createStatus(id, {
      state: 'success',
      log_url: 'https://ci.example/run/1',
      environment_url: 'https://staging.example',
      description: 'promoted'
    })
    expect(status.status).toBe(201)
    expect(status.body).toMatchObject({
      state: 'success',
      log_url: 'https://ci.example/run/1',
      target_url: 'https://ci.example/run/1',
      environment_url: 'https://staging.example',
      description: 'promoted',
      environment: 'staging',
      created_at: '2024-05-01T12:01:05Z',
      deployment_url: url,
      repository_url: `${fake.url}/repos/${OWNER}/${REPO}`
    })

    const statuses = await api('GET', `${BASE}/${id}/statuses`)
    expect(statuses.body).toEqual([status.body])
    const one = await api('GET', `${BASE}/${id}`)
    expect(one.body).toMatchObject({ id, updated_at: '2024-05-01T12:01:05Z' })

    expect(fake.control.deployments({ owner: OWNER, repo: REPO })).toEqual([
      {
        id,
        ref: 'v1.2.3',
        sha: fakeSha('v1.2.3'),
        environment: 'staging',
        payload: { image: 'app@sha256:abc' },
        description: 'promote v1.2.3',
        task: 'deploy',
        createdAt: '2024-05-01T12:00:00Z',
        productionEnvironment: false,
        transientEnvironment: false,
        statuses: [
          {
            id: status.body.id,
            state: 'success',
            logUrl: 'https://ci.example/run/1',
            environmentUrl: 'https://staging.example',
            description: 'promoted',
            createdAt: '2024-05-01T12:01:05Z'
          }
        ]
      }
    ])
  })

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'defaults to production, which is a production environment',
      { ref: 'main' },
      { environment: 'production', production_environment: true, task: 'deploy', description: '' }
    ],
    [
      'takes production_environment and transient_environment as given',
      {
        ref: 'main',
        environment: 'pr-7',
        production_environment: true,
        transient_environment: true
      },
      { environment: 'pr-7', production_environment: true, transient_environment: true }
    ],
    [
      'uses a 40-hex ref as the sha itself',
      { ref: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01', task: 'deploy:migrations' },
      { sha: 'abcdef0123456789abcdef0123456789abcdef01', task: 'deploy:migrations' }
    ]
  ])('create %s', async (_, body, expected) => {
    const created = await createDeployment(body)
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject(expected)
  })

  it('gives the same ref the same fake sha, and different refs different ones', async () => {
    const [a, b, c] = await Promise.all(['v1', 'v1', 'v2'].map((ref) => createDeployment({ ref })))
    expect(a?.body.sha).toBe(b?.body.sha)
    expect(a?.body.sha).not.toBe(c?.body.sha)
  })

  it('moves the deployment when a status names another environment', async () => {
    const { body } = await createDeployment({ ref: 'main', environment: 'staging' })
    await createStatus(body.id, { state: 'in_progress', environment: 'qa' })
    const moved = await api('GET', `${BASE}/${body.id}`)
    expect(moved.body).toMatchObject({ environment: 'qa', original_environment: 'staging' })
  })

  it('treats owner and repository names as case insensitive', async () => {
    const { body } = await createDeployment({ ref: 'main' })
    const listed = await api('GET', `/repos/ACME/App/deployments`)
    expect(listed.body.map((d: { id: number }) => d.id)).toEqual([body.id])
  })
})

describe('payload', () => {
  // GitHub documents payload as "a JSON text field" that may be sent as an object or a string,
  // and returns it as it was stored: a string is not parsed into an object.
  it.each<[string, unknown, unknown]>([
    [
      'an object is kept as an object',
      { image: 'app', replicas: 2 },
      { image: 'app', replicas: 2 }
    ],
    ['a JSON string stays a string', '{"image":"app"}', '{"image":"app"}'],
    ['an omitted payload is {}', undefined, {}]
  ])('%s', async (_, payload, expected) => {
    const created = await createDeployment({ ref: 'main', payload })
    expect(created.status).toBe(201)
    expect(created.body.payload).toEqual(expected)
    const fetched = await api('GET', `${BASE}/${created.body.id}`)
    expect(fetched.body.payload).toEqual(expected)
    const [stored] = fake.control.deployments({ owner: OWNER, repo: REPO })
    expect(stored?.payload).toEqual(expected)
  })
})

describe('listing', () => {
  it.each<[string, string, string[]]>([
    ['environment', 'environment=staging', ['staging-v2', 'staging-v1']],
    ['environment (production)', 'environment=production', ['prod-v1']],
    ['ref', 'ref=v1', ['prod-v1', 'staging-v1']],
    ['task', 'task=deploy:migrations', ['qa-migrate']],
    ['sha', `sha=${fakeSha('v2')}`, ['staging-v2']],
    ['environment and ref', 'environment=staging&ref=v1', ['staging-v1']],
    ['an environment nothing went to', 'environment=nowhere', []]
  ])('filters by %s', async (_, query, expected) => {
    const at = (day: number) => `2024-01-0${day}T00:00:00Z`
    const ids: Record<number, string> = {
      [seed({ ref: 'v1', createdAt: at(1) })]: 'staging-v1',
      [seed({ ref: 'v1', environment: 'production', createdAt: at(2) })]: 'prod-v1',
      [seed({ ref: 'v2', createdAt: at(3) })]: 'staging-v2',
      [seed({ ref: 'v3', environment: 'qa', task: 'deploy:migrations', createdAt: at(4) })]:
        'qa-migrate'
    }
    const listed = await api('GET', `${BASE}?${query}`)
    expect(listed.status).toBe(200)
    expect(listed.body.map((d: { id: number }) => ids[d.id])).toEqual(expected)
  })

  it('lists newest first by created_at, then by id, seeded history included', async () => {
    const march = seed({ createdAt: new Date('2024-03-01T00:00:00Z') })
    const january = seed({ createdAt: '2024-01-01T00:00:00Z' })
    const tieFirst = seed({ createdAt: '2024-02-01T00:00:00Z' })
    const tieSecond = seed({ createdAt: '2024-02-01T00:00:00.400Z' })
    const { body: created } = await createDeployment({ ref: 'main', environment: 'staging' })
    const listed = await api('GET', BASE)
    expect(listed.body.map((d: { id: number }) => d.id)).toEqual([
      created.id,
      march,
      tieSecond,
      tieFirst,
      january
    ])
    expect(listed.body.map((d: { created_at: string }) => d.created_at)).toEqual([
      '2024-05-01T12:00:00Z',
      '2024-03-01T00:00:00Z',
      '2024-02-01T00:00:00Z',
      '2024-02-01T00:00:00Z',
      '2024-01-01T00:00:00Z'
    ])
    const oldestFirst = fake.control.deployments({ owner: OWNER, repo: REPO }).map((d) => d.id)
    expect(oldestFirst).toEqual([january, tieFirst, tieSecond, march, created.id])
  })

  it('answers [] for a repository without deployments', async () => {
    const listed = await api('GET', '/repos/acme/empty/deployments')
    expect(listed).toMatchObject({ status: 200, body: [] })
    expect(listed.headers.get('link')).toBeNull()
  })
})

describe('paging', () => {
  const seedFive = () =>
    [1, 2, 3, 4, 5].map((day) => seed({ createdAt: `2024-01-0${day}T00:00:00Z` })).reverse()

  it.each<[number, number, Record<string, number>]>([
    [1, 2, { next: 2, last: 3 }],
    [2, 2, { prev: 1, next: 3, last: 3, first: 1 }],
    [3, 1, { prev: 2, first: 1 }]
  ])('per_page=2 over 5 deployments, page %i', async (page, size, rels) => {
    const newest = seedFive()
    const listed = await api('GET', `${BASE}?per_page=2&page=${page}`)
    expect(listed.body.map((d: { id: number }) => d.id)).toEqual(
      newest.slice((page - 1) * 2, (page - 1) * 2 + size)
    )
    expect(linkPages(listed.headers.get('link'))).toEqual(rels)
  })

  it('writes Link in GitHub form, keeping the query, so following rel="next" reads everything', async () => {
    const newest = seedFive()
    const first = await api('GET', `${BASE}?environment=staging&per_page=2`)
    const link = first.headers.get('link') ?? ''
    expect(link).toBe(
      `<${fake.url}${BASE}?environment=staging&per_page=2&page=2>; rel="next", ` +
        `<${fake.url}${BASE}?environment=staging&per_page=2&page=3>; rel="last"`
    )
    const seen: number[] = []
    let next: string | undefined = `${fake.url}${BASE}?environment=staging&per_page=2`
    while (next) {
      const res = await api('GET', next.slice(fake.url.length))
      seen.push(...res.body.map((d: { id: number }) => d.id))
      next = /<([^<>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1]
    }
    expect(seen).toEqual(newest)
  })

  it('caps per_page at 100 and defaults it to 30', async () => {
    for (let i = 0; i < 101; i++) seed({ createdAt: new Date(Date.UTC(2024, 0, 1, 0, i)) })
    const capped = await api('GET', `${BASE}?per_page=500`)
    expect(capped.body).toHaveLength(100)
    expect(linkPages(capped.headers.get('link'))).toEqual({ next: 2, last: 2 })
    const rest = await api('GET', `${BASE}?per_page=500&page=2`)
    expect(rest.body).toHaveLength(1)
    const byDefault = await api('GET', BASE)
    expect(byDefault.body).toHaveLength(30)
    expect(linkPages(byDefault.headers.get('link'))).toEqual({ next: 2, last: 4 })
  })

  it('pages statuses newest first too', async () => {
    const id = seed({
      createdAt: '2024-01-01T00:00:00Z',
      statuses: [
        { state: 'queued' },
        { state: 'in_progress', createdAt: '2024-01-01T00:01:00Z' },
        { state: 'success', createdAt: '2024-01-01T00:02:00Z' }
      ]
    })
    const firstPage = await api('GET', `${BASE}/${id}/statuses?per_page=2`)
    expect(firstPage.body.map((s: { state: string }) => s.state)).toEqual([
      'success',
      'in_progress'
    ])
    expect(linkPages(firstPage.headers.get('link'))).toEqual({ next: 2, last: 2 })
    const lastPage = await api('GET', `${BASE}/${id}/statuses?per_page=2&page=2`)
    expect(lastPage.body).toMatchObject([{ state: 'queued', created_at: '2024-01-01T00:00:00Z' }])
  })
})

describe('errors', () => {
  it.each<[string, string | null, number, string | undefined]>([
    ['no authorization header', null, 401, 'Requires authentication'],
    ['a Basic credential', 'Basic dXNlcjpwYXNz', 401, 'Bad credentials'],
    ['a bare scheme', 'token', 401, 'Bad credentials'],
    ['a token', 'token ghs_abc', 200, undefined],
    ['a Bearer token', 'Bearer ghs_abc', 200, undefined]
  ])('answers %s with %s', async (_, auth, status, message) => {
    const res = await api('GET', BASE, undefined, { auth })
    expect(res.status).toBe(status)
    if (message) expect(res.body).toMatchObject({ message })
    expect(fake.control.requests()).toEqual([
      { method: 'GET', path: BASE, query: {}, body: null, authorization: auth }
    ])
  })

  it('does not create a deployment without authorization', async () => {
    const res = await api('POST', BASE, { ref: 'main' }, { auth: null })
    expect(res.status).toBe(401)
    expect(fake.control.deployments({ owner: OWNER, repo: REPO })).toEqual([])
  })

  it.each<[string, string, string]>([
    ['statuses of an unknown deployment', 'POST', `${BASE}/999/statuses`],
    ['the status list of an unknown deployment', 'GET', `${BASE}/999/statuses`],
    ['an unknown deployment', 'GET', `${BASE}/999`],
    ['a deployment of another repository', 'GET', `/repos/acme/other/deployments/{id}`],
    ['an unknown path', 'GET', '/repos/acme/app/releases'],
    ['an unsupported method', 'DELETE', BASE]
  ])('answers 404 for %s', async (_, method, path) => {
    const id = seed()
    const body = method === 'POST' ? { state: 'success' } : undefined
    const res = await api(method, path.replace('{id}', String(id)), body)
    expect(res.status).toBe(404)
    expect(res.body).toMatchObject({ message: 'Not Found' })
    expect(stateOf(id)).toEqual([])
  })

  it.each<[string, (seeded: number) => ReturnType<typeof api>, RegExp]>([
    ['a missing ref', () => createDeployment({ environment: 'staging' }), /"ref" wasn't supplied/],
    ['a rejected ref', () => createDeployment({ ref: 'v9.9.9' }), /^No ref found for: v9\.9\.9$/],
    ['a payload that is a number', () => createDeployment({ ref: 'main', payload: 7 }), /payload/],
    ['an invalid state', (id) => createStatus(id, { state: 'done' }), /Validation Failed/],
    ['a missing state', (id) => createStatus(id, { log_url: 'x' }), /Validation Failed/]
  ])('answers 422 for %s and stores nothing', async (_, call, message) => {
    fake.control.rejectRefs(['v9.9.9'])
    const seeded = seed()
    const res = await call(seeded)
    expect(res.status).toBe(422)
    expect(res.body.message).toMatch(message)
    expect(typeof res.body.documentation_url).toBe('string')
    const stored = fake.control.deployments({ owner: OWNER, repo: REPO })
    expect(stored.map((d) => [d.id, d.statuses])).toEqual([[seeded, []]])
  })

  it('answers 400 for a body that is not JSON', async () => {
    const res = await api('POST', BASE, '{"ref": ')
    expect(res).toMatchObject({ status: 400, body: { message: 'Problems parsing JSON' } })
    expect(fake.control.requests()[0]?.body).toBeNull()
  })
})

describe('outages', () => {
  it('answers every request with the outage status, still recording them', async () => {
    fake.control.setOutage({ status: 503 })
    const read = await api('GET', `${BASE}?environment=staging`)
    const write = await createDeployment({ ref: 'main' })
    const anonymous = await api('GET', BASE, undefined, { auth: null })
    for (const res of [read, write, anonymous]) {
      expect(res.status).toBe(503)
      expect(typeof res.body.message).toBe('string')
    }
    expect(fake.control.deployments({ owner: OWNER, repo: REPO })).toEqual([])
    expect(fake.control.requests()).toEqual([
      {
        method: 'GET',
        path: BASE,
        query: { environment: 'staging' },
        body: null,
        authorization: 'token test-token'
      },
      {
        method: 'POST',
        path: BASE,
        query: {},
        body: { ref: 'main' },
        authorization: 'token test-token'
      },
      { method: 'GET', path: BASE, query: {}, body: null, authorization: null }
    ])
    fake.control.setOutage(null)
    expect((await createDeployment({ ref: 'main' })).status).toBe(201)
  })

  it('hangs: a request with a timeout aborts, and ending the outage lets requests succeed', async () => {
    fake.control.setOutage({ hang: true })
    const started = Date.now()
    await expect(
      api('POST', BASE, { ref: 'aborted' }, { signal: AbortSignal.timeout(200) })
    ).rejects.toMatchObject({ name: 'TimeoutError' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(150)
    expect(fake.control.requests()).toMatchObject([{ method: 'POST', body: { ref: 'aborted' } }])

    const waiting = createDeployment({ ref: 'patient' })
    while (fake.control.requests().length < 2) await sleep(10)
    await sleep(100) // let the server see the aborted client go away
    fake.control.setOutage(null)

    expect((await waiting).status).toBe(201)
    expect((await api('GET', BASE)).status).toBe(200)
    // The request whose client gave up was never applied; the one still waiting was.
    const refs = fake.control.deployments({ owner: OWNER, repo: REPO }).map((d) => d.ref)
    expect(refs).toEqual(['patient'])
  })

  it('rejects an outage it does not know', () => {
    expect(() => fake.control.setOutage({ status: 200 })).toThrow(TypeError)
  })
})

describe('faults', () => {
  const raw = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${fake.url}${path}`, {
      ...init,
      headers: { authorization: 'token test-token' }
    })
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
  }

  it('answers the requests it matches with the text given, as often as asked, then as usual', async () => {
    const id = seed()
    fake.control.fault(
      { method: 'GET', path: BASE, query: { environment: 'staging' }, times: 2 },
      { status: 200, text: '<html>' }
    )
    const html = { status: 200, type: 'text/html; charset=utf-8', text: '<html>' }
    // Another method, path or query is not matched, and uses none of the times.
    expect((await raw(BASE, { method: 'POST' })).status).toBe(400)
    expect((await raw(`${BASE}/${id}`)).status).toBe(200)
    expect((await raw(`${BASE}?environment=qa`)).text).toBe('[]')
    expect(await raw(`${BASE}?environment=staging`)).toEqual(html)
    expect(await raw(`${BASE}?environment=staging&page=1`)).toEqual(html)
    expect(JSON.parse((await raw(`${BASE}?environment=staging`)).text)).toHaveLength(1)
  })

  it('sends the headers given, the content type included', async () => {
    fake.control.fault(
      { path: BASE },
      {
        status: 429,
        text: '{"message":',
        headers: { 'content-type': 'application/json', 'retry-after': '7' }
      }
    )
    const res = await fetch(`${fake.url}${BASE}`)
    expect([res.status, res.headers.get('content-type'), res.headers.get('retry-after')]).toEqual([
      429,
      'application/json',
      '7'
    ])
  })

  it('holds what it matches unanswered, by a pattern of the path, until reset cuts it off', async () => {
    const id = seed()
    fake.control.fault({ path: /\/statuses$/ }, { hang: true })
    const held = raw(`${BASE}/${id}/statuses`)
    while (fake.control.requests().length === 0) await sleep(10)
    // Ending an outage answers what the outage held, not what a fault holds.
    fake.control.setOutage({ hang: true })
    fake.control.setOutage(null)
    expect((await raw(`${BASE}/${id}`)).status).toBe(200)
    fake.control.reset()
    await expect(held).rejects.toThrow()
  })

  it('answers as usual with the Link rel="next" that next returns, and only that', async () => {
    const [, newest] = [seed({ createdAt: '2024-01-01T00:00:00Z' }), seed()]
    fake.control.fault({ path: BASE }, { next: (url: URL) => `${url.pathname}${url.search}` })
    const listed = await api('GET', `${BASE}?per_page=1`)
    expect(listed.body.map((d: { id: number }) => d.id)).toEqual([newest])
    expect(listed.headers.get('link')).toBe(`<${fake.url}${BASE}?per_page=1>; rel="next"`)
  })

  it('takes a number of times that is at least 1', () => {
    expect(() => fake.control.fault({ times: 0 }, { hang: true })).toThrow(TypeError)
  })
})

describe('auto_inactive', () => {
  type Row = [string, Partial<Seed>, Record<string, unknown>, Record<string, unknown>, string]
  it.each<Row>([
    ['marks the prior success of a non-production environment inactive', {}, {}, {}, 'inactive'],
    [
      'leaves a production environment alone',
      { environment: 'production' },
      { environment: 'production' },
      {},
      'success'
    ],
    [
      'leaves a prior production_environment alone, whatever its name',
      { productionEnvironment: true },
      {},
      {},
      'success'
    ],
    ['leaves a transient environment alone', { transientEnvironment: true }, {}, {}, 'success'],
    ['leaves another environment alone', { environment: 'qa' }, {}, {}, 'success'],
    [
      'leaves a prior deployment whose latest state is not success alone',
      { statuses: [{ state: 'success' }, { state: 'failure' }] },
      {},
      {},
      'failure'
    ],
    ['does nothing with auto_inactive false', {}, {}, { auto_inactive: false }, 'success'],
    ['does nothing for a state other than success', {}, {}, { state: 'failure' }, 'success']
  ])('%s', async (_, prior, deployment, status, expected) => {
    const priorId = seed({
      createdAt: '2024-04-01T00:00:00Z',
      statuses: [{ state: 'success' }],
      ...prior
    })
    const { body } = await createDeployment({ ref: 'v2', environment: 'staging', ...deployment })
    now += 60_000
    expect((await createStatus(body.id, { state: 'success', ...status })).status).toBe(201)
    expect(stateOf(priorId)?.at(-1)?.state).toBe(expected)
  })

  it('adds the inactive status at the time of the new success, listed first', async () => {
    const priorId = seed({ createdAt: '2024-04-01T00:00:00Z', statuses: [{ state: 'success' }] })
    const { body } = await createDeployment({ ref: 'v2', environment: 'staging' })
    now += 60_000
    await createStatus(body.id, { state: 'success' })
    const listed = await api('GET', `${BASE}/${priorId}/statuses`)
    expect(listed.body).toMatchObject([
      { state: 'inactive', created_at: '2024-05-01T12:01:00Z', environment: 'staging' },
      { state: 'success', created_at: '2024-04-01T00:00:00Z' }
    ])
  })

  it('does not touch a deployment newer than the one that succeeded', async () => {
    const { body: older } = await createDeployment({ ref: 'v1', environment: 'staging' })
    const newer = seed({ createdAt: '2024-06-01T00:00:00Z', statuses: [{ state: 'success' }] })
    await createStatus(older.id, { state: 'success' })
    expect(stateOf(newer)?.map((s) => s.state)).toEqual(['success'])
  })
})

describe('reset', () => {
  it('forgets deployments, requests, the outage and rejected refs, but ids keep increasing', async () => {
    const { body } = await createDeployment({ ref: 'main' })
    fake.control.rejectRefs(['v9'])
    fake.control.setOutage({ status: 503 })
    fake.control.reset()

    expect(fake.control.requests()).toEqual([])
    expect(fake.control.deployments({ owner: OWNER, repo: REPO })).toEqual([])
    const again = await createDeployment({ ref: 'v9' })
    expect(again.status).toBe(201)
    expect(again.body.id).toBeGreaterThan(body.id)
    expect(await api('GET', BASE)).toMatchObject({ status: 200, body: [{ ref: 'v9' }] })
  })
})
