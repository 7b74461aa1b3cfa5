/**
 * End to end, a job cancelled as GitHub cancels it: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s
 * after that, then the action's post step with the main step's saved state. The bundle runs as a
 * runner runs it against the stand-in. Whatever the main step could not put back before it was
 * killed, the post step does: pointers first, so none is left moved, then the version tags.
 */
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startStandIn } from './support/ecr-standin.mjs'
import { multiArchImage, seedImage } from './support/images.mjs'
import { runPost, startAction, type RunOptions } from './support/run-action.mjs'
import { clientFor } from './support/harness.js'

type StandIn = Awaited<ReturnType<typeof startStandIn>>

const SHA_B = 'bbbbbbb'.padEnd(40, '2')
/** channels: a release writes `{version}`, then the pointers `stable` (forward) and `latest` (highest). */
const POINTERS = ['stable', 'latest']

let standIn: StandIn
let client: ECRClient
/** The job's temporary directory (RUNNER_TEMP), which the runner keeps for every step of the job, post steps included. */
let job: string
beforeEach(async () => {
  standIn = await startStandIn()
  client = clientFor(standIn.url)
  job = mkdtempSync(join(tmpdir(), 'ecr-promote-job-'))
})
afterEach(async () => {
  client.destroy()
  await standIn.close()
  rmSync(job, { recursive: true, force: true })
})

/** `count` repositories on 2.0.0 (stable and latest), each with a build pushed for the release. */
async function seedRepositories(prefix: string, count: number): Promise<string[]> {
  const repositories = Array.from({ length: count }, (_, index) => `${prefix}/svc${index}`)
  await Promise.all(
    repositories.map(async (name) => {
      await client.send(new CreateRepositoryCommand({ repositoryName: name }))
      await seedImage(client, name, multiArchImage(`${name}-old`), ['2.0.0', 'stable', 'latest'])
      const service = name.split('/').pop() as string
      await seedImage(client, name, multiArchImage(`${name}-build`), [`${service}-main-bbbbbbb`])
    })
  )
  return repositories
}

const releaseOptions = (repositories: string[], version: string): RunOptions => ({
  endpoint: standIn.url,
  eventName: 'release',
  payload: {
    action: 'published',
    release: { tag_name: version, prerelease: false },
    repository: { default_branch: 'main' }
  },
  inputs: { repository: repositories.join('\n'), convention: 'channels' },
  env: { GITHUB_REF: `refs/tags/${version}`, GITHUB_SHA: SHA_B, RUNNER_TEMP: job }
})

/** Every tag of every repository, and the digest it names. */
const registryOf = (repositories: string[]) =>
  Object.fromEntries(
    repositories.map((name) => [
      name,
      Object.fromEntries(
        standIn.control
          .snapshot(name)
          .images.flatMap(({ digest, tags }) => tags.map((tag) => [tag, digest]))
      )
    ])
  )

/** The pointers of every repository, as they were before the run or not. */
const pointersOf = (registry: Record<string, Record<string, string>>) =>
  Object.fromEntries(
    Object.entries(registry).map(([name, tags]) => [
      name,
      Object.fromEntries(POINTERS.map((tag) => [tag, tags[tag]]))
    ])
  )

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

const putImages = () => standIn.control.calls.filter(({ operation }) => operation === 'PutImage')
/** Waits until `count` PutImage calls of the run have been applied (the seeding's came before). */
const writesLanded = (count: number) =>
  standIn.control.waitFor('PutImage', putImages().length + count)

it('three repositories whose pointer writes ECR throttles: a cancel abandons them, puts back what landed, and says so before it ends', async () => {
  const repositories = await seedRepositories('throttled', 3)
  const before = registryOf(repositories)
  // The three version tags take three tokens; the pointers then wait on a quota of one a second.
  standIn.control.quota({ PutImage: { rate: 1, burst: 4 } })
  const options = releaseOptions(repositories, '2.1.0')
  const { child, result } = startAction(options)
  await writesLanded(4)
  const sent = await cancelLikeGitHub(child, result)
  const main = await result
  expect(sent).toEqual(['SIGINT'])
  expect(main.status).toBe(1)
  expect(standIn.control.throttled.length).toBeGreaterThan(0)
  expect(registryOf(repositories)).toEqual(before)
  expect(main.errors[0]).toBe('the job was cancelled (SIGINT): no further tag is written')
  expect(main.errors.at(-1)).toBe(
    'every tag this run had written was put back: the registry is as it was before the run'
  )
  expect(JSON.parse(main.outputs.changes ?? '[]')).toHaveLength(9)
  expect(main.summary).toContain('<h4>Failed</h4>')
  // The summary written before the undo was replaced by the final one.
  expect(main.summary).not.toContain('Putting back what this run wrote')
  const post = await runPost(options, main.state)
  expect(post.status).toBe(0)
  expect(post.summary).toBe('')
  console.log(
    `throttled cancel: ${standIn.control.throttled.length} throttled, signals ${sent.join(', ')}, exit ${main.status}, ${putImages().length} PutImage calls; the post step had nothing to do`
  )
}, 30_000)

