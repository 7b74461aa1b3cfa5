/**
 * End to end, a job cancelled: the bundle as a runner runs it, against the stand-in, sent real
 * signals. Before any write a signal ends the run at once; during the writes it stops them and puts
 * back what landed; as GitHub cancels (SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that) the
 * pointers go back first, and the action's post step, given the main step's saved state
 * (GITHUB_STATE), puts back whatever the main step could not. How each stage honours the signal is
 * pinned in-process (__tests__/unit: onCancel, apply, effects); this shows the signals get there.
 */
import type { ChildProcess, ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { multiArchImage, seedImage } from '../support/images.mjs'
import { runPost, startAction, type RunOptions } from '../support/run-action.mjs'
import {
  callsOf,
  createRepository,
  expectExit,
  expectOutputsPerRepository,
  expectTruthful,
  releaseRun,
  rowsOf,
  ON_1_0,
  releases,
  SHA_B,
  SHA_C,
  SHAS,
  tagsOf,
  withStandIn,
  type Registry,
  type StandIn
} from '../support/e2e.js'

const AS_BEFORE = /the registry is as it was before the run$/

/** `count` repositories `job/svcN` on 2.0.0 (stable and latest, channels), each with its build pushed. */
async function seedChannels({ client }: Registry, count: number) {
  const repositories = Array.from({ length: count }, (_, index) => `job/svc${index}`)
  await Promise.all(
    repositories.map(async (name) => {
      await createRepository(client, name)
      await seedImage(client, name, multiArchImage(`${name}-old`), ['2.0.0', 'stable', 'latest'])
      await seedImage(client, name, multiArchImage(`${name}-build`), [
        `${name.split('/').pop()}-main-bbbbbbb`
      ])
    })
  )
  return repositories
}

/** `count` repositories `prefix/svcN`, `releases` with production on v1.0.0 (environments). */
async function seedEnvironments(registry: Registry, prefix: string, count: number) {
  const repositories = Array.from({ length: count }, (_, index) => `${prefix}/svc${index}`)
  for (const name of repositories) await releases(registry, name, ON_1_0)
  return repositories
}

/** Every tag of every repository, and the digest it names. */
const registryOf = ({ standIn }: Registry, repositories: string[]) =>
  Object.fromEntries(repositories.map((name) => [name, tagsOf(standIn.control.snapshot(name))]))

/** GitHub's cancel: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that, each if the step still runs. */
async function cancelLikeGitHub(child: ChildProcess, ended: Promise<unknown>): Promise<string[]> {
  const sent: string[] = []
  let done = false
  void ended.then(() => (done = true))
  for (const [signal, after] of [
    ['SIGINT', 0],
    ['SIGTERM', 7_500],
    ['SIGKILL', 2_500]
  ] as const) {
    await Promise.race([sleep(after), ended])
    if (done) break
    child.kill(signal)
    sent.push(signal)
  }
  return sent
}

/** Every tag of each repository, and the digest it names. */
type Tags = Record<string, Record<string, string>>
interface Job extends ReturnType<typeof startAction> {
  standIn: StandIn
  options: RunOptions
  before: Tags
  now: () => Tags
}

/**
 * A release of 2.1.0 (channels) to `count` repositories, in a job of its own (RUNNER_TEMP, which the
 * runner keeps for every step of the job, the post step included), started once `arrange` has set
 * the stand-in; `scenario` takes over once `landed` of its writes have been applied.
 */
function releaseInJob(
  count: number,
  arrange: (standIn: StandIn) => void,
  landed: number,
  scenario: (job: Job) => Promise<void>
) {
  return withStandIn(async (registry) => {
    const dir = mkdtempSync(join(tmpdir(), 'ecr-promote-job-'))
    try {
      const { standIn } = registry
      const repositories = await seedChannels(registry, count)
      const now = () => registryOf(registry, repositories)
      const before = now()
      const base = callsOf(standIn, 'PutImage').length
      arrange(standIn)
      const options = releaseRun(
        standIn.url,
        repositories,
        '2.1.0',
        SHA_B,
        { convention: 'channels' },
        { RUNNER_TEMP: dir }
      )
      const { child, result } = startAction(options)
      await standIn.control.waitFor('PutImage', base + landed)
      await scenario({ standIn, before, now, options, child, result })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

/** The digest of the build of 1.1.0 (sha-1100000). */
const buildOf = (standIn: Registry['standIn'], name: string) =>
  tagsOf(standIn.control.snapshot(name))['sha-1100000']!

/** Resolves once the run's log shows `marker`: the run is in that phase. */
const reached = (child: ChildProcessWithoutNullStreams, marker: string) =>
  new Promise<void>((resolve, reject) => {
    let log = ''
    child.stdout.on('data', (chunk: Buffer) => {
      log += chunk.toString()
      if (log.includes(marker)) resolve()
    })
    child.on('close', () => reject(new Error(`the run ended without "${marker}": ${log}`)))
  })

describe('a job cancelled', () => {
  it.concurrent(
    "as GitHub does, late in a release of 40 repositories x 3 tags at ECR's quota: no pointer is left moved when the step ends, and the post step puts back the rest",
    () =>
      // After 110 of the 120 writes, undoing them at 10 a second takes longer than GitHub waits.
      releaseInJob(
        40,
        (standIn) => standIn.control.quota({ PutImage: { rate: 10, burst: 10 } }),
        110,
        async ({ before, now, options, child, result }) => {
          const pointers = (of: typeof before) =>
            Object.values(of).map(({ stable, latest }) => ({ stable, latest }))
          const sent = await cancelLikeGitHub(child, result)
          const main = await result
          expect(sent).toContain('SIGTERM')
          const left = now()
          expect(pointers(left)).toEqual(pointers(before))
          const stray = Object.values(left).filter((tags) => tags['2.1.0'] !== undefined).length
          expect(stray).toBeGreaterThan(0)
          // The outputs and the summary were written before the undo started, and again when it stopped.
          expect(rowsOf(main)).toHaveLength(120)
          expect(main.summary).toMatch(/cancel/i)
          const post = await runPost(options, main.state)
          expect(now()).toEqual(before)
          expect(post.status).toBe(0)
          expect(post.summary).toContain('the undo, finished by the post step')
          console.log(
            `40 x 3, cancelled after 110 writes: signals ${sent.join(', ')}, main step ${main.signal ?? `exit ${main.status}`}; ${stray} version tags left for the post step, which put them back`
          )
        }
      ),
    60_000
  )

  it.concurrent(
    'while ECR throttles the pointer writes and the removals: the cancel abandons the writes, puts back what landed under the quota, and says so before it ends',
    () =>
      // The three version tags take three tokens; the pointers then wait on one a second.
      releaseInJob(
        3,
        (standIn) =>
          standIn.control.quota({
            PutImage: { rate: 1, burst: 4 },
            BatchDeleteImage: { rate: 1, burst: 1 }
          }),
        4,
        async ({ standIn, before, now, options, child, result }) => {
          const sent = await cancelLikeGitHub(child, result)
          const main = await result
          expect(sent).toEqual(['SIGINT'])
          expect(main.status).toBe(1)
          expect(standIn.control.throttled.length).toBeGreaterThan(0)
          expect(now()).toEqual(before)
          expect(main.errors[0]).toBe('the job was cancelled (SIGINT): no further tag is written')
          expect(main.errors.at(-1)).toMatch(AS_BEFORE)
          expect(rowsOf(main)).toHaveLength(9)
          expect(main.summary).toContain('<h4>Failed</h4>')
          // The summary written before the undo was replaced by the final one.
          expect(main.summary).not.toContain('Putting back what this run wrote')
          const post = await runPost(options, main.state)
          expect(post.status).toBe(0)
          expect(post.summary).toBe('')
        }
      ),
    30_000
  )

  it.concurrent(
    'killed at once after its SIGINT, before the undo decided anything: the post step puts back every write it had sent',
    () =>
      // Writes are slow to land: some are sent and not yet applied when the step dies.
      releaseInJob(
        4,
        (standIn) => standIn.control.latency({ PutImage: [200, 500] }, 3),
        3,
        async ({ before, now, options, child, result }) => {
          child.kill('SIGINT')
          child.kill('SIGKILL')
          const main = await result
          expect(main.signal).toBe('SIGKILL')
          // The writes the SIGKILL left in flight land while the job's other steps end.
          await sleep(600)
          expect(now()).not.toEqual(before)
          const post = await runPost(options, main.state)
          expect(post.status).toBe(0)
          expect(now()).toEqual(before)
        }
      )
  )

  it.concurrent.each<[string, NodeJS.Signals[]]>([
    [
      'SIGINT during the writes, then SIGTERM once the undo is under way, which gives it 1.5 s more',
      ['SIGINT', 'SIGTERM']
    ],
    ['SIGTERM once every write has landed, while the run waits to check its pointers', ['SIGTERM']]
  ])(
    '%s: stops, abandons the writes in flight, puts back every one (those that land late too), exits 1',
    (_name, signals) =>
      withStandIn(async (registry) => {
        const { standIn } = registry
        const { control } = standIn
        const repositories = await seedEnvironments(registry, signals.join('-').toLowerCase(), 4)
        const before = registryOf(registry, repositories)
        const base = callsOf(standIn, 'PutImage').length
        const during = signals.length > 1
        // During the writes, three version tags are held on their way: the SIGINT abandons them in
        // flight. Otherwise writes take 200-600 ms, so the run waits about 1 s to check its pointers.
        const late = during ? control.hold('PutImage', { tag: 'v1.1.0', count: 3 }) : undefined
        if (!during) control.latency({ PutImage: [200, 600] }, 7)
        const { child, result } = startAction(
          releaseRun(standIn.url, repositories, 'v1.1.0', SHAS['1.1.0'])
        )
        const landed = during ? 1 : 2 * repositories.length
        await control.waitFor('PutImage', base + landed)
        await late?.arrived(3)
        // Sent but not yet applied when the signal comes: abandoned, they may land after the undo looked.
        const inFlight = callsOf(standIn, 'PutImage').length - base - landed
        if (late) {
          // The held writes land once the undo has looked; the SIGTERM comes as its second look
          // removes them (ABANDONED_WRITE_MS after the SIGINT), so the 1.5 s it leaves are not raced.
          const look = control.hold('BatchDeleteImage')
          child.kill('SIGINT')
          await look.arrived()
          const removals = control.hold('BatchDeleteImage', { count: 3 })
          late.release()
          look.release()
          await removals.arrived(3)
          // Released only once the run has seen the SIGTERM: released at once, the removals'
          // answers could end the undo before the signal got there, and nothing would be bounded.
          const seen = reached(child, 'SIGTERM received')
          child.kill('SIGTERM')
          await seen
          removals.release()
        } else child.kill('SIGTERM')
        const run = await result
        expectExit(run, 1, `cancelled by ${signals.join(' then ')}`)
        if (landed < 2 * repositories.length) expect(inFlight).toBeGreaterThan(0)
        // The first signal stops the writes; a later one only bounds the undo, which needs less.
        expect(run.stdout.split('\n').filter((line) => / received: /.test(line))).toEqual(
          signals.map((signal, index) =>
            index === 0
              ? `::warning::${signal} received: no further tag is written, and what this run wrote is put back`
              : `::warning::${signal} received: the undo stops in 1.5 s`
          )
        )
        expect(registryOf(registry, repositories)).toEqual(before)
        const actions = rowsOf(run).map(({ action }) => action)
        for (const action of actions) expect(['undone', 'unchanged', 'failed']).toContain(action)
        expect(actions).toContain('undone')
        expect(run.errors[0]).toBe(
          `the job was cancelled (${signals[0]}): no further tag is written`
        )
        expect(run.errors.at(-1)).toMatch(AS_BEFORE)
        expect(run.summary).toContain('<h4>Failed</h4>')
        expectTruthful(run, standIn, repositories)
        expectOutputsPerRepository(run, repositories)
      })
  )

  it.concurrent.each<
    [string, (registry: Registry, name: string) => void, Record<string, string>, string]
  >([
    [
      'reading the registry (ListImages never answered)',
      ({ standIn }) => standIn.control.hang('ListImages', { count: 5 }),
      {},
      '::group::Read the registry'
    ],
    [
      'waiting for a source that is not pushed yet (wait-for-source)',
      () => undefined,
      { 'wait-for-source': '10m', sha: SHA_C },
      'waiting for'
    ],
    [
      'waiting for a signature ECR managed signing is still making',
      ({ standIn }, name) =>
        standIn.control.setSigning(name, buildOf(standIn, name), [
          {
            signingProfileArn: 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/ci',
            status: 'IN_PROGRESS'
          }
        ]),
      { 'require-signature': 'managed' },
      'ECR managed signing is IN_PROGRESS'
    ],
    [
      'waiting for an archived image to be restored',
      ({ standIn }, name) =>
        standIn.control.archive(name, buildOf(standIn, name), { restoreMs: 60_000 }),
      {},
      'is archived: restoring it'
    ]
  ])(
    'before any write, while %s: the run ends at once, writing nothing',
    (phase, arrange, inputs, marker) =>
      withStandIn(async (registry) => {
        const { standIn } = registry
        // production on v1.0.0: the release moves it, so its gates run too.
        const [name] = (await seedEnvironments(registry, 'signal', 1)) as [string]
        arrange(registry, name)
        const before = tagsOf(standIn.control.snapshot(name))
        const { child, result } = startAction(
          releaseRun(standIn.url, [name], 'v1.2.5', SHAS['1.1.0'], inputs)
        )
        await reached(child, marker)
        const signalled = Date.now()
        child.kill('SIGINT')
        const run = await result
        const seconds = (Date.now() - signalled) / 1000
        expect(seconds).toBeLessThan(2)
        expect(run.status).toBe(1)
        expect(run.errors).toEqual(['the job was cancelled (SIGINT): no tag was written'])
        expect(tagsOf(standIn.control.snapshot(name))).toEqual(before)
        expect(run.summary).toContain('Nothing was written.')
        console.log(`SIGINT while ${phase}: ended in ${seconds.toFixed(2)} s, nothing written`)
      })
  )
})
