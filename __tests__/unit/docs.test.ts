import { readdirSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, normalize } from 'node:path'
import { parse, stringify } from 'yaml'
import { lifecycleIntent } from '../../src/run/cleanup.js'
import { parseCommand } from '../../src/cli/command.js'
import { parseConvention } from '../../src/core/convention-file.js'
import { BUILT_IN_CONVENTIONS, builtInConvention } from '../../src/core/conventions.js'
import { messageOf } from '../../src/core/model.js'
import { withActionDocs, withFlagDocs } from '../../scripts/docs.mjs'

/**
 * The documentation's workflows, policies, conventions, commands and links, checked against
 * action.yml, the code and each other, so that what users copy keeps working when either side
 * changes. Every check runs over every page of DOCS.
 */

const ACTION = 'ecr-promote/ecr-promote@'
const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  'SECURITY.md',
  'CHANGELOG.md',
  'BENCHMARKS.md',
  ...readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`)
]

interface Step {
  readonly id?: string
  readonly uses?: string
  readonly with?: Record<string, unknown>
}

interface Workflow {
  readonly concurrency?: unknown
  readonly jobs: Record<string, { readonly concurrency?: unknown; readonly steps?: Step[] }>
}

interface Statement {
  readonly Sid?: string
  readonly Principal?: unknown
  readonly Action: string | string[]
  readonly Resource?: string | string[]
  readonly Condition?: Record<string, Record<string, unknown>>
}

interface Policy {
  readonly Statement: Statement[]
}

interface Block {
  /** The file and line the block starts on. */
  readonly where: string
  readonly body: string
}

const texts = new Map<string, Promise<string>>()
function read(file: string): Promise<string> {
  let text = texts.get(file)
  if (!text) texts.set(file, (text = readFile(file, 'utf8')))
  return text
}

/** The fenced blocks of one language in every page. */
async function docBlocks(language: string): Promise<Block[]> {
  const fence = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```', 'gm')
  const all = await Promise.all(
    DOCS.map(async (file) => {
      const text = await read(file)
      return [...text.matchAll(fence)].map((match) => ({
        where: `${file}:${text.slice(0, match.index).split('\n').length}`,
        body: match[1] ?? ''
      }))
    })
  )
  return all.flat()
}

/** Every block of one language, parsed; one that does not parse fails the test, named. */
async function documents(language: 'yaml' | 'json'): Promise<(Block & { document: unknown })[]> {
  const parser = (text: string): unknown => (language === 'yaml' ? parse(text) : JSON.parse(text))
  return (await docBlocks(language)).map((block) => {
    try {
      return { ...block, document: parser(block.body) }
    } catch (error) {
      throw new Error(`${block.where}: ${messageOf(error)}`, { cause: error })
    }
  })
}

async function actionYml(): Promise<{ inputs: string[]; outputs: string[] }> {
  const action = parse(await read('action.yml')) as {
    inputs: Record<string, unknown>
    outputs: Record<string, unknown>
  }
  return { inputs: Object.keys(action.inputs), outputs: Object.keys(action.outputs) }
}

/** The IAM action each call of src/ecr/registry.ts names for a denial (`this.call('DescribeRepositories', …)` → `ecr:DescribeRepositories`). */
async function ecrActionsTheCodeCalls(): Promise<string[]> {
  const source = await read('src/ecr/registry.ts')
  const names = [...source.matchAll(/\b(?:call|explain)\((?:\s*\w+,)?\s*'(\w+)'/g)].map(
    ([, name]) => `ecr:${name}`
  )
  return [...new Set(names)].sort()
}

const actionsOf = (statement: Statement): string[] => [statement.Action].flat()
const policyActions = (policy: Policy): string[] => policy.Statement.flatMap(actionsOf)

const isPolicy = (document: unknown): document is Policy =>
  typeof document === 'object' &&
  document !== null &&
  Array.isArray((document as Partial<Policy>).Statement)

/** An action by its major tag, or pinned by commit SHA with its version in a comment. */
const PINNED_OR_MAJOR = /^[\w.-]+\/[\w./-]+@(v\d+|[0-9a-f]{40} # v\d+\.\d+\.\d+)$/

const PUSH_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
  'ecr:BatchGetImage'
]

/** What only a copy into another registry calls: the target's uploads, the source's download URLs. */
const COPY_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:CompleteLayerUpload',
  'ecr:GetDownloadUrlForLayer',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart'
]

