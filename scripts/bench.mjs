// @ts-check
// `npm run bench`: how fast and how frugal the bundled action is, measured against the in-memory ECR
// stand-in, each figure next to its target. Not a test: it prints a table, overwrites BENCHMARKS.md
// and exits 0 whether or not the targets are met; it exits non-zero only when the benchmark itself
// broke. Every stand-in it starts is stopped, whatever happens.
//
// Rows: (a) cold start, on this machine's node and on Node 24 (scripts/node24.mjs), (b) API calls per flow against the floor, (c) serial rounds per flow at
// 30 ms a call, (d) 100 tags across 25 repositories at ECR's PutImage quota, (e) rollbacks to
// `previous` and to a named version in a repository with 20,000 tags, (f) throttled reads, (g) copies
// from account A/us-east-1 into account B/eu-west-1 (issue 22): bytes uploaded against the blobs
// the target lacks, a re-run's bytes and writes, and a 200 MiB image's throughput and peak memory.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr'
import * as prettier from 'prettier'
import { parse } from 'yaml'
import { startStandIn } from '../__tests__/support/ecr-standin.mjs'
import {
  blobMultiArchImage,
  digestOf,
  dockerV2Image,
  multiArchImage,
  pushImage,
  seedImage,
  tagsByDigest
} from '../__tests__/support/images.mjs'
import { startAction } from '../__tests__/support/run-action.mjs'
import { withNode24 } from './node24.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const action = parse(readFileSync(join(root, 'action.yml'), 'utf8'))
/** Passed only when this action.yml has the input: run-action refuses inputs it does not declare. */
const PACE = 'max-writes-per-second' in action.inputs ? { 'max-writes-per-second': '10' } : {}

const COLD_RUNS = 15
const RSS_RUNS = 5
const QUOTA_RUNS = 5
/** (d): issue 21 asks every run within this many times the floor, the peer's figure. */
const QUOTA_TARGET = 1.05
const THROTTLED_RUNS = 5
const LATENCY_MS = 30
/** Calls that arrive within this long of a round's first call belong to that round. */
const ROUND_WINDOW_MS = 15
/** A run still going after this is killed and counted as failed (the slowest row's floor is 9 s). */
const RUN_TIMEOUT_MS = 60_000
const LIST_PAGE = 1000 // the action lists with maxResults 1000, ECR's largest page

/**
 * @typedef {Awaited<ReturnType<typeof startStandIn>>} StandIn
 * @typedef {StandIn & { client: ECRClient }} Bench a stand-in and a client for seeding it
 * @typedef {StandIn['control']['calls'][number]} Call
 * @typedef {import('../__tests__/support/run-action.mjs').RunResult & { ms: number, spawnedAt: number }} TimedRun
 * @typedef {{ eventName: string, payload: Record<string, unknown>, inputs: Record<string, string>,
 *   env: Record<string, string> }} RunEvent
 * @typedef {{ inputs?: Record<string, string>, env?: Record<string, string>, node?: string }} Extra
 * @typedef {Record<string, number>} Counts calls by operation
 * @typedef {{ a: string[], b: string[] }} State the tags of images A and B
 * @typedef {{ name: string, state: State, event: () => RunEvent, changes: string[], versions?: boolean,
 *   describes?: boolean, checked?: boolean, previousSource?: boolean, inputs?: Record<string, string>,
 *   maxCalls?: { calls: number, peer: string } }} Flow
 * @typedef {{ name: string, figure: string, target: string, met: string }} Row
 * @typedef {import('../__tests__/support/images.mjs').BlobImage} BlobImage
 */

const SHA_B = 'bbbbbbb'.padEnd(40, '2')
const MAIN = { repository: { default_branch: 'main', full_name: 'octo/app' } }

// -------------------------------------------------------------------------------------------------
// shared helpers
// -------------------------------------------------------------------------------------------------

/**
 * Starts a stand-in and a client for seeding it, runs `use`, and stops both whatever happens.
 * @template T
 * @param {(bench: Bench) => Promise<T>} use
 * @returns {Promise<T>}
 */
async function withStandIn(use) {
  const standIn = await startStandIn()
  const client = new ECRClient({
    endpoint: standIn.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }
  })
  try {
    return await use({ ...standIn, client })
  } finally {
    client.destroy()
    await standIn.close()
  }
}

/** The events a runner would deliver for each flow, as run-action takes them. */
const events = {
  /** @param {string} sha @returns {RunEvent} */
  push: (sha) => ({
    eventName: 'push',
    payload: { ref: 'refs/heads/main', after: sha, ...MAIN },
    inputs: {},
    env: { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: sha }
  }),
  /** @param {string} tag @param {string} sha @returns {RunEvent} */
  release: (tag, sha) => ({
    eventName: 'release',
    payload: { action: 'published', release: { tag_name: tag, prerelease: false }, ...MAIN },
    inputs: {},
    env: { GITHUB_REF: `refs/tags/${tag}`, GITHUB_SHA: sha }
  }),
  /**
   * A workflow_dispatch whose workflow passes its inputs on to the action, as the README shows.
   * @param {Record<string, string>} inputs @returns {RunEvent}
   */
  dispatch: (inputs) => ({
    eventName: 'workflow_dispatch',
    payload: { inputs, ...MAIN },
    inputs,
    env: { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: SHA_B }
  })
}

/**
 * Runs dist/index.js through run-action's startAction and times it from spawn to exit (the result's
 * own clean-up is not counted). `spawnedAt` is Date.now() at spawn, the clock the stand-in stamps
 * its calls' `at` with. A run still going after RUN_TIMEOUT_MS is killed.
 * @param {string} endpoint @param {RunEvent} event @param {Extra} [extra] @returns {Promise<TimedRun>}
 */