it('40 repositories x 3 tags at 10 writes a second, cancelled late: no pointer is left moved when the step is killed, and the post step puts back the rest', async () => {
  const repositories = await seedRepositories('forty', 40)
  const before = registryOf(repositories)
  standIn.control.quota({ PutImage: { rate: 10, burst: 10 } })
  const options = releaseOptions(repositories, '2.1.0')
  const { child, result } = startAction(options)
  // 110 of the 120 writes have landed: undoing them at 10 a second takes longer than GitHub waits.
  await writesLanded(110)
  const sent = await cancelLikeGitHub(child, result)
  const main = await result
  expect(sent).toContain('SIGTERM')
  const left = registryOf(repositories)
  expect(pointersOf(left)).toEqual(pointersOf(before))
  const stray = Object.values(left).filter((tags) => tags['2.1.0'] !== undefined).length
  expect(stray).toBeGreaterThan(0)
  // The outputs and the summary were written before the undo started, and again when it stopped.
  expect(JSON.parse(main.outputs.changes ?? '[]')).toHaveLength(120)
  expect(main.summary).toMatch(/cancel/i)
  const post = await runPost(options, main.state)
  expect(registryOf(repositories)).toEqual(before)
  expect(post.status).toBe(0)
  expect(post.summary).toContain('the undo, finished by the post step')
  console.log(
    `40 x 3, cancelled after 110 writes: signals ${sent.join(', ')}, main step ${main.signal ?? `exit ${main.status}`}; ${stray} version tags left for the post step, which put them back (exit ${post.status})`
  )
}, 60_000)

it('killed at once after its SIGINT, before the undo decided anything: the post step puts back every write it had sent', async () => {
  const repositories = await seedRepositories('killed', 4)
  const before = registryOf(repositories)
  // Writes are slow to land: some are sent and not yet applied when the step dies.
  standIn.control.latency({ PutImage: [200, 500] }, 3)
  const options = releaseOptions(repositories, '2.1.0')
  const { child, result } = startAction(options)
  await writesLanded(3)
  child.kill('SIGINT')
  child.kill('SIGKILL')
  const main = await result
  expect(main.signal).toBe('SIGKILL')
  // The writes the runner's SIGKILL left in flight land while the job's other steps end.
  await sleep(600)
  const left = registryOf(repositories)
  expect(left).not.toEqual(before)
  const post = await runPost(options, main.state)
  expect(post.status).toBe(0)
  expect(registryOf(repositories)).toEqual(before)
  console.log(
    `killed at once: ${Object.values(left).filter((tags) => tags['2.1.0']).length} repositories had 2.1.0 when the step died; the post step put them all back`
  )
}, 30_000)

it.each([
  [
    'LimitExceededException (a hard quota: tried once more)',
    'LimitExceededException',
    'exceeds the maximum allowed number of tags per image which is 1000'
  ],
  ['a 5xx answer (tried again for 10 s)', 'ServerException', 'internal failure']
])(
  'a PutImage that fails with %s every time ends the run, undone, within 20 s',
  async (_name, exception, message) => {
    const [repository] = (await seedRepositories(`sticky-${exception.toLowerCase()}`, 1)) as [
      string
    ]
    const before = registryOf([repository])
    standIn.control.failPutImage('stable', { exception, message, times: Infinity })
    const seeded = putImages().length
    const started = Date.now()
    const { result } = startAction(releaseOptions([repository], '2.1.0'))
    const run = await result
    const seconds = (Date.now() - started) / 1000
    expect(seconds).toBeLessThan(20)
    expect(run.status).toBe(1)
    expect(registryOf([repository])).toEqual(before)
    expect(run.errors).toEqual([
      `ecr:PutImage on ${repository} failed: ${exception}: ${message}`,
      'every tag this run had written was put back: the registry is as it was before the run'
    ])
    const attempts = putImages()
      .slice(seeded)
      .filter(({ input }) => input.imageTag === 'stable').length
    if (exception === 'LimitExceededException') expect(attempts).toBe(2)
    console.log(
      `sticky ${exception}: ${attempts} attempts, failed and undone in ${seconds.toFixed(1)} s`
    )
  },
  30_000
)
