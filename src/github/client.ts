/**
 * The GitHub module: the only code that speaks to GitHub, its deployments API through
 * `@actions/github`; every request and page bounded in time and by the run's cancel, every answer
 * checked to be JSON.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { DeploymentPayload, DeploymentRecord } from '../core/history.js'
import { messageOf } from '../core/model.js'
import { type Context } from '../core/context.js'

/** One deployment to record: created, then given its one status. */
export interface DeploymentRequest {
  readonly environment: string
  readonly ref: string
  readonly payload: DeploymentPayload
  readonly description: string
  readonly state: 'success' | 'failure'
  readonly logUrl: string
}

/**
 * What bounds a call besides each request's own timeout: its signal (the run's cancel, and a
 * budget's time) ends it; a wait GitHub asks for is taken only if it ends before the deadline (ms
 * since the epoch), by default a request's timeout from when the request is sent.
 */
export interface Bounds {
  readonly signal: AbortSignal
  readonly deadline?: number
}

/** GitHub's deployments API, as much of it as a run uses; the only module that speaks to GitHub. */
export interface Deployments {
  /** Creates the deployment and its status; returns the deployment's id. */
  record(request: DeploymentRequest, bounds: Bounds): Promise<number>
  /** The environment's deployments, newest first, a page at a time, to the last page. */
  history(environment: string, bounds: Bounds): AsyncIterable<DeploymentRecord[]>
  /** The state of the deployment's newest status; undefined when it has none. */
  latestState(id: number, bounds: Bounds): Promise<string | undefined>
}

/** A GitHub request (each page one) that takes longer is given up: GitHub must never hold up a release. */
export const REQUEST_TIMEOUT_MS = 10_000
/** GitHub's largest page. */
const PAGE_SIZE = 100
/** 10,000 deployments: a history read further back is a loop, or a moment no rollback should need. */
export const MAX_PAGES = 100
/** A request GitHub rate-limits is sent at most this many times in all, each after the wait it asks for. */
const MAX_ATTEMPTS = 3
/** How much of an answer that is not JSON a message shows. */
const SHOWN_CHARACTERS = 60

/** A response as octokit gives it, and as it carries one on the errors it throws. */
interface Answer {
  readonly status: number
  readonly url: string
  readonly headers: Readonly<Record<string, string | number | undefined>>
  readonly data: unknown
}

/**
 * The deployments API of the workflow's repository, at `GITHUB_API_URL` (GitHub Enterprise Server
 * included). `@actions/github` is loaded on first use, from a chunk of its own in the bundle: loading
 * it parses the event payload, which must fail as the run's own clear error (src/context.ts), not
 * as a crash at start, and a run that records no deployment neither reads nor evaluates it.
 */
export async function connectGitHub(
  token: string,
  github: Context['github'],
  requestTimeoutMs = REQUEST_TIMEOUT_MS
): Promise<Deployments> {
  const { getOctokit } = await import('@actions/github')
  const octokit = getOctokit(token, { baseUrl: github.apiUrl })
  const [owner = '', repo = ''] = github.repository.split('/')
  const deployments = `/repos/${owner}/${repo}/deployments`
  const ask = <T extends Answer>(
    what: string,
    bounds: Bounds,
    send: (signal: AbortSignal) => Promise<T>
  ) => askWithin(requestTimeoutMs, what, bounds, send)
  return {
    async record({ environment, ref, payload, description, state, logUrl }, bounds) {
      const { data } = await ask(`POST ${deployments}`, bounds, (signal) =>
        octokit.rest.repos.createDeployment({
          owner,
          repo,
          ref,
          environment,
          payload: { ...payload },
          description,
          // The image was built and tested already: no merge, no commit-status checks.
          auto_merge: false,
          required_contexts: [],
          production_environment: environment === 'production',
          transient_environment: false,
          request: { signal }
        })
      )
      if (typeof data !== 'object' || data === null || !('id' in data))
        throw new Error(`GitHub created no deployment: ${data?.message ?? ''}`)
      await ask(`POST ${deployments}/${data.id}/statuses`, bounds, (signal) =>
        octokit.rest.repos.createDeploymentStatus({
          owner,
          repo,
          deployment_id: data.id,
          state,
          log_url: logUrl,
          description,
          request: { signal }
        })
      )
      return data.id
    },
    async *history(environment, bounds) {
      const what = (page: number) => `GET ${deployments}${page === 1 ? '' : ` (page ${page})`}`
      let answer: { data: unknown; url: string; headers: { link?: string } } = await ask(
        what(1),
        bounds,
        (signal) =>
          octokit.rest.repos.listDeployments({
            owner,
            repo,
            environment,
            per_page: PAGE_SIZE,
            request: { signal }
          })
      )
      // Each page is asked for on its own, with its own timeout, where GitHub's Link says it is.
      const read = new Set<string>()
      for (let page = 1; ; page += 1) {
        yield listOf<Listed>(answer.data, what(page)).map((deployment) => ({
          id: deployment.id,
          environment: deployment.environment ?? environment,
          createdAt: new Date(deployment.created_at),
          payload: deployment.payload
        }))
        read.add(new URL(answer.url).href)
        const next = /<([^<>]+)>;\s*rel="next"/.exec(answer.headers.link ?? '')?.[1]
        if (next === undefined) return
        if (read.has(new URL(next).href))
          throw new Error(
            `GitHub's next page after ${what(page)} is one already read: the history goes round in a loop`
          )
        if (page === MAX_PAGES)
          throw new Error(
            `GitHub's deployment history goes on past ${MAX_PAGES} pages of ${PAGE_SIZE}: it is read no further back`
          )
        answer = await ask(what(page + 1), bounds, (signal) =>
          octokit.request({ method: 'GET', url: next, request: { signal } })
        )
      }
    },
    async latestState(id, bounds) {
      const what = `GET ${deployments}/${id}/statuses`
      const { data } = await ask(what, bounds, (signal) =>
        octokit.rest.repos.listDeploymentStatuses({
          owner,
          repo,
          deployment_id: id,
          per_page: 1,
          request: { signal }
        })
      )
      return listOf<{ state?: string }>(data, what)[0]?.state
    }
  }
}

