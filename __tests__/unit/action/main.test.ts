/**
 * `run()` in-process, as actions/typescript-action tests it: `@actions/core` mocked (inputs in,
 * outputs, annotations and the summary out), the registry the shared in-memory one and GitHub's
 * client a stub. How ECR's answers are read is registry.test's; the end-to-end tests run the
 * bundle; these show the glue's decisions.
 */
import { jest } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { manifest, tagged } from '../../support/builders.js'
import { fakeSummary } from '../../support/fake-summary.js'
import { ACTION_MESSAGES } from '../../../src/action/messages.js'
import { memoryRegistry, type MemoryRegistry, type Seed } from '../../support/memory-registry.js'

const inputs: Record<string, string> = {}
const outputs: Record<string, string> = {}
/** What the run saved for its post step (GITHUB_STATE). */
const state: Record<string, string> = {}
const annotations: string[] = []
const { summary, written } = fakeSummary()
const summaryText = () => written.at(-1) ?? ''
jest.unstable_mockModule('@actions/core', () => ({
  getInput: (name: string) => inputs[name] ?? '',
  getMultilineInput: (name: string) => (inputs[name] ?? '').split('\n'),
  getBooleanInput: (name: string) => (inputs[name] ?? 'false') === 'true',
  setOutput: (name: string, value: string) => void (outputs[name] = value),
  saveState: (name: string, value: string) => void (state[name] = value),
  getState: (name: string) => state[name] ?? '',
  info: () => {},
  notice: (message: string) => void annotations.push(`notice: ${message}`),
  warning: (message: string) => void annotations.push(`warning: ${message}`),
  error: (message: string) => void annotations.push(`error: ${message}`),
  group: async (_name: string, fn: () => Promise<unknown>) => fn(),
  summary
}))
/** GitHub's deployments API as @actions/github's client reaches it: what was created, and a history to page through. */
const github: { created: object[]; failure?: Error; pages: object[][] } = { created: [], pages: [] }
/** A page of the history, linking the next as GitHub does. */
const pageUrl = (page: number) => `https://api.github.com/repos/octo/app/deployments?page=${page}`
const historyPage = (page: number) => ({
  url: pageUrl(page),
  headers: page < github.pages.length ? { link: `<${pageUrl(page + 1)}>; rel="next"` } : {},
  data: github.pages[page - 1] ?? []
})
/** The registry the run reaches: repository `app`, set up afresh by each test. */
let registry: MemoryRegistry
jest.unstable_mockModule('../../../src/ecr/client.js', () => ({ createRegistry: () => registry }))
jest.unstable_mockModule('@actions/github', () => ({
  getOctokit: () => ({
    rest: {
      repos: {
        createDeployment: async (params: object) => {
          if (github.failure) throw github.failure
          github.created.push(params)
          return { data: { id: github.created.length } }
        },
        createDeploymentStatus: async () => ({ data: {} }),
        listDeployments: async () => historyPage(1),
        listDeploymentStatuses: async () => ({ data: [{ state: 'success' }] })
      }
    },
    request: async ({ url }: { url: string }) =>
      historyPage(Number(new URL(url).searchParams.get('page')))
  })
}))
const { onCancel } = await import('../../../src/run/execute.js')
const { run } = await import('../../../src/action/main.js')

const [old, build] = [manifest('c'), manifest('b')]
const SHA = 'bbbbbbb'.padEnd(40, '2')
/** App holds v1.0.0 and production on c and the build of SHA, b, both pushed long ago; and what a test adds. */
const holding = (more = '', { facts = {}, ...seed }: Seed = {}) =>
  (registry = memoryRegistry({
    tags: { app: tagged(`v1.0.0=c production=c sha-bbbbbbb=b ${more}`) },
    facts: {
      [old.digest]: { pushedAt: new Date(1_000) },
      [build.digest]: { pushedAt: new Date(2_000) },
      ...facts
    },
    ...seed
  }))
