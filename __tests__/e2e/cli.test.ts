/**
 * End to end, the bundled command line (dist/cli.js) as a person or another CI runs it, against the
 * stand-in: its exit codes, the same registry and json as the action for every command, GitHub's
 * records read page by page with a token from the environment, Ctrl-C and `undo`, the confirmation on a
 * pseudo-terminal (util-linux `script`) and progress under ECR's throttling. How it parses flags and
 * renders results is pinned in __tests__/unit (command, terminal).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { startGitHubFake } from '../support/github-fake.mjs'
import { dockerV2Image, seedImage } from '../support/images.mjs'
import { runAction } from '../support/run-action.mjs'
import {
  callsOf,
  CLI,
  cliEnvironment,
  collect,
  releases,
  runCli,
  startCli,
  seedRecord,
  SHAS,
  tagsOf,
  withStandIn,
  type Registry
} from '../support/e2e.js'

/** v1.0.0 and v1.1.0 released, production on v1.1.0. */
const ON_1_1 = { '1.0.0': ['v1.0.0'], '1.1.0': ['v1.1.0', 'production'] }

/**
 * Runs the command on a pseudo-terminal, answering the confirmation with `answer` once the question
 * is on the screen (after `meanwhile`). The screen is stdout and stderr as one, unless `redirect`
 * (such as `2>/dev/null`) sends one elsewhere.
 */
