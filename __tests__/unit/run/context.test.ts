import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { commandContext, readContext, workspaceReader } from '../../../src/run/context.js'
import { rejection, thrownBy } from '../../support/harness.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecr-promote-context-'))
  await mkdir(join(dir, 'workspace/.github'), { recursive: true })
  await writeFile(join(dir, 'workspace/.github/convention.yml'), 'name: team\n')
  await writeFile(join(dir, 'secret.yml'), 'password: hunter2\n')
  await symlink(join(dir, 'secret.yml'), join(dir, 'workspace/link.yml'))
  await writeFile(join(dir, 'event.json'), '{"action": "published"}')
  await writeFile(join(dir, 'broken.json'), '{"action": ')
  await writeFile(join(dir, 'array.json'), '[1, 2]')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

/** Where GitHub is, as both contexts say it without GitHub's variables. */
const GITHUB_COM = {
  apiUrl: 'https://api.github.com',
  serverUrl: 'https://github.com',
  repository: '',
  runId: ''
}

describe('readContext', () => {
  it('reads the environment once, with defaults resolved', () => {
    expect(
      readContext({
        GITHUB_EVENT_NAME: 'release',
        GITHUB_REF: 'refs/tags/v1.0.0',
        GITHUB_SHA: 'abc1234',
        GITHUB_RUN_NUMBER: '41',
        GITHUB_WORKSPACE: '/work',
        AWS_DEFAULT_REGION: 'eu-west-1',
        GITHUB_EVENT_PATH: join(dir, 'event.json')
      })
    ).toEqual({
      eventName: 'release',
      ref: 'refs/tags/v1.0.0',
      headRef: '',
      sha: 'abc1234',
      shaFrom: 'GITHUB_SHA',
      runNumber: '41',
      workspace: '/work',
      region: 'eu-west-1',
      payload: { action: 'published' },
      github: GITHUB_COM
    })
  })

  it('prefers AWS_REGION and has an empty payload without an event file', () => {
    expect(readContext({ AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'eu-west-1' })).toMatchObject(
      { region: 'us-east-2', payload: {}, workspace: process.cwd() }
    )
  })

  it.each([
    ['missing.json', /^cannot read the event payload GITHUB_EVENT_PATH=.*missing\.json: ENOENT$/],
    ['broken.json', /^the event payload GITHUB_EVENT_PATH=.*broken\.json is not valid JSON$/],
    ['array.json', /^the event payload GITHUB_EVENT_PATH=.*array\.json is not a JSON object$/]
  ])('names the event file when %s cannot be used', (file, message) => {
    expect(thrownBy(() => readContext({ GITHUB_EVENT_PATH: join(dir, file) }))).toHaveProperty(
      'message',
      expect.stringMatching(message)
    )
  })
})