async function timedRun(endpoint, event, extra = {}) {
  const spawnedAt = Date.now()
  const started = performance.now()
  const { child, result } = startAction({
    endpoint,
    ...event,
    ...extra,
    inputs: { ...event.inputs, ...extra.inputs },
    env: { ...event.env, ...extra.env }
  })
  let ms = NaN
  child.once('close', () => (ms = performance.now() - started))
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
  try {
    return { ...(await result), ms, spawnedAt }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * timedRun with the action's peak memory, `peak` in MiB, read by scripts/bench-rss-probe.mjs (its
 * `method` for the notes). The probe starts one node more: `ms` is no cold start.
 * @param {string} endpoint @param {RunEvent} event @param {Extra} [extra]
 * @returns {Promise<TimedRun & { peak: number, method: string }>}
 */
async function peakRun(endpoint, event, extra = {}) {
  const dir = mkdtempSync(join(os.tmpdir(), 'ecr-promote-bench-'))
  try {
    const file = join(dir, 'rss')
    const probe = pathToFileURL(join(root, 'scripts/bench-rss-probe.mjs')).href
    const env = { ...extra.env, NODE_OPTIONS: `--import=${probe}`, BENCH_RSS_FILE: file }
    const run = await timedRun(endpoint, event, { ...extra, env })
    const [how, kib] = readFileSync(file, 'utf8').trim().split(' ')
    const method = how === 'time' ? '/usr/bin/time -f %M' : 'process.resourceUsage().maxRSS'
    return { ...run, peak: Number(kib) / 1024, method }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Wall time of one `node <args>`, spawn to exit.
 * @param {string} node @param {string[]} args @returns {Promise<number>}
 */
function timeNode(node, args) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    // The environment run-action gives the action: this machine's NODE_EXTRA_CA_CERTS alone costs
    // `node -e 0` about 70 ms, which would flatter the ratio.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME }
    const child = spawn(node, args, { stdio: 'ignore', env })
    child.once('error', reject)
    child.once('close', () => resolve(performance.now() - started))
  })
}

/**
 * A repository as a team has it: image A was released as v1.0.0 and is in production; image B is
 * the newest build. `released`: B was released as v1.1.0 since and is in production.
 */
const STATES = {
  beforeRelease: { a: ['sha-aaaaaaa', 'v1.0.0', 'production', 'latest'], b: ['sha-bbbbbbb'] },
  released: { a: ['sha-aaaaaaa', 'v1.0.0'], b: ['sha-bbbbbbb', 'latest', 'v1.1.0', 'production'] },
  /** For `channels`: 1.0.0 is stable and latest; its build tags are {service}-{branch}-{sha7}. */
  channels: { a: ['app-main-aaaaaaa', '1.0.0', 'stable', 'latest'], b: ['app-main-bbbbbbb'] },
  /** For four-tags-convention.yml: v1.0.0 also carries its `1.0` and `1` lines. */
  fourTags: { a: ['sha-aaaaaaa', 'v1.0.0', '1.0', '1', 'production', 'latest'], b: ['sha-bbbbbbb'] }
}

/**
 * Creates the repository in `state`; returns the two images.
 * @param {ECRClient} client @param {string} repository @param {State} state
 */
async function seedRepository(client, repository, state) {
  await client.send(new CreateRepositoryCommand({ repositoryName: repository }))
  const images = { a: multiArchImage(`${repository}/a`), b: multiArchImage(`${repository}/b`) }
  await seedImage(client, repository, images.a, state.a)
  await seedImage(client, repository, images.b, state.b)
  return images
}

/**
 * The calls a run made on one repository: those recorded from index `from` on.
 * @param {StandIn['control']} control @param {string} repository @param {number} from
 */
const callsOn = (control, repository, from) =>
  control.calls
    .slice(from)
    .filter(({ input }) =>
      [input?.repositoryName, ...(input?.repositoryNames ?? [])].includes(repository)
    )

/** @param {Call[]} calls @returns {Counts} */
const countByOperation = (calls) =>
  calls.reduce(
    (counts, { operation }) => ({ ...counts, [operation]: (counts[operation] ?? 0) + 1 }),
    /** @type {Counts} */ ({})
  )

/**
 * Serial rounds: calls sorted by arrival; a call within ROUND_WINDOW_MS of its round's first call
 * joins that round, a later one opens the next. At 30 ms a call, a call that had to wait for an
 * answer arrives at least 30 ms after the call it waited for.
 * @param {Call[]} calls
 */
function rounds(calls) {
  const sorted = [...calls].sort((x, y) => x.at - y.at)
  /** @type {{ start: number, operations: string[] }[]} */
  const result = []
  for (const call of sorted) {
    const current = result[result.length - 1]
    if (current && call.at - current.start <= ROUND_WINDOW_MS)
      current.operations.push(call.operation)
    else result.push({ start: call.at, operations: [call.operation] })
  }
  return result.map(({ operations }) => operations)
}

/** The tags a run created or moved, from its `changes` output. @param {Record<string, string>} outputs */
const changedTags = (outputs) =>
  /** @type {{ action: string, tag: string }[]} */ (JSON.parse(outputs.changes || '[]'))
    .filter(({ action: done }) => done === 'created' || done === 'moved')
    .map(({ tag }) => tag)
    .sort()

/** A run's failure in one line, or undefined when it exited 0. @param {TimedRun} run */
const failureOf = (run) =>
  run.status === 0
    ? undefined
    : `exit ${run.status ?? run.signal}: ${run.errors[0] ?? (run.stderr.trim().split('\n').pop() || 'no error line')}`

/** @param {number[]} values */
const median = (values) => {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = Math.floor(sorted.length / 2)
  const [low = NaN, high = NaN] = [sorted[mid - 1], sorted[mid]]
  return sorted.length % 2 ? high : (low + high) / 2
}

/** @param {number} ms */
const seconds = (ms) => `${(ms / 1000).toFixed(ms < 10_000 ? 3 : 2)} s`

/** @type {Record<string, string>} */
const SHORT = {
  DescribeRepositories: 'DR',
  ListImages: 'LI',
  BatchGetImage: 'BGI',
  DescribeImages: 'DI',
  PutImage: 'PI',
  BatchDeleteImage: 'BDI'
}
const ORDER = Object.keys(SHORT)
/** @param {string} operation */
const short = (operation) => SHORT[operation] ?? operation
/** @param {string} x @param {string} y */
const byOrder = (x, y) => (ORDER.indexOf(x) + 1 || 99) - (ORDER.indexOf(y) + 1 || 99)

/** @param {Counts} counts */
const formatCounts = (counts) => {
  const entries = Object.entries(counts).filter(([, n]) => n > 0)
  const total = entries.reduce((sum, [, n]) => sum + n, 0)
  const parts = entries.sort(([x], [y]) => byOrder(x, y)).map(([op, n]) => `${short(op)} ${n}`)
  return `${parts.join(', ')} = ${total}`
}

/**
 * Whether measured calls equal the floor, operation by operation, and how they differ if not.
 * @param {Counts} measured @param {Counts} floor
 */
function againstFloor(measured, floor) {
  const operations = [...new Set([...Object.keys(measured), ...Object.keys(floor)])].sort(byOrder)
  const diffs = operations
    .map(/** @returns {[string, number]} */ (op) => [op, (measured[op] ?? 0) - (floor[op] ?? 0)])
    .filter(([, diff]) => diff !== 0)
  if (diffs.length === 0) return { met: true, text: 'yes' }
  const text = diffs.map(([op, diff]) => `${diff > 0 ? '+' : '−'}${Math.abs(diff)} ${short(op)}`)
  if (diffs.every(([, diff]) => diff < 0))
    return { met: false, text: `below the floor: ${text.join(', ')} (see notes)` }
  return { met: false, text: `NO: ${text.join(', ')}` }
}