/** A listed deployment, as much of it as the history reads. */
interface Listed {
  readonly id: number
  readonly environment?: string
  readonly created_at: string
  readonly payload: unknown
}

function listOf<T>(data: unknown, what: string): T[] {
  if (!Array.isArray(data)) throw new Error(`GitHub answered ${what} with JSON that is not a list`)
  return data as T[]
}

/**
 * One request (`what`: its method and path, for messages) with a timeout of its own (`timeoutMs`),
 * within the call's bounds; sent again when GitHub rate-limits it and the wait it asks for fits.
 */
async function askWithin<T extends Answer>(
  timeoutMs: number,
  what: string,
  { signal, deadline = Date.now() + timeoutMs }: Bounds,
  send: (signal: AbortSignal) => Promise<T>
): Promise<T> {
  const givenUp = () =>
    new Error(`${what} was given up: ${messageOf(signal.reason)}`, { cause: signal.reason })
  for (let attempt = 1; ; attempt += 1) {
    const timeout = AbortSignal.timeout(timeoutMs)
    let answer: Answer
    try {
      answer = await send(AbortSignal.any([signal, timeout]))
    } catch (error) {
      if (signal.aborted) throw givenUp()
      if (timeout.aborted)
        throw new Error(`GitHub did not answer ${what} within ${seconds(timeoutMs)}`, {
          cause: error
        })
      const failed = (error as { response?: Answer }).response
      if (!failed) throw error
      if (!isJson(failed.data)) throw notJson(what, failed)
      const wait = rateLimitWait(failed)
      if (wait === undefined || attempt === MAX_ATTEMPTS) throw error
      if (Date.now() + wait >= deadline)
        throw new Error(
          `GitHub limits the rate of requests and asks to wait ${seconds(wait)} before ${what} again, more than the time left: ${messageOf(error)}`,
          { cause: error }
        )
      await sleep(wait, undefined, { signal }).catch(() => {
        throw givenUp()
      })
      continue
    }
    if (!isJson(answer.data)) throw notJson(what, answer)
    return answer as T
  }
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`

/** Octokit parses a JSON answer into objects; what it could not parse it leaves as text or bytes. */
const isJson = (data: unknown): boolean =>
  typeof data !== 'string' && !(data instanceof ArrayBuffer)

/** The answer's first characters, escaped: they are whatever a proxy or an outage page sent. */
function notJson(what: string, { status, data }: Answer): Error {
  const text = typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer)
  const characters = [...text]
  const shown = JSON.stringify(characters.slice(0, SHOWN_CHARACTERS).join('')).replace(
    /[^\x20-\x7e]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`
  )
  const more = characters.length > SHOWN_CHARACTERS ? '…' : ''
  return new Error(
    `GitHub answered ${what} with something that is not JSON (status ${status}, first bytes: ${shown}${more})`
  )
}

/**
 * How long GitHub asks a rate-limited request (403 or 429) to wait: its `retry-after` seconds, or
 * until `x-ratelimit-reset` when no requests remain; undefined for any other failure.
 */
function rateLimitWait({ status, headers }: Answer): number | undefined {
  if (status !== 403 && status !== 429) return undefined
  const retryAfter = Number(headers['retry-after'] ?? NaN)
  if (Number.isFinite(retryAfter)) return Math.max(retryAfter, 0) * 1000
  const reset = Number(headers['x-ratelimit-reset'] ?? NaN)
  if (String(headers['x-ratelimit-remaining']) === '0' && Number.isFinite(reset))
    return Math.max(reset * 1000 - Date.now(), 0)
  return undefined
}
