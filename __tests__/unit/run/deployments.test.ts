import type { Action } from '../../../src/run/apply.js'
import type { DeploymentPayload, DeploymentRecord, Moment } from '../../../src/core/history.js'
import type { RepositoryPlan } from '../../../src/core/plan.js'
import { problemsOf } from '../../../src/core/problems.js'
import type { DeploymentRequest, Deployments } from '../../../src/github/client.js'
import type { Change } from '../../../src/report/result.js'
import {
  notRecorded,
  plannedDeployments,
  recordDeployments,
  recordsAt,
  RECORDING_BUDGET_MS,
  type DeploymentOutcome,
  type PlannedDeployment
} from '../../../src/run/deployments.js'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  change,
  channels,
  environments,
  fakeDigest,
  fakeDigests,
  GITHUB,
  manifest,
  nameOf,
  plan,
  rows,
  uri,
  v
} from '../../support/builders.js'
import { rejection } from '../../support/harness.js'
import { memoryRegistry, type Fault } from '../../support/memory-registry.js'

const [built, older, other] = fakeDigests('a', 'b', 'c')
const planOf = (repository: string, version?: string): RepositoryPlan =>
  plan(repository, { source: manifest('a'), ...(version && { version: v(version) }) })
/** A row of this run's changes: `tag` of `repository` moved from b to the build, a, unless told. */
const changed = (
  repository: string,
  tag: string,
  action: Action,
  extra: Partial<Change> = {}
): Change => change({ repository, tag, from: older, to: built, action, now: built, ...extra })
const payload = (
  repository: string,
  tag: string,
  version: string | null,
  digest = built
): DeploymentPayload => ({
  repository,
  tag,
  digest,
  version,
  image: `${uri(repository)}@${digest}`
})
/** A planned deployment as one line: `production success api:production 1.2.0 a`. */
const line = ({ environment, state, payload }: PlannedDeployment) =>
  `${environment} ${state} ${payload.repository}:${payload.tag} ${payload.version ?? '-'} ${nameOf(payload.digest)}`

describe('plannedDeployments: one deployment for each pointer of an environment the run moved or tried to', () => {
  /**
   * Rows `name | changes | deployments | plans | convention`, lists `, `-separated, `-` for none: a
   * change `api:production moved to=c now=-` (from b to a unless told); plans `api 1.2.0` and the
   * environments unless told.
   */
  it.each(
    rows(
      'a pointer handed on, or moved since by another writer, is not this run to record | api:production moved now=b | -',
      'a moved pointer succeeded | api:staging moved | staging success api:staging 1.2.0 a',
      'a pointer put back failed | api:production undone | production failure api:production 1.2.0 a',
      'a pointer that could not be written failed | api:canary failed | canary failure api:canary 1.2.0 a',
      'an unchanged pointer is no deployment | api:production unchanged | -',
      'a planned pointer (dry run) is no deployment | api:production planned | -',
      'a removed mark is no deployment | api:production removed | -',
      'a tag the convention maps to no environment is no deployment | api:latest moved, api:v1.2.0 created | -',
      'a tag named like an Object property is no environment | api:constructor moved, api:toString moved | - | api',
      'channels records stable in production | api:stable moved, api:edge moved | production success api:stable 1.2.0 a | api 1.2.0 | channels',
      'channels has no staging environment, though it has a staging promotion | api:staging moved | - | api 1.2.0 | channels',
      "a pointer moved to another image than the plan's source carries no version | api:production undone to=c now=c | production failure api:production - c",
      'a plan without a version records none | api:staging moved | staging success api:staging - a | api',
      'a change without a target is no deployment | api:production failed to=- now=- | -',
      'a change of a repository without a plan is no deployment | web:production moved | -',
      "each repository's change takes its own plan, in the order of the changes | web:production moved, api:latest moved, api:production created | production success web:production 2.0.0 a, production success api:production 1.2.0 a | api 1.2.0, web 2.0.0"
    )
  )('%s', (_name, written, planned, plans = 'api 1.2.0', convention = 'environments') => {
    const list = (text: string) => (text === '-' ? [] : text.split(', '))
    const changes = list(written).map((text) => {
      const [pointer = '', action, ...extra] = text.split(' ')
      const [repository = '', tag = ''] = pointer.split(':')
      const at = ([key, name]: string[]) => [key, name === '-' ? null : fakeDigest(name ?? '')]
      const moved = Object.fromEntries(extra.map((pair) => at(pair.split('='))))
      return changed(repository, tag, action as Action, moved)
    })
    const planOfText = (text: string) => planOf(...(text.split(' ') as [string, string?]))
    const ofConvention = convention === 'channels' ? channels : environments
    const deployments = plannedDeployments(ofConvention, list(plans).map(planOfText), changes)
    expect(deployments.map(line)).toEqual(list(planned))
    // Each names its image by digest.
    for (const { payload } of deployments)
      expect(payload.image).toBe(`${uri(payload.repository)}@${payload.digest}`)
  })
})

