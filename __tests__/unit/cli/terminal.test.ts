import {
  changesTable,
  renderResult,
  terminalHost,
  type Terminal
} from '../../../src/cli/terminal.js'
import {
  change,
  fakeDigests,
  hold,
  lifecycleOutcome,
  manifest,
  plan,
  pointerStatus,
  result,
  rows,
  v,
  write
} from '../../support/builders.js'

/** A terminal that keeps what is written to it, and answers each question with the next answer. */
function fakeTerminal(
  { live = false, interactive = false, color = false } = {},
  answers: string[] = []
) {
  const events: string[] = []
  const out: string[] = []
  const err: string[] = []
  const questions: string[] = []
  const stream = (kept: string[], name: string) => ({
    write: (text: string) => void (kept.push(text), events.push(`${name} ${text}`))
  })
  const terminal: Terminal = {
    stdout: stream(out, 'stdout'),
    stderr: stream(err, 'stderr'),
    live,
    interactive,
    color,
    ask: async (question) => {
      questions.push(question)
      events.push(`ask ${question}`)
      return answers.shift() ?? ''
    }
  }
  return { terminal, events, questions, stdout: () => out.join(''), stderr: () => err.join('') }
}

const CLEAR = '\r\x1b[2K'
const [a, b, c] = fakeDigests('a', 'b', 'c')
// eslint-disable-next-line no-control-regex -- the colour codes are what is taken out
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '')

const noJournal = () => ({ note: () => {}, resume: '' })

describe('terminalHost', () => {
  const quiet = { yes: false, verbose: false }

  /** Rows `name | live or piped | the host's calls, separated by `; ` | what stderr shows`. */
  it.each(
    rows(
      `rewrites progress in place on a live terminal, without a newline | live | progress 3 writes of 40; progress 4 writes of 40 | ${CLEAR}3 writes of 40${CLEAR}4 writes of 40`,
      `clears the progress line before the next line, and only then | live | progress 4 writes of 40; warning throttled; notice held back | ${CLEAR}4 writes of 40${CLEAR}warning: throttled\nnote: held back\n`,
      `takes the progress line away when settled, and nothing else | live | settle; progress 4 writes of 40; settle; settle; warning throttled | ${CLEAR}4 writes of 40${CLEAR}warning: throttled\n`,
      'writes progress a line each when piped | piped | progress 3 writes of 40; progress 4 writes of 40; warning throttled | 3 writes of 40\n4 writes of 40\nwarning: throttled\n'
    )
  )('%s', (_name, live, calls = '', expected) => {
    const { terminal, stderr, stdout } = fakeTerminal({ live: live === 'live' })
    const host = terminalHost(terminal, quiet, noJournal)
    for (const call of calls.split('; ')) {
      const [method = '', ...words] = call.split(' ')
      if (method === 'settle') host.settle()
      else host[method as 'progress' | 'warning' | 'notice'](words.join(' '))
    }
    expect(stderr()).toBe(expected)
    expect(stdout()).toBe('')
  })

  it('prints the log and its groups only with --verbose', async () => {
    const silent = fakeTerminal()
    const host = terminalHost(silent.terminal, quiet, noJournal)
    host.info('api: source sha256:bbbb')
    await expect(host.group('plan', async () => 42)).resolves.toBe(42)
    expect(silent.stderr()).toBe('')

    const loud = fakeTerminal({ live: true })
    const verbose = terminalHost(loud.terminal, { yes: false, verbose: true }, noJournal)
    verbose.progress('waiting')
    await expect(
      verbose.group('plan', async () => {
        verbose.info('api: source sha256:bbbb')
        return 7
      })
    ).resolves.toBe(7)
    expect(loud.stderr()).toBe(`${CLEAR}waiting${CLEAR}== plan\napi: source sha256:bbbb\n`)
    expect(loud.stdout()).toBe('')
  })

  describe('confirm', () => {
    const plans = [
      plan('api', {
        steps: [
          write('production', 'forward', manifest('b'), manifest('a')),
          hold('latest', 'forward', manifest('b'))
        ],
        versions: new Map([
          [a, '1.1.0'],
          [b, '1.2.0']
        ])
      })
    ]
    const TABLE = [
      'REPOSITORY  TAG         BEFORE                       AFTER                        ACTION',
      'api         production  sha256:aaaaaaaaaaaa (1.1.0)  sha256:bbbbbbbbbbbb (1.2.0)  planned',
      'api         latest      sha256:bbbbbbbbbbbb (1.2.0)  sha256:bbbbbbbbbbbb (1.2.0)  unchanged'
    ].join('\n')

    it.each([
      ['--yes', { interactive: true }, true],
      ['no person at the terminal', { interactive: false }, false],
      ['--yes and no person', { interactive: false }, true]
    ])('writes without asking with %s', async (_name, options, yes) => {
      const { terminal, questions, stderr } = fakeTerminal(options, ['n'])
      await expect(
        terminalHost(terminal, { yes, verbose: false }, noJournal).confirm(plans)
      ).resolves.toBe('not asked')
      expect(questions).toEqual([])
      expect(stderr()).toBe('')
    })

    it.each([
      ['stdout, with the result', false],
      ['stderr with --json, whose stdout is the json alone', true]
    ])('prints the plan on %s, then asks', async (_name, json) => {
      const { terminal, events } = fakeTerminal({ interactive: true }, ['y'])
      await expect(
        terminalHost(terminal, { ...quiet, json }, noJournal).confirm(plans)
      ).resolves.toBe('confirmed')
      expect(events).toEqual([
        `${json ? 'stderr' : 'stdout'} ${TABLE}\n\n`,
        'ask Write these tags, production included? [y/N] '
      ])
    })

    it('clears the progress line before the plan', async () => {
      const { terminal, events } = fakeTerminal({ live: true, interactive: true }, ['yes'])
      const host = terminalHost(terminal, quiet, noJournal)
      host.progress('restoring')
      await host.confirm(plans)
      expect(events.slice(0, 3)).toEqual([
        `stderr ${CLEAR}restoring`,
        `stderr ${CLEAR}`,
        `stdout ${TABLE}\n\n`
      ])
    })

    it.each([
      ...['y', 'Y', 'yes', 'YES', 'Yes', '  yes \n', 'y\n'].map((answer) => [answer, 'confirmed']),
      ...['', 'n', 'no', 'ye', 'yess', 'yes please', 'sure', '\n'].map((answer) => [
        answer,
        'declined'
      ])
    ])('takes the answer %j as %s', async (answer, accepted) => {
      const { terminal, questions } = fakeTerminal({ interactive: true }, [answer])
      await expect(terminalHost(terminal, quiet, noJournal).confirm(plans)).resolves.toBe(accepted)
      expect(questions).toHaveLength(1)
    })
  })
})

