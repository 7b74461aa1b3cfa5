/**
 * End to end: the three questions of the environments design. `event: status` (which image is in
 * production?), deployment records on GitHub and rollback to a moment (what was there last
 * Thursday?), and withdrawn versions (never promote a rolled-back version again by accident). The
 * bundled action runs as a runner runs it, against the ECR stand-in and a fake of GitHub's
 * deployments API reached through GITHUB_API_URL.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr'
import { RECORDING_BUDGET_MS } from '../src/run/deployments.js'
import { REQUEST_TIMEOUT_MS } from '../src/github/client.js'
import { startStandIn } from './support/ecr-standin.mjs'
import { startGitHubFake } from './support/github-fake.mjs'
import { dockerV2Image, multiArchImage, seedImage, tagsByDigest } from './support/images.mjs'
import { runAction, startAction } from './support/run-action.mjs'
import { clientFor } from './support/harness.js'

type StandIn = Awaited<ReturnType<typeof startStandIn>>
type GitHubFake = Awaited<ReturnType<typeof startGitHubFake>>

const SHAS = {
  '1.0.0': '1000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  '1.1.0': '1100000bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  '1.2.0': '1200000ccccccccccccccccccccccccccccccccc',
  '1.3.0': '1300000ddddddddddddddddddddddddddddddddd'
} as const
type Release = keyof typeof SHAS
const OWNER = { owner: 'octo', repo: 'app' }
/** How a deployment record names an image of the stand-in's registry. */
const imageOf = (repository: string, digest: string) =>
  `123456789012.dkr.ecr.us-east-1.amazonaws.com/${repository}@${digest}`

let standIn: StandIn
let github: GitHubFake
let client: ECRClient
let counter = 0
beforeEach(async () => {
  ;[standIn, github] = await Promise.all([startStandIn(), startGitHubFake()])
  client = clientFor(standIn.url)
})
afterEach(async () => {
  client.destroy()
  await Promise.all([standIn.close(), github.close()])
})

/** A repository with one build image per release, each tagged sha-<7 hex> as CI pushes it. */
async function repository(
  releases: readonly Release[] = ['1.0.0', '1.1.0', '1.2.0'],
  buildTag = (sha7: string) => `sha-${sha7}`
) {
  const name = `team/history-${++counter}`
  await client.send(new CreateRepositoryCommand({ repositoryName: name }))
  const digests: Partial<Record<Release, string>> = {}
  for (const version of releases) {
    const image =
      version === '1.1.0'
        ? multiArchImage(`${name}-${version}`)
        : dockerV2Image(`${name}-${version}`)
    digests[version] = await seedImage(client, name, image, [buildTag(SHAS[version].slice(0, 7))])
  }
  return { name, digests: digests as Record<Release, string> }
}

/** Runs the bundled action on a workflow_dispatch with these inputs, GitHub at the fake. */
const act = (repositories: string | string[], inputs: Record<string, string>, sha = '') =>
  runAction(dispatch(repositories, inputs, sha))

/** What `act` runs: a workflow_dispatch with these inputs, GitHub at the fake. */
function dispatch(repositories: string | string[], inputs: Record<string, string>, sha = '') {
  return {
    endpoint: standIn.url,
    eventName: 'workflow_dispatch',
    payload: { inputs: {}, repository: { default_branch: 'main' } },
    inputs: {
      repository: [repositories].flat().join('\n'),
      'github-token': 'ghs_test',
      ...inputs
    },
    env: {
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: sha,
      GITHUB_API_URL: github.url,
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_REPOSITORY: 'octo/app',
      GITHUB_RUN_ID: '4242'
    }
  }
}

const release = (repositories: string | string[], version: Release, extra = {}) =>
  act(repositories, { event: 'release', 'release-tag': `v${version}`, ...extra }, SHAS[version])
const rollback = (repositories: string | string[], version: string, extra = {}) =>
  act(repositories, { event: 'rollback', version, ...extra })

const json = (outputs: Record<string, string>) =>
  JSON.parse(outputs.json ?? '[]') as Record<string, unknown>[]
const changes = (outputs: Record<string, string>) =>
  (JSON.parse(outputs.changes ?? '[]') as { tag: string; action: string }[]).map(
    ({ tag, action }) => `${tag} ${action}`
  )
const tags = (name: string) => tagsByDigest(client, name)
const notices = (stdout: string) =>
  stdout.split('\n').filter((line) => line.startsWith('::notice::'))