const WORKFLOW_SHA = '0123456789abcdef0123456789abcdef01234567'
const OTHER_COMMIT = 'fedcba9'
const githubContext = (sha = WORKFLOW_SHA, runId = '42') => ({ sha, github: { ...GITHUB, runId } })
const LOG_URL = 'https://ghe.example.com/acme/shop/actions/runs/42'

/** The signal of a run nobody cancels. */
const running = new AbortController().signal

/** An error as Octokit throws it: the HTTP status on the error. */
const httpError = (status: number, message: string) => Object.assign(new Error(message), { status })

interface FakeGitHub {
  /** The error each record call throws, by call (1 = the first); none throws when absent. */
  recordErrors?: Record<number, Error>
  /** The environment's history, newest first, one array per page. */
  pages?: DeploymentRecord[][]
  /** The newest status of each deployment; absent means none. */
  states?: Record<number, string>
  /** The history's page read fails from this page on (1 = the first). */
  failOnPage?: number
  /** latestState fails for this deployment. */
  failStateOf?: number
  /** Each record is answered after this many ms, or when its signal (the run's cancel, the budget) ends it. */
  answerAfter?: number
  /** After its pages, the history waits for its signal. */
  hangs?: boolean
}

/** GitHub's deployments API kept in memory, recording every call. */
function fakeGitHub({
  recordErrors = {},
  pages = [],
  states = {},
  failOnPage,
  failStateOf,
  answerAfter,
  hangs = false
}: FakeGitHub = {}) {
  const requests: DeploymentRequest[] = []
  const histories: string[] = []
  const stateReads: number[] = []
  let [pagesRead, inFlight, most] = [0, 0, 0]
  const github: Deployments = {
    async record(request, { signal }) {
      requests.push(request)
      const error = recordErrors[requests.length]
      if (error) throw error
      inFlight += 1
      most = Math.max(most, inFlight)
      try {
        if (answerAfter !== undefined) await sleep(answerAfter, undefined, { signal })
      } finally {
        inFlight -= 1
      }
      return 1000 + requests.length
    },
    async *history(environment, { signal }) {
      histories.push(environment)
      for (const [index, page] of pages.entries()) {
        if (failOnPage !== undefined && index + 1 >= failOnPage) throw httpError(502, 'Bad Gateway')
        pagesRead += 1
        yield page
      }
      if (hangs) await sleep(60_000, undefined, { signal })
    },
    async latestState(id) {
      stateReads.push(id)
      if (id === failStateOf) throw httpError(500, 'Server Error')
      return states[id]
    }
  }
  return { github, requests, histories, stateReads, pagesRead: () => pagesRead, most: () => most }
}

/** recordDeployments with the built-in environments, the usual context, a run nobody cancels and the usual budget, unless told otherwise. */
const record = (
  github: Deployments,
  registry: Parameters<typeof recordDeployments>[1],
  planned: PlannedDeployment[],
  {
    convention = environments,
    context = githubContext(),
    signal = running,
    budgetMs = RECORDING_BUDGET_MS
  } = {}
) => recordDeployments(github, registry, convention, context, planned, signal, budgetMs)

/** DescribeImages of api and web: the build (a) carries `builtTags` in both, image c `otherTags` in web. */
const described = (builtTags: string[], otherTags: string[] = [], ...faults: Fault[]) => {
  const onBuild = Object.fromEntries(builtTags.map((tag) => [tag, manifest('a')]))
  const onOther = Object.fromEntries(otherTags.map((tag) => [tag, manifest('c')]))
  return memoryRegistry({ tags: { api: onBuild, web: { ...onBuild, ...onOther } }, faults })
}

