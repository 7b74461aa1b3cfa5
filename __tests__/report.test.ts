import { jest } from '@jest/globals'
import type { Manifest } from '../src/core/model.js'
import type { RepositoryPlan } from '../src/core/plan.js'
import { fakeSummary } from './support/fake-summary.js'

const outputs: Record<string, string> = {}
const warnings: string[] = []
const { summary, written } = fakeSummary()
jest.unstable_mockModule('@actions/core', () => ({
  setOutput: (name: string, value: string) => (outputs[name] = value),
  info: () => {},
  notice: () => {},
  warning: (message: string) => warnings.push(message),
  summary
}))
const { preview, cleanupFailure } = await import('../src/report/result.js')
const { report, escape } = await import('../src/action/summary.js')
type Change = import('../src/report/result.js').Change

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

describe('lifecycle', () => {
  type LifecycleOutcome = import('../src/run/cleanup.js').LifecycleOutcome
  const [production, child, stale] = [manifest('p'), manifest('q'), manifest('s')].map(
    ({ digest }) => digest
  ) as [string, string, string]
  const outcome = (
    repository: string,
    action: LifecycleOutcome['action'],
    extra: Partial<LifecycleOutcome> = {}
  ): LifecycleOutcome => ({
    repository,
    policy: '{"rules":[]}',
    difference: ['rule 1 missing: {}'],
    action,
    refused: [],
    ...extra
  })
  const refused = outcome('web', 'refused', {
    preview: {
      expiring: [
        { digest: production, tags: ['sha-aaaaaaa', 'v1.0.0'], rulePriority: 6 },
        { digest: child, tags: [], rulePriority: 7 }
      ],
      byRule: { 6: 1, 7: 1 },
      bytes: 3 * 1024 ** 2
    },
    refused: [
      {
        image: { digest: production, tags: ['sha-aaaaaaa', 'v1.0.0'] },
        reason: 'it carries v1.0.0, which the convention keeps'
      },
      {
        image: { digest: child, tags: [] },
        reason: 'an image the convention keeps holds it as a platform image'
      }
    ]
  })

  beforeEach(() => (warnings.length = 0))

  const failureOf = (lifecycle: LifecycleOutcome[]) =>
    cleanupFailure({ title: '', repositories: [], plans: [], changes: [], lifecycle })

  it('cleanupFailure names each refused image and says no policy was written', () => {
    const { failure } = failureOf([outcome('api', 'not written'), refused])
    expect((failure as AggregateError).errors.map(({ message }: Error) => message)).toEqual([
      'the lifecycle policy would expire web@sha256:p00000000000 (sha-aaaaaaa, v1.0.0): it carries v1.0.0, which the convention keeps',
      'the lifecycle policy would expire web@sha256:q00000000000: an image the convention keeps holds it as a platform image',
      'no lifecycle policy was written'
    ])
    expect(failureOf([outcome('api', 'written'), outcome('web', 'in sync')])).toEqual({})
    expect(
      failureOf([outcome('api', 'failed', { error: new Error('ServerException: boom') })]).failure
        ?.message
    ).toBe('the lifecycle policy of api was not written: ServerException: boom')
  })

  it('summarises each repository, warns of drift, and puts the lifecycle in the json output', async () => {
    const safe = outcome('api', 'would write', {
      preview: {
        expiring: [{ digest: stale, tags: ['sha-sssssss'], rulePriority: 6 }],
        byRule: { 6: 1 },
        bytes: 512
      }
    })
    const drift = outcome('worker', 'drift')
    const lifecycle = [safe, refused, drift, outcome('jobs', 'in sync', { difference: [] })]
    await report({
      title: 'lifecycle policy',
      repositories: ['api', 'web', 'worker', 'jobs'],
      plans: [],
      changes: [],
      lifecycle,
      ...failureOf(lifecycle)
    })
    const parts = written[0]?.split('\n') ?? []
    const table = JSON.parse(parts[parts.indexOf('# Lifecycle policy') + 1] ?? '') as unknown[]
    expect(table).toEqual([
      ['Repository', 'Policy', 'Expiring', 'Freed', 'Refused'].map((data) => ({
        data,
        header: true
      })),
      ['api', 'would write', 'rule 6: 1', '512 B', '—'],
      [
        'web',
        'refused',
        'rule 6: 1; rule 7: 1',
        '3.0 MiB',
        '<code>sha256:p00000000000</code> it carries v1.0.0, which the convention keeps<br><code>sha256:q00000000000</code> an image the convention keeps holds it as a platform image'
      ],
      ['worker', 'drift', '—', '—', '—'],
      ['jobs', 'in sync', '—', '—', '—']
    ])
    expect(parts).toContain(
      '> worker: how the policy differs: <ul><li>rule 1 missing: &#123;&#125;</li></ul>'
    )
    expect(parts.filter((part) => part.startsWith('> ')).map((part) => part.split(':')[0])).toEqual(
      ['> api', '> web', '> worker']
    )
    expect(parts.slice(-2)).toEqual(['- no lifecycle policy was written', 'Nothing was written.'])
    expect(warnings).toEqual([
      'worker: the lifecycle policy differs from the one the convention renders (run with lifecycle: apply to write it): rule 1 missing: {}'
    ])
    const json = JSON.parse(outputs.json ?? '') as { lifecycle?: unknown }[]
    expect(json.map(({ lifecycle }) => lifecycle)).toEqual([
      {
        action: 'would write',
        difference: ['rule 1 missing: {}'],
        expiring: [{ digest: stale, tags: ['sha-sssssss'] }],
        'bytes-freed': 512
      },
      {
        action: 'refused',
        difference: ['rule 1 missing: {}'],
        expiring: [
          { digest: production, tags: ['sha-aaaaaaa', 'v1.0.0'] },
          { digest: child, tags: [] }
        ],
        'bytes-freed': 3 * 1024 ** 2
      },
      { action: 'drift', difference: ['rule 1 missing: {}'], expiring: [], 'bytes-freed': 0 },
      { action: 'in sync', difference: [], expiring: [], 'bytes-freed': 0 }
    ])
  })
})
