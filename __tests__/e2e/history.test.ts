/**
 * End to end, the action and GitHub: the bundle as a runner runs it, against the stand-in and a fake
 * of GitHub's deployments API reached through GITHUB_API_URL, with the runner's GITHUB_SERVER_URL,
 * GITHUB_REPOSITORY and GITHUB_RUN_ID. It shows the status a runner prints, deployment records
 * written (cli.test reads them back page by page), and the bounds: GitHub hanging costs a release
 * of 25 repositories at most the recording budget, and a cancel ends a request GitHub leaves
 * unanswered.
 * Which record a moment picks, and every message about it, is pinned in __tests__/unit (history,
 * deployments).
 */
import { RECORDING_BUDGET_MS } from '../../src/run/deployments.js'
import { REQUEST_TIMEOUT_MS } from '../../src/github/client.js'
import { startGitHubFake } from '../support/github-fake.mjs'
import { runAction, startAction, type RunOptions } from '../support/run-action.mjs'
import {
  actionsOf,
  dispatchRun,
  REGISTRY,
  releases,
  tagsOf,
  SHAS,
  withStandIn,
  type GitHubFake,
  type Registry,
  type Release
} from '../support/e2e.js'

const OWNER = { owner: 'octo', repo: 'app' }

interface World extends Registry {
  github: GitHubFake
  /** A workflow_dispatch of the action with these inputs, GitHub at the fake. */
  act(repositories: string[], inputs: Record<string, string>, sha?: string): RunOptions
  repository: (
    name: string,
    tags?: Partial<Record<Release, string[]>>
  ) => ReturnType<typeof releases>
}

/** Runs `scenario` against a stand-in and a GitHub fake of its own. */
const withGitHub = (scenario: (world: World) => Promise<void>) =>
  withStandIn(async (registry) => {
    const github = await startGitHubFake()
    const { standIn } = registry
    try {
      await scenario({
        ...registry,
        github,
        act: (repositories, inputs, sha = '') =>
          dispatchRun(
            standIn.url,
            repositories,
            { 'github-token': 'ghs_test', ...inputs },
            {
              GITHUB_SHA: sha,
              GITHUB_API_URL: github.url,
              GITHUB_SERVER_URL: 'https://github.example',
              GITHUB_REPOSITORY: 'octo/app',
              GITHUB_RUN_ID: '4242'
            }
          ),
        repository: (name, tags) => releases(registry, name, tags)
      })
    } finally {
      await github.close()
    }
  })

const json = (outputs: Record<string, string>) =>
  JSON.parse(outputs.json ?? '[]') as Record<string, unknown>[]
const warnings = (stdout: string) =>
  stdout.split('\n').filter((line) => line.startsWith('::warning::'))