describe('changesTable', () => {
  const changes = [
    change(),
    change({ repository: 'team/worker', tag: 'v1.2.0', from: null, action: 'created', note: 'new' })
  ]
  const plans = [
    plan('api', {
      versions: new Map([
        [a, '1.1.0'],
        [b, '1.2.0']
      ])
    }),
    plan('team/worker')
  ]

  it("aligns the columns and names each image's version from its own repository's plan", () => {
    expect(changesTable(changes, plans, false)).toBe(
      [
        'REPOSITORY   TAG         BEFORE                       AFTER                        ACTION',
        'api          production  sha256:aaaaaaaaaaaa (1.1.0)  sha256:bbbbbbbbbbbb (1.2.0)  moved',
        'team/worker  v1.2.0      —                            sha256:bbbbbbbbbbbb          created: new'
      ].join('\n')
    )
  })

  it('shows a digest without a version where no plan tells it', () => {
    expect(changesTable([change({ from: c, now: null, to: null })], [], false)).toBe(
      [
        'REPOSITORY  TAG         BEFORE               AFTER  ACTION',
        'api         production  sha256:cccccccccccc  —      moved'
      ].join('\n')
    )
  })

  it('colours the actions only when asked, each by what it means, a note outside the colour', () => {
    const rows = [
      change({ action: 'created', note: 'moved on' }),
      change({ action: 'undone', now: a }),
      change({ action: 'failed', now: a }),
      change({ action: 'planned' }),
      change({ action: 'unchanged', now: a })
    ]
    const coloured = changesTable(rows, plans, true)
    const actions = coloured.split('\n').map((line) => line.slice(line.lastIndexOf('  ') + 2))
    expect(actions).toEqual([
      'ACTION',
      '\x1b[32mcreated\x1b[0m: moved on',
      '\x1b[33mundone\x1b[0m',
      '\x1b[31mfailed\x1b[0m',
      '\x1b[36mplanned\x1b[0m',
      'unchanged'
    ])
    expect(plain(coloured)).toBe(changesTable(rows, plans, false))
  })
})

