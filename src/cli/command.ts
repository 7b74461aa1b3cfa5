import { messageOf } from '../core/model.js'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { InputSource } from '../core/inputs.js'
import { leftChanged, type RunResult } from '../report/result.js'
import { VERSION } from '../report/version.js'
import flagTable from './flags.json' with { type: 'json' }

/**
 * The command line's words for the action's inputs: each subcommand is an `event`, its argument an
 * input, and every other input a flag of the same name. What the flags become is an InputSource, so
 * the inputs are read, defaulted and checked by the very code the action uses.
 */
interface Subcommand {
  /** The input the positional argument fills, if the subcommand takes one. */
  readonly argument?: { readonly input: string; readonly name: string }
  readonly summary: string
  readonly examples: readonly string[]
}

export const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  status: {
    summary: 'Show where every pointer is, what is on its image, and the withdrawn versions.',
    examples: ['ecr-promote status --repository api --repository worker']
  },
  push: {
    summary:
      'Tag a build on the default branch (latest, edge); on another branch, check that its build image exists.',
    examples: ['ecr-promote push --repository api --branch main --sha "$CI_COMMIT_SHA"']
  },
  release: {
    argument: { input: 'release-tag', name: '<tag>' },
    summary: 'Tag a release version on the build image and move its pointers forward.',
    examples: ['ecr-promote release v1.2.0 --repository api --sha "$CI_COMMIT_SHA"']
  },
  promote: {
    argument: { input: 'environment', name: '<environment>' },
    summary: 'Point an environment (staging, canary, production) at a build or a version.',
    examples: [
      'ecr-promote promote staging --repository api --sha 1a2b3c4',
      'ecr-promote promote production --repository api --version 1.2.0 --source v1.2.0'
    ]
  },
  rollback: {
    argument: { input: 'version', name: '<version|previous|date>' },
    summary:
      'Re-point production to an earlier version, to the one before it, or to where it was at a moment.',
    examples: [
      'ecr-promote rollback previous --repository api --profile prod-admin',
      'ecr-promote rollback 1.1.0 --repository api --repository worker --yes',
      'ecr-promote rollback 2026-11-19 --repository api'
    ]
  },
  prune: {
    summary:
      'List (default) or, with --no-dry-run, delete release images outside the minor versions kept.',
    examples: [
      'ecr-promote prune --repository api',
      'ecr-promote prune --repository api --no-dry-run'
    ]
  },
  lifecycle: {
    summary:
      "Check (--lifecycle check) or write (--lifecycle apply) each repository's lifecycle policy.",
    examples: ['ecr-promote lifecycle --lifecycle check --repository api']
  },
  'restore-version': {
    argument: { input: 'version', name: '<version>' },
    summary:
      'Take the withdrawn mark off a version, so releases and rollbacks may move to it again.',
    examples: ['ecr-promote restore-version 1.2.0 --repository api']
  },
  undo: {
    argument: { input: 'journal', name: '<journal>' },
    summary:
      'Put back what a cancelled run left written, from the journal it named (never over another writer).',
    examples: ['ecr-promote undo /tmp/ecr-promote-journal-1765072800000-4242.jsonl']
  }
}

/** One row per flag: its argument, what it does, and the commands that use it (their help lists it). */
interface Flag {
  readonly name: string
  /** The value it takes (`NAME`); none for a switch. */
  readonly argument?: string
  /** An input of the action, of the same name; the others are the command line's own. */
  readonly input?: boolean
  readonly repeat?: boolean
  /** `--no-<name>` gives false, where the default is not false. */
  readonly negatable?: boolean
  readonly short?: string
  readonly commands: readonly string[]
  readonly description: string
}

/** The flags, one table: the parser, each command's help and docs/command-line.md (npm run docs). */
export const FLAGS: readonly Flag[] = flagTable
const INPUT_FLAGS = FLAGS.filter((flag) => flag.input)
type Option = NonNullable<ParseArgsConfig['options']>[string]
/** The inputs a subcommand or its argument stand for, never flags. */
export const POSITIONAL_INPUTS = ['event', 'release-tag', 'environment'] as const

const OPTIONS: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(
  FLAGS.flatMap(({ name, argument, repeat, negatable, short }): [string, Option][] => [
    [
      name,
      {
        type: argument ? 'string' : 'boolean',
        ...(repeat && { multiple: true }),
        ...(short && { short })
      }
    ],
    ...(negatable ? [[`no-${name}`, { type: 'boolean' }] satisfies [string, Option]] : [])
  ])
)

export interface Command {
  readonly event: string
  readonly inputs: InputSource
  /** Print the `json` output instead of the human summary. */
  readonly json: boolean
  /** Write a production pointer without asking. */
  readonly yes: boolean
  readonly verbose: boolean
  readonly profile?: string
  readonly endpointUrl?: string
}

