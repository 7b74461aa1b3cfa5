/**
 * End to end: the bundled command line (dist/cli.js) as a person or another CI runs it, against the
 * ECR stand-in: every subcommand, --json, the exit codes, the confirmation on a pseudo-terminal
 * (util-linux `script`), progress under ECR's throttling, and the same registry as the action leaves.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr'
import { SUBCOMMANDS } from '../src/cli/command.js'
import { startStandIn } from './support/ecr-standin.mjs'
import { startGitHubFake } from './support/github-fake.mjs'
import { dockerV2Image, seedImage, tagsByDigest } from './support/images.mjs'
import { runAction } from './support/run-action.mjs'
import { clientFor } from './support/harness.js'

type StandIn = Awaited<ReturnType<typeof startStandIn>>

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const SHAS = {
  '1.0.0': '1000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  '1.1.0': '1100000bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  '1.2.0': '1200000ccccccccccccccccccccccccccccccccc'
} as const
type Release = keyof typeof SHAS

let standIn: StandIn
let client: ECRClient
let counter = 0
beforeEach(async () => {
  standIn = await startStandIn()
  client = clientFor(standIn.url)
})
afterEach(async () => {
  client.destroy()
  await standIn.close()
})

/** A repository with one build image per version, tagged sha-<7 hex>. */
async function repository(
  versions: readonly Release[] = ['1.0.0', '1.1.0', '1.2.0'],
  images?: string
) {
  const name = `team/cli-${++counter}`
  await client.send(new CreateRepositoryCommand({ repositoryName: name }))
  const digests = {} as Record<Release, string>
  for (const version of versions)
    digests[version] = await seedImage(
      client,
      name,
      dockerV2Image(`${images ?? name}-${version}`),
      [`sha-${SHAS[version].slice(0, 7)}`]
    )
  return { name, digests }
}

/** The environment of a laptop or another CI: AWS settings, no GitHub event. */
const environment = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_EC2_METADATA_DISABLED: 'true',
  ...extra
})

interface Ran {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs `node dist/cli.js …` with piped streams, as another CI would. */
function cli(args: string[], extra: Record<string, string> = {}, input = ''): Promise<Ran> {
  const child = spawn(process.execPath, [CLI, ...args, '--endpoint-url', standIn.url], {
    env: environment(extra)
  })
  child.stdin.end(input)
  return collect(child)
}

function collect(child: ReturnType<typeof spawn>): Promise<Ran> {
  let [stdout, stderr] = ['', '']
  child.stdout?.on('data', (chunk) => (stdout += chunk))
  child.stderr?.on('data', (chunk) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

/**
 * Runs the command on a pseudo-terminal (util-linux `script`), answering the confirmation with
 * `answer` once the question is on the screen. Output is the terminal's, stdout and stderr as one.
 */
function onTerminal(
  args: string[],
  answer: string | undefined,
  extra: Record<string, string> = {},
  meanwhile: () => Promise<void> = async () => {}
) {
  const command = [process.execPath, CLI, ...args, '--endpoint-url', standIn.url]
    .map((word) => `'${word.replaceAll("'", "'\\''")}'`)
    .join(' ')
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    env: { ...environment(extra), TERM: 'xterm' }
  })
  let screen = ''
  child.stdout.on('data', (chunk) => {
    screen += chunk
    if (answer !== undefined && screen.includes('[y/N]')) {
      const given = answer
      answer = undefined
      void meanwhile().then(() => child.stdin.write(`${given}\r`))
    }
  })
  return new Promise<{ status: number | null; screen: string }>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, screen }))
  })
}

const tags = (name: string) => tagsByDigest(client, name)
const release = (name: string, version: Release, extra: string[] = []) =>
  cli(['release', `v${version}`, '--repository', name, '--sha', SHAS[version], ...extra])

