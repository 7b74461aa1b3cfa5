/**
 * End to end under faults, concurrency and cancellation: the bundled dist/index.js, run as a GitHub
 * runner runs it, against the ECR stand-in (./support/ecr-standin.mjs) with its fault injection,
 * latency, hangs and signals. Every scenario is seeded and bounded in time.
 *
 * The invariant checked after every run that ends by itself, green or red: each row of `changes`
 * says where the registry has the tag (`to` for created/moved, else `from`, absent when null, and
 * always its `now`), and
 * `tags` names exactly the derived tags that point at the `digest` output.
 */
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr'
import { setTimeout as sleep } from 'node:timers/promises'
import { mulberry32 as random, startStandIn } from './support/ecr-standin.mjs'
import { multiArchImage, seedImage } from './support/images.mjs'
import { runAction, startAction } from './support/run-action.mjs'

type StandIn = Awaited<ReturnType<typeof startStandIn>>
type Snapshot = ReturnType<StandIn['control']['snapshot']>
type Result = Awaited<ReturnType<typeof runAction>>
type Image = ReturnType<typeof multiArchImage>
type FaultKind = 'reset-before' | 'error-after' | 'reset-after' | 'hang'

interface Row {
  repository: string
  tag: string
  from: string | null
  to: string | null
  action: 'created' | 'moved' | 'unchanged' | 'planned' | 'undone' | 'failed'
}

interface Registry {
  standIn: StandIn
  client: ECRClient
}

const sha = (char: string) => `${char.repeat(7)}${'0'.repeat(33)}`
const SHA_B = sha('b')
const SHA_C = sha('c')

/** A fresh stand-in per scenario: faults, latency and waitFor() counts are the stand-in's, not a repository's. */
async function withRegistry<T>(scenario: (registry: Registry) => Promise<T>): Promise<T> {
  const standIn = await startStandIn()
  const client = new ECRClient({
    endpoint: standIn.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1
  })
  try {
    return await scenario({ standIn, client })
  } finally {
    client.destroy()
    await standIn.close()
  }
}

interface Seeded {
  /** Tagged sha-aaaaaaa, v1.0.0 and production. */
  old: Image
  /** The build images, by their sha7 (tagged sha-<sha7>). */
  builds: Record<string, Image>
}

/** A repository whose production is on v1.0.0, with a build image for each sha7. */
async function seedRepository(
  { client }: Registry,
  repository: string,
  sha7s: string[] = ['bbbbbbb']
): Promise<Seeded> {
  await client.send(new CreateRepositoryCommand({ repositoryName: repository }))
  const old = multiArchImage(`${repository}-old`)
  await seedImage(client, repository, old, ['sha-aaaaaaa', 'v1.0.0', 'production'])
  const builds: Record<string, Image> = {}
  for (const sha7 of sha7s) {
    const image = multiArchImage(`${repository}-${sha7}`)
    await seedImage(client, repository, image, [`sha-${sha7}`])
    builds[sha7] = image
  }
  return { old, builds }
}

const releaseOptions = (
  { standIn }: Registry,
  repositories: string[],
  tag: string,
  commit: string
) => ({
  endpoint: standIn.url,
  eventName: 'release',
  payload: {
    action: 'published',
    release: { tag_name: tag, prerelease: false },
    repository: { default_branch: 'main', full_name: 'octo/app' }
  },
  inputs: { repository: repositories.join('\n') },
  env: { GITHUB_REF: `refs/tags/${tag}`, GITHUB_SHA: commit }
})

/** Every tag of a snapshot and the digest it points at. */
function tagsOf(snapshot: Snapshot): Record<string, string> {
  const tags: Record<string, string> = {}
  for (const { digest, tags: names } of snapshot.images) for (const tag of names) tags[tag] = digest
  return tags
}

/** A snapshot with some tags pointed elsewhere (or removed, with null): what a registry should end as. */
function retagged(snapshot: Snapshot, moves: Record<string, string | null>): Snapshot {
  return {
    images: snapshot.images.map((image) => ({
      ...image,
      tags: [
        ...image.tags.filter((tag) => !(tag in moves)),
        ...Object.entries(moves).flatMap(([tag, digest]) => (digest === image.digest ? [tag] : []))
      ].sort()
    }))
  }
}