describe('renderResult', () => {
  const status = result({
    title: 'status',
    status: [
      {
        repository: 'api',
        uri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/api',
        pointers: [
          pointerStatus('production', {
            digest: a,
            versions: ['1.2.0'],
            commit: '1a2b3c4',
            pushedAt: new Date('2026-11-19T15:00:00Z'),
            scan: 'COMPLETE: HIGH 1',
            signature: 'cosign signed'
          }),
          pointerStatus('staging'),
          pointerStatus('canary', {
            digest: b,
            versions: ['1.1.0'],
            commit: '1b2c3d4',
            pushedAt: new Date('2026-11-01T09:30:00.250Z'),
            scan: 'NOT SCANNED',
            signature: 'unsigned',
            withdrawn: true
          })
        ],
        withdrawn: [{ version: '1.1.0', tag: 'withdrawn-1.1.0', digest: b }]
      },
      { repository: 'worker', uri: 'u', pointers: [], withdrawn: [] }
    ]
  })

  it('shows each repository’s pointers as a table, to the second, and its withdrawn versions', () => {
    expect(renderResult(status, false)).toBe(
      [
        'status',
        'api         IMAGE                VERSIONS           COMMIT   PUSHED                SCAN              SIGNATURE',
        'production  sha256:aaaaaaaaaaaa  1.2.0              1a2b3c4  2026-11-19T15:00:00Z  COMPLETE: HIGH 1  cosign signed',
        'staging     not set              —                  —        —                     —                 —',
        'canary      sha256:bbbbbbbbbbbb  1.1.0 (withdrawn)  1b2c3d4  2026-11-01T09:30:00Z  NOT SCANNED       unsigned',
        'withdrawn: 1.1.0 (sha256:bbbbbbbbbbbb)',
        'worker  IMAGE  VERSIONS  COMMIT  PUSHED  SCAN  SIGNATURE',
        'withdrawn: none',
        ''
      ].join('\n')
    )
  })

  it('shows the changes of a run that ended well, and no failure', () => {
    const text = renderResult(result({ changes: [change()], plans: [plan('api')] }), false)
    expect(text).toBe(
      [
        'release 1.2.0',
        'REPOSITORY  TAG         BEFORE               AFTER                ACTION',
        'api         production  sha256:aaaaaaaaaaaa  sha256:bbbbbbbbbbbb  moved',
        ''
      ].join('\n')
    )
  })

  it('says why a rollback to previous left production where it is, and which command goes further', () => {
    const stays = { version: v('1.1.0'), withdrawn: v('1.2.0') }
    const plans = [
      plan('api', { pointer: 'production', stays: { ...stays, further: v('1.0.0') } }),
      plan('worker', { pointer: 'production', stays })
    ]
    const why =
      'production stays on 1.1.0, already below 1.2.0, which a rollback withdrew: previous goes back from a withdrawn version once, so running it again changes nothing;'
    expect(renderResult(result({ title: 'rollback to the previous version', plans }), false)).toBe(
      [
        'rollback to the previous version',
        `note: api: ${why} to go further back, name a version: ecr-promote rollback 1.0.0`,
        `note: worker: ${why} no stable version below 1.1.0 is left that is not withdrawn`,
        ''
      ].join('\n')
    )
  })

  it('names every problem of a failure, and says nothing is left changed when the undo worked', () => {
    const text = renderResult(
      result({
        changes: [change({ action: 'undone', now: a })],
        failure: new AggregateError([new Error('ecr:PutImage on api failed'), new Error('boom')])
      }),
      false
    )
    expect(text.slice(text.indexOf('failed:'))).toBe(
      'failed:\n  ecr:PutImage on api failed\n  boom\n'
    )
    expect(text).not.toContain('left changed')
  })

  it('lists what a failed run left changed: tags, deleted images, policies', () => {
    const text = renderResult(
      result({
        changes: [
          change({ action: 'undone', now: a }),
          change({ tag: 'v1.2.0', from: null, action: 'created', now: b })
        ],
        prune: [
          {
            repository: 'api',
            keptMinors: ['1.2'],
            images: [{ digest: c, versions: ['1.0.0'], tags: ['1.0.0'] }],
            kept: [],
            deleted: true,
            error: new Error('throttled')
          }
        ],
        lifecycle: [lifecycleOutcome('api', 'written')],
        failure: new Error('ecr:PutImage on api failed')
      }),
      false
    )
    expect(text.slice(text.indexOf('failed:'))).toBe(
      [
        'failed:',
        '  ecr:PutImage on api failed',
        'left changed (not undone):',
        '  api:v1.2.0 now on sha256:bbbbbbbbbbbb',
        '  api: lifecycle policy written',
        '  api@sha256:cccccccccccc deleted',
        ''
      ].join('\n')
    )
    expect(text).toContain(
      'api: deleted 1 release images (1.0.0); kept minor versions 1.2\napi: lifecycle policy written'
    )
  })

  it('colours the failure and the actions only when asked', () => {
    const outcome = result({
      changes: [change({ action: 'failed', now: a })],
      failure: new Error('boom')
    })
    const coloured = renderResult(outcome, true)
    expect(coloured).toContain('\x1b[31mfailed:\x1b[0m\n  boom\n')
    expect(coloured).toContain('\x1b[31mfailed\x1b[0m')
    expect(plain(coloured)).toBe(renderResult(outcome, false))
  })
})