function onTerminal(
  { standIn }: Registry,
  args: string[],
  answer: string | undefined,
  extra: Record<string, string> = {},
  meanwhile: () => Promise<unknown> = async () => {},
  redirect = ''
) {
  const command = [process.execPath, CLI, ...args, '--endpoint-url', standIn.url]
    .map((word) => `'${word.replaceAll("'", "'\\''")}'`)
    .concat(redirect)
    .join(' ')
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    env: { ...cliEnvironment(extra), TERM: 'xterm' }
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

const tags = ({ standIn }: Registry, name: string) => tagsOf(standIn.control.snapshot(name))

it.concurrent(
  'exit 0 for help, 2 for a usage error or an input the action would refuse (reading nothing), 1 refused (nothing changed), 3 failed with a change not undone, which it lists',
  () =>
    withStandIn(async (registry) => {
      const { control } = registry.standIn
      const help = await runCli(registry, ['--help'])
      expect(help.status).toBe(0)
      expect(help.stdout).toMatch(/^Usage: ecr-promote <command>/m)
      const usage = await runCli(registry, ['status', '--repo', 'x'])
      expect(usage.status).toBe(2)
      expect(usage.stderr).toMatch(/^error: Unknown option '--repo'/m)
      const refused = await runCli(registry, [
        ...['status', '--repository', 'Team/App', '--fail-on-severity', 'urgent']
      ])
      expect(refused.status).toBe(2)
      expect(refused.stdout).toContain("repository 'Team/App' is not a valid ECR repository name")
      expect(refused.stdout).toContain(
        "fail-on-severity 'urgent' is not one of off, CRITICAL, HIGH, MEDIUM, LOW"
      )
      expect(control.calls).toEqual([])

      await releases(registry, 'team/refused', ON_1_1)
      const before = control.snapshot('team/refused')
      const lower = await runCli(registry, [
        ...['promote', 'production', '--repository', 'team/refused'],
        ...['--sha', SHAS['1.0.0'], '--version', '1.0.0']
      ])
      expect(lower.status).toBe(1)
      expect(lower.stdout).toMatch(
        /failed:\n {2}cannot promote team\/refused:production: it stays on 1\.1\.0/
      )
      expect(lower.stdout).not.toContain('left changed')
      expect(control.snapshot('team/refused')).toEqual(before)

      for (const name of ['team/api', 'team/worker']) await releases(registry, name)
      control.failPutImage('production')
      control.deny('BatchDeleteImage')
      const stuck = await runCli(registry, [
        ...['release', 'v1.1.0', '--repository', 'team/api', '--repository', 'team/worker'],
        ...['--sha', SHAS['1.1.0']]
      ])
      expect(stuck.status).toBe(3)
      expect(stuck.stdout).toMatch(
        /left changed \(not undone\):\n {2}team\/\w+:v1\.1\.0 now on sha256:[0-9a-f]{12}/
      )
    })
)

it.concurrent(
  'every command that writes leaves the registry the action leaves, and prints the json the action outputs; status --json reads it',
  () =>
    withStandIn((byCli) =>
      withStandIn(async (byAction) => {
        await releases(byCli, 'same/app')
        await releases(byAction, 'same/app')
        const steps: [string[], Record<string, string>][] = [
          [
            ['push', '--branch', 'main', '--sha', SHAS['1.0.0']],
            { event: 'push', sha: SHAS['1.0.0'] }
          ],
          ...(['1.0.0', '1.2.0', '1.1.0'] as const).map(
            (version): [string[], Record<string, string>] => [
              ['release', `v${version}`, '--sha', SHAS[version]],
              { event: 'release', 'release-tag': `v${version}`, sha: SHAS[version] }
            ]
          ),
          [
            ['promote', 'staging', '--sha', SHAS['1.1.0']],
            { event: 'promote', environment: 'staging', sha: SHAS['1.1.0'] }
          ],
          [['rollback', 'previous', '--yes'], { event: 'rollback', version: 'previous' }],
          [['restore-version', '1.2.0'], { event: 'restore-version', version: '1.2.0' }]
        ]
        for (const [args, inputs] of steps) {
          const ran = await runCli(byCli, [...args, '--repository', 'same/app', '--json'])
          const action = await runAction({
            endpoint: byAction.standIn.url,
            eventName: 'workflow_dispatch',
            payload: { repository: { default_branch: 'main' } },
            inputs: { repository: 'same/app', ...inputs },
            env: { GITHUB_REF: 'refs/heads/main' }
          })
          const json = JSON.parse(ran.stdout)
          const [cliTags, actionTags] = [tags(byCli, 'same/app'), tags(byAction, 'same/app')]
          expect({ args, status: ran.status, errors: action.errors, json, tags: cliTags }).toEqual({
            ...{ args, status: 0, errors: [], json: JSON.parse(action.outputs.json ?? '') },
            tags: actionTags
          })
        }
        expect(tags(byCli, 'same/app')).toMatchObject({
          latest: expect.any(String),
          staging: expect.any(String)
        })
        expect(tags(byCli, 'same/app')['withdrawn-1.2.0']).toBeUndefined()

        const status = await runCli(byCli, ['status', '--repository', 'same/app', '--json'])
        expect(status.status).toBe(0)
        const [read] = JSON.parse(status.stdout)
        expect(read.pointers).toContainEqual(
          expect.objectContaining({ tag: 'production', versions: ['1.1.0'] })
        )
      })
    ),
  60_000
)

it.concurrent(
  'rolls back to a date by the deployment records on GitHub, past the first page, with the token from the environment',
  () =>
    withStandIn(async (registry) => {
      const github = await startGitHubFake()
      try {
        const app = await releases(registry, 'team/dated', ON_1_1)
        const record = (digest: string, createdAt: Date | string, tag?: string) =>
          seedRecord(github, 'team/dated', digest, createdAt, tag)
        const landed = record(app['1.0.0'], '2026-11-10T09:00:00Z')
        record(app['1.1.0'], '2026-11-15T09:00:00Z')
        // 150 newer records of staging: the record of the 10th is on GitHub's second page.
        for (let minute = 0; minute < 150; minute++)
          record(app['1.1.0'], new Date(Date.UTC(2026, 10, 21, 0, minute)), 'staging')
        const back = await runCli(
          registry,
          ['rollback', '2026-11-12', '--repository', 'team/dated', '--yes'],
          { GITHUB_API_URL: github.url, GITHUB_REPOSITORY: 'octo/app', GITHUB_TOKEN: 'ghs_laptop' }
        )
        expect(back.stderr).not.toMatch(/^(warning|error):/m)
        expect(back.status).toBe(0)
        expect(back.stdout).toContain(`back to deployment ${landed} of 2026-11-10T09:00:00.000Z`)
        expect(tags(registry, 'team/dated').production).toBe(app['1.0.0'])
        const read = github.control.requests()
        expect(read[0]?.authorization).toBe('token ghs_laptop')
        expect(
          read
            .filter(
              ({ method, path }: { method: string; path: string }) =>
                method === 'GET' && path.endsWith('/deployments')
            )
            .map(({ query }: { query: { page?: string } }) => query.page ?? '1')
        ).toEqual(['1', '2'])
      } finally {
        await github.close()
      }
    })
)

it.concurrent(
  'Ctrl-C starts the undo; a second one stops waiting and prints what is left and the command that finishes it, which does',
  () =>
    withStandIn(async (registry) => {
      const { standIn } = registry
      const names = ['team/api', 'team/worker']
      for (const name of names)
        await releases(registry, name, { '1.0.0': ['v1.0.0', 'production'] })
      const before = names.map((name) => tags(registry, name))
      const landed = standIn.control.calls.filter(
        ({ operation }) => operation === 'PutImage'
      ).length
      // Writes land slowly, and removals more slowly still: the undo is under way at the second Ctrl-C.
      standIn.control.latency({ PutImage: 300, BatchDeleteImage: 3_000 })
      const child = startCli(registry, [
        ...['release', 'v1.1.0', ...names.flatMap((name) => ['--repository', name])],
        ...['--sha', SHAS['1.1.0'], '--yes']
      ])
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
      const journal = /to put back what is left, run: ecr-promote undo (\S+)/.exec(
        stopped.stdout
      )?.[1]
      expect(journal && existsSync(journal)).toBe(true)

      const finished = await runCli(registry, ['undo', journal!])
      expect(finished.stderr).not.toContain('error')
      expect(finished.status).toBe(0)
      expect(finished.stdout).toContain('nothing is left to put back')
      expect(names.map((name) => tags(registry, name))).toEqual(before)
      expect(existsSync(journal!)).toBe(false)
    }),
  30_000
)

it.concurrent(
  'reads its pointers again a second after writing, and says when another writer moved one since',
  () =>
    withStandIn(async (registry) => {
      const { standIn, client } = registry
      const app = await releases(registry, 'team/overtaken', ON_1_1)
      const landed = callsOf(standIn, 'PutImage').length
      const rolling = runCli(registry, [
        'rollback',
        '1.0.0',
        '--repository',
        'team/overtaken',
        '--yes'
      ])
      // Both of the rollback's writes (the withdrawn mark, then production), then another writer's.
      await standIn.control.waitFor('PutImage', landed + 2)
      await seedImage(client, 'team/overtaken', dockerV2Image('team/overtaken-1.2.0'), [
        'production'
      ])
      const ran = await rolling
      expect(ran.status).toBe(0)
      expect(ran.stderr).toMatch(
        /warning: team\/overtaken:production was moved by this run, then moved since by another writer to sha256:[0-9a-f]{12} within 1 s/
      )
      expect(tags(registry, 'team/overtaken').production).toBe(app['1.2.0'])
    })
)

it.concurrent(
  'on a terminal: asks before writing production, plan and question seen with stderr discarded, writing nothing on no, nor when the registry changed once confirmed, colour on yes; asks nothing without production, and NO_COLOR prints no colour',
  () =>
    withStandIn(async (registry) => {
      const { control } = registry.standIn
      const app = await releases(registry, 'team/asked', ON_1_1)
      const rollback = ['rollback', '1.0.0', '--repository', 'team/asked']
      const before = control.snapshot('team/asked')
      const declined = await onTerminal(registry, rollback, 'n', {}, undefined, '2>/dev/null')
      expect(declined.screen).toMatch(
        /production\s+sha256:[0-9a-f]{12} \(1\.1\.0\)\s+sha256:[0-9a-f]{12} \(1\.0\.0\)\s+planned/
      )
      expect(declined.screen).toContain('Write these tags, production included? [y/N]')
      expect(declined.status).toBe(1)
      expect(declined.screen).toContain('not confirmed: no tag was written')
      expect(control.snapshot('team/asked')).toEqual(before)

      // While the person reads the plan, CI releases 1.2.0.
      const changed = await onTerminal(registry, rollback, 'y', {}, () =>
        seedImage(registry.client, 'team/asked', dockerV2Image('team/asked-1.2.0'), [
          'v1.2.0',
          'production'
        ])
      )
      expect(changed.status).toBe(1)
      expect(changed.screen).toContain(
        'the registry changed while the plan was read: no tag was written; run again to see the new plan'
      )
      expect(tags(registry, 'team/asked').production).toBe(app['1.2.0'])
      expect(tags(registry, 'team/asked')['withdrawn-1.1.0']).toBeUndefined()

      const confirmed = await onTerminal(registry, rollback, 'y')
      expect(confirmed.status).toBe(0)
      expect(tags(registry, 'team/asked').production).toBe(app['1.0.0'])
      expect(confirmed.screen).toContain('\x1b[32mmoved\x1b[0m')

      const staged = await onTerminal(
        registry,
        ['promote', 'staging', '--repository', 'team/asked', '--sha', SHAS['1.0.0']],
        undefined,
        { NO_COLOR: '1' }
      )
      expect(staged.status).toBe(0)
      expect(staged.screen).toMatch(/staging\s+—\s+sha256:[0-9a-f]{12}\s+created/)
      expect(staged.screen).not.toContain('[y/N]')
      expect(staged.screen).not.toContain('\x1b[32m')
    }),
  60_000
)

it.concurrent(
  'shows progress on stderr while ECR throttles the writes, and no colour in a pipe',
  () =>
    withStandIn(async (registry) => {
      const names = ['team/a', 'team/b']
      for (const name of names) await releases(registry, name)
      registry.standIn.control.quota({ PutImage: { rate: 2, burst: 1 } })
      const ran = await runCli(registry, [
        ...['release', 'v1.1.0', ...names.flatMap((name) => ['--repository', name])],
        ...['--sha', SHAS['1.1.0'], '--max-writes-per-second', '20']
      ])
      expect(ran.status).toBe(0)
      const progress = ran.stderr.split('\n').filter((line) => /^\d+ writes?/.test(line))
      expect(progress.length).toBeGreaterThanOrEqual(4)
      expect(progress.some((line) => /ECR throttled \d+ times/.test(line))).toBe(true)
      expect(ran.stdout + ran.stderr).not.toContain('\x1b[')
    })
)