/**
 * @param {string} name @param {string} figure @param {string} target
 * @param {boolean | string} [met] a verdict of its own, or whether the target was met
 * @returns {Row}
 */
const row = (name, figure, target, met) => ({
  name,
  figure,
  target,
  met: met === undefined ? '—' : met === true ? 'yes' : met === false ? 'NO' : met
})

// -------------------------------------------------------------------------------------------------
// flows for (b) and (c), each on one repository
// -------------------------------------------------------------------------------------------------

/**
 * `changes`: the tags the flow must create or move. `versions`: whether versions decide (ListImages
 * needed). `describes`: versions decide, read off the pointer's image (DescribeImages) instead. `checked`: a forward pointer written with
 * another tag, listed again once both are answered. `previousSource`: the source is known only once versions are read.
 * @type {Flow[]}
 */
const FLOWS = [
  {
    name: 'push to main',
    state: STATES.beforeRelease,
    event: () => events.push(SHA_B),
    changes: ['latest']
  },
  {
    name: 'release v1.1.0',
    state: STATES.beforeRelease,
    event: () => events.release('v1.1.0', SHA_B),
    changes: ['production', 'v1.1.0'],
    versions: true,
    checked: true
  },
  {
    // Issue 21 asks for ≤ 6 calls, ≤ 3 rounds: below this floor, which counts the check's listing.
    name: 'release 1.1.0, 3 tags (channels)',
    state: STATES.channels,
    event: () => events.release('1.1.0', SHA_B),
    inputs: { convention: 'channels' },
    changes: ['1.1.0', 'latest', 'stable'],
    versions: true,
    checked: true,
    maxCalls: { calls: 6, peer: 'the peer retags 3 tags with BGI 1, PI 3 = 4 calls' }
  },
  {
    name: 'promote staging (sha)',
    state: STATES.beforeRelease,
    event: () => events.dispatch({ environment: 'staging', sha: SHA_B }),
    changes: ['staging']
  },
  {
    name: 'rollback to 1.0.0',
    state: STATES.released,
    event: () => events.dispatch({ version: '1.0.0' }),
    // The version production leaves is marked withdrawn: one PutImage more, and the DescribeImages
    // of production's image that tells which version it carries.
    changes: ['production', 'withdrawn-1.1.0'],
    describes: true
  },
  {
    name: 'rollback to previous',
    state: STATES.released,
    event: () => events.dispatch({ version: 'previous' }),
    changes: ['production', 'withdrawn-1.1.0'],
    versions: true,
    previousSource: true
  }
]

/**
 * The fewest calls a flow can make on one repository whose tags fit in `pages` ListImages pages.
 * @param {Flow} flow @param {number} [pages]
 */
function floorOf(flow, pages = 1) {
  const list = flow.versions ? pages : 0
  return {
    DescribeRepositories: 1,
    ListImages: list + (flow.checked ? pages : 0),
    DescribeImages: flow.describes ? 1 : 0,
    BatchGetImage: 1 + (flow.previousSource ? 1 : 0),
    PutImage: flow.changes.length
  }
}

/**
 * Runs one flow on a fresh repository at `latencyMs` a call; returns its calls and outcome.
 * `before` sets up the stand-in's faults once the repository is seeded.
 * @param {Bench} bench @param {Flow} flow @param {number} latencyMs @param {() => void} [before]
 */
async function measureFlow({ url, control, client }, flow, latencyMs, before) {
  control.reset()
  const repository = 'bench/app'
  await seedRepository(client, repository, flow.state)
  before?.()
  control.latency(latencyMs)
  const from = control.calls.length
  const run = await timedRun(url, flow.event(), { inputs: { repository, ...flow.inputs } })
  control.latency(0)
  const calls = callsOn(control, repository, from)
  const changed = changedTags(run.outputs)
  const wrong =
    failureOf(run) ??
    (changed.join() === [...flow.changes].sort().join()
      ? undefined
      : `changed ${changed.join(' ') || 'nothing'}, expected ${flow.changes.join(' ')}`)
  return { calls, run, wrong }
}

// -------------------------------------------------------------------------------------------------
// rows
// -------------------------------------------------------------------------------------------------

/**
 * (a) cold start on this machine's node and, unless it is Node 24 already, on Node 24: the action
 * declares `runs.using: node24`.
 * @param {string[]} notes
 */
async function coldStart(notes) {
  const here = await coldStartOn(process.execPath, notes)
  if (process.versions.node.startsWith('24.')) return here
  return [...here, ...(await withNode24((node) => coldStartOn(node, notes)))]
}

/**
 * (a) cold start of a dry-run release against a stand-in at latency 0, and peak memory, on `node`.
 * @param {string} node @param {string[]} notes
 */
async function coldStartOn(node, notes) {
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  return withStandIn(async ({ url, client }) => {
    const repository = 'bench/cold'
    await seedRepository(client, repository, STATES.beforeRelease)
    const event = events.release('v1.1.0', SHA_B)
    const dry = { inputs: { repository, 'dry-run': 'true' }, node }
    /** @type {string[]} */
    const failed = [] // a failed dry run still started and exited: timed, and reported
    /** @template {TimedRun} R @param {R} run @returns {R} */
    const check = (run) => {
      const failure = failureOf(run)
      if (failure) failed.push(failure)
      return run
    }
    check(await timedRun(url, event, dry)) // warm-up: file cache, stand-in connections
    await timeNode(node, ['-e', '0'])
    const action = []
    const bare = []
    for (let i = 0; i < COLD_RUNS; i++) {
      action.push(check(await timedRun(url, event, dry)).ms)
      bare.push(await timeNode(node, ['-e', '0']))
    }

    const peaks = []
    let method = ''
    for (let i = 0; i < RSS_RUNS; i++) {
      const run = check(await peakRun(url, event, dry))
      method = run.method
      peaks.push(run.peak)
    }

    const mid = median(action)
    const ratio = mid / median(bare)
    const peak = Math.max(...peaks)
    /** @param {boolean} ok */
    const met = (ok) => (failed.length > 0 ? 'NO (runs failed, see notes)' : ok)
    if (failed.length > 0)
      notes.push(`(a) ${version}: ${failed.length} dry runs failed: ${failed[0]}`)
    notes.push(
      `(a) ${version}: ${COLD_RUNS} timed runs of a dry-run release (one repository, stand-in at latency 0), each followed by a \`node -e 0\`, after one warm-up of each; wall time is spawn to exit. Action runs: min ${seconds(Math.min(...action))}, max ${seconds(Math.max(...action))}. Peak memory: ${method}, max of ${RSS_RUNS} runs (${peaks.map((p) => p.toFixed(1)).join(', ')} MiB).`
    )
    return [
      row(`(a) ${version}: cold start, median wall`, seconds(mid), '—', '—'),
      row(
        `(a) ${version}: cold start / \`node -e 0\``,
        `${ratio.toFixed(1)}× (node -e 0: ${seconds(median(bare))})`,
        '≤ 6× (the peer: 6.3×)',
        met(ratio <= 6)
      ),
      row(
        `(a) ${version}: peak memory (max RSS)`,
        `${peak.toFixed(1)} MiB`,
        '≤ 66 MiB (the peer)',
        met(peak <= 66)
      )
    ]
  })
}

