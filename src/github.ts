import type { Context } from './context.js'
import type { DeploymentPayload, DeploymentRecord } from './history.js'

/** One deployment to record: created, then given its one status. */
export interface DeploymentRequest {
  readonly environment: string
  readonly ref: string
  readonly payload: DeploymentPayload
  readonly description: string
  readonly state: 'success' | 'failure'
  readonly logUrl: string
}

/** GitHub's deployments API, as much of it as a run uses; the only module that speaks to GitHub. */
export interface Deployments {
  /** Creates the deployment and its status; returns the deployment's id. */
  record(request: DeploymentRequest): Promise<number>
  /** The environment's deployments, newest first, a page at a time, to the last page. */
  history(environment: string): AsyncIterable<DeploymentRecord[]>
  /** The state of the deployment's newest status; undefined when it has none. */
  latestState(id: number): Promise<string | undefined>
}

/** A GitHub request that takes longer is given up: GitHub must never hold up a release. */
const REQUEST_TIMEOUT_MS = 15_000
/** GitHub's largest page. */
const PAGE_SIZE = 100

/**
 * The deployments API of the workflow's repository, at `GITHUB_API_URL` (GitHub Enterprise Server
 * included). `@actions/github` is loaded on first use: loading it parses the event payload, which
 * must fail as the run's own clear error (src/context.ts), not as a crash at start. `eager` keeps it
 * in the one bundle file.
 */
export async function connectGitHub(
  token: string,
  github: Context['github']
): Promise<Deployments> {
  const { getOctokit } = await import(/* webpackMode: "eager" */ '@actions/github')
  const octokit = getOctokit(token, { baseUrl: github.apiUrl })
  const [owner = '', repo = ''] = github.repository.split('/')
  const request = () => ({ signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  return {
    async record({ environment, ref, payload, description, state, logUrl }) {
      const { data } = await octokit.rest.repos.createDeployment({
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
        request: request()
      })
      if (!('id' in data)) throw new Error(`GitHub created no deployment: ${data.message ?? ''}`)
      await octokit.rest.repos.createDeploymentStatus({
        owner,
        repo,
        deployment_id: data.id,
        state,
        log_url: logUrl,
        description,
        request: request()
      })
      return data.id
    },
    async *history(environment) {
      const pages = octokit.paginate.iterator(octokit.rest.repos.listDeployments, {
        owner,
        repo,
        environment,
        per_page: PAGE_SIZE,
        // One signal for every page: the history as a whole gets a few requests' time.
        request: { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS * 4) }
      })
      for await (const { data } of pages) {
        yield data.map((deployment) => ({
          id: deployment.id,
          environment: deployment.environment ?? environment,
          createdAt: new Date(deployment.created_at),
          payload: deployment.payload
        }))
      }
    },
    async latestState(id) {
      const { data } = await octokit.rest.repos.listDeploymentStatuses({
        owner,
        repo,
        deployment_id: id,
        per_page: 1,
        request: request()
      })
      return data[0]?.state
    }
  }
}