/** Every documented statement that grants ECR actions, with where it is. */
async function ecrStatements(): Promise<{ where: string; statement: Statement }[]> {
  return (await documents('json')).flatMap(({ where, document }) =>
    isPolicy(document)
      ? document.Statement.filter((statement) =>
          actionsOf(statement).some((action) => action.startsWith('ecr:'))
        ).map((statement) => ({ where, statement }))
      : []
  )
}

/** The sorted ECR actions of the statements named, wherever the docs show them. */
async function actionsOfSids(...sids: string[]): Promise<string[]> {
  const named = (await ecrStatements()).filter(({ statement }) =>
    sids.includes(statement.Sid ?? '')
  )
  expect([...new Set(named.map(({ statement }) => statement.Sid))].sort()).toEqual([...sids].sort())
  return [...new Set(named.flatMap(({ statement }) => actionsOf(statement)))].sort()
}

/** Expects `actual` to be `expected`, naming where in the docs a difference is. */
const expectAt = (where: object, actual: object, expected: object) =>
  expect({ ...where, ...actual }).toEqual({ ...where, ...expected })

/** What each `uses:` line of a text names, comment included. */
const usesLines = (text: string): string[] =>
  text
    .split('\n')
    .filter((line) => /^\s*-?\s*uses:/.test(line))
    .map((line) => line.replace(/^\s*-?\s*uses:\s*/, ''))

describe('documented workflows', () => {
  it('passes only inputs of action.yml, and reads only outputs it has', async () => {
    const { inputs, outputs } = await actionYml()
    let steps = 0
    for (const { where, body, document } of await documents('yaml')) {
      const jobs = isWorkflow(document) ? Object.values(document.jobs) : []
      // A list of steps on its own (such as the pinning example) is checked like a job's steps.
      const lists = Array.isArray(document)
        ? [document as Step[]]
        : jobs.map((job) => job.steps ?? [])
      for (const list of lists) {
        const ours = list.filter((step) => step.uses?.startsWith(ACTION))
        for (const step of ours) {
          steps++
          const unknown = Object.keys(step.with ?? {}).filter((k) => !inputs.includes(k))
          expectAt({ where }, { unknown }, { unknown: [] })
        }
        const ids = new Set(ours.map((step) => step.id).filter(Boolean))
        for (const [, id, output] of body.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
          if (!ids.has(id)) continue
          expectAt({ where, output }, { known: outputs.includes(output ?? '') }, { known: true })
        }
      }
    }
    expect(steps).toBeGreaterThanOrEqual(5)
  })

  it('gives every workflow that writes with ecr-promote a concurrency group per repository that queues', async () => {
    // `event: status` only reads, so it needs no queue.
    const writes = (step: Step) => step.uses?.startsWith(ACTION) && step.with?.event !== 'status'
    for (const { where, document } of await documents('yaml')) {
      if (!isWorkflow(document)) continue
      for (const [name, job] of Object.entries(document.jobs)) {
        if (!(job.steps ?? []).some(writes)) continue
        const concurrency = (job.concurrency ?? document.concurrency) as
          { group?: string; 'cancel-in-progress'?: boolean } | undefined
        const queues = {
          group: expect.stringMatching(/^ecr-promote-/),
          'cancel-in-progress': false
        }
        expectAt({ where, name }, { concurrency }, { concurrency: queues })
      }
    }
  })

  it('checks the repository out wherever a convention file is read', async () => {
    for (const { where, document } of await documents('yaml')) {
      if (!isWorkflow(document)) continue
      for (const job of Object.values(document.jobs)) {
        const steps = job.steps ?? []
        const reader = steps.findIndex(
          (step) =>
            step.uses?.startsWith(ACTION) &&
            /[./]/.test(String(step.with?.convention ?? 'environments'))
        )
        if (reader < 0) continue
        const checkout = steps.findIndex((step) => step.uses?.startsWith('actions/checkout@'))
        const checkoutFirst = checkout >= 0 && checkout < reader
        expectAt({ where }, { checkoutFirst }, { checkoutFirst: true })
      }
    }
  })

  it('uses every action by its major tag, or pinned by commit SHA with its version in a comment', async () => {
    const uses = (await docBlocks('yaml')).flatMap(({ where, body }) =>
      usesLines(body).map((use) => ({ where, use }))
    )
    expect(uses.filter(({ use }) => /@[0-9a-f]{40} /.test(use)).length).toBeGreaterThan(0)
    for (const { where, use } of uses) {
      expectAt({ where }, { use }, { use: expect.stringMatching(PINNED_OR_MAJOR) })
    }
  })
})