/** (b) API calls per flow, by operation, against the floor. @param {string[]} notes */
async function callsPerFlow(notes) {
  return withStandIn(async (standIn) => {
    const rows = []
    for (const flow of FLOWS) {
      const { calls, wrong } = await measureFlow(standIn, flow, 0)
      const measured = countByOperation(calls)
      const floor = floorOf(flow)
      const verdict = againstFloor(measured, floor)
      if (wrong) notes.push(`(b) ${flow.name}: the run went wrong: ${wrong}`)
      if (!wrong && verdict.text.startsWith('below'))
        notes.push(
          `(b) ${flow.name}: fewer calls than the floor assumes (${formatCounts(measured)} against ${formatCounts(floor)}): the action decided this flow without a read the floor counts; whether that read is needed is a question for the action, not a saving to take for granted.`
        )
      rows.push(
        row(
          `(b) ${flow.name}: API calls`,
          formatCounts(measured) + (wrong ? ' (run went wrong, see notes)' : ''),
          `floor ${formatCounts(floor)}`,
          wrong ? 'NO (run went wrong)' : verdict.text
        )
      )
      if (flow.maxCalls !== undefined) {
        const total = calls.length
        rows.push(
          row(
            `(b) ${flow.name}: API calls, issue 21's target`,
            `${total}`,
            `≤ ${flow.maxCalls.calls} (${flow.maxCalls.peer})`,
            !wrong && total <= flow.maxCalls.calls
          )
        )
      }
    }
    return rows
  })
}

/** (c) serial rounds per flow at LATENCY_MS a call, and wall time. @param {string[]} notes */
async function roundsPerFlow(notes) {
  return withStandIn(async (standIn) => {
    const rows = []
    for (const flow of FLOWS) {
      const { calls, run, wrong } = await measureFlow(standIn, flow, LATENCY_MS)
      const measured = rounds(calls)
      // A rollback to previous reads its source only once the listing named it: one round more.
      const target = flow.checked ? 3 : 2 + (flow.previousSource ? 1 : 0)
      notes.push(
        `(c) ${flow.name}: ${measured.map((ops) => ops.map(short).join(' ')).join(' | ')}${wrong ? ` (run went wrong: ${wrong})` : ''}`
      )
      rows.push(
        row(
          `(c) ${flow.name}: serial rounds`,
          `${measured.length} rounds, ${seconds(run.ms)} wall`,
          flow.checked ? `≤ ${target} (target)` : `${target} (floor)`,
          wrong ? 'NO (run went wrong)' : measured.length <= target
        )
      )
    }
    return rows
  })
}

const FOUR_TAGS = ['v1.1.0', '1.1', '1', 'production']

/**
 * One release of four-tags-convention.yml across `names`, freshly seeded, at LATENCY_MS a call and,
 * with `quota`, ECR's default PutImage quota. Returns the wall time, the throttled count, what went
 * wrong (exit code, or a tag not on the released image afterwards) and the tail: how long after the
 * last PutImage the run's last call arrived.
 * @param {Bench} bench @param {string[]} names @param {boolean} quota
 */
async function releaseAcross({ url, control, client }, names, quota) {
  control.reset()
  const images = await Promise.all(
    names.map((name) => seedRepository(client, name, STATES.fourTags))
  )
  control.latency(LATENCY_MS)
  if (quota) control.quota({ PutImage: { rate: 10, burst: 10 } })
  const from = control.calls.length
  const run = await timedRun(url, events.release('v1.1.0', SHA_B), {
    inputs: {
      repository: names.join('\n'),
      convention: '__tests__/support/four-tags-convention.yml',
      ...PACE
    }
  })
  control.latency(0)
  control.quota(null)
  const calls = control.calls.slice(from)
  const at = (/** @type {Call[]} */ some) => some.map((c) => c.at - run.spawnedAt)
  const puts = at(calls.filter((c) => c.operation === 'PutImage'))
  // A run that wrote nothing has no timeline past its reads: NaN, shown as such, not ±Infinity.
  const firstPut = puts.length > 0 ? Math.min(...puts) : NaN
  const reads = at(calls).filter((ms) => !(ms >= firstPut))
  const lastPut = puts.length > 0 ? Math.max(...puts) : NaN
  const lastCall = Math.max(...at(calls))
  const missing = []
  for (const [index, name] of names.entries()) {
    const tags = await tagsByDigest(client, name)
    for (const tag of FOUR_TAGS)
      if (tags[tag] !== images[index]?.b.digest) missing.push(`${name}:${tag}`)
  }
  const wrong = [
    failureOf(run),
    missing.length > 0 &&
      `${missing.length} tags missing or elsewhere (${missing.slice(0, 3).join(', ')}…)`
  ].filter(Boolean)
  return {
    ms: run.ms,
    throttled: control.throttled.length,
    wrong: wrong.length > 0 ? wrong.join('; ') : undefined,
    tailMs: lastCall - lastPut,
    /** ms from spawn, by the calls' arrival at the stand-in; reads are the calls before the first PutImage. */
    timeline: /** @type {Record<string, number>} */ ({
      'first read': Math.min(...reads),
      'last read': Math.max(...reads),
      'first PI': firstPut,
      'last PI': lastPut,
      'last call': lastCall,
      exit: run.ms
    })
  }
}

/**
 * (d) one release writing 4 tags in each of 25 repositories, at 10 PutImage/s (burst 10), 30 ms a call.
 * @param {string[]} notes
 */