/** The `changes` rows with `now`, where the run last saw each tag in the registry. */
const rowsOf = (result: Result): (Row & { now: string | null })[] =>
  JSON.parse(result.outputs.changes ?? '[]') as (Row & { now: string | null })[]
const changesOf = (result: Result): Row[] =>
  rowsOf(result).map(({ repository, tag, from, to, action }) => ({
    repository,
    tag,
    from,
    to,
    action
  }))
const linesOf = (text: string | undefined): string[] => (text ? text.split('\n') : [])
const summaryOf = (result: Result): string =>
  changesOf(result)
    .map(({ repository, tag, action }) => `${repository}:${tag} ${action}`)
    .join(', ')

/** Where a row says its tag is now: the run's target for a write it made, else where it was. */
const claimed = ({ action, from, to }: Row): string | null =>
  action === 'created' || action === 'moved' ? to : from

/** The run told the truth: every row matches the registry, and `tags` lists the derived tags on `digest`. */
function expectTruthful(result: Result, { standIn }: Registry, repositories: string[]): void {
  const rows = rowsOf(result)
  const digests = (result.outputs.digest ?? '').split('\n')
  const onDigest = new Set<string>()
  for (const row of rows) {
    const now = tagsOf(standIn.control.snapshot(row.repository))[row.tag] ?? null
    expect({ ...row, registry: now }).toEqual({ ...row, registry: row.now })
    // An undo may put a pointer on a release another run made meanwhile instead of `from`; `now` says so.
    const redirected = row.action === 'undone' && row.now !== row.from
    if (!redirected) expect({ ...row, registry: now }).toEqual({ ...row, registry: claimed(row) })
    const digest = digests[repositories.indexOf(row.repository)]
    if (digest && now === digest) onDigest.add(row.tag)
  }
  expect(linesOf(result.outputs.tags).sort()).toEqual([...onDigest].sort())
}

/** One line per repository in `digest`, `previous-digest` and `version`, in input order; `json` agrees. */
function expectOutputsPerRepository(result: Result, repositories: string[]): void {
  const json = JSON.parse(result.outputs.json ?? '[]') as Record<string, unknown>[]
  expect(json.map(({ repository }) => repository)).toEqual(repositories)
  for (const field of ['digest', 'previous-digest', 'version'] as const) {
    const lines = (result.outputs[field] ?? '').split('\n')
    expect({ field, lines: lines.length }).toEqual({ field, lines: repositories.length })
    expect(json.map((entry) => entry[field])).toEqual(lines)
  }
}

/** Polls until `condition` holds; the stand-in records a request the moment it arrives. */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(2)
  }
}

const putImageCalls = ({ standIn }: Registry): number =>
  standIn.control.calls.filter(({ operation }) => operation === 'PutImage').length

/**
 * Runs `task` over `items`, at most `limit` at a time, keeping the order of the results. Once a task
 * fails no new one starts; the first failure is thrown when the running ones have ended.
 */
async function pool<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = []
  const failures: unknown[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length && failures.length === 0) {
        const index = next++
        try {
          results[index] = await task(items[index] as T)
        } catch (error) {
          failures.push(error)
        }
      }
    })
  )
  if (failures.length > 0) throw failures[0]
  return results
}

const AS_BEFORE = /the registry is as it was before the run$/

/** Fails with the run's whole log, which a diff of the status alone would not show. */
function expectExit(result: Result, status: number, what: string): void {
  if (result.status === status && result.signal === null) return
  throw new Error(
    `${what}: expected exit ${status}, got ${result.status ?? `signal ${result.signal}`}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`
  )
}