const deployment = (
  repository = 'api',
  tag = 'production',
  version: string | null = '1.2.0',
  digest = built
): PlannedDeployment => ({
  environment: tag,
  state: 'success',
  payload: payload(repository, tag, version, digest)
})

describe('recordDeployments: the ref', () => {
  /** Rows `name | the build's tags (-: ECR does not describe it; lost: its answer is lost) | ref | convention`. */
  it.each(
    rows(
      `the workflow's full sha when the build tag's commit is the workflow's | v1.2.0 sha-${WORKFLOW_SHA.slice(0, 7)} production | ${WORKFLOW_SHA}`,
      `the build tag's short commit when the image was built from another commit | v1.2.0 sha-${OTHER_COMMIT} | ${OTHER_COMMIT}`,
      `the workflow's sha when the image has no build tag | v1.2.0 production | ${WORKFLOW_SHA}`,
      `the workflow's sha when ECR does not describe the image | - | ${WORKFLOW_SHA}`,
      `the workflow's sha when ECR cannot describe the image | lost | ${WORKFLOW_SHA}`,
      `the build tag's commit by the convention's template | 1.2.0 api-feature-x-${OTHER_COMMIT} | ${OTHER_COMMIT} | channels`
    )
  )('%s', async (_name, tags = '', ref, convention) => {
    const { github, requests } = fakeGitHub()
    const lost: Fault[] = tags === 'lost' ? [{ operation: 'images', kind: 'lost' }] : []
    const registry = described(tags === '-' || lost.length > 0 ? [] : tags.split(' '), [], ...lost)
    const outcomes = await record(github, registry, [deployment()], {
      convention: convention === 'channels' ? channels : environments
    })
    expect(outcomes).toEqual([{ ...deployment(), id: 1001, ref }])
    expect(requests.map((request) => request.ref)).toEqual([ref])
    expect(registry.log).toEqual(['images api a'])
  })

  const noRef = httpError(422, `No ref found for: ${OTHER_COMMIT}`)
  it.each<[string, Record<number, Error>, DeploymentOutcome]>([
    [
      "retries once at the workflow's sha when GitHub cannot resolve the image's commit (422)",
      { 1: noRef },
      { ...deployment(), id: 1002, ref: WORKFLOW_SHA }
    ],
    [
      'warns when the retry at the workflow sha fails too',
      { 1: noRef, 2: httpError(403, 'Resource not accessible by integration') },
      {
        ...deployment(),
        ref: WORKFLOW_SHA,
        warning: new Error('Resource not accessible by integration')
      }
    ]
  ])('%s', async (_name, recordErrors, outcome) => {
    const { github, requests } = fakeGitHub({ recordErrors })
    const outcomes = await record(github, described([`sha-${OTHER_COMMIT}`]), [deployment()])
    expect(requests.map((request) => request.ref)).toEqual([OTHER_COMMIT, WORKFLOW_SHA])
    expect(outcomes).toEqual([outcome])
  })

  it.each<[string, string, string, Error]>([
    ['a 422 when the ref already is the workflow sha', WORKFLOW_SHA, WORKFLOW_SHA, noRef],
    ['a 422 when the run has no workflow sha to fall back on', '', OTHER_COMMIT, noRef],
    ['a failure other than a 422', WORKFLOW_SHA, OTHER_COMMIT, httpError(500, 'Server Error')],
    ['an error without a status', WORKFLOW_SHA, OTHER_COMMIT, new Error('request timed out')]
  ])(
    'is not retried, but warns, and records the next deployment: %s',
    async (_name, sha, commit, error) => {
      const { github, requests } = fakeGitHub({ recordErrors: { 1: error } })
      const registry = described([`sha-${commit.slice(0, 7)}`], ['staging'])
      const outcomes = await record(
        github,
        registry,
        [deployment(), deployment('web', 'staging', null, other)],
        { context: githubContext(sha) }
      )
      const firstRef = requests[0]?.ref
      expect(requests.map((request) => request.payload.repository)).toEqual(['api', 'web'])
      expect(outcomes).toEqual([
        { ...deployment(), ref: firstRef, warning: new Error(error.message) },
        { ...deployment('web', 'staging', null, other), id: 1002, ref: sha }
      ])
    }
  )
})

