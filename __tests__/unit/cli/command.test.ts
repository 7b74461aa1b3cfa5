import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import {
  exitCode,
  FLAGS,
  parseCommand,
  POSITIONAL_INPUTS,
  SUBCOMMANDS,
  type Command,
  type Parsed
} from '../../../src/cli/command.js'
import type { LifecycleOutcome, PruneOutcome } from '../../../src/run/cleanup.js'
import type { Change, RunResult } from '../../../src/report/result.js'
import { EVENTS } from '../../../src/core/trigger.js'
import { change, fakeDigests, lifecycleOutcome, result, rows } from '../../support/builders.js'

/** The command the arguments parse to; fails the test on help or a usage error. */
function commandOf(argv: readonly string[]): Command {
  const parsed = parseCommand(argv)
  if (!('command' in parsed)) throw new Error(`expected a command, got ${JSON.stringify(parsed)}`)
  return parsed.command
}

const ACTION_INPUTS = Object.keys(
  (parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, unknown> }).inputs
)

describe('parseCommand', () => {
  it.each<[string[], string, string]>([
    [['release', 'v1.2.0'], 'release-tag', 'v1.2.0'],
    [['promote', 'staging'], 'environment', 'staging'],
    [['rollback', 'previous'], 'version', 'previous'],
    [['rollback', '1.1.0'], 'version', '1.1.0'],
    [['rollback', '2026-11-19'], 'version', '2026-11-19'],
    [['restore-version', '1.2.0'], 'version', '1.2.0'],
    [['status'], 'no input', ''],
    [['push'], 'no input', ''],
    [['prune'], 'no input', ''],
    [['lifecycle'], 'no input', '']
  ])('%j puts its argument (if any) in %s, and the command in event', (argv, input, value) => {
    const command = commandOf([...argv, '--repository', 'api'])
    expect(command.event).toBe(argv[0])
    expect(command.inputs.get('event')).toBe(argv[0])
    for (const name of ['release-tag', 'environment', 'version'])
      expect(command.inputs.get(name)).toBe(name === input ? value : '')
  })

  it('takes the argument after the flags as well as before', () => {
    const command = commandOf(['--repository', 'api', 'promote', '--sha', '1a2b3c4', 'production'])
    expect(command.inputs.get('environment')).toBe('production')
    expect(command.inputs.get('sha')).toBe('1a2b3c4')
  })

  it('gives a repeated flag as a list, and as lines', () => {
    const { inputs } = commandOf(
      'status --repository a --repository b --ignore-findings CVE-2024-1'.split(' ')
    )
    expect(inputs.list('repository')).toEqual(['a', 'b'])
    expect(inputs.get('repository')).toBe('a\nb')
    expect(inputs.list('ignore-findings')).toEqual(['CVE-2024-1'])
    expect(inputs.list('service')).toEqual([])
  })

  it('keeps only the last of a flag that does not repeat', () => {
    expect(commandOf(['status', '--sha', '1111111', '--sha', '2222222']).inputs.get('sha')).toBe(
      '2222222'
    )
  })

  it.each([
    ...['dry-run', 'require-scan', 'require-tested', 'allow-withdrawn'].flatMap((input) => [
      [input, `--${input}`, 'true'],
      [input, '', '']
    ]),
    ...['dry-run', 'require-scan'].map((input) => [input, `--no-${input}`, 'false'])
  ])('reads %s from %j as %j', (input, flag, value) => {
    const { inputs } = commandOf(['prune', '--repository', 'api', ...(flag ? [flag] : [])])
    expect(inputs.get(input)).toBe(value)
  })

  it.each<[string[], Partial<Command>]>([
    [[], { json: false, yes: false, verbose: false }],
    [['--json'], { json: true }],
    [['--yes'], { yes: true }],
    [['-y'], { yes: true }],
    [['--verbose'], { verbose: true }],
    [['-v'], { verbose: true }],
    [['-vy'], { verbose: true, yes: true }],
    [['--profile', 'prod-admin'], { profile: 'prod-admin' }],
    [['--endpoint-url', 'http://localhost:5000'], { endpointUrl: 'http://localhost:5000' }]
  ])('reads the command line flags %j', (flags, expected) => {
    expect(commandOf(['status', '--repository', 'api', ...flags])).toMatchObject(expected)
  })

  it('leaves profile and endpoint out when not given, and never makes them inputs', () => {
    const command = commandOf(['status', '--profile', 'p', '--endpoint-url', 'http://x'])
    expect(command.inputs.get('profile')).toBe('')
    expect(command.inputs.get('endpoint-url')).toBe('')
    const plain = commandOf(['status'])
    expect('profile' in plain).toBe(false)
    expect('endpointUrl' in plain).toBe(false)
  })

  /** Rows `name | the arguments | the start of the usage error, as a regular expression`. */
  it.each(
    rows(
      "an unknown flag | status --repo api | ^Unknown option '--repo'",
      'a flag for a positional input | promote --environment staging | ^Unknown option',
      'a value on a switch | prune --dry-run=false | --dry-run',
      'a flag without its value | status --repository | --repository',
      "an unknown command | deploy --repository api | ^unknown command 'deploy'",
      'a missing argument | release --repository api | ^release needs <tag>',
      'a missing rollback target | rollback --repository api | ^rollback needs <version\\|previous\\|date>',
      'an extra argument | promote staging production | ^too many arguments for promote',
      'an argument to a command without one | status api | ^too many arguments for status',
      'the argument given twice | rollback 1.1.0 --version 1.2.0 | ^rollback takes <version\\|previous\\|date> once: as its argument, not also as --version',
      'the argument given twice, to restore-version | restore-version 1.1.0 --version 1.1.0 | ^restore-version takes <version> once',
      'a switch and its negation together | prune --dry-run --no-dry-run | ^--dry-run and --no-dry-run contradict each other: give one$',
      'no command | --repository api | ^Usage: ecr-promote <command>',
      'nothing at all |  | ^Usage: ecr-promote <command>'
    )
  )('refuses %s as a usage error', (_name, argv = '', message = '') => {
    const parsed = parseCommand(argv.split(' ').filter(Boolean))
    expect(parsed).toEqual({ usage: expect.stringMatching(new RegExp(message)) })
  })

  it('shows the overview with a usage error that names no command', () => {
    const parsed = parseCommand(['deploy']) as { usage: string }
    for (const name of Object.keys(SUBCOMMANDS)) expect(parsed.usage).toContain(`  ${name}`)
  })

  it('shows the command help with a usage error of a command', () => {
    const parsed = parseCommand(['release']) as { usage: string }
    expect(parsed.usage).toContain('Usage: ecr-promote release <tag> --repository NAME')
    expect(parsed.usage).toContain(SUBCOMMANDS.release?.examples[0])
  })

  it.each([[['--help']], [['-h']], [['--help', '--repository', 'api']]])(
    'gives the overview for %j without a command',
    (argv) => {
      const parsed = parseCommand(argv)
      expect(parsed).toEqual({ help: expect.stringMatching(/^Usage: ecr-promote <command>/) })
      const { help } = parsed as { help: string }
      for (const [name, { summary }] of Object.entries(SUBCOMMANDS)) {
        expect(help).toContain(name)
        expect(help).toContain(summary)
      }
      expect(help).toContain('Exit codes:')
    }
  )

  it.each([[['--version']], [['-V']]])('prints the version of package.json for %j', (argv) => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    expect(parseCommand(argv)).toEqual({ help: `ecr-promote ${version}` })
  })

  it.each(Object.keys(SUBCOMMANDS))(
    'gives the help of %s, with its examples and flags, its argument missing or not; each example names it and parses',
    (name) => {
      const examples = SUBCOMMANDS[name]?.examples ?? []
      expect(examples.length).toBeGreaterThan(0)
      for (const example of examples) {
        const words = example
          .replace(/"\$[A-Z_]+"/g, 'abcdef1')
          .split(' ')
          .slice(1)
        expect([words[0], commandOf(words).event]).toEqual([name, name])
      }
      for (const argv of [
        [name, '--help'],
        ['-h', name]
      ]) {
        const parsed: Parsed = parseCommand(argv)
        expect(parsed).toEqual({
          help: expect.stringMatching(new RegExp(`^Usage: ecr-promote ${name}[ <]`))
        })
        const { help } = parsed as { help: string }
        for (const example of examples) expect(help).toContain(`  ${example}`)
        expect([...help.matchAll(/^ {2}--([a-z-]+)/gm)].map(([, flag]) => flag)).toEqual(
          FLAGS.filter(({ commands }) => commands.includes(name)).map(({ name }) => name)
        )
      }
    }
  )
})