describe('help and usage', () => {
  it('prints the overview, and every command its help with examples, exit 0', async () => {
    const overview = await cli(['--help'])
    expect(overview.status).toBe(0)
    for (const name of Object.keys(SUBCOMMANDS)) expect(overview.stdout).toContain(`  ${name}`)
    for (const name of Object.keys(SUBCOMMANDS)) {
      const help = await cli([name, '--help'])
      expect(help.status).toBe(0)
      expect(help.stdout).toMatch(new RegExp(`^Usage: ecr-promote ${name}`))
      expect(help.stdout).toContain('Examples:\n  ecr-promote ')
    }
  })

  it.each<[string, string[], RegExp]>([
    ['no command', [], /^error: Usage: ecr-promote <command>/],
    ['an unknown command', ['deploy'], /^error: unknown command 'deploy'/],
    ['an unknown flag', ['status', '--repo', 'x'], /^error: Unknown option '--repo'/],
    [
      'a missing argument',
      ['rollback', '--repository', 'x'],
      /^error: rollback needs <version\|previous\|date>/
    ],
    [
      'an extra argument',
      ['status', 'now', '--repository', 'x'],
      /^error: too many arguments for status/
    ],
    [
      'the argument given twice',
      ['rollback', '1.0.0', '--version', '1.1.0', '--repository', 'x'],
      /^error: rollback takes <version\|previous\|date> once/
    ]
  ])('%s: exit 2, nothing read', async (_name, args, message) => {
    const ran = await cli(args)
    expect(ran.status).toBe(2)
    expect(ran.stderr).toMatch(message)
    expect(standIn.control.calls).toEqual([])
  })

  it.each<[string, string[], string]>([
    [
      'a promotion the convention does not know',
      ['promote', 'prod', '--repository', 'team/app', '--sha', SHAS['1.0.0']],
      "the environments convention has no promotion to 'prod': it knows staging, canary, production"
    ],
    [
      'a push without a commit',
      ['push', '--repository', 'team/app', '--branch', 'main'],
      "tag template 'sha-{sha7}' needs {sha7} (from the sha input or GITHUB_SHA), which this run does not have"
    ]
  ])('%s: exit 2, before any read', async (_name, args, message) => {
    const ran = await cli(args)
    expect(ran.status).toBe(2)
    expect(ran.stdout).toContain(message)
    expect(standIn.control.calls).toEqual([])
  })

  it("an input the action would refuse: exit 2, with the action's message, nothing read", async () => {
    const ran = await cli(['status', '--repository', 'Team/App', '--fail-on-severity', 'urgent'])
    expect(ran.status).toBe(2)
    expect(ran.stdout).toContain(
      "repository 'Team/App' is not a valid ECR repository name (lowercase letters, digits, and . _ - / between them)"
    )
    expect(ran.stdout).toContain(
      "fail-on-severity 'urgent' is not one of off, CRITICAL, HIGH, MEDIUM, LOW"
    )
    expect(standIn.control.calls).toEqual([])
  })
})