describe('recordDeployments: what each deployment says', () => {
  it('records each deployment in order, with its environment, state, payload, description and log URL', async () => {
    const { github, requests } = fakeGitHub()
    const registry = described([`sha-${OTHER_COMMIT}`])
    const failed: PlannedDeployment = { ...deployment('web', 'canary', null), state: 'failure' }
    const outcomes = await record(github, registry, [deployment(), failed])
    expect(requests).toEqual([
      {
        environment: 'production',
        state: 'success',
        payload: payload('api', 'production', '1.2.0'),
        ref: OTHER_COMMIT,
        description: `api:production on sha256:aaaaaaaaaaaa (1.2.0)`,
        logUrl: LOG_URL
      },
      {
        environment: 'canary',
        state: 'failure',
        payload: payload('web', 'canary', null),
        ref: OTHER_COMMIT,
        description: `web:canary on sha256:aaaaaaaaaaaa`,
        logUrl: LOG_URL
      }
    ])
    expect(outcomes.map(({ id }) => id)).toEqual([1001, 1002])
  })

  it('keeps the description to 140 characters', async () => {
    const { github, requests } = fakeGitHub()
    const registry = described([])
    const repository = `team/${'a'.repeat(150)}`
    await record(github, registry, [
      deployment(repository),
      deployment('api', 'production', `1.2.0-${'rc'.repeat(50)}`)
    ])
    const [long, longVersion] = requests.map(({ description }) => description)
    expect(long).toBe(`team/${'a'.repeat(135)}`)
    expect(longVersion).toBe(
      `api:production on sha256:aaaaaaaaaaaa (1.2.0-${'rc'.repeat(50)}`.slice(0, 140)
    )
  })

  it('links the repository when the run has no run id', async () => {
    const { github, requests } = fakeGitHub()
    const registry = described([])
    await record(github, registry, [deployment()], { context: githubContext(WORKFLOW_SHA, '') })
    expect(requests.map(({ logUrl }) => logUrl)).toEqual(['https://ghe.example.com/acme/shop'])
  })

  it('asks nothing when there is nothing to record', async () => {
    const { github, requests } = fakeGitHub()
    const registry = described([])
    expect(await record(github, registry, [])).toEqual([])
    expect(requests).toEqual([])
    expect(registry.log).toEqual([])
  })
})

const manyDeployments = (count: number) =>
  Array.from({ length: count }, (_, index) => deployment(`team/app-${index + 1}`))

describe('recordDeployments: bounded', () => {
  it('sends at most 4 records at once, started in the order of the moves', async () => {
    const { github, requests, most } = fakeGitHub({ answerAfter: 20 })
    const planned = manyDeployments(10)
    const outcomes = await record(github, described([]), planned)
    expect(most()).toBe(4)
    expect(requests.map(({ payload }) => payload)).toEqual(planned.map(({ payload }) => payload))
    expect(outcomes.map(({ payload, warning }) => [payload.repository, warning?.message])).toEqual(
      planned.map(({ payload }) => [payload.repository, undefined])
    )
  })

  it('stops at the budget: the records under way are given up, the rest not sent, each saying why', async () => {
    const { github, requests } = fakeGitHub({ answerAfter: 60_000 })
    const outcomes = await record(github, described([]), manyDeployments(25), { budgetMs: 300 })
    expect(requests).toHaveLength(4)
    expect(outcomes.map(({ warning }) => warning?.message)).toEqual(
      Array(25).fill('the 0.3 s for recording deployments ran out')
    )
  })

  it('sends no further record once the run is cancelled, and gives up those under way', async () => {
    const { github, requests } = fakeGitHub({ answerAfter: 60_000 })
    const cancel = new AbortController()
    const recording = record(github, described([]), manyDeployments(10), { signal: cancel.signal })
    while (requests.length < 4) await sleep(5)
    cancel.abort('SIGINT')
    const outcomes = await recording
    expect(requests).toHaveLength(4)
    expect(outcomes.map(({ warning }) => warning?.message)).toEqual(
      Array(10).fill('the job was cancelled (SIGINT)')
    )
  })
})

