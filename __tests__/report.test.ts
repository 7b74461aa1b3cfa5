import { jest } from '@jest/globals'
import type { Manifest } from '../src/model.js'
import type { RepositoryPlan } from '../src/plan.js'
import { fakeSummary } from './support/fake-summary.js'

const outputs: Record<string, string> = {}
const { summary, written } = fakeSummary()
jest.unstable_mockModule('@actions/core', () => ({
  setOutput: (name: string, value: string) => (outputs[name] = value),
  info: () => {},
  notice: () => {},
  summary
}))
const { report, escape, preview } = await import('../src/report.js')
type Change = import('../src/report.js').Change

const manifest = (name: string): Manifest => ({
  digest: `sha256:${name.padEnd(64, '0')}`,
  mediaType: 'm',
  body: name
})
const [build, old] = [manifest('b'), manifest('c')]
const plan = (repository: string, extra: Partial<RepositoryPlan> = {}): RepositoryPlan => ({
  repository,
  uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${repository}`,
  source: build,
  steps: [],
  ...extra
})
const change = (repository: string, tag: string, extra: Partial<Change> = {}): Change => ({
  repository,
  tag,
  from: old.digest,
  to: build.digest,
  action: 'moved',
  now: build.digest,
  ...extra
})

beforeEach(() => {
  for (const name of Object.keys(outputs)) delete outputs[name]
  written.length = 0
})

describe('report', () => {
  it('gives digest, previous-digest and version one line per repository, in input order, blank where none', async () => {
    await report({
      title: 'release 1.2.0',
      repositories: ['api', 'worker', 'web'],
      plans: [
        plan('web', { pointer: 'production' }),
        plan('api', {
          pointer: 'production',
          version: { text: '1.2.0', major: 1, minor: 2, patch: 0, prerelease: '' }
        }),
        plan('worker', { pointer: 'production' })
      ],
      changes: [
        change('api', 'production'),
        change('worker', 'production', { from: null, action: 'created' }),
        change('web', 'production')
      ]
    })
    expect(outputs.digest).toBe([build.digest, build.digest, build.digest].join('\n'))
    expect(outputs['previous-digest']).toBe([old.digest, '', old.digest].join('\n'))
    expect(outputs.version).toBe('1.2.0\n\n')
    expect(outputs.tags).toBe('production')
    expect(outputs.images?.split('\n')).toEqual([
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/api:production',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/worker:production',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/web:production'
    ])
    expect(JSON.parse(outputs.json ?? '')).toEqual([
      {
        repository: 'api',
        uri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/api',
        digest: build.digest,
        version: '1.2.0',
        'previous-digest': old.digest,
        tags: ['production'],
        changes: [
          {
            repository: 'api',
            tag: 'production',
            from: old.digest,
            to: build.digest,
            action: 'moved',
            now: build.digest
          }
        ]
      },
      expect.objectContaining({ repository: 'worker', version: '', 'previous-digest': '' }),
      expect.objectContaining({ repository: 'web' })
    ])
  })

  it('lists in tags and images only what the registry shows on the source at the end', async () => {
    await report({
      title: 'release 1.2.0',
      repositories: ['api'],
      plans: [plan('api')],
      changes: [
        change('api', 'v1.2.0', { action: 'undone', from: null, now: null }),
        change('api', 'production', { action: 'moved', now: old.digest, note: 'moved on' })
      ],
      failure: new Error('ecr:PutImage on api failed')
    })
    expect(outputs.tags).toBe('')
    expect(outputs.images).toBe('')
  })

  it('writes a summary with the error and "Nothing was written" for a run that failed before writing', async () => {
    await report({
      title: 'push to main',
      repositories: [],
      plans: [],
      changes: [],
      failure: new AggregateError([
        new Error('sha is not a git commit hash'),
        new Error('no region')
      ])
    })
    expect(outputs).toEqual({})
    expect(written[0]).toBe(
      '# ecr-promote\npush to main\n# Failed\n- sha is not a git commit hash\n- no region\nNothing was written.'
    )
  })

  it('shows each row with its final digest and action; a failed write wrote nothing', async () => {
    await report({
      title: 'release 1.2.0',
      repositories: ['api'],
      plans: [plan('api')],
      changes: [change('api', 'production', { action: 'failed', now: old.digest })],
      failure: new Error('boom')
    })
    expect(written[0]).toContain(
      '["api","<code>production</code>","<code>sha256:c00000000000</code>","<code>sha256:c00000000000</code>","failed"]'
    )
    expect(written[0]).toContain('Nothing was written')
  })

  it('escapes untrusted text, such as a branch name, in the summary', async () => {
    await report({
      title: 'push to <img src=x onerror=alert(1)>[click](http://evil)',
      repositories: [],
      plans: [],
      changes: []
    })
    expect(written[0]).not.toMatch(/<img|\[click\]/)
    expect(written[0]).toContain('&#60;img src=x onerror=alert(1)&#62;&#91;click&#93;(http://evil)')
  })

  it.each([
    ['feature/login-42', 'feature/login-42'],
    ['a_b*c', 'a&#95;b&#42;c'],
    ['`code` | pipe', '&#96;code&#96; &#124; pipe'],
    ['release 1.2.0: stays on 1.1.0', 'release 1.2.0: stays on 1.1.0']
  ])('escape(%j) is %j', (text, escaped) => {
    expect(escape(text)).toBe(escaped)
  })
})

describe('preview', () => {
  it('shows where each tag would be once the plan is written, with the reason for a hold', () => {
    const held = 'a lower release never moves production'
    const changes = preview([
      plan('app', {
        steps: [
          { tag: 'v1.2.0', kind: 'version', to: build, write: true },
          { tag: 'production', kind: 'forward', from: old, to: old, write: false, note: held }
        ]
      }),
      plan('app2', {
        steps: [{ tag: 'latest', kind: 'plain', from: build, to: build, write: false }]
      })
    ])
    expect(changes).toEqual([
      {
        repository: 'app',
        tag: 'v1.2.0',
        from: null,
        to: build.digest,
        now: build.digest,
        action: 'planned'
      },
      {
        repository: 'app',
        tag: 'production',
        from: old.digest,
        to: old.digest,
        now: old.digest,
        action: 'unchanged',
        note: held
      },
      {
        repository: 'app2',
        tag: 'latest',
        from: build.digest,
        to: build.digest,
        now: build.digest,
        action: 'unchanged'
      }
    ])
  })
})
