// @ts-check
/**
 * github-fake.mjs: an in-memory fake of the GitHub REST API's deployments endpoints for end-to-end
 * tests, which point GITHUB_API_URL at it. Under /repos/{owner}/{repo}: POST and GET deployments,
 * GET deployments/{id}, POST and GET deployments/{id}/statuses. Its rules, after GitHub's REST docs:
 * - Every request needs `Authorization: token X` or `Bearer X` (none: 401 "Requires
 *   authentication"; another form: 401 "Bad credentials"). Unknown path or method: 404; a body
 *   that is not a JSON object: 400. Errors are { message, documentation_url }.
 * - Owner and repository names are not case sensitive, and every repository exists. There are no
 *   branches or commit statuses: `auto_merge` and `required_contexts` are ignored (no 409, no 202).
 * - Create: `ref` is required (422). A 40-hex ref is its own sha; any other ref gets a FAKE sha, sha1("github-fake:" + ref), the
 *   same for the same ref. `payload`, "a JSON text field", is an object or a string and is
 *   returned as sent (a string stays a string). Defaults: task "deploy", environment
 *   "production", description "", transient false, production exactly for "production".
 * - Times are ISO 8601 UTC in whole seconds ("2024-05-01T12:00:00Z"), stamped by `clock`.
 *   Listings are newest first (created_at, then id, descending).
 * - Status: `state` one of STATES (422). `log_url`, or the legacy `target_url`, sets both. An
 *   `environment` moves the deployment there (original_environment keeps the first). With
 *   auto_inactive (default true) a `success` adds an `inactive` status to every older deployment
 *   of the repository in the same environment that is neither transient nor production and
 *   whose latest state is `success`.
 * - Listings page by per_page (default 30, at most 100) and page (default 1), with GitHub's Link
 *   header (prev, next, last, first, those that apply) when there is more than one page.
 * - Faults (control.fault) answer the requests they match as GitHub on a bad day would: held
 *   unanswered, a raw answer (HTML, malformed JSON, a rate limit with `retry-after`), or the usual
 *   answer with a Link rel="next" of the test's choosing (itself, or pages without end); an outage
 *   (control.setOutage) holds every request.
 */

import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { URL, URLSearchParams } from 'node:url'

const DOCS = 'https://docs.github.com/rest/deployments'
/** The states a deployment status can have. */
export const STATES = 'error failure inactive in_progress queued pending success'.split(' ')
const INACTIVE = { state: 'inactive', description: '', logUrl: '', environmentUrl: '' }
const CREATOR = { login: 'github-fake', id: 1, node_id: 'U_fake1', type: 'User', site_admin: false }

/**
 * @typedef {{ id: number, state: string, description: string, environment: string,
 *   logUrl: string, environmentUrl: string, createdAt: number }} Status
 * @typedef {{ id: number, owner: string, repo: string, ref: string, sha: string, task: string,
 *   payload: unknown, environment: string, originalEnvironment: string, description: string | null,
 *   transientEnvironment: boolean, productionEnvironment: boolean, createdAt: number,
 *   statuses: Status[] }} Deployment
 * @typedef {{ state: string, createdAt?: Date | string, logUrl?: string, environmentUrl?: string,
 *   description?: string }} SeedStatus
 * @typedef {{ owner: string, repo: string, environment?: string, ref?: string, sha?: string,
 *   payload?: unknown, createdAt?: Date | string, description?: string, task?: string,
 *   transientEnvironment?: boolean, productionEnvironment?: boolean, statuses?: SeedStatus[] }} Seed
 * @typedef {{ method: string, path: string, query: Record<string, string>, body: unknown,
 *   authorization: string | null }} RecordedRequest
 * @typedef {{ status: number, body: unknown, headers?: Record<string, string> }} Reply
 * @typedef {{ method?: string, path?: string, query?: Record<string, string>,
 *   times?: number }} FaultMatch
 * @typedef {{ hang: true } | { status: number, text: string, headers?: Record<string, string> }
 *   | { next: (url: URL) => string }} Fault
 */