describe('every command', () => {
  it('push, release, promote, rollback, status, restore-version, prune and lifecycle', async () => {
    const app = await repository()
    const push = await cli([
      'push',
      '--repository',
      app.name,
      '--branch',
      'main',
      '--sha',
      SHAS['1.0.0']
    ])
    expect(push.status).toBe(0)
    expect(push.stdout).toMatch(/latest\s+—\s+sha256:[0-9a-f]{12}\s+created/)

    for (const version of ['1.0.0', '1.1.0', '1.2.0'] as const)
      expect((await release(app.name, version)).status).toBe(0)
    const promote = await cli([
      'promote',
      'staging',
      '--repository',
      app.name,
      '--sha',
      SHAS['1.2.0']
    ])
    expect(promote.status).toBe(0)
    expect((await tags(app.name)).staging).toBe(app.digests['1.2.0'])

    const back = await cli(['rollback', 'previous', '--repository', app.name])
    expect(back.status).toBe(0)
    expect(back.stdout).toContain('rollback to the previous version')
    expect(back.stdout).toMatch(
      /production\s+sha256:[0-9a-f]{12} \(1\.2\.0\)\s+sha256:[0-9a-f]{12} \(1\.1\.0\)\s+moved/
    )
    expect((await tags(app.name))['withdrawn-1.2.0']).toBe(app.digests['1.2.0'])

    const status = await cli(['status', '--repository', app.name, '--json'])
    expect(status.status).toBe(0)
    const [read] = JSON.parse(status.stdout)
    expect(read.withdrawn).toEqual([
      { version: '1.2.0', tag: 'withdrawn-1.2.0', digest: app.digests['1.2.0'] }
    ])
    expect(read.pointers).toContainEqual(
      expect.objectContaining({ tag: 'production', versions: ['1.1.0'] })
    )

    const restored = await cli(['restore-version', '1.2.0', '--repository', app.name])
    expect(restored.status).toBe(0)
    expect(restored.stdout).toMatch(/withdrawn-1\.2\.0\s+sha256:[0-9a-f]{12}\s+—\s+removed/)

    const prune = await cli(['prune', '--repository', app.name, '--keep-minor-versions', '1'])
    expect(prune.status).toBe(0)
    expect(prune.stdout).toContain('would delete')
    const lifecycle = await cli(['lifecycle', '--lifecycle', 'check', '--repository', app.name])
    expect(lifecycle.status).toBe(0)
    expect(lifecycle.stdout).toContain('lifecycle policy drift')
  })

  it('rollback to a date, by the deployment records on GitHub', async () => {
    const github = await startGitHubFake()
    try {
      const app = await repository(['1.0.0', '1.1.0'])
      for (const version of ['1.0.0', '1.1.0'] as const)
        expect((await release(app.name, version)).status).toBe(0)
      github.control.seed({
        owner: 'octo',
        repo: 'app',
        environment: 'production',
        createdAt: '2026-11-10T09:00:00Z',
        payload: {
          repository: app.name,
          tag: 'production',
          digest: app.digests['1.0.0'],
          image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${app.name}@${app.digests['1.0.0']}`
        },
        statuses: [{ state: 'success' }]
      })
      const back = await cli(['rollback', '2026-11-12', '--repository', app.name, '--yes'], {
        GITHUB_API_URL: github.url,
        GITHUB_REPOSITORY: 'octo/app',
        GITHUB_TOKEN: 'ghs_laptop'
      })
      expect(back.stderr).not.toMatch(/^(warning|error):/m)
      expect(back.status).toBe(0)
      expect(back.stdout).toMatch(/back to deployment \d+ of 2026-11-10T09:00:00\.000Z/)
      expect((await tags(app.name)).production).toBe(app.digests['1.0.0'])
      expect(github.control.requests()[0]?.authorization).toBe('token ghs_laptop')
    } finally {
      await github.close()
    }
  })

  it('--json prints the same object as the action, field for field', async () => {
    // The same image in both, so that digests match too.
    const [byCli, byAction] = [
      await repository(['1.1.0'], 'json'),
      await repository(['1.1.0'], 'json')
    ]
    const ran = await release(byCli.name, '1.1.0', ['--json'])
    const action = await runAction({
      endpoint: standIn.url,
      eventName: 'workflow_dispatch',
      inputs: {
        repository: byAction.name,
        event: 'release',
        'release-tag': 'v1.1.0',
        sha: SHAS['1.1.0']
      }
    })
    const strip = (entries: Record<string, unknown>[]) =>
      JSON.stringify(entries).replaceAll(byCli.name, 'R').replaceAll(byAction.name, 'R')
    expect(ran.status).toBe(0)
    expect(strip(JSON.parse(ran.stdout))).toBe(strip(JSON.parse(action.outputs.json ?? '')))
  })
})

describe('exit codes', () => {
  it('1: refused, nothing changed', async () => {
    const app = await repository(['1.0.0', '1.1.0'])
    expect((await release(app.name, '1.1.0')).status).toBe(0)
    const before = standIn.control.snapshot(app.name)
    const ran = await cli([
      'promote',
      'production',
      '--repository',
      app.name,
      '--sha',
      SHAS['1.0.0'],
      '--version',
      '1.0.0'
    ])
    expect(ran.status).toBe(1)
    expect(ran.stdout).toMatch(
      /failed:\n {2}cannot promote team\/cli-\d+:production: it stays on 1\.1\.0/
    )
    expect(ran.stdout).not.toContain('left changed')
    expect(standIn.control.snapshot(app.name)).toEqual(before)
  })

  it('3: failed, and a change could not be undone: the message lists it', async () => {
    const [api, worker] = [await repository(['1.1.0']), await repository(['1.1.0'])]
    standIn.control.failPutImage('production')
    standIn.control.deny('BatchDeleteImage')
    const ran = await cli([
      'release',
      'v1.1.0',
      '--repository',
      api.name,
      '--repository',
      worker.name,
      '--sha',
      SHAS['1.1.0']
    ])
    expect(ran.status).toBe(3)
    expect(ran.stdout).toMatch(
      /left changed \(not undone\):\n {2}team\/cli-\d+:v1\.1\.0 now on sha256:[0-9a-f]{12}/
    )
  })
})

describe('a cancel, and a writer that comes right after', () => {
  it('Ctrl-C starts the undo; a second one stops waiting and prints what is left and the command that finishes it, which does', async () => {
    const [api, worker] = [
      await repository(['1.0.0', '1.1.0']),
      await repository(['1.0.0', '1.1.0'])
    ]
    for (const name of [api.name, worker.name])
      expect((await release(name, '1.0.0')).status).toBe(0)
    const before = { api: await tags(api.name), worker: await tags(worker.name) }
    const landed = standIn.control.calls.filter(({ operation }) => operation === 'PutImage').length
    // Writes land slowly, and removals more slowly still: the undo is under way at the second Ctrl-C.
    standIn.control.latency({ PutImage: 300, BatchDeleteImage: 3_000 })
    const child = spawn(
      process.execPath,
      [
        CLI,
        ...['release', 'v1.1.0', '--repository', api.name, '--repository', worker.name],
        ...['--sha', SHAS['1.1.0'], '--yes', '--endpoint-url', standIn.url]
      ],
      { env: environment() }
    )
    const ran = collect(child)
    await standIn.control.waitFor('PutImage', landed + 2)
    child.kill('SIGINT')
    await sleep(500)
    child.kill('SIGINT')
    const stopped = await ran
    standIn.control.latency(0)
    expect(stopped.status).toBe(3)
    expect(stopped.stderr).toContain(
      'putting back what this run wrote (press Ctrl-C again to stop waiting)'
    )
    const resume = /to put back what is left, run: ecr-promote undo (\S+)/.exec(stopped.stdout)
    expect(resume).not.toBeNull()
    const journal = (resume as RegExpExecArray)[1] as string
    expect(existsSync(journal)).toBe(true)

    const finished = await cli(['undo', journal])
    expect(finished.stderr).not.toContain('error')
    expect(finished.status).toBe(0)
    expect(finished.stdout).toContain('nothing is left to put back')
    expect({ api: await tags(api.name), worker: await tags(worker.name) }).toEqual(before)
    expect(existsSync(journal)).toBe(false)
    console.log(
      `Ctrl-C twice: exit ${stopped.status}; then 'undo': ${finished.stdout.trim().split('\n').length - 1} tags put back`
    )
  }, 30_000)

  it('a rollback that another writer overtakes right after: the command reads its pointer again and says so', async () => {
    const app = await repository(['1.0.0', '1.1.0', '1.2.0'])
    for (const version of ['1.0.0', '1.1.0'] as const)
      expect((await release(app.name, version)).status).toBe(0)
    const landed = standIn.control.calls.filter(({ operation }) => operation === 'PutImage').length
    const rolling = cli(['rollback', '1.0.0', '--repository', app.name, '--yes'])
    // The rollback's pointer write, then another writer's, a moment later.
    await standIn.control.waitFor('PutImage', landed + 1)
    await seedImage(client, app.name, dockerV2Image(`${app.name}-1.2.0`), ['production'])
    const ran = await rolling
    expect(ran.status).toBe(0)
    expect(ran.stderr).toMatch(
      new RegExp(
        `warning: ${app.name}:production was moved by this run, then moved since by another writer to sha256:[0-9a-f]{12} within 1 s`
      )
    )
    expect((await tags(app.name)).production).toBe(app.digests['1.2.0'])
  }, 30_000)
})

describe('on a terminal', () => {
  it('prints the plan and asks before writing production; no writes on no', async () => {
    const app = await repository(['1.0.0', '1.1.0'])
    for (const version of ['1.0.0', '1.1.0'] as const)
      expect((await release(app.name, version)).status).toBe(0)
    const before = standIn.control.snapshot(app.name)
    const declined = await onTerminal(['rollback', '1.0.0', '--repository', app.name], 'n')
    expect(declined.screen).toMatch(
      /production\s+sha256:[0-9a-f]{12} \(1\.1\.0\)\s+sha256:[0-9a-f]{12} \(1\.0\.0\)\s+planned/
    )
    expect(declined.screen).toContain('Write these tags, production included? [y/N]')
    expect(declined.status).toBe(1)
    expect(declined.screen).toContain('not confirmed: no tag was written')
    expect(standIn.control.snapshot(app.name)).toEqual(before)

    const confirmed = await onTerminal(['rollback', '1.0.0', '--repository', app.name], 'y')
    expect(confirmed.status).toBe(0)
    expect((await tags(app.name)).production).toBe(app.digests['1.0.0'])
    // Colour on a terminal: the action in green.
    expect(confirmed.screen).toContain('\x1b[32mmoved\x1b[0m')
  })

  it('reads the registry again once confirmed, and writes nothing if it changed meanwhile', async () => {
    const app = await repository(['1.0.0', '1.1.0', '1.2.0'])
    for (const version of ['1.0.0', '1.1.0'] as const)
      expect((await release(app.name, version)).status).toBe(0)
    // While the person reads the plan, CI releases 1.2.0.
    const ran = await onTerminal(
      ['rollback', '1.0.0', '--repository', app.name],
      'y',
      {},
      async () => {
        expect((await release(app.name, '1.2.0')).status).toBe(0)
      }
    )
    expect(ran.status).toBe(1)
    expect(ran.screen).toContain(
      'the registry changed while the plan was read: no tag was written; run again to see the new plan'
    )
    const now = await tags(app.name)
    expect(now.production).toBe(app.digests['1.2.0'])
    expect(now['withdrawn-1.1.0']).toBeUndefined()
  })

  it('--yes writes without asking; NO_COLOR and a pipe print no colour', async () => {
    const app = await repository(['1.0.0', '1.1.0'])
    for (const version of ['1.0.0', '1.1.0'] as const)
      expect((await release(app.name, version)).status).toBe(0)
    const yes = await onTerminal(
      ['rollback', '1.0.0', '--repository', app.name, '--yes'],
      undefined,
      { NO_COLOR: '1' }
    )
    expect(yes.status).toBe(0)
    expect(yes.screen).not.toContain('[y/N]')
    expect(yes.screen).not.toContain('\x1b[32m')
    const piped = await cli(['status', '--repository', app.name])
    expect(piped.stdout).not.toContain('\x1b[')
  })

  it('a command that writes no production pointer asks nothing', async () => {
    const app = await repository(['1.0.0'])
    const ran = await onTerminal(
      ['promote', 'staging', '--repository', app.name, '--sha', SHAS['1.0.0']],
      undefined
    )
    expect(ran.status).toBe(0)
    expect(ran.screen).not.toContain('[y/N]')
  })
})

it('shows progress while ECR throttles the writes', async () => {
  const names = await Promise.all(Array.from({ length: 4 }, () => repository(['1.1.0'])))
  standIn.control.quota({ PutImage: { rate: 2, burst: 1 } })
  const ran = await cli([
    'release',
    'v1.1.0',
    ...names.flatMap(({ name }) => ['--repository', name]),
    '--sha',
    SHAS['1.1.0'],
    '--max-writes-per-second',
    '20'
  ])
  expect(ran.status).toBe(0)
  const progress = ran.stderr.split('\n').filter((line) => /^\d+ writes?/.test(line))
  expect(progress.length).toBeGreaterThanOrEqual(8)
  expect(progress.some((line) => /ECR throttled \d+ times/.test(line))).toBe(true)
}, 60_000)

it('leaves the registry exactly as the action does, on the same scenario', async () => {
  const second = await startStandIn()
  const secondClient = clientFor(second.url)
  try {
    const seed = async (ecr: ECRClient) => {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: 'same/app' }))
      for (const version of ['1.0.0', '1.1.0', '1.2.0'] as const)
        await seedImage(ecr, 'same/app', dockerV2Image(`same-${version}`), [
          `sha-${SHAS[version].slice(0, 7)}`
        ])
    }
    await Promise.all([seed(client), seed(secondClient)])
    const steps: [string[], Record<string, string>][] = [
      [
        ['release', 'v1.0.0', '--sha', SHAS['1.0.0']],
        { event: 'release', 'release-tag': 'v1.0.0', sha: SHAS['1.0.0'] }
      ],
      [
        ['release', 'v1.2.0', '--sha', SHAS['1.2.0']],
        { event: 'release', 'release-tag': 'v1.2.0', sha: SHAS['1.2.0'] }
      ],
      [
        ['release', 'v1.1.0', '--sha', SHAS['1.1.0']],
        { event: 'release', 'release-tag': 'v1.1.0', sha: SHAS['1.1.0'] }
      ],
      [
        ['promote', 'staging', '--sha', SHAS['1.1.0']],
        { event: 'promote', environment: 'staging', sha: SHAS['1.1.0'] }
      ],
      [['rollback', 'previous', '--yes'], { event: 'rollback', version: 'previous' }],
      [
        ['release', 'v1.2.0', '--sha', SHAS['1.2.0']],
        { event: 'release', 'release-tag': 'v1.2.0', sha: SHAS['1.2.0'] }
      ]
    ]
    for (const [args, inputs] of steps) {
      const byCli = await cli([...args, '--repository', 'same/app'])
      const byAction = await runAction({
        endpoint: second.url,
        eventName: 'workflow_dispatch',
        inputs: { repository: 'same/app', ...inputs }
      })
      expect([byCli.status, byAction.status]).toEqual([0, 0])
    }
    const state = (of: StandIn) =>
      of.control.snapshot('same/app').images.map(({ digest, tags }) => [digest, [...tags].sort()])
    expect(state(standIn)).toEqual(state(second))
    expect((await tags('same/app'))['withdrawn-1.2.0']).toBeDefined()
  } finally {
    secondClient.destroy()
    await second.close()
  }
}, 60_000)