async function hundredTagsAtQuota(notes) {
  const REPOSITORIES = 25
  const floorMs = ((REPOSITORIES * FOUR_TAGS.length - 10) / 10) * 1000
  const names = Array.from(
    { length: REPOSITORIES },
    (_, i) => `bench/svc-${String(i + 1).padStart(2, '0')}`
  )
  return withStandIn(async (standIn) => {
    /** @type {Awaited<ReturnType<typeof releaseAcross>>[]} */
    const runs = []
    for (let i = 0; i < QUOTA_RUNS; i++) runs.push(await releaseAcross(standIn, names, true))
    // For reference, not a target: the same release with the stand-in's quota off (pacing alone).
    const unthrottled = await releaseAcross(standIn, names, false)
    const walls = runs.map(({ ms }) => ms)
    const throttled = runs.map((run) => run.throttled)
    const failures = runs.flatMap(({ wrong }, i) => (wrong ? [`run ${i + 1}: ${wrong}`] : []))
    const worst = Math.max(...walls)
    const timeline = Object.keys(runs[0]?.timeline ?? {})
      .map((k) => `${k} ${seconds(median(runs.map(({ timeline: t }) => t[k] ?? NaN)))}`)
      .join(' → ')
    const span = median(
      runs.map(({ timeline: t }) => (t['last PI'] ?? NaN) - (t['first PI'] ?? NaN))
    )
    // The action's pacer bursts one write fewer than ECR (src/run/pace.ts): its floor for the span.
    const paced = ((REPOSITORIES * FOUR_TAGS.length - 9) / 10) * 1000
    notes.push(
      `(d) ${QUOTA_RUNS} runs; wall ${walls.map(seconds).join(', ')}; throttled PutImages ${throttled.join(', ')}; last call after the last PutImage (the settle wait and the pointer check) ${runs.map(({ tailMs }) => seconds(tailMs)).join(', ')}; median timeline from spawn, by arrival at the stand-in: ${timeline}; first to last PutImage ${seconds(span)} (the pacer's arithmetic, burst 9 then 10 a second: ${seconds(paced)}); max-writes-per-second ${PACE['max-writes-per-second'] ? 'passed as 10' : 'not an input of this action.yml, left out'}.${failures.length > 0 ? ` Failures: ${failures.join(' / ')}.` : ''} Reference with the stand-in's quota off: wall ${seconds(unthrottled.ms)}, last call ${seconds(unthrottled.tailMs)} after the last PutImage${unthrottled.wrong ? `, went wrong: ${unthrottled.wrong}` : ''}.`
    )
    return [
      row(
        '(d) 100 tags / 25 repos at quota: wall',
        `median ${seconds(median(walls))}, max ${seconds(worst)}`,
        `every run ≤ ${seconds(QUOTA_TARGET * floorMs)} (${QUOTA_TARGET} × floor ${seconds(floorMs)}, the peer's ratio)`,
        worst <= QUOTA_TARGET * floorMs
      ),
      row(
        '(d) throttled PutImages per run',
        `max ${Math.max(...throttled)} (${throttled.join(', ')})`,
        '≤ 5',
        Math.max(...throttled) <= 5
      ),
      row('(d) failed runs', `${failures.length} of ${QUOTA_RUNS}`, '0', failures.length === 0)
    ]
  })
}

/**
 * (e) rollbacks in a repository with 20,000 tags, at LATENCY_MS a call: to `previous`, which lists
 * the repository to find its source, and to 1.0.0, which needs no listing.
 * @param {string[]} notes
 */
async function rollbackManyTags(notes) {
  const rows = []
  for (const [name, label] of /** @type {const} */ ([
    ['rollback to previous', 'rollback previous'],
    ['rollback to 1.0.0', 'rollback to 1.0.0']
  ])) {
    const flow = FLOWS.find((f) => f.name === name)
    if (!flow) throw new Error(`FLOWS has no ${name}`)
    rows.push(...(await withStandIn((bench) => rollbackInBigRepository(bench, flow, label, notes))))
  }
  return rows
}

/**
 * One rollback flow in a freshly seeded repository with 20,000 tags.
 * @param {Bench} bench @param {Flow} flow @param {string} label @param {string[]} notes
 */
async function rollbackInBigRepository({ url, control, client }, flow, label, notes) {
  const TOTAL = 20_000
  const FILLER_IMAGES = 50
  const repository = 'bench/big'
  const images = await seedRepository(client, repository, STATES.released)
  // Old builds and old releases, straight into the state (seedTags is a test-only helper).
  const fillers = Array.from({ length: FILLER_IMAGES }, (_, i) => dockerV2Image(`bench-old-${i}`))
  for (const image of fillers) {
    await client.send(
      new PutImageCommand({
        repositoryName: repository,
        imageManifest: image.manifest,
        imageManifestMediaType: image.mediaType,
        imageDigest: image.digest
      })
    )
  }
  const existing = Object.keys(await tagsByDigest(client, repository)).length
  /** @type {Set<string>} */
  const tags = new Set()
  for (let i = 0; tags.size < TOTAL - existing; i++) {
    tags.add(
      i < 400 ? `v0.${Math.floor(i / 20)}.${i % 20}` : `sha-${digestOf(`old-${i}`).slice(7, 14)}`
    )
  }
  const list = [...tags]
  for (const [index, image] of fillers.entries()) {
    const share = list.filter((_, i) => i % FILLER_IMAGES === index)
    control.seedTags(repository, image.digest, share)
  }
  const total = Object.keys(await tagsByDigest(client, repository)).length

  control.latency(LATENCY_MS)
  const from = control.calls.length
  const run = await timedRun(url, flow.event(), { inputs: { repository } })
  control.latency(0)
  const calls = callsOn(control, repository, from)
  const pages = calls.filter((c) => c.operation === 'ListImages').length
  const after = await tagsByDigest(client, repository)
  const wrong =
    failureOf(run) ??
    (after.production === images.a.digest ? undefined : 'production is not on v1.0.0 afterwards')
  notes.push(
    `(e) ${label}: ${total} tags (v1.0.0, v1.1.0, 400 old v0.x versions, the rest build tags over ${FILLER_IMAGES + 2} images), ${LATENCY_MS} ms a call; ${formatCounts(countByOperation(calls))}; rounds ${rounds(
      calls
    )
      .map((ops) => ops.map(short).join(' '))
      .join(' | ')}; ${wrong ? `the run went wrong: ${wrong}` : 'production went back to v1.0.0'}.`
  )
  const verdict = (/** @type {boolean} */ met) => (wrong ? 'NO (run went wrong)' : met)
  if (flow.previousSource) {
    const floorPages = floorOf(flow, Math.ceil(total / LIST_PAGE)).ListImages
    return [
      row(
        `(e) ${label}, 20k tags: ListImages pages`,
        `${pages}`,
        `floor ${floorPages} (${total} tags / ${LIST_PAGE} a page)`,
        verdict(pages <= floorPages)
      ),
      row(`(e) ${label}, 20k tags: wall`, seconds(run.ms), '—', undefined)
    ]
  }
  const serial = rounds(calls).length
  // Every flow describes its source too (its archive check), which the floor leaves out.
  const most = Object.values(floorOf(flow)).reduce((sum, n) => sum + n, 0) + 1
  return [
    row(
      `(e) ${label}, 20k tags: ListImages pages / calls / wall`,
      `${pages} / ${calls.length} / ${seconds(run.ms)} (${serial} rounds)`,
      `0 pages, ≤ ${most} calls (the floor at any size, and the archive check), ≤ 2 rounds`,
      verdict(pages === 0 && calls.length <= most && serial <= 2)
    )
  ]
}