/** GitHub's timestamp format. @param {number} ms */
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
/** A time in ms, cut to whole seconds as GitHub keeps it. @param {Date | string | number} at */
function toMs(at) {
  const ms = at instanceof Date ? at.getTime() : typeof at === 'string' ? Date.parse(at) : at
  if (!Number.isFinite(ms)) throw new TypeError(`github-fake: not a time: ${String(at)}`)
  return Math.floor(ms / 1000) * 1000
}
/** Oldest first. @param {{ createdAt: number, id: number }} a @param {{ createdAt: number, id: number }} b */
const byAge = (a, b) => a.createdAt - b.createdAt || a.id - b.id
/** @template T @param {T} value @returns {T} a copy, so callers cannot reach the fake's state */
const copy = (value) => JSON.parse(JSON.stringify(value))
/** @param {unknown} v @returns {v is Record<string, any>} */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v)
/** @template T @param {unknown} v @param {T} fallback @returns {T} */
const or = (v, fallback) => (typeof v === typeof fallback ? /** @type {T} */ (v) : fallback)

/** The sha a ref resolves to: the ref itself when it is one, else a fake. @param {string} ref */
export const fakeSha = (ref) =>
  /^[0-9a-f]{40}$/i.test(ref)
    ? ref.toLowerCase()
    : createHash('sha1').update(`github-fake:${ref}`).digest('hex')

/** @param {number} status @param {string} message @param {object} [more] @returns {Reply} */
const fail = (status, message, more = {}) => ({
  status,
  body: { message, documentation_url: DOCS, ...more }
})

/**
 * Start the fake on host:port (0: a free port). `clock` (ms, default Date.now) stamps what the
 * API creates; seed() takes explicit times. control: seed, deployments, requests (every request,
 * recorded even during an outage), setOutage, fault, reset.
 * @param {{ host?: string, port?: number, clock?: () => number }} [options]
 */