describe('event: status', () => {
  it('environments: every pointer of several repositories, missing ones, a withdrawn version, and no write', async () => {
    const api = await repository()
    const worker = await repository(['1.0.0'])
    for (const version of ['1.0.0', '1.1.0', '1.2.0'] as const)
      expect((await release(api.name, version)).errors).toEqual([])
    expect((await rollback(api.name, '1.1.0')).errors).toEqual([])
    expect(
      (await act(api.name, { event: 'promote', environment: 'staging' }, SHAS['1.2.0'])).errors
    ).toEqual([])
    expect((await release(worker.name, '1.0.0')).errors).toEqual([])
    const before = [standIn.control.snapshot(api.name), standIn.control.snapshot(worker.name)]
    const calls = standIn.control.calls.length

    const status = await act([api.name, worker.name], { event: 'status' })

    expect(status.errors).toEqual([])
    expect(status.status).toBe(0)
    expect([standIn.control.snapshot(api.name), standIn.control.snapshot(worker.name)]).toEqual(
      before
    )
    const writes = standIn.control.calls
      .slice(calls)
      .filter(({ operation }) => /^(Put|BatchDelete|Update|Start)/.test(operation))
    expect(writes).toEqual([])
    const [first, second] = json(status.outputs)
    expect(first).toMatchObject({
      repository: api.name,
      uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${api.name}`,
      withdrawn: [{ version: '1.2.0', tag: 'withdrawn-1.2.0', digest: api.digests['1.2.0'] }]
    })
    expect(first?.pointers).toEqual([
      expect.objectContaining({ tag: 'latest', digest: null, versions: [], commit: null }),
      expect.objectContaining({
        tag: 'production',
        digest: api.digests['1.1.0'],
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
        digest: api.digests['1.2.0'],
        versions: ['1.2.0'],
        withdrawn: true
      }),
      expect.objectContaining({ tag: 'canary', digest: null })
    ])
    expect(second).toMatchObject({ repository: worker.name, withdrawn: [] })
    expect(second?.pointers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tag: 'production', digest: worker.digests['1.0.0'] }),
        expect.objectContaining({ tag: 'staging', digest: null })
      ])
    )
    expect(status.summary).toContain('status of the pointers')
    expect(status.summary).toMatch(
      /<code>production<\/code><\/td><td><code>sha256:[0-9a-f]{12}<\/code><\/td><td>1\.1\.0<\/td><td><a href="https:\/\/github\.example\/octo\/app\/commit\/1100000"><code>1100000<\/code><\/a>/
    )
    expect(status.summary).toContain('1.2.0 (withdrawn)')
    expect(status.summary).toMatch(
      /Withdrawn versions[\s\S]*1\.2\.0 \(withdrawn-1\.2\.0 on sha256:/
    )
    expect(status.summary).toContain('not set')
  })

  it('channels: stable, latest and edge, and a repository with none of them', async () => {
    const app = await repository(['1.0.0', '1.1.0'], (sha7) => `history-${counter}-main-${sha7}`)
    const empty = await repository([])
    for (const version of ['1.0.0', '1.1.0'] as const)
      expect(
        (
          await act(
            app.name,
            { event: 'release', 'release-tag': version, convention: 'channels' },
            SHAS[version]
          )
        ).errors
      ).toEqual([])
    const status = await act([app.name, empty.name], { event: 'status', convention: 'channels' })
    expect(status.errors).toEqual([])
    const [first, second] = json(status.outputs)
    expect(
      (first?.pointers as { tag: string; digest: string | null; versions: string[] }[]).map(
        ({ tag, digest, versions }) => [tag, digest, versions]
      )
    ).toEqual([
      ['edge', null, []],
      ['stable', app.digests['1.1.0'], ['1.1.0']],
      ['latest', app.digests['1.1.0'], ['1.1.0']]
    ])
    expect(
      (second?.pointers as { digest: string | null }[]).every(({ digest }) => digest === null)
    ).toBe(true)
  })

  it('refuses lifecycle: apply, before reading anything', async () => {
    const app = await repository(['1.0.0'])
    const calls = standIn.control.calls.length
    const status = await act(app.name, { event: 'status', lifecycle: 'apply' })
    expect(status.errors).toEqual([
      'event status never writes, so it cannot apply a lifecycle policy: use lifecycle: check, or event: lifecycle'
    ])
    expect(standIn.control.calls.slice(calls)).toEqual([])
  })
})

describe('deployment records on GitHub', () => {
  const recorded = () =>
    github.control.deployments(OWNER).map(({ environment, ref, payload, statuses }) => ({
      environment,
      ref,
      payload,
      states: statuses.map(({ state }: { state: string }) => state)
    }))

  it('records a release, a promotion and a rollback, each with its image and the run link', async () => {
    const app = await repository()
    const on = { deployments: 'on' }
    expect((await release(app.name, '1.1.0', on)).errors).toEqual([])
    expect(
      (await act(app.name, { event: 'promote', environment: 'staging', ...on }, SHAS['1.2.0']))
        .errors
    ).toEqual([])
    expect((await release(app.name, '1.2.0', on)).errors).toEqual([])
    const back = await rollback(app.name, '1.1.0', on)
    expect(back.errors).toEqual([])

    const uri = `123456789012.dkr.ecr.us-east-1.amazonaws.com/${app.name}`
    const payload = (tag: string, version: Release | null, digest: string) => ({
      repository: app.name,
      tag,
      digest,
      version,
      image: `${uri}@${digest}`
    })
    expect(recorded()).toEqual([
      {
        environment: 'production',
        ref: SHAS['1.1.0'],
        payload: payload('production', '1.1.0', app.digests['1.1.0']),
        states: ['success']
      },
      {
        environment: 'staging',
        ref: SHAS['1.2.0'],
        payload: payload('staging', null, app.digests['1.2.0']),
        states: ['success']
      },
      {
        environment: 'production',
        ref: SHAS['1.2.0'],
        payload: payload('production', '1.2.0', app.digests['1.2.0']),
        states: ['success']
      },
      {
        // A rollback's image was built long ago: its commit comes from its build tag, 7 hex.
        environment: 'production',
        ref: SHAS['1.1.0'].slice(0, 7),
        payload: payload('production', '1.1.0', app.digests['1.1.0']),
        states: ['success']
      }
    ])
    const statusPosts = github.control
      .requests()
      .filter(
        ({ method, path }: { method: string; path: string }) =>
          method === 'POST' && path.endsWith('/statuses')
      )
    expect(statusPosts.map(({ body }) => (body as { log_url: string }).log_url)).toEqual(
      Array(4).fill('https://github.example/octo/app/actions/runs/4242')
    )
    expect(
      github.control
        .requests()
        .filter(({ method }) => method === 'POST')
        .every(({ authorization }) => authorization === 'token ghs_test')
    ).toBe(true)
    expect(json(back.outputs)[0]?.deployments).toEqual([
      expect.objectContaining({ environment: 'production', tag: 'production', state: 'success' })
    ])
    expect(back.summary).toMatch(
      /GitHub deployments[\s\S]*production: .*:production on sha256:[0-9a-f]{12} \(1\.1\.0\): success, deployment \d+ at 1100000/
    )
  })

  it('records failure for a run that failed and undid its writes, in every repository', async () => {
    const [api, worker] = [await repository(['1.1.0']), await repository(['1.1.0'])]
    standIn.control.failPutImage('production')
    const failed = await release([api.name, worker.name], '1.1.0', { deployments: 'on' })
    expect(failed.status).toBe(1)
    const rows = recorded()
    expect(
      rows.map(({ environment, payload, states }) => [
        environment,
        (payload as { repository: string }).repository,
        states
      ])
    ).toEqual(
      expect.arrayContaining([
        ['production', api.name, ['failure']],
        ['production', worker.name, ['failure']]
      ])
    )
    expect(rows).toHaveLength(2)
  })

  it('a GitHub outage leaves the ECR result intact and says so in a warning', async () => {
    const app = await repository(['1.1.0'])
    github.control.setOutage({ status: 503 })
    const run = await release(app.name, '1.1.0', { deployments: 'on' })
    expect(run.errors).toEqual([])
    expect(run.status).toBe(0)
    expect(changes(run.outputs)).toEqual(['v1.1.0 created', 'production created'])
    expect(await tags(app.name)).toMatchObject({
      'v1.1.0': app.digests['1.1.0'],
      production: app.digests['1.1.0']
    })
    expect(run.stdout).toMatch(
      /::warning::1 of 1 GitHub deployment not recorded \(the tags are written as reported\): team\/history-\d+:production in production: Service Unavailable/
    )
    expect(json(run.outputs)[0]?.deployments).toEqual([
      expect.objectContaining({ state: 'success', id: null, warning: expect.any(String) })
    ])
    expect(github.control.deployments(OWNER)).toEqual([])
  })

  it('GitHub not answering: 25 repositories are released within the budget, with one warning', async () => {
    const apps = []
    for (let index = 0; index < 25; index++) apps.push(await repository(['1.1.0']))
    github.control.setOutage({ hang: true })
    const started = Date.now()
    const run = await release(
      apps.map(({ name }) => name),
      '1.1.0',
      { deployments: 'on' }
    )
    expect(Date.now() - started).toBeLessThanOrEqual(60_000)
    expect(run.errors).toEqual([])
    expect(run.status).toBe(0)
    for (const app of apps)
      expect(await tags(app.name)).toMatchObject({
        'v1.1.0': app.digests['1.1.0'],
        production: app.digests['1.1.0']
      })
    expect(changes(run.outputs)).toHaveLength(50)
    expect(run.summary).toContain(apps[24]?.name)
    const warnings = run.stdout.split('\n').filter((line) => line.startsWith('::warning::'))
    expect(warnings).toEqual([
      expect.stringMatching(
        /^::warning::25 of 25 GitHub deployments not recorded \(the tags are written as reported\): team\/history-\d+:production in production, /
      )
    ])
    expect(warnings[0]).toContain(
      `: the ${RECORDING_BUDGET_MS / 1000} s for recording deployments ran out`
    )
  }, 90_000)

  it('a cancel while it records sends no more records and reports the tags it wrote', async () => {
    const app = await repository(['1.1.0'])
    github.control.setOutage({ hang: true })
    const { child, result } = startAction(
      dispatch(
        app.name,
        { event: 'release', 'release-tag': 'v1.1.0', deployments: 'on' },
        SHAS['1.1.0']
      )
    )
    while (github.control.requests().length === 0) await sleep(20)
    const cancelled = Date.now()
    child.kill('SIGINT')
    const run = await result
    expect(Date.now() - cancelled).toBeLessThan(REQUEST_TIMEOUT_MS)
    expect(run.errors).toEqual([])
    expect(run.status).toBe(0)
    expect(changes(run.outputs)).toEqual(['v1.1.0 created', 'production created'])
    expect(run.summary).toContain(app.name)
    expect(run.stdout).toMatch(
      /::warning::1 of 1 GitHub deployment not recorded \(the tags are written as reported\): team\/history-\d+:production in production: the job was cancelled \(SIGINT\)/
    )
    expect(await tags(app.name)).toMatchObject({ production: app.digests['1.1.0'] })
  })

  it('records at the workflow commit when GitHub cannot resolve the image commit', async () => {
    const app = await repository(['1.1.0', '1.2.0'])
    for (const version of ['1.1.0', '1.2.0'] as const)
      expect((await release(app.name, version)).errors).toEqual([])
    github.control.rejectRefs([SHAS['1.1.0'].slice(0, 7)])
    const back = await act(
      app.name,
      { event: 'rollback', version: '1.1.0', deployments: 'on' },
      SHAS['1.3.0']
    )
    expect(back.errors).toEqual([])
    expect(recorded().map(({ ref }) => ref)).toEqual([SHAS['1.3.0']])
  })
})

describe('rollback to a moment', () => {
  const at = (iso: string) => new Date(iso)
  /** A history of production in the fake: 1.0.0 on the 10th, 1.1.0 on the 15th, 1.2.0 on the 20th (a failure on the 18th). */
  async function history() {
    const app = await repository()
    for (const version of ['1.0.0', '1.1.0', '1.2.0'] as const)
      expect((await release(app.name, version)).errors).toEqual([])
    const seed = (version: Release, createdAt: string, state = 'success') =>
      github.control.seed({
        ...OWNER,
        environment: 'production',
        ref: SHAS[version],
        createdAt: at(createdAt),
        payload: {
          repository: app.name,
          tag: 'production',
          digest: app.digests[version],
          version,
          image: imageOf(app.name, app.digests[version])
        },
        statuses: [{ state }]
      })
    const ids = {
      '1.0.0': seed('1.0.0', '2026-11-10T09:00:00Z'),
      '1.1.0': seed('1.1.0', '2026-11-15T09:00:00Z'),
      failed: seed('1.0.0', '2026-11-18T09:00:00Z', 'failure'),
      '1.2.0': seed('1.2.0', '2026-11-20T09:00:00Z')
    }
    // Records of another repository and pointer in the same environment are not this one's history.
    github.control.seed({
      ...OWNER,
      environment: 'production',
      createdAt: at('2026-11-19T00:00:00Z'),
      payload: {
        repository: 'other/app',
        tag: 'production',
        digest: app.digests['1.0.0'],
        image: imageOf('other/app', app.digests['1.0.0'])
      },
      statuses: [{ state: 'success' }]
    })
    return { app, ids }
  }

  it.each<[string, string, Release, '1.0.0' | '1.1.0' | '1.2.0']>([
    ['a date between records: the end of that day', '2026-11-17', '1.1.0', '1.1.0'],
    [
      'past a failed deployment, the one that landed before it',
      '2026-11-18T12:00:00Z',
      '1.1.0',
      '1.1.0'
    ],
    [
      'a date-time with an offset, just after a record',
      '2026-11-10T10:00:00+01:00',
      '1.0.0',
      '1.0.0'
    ],
    ['after every record: the last one', '2026-11-30', '1.2.0', '1.2.0']
  ])('%s', async (_name, moment, version, deployment) => {
    const { app, ids } = await history()
    const back = await rollback(app.name, moment)
    expect(back.errors).toEqual([])
    expect((await tags(app.name)).production).toBe(app.digests[version])
    expect(json(back.outputs)[0]).toMatchObject({
      version,
      history: { deployment: ids[deployment], environment: 'production' }
    })
    expect(back.summary).toContain(`back to deployment ${ids[deployment]} of `)
  })

  /** 150 newer records of staging in the same environment: a record before them is on GitHub's second page. */
  function newerRecords({ name, digests }: { name: string; digests: Record<Release, string> }) {
    for (let minute = 0; minute < 150; minute++)
      github.control.seed({
        ...OWNER,
        environment: 'production',
        createdAt: new Date(Date.UTC(2026, 10, 21, 0, minute)),
        payload: {
          repository: name,
          tag: 'staging',
          digest: digests['1.2.0'],
          image: imageOf(name, digests['1.2.0'])
        },
        statuses: [{ state: 'success' }]
      })
  }

  it('reads the history page by page, to a record past the first hundred', async () => {
    const { app, ids } = await history()
    newerRecords(app)
    const back = await rollback(app.name, '2026-11-16')
    expect(back.errors).toEqual([])
    expect(json(back.outputs)[0]).toMatchObject({ history: { deployment: ids['1.1.0'] } })
    const pages = github.control
      .requests()
      .filter(
        ({ method, path }: { method: string; path: string }) =>
          method === 'GET' && path.endsWith('/deployments')
      )
    expect(pages.map(({ query }: { query: { page?: string } }) => query.page ?? '1')).toEqual([
      '1',
      '2'
    ])
  })

  it('a page GitHub does not answer fails the rollback within its timeout, writing nothing', async () => {
    const { app } = await history()
    newerRecords(app)
    github.control.fault(
      { method: 'GET', path: '/repos/octo/app/deployments', query: { page: '2' } },
      { hang: true }
    )
    const before = standIn.control.snapshot(app.name)
    const started = Date.now()
    const back = await rollback(app.name, '2026-11-16')
    expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS + 15_000)
    expect(back.status).toBe(1)
    expect(back.errors).toEqual([
      `cannot read the deployment history of the GitHub environment production: GitHub did not answer GET /repos/octo/app/deployments (page 2) within ${REQUEST_TIMEOUT_MS / 1000} s; no tag was written`
    ])
    expect(standIn.control.snapshot(app.name)).toEqual(before)
  })

  it('a cancel while it reads the history stops the run at once, writing nothing', async () => {
    const { app } = await history()
    github.control.setOutage({ hang: true })
    const before = standIn.control.snapshot(app.name)
    const asked = github.control.requests().length
    const { child, result } = startAction(
      dispatch(app.name, { event: 'rollback', version: '2026-11-17' })
    )
    while (github.control.requests().length === asked) await sleep(20)
    const cancelled = Date.now()
    child.kill('SIGINT')
    const back = await result
    expect(Date.now() - cancelled).toBeLessThan(REQUEST_TIMEOUT_MS)
    expect(back.status).toBe(1)
    expect(back.errors).toEqual([
      'the job was cancelled while it read the deployment history: no tag was written'
    ])
    expect(standIn.control.snapshot(app.name)).toEqual(before)
  })

  it('before the first record: a clear error, and nothing written', async () => {
    const { app } = await history()
    const before = standIn.control.snapshot(app.name)
    const back = await rollback(app.name, '2026-11-01')
    expect(back.status).toBe(1)
    expect(back.errors).toEqual([
      expect.stringMatching(
        /^cannot roll back team\/history-\d+:production to 2026-11-01 \(2026-11-01T23:59:59\.999Z\): by the GitHub environment production, its earliest deployment record there is from 2026-11-10T09:00:00\.000Z\. The history starts when deployments: on was first used; roll back to a version instead$/
      )
    ])
    expect(standIn.control.snapshot(app.name)).toEqual(before)
  })

  it('with no history at all: says history starts when deployments: on was first used', async () => {
    const app = await repository(['1.0.0'])
    expect((await release(app.name, '1.0.0')).errors).toEqual([])
    const back = await rollback(app.name, '2026-11-19T15:00:00Z')
    expect(back.errors).toEqual([
      expect.stringContaining(
        'there is no deployment record of it there. The history starts when deployments: on was first used'
      )
    ])
  })

  it('an image deleted since: says where the record pointed, and writes nothing', async () => {
    const { app } = await history()
    const gone = `sha256:${'9'.repeat(64)}`
    github.control.seed({
      ...OWNER,
      environment: 'production',
      createdAt: at('2026-11-25T00:00:00Z'),
      payload: {
        repository: app.name,
        tag: 'production',
        digest: gone,
        image: imageOf(app.name, gone)
      },
      statuses: [{ state: 'success' }]
    })
    const before = standIn.control.snapshot(app.name)
    const missing = await rollback(app.name, '2026-11-26')
    expect(missing.errors).toEqual([
      expect.stringMatching(
        /^source image 'sha256:9{64}' not found in repository team\/history-\d+: it is the image production pointed at on 2026-11-26, by deployment \d+ of 2026-11-25T00:00:00\.000Z: production on sha256:999999999999, and it has been deleted since: roll back to a version instead$/
      )
    ])
    expect(standIn.control.snapshot(app.name)).toEqual(before)
  })
})

describe('withdrawn versions', () => {
  it('a rollback withdraws the version it leaves; a re-run of that release leaves production alone', async () => {
    const app = await repository()
    for (const version of ['1.1.0', '1.2.0'] as const)
      expect((await release(app.name, version)).errors).toEqual([])
    const back = await rollback(app.name, '1.1.0')
    expect(changes(back.outputs)).toEqual(['withdrawn-1.2.0 created', 'production moved'])
    expect((await tags(app.name))['withdrawn-1.2.0']).toBe(app.digests['1.2.0'])

    const rerun = await release(app.name, '1.2.0')
    expect(rerun.errors).toEqual([])
    expect(rerun.status).toBe(0)
    expect(changes(rerun.outputs)).toEqual(['v1.2.0 unchanged', 'production unchanged'])
    expect((await tags(app.name)).production).toBe(app.digests['1.1.0'])
    expect(notices(rerun.stdout)).toEqual([
      expect.stringContaining(
        'production sha256:' // the pointer stays where the rollback put it
      )
    ])
    expect(notices(rerun.stdout)[0]).toContain(
      '1.2.0 was withdrawn by a rollback (withdrawn-1.2.0), and a release re-run does not move a pointer to it; set allow-withdrawn: true to move it on purpose'
    )
  })

  it('a rollback that fails and is undone takes its withdrawn marks back too', async () => {
    const [api, worker] = [
      await repository(['1.1.0', '1.2.0']),
      await repository(['1.1.0', '1.2.0'])
    ]
    for (const version of ['1.1.0', '1.2.0'] as const)
      expect((await release([api.name, worker.name], version)).errors).toEqual([])
    const before = [await tags(api.name), await tags(worker.name)]
    standIn.control.failPutImage('production')
    const back = await rollback([api.name, worker.name], '1.1.0')
    expect(back.status).toBe(1)
    expect(back.errors.at(-1)).toBe(
      'every tag this run had written was put back: the registry is as it was before the run'
    )
    expect([await tags(api.name), await tags(worker.name)]).toEqual(before)
  })

  it('withdraws a version in every repository of the run, even where the pointer never reached it', async () => {
    const [api, worker] = [
      await repository(['1.1.0', '1.2.0']),
      await repository(['1.1.0', '1.2.0'])
    ]
    expect((await release([api.name, worker.name], '1.1.0')).errors).toEqual([])
    // A half-finished release: 1.2.0 reached api's production; worker has its tag, not the pointer.
    expect((await release(api.name, '1.2.0')).errors).toEqual([])
    await standIn.control.seedTags(worker.name, worker.digests['1.2.0'], ['v1.2.0'])
    const back = await rollback([api.name, worker.name], 'previous')
    expect(back.errors).toEqual([])
    for (const repo of [api, worker])
      expect((await tags(repo.name))['withdrawn-1.2.0']).toBe(repo.digests['1.2.0'])
    const rerun = await release([api.name, worker.name], '1.2.0')
    expect(rerun.errors).toEqual([])
    expect((await tags(api.name)).production).toBe(api.digests['1.1.0'])
    expect((await tags(worker.name)).production).toBe(worker.digests['1.1.0'])
    // And re-running the rollback stays: it withdraws no good version, and goes no further back.
    const again = await rollback([api.name, worker.name], 'previous')
    expect(again.errors).toEqual([])
    expect(changes(again.outputs)).toEqual(['production unchanged', 'production unchanged'])
  })

  it('previous skips a withdrawn version', async () => {
    const app = await repository(['1.0.0', '1.1.0', '1.2.0', '1.3.0'])
    for (const version of ['1.1.0', '1.2.0'] as const)
      expect((await release(app.name, version)).errors).toEqual([])
    expect((await rollback(app.name, '1.1.0')).errors).toEqual([])
    expect((await release(app.name, '1.3.0')).errors).toEqual([])
    const back = await rollback(app.name, 'previous')
    expect(back.errors).toEqual([])
    expect(json(back.outputs)[0]).toMatchObject({ version: '1.1.0' })
    const now = await tags(app.name)
    expect(now.production).toBe(app.digests['1.1.0'])
    expect(now['withdrawn-1.3.0']).toBe(app.digests['1.3.0'])
  })

  it('naming a withdrawn version needs allow-withdrawn, which the summary shows; restore-version takes the mark off', async () => {
    const app = await repository()
    for (const version of ['1.1.0', '1.2.0'] as const)
      expect((await release(app.name, version)).errors).toEqual([])
    expect((await rollback(app.name, '1.1.0')).errors).toEqual([])
    const before = standIn.control.snapshot(app.name)

    const refused = await rollback(app.name, '1.2.0')
    expect(refused.status).toBe(1)
    expect(refused.errors).toEqual([
      expect.stringMatching(
        /^cannot rollback team\/history-\d+ to 1\.2\.0: it was withdrawn by a rollback \(tag withdrawn-1\.2\.0\); set allow-withdrawn: true to move to it anyway, or run event: restore-version first$/
      )
    ])
    const promoted = await act(app.name, {
      event: 'promote',
      environment: 'production',
      version: '1.2.0',
      source: 'v1.2.0'
    })
    expect(promoted.errors).toEqual([expect.stringContaining('it was withdrawn by a rollback')])
    expect(standIn.control.snapshot(app.name)).toEqual(before)

    const allowed = await rollback(app.name, '1.2.0', { 'allow-withdrawn': 'true' })
    expect(allowed.errors).toEqual([])
    expect((await tags(app.name)).production).toBe(app.digests['1.2.0'])
    expect(allowed.summary).toContain(
      'moved: 1.2.0 is withdrawn (withdrawn-1.2.0); moved because allow-withdrawn is true'
    )

    const restored = await act(app.name, { event: 'restore-version', version: '1.2.0' })
    expect(restored.errors).toEqual([])
    expect(changes(restored.outputs)).toEqual(['withdrawn-1.2.0 removed'])
    const now = await tags(app.name)
    expect(now['withdrawn-1.2.0']).toBeUndefined()
    expect(now['v1.2.0']).toBe(app.digests['1.2.0'])
    const again = await act(app.name, { event: 'restore-version', version: '1.2.0' })
    expect(again.errors).toEqual([
      expect.stringMatching(
        /^1\.2\.0 is not withdrawn in team\/history-\d+: none has the tag withdrawn-1\.2\.0; nothing to clear$/
      )
    ])
  })
})