/**
 * (f) a promotion whose first BatchGetImage answers are throttled twice, against the same flow
 * unthrottled, at LATENCY_MS a call: the wall time the throttles add (median against median).
 * @param {string[]} notes
 */
async function throttledReads(notes) {
  const THROTTLES = 2
  const flow = FLOWS.find(({ name }) => name.startsWith('promote'))
  if (!flow) throw new Error('FLOWS has no promotion')
  return withStandIn(async (standIn) => {
    /** @type {{ clean: number[], throttled: number[] }} */
    const walls = { clean: [], throttled: [] }
    const failures = []
    await measureFlow(standIn, flow, LATENCY_MS) // warm-up: file cache, stand-in connections
    for (let i = 0; i < THROTTLED_RUNS; i++) {
      for (const kind of /** @type {const} */ (['clean', 'throttled'])) {
        const { control } = standIn
        const { run, wrong } = await measureFlow(standIn, flow, LATENCY_MS, () => {
          if (kind === 'throttled') control.throttle('BatchGetImage', { count: THROTTLES })
        })
        const seen = control.throttled.length
        if (wrong) failures.push(`${kind} run ${i + 1}: ${wrong}`)
        else if (seen !== (kind === 'throttled' ? THROTTLES : 0))
          failures.push(`${kind} run ${i + 1}: ${seen} throttled answers`)
        walls[kind].push(run.ms)
      }
    }
    const added = median(walls.throttled) - median(walls.clean)
    notes.push(
      `(f) ${flow.name}, ${LATENCY_MS} ms a call, ${THROTTLED_RUNS} runs each way, alternating: the first ${THROTTLES} BatchGetImage requests answered ThrottlingException (the stand-in's control.throttle), against none. Wall throttled ${walls.throttled.map(seconds).join(', ')}; unthrottled ${walls.clean.map(seconds).join(', ')}.${failures.length > 0 ? ` Failures: ${failures.join(' / ')}.` : ''}`
    )
    return [
      row(
        `(f) ${THROTTLES} throttled BatchGetImage answers: added wall`,
        `${seconds(added)} (median ${seconds(median(walls.throttled))} against ${seconds(median(walls.clean))})`,
        '≤ 1 s',
        failures.length > 0 ? 'NO (runs went wrong, see notes)' : added <= 1000
      )
    ]
  })
}

// -------------------------------------------------------------------------------------------------
// (g) copies across accounts and regions
// -------------------------------------------------------------------------------------------------

const MIB = 1024 * 1024
/** Account A in us-east-1: the stand-in's default registry, the run's own credentials'. */
const SOURCE = { account: '123456789012', region: 'us-east-1' }
/** Account B in eu-west-1, reached through the stand-in's STS with the run's target role. */
const TARGET = { account: '222222222222', region: 'eu-west-1' }
const COPY_INPUTS = {
  'target-registry': `${TARGET.account}.dkr.ecr.${TARGET.region}.amazonaws.com`,
  'target-role-to-assume': `arn:aws:iam::${TARGET.account}:role/bench-promote-target`
}
/** The calls that write in a registry, the layer uploads included. */
const WRITES = [
  'PutImage',
  'BatchDeleteImage',
  'InitiateLayerUpload',
  'UploadLayerPart',
  'CompleteLayerUpload'
]
const COPY_RUNS = 3
/** Issue 22: "a 200 MiB image copies with the process's peak memory ≤ 150 MiB". */
const COPY_PEAK_MIB = 150

/**
 * A client of account B in eu-west-1, for seeding and reading the target.
 * @param {StandIn} standIn
 */
const targetClient = ({ url, control }) =>
  new ECRClient({
    endpoint: url,
    region: TARGET.region,
    credentials: control.credentials(TARGET.account)
  })

/**
 * Creates `repository` in the source (the default registry, account A in us-east-1) and in the
 * target, and pushes each image with its tags, blobs and all, where it goes.
 * @param {Bench} bench @param {ECRClient} target @param {string} repository
 * @param {{ source: [BlobImage, string[]][], target: [BlobImage, string[]][] }} images
 */
async function seedBoth({ control, client }, target, repository, images) {
  control.createRepository(repository, SOURCE)
  control.createRepository(repository, TARGET)
  for (const [image, tags] of images.source) await pushImage(client, repository, image, tags)
  for (const [image, tags] of images.target) await pushImage(target, repository, image, tags)
}

/**
 * One run that copies into the target, with its peak memory, and what it sent: the bytes of its
 * UploadLayerPart calls, its writes in either registry, and its Copy line's figures.
 * @param {StandIn} standIn @param {string} repository @param {RunEvent} event
 */
async function copyRun({ url, control }, repository, event) {
  const from = control.calls.length
  const run = await peakRun(url, event, {
    inputs: { repository, ...COPY_INPUTS },
    env: { AWS_ENDPOINT_URL_STS: url }
  })
  const calls = control.calls.slice(from)
  const uploaded = calls
    .filter(({ operation }) => operation === 'UploadLayerPart')
    .reduce((sum, { input }) => sum + Number(input.layerPartBlob), 0)
  const writes = calls.filter(({ operation }) => WRITES.includes(operation))
  // `<repository>: copied 3 of 7 blobs (41.2 MiB), … in 12.4 s` (src/report/result.ts describeCopy)
  const line = /: copied (\d+) of (\d+) blobs .* in ([\d.]+) s$/m.exec(run.stdout)
  const copy = line && {
    copied: Number(line[1]),
    blobs: Number(line[2]),
    ms: Number(line[3]) * 1000
  }
  return { run, uploaded, writes: countByOperation(writes), copy }
}