export async function startGitHubFake({ host = '127.0.0.1', port = 0, clock = Date.now } = {}) {
  /** @type {Map<string, Deployment[]>} keyed by lower-cased "owner/repo" */
  let repos = new Map()
  /** @type {RecordedRequest[]} */
  let recorded = []
  let outage = false
  /** @type {{ match: FaultMatch, fault: Fault, left: number }[]} */
  let faults = []
  /** The responses a hang holds, never answered. @type {Set<import('node:http').ServerResponse>} */
  const held = new Set()
  let [nextDeploymentId, nextStatusId, base] = [1, 1, '']

  /** @param {string} owner @param {string} repo */
  const listOf = (owner, repo) => repos.get(`${owner}/${repo}`.toLowerCase()) ?? []
  /** @param {Deployment} d */
  const repoUrl = (d) => `${base}/repos/${d.owner}/${d.repo}`
  /** @param {Deployment} d */
  const deploymentUrl = (d) => `${repoUrl(d)}/deployments/${d.id}`

  /** @param {Deployment} d */
  const renderDeployment = (d) => ({
    url: deploymentUrl(d),
    id: d.id,
    node_id: `DE_fake${d.id}`,
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    payload: d.payload,
    original_environment: d.originalEnvironment,
    environment: d.environment,
    description: d.description,
    creator: CREATOR,
    created_at: iso(d.createdAt),
    updated_at: iso(Math.max(d.createdAt, ...d.statuses.map((s) => s.createdAt))),
    statuses_url: `${deploymentUrl(d)}/statuses`,
    repository_url: repoUrl(d),
    transient_environment: d.transientEnvironment,
    production_environment: d.productionEnvironment
  })
  /** @param {Deployment} d @param {Status} s */
  const renderStatus = (d, s) => ({
    url: `${deploymentUrl(d)}/statuses/${s.id}`,
    id: s.id,
    node_id: `DES_fake${s.id}`,
    state: s.state,
    creator: CREATOR,
    description: s.description,
    environment: s.environment,
    target_url: s.logUrl,
    log_url: s.logUrl,
    environment_url: s.environmentUrl,
    created_at: iso(s.createdAt),
    updated_at: iso(s.createdAt),
    deployment_url: deploymentUrl(d),
    repository_url: repoUrl(d)
  })

  /**
   * Store a deployment; `fields` holds what a request (or seed) gave, checked.
   * @param {string} owner @param {string} repo
   * @param {Partial<Deployment> & { ref: string, createdAt: number }} fields
   */
  function store(owner, repo, { ref, environment = 'production', payload = {}, ...fields }) {
    /** @type {Deployment} */
    const d = {
      id: nextDeploymentId++,
      owner,
      repo,
      ref,
      sha: fields.sha ?? fakeSha(ref),
      task: fields.task ?? 'deploy',
      payload: copy(payload),
      environment,
      originalEnvironment: environment,
      description: fields.description === undefined ? '' : fields.description,
      transientEnvironment: fields.transientEnvironment ?? false,
      productionEnvironment: fields.productionEnvironment ?? environment === 'production',
      createdAt: fields.createdAt,
      statuses: []
    }
    repos.set(`${owner}/${repo}`.toLowerCase(), [...listOf(owner, repo), d])
    return d
  }
  /** @param {Deployment} d @param {Omit<Status, 'id' | 'environment'>} fields */
  function addStatus(d, fields) {
    const status = { id: nextStatusId++, environment: d.environment, ...fields }
    d.statuses = [...d.statuses, status].sort(byAge)
    return status
  }

  /** One page of `items` (newest first) and its Link header. @param {unknown[]} items @param {URL} url @returns {Reply} */
  function paged(items, url) {
    const asked = (/** @type {string} */ name) => Number(url.searchParams.get(name) ?? NaN)
    const perPage = Math.min(asked('per_page') >= 1 ? Math.floor(asked('per_page')) : 30, 100)
    const page = asked('page') >= 1 ? Math.floor(asked('page')) : 1
    const last = Math.max(Math.ceil(items.length / perPage), 1)
    /** @param {number} n @param {string} rel */
    const link = (n, rel) => {
      const params = new URLSearchParams(url.searchParams)
      params.set('page', String(n))
      return `<${base}${url.pathname}?${params}>; rel="${rel}"`
    }
    const links = []
    if (page > 1) links.push(link(Math.min(page - 1, last), 'prev'))
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'))
    if (page > 1) links.push(link(1, 'first'))
    const body = items.slice((page - 1) * perPage, page * perPage)
    return { status: 200, body, ...(links.length > 0 && { headers: { link: links.join(', ') } }) }
  }

  /** @param {string} owner @param {string} repo @param {Record<string, any>} body @returns {Reply} */
  function createDeployment(owner, repo, body) {
    const { ref, payload = {}, environment = 'production' } = body
    if (typeof ref !== 'string' || ref === '') {
      return fail(422, `Invalid request.\n\n"ref" wasn't supplied.`)
    }
    if (!isObject(payload) && typeof payload !== 'string') {
      return fail(422, 'Invalid request.\n\n"payload" must be an object or a string.')
    }
    if (typeof environment !== 'string' || environment === '') {
      return fail(422, 'Invalid request.\n\n"environment" must be a non-empty string.')
    }
    const d = store(owner, repo, {
      ref,
      environment,
      payload,
      task: or(body.task, 'deploy'),
      description: body.description === null ? null : or(body.description, ''),
      transientEnvironment: or(body.transient_environment, false),
      productionEnvironment: or(body.production_environment, environment === 'production'),
      createdAt: toMs(clock())
    })
    return { status: 201, body: renderDeployment(d) }
  }

  /** @param {Deployment} d @param {Record<string, any>} body @returns {Reply} */
  function createStatus(d, body) {
    if (!STATES.includes(body.state)) {
      const errors = [{ resource: 'DeploymentStatus', code: 'invalid', field: 'state' }]
      return fail(422, 'Validation Failed', { errors })
    }
    if (typeof body.environment === 'string' && body.environment !== '') {
      d.environment = body.environment
    }
    const createdAt = toMs(clock())
    const status = addStatus(d, {
      state: body.state,
      description: or(body.description, ''),
      logUrl: or(body.log_url, or(body.target_url, '')),
      environmentUrl: or(body.environment_url, ''),
      createdAt
    })
    if (body.auto_inactive !== false && body.state === 'success') {
      for (const prior of listOf(d.owner, d.repo)) {
        const same = byAge(prior, d) < 0 && prior.environment === d.environment
        if (!same || prior.transientEnvironment || prior.productionEnvironment) continue
        if (prior.statuses.at(-1)?.state !== 'success') continue
        addStatus(prior, { ...INACTIVE, createdAt })
      }
    }
    return { status: 201, body: renderStatus(d, status) }
  }

  /** @param {string} method @param {URL} url @param {unknown} body @param {string | undefined} auth @returns {Reply} */
  function route(method, url, body, auth) {
    if (!auth) return fail(401, 'Requires authentication')
    if (!/^(token|bearer) +\S+$/i.test(auth.trim())) return fail(401, 'Bad credentials')
    const path = /^\/repos\/([^/]+)\/([^/]+)\/deployments(?:\/(\d+)(\/statuses)?)?\/?$/
    const [, owner = '', repo = '', id, statuses] = path.exec(url.pathname) ?? []
    const allowed = statuses || id === undefined ? ['GET', 'POST'] : ['GET']
    if (!owner || !allowed.includes(method)) return fail(404, 'Not Found')
    if (method === 'POST' && !isObject(body)) return fail(400, 'Problems parsing JSON')
    const input = /** @type {Record<string, any>} */ (body)
    const [o, r] = [decodeURIComponent(owner), decodeURIComponent(repo)]
    if (id === undefined) {
      if (method === 'POST') return createDeployment(o, r, input)
      const filters = ['sha', 'ref', 'task', 'environment'].filter((n) => url.searchParams.has(n))
      const field = (/** @type {any} */ d, /** @type {string} */ name) => d[name]
      const kept = listOf(o, r).filter((d) =>
        filters.every((name) => url.searchParams.get(name) === field(d, name))
      )
      return paged(kept.sort(byAge).reverse().map(renderDeployment), url)
    }
    const d = listOf(o, r).find((candidate) => candidate.id === Number(id))
    if (!d) return fail(404, 'Not Found')
    if (!statuses) return { status: 200, body: renderDeployment(d) }
    if (method === 'POST') return createStatus(d, input)
    const rendered = d.statuses.map((s) => renderStatus(d, s))
    return paged(rendered.reverse(), url)
  }

  /** @param {import('node:http').ServerResponse} res @param {Reply} reply */
  function send(res, { status, body, headers = {} }) {
    const text = JSON.stringify(body)
    const length = Buffer.byteLength(text)
    const type = 'application/json; charset=utf-8'
    res.writeHead(status, { 'content-type': type, 'content-length': length, ...headers }).end(text)
  }

  /** The first fault matching the request, one of its `times` used. @param {string} method @param {URL} url */
  function faultFor(method, url) {
    const found = faults.find(({ match: { method: m, path, query = {} } }) => {
      if ((m !== undefined && m !== method) || (path !== undefined && path !== url.pathname)) {
        return false
      }
      return Object.entries(query).every(([name, value]) => url.searchParams.get(name) === value)
    })
    if (!found) return undefined
    found.left -= 1
    if (found.left === 0) faults = faults.filter((each) => each !== found)
    return found.fault
  }

  const server = createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const [method, raw] = [req.method ?? 'GET', Buffer.concat(chunks).toString('utf8')]
      const url = new URL(req.url ?? '/', 'http://github-fake')
      let [body, parsed] = [/** @type {unknown} */ (null), true]
      try {
        if (raw.trim() !== '') body = JSON.parse(raw)
      } catch {
        parsed = false
      }
      const auth = req.headers.authorization
      const query = Object.fromEntries(url.searchParams)
      recorded.push({ method, path: url.pathname, query, body, authorization: auth ?? null })
      const fault = faultFor(method, url)
      if (outage || (fault && 'hang' in fault)) {
        // Held: never answered, never applied; dropped when its client gives up.
        held.add(res)
        return void res.once('close', () => held.delete(res))
      }
      if (fault && 'text' in fault) {
        const type = { 'content-type': 'text/html; charset=utf-8' }
        return void res.writeHead(fault.status, { ...type, ...fault.headers }).end(fault.text)
      }
      try {
        const reply = parsed ? route(method, url, body, auth) : fail(400, 'Problems parsing JSON')
        const next = fault && 'next' in fault && `<${base}${fault.next(url)}>; rel="next"`
        send(res, next ? { ...reply, headers: { ...reply.headers, link: next } } : reply)
      } catch (error) {
        send(res, fail(500, `github-fake internal error: ${String(error)}`))
      }
    })
  })
  server.listen(port, host)
  await once(server, 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('github-fake: no address')
  base = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`

  const control = {
    /** Store a deployment "in the past" (no auto_inactive rule); returns its id. @param {Seed} seed */
    seed({ owner, repo, ref = 'main', createdAt, statuses = [], ...fields }) {
      if (typeof owner !== 'string' || typeof repo !== 'string') {
        throw new TypeError('github-fake seed: owner and repo are required')
      }
      const d = store(owner, repo, { ...fields, ref, createdAt: toMs(createdAt ?? clock()) })
      for (const { state, logUrl = '', environmentUrl = '', description = '', ...s } of statuses) {
        if (!STATES.includes(state)) throw new TypeError(`github-fake seed: state ${state}`)
        const at = toMs(s.createdAt ?? d.createdAt)
        addStatus(d, { state, description, logUrl, environmentUrl, createdAt: at })
      }
      return d.id
    },
    /** A repository's deployments, oldest first, statuses oldest first. @param {{ owner: string, repo: string }} where */
    deployments: ({ owner, repo }) =>
      [...listOf(owner, repo)].sort(byAge).map((d) => ({
        id: d.id,
        ref: d.ref,
        sha: d.sha,
        environment: d.environment,
        payload: copy(d.payload),
        description: d.description,
        task: d.task,
        createdAt: iso(d.createdAt),
        productionEnvironment: d.productionEnvironment,
        transientEnvironment: d.transientEnvironment,
        statuses: d.statuses.map((s) => ({
          id: s.id,
          state: s.state,
          logUrl: s.logUrl,
          environmentUrl: s.environmentUrl,
          description: s.description,
          createdAt: iso(s.createdAt)
        }))
      })),
    /** Every request received, in order. @returns {RecordedRequest[]} */
    requests: () => copy(recorded),
    /** { hang: true }: hold every later request unanswered; null: answer them again. @param {{ hang: true } | null} spec */
    setOutage(spec) {
      if (spec !== null && spec?.hang !== true) {
        throw new TypeError('github-fake setOutage: null or { hang: true }')
      }
      outage = spec !== null
    },
    /**
     * Answer the requests that `match` matches (every field given: method, path, query values; at
     * most `times` requests, default all) with `fault`: `{ hang: true }`
     * holds them unanswered; `{ status, text, headers }`
     * sends that text as it is (content-type text/html unless `headers` says otherwise); `{ next }`
     * answers as usual with only a Link rel="next" to the path and query `next(url)` returns.
     * @param {FaultMatch} match @param {Fault} fault
     */
    fault(match, fault) {
      const { times = Infinity } = match
      if (!(times >= 1)) throw new TypeError('github-fake fault: times is at least 1')
      faults = [...faults, { match, fault, left: times }]
    },
    /** Forget everything but the id counters; held requests are cut off. */
    reset() {
      for (const res of held) res.destroy()
      held.clear()
      ;[repos, recorded, outage, faults] = [new Map(), [], false, []]
    }
  }

  /** @type {Promise<void> | undefined} */
  let closing
  const close = () => {
    closing ??= new Promise((resolve, reject) => {
      held.clear()
      server.close((error) => (error ? reject(error) : resolve()))
      server.closeAllConnections?.()
    })
    return closing
  }
  return { url: base, control, close }
}
