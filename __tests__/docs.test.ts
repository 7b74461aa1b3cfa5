import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'

/**
 * The documentation's workflows, policies and the release workflow, checked against action.yml and
 * the ECR calls the code makes, so that what users copy keeps working when either side changes.
 */

const ACTION = 'ecr-promote/ecr-promote@'
const DOCS = ['README.md', 'CONTRIBUTING.md']

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
  readonly Action: string | string[]
  readonly Resource?: string | string[]
  readonly Condition?: Record<string, Record<string, unknown>>
}

interface Policy {
  readonly Statement: Statement[]
}

/** The fenced blocks of one language, with the file and line they start on. */
function blocks(text: string, file: string, language: string): { where: string; body: string }[] {
  const found: { where: string; body: string }[] = []
  const fence = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```', 'gm')
  for (const match of text.matchAll(fence)) {
    const line = text.slice(0, match.index).split('\n').length
    found.push({ where: `${file}:${line}`, body: match[1] ?? '' })
  }
  return found
}

async function docBlocks(language: string) {
  const texts = await Promise.all(DOCS.map((file) => readFile(file, 'utf8')))
  return texts.flatMap((text, i) => blocks(text, DOCS[i] ?? '', language))
}

async function actionYml(): Promise<{ inputs: string[]; outputs: string[] }> {
  const action = parse(await readFile('action.yml', 'utf8')) as {
    inputs: Record<string, unknown>
    outputs: Record<string, unknown>
  }
  return { inputs: Object.keys(action.inputs), outputs: Object.keys(action.outputs) }
}

/** `DescribeRepositoriesCommand` imported from the SDK in src/ecr/registry.ts → `ecr:DescribeRepositories`. */
async function ecrActionsTheCodeCalls(): Promise<string[]> {
  const source = await readFile('src/ecr/registry.ts', 'utf8')
  const imports = /import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-ecr'/.exec(source)?.[1] ?? ''
  return imports
    .split(',')
    .map((name) => name.trim().replace(/^type\s+/, ''))
    .filter((name) => /^[A-Z]\w*Command$/.test(name))
    .map((name) => `ecr:${name.slice(0, -'Command'.length)}`)
    .sort()
}

const actionsOf = (policy: Policy): string[] =>
  policy.Statement.flatMap((statement) =>
    Array.isArray(statement.Action) ? statement.Action : [statement.Action]
  )

const PUSH_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
  'ecr:BatchGetImage'
]

/** A role's ECR permissions policy (not a trust policy): the build role's uploads layers. */
async function policies(): Promise<
  { where: string; kind: 'build' | 'promotion'; policy: Policy }[]
> {
  const readme = await readFile('README.md', 'utf8')
  return blocks(readme, 'README.md', 'json').flatMap(({ where, body }) => {
    const policy = JSON.parse(body) as Partial<Policy>
    if (!Array.isArray(policy.Statement)) return []
    const actions = actionsOf(policy as Policy)
    if (!actions.some((action) => action.startsWith('ecr:'))) return []
    const kind = actions.includes('ecr:InitiateLayerUpload') ? 'build' : 'promotion'
    return [{ where, kind, policy: policy as Policy }]
  })
}

describe('documented workflows', () => {
  it('parses every yaml block, and there are workflows that use ecr-promote', async () => {
    const yamlBlocks = await docBlocks('yaml')
    expect(yamlBlocks.length).toBeGreaterThan(0)
    for (const { where, body } of yamlBlocks) {
      expect(() => parse(body)).not.toThrow()
      expect(where).toBeTruthy()
    }
    const workflows = yamlBlocks.filter(({ body }) => /^jobs:/m.test(body))
    expect(workflows.length).toBeGreaterThanOrEqual(5)
  })

  it('passes only inputs of action.yml, and reads only outputs it has', async () => {
    const { inputs, outputs } = await actionYml()
    let steps = 0
    for (const { where, body } of await docBlocks('yaml')) {
      const document = parse(body) as unknown
      const jobs = isWorkflow(document) ? Object.values(document.jobs) : []
      // A list of steps on its own (such as the pinning example) is checked like a job's steps.
      const lists = Array.isArray(document)
        ? [document as Step[]]
        : jobs.map((job) => job.steps ?? [])
      for (const list of lists) {
        const ours = list.filter((step) => step.uses?.startsWith(ACTION))
        for (const step of ours) {
          steps++
          expect({
            where,
            unknown: Object.keys(step.with ?? {}).filter((k) => !inputs.includes(k))
          }).toEqual({
            where,
            unknown: []
          })
        }
        const ids = new Set(ours.map((step) => step.id).filter(Boolean))
        for (const [, id, output] of body.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
          if (!ids.has(id)) continue
          expect({ where, output, known: outputs.includes(output ?? '') }).toEqual({
            where,
            output,
            known: true
          })
        }
      }
    }
    expect(steps).toBeGreaterThanOrEqual(5)
  })

  it('gives every workflow that writes with ecr-promote a concurrency group per repository that queues', async () => {
    // `event: status` only reads, so it needs no queue.
    const writes = (step: Step) => step.uses?.startsWith(ACTION) && step.with?.event !== 'status'
    for (const { where, body } of await docBlocks('yaml')) {
      const document = parse(body) as unknown
      if (!isWorkflow(document)) continue
      for (const [name, job] of Object.entries(document.jobs)) {
        if (!(job.steps ?? []).some(writes)) continue
        const concurrency = (job.concurrency ?? document.concurrency) as
          { group?: string; 'cancel-in-progress'?: boolean } | undefined
        expect({ where, name, concurrency }).toEqual({
          where,
          name,
          concurrency: {
            group: expect.stringMatching(/^ecr-promote-/),
            'cancel-in-progress': false
          }
        })
      }
    }
  })

  it('checks the repository out wherever a convention file is read', async () => {
    for (const { where, body } of await docBlocks('yaml')) {
      const document = parse(body) as unknown
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
        expect({ where, checkoutFirst: checkout >= 0 && checkout < reader }).toEqual({
          where,
          checkoutFirst: true
        })
      }
    }
  })
})

describe('documented IAM policies', () => {
  it('reads the ECR operations from src/ecr/registry.ts', async () => {
    expect(await ecrActionsTheCodeCalls()).toEqual(
      expect.arrayContaining(['ecr:BatchGetImage', 'ecr:PutImage'])
    )
  })

  it('lists exactly the ECR actions the code calls in every promotion-role policy', async () => {
    const called = await ecrActionsTheCodeCalls()
    const promotion = (await policies()).filter(({ kind }) => kind === 'promotion')
    expect(promotion.length).toBeGreaterThan(0)
    for (const { where, policy } of promotion) {
      expect({ where, actions: [...new Set(actionsOf(policy))].sort() }).toEqual({
        where,
        actions: called
      })
    }
  })

  it('gives the build role the push actions, and ecr:GetAuthorizationToken on *', async () => {
    const build = (await policies()).filter(({ kind }) => kind === 'build')
    expect(build.length).toBeGreaterThan(0)
    for (const { policy } of build) {
      expect(actionsOf(policy)).toEqual(expect.arrayContaining(PUSH_ACTIONS))
      const login = policy.Statement.filter((s) =>
        (Array.isArray(s.Action) ? s.Action : [s.Action]).includes('ecr:GetAuthorizationToken')
      )
      expect(login.map((s) => s.Resource)).toEqual(['*'])
    }
  })

  it('shows an OIDC trust policy with aud and sub conditions', async () => {
    const readme = await readFile('README.md', 'utf8')
    const trust = blocks(readme, 'README.md', 'json')
      .map(({ body }) => JSON.parse(body) as Partial<Policy>)
      .filter((policy): policy is Policy => Array.isArray(policy.Statement))
      .filter((policy) => actionsOf(policy).includes('sts:AssumeRoleWithWebIdentity'))
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

describe('release workflow', () => {
  it('parses, runs on published releases, and pins every action by commit SHA', async () => {
    const workflow = parse(await readFile('.github/workflows/release.yml', 'utf8')) as Workflow & {
      on: { release?: { types?: string[] } }
    }
    expect(workflow.on.release?.types).toEqual(['published'])
    const uses = Object.values(workflow.jobs).flatMap((job) =>
      (job.steps ?? []).flatMap((step) => (step.uses ? [step.uses] : []))
    )
    expect(uses.length).toBeGreaterThan(0)
    for (const use of uses) expect(use).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/)
  })

  it('names the version of every pinned action in a comment', async () => {
    const text = await readFile('.github/workflows/release.yml', 'utf8')
    const lines = text.split('\n').filter((line) => /^\s*-?\s*uses:/.test(line))
    for (const line of lines) expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/)
  })
})

function isWorkflow(document: unknown): document is Workflow {
  return typeof document === 'object' && document !== null && 'jobs' in document
}
