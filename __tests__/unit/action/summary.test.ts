import { readFileSync } from 'node:fs'
import { jest } from '@jest/globals'
import {
  change as changed,
  copied,
  fakeDigest,
  fakeDigests,
  lifecycleOutcome,
  plan,
  result,
  v
} from '../../support/builders.js'
import { fakeSummary } from '../../support/fake-summary.js'

/** The version the action reports: package.json's. */
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
const outputs: Record<string, string> = {}
const warnings: string[] = []
const notices: string[] = []
const { summary, written } = fakeSummary()
jest.unstable_mockModule('@actions/core', () => ({
  setOutput: (name: string, value: string) => (outputs[name] = value),
  info: () => {},
  notice: (message: string) => notices.push(message),
  warning: (message: string) => warnings.push(message),
  summary
}))
const { cleanupFailure } = await import('../../../src/report/result.js')
const { report, escape } = await import('../../../src/action/summary.js')
type Change = import('../../../src/report/result.js').Change
type RunResult = import('../../../src/report/result.js').RunResult

const [build, old] = [fakeDigest('b'), fakeDigest('c')]
/** A row: `tag` of `repository` moved from c to b, unless told. */
const change = (repository: string, tag: string, extra: Partial<Change> = {}): Change =>
  changed({ repository, tag, from: old, to: build, now: build, ...extra })

beforeEach(() => {
  for (const name of Object.keys(outputs)) delete outputs[name]
  written.length = 0
  notices.length = 0
})