describe('ecr-promote under faults, concurrency and cancellation (ECR stand-in)', () => {
  it.each([
    // The rate the brief asks for: with 6 attempts per call, nearly every run gets through.
    [0.3, 20],
    // Enough to exhaust the attempts now and then, so failed runs and their undo are faulted too.
    [0.6, 10]
  ])(
    'tells the truth about every write when answers are lost at rate %d, over %d seeds',
    async (rate, count) => {
      const seeds = Array.from({ length: count }, (_, i) => i + 1)
      const kinds: FaultKind[] = ['error-after', 'reset-after', 'reset-before']
      const runs = await pool(seeds, 3, (seed) =>
        withRegistry(async (registry) => {
          const { standIn } = registry
          const repository = `faults/app-${seed}-${rate * 10}`
          const { old, builds } = await seedRepository(registry, repository)
          const build = builds.bbbbbbb as Image
          const before = standIn.control.snapshot(repository)
          const from = standIn.control.calls.length
          standIn.control.faults({ seed, rate, kinds })
          const result = await runAction(releaseOptions(registry, [repository], 'v1.1.0', SHA_B))
          standIn.control.faults(null)
          const injected = [...standIn.control.injected]
          const context = { seed, status: result.status, errors: result.errors }

          expect({ ...context, injected: injected.length > 0 }).toEqual({
            ...context,
            injected: true
          })
          expect({ ...context, signal: result.signal }).toEqual({ ...context, signal: null })
          const writes = standIn.control.calls
            .slice(from)
            .filter(({ operation }) => operation === 'PutImage' || operation === 'BatchDeleteImage')
          // A run whose reads fail for good ends before it plans, and then sets no output at all.
          const outputs = result.outputs.json !== undefined
          if (!outputs)
            expect({ ...context, writes: writes.length }).toEqual({ ...context, writes: 0 })
          else expectOutputsPerRepository(result, [repository])
          expectTruthful(result, registry, [repository])
          const after = standIn.control.snapshot(repository)
          if (result.status === 0) {
            expect(context.errors).toEqual([])
            expect(changesOf(result)).toEqual([
              { repository, tag: 'v1.1.0', from: null, to: build.digest, action: 'created' },
              { repository, tag: 'production', from: old.digest, to: build.digest, action: 'moved' }
            ])
            expect(after).toEqual(
              retagged(before, { 'v1.1.0': build.digest, production: build.digest })
            )
          } else {
            expect(context.status).toBe(1)
            const was = tagsOf(before)
            const now = tagsOf(after)
            const differing = [...new Set([...Object.keys(was), ...Object.keys(now)])].filter(
              (tag) => was[tag] !== now[tag]
            )
            if (differing.length === 0) {
              expect(after).toEqual(before)
              // Once a write was sent, the run must say how it left the registry.
              if (writes.length > 0) expect(context.errors.at(-1)).toMatch(AS_BEFORE)
            }
            for (const tag of differing) {
              expect({ tag, errors: context.errors }).toEqual({
                tag,
                errors: expect.arrayContaining([expect.stringContaining(`${repository}:${tag}`)])
              })
            }
          }
          return {
            seed,
            status: result.status,
            injected,
            outputs,
            errors: result.errors,
            changes: summaryOf(result)
          }
        })
      )

      const all = runs.flatMap(({ injected }) => injected)
      const byKind = (operation?: string) =>
        Object.fromEntries(
          kinds.map((kind) => [
            kind,
            all.filter(
              (fault) => fault.kind === kind && (!operation || fault.operation === operation)
            ).length
          ])
        )
      const lostAfterPut = all.filter(
        ({ operation, kind }) =>
          operation === 'PutImage' && (kind === 'error-after' || kind === 'reset-after')
      ).length
      console.log(
        [
          `lost answers: ${runs.length} runs (seeds ${seeds[0]}-${seeds.at(-1)}, rate ${rate}),`,
          `${runs.filter(({ status }) => status === 0).length} succeeded,`,
          `${runs.filter(({ status }) => status !== 0).length} failed;`,
          `${all.length} faults injected ${JSON.stringify(byKind())},`,
          `on PutImage ${JSON.stringify(byKind('PutImage'))}, ${lostAfterPut} PutImage answers lost after the write was applied;`,
          `${runs.filter(({ outputs }) => !outputs).length} failed before planning and set no output;`,
          `per run: ${runs.map(({ seed, status, injected }) => `#${seed} exit ${status} ${injected.length} faults`).join(', ')};`,
          `failed runs: ${
            runs
              .filter(({ status }) => status !== 0)
              .map(({ seed, changes, errors }) => `#${seed} [${changes}] ${errors.join(' | ')}`)
              .join('; ') || 'none'
          }`
        ].join(' ')
      )
      expect(lostAfterPut).toBeGreaterThan(0)
    },
    60_000
  )

  it('moves production to the higher of two overlapping releases, over 20 seeded trials', async () => {
    const trials = Array.from({ length: 20 }, (_, i) => i + 1)
    const outcomes = await pool(trials, 2, (trial) =>
      withRegistry(async (registry) => {
        const { standIn } = registry
        const repository = `overlap/app-${trial}`
        const { builds } = await seedRepository(registry, repository, ['bbbbbbb', 'ccccccc'])
        const [low, high] = [builds.bbbbbbb as Image, builds.ccccccc as Image]
        const gap = Math.floor(random(trial)() * 301)
        const highFirst = trial % 2 === 0
        standIn.control.latency({ default: [50, 100] }, trial)

        const start = (tag: string, commit: string) =>
          startAction(releaseOptions(registry, [repository], tag, commit)).result
        const first = highFirst ? start('v1.2.0', SHA_C) : start('v1.1.0', SHA_B)
        await sleep(gap)
        const second = highFirst ? start('v1.1.0', SHA_B) : start('v1.2.0', SHA_C)
        const [a, b] = await Promise.all([first, second])
        const [lower, higher] = highFirst ? [b, a] : [a, b]
        standIn.control.latency(0)

        const context = { trial, gap, highFirst }
        expect({ ...context, status: lower.status, errors: lower.errors }).toEqual({
          ...context,
          status: 0,
          errors: []
        })
        expect({ ...context, status: higher.status, errors: higher.errors }).toEqual({
          ...context,
          status: 0,
          errors: []
        })
        const tags = tagsOf(standIn.control.snapshot(repository))
        expect({ ...context, production: tags.production }).toEqual({
          ...context,
          production: high.digest
        })
        expect({ ...context, v110: tags['v1.1.0'], v120: tags['v1.2.0'] }).toEqual({
          ...context,
          v110: low.digest,
          v120: high.digest
        })
        const production = (result: Result) =>
          changesOf(result).find(({ tag }) => tag === 'production')
        // The higher release always writes production, and its rows match the final registry.
        expect(production(higher)).toMatchObject({ to: high.digest, action: 'moved' })
        expectTruthful(higher, registry, [repository])
        return {
          lowerProduction: production(lower)?.action,
          lowerNoted: /another run released 1\.2\.0 meanwhile and moved it there/.test(
            lower.stdout
          ),
          handedOn: /handed on to 1\.2\.0/.test(lower.stdout),
          repaired: /took it after this run wrote it/.test(higher.stdout)
        }
      })
    )
    const count = (predicate: (outcome: (typeof outcomes)[number]) => boolean) =>
      outcomes.filter(predicate).length
    console.log(
      [
        `overlapping releases: ${outcomes.length} trials (gap 0-300 ms, alternating order, latency 50-100 ms),`,
        `all ${outcomes.length} ended with production on v1.2.0 and both runs green;`,
        `the v1.1.0 run moved production in ${count((o) => o.lowerProduction === 'moved')}`,
        `(${count((o) => o.lowerNoted)} of them saw v1.2.0 take it after,`,
        `${count((o) => o.handedOn)} handed it on to v1.2.0 themselves),`,
        `held it in ${count((o) => o.lowerProduction === 'unchanged')};`,
        `the v1.2.0 run repaired production after a lower write in ${count((o) => o.repaired)}`
      ].join(' ')
    )
  }, 90_000)

  describe('a late-failing run does not revert a run that finished green', () => {
    // Run A releases v1.2.0 to two repositories and fails in the second one (PutImage denied there
    // once its v1.2.0 is written), so it undoes everything at its end. Run B releases v1.1.0 to the
    // first repository, in full, while A is in flight. Latency set per request on arrival pins the
    // interleaving exactly; `until` watches requests arrive, `waitFor` watches them land.

    it('B moved production before A read it: A moves it on and puts it back to B, not to v1.0.0', async () => {
      // Pinned: A has written v1.2.0 in both repositories; its re-reads of production (just before
      // writing it) arrive and are held 4 s; B then runs from start to finish (production moved to
      // v1.1.0, green); A's re-read then shows v1.1.0, A moves production to v1.2.0, its write in
      // the second repository is denied, and A undoes: production goes back to where A found it.
      await withRegistry(async (registry) => {
        const { standIn } = registry
        const [first, second] = ['late/first', 'late/second']
        const one = await seedRepository(registry, first, ['bbbbbbb', 'ccccccc'])
        await seedRepository(registry, second, ['ccccccc'])
        const beforeSecond = standIn.control.snapshot(second)
        const [b11, c12] = [one.builds.bbbbbbb as Image, one.builds.ccccccc as Image]
        const calls = standIn.control.calls
        const base = putImageCalls(registry)
        const from = calls.length

        standIn.control.latency({ PutImage: 300 })
        const runA = startAction(releaseOptions(registry, [first, second], 'v1.2.0', SHA_C)).result
        // Every read of A is done before its first write arrives; hold the next reads.
        await until(() => putImageCalls(registry) > base, "A's first PutImage")
        standIn.control.latency({ PutImage: 300, BatchGetImage: 4_000 })
        await standIn.control.waitFor('PutImage', base + 2)
        standIn.control.deny('PutImage', second)
        const isReRead = (repository: string) => (call: (typeof calls)[number]) =>
          call.operation === 'BatchGetImage' &&
          call.input.repositoryName === repository &&
          JSON.stringify(call.input.imageIds) === JSON.stringify([{ imageTag: 'production' }])
        await until(
          () => calls.slice(from).some(isReRead(first)) && calls.slice(from).some(isReRead(second)),
          "A's re-reads of production"
        )
        standIn.control.latency(0)

        const runB = await runAction(releaseOptions(registry, [first], 'v1.1.0', SHA_B))
        expect(runB.errors).toEqual([])
        expect(runB.status).toBe(0)
        expect(changesOf(runB).map(({ tag, action }) => `${tag} ${action}`)).toEqual([
          'v1.1.0 created',
          'production moved'
        ])
        expect(tagsOf(standIn.control.snapshot(first)).production).toBe(b11.digest)

        const resultA = await runA
        expect(resultA.status).toBe(1)
        expect(resultA.errors).toEqual([
          expect.stringMatching(/^access denied: .*ecr:PutImage on repository late\/second/),
          'every tag this run had written was put back: the registry is as it was before the run'
        ])
        expect(changesOf(resultA)).toEqual([
          { repository: first, tag: 'v1.2.0', from: null, to: c12.digest, action: 'undone' },
          {
            repository: first,
            tag: 'production',
            from: b11.digest,
            to: c12.digest,
            action: 'undone'
          },
          expect.objectContaining({ repository: second, tag: 'v1.2.0', action: 'undone' }),
          expect.objectContaining({ repository: second, tag: 'production', action: 'failed' })
        ])
        const tags = tagsOf(standIn.control.snapshot(first))
        expect(tags.production).toBe(b11.digest)
        expect(tags['v1.1.0']).toBe(b11.digest)
        expect(tags['v1.2.0']).toBeUndefined()
        expect(standIn.control.snapshot(second)).toEqual(beforeSecond)
        // Both reports still match the registry: B's rows, and A's.
        expectTruthful(runB, registry, [first])
        expectTruthful(resultA, registry, [first, second])
      })
    }, 30_000)

    it('A moved production before B read it (B holds): A, cancelled later, puts production on B, not on v1.0.0', async () => {
      // Pinned: A's writes are slow (1.5 s each). A writes v1.2.0 and production; once its production
      // write has landed, B runs in full during A's settle time (3 x 1.5 s): B writes v1.1.0 and
      // holds production on v1.2.0 (green). Then A is cancelled and undoes. B finished green with
      // v1.1.0 released and production above it: A's undo must put production on v1.1.0, the
      // release made meanwhile, not back on the v1.0.0 that A found.
      await withRegistry(async (registry) => {
        const { standIn } = registry
        const first = 'held/first'
        const one = await seedRepository(registry, first, ['bbbbbbb', 'ccccccc'])
        const [b11, c12] = [one.builds.bbbbbbb as Image, one.builds.ccccccc as Image]
        const base = putImageCalls(registry)

        standIn.control.latency({ PutImage: 1_500 })
        const runA = startAction(releaseOptions(registry, [first], 'v1.2.0', SHA_C))
        await standIn.control.waitFor('PutImage', base + 2)
        expect(tagsOf(standIn.control.snapshot(first)).production).toBe(c12.digest)
        standIn.control.latency(0)

        const runB = await runAction(releaseOptions(registry, [first], 'v1.1.0', SHA_B))
        expect(runB.errors).toEqual([])
        expect(runB.status).toBe(0)
        expect(changesOf(runB).map(({ tag, action }) => `${tag} ${action}`)).toEqual([
          'v1.1.0 created',
          'production unchanged'
        ])
        expect(runB.summary).toContain('stays on 1.2.0')

        runA.child.kill('SIGINT')
        const resultA = await runA.result
        expect(resultA.status).toBe(1)
        expect(resultA.errors).toEqual([
          'the job was cancelled (SIGINT): no further tag is written',
          'every tag this run had written was put back',
          expect.stringMatching(
            new RegExp(
              `^${first}:production was put back on ${b11.digest.slice(0, 19)}, which another run released meanwhile, rather than on ${one.old.digest.slice(0, 19)}$`
            )
          )
        ])
        const tags = tagsOf(standIn.control.snapshot(first))
        expect(tags.production).toBe(b11.digest)
        expect(tags['v1.1.0']).toBe(b11.digest)
        expect(tags['v1.2.0']).toBeUndefined()
        expectTruthful(resultA, registry, [first])
      })
    }, 30_000)
  })

  describe('cancellation', () => {
    const REPOSITORIES = ['cancel/api', 'cancel/worker', 'cancel/web', 'cancel/jobs']

    /** Four repositories, production on v1.0.0 in each, the build image tagged sha-bbbbbbb. */
    async function seedAll(registry: Registry, prefix: string) {
      const repositories = REPOSITORIES.map((name) => `${prefix}/${name}`)
      const seeded = new Map<string, Seeded>()
      for (const repository of repositories)
        seeded.set(repository, await seedRepository(registry, repository))
      const before = new Map(
        repositories.map((repository) => [
          repository,
          registry.standIn.control.snapshot(repository)
        ])
      )
      return { repositories, seeded, before }
    }

    async function cancelled(
      signals: NodeJS.Signals[],
      afterWrites: (repositories: string[]) => number,
      prefix: string
    ) {
      await withRegistry(async (registry) => {
        const { standIn } = registry
        const { repositories, before } = await seedAll(registry, prefix)
        const base = putImageCalls(registry)
        // Writes take 200-600 ms, so some are in flight when the signal comes; removals take 300 ms,
        // so the undo is still running 200 ms after the first signal.
        standIn.control.latency({ PutImage: [200, 600], BatchDeleteImage: 300 }, 7)
        const { child, result } = startAction(
          releaseOptions(registry, repositories, 'v1.1.0', SHA_B)
        )
        const landed = afterWrites(repositories)
        await standIn.control.waitFor('PutImage', base + landed)
        // Sent but not yet applied when the signal comes: abandoned, they may land after the undo looked.
        const inFlight = putImageCalls(registry) - base - landed
        for (const [index, signal] of signals.entries()) {
          if (index > 0) await sleep(200)
          child.kill(signal)
        }
        const run = await result
        expectExit(run, 1, `cancelled by ${signals.join(' then ')}`)
        if (landed < 2 * repositories.length) expect(inFlight).toBeGreaterThan(0)
        expect(run.stdout).toContain(`${signals[0]} received`)
        // The first signal stops the writes; a later one only bounds the undo, which needs less.
        expect(run.stdout.split('\n').filter((line) => / received: /.test(line))).toEqual(
          signals.map((signal, index) =>
            index === 0
              ? `::warning::${signal} received: no further tag is written, and what this run wrote is put back`
              : `::warning::${signal} received: the undo stops in 1.5 s`
          )
        )
        for (const repository of repositories)
          expect({ repository, snapshot: standIn.control.snapshot(repository) }).toEqual({
            repository,
            snapshot: before.get(repository)
          })
        const rows = changesOf(run)
        expect(rows.map(({ action }) => action)).not.toContain('created')
        expect(rows.map(({ action }) => action)).not.toContain('moved')
        for (const row of rows) expect(['undone', 'unchanged', 'failed']).toContain(row.action)
        expect(rows.some(({ action }) => action === 'undone')).toBe(true)
        expect(run.errors).toEqual(expect.arrayContaining([expect.stringMatching(/cancel/i)]))
        expect(run.errors.at(-1)).toMatch(AS_BEFORE)
        expect(run.summary).toContain('<h4>Failed</h4>')
        expect(run.summary).toMatch(/cancel/i)
        expectTruthful(run, registry, repositories)
        expectOutputsPerRepository(run, repositories)
        console.log(
          `cancellation by ${signals.join(' then ')} after ${landed} writes landed, ${inFlight} in flight: exit ${run.status}; ${summaryOf(run)}; errors: ${run.errors.join(' | ')}`
        )
      })
    }

    it('SIGINT during the writes: stops, abandons the writes in flight, undoes them all (those that land late too), exits 1', async () => {
      await cancelled(['SIGINT'], () => 1, 'sigint')
    }, 20_000)

    it('SIGTERM during the writes: likewise', async () => {
      await cancelled(['SIGTERM'], () => 1, 'sigterm')
    }, 20_000)

    it('SIGINT then SIGTERM 200 ms later: the undo, given 1.5 s more, still puts everything back', async () => {
      await cancelled(['SIGINT', 'SIGTERM'], () => 1, 'twice')
    }, 20_000)

    it('SIGTERM once every write has landed, while the run waits to check its pointers: still undone, exit 1', async () => {
      // Every PutImage has been applied (two per repository); the run is in its settle time (3 x its
      // slowest write) before re-reading production. It has not ended, so it is cancelled like any.
      await cancelled(['SIGTERM'], (repositories) => 2 * repositories.length, 'settle')
    }, 20_000)

    it('SIGKILL in the middle of the writes, then the same release again: converges to a clean run', async () => {
      await withRegistry(async (registry) => {
        const { standIn } = registry
        const { repositories, seeded, before } = await seedAll(registry, 'sigkill')
        const base = putImageCalls(registry)
        standIn.control.latency({ PutImage: [100, 500] }, 11)
        const { child, result } = startAction(
          releaseOptions(registry, repositories, 'v1.1.0', SHA_B)
        )
        await standIn.control.waitFor('PutImage', base + 2)
        child.kill('SIGKILL')
        const killed = await result
        expect({ status: killed.status, signal: killed.signal }).toEqual({
          status: null,
          signal: 'SIGKILL'
        })
        // Writes already sent still land when their delay ends, as ECR would apply them.
        await sleep(600)
        standIn.control.latency(0)
        const half = repositories.map((repository) =>
          JSON.stringify(tagsOf(standIn.control.snapshot(repository)))
        )

        const again = await runAction(releaseOptions(registry, repositories, 'v1.1.0', SHA_B))
        expect(again.errors).toEqual([])
        expect(again.status).toBe(0)
        for (const repository of repositories) {
          const build = (seeded.get(repository) as Seeded).builds.bbbbbbb as Image
          expect(standIn.control.snapshot(repository)).toEqual(
            retagged(before.get(repository) as Snapshot, {
              'v1.1.0': build.digest,
              production: build.digest
            })
          )
        }
        expect(changesOf(again).map(({ action }) => action)).not.toContain('failed')
        expectTruthful(again, registry, repositories)
        expectOutputsPerRepository(again, repositories)
        console.log(
          `SIGKILL after 2 writes: ${half.filter((tags) => tags.includes('v1.1.0')).length} of ${repositories.length} repositories had v1.1.0 when the run died; the re-run: ${summaryOf(again)}`
        )
      })
    }, 20_000)
  })

  describe('a request that is never answered', () => {
    it.concurrent.each([
      ['not applied: the request times out after 5 s and is tried again', false],
      ['applied, answer never sent: the retry finds it done and the row says created', true]
    ])(
      'PutImage hangs, %s',
      async (_name, apply) => {
        await withRegistry(async (registry) => {
          const { standIn } = registry
          const repository = apply ? 'hang/applied' : 'hang/lost'
          const { old, builds } = await seedRepository(registry, repository)
          const build = builds.bbbbbbb as Image
          standIn.control.hang('PutImage', { count: 1, apply })
          const started = Date.now()
          const result = await runAction(releaseOptions(registry, [repository], 'v1.1.0', SHA_B))
          const seconds = (Date.now() - started) / 1000
          expect(result.errors).toEqual([])
          expect(result.status).toBe(0)
          expect(standIn.control.injected).toEqual([{ operation: 'PutImage', kind: 'hang' }])
          expect(seconds).toBeGreaterThanOrEqual(5)
          expect(seconds).toBeLessThan(12)
          expect(changesOf(result)).toEqual([
            { repository, tag: 'v1.1.0', from: null, to: build.digest, action: 'created' },
            { repository, tag: 'production', from: old.digest, to: build.digest, action: 'moved' }
          ])
          expectTruthful(result, registry, [repository])
          console.log(`hung PutImage (apply: ${apply}): green in ${seconds.toFixed(1)} s`)
        })
      },
      60_000
    )
  })

  describe('a removal whose answer is lost, during an undo', () => {
    it.each([
      ['the first answer', false],
      ['every answer', true]
    ])(
      'loses %s to BatchDeleteImage and still reports v1.1.0 undone, with nothing to do by hand',
      async (_name, always) => {
        await withRegistry(async (registry) => {
          const { standIn } = registry
          const repository = always ? 'undo/every' : 'undo/first'
          const { old, builds } = await seedRepository(registry, repository)
          const build = builds.bbbbbbb as Image
          const before = standIn.control.snapshot(repository)
          standIn.control.failPutImage('production')
          standIn.control.faults({
            seed: 3,
            rate: 1,
            operations: ['BatchDeleteImage'],
            kinds: ['error-after']
          })
          if (!always)
            void standIn.control
              .waitFor('BatchDeleteImage', 1)
              .then(() => standIn.control.faults(null))
          const result = await runAction(releaseOptions(registry, [repository], 'v1.1.0', SHA_B))
          standIn.control.faults(null)
          const lost = standIn.control.injected.length
          expect(lost).toBeGreaterThanOrEqual(1)
          if (!always) expect(lost).toBe(1)
          expect(result.status).toBe(1)
          expect(changesOf(result)).toEqual([
            { repository, tag: 'v1.1.0', from: null, to: build.digest, action: 'undone' },
            { repository, tag: 'production', from: old.digest, to: build.digest, action: 'failed' }
          ])
          expect(standIn.control.snapshot(repository)).toEqual(before)
          expect(result.errors).toEqual([
            `ecr:PutImage on ${repository} failed: KmsException: injected failure`,
            'every tag this run had written was put back: the registry is as it was before the run'
          ])
          expect(result.errors.join('\n')).not.toMatch(/by hand/)
          expectTruthful(result, registry, [repository])
          console.log(
            `lost BatchDeleteImage answers during the undo (${_name}): ${lost} lost, v1.1.0 undone`
          )
        })
      },
      30_000
    )
  })
})