describe('every input of action.yml on the command line', () => {
  it.each(ACTION_INPUTS.filter((name) => !(POSITIONAL_INPUTS as readonly string[]).includes(name)))(
    '--%s sets the input of that name',
    (name) => {
      const valued = parseCommand(['status', `--${name}`, 'x'])
      const reached =
        'command' in valued
          ? valued.command.inputs.get(name) === 'x'
          : commandOf(['status', `--${name}`]).inputs.get(name) === 'true'
      expect(reached).toBe(true)
    }
  )

  it('fills each positional input from the command or its argument, never from a flag', () => {
    expect(ACTION_INPUTS).toEqual(expect.arrayContaining([...POSITIONAL_INPUTS]))
    const filled = new Set([
      'event',
      ...Object.values(SUBCOMMANDS).flatMap(({ argument }) => (argument ? [argument.input] : []))
    ])
    for (const name of POSITIONAL_INPUTS) {
      expect(filled.has(name)).toBe(true)
      expect(parseCommand(['status', `--${name}`, 'x'])).toHaveProperty('usage')
    }
  })

  it('has a command for every event the action takes, and undo (the post step of a terminal), no other', () => {
    expect(Object.keys(SUBCOMMANDS).sort()).toEqual([...EVENTS, 'undo'].sort())
  })
})

