/**
 * What the end-to-end suites share: a stand-in of its own for each scenario (so scenarios can run at
 * once), the runs a runner or a shell makes, and the readings of a run's outputs against the
 * registry it left.
 */
import { CreateRepositoryCommand, type ECRClient } from '@aws-sdk/client-ecr'
import { spawn, type ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { startStandIn } from './ecr-standin.mjs'
import { clientFor } from './harness.js'
import { dockerV2Image, multiArchImage, seedImage } from './images.mjs'
import type { RunOptions, RunResult } from './run-action.mjs'
import type { startGitHubFake } from './github-fake.mjs'

export type StandIn = Awaited<ReturnType<typeof startStandIn>>
export type Snapshot = ReturnType<StandIn['control']['snapshot']>
export interface Registry {
  standIn: StandIn
  client: ECRClient
}

/** Runs `scenario` against a fresh stand-in, closed after it. */
export async function withStandIn<T>(scenario: (registry: Registry) => Promise<T>): Promise<T> {
  const standIn = await startStandIn()
  const client = clientFor(standIn.url)
  try {
    return await scenario({ standIn, client })
  } finally {
    client.destroy()
    await standIn.close()
  }
}

/** A region and dummy credentials for a process that speaks to a test endpoint, and no instance metadata. */
export const AWS_TEST = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_EC2_METADATA_DISABLED: 'true'
}

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

/** The environment of a laptop or another CI: AWS settings, no GitHub event. */
export const cliEnvironment = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  ...AWS_TEST,
  ...extra
})

/** `node dist/cli.js … --endpoint-url <the stand-in>` with piped streams, as another CI runs it. */
export const startCli = (
  { standIn }: Registry,
  args: string[],
  extra: Record<string, string> = {}
) =>
  spawn(process.execPath, [CLI, ...args, '--endpoint-url', standIn.url], {
    env: cliEnvironment(extra)
  })

/** What a command line process printed, once it has ended, and its exit code. */
export function collect(child: ChildProcess) {
  let [stdout, stderr] = ['', '']
  child.stdout?.on('data', (chunk) => (stdout += chunk))
  child.stderr?.on('data', (chunk) => (stderr += chunk))
  return new Promise<{ status: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      child.on('error', reject)
      child.on('close', (status) => resolve({ status, stdout, stderr }))
    }
  )
}

/** Runs the command line to its end, its stdin closed. */
export const runCli = (registry: Registry, args: string[], extra: Record<string, string> = {}) => {
  const child = startCli(registry, args, extra)
  child.stdin.end()
  return collect(child)
}

export const createRepository = (client: ECRClient, repositoryName: string) =>
  client.send(new CreateRepositoryCommand({ repositoryName }))

/** Every tag of a snapshot and the digest it points at. */
export function tagsOf(snapshot: Snapshot): Record<string, string> {
  const tags: Record<string, string> = {}
  for (const { digest, tags: names } of snapshot.images) for (const tag of names) tags[tag] = digest
  return tags
}

export const SHA_B = 'bbbbbbb'.padEnd(40, '2')
export const SHA_C = 'ccccccc'.padEnd(40, '3')
/** The commit of each release, for suites whose builds are tagged sha-<its first 7 hex>. */
export const SHAS = {
  '1.0.0': '1000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  '1.1.0': '1100000bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  '1.2.0': '1200000ccccccccccccccccccccccccccccccccc'
} as const
export type Release = keyof typeof SHAS

/** Only v1.0.0 released, production on it. */
export const ON_1_0 = { '1.0.0': ['v1.0.0', 'production'] }

/**
 * A repository with the build of each release (tagged sha-<7 hex>, as CI pushes it; 1.1.0's
 * multi-platform), then these tags on the image of each version.
 */
export async function releases(
  { client }: Registry,
  name: string,
  tags: Partial<Record<Release, string[]>> = {}
) {
  await createRepository(client, name)
  const digests = {} as Record<Release, string>
  for (const version of Object.keys(SHAS) as Release[]) {
    const image = (version === '1.1.0' ? multiArchImage : dockerV2Image)(`${name}-${version}`)
    const build = `sha-${SHAS[version].slice(0, 7)}`
    digests[version] = await seedImage(client, name, image, [build, ...(tags[version] ?? [])])
  }
  return digests
}

/** A published release of `tag` at `sha`, as GitHub sends it, to these repositories. */
export const releaseRun = (
  url: string,
  repositories: string[],
  tag: string,
  sha: string,
  inputs: Record<string, string> = {},
  env: Record<string, string> = {}
): RunOptions => ({
  endpoint: url,
  eventName: 'release',
  payload: {
    action: 'published',
    release: { tag_name: tag, prerelease: false },
    repository: { default_branch: 'main', full_name: 'octo/app' }
  },
  inputs: { repository: repositories.join('\n'), ...inputs },
  env: { GITHUB_REF: `refs/tags/${tag}`, GITHUB_SHA: sha, ...env }
})

