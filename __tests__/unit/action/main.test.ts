/**
 * `run()` in-process, as actions/typescript-action tests it: `@actions/core` mocked (inputs in,
 * outputs, annotations and the summary out), the registry the shared in-memory one. How ECR's
 * answers are read is registry.test's, each stage's rules are unit/run/'s, the end-to-end tests run
 * the bundle; these show the glue's decisions and the order of the stages.
 */
import { jest } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { change, copied, manifest, tagged, uri } from '../../support/builders.js'
import { fakeSummary } from '../../support/fake-summary.js'
import { memoryRegistry, type MemoryRegistry, type Seed } from '../../support/memory-registry.js'
import type { RegistryOptions } from '../../../src/ecr/client.js'
import type { CopyJob } from '../../../src/run/copy.js'
import type { JournalEntry } from '../../../src/run/journal.js'
import { CopyFailed, type CopyReport } from '../../../src/core/copy.js'

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
/** The registry the run reaches: repository `app`, set up afresh by each test. */
let registry: MemoryRegistry
/** With target-registry: the registry the run writes in (`registry` is then the source's). */
let target: MemoryRegistry | undefined
/** The roles assumed for the target: role, session name, STS region. */
const roles: unknown[][] = []
jest.unstable_mockModule('../../../src/ecr/client.js', () => ({
  createRegistry: ({ names }: RegistryOptions) => (names?.target && target) || registry,
  assumedRole: (...args: unknown[]) => void roles.push(args)
}))
/** The copier, stubbed (its own suite is unit/run/copy.test): each job, and what it answers. */
const jobs: { from: MemoryRegistry; into: MemoryRegistry; job: CopyJob; dryRun: boolean }[] = []
let copying: (job: CopyJob) => Promise<CopyReport>
jest.unstable_mockModule('../../../src/run/copy.js', () => ({
  uploadTurns: () => 'one part at a time',
  copyImage: (
    from: MemoryRegistry,
    into: MemoryRegistry,
    job: CopyJob,
    { dryRun }: { dryRun: boolean }
  ) => {
    jobs.push({ from, into, job, dryRun })
    return copying(job)
  }
}))
const { finishUndo, onCancel } = await import('../../../src/run/execute.js')
const { ACTION_HOST, run } = await import('../../../src/action/main.js')

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
  process.exitCode = undefined
  holding()
  target = undefined
  roles.length = 0
  jobs.length = 0
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
const onRelease = () =>
  onEvent('release', 'refs/tags/v1.1.0', {
    action: 'published',
    release: { tag_name: 'v1.1.0', prerelease: false }
  })

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
      change({ repository: 'app', tag: 'latest', from: null, to: build.digest, action: 'created' })
    ])
    expect(registry.tags('app').latest).toBe(build.digest)
    expect(summaryText()).toContain('push to main')
    expect(state).toMatchObject({ isPost: 'true', journal: expect.stringMatching(/journal/) })
  })

  it("on a fork's pull request from main, writes nothing and the summary says so", async () => {
    onEvent('pull_request', 'refs/pull/8/merge')
    process.env.GITHUB_HEAD_REF = 'main'
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(writes()).toEqual([])
    expect(summaryText()).toMatch(/^# ecr-promote \S+\npull request: no tag is written$/)
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

  it('refuses a release whose image has a finding at the gate, writing nothing, with the gate in the summary', async () => {
    onRelease()
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

  it('reads again when the gates waited, so a promotion made meanwhile is not overwritten', async () => {
    onRelease()
    inputs['require-signature'] = 'managed'
    const hotfix = manifest('d')
    const signing = (status: string) => ({
      pushedAt: new Date(2_000),
      signing: [{ profile: 'ci', status }]
    })
    holding('', {
      facts: { [build.digest]: signing('IN_PROGRESS') },
      faults: [
        { operation: 'signing' },
        {
          operation: 'signing',
          // While the gate waits, production is promoted to a newer build that has no version yet.
          before: (r) => {
            r.facts[build.digest] = signing('COMPLETE')
            r.facts[hotfix.digest] = { pushedAt: new Date(3_000) }
            r.set('app', { production: hotfix })
          }
        }
      ]
    })
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(registry.tags('app')).toMatchObject({
      'v1.1.0': build.digest,
      production: hotfix.digest
    })
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

    it('in a dry run, only says an archived rollback target would be restored, and calls no write', async () => {
      inputs['dry-run'] = 'true'
      archive('ACTIVE')
      await run()
      expect(process.exitCode).toBeUndefined()
      expect(writes()).toEqual([])
      expect(summaryText()).toContain('(dry run: nothing was written)')
      expect(JSON.parse(outputs.changes ?? '[]')).toEqual([
        // The version production leaves is marked withdrawn, on the image it leaves.
        expect.objectContaining({ tag: 'withdrawn-1.0.0', to: old.digest }),
        expect.objectContaining({ tag: 'production', to: archived.digest, action: 'planned' })
      ])
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
    onRelease()
    writeFileSync(join(dir, 'plain.yml'), 'build-tag: sha-{sha7}\nversion-tag: v{version}\n')
    Object.assign(inputs, { convention: 'plain.yml', lifecycle: 'apply' })
    await run()
    expect(process.exitCode).toBe(1)
    expect(writes()).toEqual([])
    expect(annotations).toEqual([
      'error: the plain.yml convention has no cleanup section, so there is no lifecycle policy to apply'
    ])
  })

  it('restore-version in a dry run names the mark it would take off, writing nothing', async () => {
    holding('withdrawn-1.0.0=c')
    onEvent('workflow_dispatch', 'refs/heads/main', { inputs: {} })
    Object.assign(inputs, { event: 'restore-version', version: '1.0.0', 'dry-run': 'true' })
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(writes()).toEqual([])
    expect(JSON.parse(outputs.changes ?? '[]')).toEqual([
      change({
        repository: 'app',
        tag: 'withdrawn-1.0.0',
        from: old.digest,
        to: null,
        action: 'planned'
      })
    ])
    expect(summaryText()).toContain('(dry run: nothing was written)')
  })
})

describe('run() with a target registry', () => {
  const TARGET = '210987654321.dkr.ecr.eu-west-1.amazonaws.com'
  const ROLE = 'arn:aws:iam::210987654321:role/promoter'
  beforeEach(() => {
    onRelease()
    Object.assign(inputs, { 'target-registry': TARGET, 'target-role-to-assume': ROLE })
    inputs['fail-on-severity'] = 'HIGH'
    copying = () => Promise.resolve(copied('app'))
    holding('staging=b', {
      facts: { [build.digest]: { scan: { status: 'COMPLETE', findings: [] } } }
    })
    target = memoryRegistry({ tags: { app: tagged('v1.0.0=c production=c') } })
  })

  it('gates the image in the source, copies it, then writes every tag and the build tag in the target', async () => {
    const { repository, ...report } = copied('app')
    copying = () => Promise.resolve(report)
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(registry.log.filter((call) => /^scan /.test(call))).not.toEqual([])
    expect(target?.log.filter((call) => /^(scan|put) /.test(call))).toEqual([
      'put app:sha-bbbbbbb=b',
      'put app:v1.1.0=b',
      'put app:production=b'
    ])
    expect(writes()).toEqual([])
    // The build lives in the source: the target is not asked how it stores it.
    expect(target?.log.filter((call) => /^stored .*sha-bbbbbbb/.test(call))).toEqual([])
    expect(jobs).toEqual([
      {
        from: registry,
        into: target,
        job: { repository, manifest: build, from: `${uri('app')}@${build.digest}`, to: TARGET },
        dryRun: false
      }
    ])
    expect(roles).toEqual([[ROLE, 'ecr-promote-run', 'us-east-1']])
    expect(JSON.parse(outputs.json ?? '[]')[0].copy).toMatchObject({
      blobs: { copied: 3, present: 4 }
    })
    expect(summaryText()).toMatch(
      /app: copied 3 of 7 blobs \(41\.2 MiB\), .* into 210987654321\.dkr/
    )
  })

  it('in a dry run, says what the copier would copy, and writes in neither registry', async () => {
    inputs['dry-run'] = 'true'
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(jobs.map(({ dryRun }) => dryRun)).toEqual([true])
    expect([...writes(), ...(target?.log.filter((call) => /^put /.test(call)) ?? [])]).toEqual([])
    expect(summaryText()).toContain('app: would copy 3 of 7 blobs (41.2 MiB)')
  })

  it('writes a source named by `source` (a pointer, say) nowhere in the target but where the event puts it', async () => {
    inputs.source = 'staging'
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(target?.log.filter((call) => /^put /.test(call))).toEqual([
      'put app:v1.1.0=b',
      'put app:production=b'
    ])
  })

  it('copies nothing for a run that writes no tag (a push of another branch)', async () => {
    onEvent('push', 'refs/heads/feature', { after: SHA })
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(jobs).toEqual([])
  })

  it.each<[string, Record<string, string>]>([
    ['status', {}],
    ['prune', { 'keep-minor-versions': '2' }],
    ['lifecycle', { lifecycle: 'check' }]
  ])('reads and writes only the target on %s', async (event, more) => {
    onEvent('workflow_dispatch', 'refs/heads/main', { inputs: {} })
    Object.assign(inputs, { event, 'fail-on-severity': 'off', ...more })
    await run()
    expect(annotations.filter((line) => line.startsWith('error'))).toEqual([])
    expect(registry.log).toEqual([])
    expect(target?.log).not.toEqual([])
  })

  it('puts back from the journal in the target, assuming its role in the run’s region (the post step)', async () => {
    target = memoryRegistry({ tags: { app: tagged('v1.0.0=c v1.1.0=b production=b') } })
    const entries: JournalEntry[] = [
      {
        note: 'registry',
        ...{ registryId: '210987654321', region: 'eu-west-1', host: TARGET },
        ...{ roleArn: ROLE, roleRegion: 'us-east-1' }
      },
      {
        note: 'write',
        ...{ repository: 'app', tag: 'production', pointer: true },
        ...{ before: old.digest, placed: build.digest }
      }
    ]
    const journal = { note: () => {}, resume: '' }
    await finishUndo(ACTION_HOST, entries, { maxWritesPerSecond: 10, journal })
    expect(target.tags('app')).toMatchObject({ production: old.digest })
    expect(registry.log).toEqual([])
    expect(roles).toEqual([[ROLE, 'ecr-promote-run', 'us-east-1']])
  })

  it('judges the tested-image rule in the source, where staging carries the build', async () => {
    inputs['require-tested'] = 'true'
    await run()
    expect(annotations).toEqual([])
    expect(target?.tags('app')).toMatchObject({ production: build.digest })
  })

  it('gates a rollback to a version the target holds in the target, and copies nothing', async () => {
    onEvent('workflow_dispatch', 'refs/heads/main', { inputs: {} })
    Object.assign(inputs, { event: 'rollback', version: '1.0.0' })
    target = memoryRegistry({
      tags: { app: tagged('v1.0.0=c v1.1.0=b production=b') },
      facts: { [old.digest]: { scan: { status: 'COMPLETE', findings: [] } } }
    })
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(registry.log.filter((call) => /^scan /.test(call))).toEqual([])
    expect(target.log.filter((call) => /^scan /.test(call))).toEqual(['scan app c'])
    expect(target.log.filter((call) => /^put /.test(call)).sort()).toEqual([
      'put app:production=c',
      'put app:withdrawn-1.1.0=b'
    ])
    expect(jobs).toEqual([])
  })

  it('writes no tag when a copy fails, and fails with what the copier says it left', async () => {
    const said = `blob sha256:1 does not match its digest; no tag was written; 3 blobs, 0 untagged manifests copied stay in ${TARGET}`
    copying = () => Promise.reject(new CopyFailed(said, copied('app')))
    await run()
    expect(process.exitCode).toBe(1)
    expect([...writes(), ...(target?.log.filter((call) => /^put /.test(call)) ?? [])]).toEqual([])
    expect(annotations).toEqual([`error: ${said}`])
    expect(JSON.parse(outputs.changes ?? '')).toEqual([])
    expect(summaryText()).toContain('Nothing was written.')
  })

  it('never points a tag at an image the target holds archived: it is restored there first, or the run refuses', async () => {
    // Released into the target long ago, since archived there by its lifecycle; active in the source.
    target = memoryRegistry({
      tags: { app: tagged('v1.0.0=c production=c') },
      images: [build],
      facts: { [build.digest]: { status: 'ARCHIVED' } }
    })
    let atFirstTag: string | undefined
    target.fault({
      operation: 'put',
      before: (into) => (atFirstTag ??= into.facts[build.digest]?.status ?? 'ACTIVE')
    })
    // ECR restores it at once.
    target.fault({
      operation: 'restore',
      before: (into) => void (into.facts[build.digest] = { status: 'ACTIVE' })
    })
    await run()
    expect(process.exitCode).toBeUndefined()
    expect(target.log.filter((call) => call.startsWith('restore '))).toEqual(['restore app b'])
    expect(registry.log.filter((call) => call.startsWith('restore '))).toEqual([])
    expect(atFirstTag).toBe('ACTIVE')
  })
})

describe('onCancel', () => {
  it.each([
    [
      'SIGINT, then SIGTERM (GitHub): the undo ends the grace after the SIGTERM',
      ['SIGINT', 'SIGTERM'] as const
    ],
    ['SIGINT twice (a terminal): likewise after the second', ['SIGINT', 'SIGINT'] as const],
    ['SIGTERM alone: the undo ends the grace after it', ['SIGTERM'] as const]
  ])('%s', async (_name, signals) => {
    const cancel = onCancel(ACTION_HOST, 50)
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
      expect(annotations).toEqual([
        `warning: ${signals[0]} received: no further tag is written, and what this run wrote is put back`,
        ...(signals.length > 1 ? [`warning: ${signals[1]} received: the undo stops in 0.05 s`] : [])
      ])
    } finally {
      cancel.dispose()
    }
  })
})