describe('notRecorded: one warning for every deployment not recorded', () => {
  const failed = (repository: string, warning: string): DeploymentOutcome => ({
    ...deployment(repository),
    warning: new Error(warning)
  })
  it.each<[string, DeploymentOutcome[], string | undefined]>([
    [
      'none when every one was recorded',
      [{ ...deployment(), id: 7, ref: WORKFLOW_SHA }],
      undefined
    ],
    ['none when there was none to record', [], undefined],
    [
      'one',
      [failed('api', 'Bad credentials')],
      '1 of 1 GitHub deployment not recorded (the tags are written as reported): api:production in production: Bad credentials'
    ],
    [
      'the pointers grouped by why, in the order of the moves, the recorded ones counted',
      [
        failed('api', 'GitHub did not answer'),
        { ...deployment('web'), id: 8, ref: WORKFLOW_SHA },
        failed('worker', 'the 30 s for recording deployments ran out'),
        failed('jobs', 'GitHub did not answer')
      ],
      '3 of 4 GitHub deployments not recorded (the tags are written as reported): api:production in production, jobs:production in production: GitHub did not answer; worker:production in production: the 30 s for recording deployments ran out'
    ]
  ])('%s', (_name, outcomes, warning) => {
    expect(notRecorded(outcomes)).toBe(warning)
  })
})

/** Repositories of this run's registry, as recordsAt takes them. */
const inRegistry = (...names: string[]) => names.map((name) => ({ name, uri: uri(name) }))
/** Where production was in these repositories at 13:00 on 2026-11-19, by the environment production, unless told. */
const productionAt = (
  github: Deployments,
  repositories: string[],
  { environment = 'production', at = moment('2026-11-19T13:00:00Z'), signal = running } = {}
) => recordsAt(github, environment, inRegistry(...repositories), 'production', at, signal)

const moment = (iso: string): Moment => ({ at: new Date(iso), text: iso })
/** The moment of `time` (`12:00`) on 2026-11-19, or of a full ISO time. */
const on19 = (time: string) => new Date(time.includes('T') ? time : `2026-11-19T${time}:00Z`)
/** A record of `repository`'s `tag` (production unless told) created at `time`. */
const at = (
  repository: string,
  id: number,
  time: string,
  tag = 'production'
): DeploymentRecord => ({
  id,
  environment: 'production',
  createdAt: on19(time),
  payload: payload(repository, tag, `1.0.${id}`, fakeDigest(String(id % 10)))
})
/** The newest status of each of these deployments: success. */
const landed = (...ids: number[]) => Object.fromEntries(ids.map((id) => [id, 'success']))