describe('report', () => {
  it('gives digest, previous-digest and version one line per repository, in input order, blank where none', async () => {
    await report(
      result({
        repositories: ['api', 'worker', 'web'],
        plans: [
          plan('web', { pointer: 'production' }),
          plan('api', { pointer: 'production', version: v('1.2.0') }),
          plan('worker', { pointer: 'production' })
        ],
        changes: [
          change('api', 'production'),
          change('worker', 'production', { from: null, action: 'created' }),
          change('web', 'production')
        ]
      })
    )
    expect(outputs.digest).toBe([build, build, build].join('\n'))
    expect(outputs['previous-digest']).toBe([old, '', old].join('\n'))
    expect(outputs.version).toBe('1.2.0\n\n')
    expect(outputs.tags).toBe('production')
    expect(outputs.images?.split('\n')).toEqual(
      ['api', 'worker', 'web'].map(
        (name) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/${name}:production`
      )
    )
    expect(JSON.parse(outputs.json ?? '')).toEqual([
      {
        repository: 'api',
        uri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/api',
        digest: build,
        version: '1.2.0',
        'previous-digest': old,
        tags: ['production'],
        changes: [change('api', 'production')],
        'ecr-promote': version
      },
      expect.objectContaining({ repository: 'worker', version: '', 'previous-digest': '' }),
      expect.objectContaining({ repository: 'web' })
    ])
  })

  it('lists in tags and images only what the registry shows on the source at the end', async () => {
    await report(
      result({
        plans: [plan('api')],
        changes: [
          change('api', 'v1.2.0', { action: 'undone', from: null, now: null }),
          change('api', 'production', { action: 'moved', now: old, note: 'moved on' })
        ],
        failure: new Error('ecr:PutImage on api failed')
      })
    )
    expect(outputs.tags).toBe('')
    expect(outputs.images).toBe('')
  })

  it('writes a summary with the error and "Nothing was written" for a run that failed before writing', async () => {
    await report({
      ...result({ title: 'push to main', repositories: [] }),
      failure: new AggregateError([
        new Error('sha is not a git commit hash'),
        new Error('no region')
      ])
    })
    expect(outputs).toEqual({})
    expect(written[0]).toBe(
      `# ecr-promote ${version}\npush to main\n# Failed\n- sha is not a git commit hash\n- no region\nNothing was written.`
    )
  })

  it('shows each row with its final digest and action; a failed write wrote nothing', async () => {
    await report(
      result({
        plans: [plan('api')],
        changes: [change('api', 'production', { action: 'failed', now: old })],
        failure: new Error('boom')
      })
    )
    expect(written[0]).toContain(
      '["api","<code>production</code>","<code>sha256:cccccccccccc</code>","<code>sha256:cccccccccccc</code>","failed"]'
    )
    expect(written[0]).toContain('Nothing was written')
  })

  it('says in a notice and the summary why a rollback to previous left production, and which input goes further', async () => {
    const stays = { version: v('1.1.0'), withdrawn: v('1.2.0'), further: v('1.0.0') }
    await report(
      result({
        plans: [plan('api', { pointer: 'production', stays })],
        changes: [change('api', 'production', { from: build, action: 'unchanged' })]
      })
    )
    const why =
      'api: production stays on 1.1.0, already below 1.2.0, which a rollback withdrew: previous goes back from a withdrawn version once, so running it again changes nothing; to go further back, name a version: version: 1.0.0'
    expect(notices).toEqual([why])
    expect(written[0]?.split('\n').at(-1)).toBe(why)
  })

  it('escapes untrusted text, such as a branch name, in the summary', async () => {
    await report(result({ title: 'push to <img src=x onerror=alert(1)>[click](http://evil)' }))
    expect(written[0]).not.toMatch(/<img|\[click\]/)
    expect(written[0]).toContain('&#60;img src=x onerror=alert(1)&#62;&#91;click&#93;(http://evil)')
  })

  const createdAt = new Date('2026-11-10T00:00:00Z')
  const payload = { repository: 'api', tag: 'production', digest: old, version: null, image: '' }
  const withdrawn = { version: '1.0.0', tag: 'withdrawn-1.0.0', digest: old }
  const pruned = (deleted: boolean) => ({
    repository: 'api',
    keptMinors: ['1.1'],
    images: [{ digest: build, versions: ['0.9.0'], tags: ['v0.9.0'] }],
    kept: [],
    deleted
  })
  it.each<[string, Partial<RunResult>, string[]]>([
    [
      'the deployment a rollback to a moment went back to',
      {
        plans: [plan('api', { recorded: { id: 7, environment: 'production', createdAt, payload } })]
      },
      [
        '# From the deployment history',
        '- api: back to deployment 7 of 2026-11-10T00:00:00.000Z: production on sha256:cccccccccccc'
      ]
    ],
    [
      'the withdrawn versions of a status',
      { status: [{ repository: 'api', uri: 'u', pointers: [], withdrawn: [withdrawn] }] },
      ['# Withdrawn versions', '- api: 1.0.0 (withdrawn-1.0.0 on sha256:cccccccccccc)']
    ],
    [
      'the images a dry run of prune would delete',
      { prune: [pruned(false)] },
      ['# api: would delete 1 release images (0 B)', 'kept minor versions: 1.1']
    ],
    [
      'the images a prune deleted',
      { prune: [pruned(true)] },
      ['# api: deleted 1 release images (0 B)']
    ],
    [
      'what a run copied into the target, and what a dry run would',
      { copies: [copied('api'), copied('worker', { dryRun: true })] },
      [
        '# Copied',
        `- api: copied 3 of 7 blobs (41.2 MiB), 4 manifests, 2 referrers from 123456789012.dkr.ecr.us-east-1.amazonaws.com/api@${build} in 12.4 s`,
        `- worker: would copy 3 of 7 blobs (41.2 MiB), 4 manifests, 2 referrers from 123456789012.dkr.ecr.us-east-1.amazonaws.com/worker@${build}`
      ]
    ],
    [
      'an archived image a dry run would restore',
      { restores: [{ repository: 'api', digest: old, was: 'ARCHIVED', action: 'would restore' }] },
      [
        '# Archived images',
        '- api@sha256:cccccccccccc was ARCHIVED: would restore; the gates check it once it is restored'
      ]
    ]
  ])('shows %s', async (_name, extra, parts) => {
    await report(result(extra))
    expect(written[0]?.split('\n')).toEqual(expect.arrayContaining(parts))
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

describe('report: lifecycle', () => {
  type LifecycleOutcome = import('../../../src/run/cleanup.js').LifecycleOutcome
  const [production, child, stale] = fakeDigests('p', 'q', 's')
  const outcome = (
    repository: string,
    action: LifecycleOutcome['action'],
    extra: Partial<LifecycleOutcome> = {}
  ) => lifecycleOutcome(repository, action, { difference: ['rule 1 missing: {}'], ...extra })
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
    const run = result({ repositories: ['api', 'web', 'worker', 'jobs'], lifecycle })
    await report({ ...run, ...cleanupFailure(run) })
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
        '<code>sha256:pppppppppppp</code> it carries v1.0.0, which the convention keeps<br><code>sha256:qqqqqqqqqqqq</code> an image the convention keeps holds it as a platform image'
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