const writes = () => registry.log.filter((call) => /^(put|remove|restore|put-policy) /.test(call))

let dir: string
const savedEnv = { ...process.env }
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ecr-promote-main-'))
  for (const record of [inputs, outputs, state])
    for (const key of Object.keys(record)) delete record[key]
  annotations.length = 0
  written.length = 0
  Object.assign(github, { created: [], pages: [], failure: undefined })
  process.exitCode = undefined
  holding()
  Object.assign(inputs, { repository: 'app', convention: 'environments' })
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
  process.env = { ...savedEnv }
  process.exitCode = undefined
})

/** The GitHub context of one event: its name, ref and payload. */
function onEvent(eventName: string, ref: string, payload: object = {}) {
  const eventPath = join(dir, 'event.json')
  writeFileSync(eventPath, JSON.stringify({ repository: { default_branch: 'main' }, ...payload }))
  Object.assign(process.env, {
    GITHUB_EVENT_NAME: eventName,
    GITHUB_REF: ref,
    GITHUB_SHA: SHA,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_WORKSPACE: dir,
    AWS_REGION: 'us-east-1'
  })
}

describe('run()', () => {
  it('on a push to main, moves latest and sets every output', async () => {
    onEvent('push', 'refs/heads/main')
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(outputs).toMatchObject({
      digest: build.digest,
      tags: 'latest',
      images: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest',
      version: '',
      'previous-digest': ''
    })
    expect(JSON.parse(outputs.changes ?? '')).toEqual([
      {
        repository: 'app',
        tag: 'latest',
        from: null,
        to: build.digest,
        action: 'created',
        now: build.digest
      }
    ])
    expect(registry.tags('app').latest).toBe(build.digest)
    expect(summaryText()).toContain('push to main')
  })

  it('on an edited release, writes nothing and says why', async () => {
    onEvent('release', 'refs/tags/v1.1.0', { action: 'edited', release: { tag_name: 'v1.1.0' } })
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(registry.log).toEqual([])
    expect(annotations).toEqual([
      "notice: nothing to do: release action 'edited' publishes nothing: only published, released, prereleased tag an image: no tag is written"
    ])
  })

  it('refuses bad input before any call, with one ::error:: each and a summary', async () => {
    onEvent('push', 'refs/heads/main')
    Object.assign(inputs, { sha: 'main', 'max-writes-per-second': '0' })
    await run()
    expect(process.exitCode).toBe(1)
    expect(registry.log).toHaveLength(0)
    expect(annotations).toEqual([
      "error: sha 'main' is not a git commit hash",
      "error: max-writes-per-second '0' is not a positive number of writes a second, such as 10 (ECR's default PutImage quota)"
    ])
    expect(summaryText()).toContain('Nothing was written.')
  })

  it('stops writing on SIGINT, puts back what it wrote, and fails saying so', async () => {
    onEvent('release', 'refs/tags/v1.1.0', {
      action: 'published',
      release: { tag_name: 'v1.1.0', prerelease: false }
    })
    registry.fault({
      operation: 'put',
      ref: 'v1.1.0',
      before: () => process.emit('SIGINT', 'SIGINT')
    })
    await run()
    expect(process.exitCode).toBe(1)
    expect(registry.tags('app')).toEqual({
      'v1.0.0': old.digest,
      production: old.digest,
      'sha-bbbbbbb': build.digest
    })
    expect(annotations).toContain(
      'warning: SIGINT received: no further tag is written, and what this run wrote is put back'
    )
    expect(annotations).toContain(
      'error: the job was cancelled (SIGINT): no further tag is written'
    )
    expect(
      JSON.parse(outputs.changes ?? '').map(({ action }: { action: string }) => action)
    ).toEqual(['undone', 'unchanged'])
  }, 20_000)

  it('event lifecycle with check: warns of a missing policy, writes nothing, and reports it', async () => {
    onEvent('workflow_dispatch', 'refs/heads/main')
    Object.assign(inputs, { event: 'lifecycle', lifecycle: 'check' })
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(annotations).toEqual([
      expect.stringMatching(
        /^warning: app: the lifecycle policy differs .*: the repository has no lifecycle policy$/
      )
    ])
    const [entry] = JSON.parse(outputs.json ?? '[]') as { lifecycle: { action: string } }[]
    expect(entry?.lifecycle.action).toBe('drift')
    expect(writes()).toEqual([])
  })

  it.each([
    ['without dry-run it only plans', {}, false],
    ['with dry-run: false it deletes', { 'dry-run': 'false' }, true]
  ])('event prune: %s', async (_name, extra, deleted) => {
    onEvent('schedule', 'refs/heads/main')
    holding('v0.9.0=b')
    Object.assign(inputs, { event: 'prune', 'keep-minor-versions': '1', ...extra })
    await run()
    expect(annotations).toEqual([])
    expect(writes()).toEqual(deleted ? ['remove app:sha-bbbbbbb,v0.9.0'] : [])
    expect('v0.9.0' in registry.tags('app')).toBe(!deleted)
    const [entry] = JSON.parse(outputs.json ?? '[]') as {
      prune: { deleted: boolean; images: { digest: string; versions: string[] }[] }
    }[]
    expect(entry?.prune).toMatchObject({
      deleted,
      images: [{ digest: build.digest, versions: ['0.9.0'] }]
    })
    expect(summaryText()).toContain(`app: ${deleted ? 'deleted' : 'would delete'} 1 release images`)
  })

  it('refuses a release whose image has a finding at the gate, writing nothing, with the gate in the summary', async () => {
    onEvent('release', 'refs/tags/v1.1.0', {
      action: 'published',
      release: { tag_name: 'v1.1.0', prerelease: false }
    })
    inputs['fail-on-severity'] = 'HIGH'
    registry.facts[build.digest] = {
      scan: {
        status: 'COMPLETE',
        findings: [{ id: 'CVE-2024-0001', severity: 'HIGH', open: true }]
      }
    }
    await run()
    expect(process.exitCode).toBe(1)
    expect(writes()).toEqual([])
    expect(annotations).toEqual([
      expect.stringMatching(
        /^error: cannot move app:production to sha256:[0-9a-f]{12}: 1 finding at or above HIGH \(HIGH 1\): CVE-2024-0001 \(HIGH\)/
      )
    ])
    expect(summaryText()).toContain('refused (fail on HIGH): HIGH 1')
    expect(JSON.parse(outputs.json ?? '[]')[0].gates.scan).toMatchObject({ passed: false })
  })

  it('in a dry run, says an archived rollback target would be restored, and calls no write', async () => {
    onEvent('workflow_dispatch', 'refs/heads/main', { inputs: {} })
    Object.assign(inputs, { event: 'rollback', version: '0.9.0', 'dry-run': 'true' })
    const archived = manifest('a')
    holding('v0.9.0=a', { facts: { [archived.digest]: { status: 'ARCHIVED' } } })
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(writes()).toEqual([])
    expect(summaryText()).toContain('was ARCHIVED: would restore')
    expect(JSON.parse(outputs.changes ?? '[]')).toEqual([
      // The version production leaves is marked withdrawn, on the image it leaves.
      expect.objectContaining({ tag: 'withdrawn-1.0.0', to: old.digest }),
      expect.objectContaining({ tag: 'production', to: archived.digest, action: 'planned' })
    ])
  })

  describe('a rollback to an archived image', () => {
    const archived = manifest('a')
    /** v0.9.0 is on an archived image, which ECR restores at once, and which then reads `restored`. */
    const archive = (restored: 'ACTIVE' | 'ARCHIVED') =>
      holding('v0.9.0=a', {
        facts: { [archived.digest]: { status: 'ARCHIVED' } },
        faults: [
          {
            operation: 'restore',
            before: (r) => {
              r.facts[archived.digest] = { status: 'ACTIVE' }
              r.fault({
                operation: 'stored',
                before: () => (r.facts[archived.digest] = { status: restored })
              })
            }
          }
        ]
      })
    beforeEach(() => {
      onEvent('workflow_dispatch', 'refs/heads/main', { inputs: {} })
      Object.assign(inputs, { event: 'rollback', version: '0.9.0' })
    })

    it('restores it, reads the registry again and then writes', async () => {
      archive('ACTIVE')
      await run()
      expect(annotations).toEqual([
        expect.stringMatching(
          /^notice: app:withdrawn-1\.0\.0 .* created \(1\.0\.0, which production rolls back from, is withdrawn\)$/
        )
      ])
      expect(process.exitCode).toBeUndefined()
      expect(writes().filter((call) => call.startsWith('restore'))).toEqual(['restore app a'])
      expect(registry.tags('app').production).toBe(archived.digest)
      expect(JSON.parse(outputs.json ?? '[]')[0].restore).toMatchObject({ action: 'restored' })
    })

    it('writes nothing when the registry shows it archived again once restored', async () => {
      archive('ARCHIVED')
      await run()
      expect(process.exitCode).toBe(1)
      expect(writes()).toEqual(['restore app a'])
      expect(annotations).toEqual([
        'error: an image was archived again after its restore: no tag was written; run again'
      ])
    })
  })

  it('refuses a lifecycle the convention cannot render before writing any tag', async () => {
    onEvent('release', 'refs/tags/v1.1.0', {
      action: 'published',
      release: { tag_name: 'v1.1.0', prerelease: false }
    })
    writeFileSync(join(dir, 'plain.yml'), 'build-tag: sha-{sha7}\nversion-tag: v{version}\n')
    Object.assign(inputs, { convention: 'plain.yml', lifecycle: 'apply' })
    await run()
    expect(process.exitCode).toBe(1)
    expect(writes()).toEqual([])
    expect(annotations).toEqual([
      'error: the plain.yml convention has no cleanup section, so there is no lifecycle policy to apply'
    ])
  })
})