/**
 * The sum of the blobs of `image` that none of `held` has: what a copy must upload, at least.
 * @param {BlobImage} image @param {BlobImage[]} held
 */
const missingBytes = (image, held) =>
  [...image.blobs]
    .filter(([digest]) => !held.some(({ blobs }) => blobs.has(digest)))
    .reduce((sum, [, bytes]) => sum + bytes.length, 0)

/** @param {number} bytes */
const mebibytes = (bytes) => `${(bytes / MIB).toFixed(1)} MiB`

/**
 * (g) bytes uploaded against the minimum: a release of v1.1.0 into a target that holds v1.0.0,
 * which shares its base layers, then the same release again.
 * @param {string[]} notes
 */
async function copyMinimum(notes) {
  return withStandIn(async (bench) => {
    const repository = 'bench/copy'
    const layers = { baseSize: 12 * MIB, layerSize: 7 * MIB + 4096 }
    const a = blobMultiArchImage('bench-a', layers)
    const b = blobMultiArchImage('bench-b', layers)
    const target = targetClient(bench)
    try {
      await seedBoth(bench, target, repository, {
        source: [
          [a, STATES.beforeRelease.a],
          [b, STATES.beforeRelease.b]
        ],
        target: [[a, STATES.beforeRelease.a]]
      })
      const minimum = missingBytes(b, [a])
      const event = events.release('v1.1.0', SHA_B)
      const first = await copyRun(bench, repository, event)
      const tags = await tagsByDigest(target, repository)
      const again = await copyRun(bench, repository, event)
      const wrongFirst =
        failureOf(first.run) ??
        (tags['v1.1.0'] === b.digest ? undefined : 'v1.1.0 is not on the release in the target')
      const wrongAgain = failureOf(again.run)
      const writesAgain = Object.values(again.writes).reduce((sum, n) => sum + n, 0)
      notes.push(
        `(g) release v1.1.0 from account A/us-east-1 into B/eu-west-1 (${COPY_INPUTS['target-role-to-assume']} through the stand-in's STS), a multi-arch image of 2 platforms, each a ${mebibytes(layers.baseSize)} base layer and a ${mebibytes(layers.layerSize)} layer of its own; the target holds v1.0.0, same base layers. First run: ${first.copy ? `copied ${first.copy.copied} of ${first.copy.blobs} blobs` : 'no Copy line'}, uploaded ${first.uploaded} bytes (the blobs the target lacks: ${minimum}), writes ${formatCounts(first.writes)}${wrongFirst ? `, went wrong: ${wrongFirst}` : ''}. Re-run: uploaded ${again.uploaded} bytes, writes ${writesAgain > 0 ? formatCounts(again.writes) : 'none'}${wrongAgain ? `, went wrong: ${wrongAgain}` : ''}.`
      )
      return [
        row(
          '(g) cross-account release, base layers in the target: bytes uploaded',
          `${first.uploaded} (${mebibytes(first.uploaded)})`,
          `= the blobs missing in the target: ${minimum}`,
          wrongFirst ? 'NO (run went wrong)' : first.uploaded === minimum
        ),
        row(
          '(g) the same release again: bytes uploaded / writes',
          `${again.uploaded} / ${writesAgain}`,
          '0 / 0',
          wrongAgain ? 'NO (run went wrong)' : again.uploaded === 0 && writesAgain === 0
        )
      ]
    } finally {
      target.destroy()
    }
  })
}

/**
 * (g) throughput and peak memory of a 200 MiB multi-arch image copied from account A/us-east-1
 * into an empty repository of account B/eu-west-1, each run on a fresh stand-in.
 * @param {string[]} notes
 */
async function copyThroughput(notes) {
  const repository = 'bench/big'
  // 2 platforms × (63.5 + 36.5 MiB): layers of 13 and 8 parts of 5 MiB, the last ones shorter.
  const layers = { baseSize: 63.5 * MIB, layerSize: 36.5 * MIB }
  const image = blobMultiArchImage('bench-big', layers)
  const total = missingBytes(image, [])
  /** @type {{ ms: number, copyMs: number, peak: number, method: string, wrong: string | undefined }[]} */
  const runs = []
  for (let i = 0; i < COPY_RUNS; i++) {
    const measured = await withStandIn(async (bench) => {
      const target = targetClient(bench)
      try {
        await seedBoth(bench, target, repository, {
          source: [[image, ['sha-bbbbbbb']]],
          target: []
        })
        const { run, uploaded, copy } = await copyRun(
          bench,
          repository,
          events.release('v1.0.0', SHA_B)
        )
        const tags = await tagsByDigest(target, repository)
        const wrong =
          failureOf(run) ??
          (tags['v1.0.0'] !== image.digest
            ? 'v1.0.0 is not on the image in the target'
            : uploaded !== total
              ? `uploaded ${uploaded} bytes, not ${total}`
              : copy
                ? undefined
                : 'no Copy line')
        return { ms: run.ms, copyMs: copy?.ms ?? NaN, peak: run.peak, method: run.method, wrong }
      } finally {
        target.destroy()
      }
    })
    runs.push(measured)
  }
  const failures = runs.flatMap(({ wrong }, i) => (wrong ? [`run ${i + 1}: ${wrong}`] : []))
  const rate = (/** @type {number} */ ms) => total / MIB / (ms / 1000)
  const peak = Math.max(...runs.map((run) => run.peak))
  // Without /usr/bin/time the probe reads the action's own maxRSS, which on Linux keeps the RSS of
  // the process it was forked from: this bench's, which holds the image twice over.
  const timed = runs.every(({ method }) => method.startsWith('/usr/bin/time'))
  notes.push(
    `(g) ${mebibytes(total)} (a multi-arch image of 2 platforms, each a ${mebibytes(layers.baseSize)} and a ${mebibytes(layers.layerSize)} layer) released from account A/us-east-1 into an empty repository of B/eu-west-1 with ${COPY_INPUTS['target-role-to-assume']}, ${COPY_RUNS} runs each on a fresh stand-in at latency 0, in the same process as the bench: the Copy line's time ${runs.map(({ copyMs }) => seconds(copyMs)).join(', ')}; wall ${runs.map(({ ms }) => seconds(ms)).join(', ')}; peak memory ${runs[0]?.method ?? ''} ${runs.map((run) => run.peak.toFixed(1)).join(', ')} MiB.${failures.length > 0 ? ` Failures: ${failures.join(' / ')}.` : ''}`
  )
  const wrong = failures.length > 0 ? 'NO (runs went wrong)' : undefined
  return [
    row(
      `(g) ${mebibytes(total)} image, A/us-east-1 → B/eu-west-1: throughput`,
      `median ${rate(median(runs.map(({ copyMs }) => copyMs))).toFixed(1)} MiB/s over the copy, ${rate(median(runs.map(({ ms }) => ms))).toFixed(1)} MiB/s over the run (wall ${seconds(median(runs.map(({ ms }) => ms)))})`,
      '—',
      wrong
    ),
    row(
      `(g) ${mebibytes(total)} image: peak memory (max RSS)`,
      `${peak.toFixed(1)} MiB`,
      `≤ ${COPY_PEAK_MIB} MiB (issue 22)`,
      wrong ?? (timed ? peak <= COPY_PEAK_MIB : 'unknown: needs /usr/bin/time (see the code)')
    )
  ]
}