describe('documented conventions', () => {
  /** A yaml block whose every key is a field of a convention: a whole convention, or a part of one. */
  async function conventionBlocks(): Promise<(Block & { document: Record<string, unknown> })[]> {
    const schema = JSON.parse(await read('convention.schema.json')) as {
      properties: Record<string, unknown>
    }
    const fields = Object.keys(schema.properties).filter((field) => field !== 'name')
    return (await documents('yaml')).flatMap((block) => {
      const { document } = block
      if (typeof document !== 'object' || document === null || Array.isArray(document)) return []
      const keys = Object.keys(document).filter((key) => key !== 'name')
      if (keys.length === 0 || !keys.every((key) => fields.includes(key))) return []
      return [{ ...block, document: document as Record<string, unknown> }]
    })
  }

  it('loads every convention example; a part of one loads in place of the built-in environments', async () => {
    const examples = await conventionBlocks()
    expect(examples.some(({ document }) => 'build-tag' in document)).toBe(true)
    expect(examples.some(({ document }) => !('build-tag' in document))).toBe(true)
    for (const { where, body, document } of examples) {
      const text =
        'build-tag' in document
          ? body
          : stringify({ ...BUILT_IN_CONVENTIONS.environments, ...document })
      expect(() => parseConvention(text, where)).not.toThrow()
    }
  })

  it('shows exactly the lifecycle policies the built-in conventions render', async () => {
    const shown = (await documents('json'))
      .filter(
        ({ document }) => typeof document === 'object' && document !== null && 'rules' in document
      )
      .map(({ document }) => document)
    const rendered = Object.keys(BUILT_IN_CONVENTIONS).map(
      (name) => lifecycleIntent(builtInConvention(name), 'check').policy
    )
    expect(shown).toEqual(rendered)
  })
})

describe('documented commands', () => {
  it('lists exactly the flags of src/cli/flags.json, which every --help shows (npm run docs regenerates them)', async () => {
    const page = await read('docs/command-line.md')
    expect(page).toBe(withFlagDocs(page, await read('src/cli/flags.json')))
  })

  /** `ecr-promote …` in a console block (after `$ `), or run by npx from a CI's yaml. */
  async function commandLines(): Promise<{ where: string; args: string[] }[]> {
    const blocksOf = [...(await docBlocks('console')), ...(await docBlocks('yaml'))]
    return blocksOf.flatMap(({ where, body }) =>
      body.split('\n').flatMap((line) => {
        const match =
          /^\$ (?:npx )?ecr-promote(?: (.*))?$/.exec(line) ??
          /npx --yes ecr-promote@\S+ (.*)$/.exec(line)
        return match ? [{ where, args: words(match[1] ?? '') }] : []
      })
    )
  }

  it('gives commands and flags the command line has', async () => {
    const lines = await commandLines()
    expect(lines.length).toBeGreaterThanOrEqual(5)
    for (const { where, args } of lines) {
      const parsed = parseCommand(args)
      const usage = 'usage' in parsed ? parsed.usage : undefined
      expectAt({ where, args }, { usage }, { usage: undefined })
    }
  })
})

describe('documented IAM policies', () => {
  it('grants exactly the ECR actions src/ecr/registry.ts calls, in place and across accounts', async () => {
    const called = await ecrActionsTheCodeCalls()
    expect(called).toEqual(expect.arrayContaining([...COPY_ACTIONS, 'ecr:PutImage']))
    const inPlace = called.filter((action) => !COPY_ACTIONS.includes(action))
    const tags = ['EcrPromote', 'EcrPromoteLifecycle', 'EcrPromoteGates']
    expect(await actionsOfSids(...tags)).toEqual(inPlace)
    const [sides, source, target] = await Promise.all([
      actionsOfSids('EcrPromoteSource', 'EcrPromoteTarget', ...tags.slice(1)),
      actionsOfSids('EcrPromoteSource'),
      actionsOfSids('EcrPromoteTarget')
    ])
    expect(sides).toEqual(called)
    // The source is only read (gates and restores aside); the target moves tags as in place.
    expect(source).not.toContain('ecr:PutImage')
    expect(target).toEqual(expect.arrayContaining(await actionsOfSids('EcrPromote')))
    // A target repository's policy grants the run's role what the target role would have.
    const granted = (await ecrStatements()).filter(({ statement }) => statement.Principal)
    expect(granted.length).toBeGreaterThan(0)
    for (const { where, statement } of granted) {
      const actions = actionsOf(statement).sort()
      expectAt({ where }, { actions }, { actions: target })
    }
  })

  it('gives the build role the push actions, and ecr:GetAuthorizationToken on *', async () => {
    const build = (await documents('json'))
      .map(({ document }) => document)
      .filter(isPolicy)
      .filter((policy) => policyActions(policy).includes('ecr:GetAuthorizationToken'))
    expect(build.length).toBeGreaterThan(0)
    for (const policy of build) {
      expect(policyActions(policy)).toEqual(expect.arrayContaining(PUSH_ACTIONS))
      const login = policy.Statement.filter((s) =>
        actionsOf(s).includes('ecr:GetAuthorizationToken')
      )
      expect(login.map((s) => s.Resource)).toEqual(['*'])
    }
  })

  it('shows an OIDC trust policy with aud and sub conditions', async () => {
    const trust = (await documents('json'))
      .map(({ document }) => document)
      .filter(isPolicy)
      .filter((policy) => policyActions(policy).includes('sts:AssumeRoleWithWebIdentity'))
    expect(trust.length).toBeGreaterThan(0)
    for (const policy of trust) {
      const conditions = policy.Statement.map((s) => s.Condition?.StringEquals ?? {})
      for (const condition of conditions) {
        expect(condition['token.actions.githubusercontent.com:aud']).toBe('sts.amazonaws.com')
        const sub = [condition['token.actions.githubusercontent.com:sub']].flat()
        expect(sub.length).toBeGreaterThan(0)
        for (const value of sub) expect(value).toMatch(/^repo:[^:*]+\/[^:*]+:[^*]+$/)
      }
    }
  })
})