describe('run(): history', () => {
  const onDispatch = (extra: Record<string, string>) => {
    onEvent('workflow_dispatch', 'refs/heads/main', { inputs: {} })
    process.env.GITHUB_REPOSITORY = 'octo/app'
    Object.assign(inputs, { 'github-token': 'ghs_test', ...extra })
  }

  it('status reads every pointer and writes nothing', async () => {
    onDispatch({ event: 'status' })
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(writes()).toEqual([])
    const [app] = JSON.parse(outputs.json ?? '[]')
    expect(app.pointers).toEqual([
      expect.objectContaining({ tag: 'latest', digest: null }),
      expect.objectContaining({ tag: 'production', digest: old.digest, versions: ['1.0.0'] }),
      expect.objectContaining({ tag: 'staging', digest: null }),
      expect.objectContaining({ tag: 'canary', digest: null })
    ])
    expect(summaryText()).toContain('Withdrawn versions')
  })

  it('a GitHub failure after the writes is a warning, and the run succeeds', async () => {
    onDispatch({ event: 'release', 'release-tag': 'v1.1.0', deployments: 'on' })
    github.failure = new Error('Bad credentials')
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(registry.tags('app').production).toBe(build.digest)
    expect(annotations).toEqual([
      'warning: 1 of 1 GitHub deployment not recorded (the tags are written as reported): app:production in production: Bad credentials'
    ])
  })

  it('records the release in the production environment, at the commit built', async () => {
    onDispatch({ event: 'release', 'release-tag': 'v1.1.0', deployments: 'on' })
    await run()
    expect(github.created).toEqual([
      expect.objectContaining({
        owner: 'octo',
        repo: 'app',
        ref: SHA,
        environment: 'production',
        production_environment: true,
        required_contexts: [],
        auto_merge: false,
        payload: expect.objectContaining({
          tag: 'production',
          digest: build.digest,
          version: '1.1.0'
        })
      })
    ])
  })

  it('a dry run records no deployment', async () => {
    onDispatch({ event: 'release', 'release-tag': 'v1.1.0', deployments: 'on', 'dry-run': 'true' })
    await run()
    expect(github.created).toEqual([])
  })

  it('rolls back to where the deployment record says production was at a moment', async () => {
    holding('v1.1.0=b production=b')
    github.pages = [
      [
        {
          id: 9,
          environment: 'production',
          created_at: '2026-11-20T00:00:00Z',
          payload: {
            repository: 'app',
            tag: 'production',
            digest: build.digest,
            image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@${build.digest}`
          }
        }
      ],
      [
        {
          id: 7,
          environment: 'production',
          created_at: '2026-11-10T00:00:00Z',
          payload: {
            repository: 'app',
            tag: 'production',
            digest: old.digest,
            image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@${old.digest}`
          }
        }
      ]
    ]
    onDispatch({ event: 'rollback', version: '2026-11-15' })
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(registry.tags('app')).toMatchObject({
      production: old.digest,
      'withdrawn-1.1.0': build.digest
    })
    expect(JSON.parse(outputs.json ?? '[]')[0].history).toEqual({
      deployment: 7,
      environment: 'production',
      'created-at': '2026-11-10T00:00:00.000Z',
      digest: old.digest
    })
    expect(summaryText()).toContain('From the deployment history')
  })

  it('restore-version in a dry run names the mark it would take off, writing nothing', async () => {
    holding('withdrawn-1.0.0=c')
    onDispatch({ event: 'restore-version', version: '1.0.0', 'dry-run': 'true' })
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(writes()).toEqual([])
    expect(JSON.parse(outputs.changes ?? '[]')).toEqual([
      {
        repository: 'app',
        tag: 'withdrawn-1.0.0',
        from: old.digest,
        to: null,
        action: 'planned',
        now: null
      }
    ])
    expect(summaryText()).toContain('(dry run: nothing was written)')
  })
})