describe('commandContext', () => {
  /** Each CI's variables, in the order commandContext takes the first that is set, and what each sets. */
  const VARIABLES: Record<string, [string[], (name: string, value: string) => object]> = {
    commit: [
      ['GITHUB_SHA', 'CI_COMMIT_SHA', 'CIRCLE_SHA1', 'BUILDKITE_COMMIT', 'GIT_COMMIT'],
      (name, value) => ({ sha: value, shaFrom: name })
    ],
    branch: [['CI_COMMIT_BRANCH', 'CIRCLE_BRANCH'], (_, value) => ({ ref: `refs/heads/${value}` })],
    'build number': [
      [
        'GITHUB_RUN_NUMBER',
        'CI_PIPELINE_IID',
        'CIRCLE_BUILD_NUM',
        'BUILDKITE_BUILD_NUMBER',
        'BUILD_NUMBER'
      ],
      (_, value) => ({ runNumber: value })
    ]
  }
  /** This variable and every one after it set, each to its own value. */
  const fromHere = (names: readonly string[], index: number): NodeJS.ProcessEnv =>
    Object.fromEntries(names.slice(index).map((name) => [name, `${name.toLowerCase()}-value`]))
  const context = (env: NodeJS.ProcessEnv) => commandContext(env, '/src/app', 'eu-west-1')

  it('has no event, commit, branch or build number outside a CI', () => {
    expect(context({})).toEqual({
      eventName: '',
      ref: '',
      headRef: '',
      sha: '',
      shaFrom: 'nowhere',
      workspace: '/src/app',
      region: 'eu-west-1',
      payload: {},
      github: GITHUB_COM
    })
  })

  it.each(
    Object.entries(VARIABLES).flatMap(([what, [names, sets]]) =>
      names.map((name, index) => [what, name, index, names, sets] as const)
    )
  )('takes the %s from %s before the variables after it', (_what, name, index, names, sets) => {
    expect(context(fromHere(names, index))).toMatchObject(sets(name, `${name.toLowerCase()}-value`))
  })

  it('skips a variable that is set but empty', () => {
    expect(
      context({
        GITHUB_SHA: '',
        CI_COMMIT_SHA: '1a2b3c4',
        CI_COMMIT_BRANCH: 'main',
        GITHUB_RUN_NUMBER: '',
        CI_PIPELINE_IID: '12'
      })
    ).toMatchObject({
      sha: '1a2b3c4',
      shaFrom: 'CI_COMMIT_SHA',
      ref: 'refs/heads/main',
      runNumber: '12'
    })
  })

  it('leaves the build number out, not empty, without one', () => {
    expect(context({ GITHUB_SHA: '1a2b3c4' })).not.toHaveProperty('runNumber')
  })

  it("takes GitLab's default branch for the repository's", () => {
    expect(context({ CI_DEFAULT_BRANCH: 'trunk' }).payload).toEqual({
      repository: { default_branch: 'trunk' }
    })
    expect(context({ CI_DEFAULT_BRANCH: '' }).payload).toEqual({})
  })

  it('reads where GitHub is and which run this is, as on a runner', () => {
    expect(
      context({
        GITHUB_API_URL: 'https://ghe.example.com/api/v3/',
        GITHUB_SERVER_URL: 'https://ghe.example.com//',
        GITHUB_REPOSITORY: 'acme/shop',
        GITHUB_RUN_ID: '9876'
      }).github
    ).toEqual({
      apiUrl: 'https://ghe.example.com/api/v3',
      serverUrl: 'https://ghe.example.com',
      repository: 'acme/shop',
      runId: '9876'
    })
  })

  it("takes GitHub's ref as it is, and never the event or a pull request's head branch", () => {
    expect(
      context({
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_REF: 'refs/pull/7/merge',
        GITHUB_HEAD_REF: 'main',
        CIRCLE_BRANCH: 'main'
      })
    ).toMatchObject({ eventName: '', ref: 'refs/pull/7/merge', headRef: '', payload: {} })
    expect(context({ GITHUB_REF: 'refs/tags/v1.2.0' }).ref).toBe('refs/tags/v1.2.0')
  })
})

describe('workspaceReader', () => {
  const read = () => workspaceReader(join(dir, 'workspace'))

  it('reads a file inside the workspace', async () => {
    await expect(read()('.github/convention.yml')).resolves.toBe('name: team\n')
  })

  it.each<[string, () => string]>([
    ['a parent path', () => '../secret.yml'],
    ['an absolute path', () => join(dir, 'secret.yml')],
    ['a link that leaves the workspace', () => 'link.yml'],
    ['a parent path to a file that does not exist', () => '../../missing/secret.yml']
  ])('refuses %s, naming where it resolves and never what it holds', async (_name, path) => {
    const error = await rejection(read()(path()))
    expect(error.message).toMatch(
      /^it resolves to .*secret\.yml, outside the workspace .*workspace$/
    )
    expect(error.message).not.toContain('hunter2')
  })
})