/** (g) both. @param {string[]} notes */
const copies = async (notes) => [...(await copyMinimum(notes)), ...(await copyThroughput(notes))]

// -------------------------------------------------------------------------------------------------
// report
// -------------------------------------------------------------------------------------------------

/** @param {Row[]} rows */
function textTable(rows) {
  const header = { name: 'row', figure: 'measured', target: 'target', met: 'met' }
  const all = [header, ...rows]
  /** @param {keyof Row} key */
  const width = (key) => Math.max(...all.map((r) => r[key].length))
  /** @param {Row} r */
  const line = (r) =>
    /** @type {const} */ (['name', 'figure', 'target', 'met'])
      .map((key) => r[key].padEnd(width(key)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** @param {string} machine @param {Row[]} rows @param {string[]} notes */
async function markdown(machine, rows, notes) {
  /** @param {string} text */
  const cell = (text) => text.replaceAll('|', '\\|')
  const text = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (`scripts/bench.mjs`), which overwrites this file: the bundled',
    '`dist/index.js`, run as a runner runs it, against the in-memory ECR stand-in',
    '(`__tests__/support/ecr-standin.mjs`). A target not met is a gap, shown as such.',
    '',
    `Machine: ${machine}.`,
    '',
    '| row | measured | target | met |',
    '| --- | --- | --- | --- |',
    ...rows.map(
      (r) => `| ${cell(r.name)} | ${cell(r.figure)} | ${cell(r.target)} | ${cell(r.met)} |`
    ),
    '',
    ...LEGEND.map((line) => `- ${line}`),
    '',
    '## Notes',
    '',
    ...notes.map((note) => `- ${note}`),
    ''
  ].join('\n')
  const options = (await prettier.resolveConfig(join(root, 'BENCHMARKS.md'))) ?? {}
  return prettier.format(text, { ...options, parser: 'markdown' })
}

const LEGEND = [
  'Operations: DR DescribeRepositories, LI ListImages (pages), BGI BatchGetImage, DI DescribeImages, PI PutImage, BDI BatchDeleteImage.',
  'The floor per repository is DR 1 + BGI 1, plus ListImages pages where versions decide (release, rollback to `previous`, promotion to production), plus one PI per tag that changes; a rollback to `previous` needs one more BGI, for its source once the versions are known; a rollback to a named version lists nothing: one DI of the pointer tells the version it carries.',
  'A release writes its version tag and its forward pointer in one wave, so its floor includes one correctness read: a listing once both are answered (a concurrent release may have written the pointer since, docs/concurrency.md); only when that listing shows a pointer to put right, a second listing, a BGI of the pointer, a DI of the images involved and a BGI of the image it goes to.',
  `Serial rounds: the calls on the repository sorted by arrival at the stand-in; a call arriving within ${ROUND_WINDOW_MS} ms of its round's first call joins it, a later one opens the next round. The floor is 2 (read, write) for a flow whose pointer is not checked, and 3 for a rollback to \`previous\`, whose source is read once the listing has named it; a release, which lists its tags again once its writes are answered, has the target ≤ 3.`,
  'Wall times are spawn to exit of `node dist/index.js`, Node start-up included.',
  "Copies (g): `target-registry` is account B in eu-west-1, reached with `target-role-to-assume` through the stand-in's STS; the source is account A in us-east-1. Bytes uploaded are the bytes of the run's `UploadLayerPart` calls; the minimum is the sum of the blobs the target lacks; writes are `PutImage`, `BatchDeleteImage` and the layer uploads in either registry. Throughput is the image's bytes over the Copy line's time (and over the run's wall time); peak memory is the action process's max RSS, as in (a).",
  "Two of issue 21's targets sit below this floor model, and are shown as gaps, not as the floor: a 3-tag release in ≤ 6 calls (the model counts DescribeRepositories, for immutability before any write, and the listing that checks the pointers afterwards), and 100 tags at quota in ≤ 1.05 × 9.0 s (the pacer bursts one write fewer than ECR, 9.1 s, and a run starts, reads and checks besides)."
]

async function main() {
  const cpus = os.cpus()
  const machine = `${cpus.length} cores (${cpus[0]?.model?.trim() ?? 'unknown CPU'}), ${os.platform()} ${os.release()}, Node ${process.version}, ${new Date().toISOString()}`
  console.log(`ecr-promote benchmarks: ${machine}\n`)
  /** @type {string[]} */
  const notes = []
  const rows = []
  for (const [letter, measure] of Object.entries(MEASURES)) {
    if (only.length > 0 && !only.includes(letter)) continue
    const started = performance.now()
    rows.push(...(await measure(notes)))
    console.error(`[bench] ${measure.name} done in ${seconds(performance.now() - started)}`)
  }
  console.log(textTable(rows))
  console.log(`\n${LEGEND.join('\n')}\n\n${notes.join('\n')}`)
  if (only.length > 0) return console.log('\nonly some rows: BENCHMARKS.md left as it was')
  writeFileSync(join(root, 'BENCHMARKS.md'), await markdown(machine, rows, notes))
  console.log('\nwrote BENCHMARKS.md')
}

/** The rows by letter: `node scripts/bench.mjs d e` measures only (d) and (e), and writes no file. */
const MEASURES = {
  a: coldStart,
  b: callsPerFlow,
  c: roundsPerFlow,
  d: hundredTagsAtQuota,
  e: rollbackManyTags,
  f: throttledReads,
  g: copies
}
const only = process.argv.slice(2)
const unknown = only.filter((letter) => !(letter in MEASURES))
if (unknown.length > 0) {
  console.error(`bench: no row ${unknown.join(', ')}; rows are ${Object.keys(MEASURES).join(' ')}`)
  process.exit(2)
}

main().catch((error) => {
  console.error(
    `bench: the benchmark itself broke: ${error instanceof Error ? error.stack : error}`
  )
  process.exitCode = 1
})