describe('documented links', () => {
  it('leads every relative link to a file, and every anchor to a heading in it', async () => {
    let links = 0
    for (const file of DOCS) {
      const text = withoutCode(await read(file))
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (!target || /^[a-z]+:/.test(target)) continue
        const [path = '', anchor] = target.split('#')
        const linked = path === '' ? file : normalize(join(dirname(file), path))
        const exists = await read(linked).then(
          () => true,
          () => false
        )
        links++
        expectAt({ file, target }, { exists }, { exists: true })
        if (!anchor || !linked.endsWith('.md')) continue
        const found = anchors(await read(linked))
        expectAt({ file, target }, { found }, { found: expect.arrayContaining([anchor]) })
      }
    }
    expect(links).toBeGreaterThan(20)
  })
})

describe('release workflow', () => {
  it('parses, runs on published releases, and pins every action by commit SHA, its version in a comment', async () => {
    const text = await read('.github/workflows/release.yml')
    const workflow = parse(text) as Workflow & { on: { release?: { types?: string[] } } }
    expect(workflow.on.release?.types).toEqual(['published'])
    const lines = usesLines(text)
    expect(lines.length).toBeGreaterThan(0)
    for (const use of lines)
      expect(use).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/)
  })
})

describe('README', () => {
  it('documents exactly the inputs and outputs of action.yml (npm run docs regenerates them)', async () => {
    const readme = await read('README.md')
    expect(readme).toBe(withActionDocs(readme, await read('action.yml')))
  })

  it('gives the demo, and the test command that .ci/run runs', async () => {
    const readme = await read('README.md')
    expect(readme).toContain('npm ci && npm run demo')
    expect(readme).toContain('npm ci && npm test')
    expect(await read('.ci/run')).toMatch(/^npm test$/m)
  })

  it('links to every page of docs/', async () => {
    const [readme, pages] = await Promise.all([read('README.md'), readdir('docs')])
    const markdown = pages.filter((page) => page.endsWith('.md'))
    expect(markdown.length).toBeGreaterThan(0)
    for (const page of markdown) expect(readme).toContain(`](docs/${page})`)
  })

  it('is a front page: at most 450 lines', async () => {
    expect((await read('README.md')).split('\n').length - 1).toBeLessThanOrEqual(450)
  })
})

function isWorkflow(document: unknown): document is Workflow {
  return typeof document === 'object' && document !== null && 'jobs' in document
}

/** A command line's words, as a shell splits them (quotes removed; variables left as written). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map(
    ([, double, single, bare]) => double ?? single ?? bare ?? ''
  )
}

const withoutFences = (text: string): string => text.replace(/^```[\s\S]*?^```/gm, '')

/** A markdown text without its fenced blocks and code spans, where `](…)` is not a link. */
const withoutCode = (text: string): string => withoutFences(text).replace(/`[^`]*`/g, '')

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as `-`. */
function anchors(text: string): string[] {
  const seen = new Map<string, number>()
  return [...withoutFences(text).matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) => {
    const slug = (heading ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    return count === 0 ? slug : `${slug}-${count}`
  })
}