/** What the arguments ask for: a run, a text to print (a help, the version), or a usage error (exit code 2). */
export type Parsed =
  { readonly command: Command } | { readonly help: string } | { readonly usage: string }

export function parseCommand(argv: readonly string[]): Parsed {
  // Before any command only: after one, `--version` is the version input.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V'))
    return { help: `ecr-promote ${VERSION}` }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    return { usage: `${messageOf(error)}\n\n${overview()}` }
  }
  const { values, positionals } = parsed
  const [name, argument, ...extra] = positionals
  if (name === undefined) return values.help ? { help: overview() } : { usage: overview() }
  const subcommand = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined
  if (!subcommand) return { usage: `unknown command '${name}'\n\n${overview()}` }
  if (values.help) return { help: helpOf(name, subcommand) }
  const wanted = subcommand.argument
  if (extra.length > 0 || (argument !== undefined && !wanted))
    return { usage: `too many arguments for ${name}\n\n${helpOf(name, subcommand)}` }
  if (wanted && argument === undefined)
    return { usage: `${name} needs ${wanted.name}\n\n${helpOf(name, subcommand)}` }
  if (wanted && values[wanted.input] !== undefined)
    return {
      usage: `${name} takes ${wanted.name} once: as its argument, not also as --${wanted.input}`
    }
  const both = FLAGS.find(({ name }) => values[name] && values[`no-${name}`])?.name
  if (both) return { usage: `--${both} and --no-${both} contradict each other: give one` }
  const given: Record<string, string | string[]> = { event: name }
  if (wanted && argument !== undefined) given[wanted.input] = argument
  for (const { name: input, argument } of INPUT_FLAGS) {
    const value = values[input]
    if (argument && value !== undefined) given[input] = value as string | string[]
    else if (value) given[input] = 'true'
    else if (values[`no-${input}`]) given[input] = 'false'
  }
  const text = (input: string) => {
    const value = given[input]
    return Array.isArray(value) ? value.join('\n') : (value ?? '')
  }
  return {
    command: {
      event: name,
      inputs: {
        get: text,
        list: (input) =>
          text(input)
            .split('\n')
            .map((line) => line.trim())
            .filter(Boolean)
      },
      json: values.json === true,
      yes: values.yes === true,
      verbose: values.verbose === true,
      ...(typeof values.profile === 'string' && { profile: values.profile }),
      ...(typeof values['endpoint-url'] === 'string' && { endpointUrl: values['endpoint-url'] })
    }
  }
}

/**
 * 0 done; 1 refused or failed with nothing left changed; 2 bad usage (an input, the convention);
 * 3 failed with a change the run could not undo.
 */
export function exitCode(result: RunResult): 0 | 1 | 2 | 3 {
  if (result.failure === undefined) return 0
  if (result.badInput) return 2
  return leftChanged(result).length > 0 ? 3 : 1
}

/** How a flag reads in a help: `--repository NAME`, `--dry-run, --no-dry-run`, `--yes, -y`. */
export const flagLabel = ({ name, argument, negatable, short }: Flag): string =>
  `--${name}${argument ? ` ${argument}` : ''}${negatable ? `, --no-${name}` : ''}${short ? `, -${short}` : ''}`

function overview(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((name) => name.length))
  const commands = Object.entries(SUBCOMMANDS).map(
    ([name, { argument, summary }]) =>
      `  ${`${name}${argument ? ` ${argument.name}` : ''}`.padEnd(width + 26)}${summary}`
  )
  return `Usage: ecr-promote <command> [argument] --repository NAME [flags]

Tag, promote and roll back Amazon ECR images by a tagging convention, digest-exact.

Commands:
${commands.join('\n')}

Run ecr-promote <command> --help for its flags (the action's inputs, same names, defaults and
checks) and examples; ecr-promote --version (-V) prints the version of ecr-promote.

Exit codes: 0 done; 1 refused or failed, nothing left changed; 2 bad usage; 3 failed, and some
change could not be undone (listed).`
}

function helpOf(name: string, { argument, summary, examples }: Subcommand): string {
  const flags = FLAGS.filter(({ commands }) => commands.includes(name))
  const width = Math.max(...flags.map((flag) => flagLabel(flag).length)) + 2
  return `Usage: ecr-promote ${name}${argument ? ` ${argument.name}` : ''}${name === 'undo' ? '' : ' --repository NAME'} [flags]

${summary}

Examples:
${examples.map((example) => `  ${example}`).join('\n')}

Flags:
${flags.map((flag) => `  ${flagLabel(flag).padEnd(width)}${flag.description}`).join('\n')}`
}