describe('recordsAt: where each pointer was at a moment', () => {
  it('takes the newest landed record at or before the moment, per repository, reading pages until each is found', async () => {
    const { github, histories, pagesRead } = fakeGitHub({
      pages: [
        [at('api', 9, '2026-11-20T10:00:00Z'), at('api', 8, '12:00')],
        [at('web', 7, '11:00'), at('api', 6, '10:00')],
        [at('web', 5, '09:00')]
      ],
      states: { ...landed(9, 7, 6, 5), 8: 'inactive' }
    })
    const found = await productionAt(github, ['api', 'web'])
    expect([...found]).toEqual([
      ['api', at('api', 8, '12:00')],
      ['web', at('web', 7, '11:00')]
    ])
    expect(histories).toEqual(['production'])
    expect(pagesRead()).toBe(2)
  })

  const elsewhere: DeploymentRecord = {
    ...at('api', 9, '12:00'),
    payload: {
      ...payload('api', 'production', '1.0.9', fakeDigest('9')),
      image: `210987654321.dkr.ecr.eu-west-1.amazonaws.com/api@${fakeDigest('9')}`
    }
  }
  // Which payloads are not ecr-promote's is recordOf's rule (unit/core/history.test.ts).
  const notOurs = [
    at('web', 9, '12:50'),
    at('api', 8, '12:40', 'canary'),
    { ...at('api', 7, '12:30'), payload: 'deployed api by hand' }
  ]
  const landing = ['14', '12', '11', '10', '09', '08'].map((hour, index) =>
    at('api', 6 - index, `${hour}:00`)
  )
  type Found = [string, DeploymentRecord[], Record<number, string>, number, number[], Moment?]
  it.each<Found>([
    [
      "skips a record of another registry's repository of the same name",
      [elsewhere, at('api', 8, '11:00')],
      landed(9, 8),
      8,
      [8]
    ],
    [
      'counts a record made at the very moment',
      [at('api', 2, '2026-11-19T13:00:00.001Z'), at('api', 1, '13:00')],
      landed(1, 2),
      1,
      [1],
      { at: on19('13:00'), text: '2026-11-19T14:00+01:00' }
    ],
    [
      // 2 has no status at all; 6 is after the moment, so its state does not matter.
      'skips records that did not land, and asks the state only of records at or before the moment',
      landing,
      { ...landed(6, 1), 5: 'failure', 4: 'error', 3: 'in_progress' },
      1,
      [5, 4, 3, 2, 1]
    ],
    [
      "ignores other repositories' and other tags' records, and payloads ecr-promote did not write",
      [...notOurs, at('api', 1, '12:00')],
      landed(9, 8, 7, 1),
      1,
      [1]
    ]
  ])('%s', async (...[, records, states, id, reads, moment]: Found) => {
    const { github, stateReads } = fakeGitHub({ pages: [records], states })
    const found = await productionAt(github, ['api'], moment && { at: moment })
    expect(found.get('api')?.id).toBe(id)
    expect(stateReads).toEqual(reads)
  })

  it('names every repository without a record at the moment in one error, with its earliest record', async () => {
    const { github, pagesRead } = fakeGitHub({
      pages: [
        [at('web', 9, '2026-11-21T10:00:00Z'), at('api', 8, '12:00')],
        [at('web', 7, '2026-11-20T10:00:00Z'), at('worker', 6, '11:00')],
        [at('worker', 5, '10:00')]
      ],
      states: { ...landed(9, 8, 7), 6: 'failure', 5: 'error' }
    })
    const failure = await rejection(productionAt(github, ['api', 'web', 'worker', 'jobs']))
    expect(failure).toBeInstanceOf(AggregateError)
    const tail =
      'The history starts when deployments: on was first used; roll back to a version instead'
    const head = (repository: string) =>
      `cannot roll back ${repository}:production to 2026-11-19T13:00:00Z (2026-11-19T13:00:00.000Z): by the GitHub environment production,`
    expect(problemsOf(failure).map((error) => (error as Error).message)).toEqual([
      `${head('web')} its earliest deployment record there is from 2026-11-20T10:00:00.000Z. ${tail}`,
      `${head('worker')} its earliest deployment record there is from 2026-11-19T10:00:00.000Z. ${tail}`,
      `${head('jobs')} there is no deployment record of it there. ${tail}`
    ])
    expect(pagesRead()).toBe(3)
  })

  it.each<[string, FakeGitHub, string]>([
    [
      'a page that cannot be read',
      { pages: [[at('web', 9, '12:00')], []], failOnPage: 2 },
      'Bad Gateway'
    ],
    [
      'a state that cannot be read',
      { pages: [[at('api', 9, '12:00')]], failStateOf: 9 },
      'Server Error'
    ]
  ])('says no tag was written when GitHub fails: %s', async (_name, given, cause) => {
    const { github } = fakeGitHub(given)
    const failure = await rejection(productionAt(github, ['api'], { environment: 'staging' }))
    expect(failure).not.toBeInstanceOf(AggregateError)
    expect(failure.message).toBe(
      `cannot read the deployment history of the GitHub environment staging: ${cause}; no tag was written`
    )
    expect((failure.cause as Error).message).toBe(cause)
  })

  it('stops at once when the run is cancelled while it reads, saying no tag was written', async () => {
    const cancel = new AbortController()
    // The second page never comes, until the run is cancelled.
    const { github } = fakeGitHub({ pages: [[at('web', 9, '12:00')]], hangs: true })
    const reading = rejection(productionAt(github, ['api'], { signal: cancel.signal }))
    cancel.abort('SIGINT')
    const failure = await reading
    expect(failure.message).toBe(
      'the job was cancelled while it read the deployment history: no tag was written'
    )
  })
})