describe('onCancel', () => {
  const host = () => {
    const warnings: string[] = []
    return {
      warnings,
      host: {
        group: async <T>(_name: string, work: () => Promise<T>) => work(),
        info: () => {},
        notice: () => {},
        warning: (message: string) => void warnings.push(message),
        progress: () => {},
        confirm: async () => 'not asked' as const,
        readAgainAfterMs: 0,
        journal: () => ({ note: () => {}, resume: '' }),
        checkpoint: async () => {},
        messages: ACTION_MESSAGES
      }
    }
  }

  it.each([
    [
      'SIGINT, then SIGTERM (GitHub): the undo ends the grace after the SIGTERM',
      ['SIGINT', 'SIGTERM'] as const
    ],
    ['SIGINT twice (a terminal): likewise after the second', ['SIGINT', 'SIGINT'] as const],
    ['SIGTERM alone: the undo ends the grace after it', ['SIGTERM'] as const]
  ])('%s', async (_name, signals) => {
    const { host: stub, warnings } = host()
    const cancel = onCancel(stub, 50)
    try {
      for (const [index, signal] of signals.entries()) {
        process.emit(signal, signal)
        expect(cancel.signal.aborted).toBe(true)
        if (index < signals.length - 1) {
          await new Promise((resolve) => setTimeout(resolve, 100))
          expect(cancel.undo.aborted).toBe(false)
        }
      }
      expect(cancel.undo.aborted).toBe(false)
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(cancel.undo.aborted).toBe(true)
      expect(warnings[0]).toBe(
        `${signals[0]} received: no further tag is written, and what this run wrote is put back`
      )
      if (signals.length > 1)
        expect(warnings[1]).toBe(`${signals[1]} received: the undo stops in 0.05 s`)
    } finally {
      cancel.dispose()
    }
  })
})