describe('exitCode', () => {
  const [from, to, other] = fakeDigests('a', 'b', 'c')
  const failure = new Error('ecr:PutImage on api failed')
  const failed = (extra: Partial<RunResult> = {}) => result({ failure, ...extra })
  const changed = (...changes: Change[]) => failed({ changes })
  const lifecycle = (...actions: LifecycleOutcome['action'][]) =>
    failed({ lifecycle: actions.map((action) => lifecycleOutcome('api', action)) })
  const image = { digest: other, versions: ['1.0.0'], tags: ['1.0.0'] }
  const prune = (outcome: Partial<PruneOutcome>) =>
    failed({
      prune: [
        { repository: 'api', keptMinors: ['1.2'], images: [], kept: [], deleted: true, ...outcome }
      ]
    })
  /** A prune that kept an image which gained a pointer meanwhile, having removed its tags first. */
  const kept = (removed: string[]) =>
    prune({
      kept: [{ ...image, reason: 'it gained production', removed }],
      error: new Error('could not put back 1.0.0')
    })

  const table: [string, RunResult, 0 | 1 | 2 | 3][] = [
    ['a run that ended well', result({ changes: [change({})] }), 0],
    ['a run that ended well, with nothing to do', result({}), 0],
    ['a bad input', failed({ badInput: true }), 2],
    ['a bad input, whatever the rows say', failed({ badInput: true, changes: [change({})] }), 2],
    ['a failure before any write', failed(), 1],
    [
      'a failure whose writes were undone',
      changed(
        change({ action: 'undone', now: from }),
        change({ tag: 'v1.2.0', from: null, action: 'undone', now: null })
      ),
      1
    ],
    ['a failure with a row unchanged', changed(change({ action: 'unchanged' })), 1],
    ['a failure with a write that failed', changed(change({ action: 'failed', now: from })), 1],
    [
      'a failure with a write reported failed that landed, and was not undone',
      changed(change({ action: 'failed', now: to })),
      3
    ],
    [
      'a failure with a row another writer moved on since',
      changed(change({ action: 'moved', now: other })),
      1
    ],
    [
      'a failure with a row created and still there',
      changed(
        change({ action: 'undone', now: from }),
        change({ tag: 'v1.2.0', from: null, action: 'created', now: to })
      ),
      3
    ],
    [
      'a failure with a row moved and still there',
      changed(change({ action: 'moved', now: to })),
      3
    ],
    [
      'a failure after a prune deleted images',
      prune({ images: [image], error: new Error('throttled') }),
      3
    ],
    ['a failure after a prune that only planned', prune({ images: [image], deleted: false }), 1],
    ['a failure after a prune kept an image and put back every tag it removed', kept([]), 1],
    ['a failure after a prune kept an image and could not put back a tag', kept(['1.0.0']), 3],
    ['a failure after a lifecycle policy was written', lifecycle('written'), 3],
    ['a failure with a lifecycle policy not written', lifecycle('failed', 'would write'), 1]
  ]

  it.each(table.map(([name, result, code]) => [name, code, result] as const))(
    '%s: exit %d',
    (_name, code, result) => {
      expect(exitCode(result)).toBe(code)
    }
  )
})