describe('the action and GitHub', () => {
  it.concurrent(
    'GitHub not answering: 25 repositories are released within the budget, with one warning',
    () =>
      withGitHub(async ({ standIn, github, act, repository }) => {
        const names = Array.from({ length: 25 }, (_, index) => `team/hung-${index}`)
        const digests = await Promise.all(names.map((name) => repository(name)))
        github.control.setOutage({ hang: true })
        const started = Date.now()
        const run = await runAction(
          act(
            names,
            { event: 'release', 'release-tag': 'v1.1.0', deployments: 'on' },
            SHAS['1.1.0']
          )
        )
        expect(Date.now() - started).toBeLessThanOrEqual(60_000)
        expect(run.errors).toEqual([])
        expect(run.status).toBe(0)
        for (const [index, name] of names.entries())
          expect(tagsOf(standIn.control.snapshot(name))).toMatchObject({
            'v1.1.0': digests[index]!['1.1.0'],
            production: digests[index]!['1.1.0']
          })
        expect(actionsOf(run)).toHaveLength(50)
        expect(warnings(run.stdout)).toEqual([
          expect.stringMatching(
            /^::warning::25 of 25 GitHub deployments not recorded \(the tags are written as reported\): team\/hung-0:production in production, /
          )
        ])
        expect(warnings(run.stdout)[0]).toContain(
          `: the ${RECORDING_BUDGET_MS / 1000} s for recording deployments ran out`
        )
      }),
    90_000
  )

  it.concurrent(
    'status: every pointer of several repositories, with links to their commits on the server, writing nothing',
    () =>
      withGitHub(async ({ standIn, act, repository }) => {
        const api = await repository('team/api', {
          '1.0.0': ['v1.0.0'],
          '1.1.0': ['v1.1.0', 'production'],
          '1.2.0': ['v1.2.0', 'staging', 'withdrawn-1.2.0']
        })
        const worker = await repository('team/worker', { '1.0.0': ['v1.0.0', 'production'] })
        const before = standIn.control.calls.length
        const status = await runAction(act(['team/api', 'team/worker'], { event: 'status' }))
        expect(status.errors).toEqual([])
        expect(status.status).toBe(0)
        const operations = standIn.control.calls.slice(before).map(({ operation }) => operation)
        expect(
          operations.filter((operation) => /^(Put|BatchDelete|Update|Start)/.test(operation))
        ).toEqual([])
        const [first, second] = json(status.outputs)
        expect(first).toMatchObject({
          repository: 'team/api',
          uri: `${REGISTRY}/team/api`,
          withdrawn: [{ version: '1.2.0', tag: 'withdrawn-1.2.0', digest: api['1.2.0'] }]
        })
        expect(first?.pointers).toEqual([
          expect.objectContaining({ tag: 'latest', digest: null, versions: [], commit: null }),
          expect.objectContaining({
            tag: 'production',
            digest: api['1.1.0'],
            versions: ['1.1.0'],
            'build-tag': 'sha-1100000',
            commit: '1100000',
            'commit-url': 'https://github.example/octo/app/commit/1100000',
            'pushed-at': expect.stringMatching(/^2\d{3}-/),
            size: expect.any(Number),
            scan: 'NOT SCANNED: none',
            withdrawn: false
          }),
          expect.objectContaining({
            tag: 'staging',
            digest: api['1.2.0'],
            versions: ['1.2.0'],
            withdrawn: true
          }),
          expect.objectContaining({ tag: 'canary', digest: null })
        ])
        expect(second?.pointers).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ tag: 'production', digest: worker['1.0.0'] }),
            expect.objectContaining({ tag: 'staging', digest: null })
          ])
        )
        expect(status.summary).toMatch(
          /<code>production<\/code><\/td><td><code>sha256:[0-9a-f]{12}<\/code><\/td><td>1\.1\.0<\/td><td><a href="https:\/\/github\.example\/octo\/app\/commit\/1100000"><code>1100000<\/code><\/a>/
        )
        expect(status.summary).toContain('1.2.0 (withdrawn)')
        expect(status.summary).toContain('not set')
      })
  )

  it.concurrent(
    'records a release, a promotion and a rollback, each with its image, its commit and the run link, with the token',
    () =>
      withGitHub(async ({ github, act, repository }) => {
        const app = await repository('team/app', { '1.0.0': ['v1.0.0', 'production'] })
        const on = { deployments: 'on' }
        const runs = [
          act(['team/app'], { event: 'release', 'release-tag': 'v1.1.0', ...on }, SHAS['1.1.0']),
          act(['team/app'], { event: 'promote', environment: 'staging', ...on }, SHAS['1.2.0']),
          act(['team/app'], { event: 'rollback', version: '1.0.0', ...on })
        ]
        const results = []
        for (const run of runs) results.push(await runAction(run))
        for (const result of results) expect(result.errors).toEqual([])

        const payload = (tag: string, version: Release | null, digest: string) => ({
          repository: 'team/app',
          tag,
          digest,
          version,
          image: `${REGISTRY}/team/app@${digest}`
        })
        expect(
          github.control.deployments(OWNER).map(({ environment, ref, payload, statuses }) => ({
            environment,
            ref,
            payload,
            states: statuses.map(({ state }: { state: string }) => state)
          }))
        ).toEqual([
          {
            environment: 'production',
            ref: SHAS['1.1.0'],
            payload: payload('production', '1.1.0', app['1.1.0']),
            states: ['success']
          },
          {
            environment: 'staging',
            ref: SHAS['1.2.0'],
            payload: payload('staging', null, app['1.2.0']),
            states: ['success']
          },
          {
            // A rollback's image was built long ago: its commit comes from its build tag, 7 hex.
            environment: 'production',
            ref: SHAS['1.0.0'].slice(0, 7),
            payload: payload('production', '1.0.0', app['1.0.0']),
            states: ['success']
          }
        ])
        const posts = github.control.requests().filter(({ method }) => method === 'POST')
        expect(posts.every(({ authorization }) => authorization === 'token ghs_test')).toBe(true)
        expect(
          posts
            .filter(({ path }: { path: string }) => path.endsWith('/statuses'))
            .map(({ body }) => (body as { log_url: string }).log_url)
        ).toEqual(Array(3).fill('https://github.example/octo/app/actions/runs/4242'))
        expect(results[2]!.summary).toMatch(
          /GitHub deployments[\s\S]*production: .*:production on sha256:[0-9a-f]{12} \(1\.0\.0\): success, deployment \d+ at 1000000/
        )
      })
  )

  it.concurrent(
    'a cancel while GitHub leaves a recording unanswered: it sends no more records, and reports the tags it wrote',
    () =>
      withGitHub(async ({ standIn, github, act, repository }) => {
        const app = await repository('team/app', { '1.0.0': ['v1.0.0', 'production'] })
        github.control.setOutage({ hang: true })
        const { child, result } = startAction(
          act(
            ['team/app'],
            { event: 'release', 'release-tag': 'v1.1.0', deployments: 'on' },
            SHAS['1.1.0']
          )
        )
        while (github.control.requests().length === 0)
          await new Promise((done) => setTimeout(done, 20))
        const cancelled = Date.now()
        child.kill('SIGINT')
        const run = await result
        expect(Date.now() - cancelled).toBeLessThan(REQUEST_TIMEOUT_MS)
        expect(run.errors).toEqual([])
        expect(run.status).toBe(0)
        expect(actionsOf(run)).toEqual(['v1.1.0 created', 'production moved'])
        expect(run.stdout).toMatch(
          /^::warning::1 of 1 GitHub deployment not recorded \(the tags are written as reported\): team\/app:production in production: the job was cancelled \(SIGINT\)/m
        )
        expect(tagsOf(standIn.control.snapshot('team/app')).production).toBe(app['1.1.0'])
      })
  )
})
