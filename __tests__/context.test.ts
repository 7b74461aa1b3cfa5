import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readContext, workspaceReader } from '../src/context.js'
import { thrownBy } from './support/thrown.js'

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
      github: {
        apiUrl: 'https://api.github.com',
        serverUrl: 'https://github.com',
        repository: '',
        runId: ''
      }
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
    const error = await read()(path()).then(
      () => undefined,
      (reason: unknown) => reason as Error
    )
    expect(error?.message).toMatch(
      /^it resolves to .*secret\.yml, outside the workspace .*workspace$/
    )
    expect(error?.message).not.toContain('hunter2')
  })
})