/** A workflow_dispatch on main whose workflow passes these inputs on. */
export const dispatchRun = (
  url: string,
  repositories: string[],
  inputs: Record<string, string>,
  env: Record<string, string> = {}
): RunOptions => ({
  endpoint: url,
  eventName: 'workflow_dispatch',
  payload: { inputs: {}, repository: { default_branch: 'main', full_name: 'octo/app' } },
  inputs: { repository: repositories.join('\n'), ...inputs },
  env: { GITHUB_REF: 'refs/heads/main', ...env }
})

export interface Row {
  repository: string
  tag: string
  from: string | null
  to: string | null
  action: 'created' | 'moved' | 'unchanged' | 'planned' | 'undone' | 'failed' | 'removed'
  /** Where the run last saw the tag in the registry. */
  now: string | null
}

export const rowsOf = (result: RunResult): Row[] =>
  JSON.parse(result.outputs.changes ?? '[]') as Row[]
/** The `changes` output as `[tag, from, to, action]`, one a row. */
export const movesOf = (result: RunResult) =>
  rowsOf(result).map(({ tag, from, to, action }) => [tag, from, to, action])
/** The `changes` output as `tag action`, one a row. */
export const actionsOf = (result: RunResult): string[] =>
  rowsOf(result).map(({ tag, action }) => `${tag} ${action}`)

/** Polls until `condition` holds; the stand-in records a request the moment it arrives. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(2)
  }
}

export const callsOf = (standIn: StandIn, operation: string) =>
  standIn.control.calls.filter((call) => call.operation === operation)

/** Fails with the run's whole log, which a diff of the status alone would not show. */
export function expectExit(result: RunResult, status: number, what: string): void {
  if (result.status === status && result.signal === null) return
  throw new Error(
    `${what}: expected exit ${status}, got ${result.status ?? `signal ${result.signal}`}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`
  )
}

/**
 * The run told the truth: every row of `changes` says where the registry has its tag (`now`, and
 * `to` for a write it made, else `from`), and `tags` names exactly the rows' tags on `digest`.
 */
export function expectTruthful(
  result: RunResult,
  standIn: StandIn,
  repositories: string[],
  /**
   * `repository:tag` rows another run may have put where this one meant to, after this run read
   * them: only a test whose interleaving allows it names one. Its row says `unchanged`, `now` = `to`.
   */
  handedOn: string[] = []
) {
  const digests = (result.outputs.digest ?? '').split('\n')
  const onDigest = new Set<string>()
  for (const row of rowsOf(result)) {
    const registry = tagsOf(standIn.control.snapshot(row.repository))[row.tag] ?? null
    expect({ ...row, registry }).toEqual({ ...row, registry: row.now })
    // An undo may put a pointer on a release another run made meanwhile instead of `from`; `now` says so.
    const claimed = row.action === 'created' || row.action === 'moved' ? row.to : row.from
    const redirected = row.action === 'undone' && row.now !== row.from
    const foundThere =
      handedOn.includes(`${row.repository}:${row.tag}`) &&
      row.action === 'unchanged' &&
      row.now === row.to
    if (!redirected && !foundThere)
      expect({ ...row, registry }).toEqual({ ...row, registry: claimed })
    const digest = digests[repositories.indexOf(row.repository)]
    if (digest && registry === digest) onDigest.add(row.tag)
  }
  const tags = result.outputs.tags ? result.outputs.tags.split('\n') : []
  expect(tags.sort()).toEqual([...onDigest].sort())
}

/** One line per repository in `digest`, `previous-digest` and `version`, in input order; `json` agrees. */
export function expectOutputsPerRepository(result: RunResult, repositories: string[]) {
  const json = JSON.parse(result.outputs.json ?? '[]') as Record<string, unknown>[]
  expect(json.map(({ repository }) => repository)).toEqual(repositories)
  for (const field of ['digest', 'previous-digest', 'version'] as const) {
    const lines = (result.outputs[field] ?? '').split('\n')
    expect({ field, lines: lines.length }).toEqual({ field, lines: repositories.length })
    expect(json.map((entry) => entry[field])).toEqual(lines)
  }
}

export type GitHubFake = Awaited<ReturnType<typeof startGitHubFake>>
export const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com'

/** A landed deployment record of octo/app in production: `repository`'s `tag` on `digest` at `createdAt`. */
export function seedRecord(
  github: GitHubFake,
  repository: string,
  digest: string,
  createdAt: Date | string,
  tag = 'production'
): number {
  return github.control.seed({
    ...{ owner: 'octo', repo: 'app', environment: 'production', createdAt },
    payload: { repository, tag, digest, image: `${REGISTRY}/${repository}@${digest}` },
    statuses: [{ state: 'success' }]
  })
}
