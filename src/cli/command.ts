import { messageOf } from '../core/model.js'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { InputSource } from '../core/inputs.js'
import { leftChanged, type RunResult } from '../report/result.js'

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

/** Inputs taken as `--name value`; `repository` and `ignore-findings` may repeat. */
const VALUE_INPUTS = [
  'repository',
  'registry-id',
  'region',
  'convention',
  'branch',
  'version',
  'source',
  'sha',
  'service',
  'wait-for-source',
  'max-writes-per-second',
  'lifecycle',
  'keep-minor-versions',
  'prune-older-than',
  'fail-on-severity',
  'ignore-findings',
  'require-signature',
  'restore-timeout',
  'deployments',
  'github-token'
] as const
/** Inputs that are true or false: `--name` is true; `--no-name`, where the default is not false, is false. */
const SWITCH_INPUTS = ['dry-run', 'require-scan', 'require-tested', 'allow-withdrawn'] as const
const NEGATED = ['dry-run', 'require-scan'] as const
const REPEATED: readonly string[] = ['repository', 'ignore-findings']
/** The inputs a subcommand or its argument stand for, never flags. */
export const POSITIONAL_INPUTS = ['event', 'release-tag', 'environment'] as const

/** Flags of the command line alone, not inputs of the action. */
const OWN_OPTIONS = {
  json: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  profile: { type: 'string' },
  'endpoint-url': { type: 'string' }
} as const satisfies ParseArgsConfig['options']

const OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  ...Object.fromEntries(
    VALUE_INPUTS.map((name) => [name, { type: 'string', multiple: REPEATED.includes(name) }])
  ),
  ...Object.fromEntries(SWITCH_INPUTS.map((name) => [name, { type: 'boolean' }])),
  ...Object.fromEntries(NEGATED.map((name) => [`no-${name}`, { type: 'boolean' }])),
  ...OWN_OPTIONS
}

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

/** What the arguments ask for: a run, a help text, or a usage error (exit code 2). */
export type Parsed =
  { readonly command: Command } | { readonly help: string } | { readonly usage: string }

export function parseCommand(argv: readonly string[]): Parsed {
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
  const both = NEGATED.find((input) => values[input] && values[`no-${input}`])
  if (both) return { usage: `--${both} and --no-${both} contradict each other: give one` }
  const given: Record<string, string | string[]> = { event: name }
  if (wanted && argument !== undefined) given[wanted.input] = argument
  for (const input of VALUE_INPUTS) {
    const value = values[input]
    if (value !== undefined) given[input] = value as string | string[]
  }
  for (const input of SWITCH_INPUTS) if (values[input]) given[input] = 'true'
  for (const input of NEGATED) if (values[`no-${input}`]) given[input] = 'false'
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

const FLAGS_HELP = `Flags (the action's inputs, same names, defaults and checks):
  --repository NAME        ECR repository or image URI; repeat for several (required)
  --convention NAME|FILE   environments (default), channels, or a convention file
  --sha SHA                commit of the build image (default $GITHUB_SHA, $CI_COMMIT_SHA, $CIRCLE_SHA1, $BUILDKITE_COMMIT or $GIT_COMMIT)
  --branch NAME            branch of a push (default the CI's branch variable)
  --source TAG|DIGEST      image to start from instead of the build tag
  --version VERSION        the version a promotion promotes
  --region REGION          AWS region (default the AWS chain: $AWS_REGION, the profile)
  --registry-id ID         registry account id
  --dry-run, --no-dry-run  plan only / write (prune plans only unless --no-dry-run)
  --wait-for-source 10m, --max-writes-per-second 10, --restore-timeout 15m
  --fail-on-severity HIGH, --require-scan, --no-require-scan, --ignore-findings CVE-…
  --require-signature managed|cosign, --require-tested, --allow-withdrawn
  --lifecycle check|apply, --keep-minor-versions N, --prune-older-than DAYS
  --deployments on, --github-token TOKEN (default $GITHUB_TOKEN), --service NAME
Command line:
  --profile NAME           AWS profile (SSO included); credentials come from the standard AWS chain
  --endpoint-url URL       ECR endpoint (tests, private endpoints)
  --yes, -y                write production pointers without asking
  --json                   print the action's json output
  --verbose, -v            print the run's log
  --help, -h               this help, or a command's`

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

${FLAGS_HELP}

Exit codes: 0 done; 1 refused or failed, nothing left changed; 2 bad usage; 3 failed, and some
change could not be undone (listed). Run ecr-promote <command> --help for examples.`
}

function helpOf(name: string, { argument, summary, examples }: Subcommand): string {
  return `Usage: ecr-promote ${name}${argument ? ` ${argument.name}` : ''} --repository NAME [flags]

${summary}

Examples:
${examples.map((example) => `  ${example}`).join('\n')}

${FLAGS_HELP}`
}
