import { messageOf } from '../../../src/core/model.js'
import { problemsOf } from '../../../src/core/problems.js'
import { clearWithdrawn } from '../../../src/run/withdrawn.js'
import { environments, manifests, taggedRepositories, v } from '../../support/builders.js'
import { rejection } from '../../support/harness.js'
import { memoryRegistry, type Fault } from '../../support/memory-registry.js'

const MARK = 'withdrawn-1.2.0'
const [api, web, worker] = manifests('a', 'b', 'c')

/** The registry: repository → `tag=image …`, each repository's mark on its own image. */
const holding = (repositories: Record<string, string>, ...faults: Fault[]) =>
  memoryRegistry({ tags: taggedRepositories(repositories), faults })
const failing = (
  operation: Fault['operation'],
  repository: string,
  kind: Fault['kind'] = 'failed'
) => ({ operation, repository, kind }) as Fault

/** clearWithdrawn of 1.2.0 in every repository of the registry, counting the turns of the write pace. */
async function clear(
  registry: ReturnType<typeof holding>,
  {
    dryRun = false,
    convention = environments,
    pace = (async () => {}) as (signal?: AbortSignal) => Promise<void>,
    signal = new AbortController().signal
  } = {}
) {
  let paced = 0
  const counted = async (given?: AbortSignal) => {
    paced += 1
    await pace(given)
  }
  const repositories = Object.keys(registry.repositories)
  const result = await clearWithdrawn(
    registry,
    convention,
    repositories,
    v('1.2.0'),
    dryRun,
    counted,
    signal
  )
  return { ...result, paced }
}
const rows = ({ changes }: Awaited<ReturnType<typeof clear>>) =>
  changes.map(({ repository, action, now }) => [repository, action, now])
const puts = (registry: ReturnType<typeof holding>) =>
  registry.log.filter((call) => call.startsWith('put'))
const problems = (failure: unknown) => problemsOf(failure).map(messageOf)
const notTakenOff = (repository: string) =>
  `could not take ${MARK} off ${repository}: ecr:BatchDeleteImage on ${repository} failed`
/** A row of the mark in `repository`, from `from`, taken off unless told. */
const mark = (repository: string, from: string | null, action: string, extra = {}) => ({
  repository,
  tag: MARK,
  from,
  to: null,
  action,
  now: null,
  ...extra
})

describe('clearWithdrawn', () => {
  it('takes the mark off in every repository that has it', async () => {
    const registry = holding({ api: `${MARK}=a v1.2.0=a`, web: 'v1.2.0=b', worker: `${MARK}=c` })
    const { paced, ...result } = await clear(registry)
    // In the order of the repository input, as every other event's rows.
    expect(result).toEqual({
      changes: [
        mark('api', api.digest, 'removed'),
        mark('web', null, 'unchanged', { note: '1.2.0 is not withdrawn here' }),
        mark('worker', worker.digest, 'removed')
      ]
    })
    expect(registry.repositories).toEqual({
      api: { 'v1.2.0': api.digest },
      web: { 'v1.2.0': web.digest },
      worker: {}
    })
    expect(registry.log).toEqual([
      `read api ${MARK}`,
      `read web ${MARK}`,
      `read worker ${MARK}`,
      `remove api:${MARK}`,
      `remove worker:${MARK}`
    ])
    // One turn of the write pace before each removal.
    expect(paced).toBe(2)
  })

  it("takes off the convention's own mark", async () => {
    const registry = holding({ api: `${MARK}=a pulled-1.2.0=a` })
    const { changes } = await clear(registry, {
      convention: { ...environments, withdrawnTag: 'pulled-{version}' }
    })
    expect(changes.map(({ tag, action }) => [tag, action])).toEqual([['pulled-1.2.0', 'removed']])
    expect(Object.keys(registry.tags('api'))).toEqual([MARK])
  })

  it('only plans in a dry run, and writes nothing', async () => {
    const registry = holding({ api: `${MARK}=a`, web: '' })
    const { changes, failure, paced } = await clear(registry, { dryRun: true })
    expect(failure).toBeUndefined()
    expect(
      changes.map(({ repository, from, action, now }) => [repository, from, action, now])
    ).toEqual([
      ['api', api.digest, 'planned', null],
      ['web', null, 'unchanged', null]
    ])
    expect(registry.log).toEqual([`read api ${MARK}`, `read web ${MARK}`])
    expect(paced).toBe(0)
  })

  it.each([false, true])(
    'refuses when no repository has the mark, writing nothing (dry run %s)',
    async (dryRun) => {
      const registry = holding({ api: 'v1.2.0=a', web: '' })
      const failure = await rejection(clear(registry, { dryRun }))
      expect(failure.message).toBe(
        `1.2.0 is not withdrawn in api, web: none has the tag ${MARK}; nothing to clear`
      )
      expect(registry.log).toEqual([`read api ${MARK}`, `read web ${MARK}`])
    }
  )

  it('puts the marks back, byte for byte, when one removal fails, and says where each mark is now', async () => {
    const registry = holding(
      { api: `${MARK}=a`, web: `${MARK}=b`, worker: `${MARK}=c`, jobs: '' },
      failing('remove', 'web')
    )
    const { changes, failure, paced } = await clear(registry)
    expect(
      changes.map(({ repository, from, action, now }) => [repository, from, action, now])
    ).toEqual([
      ['api', api.digest, 'undone', api.digest],
      ['web', web.digest, 'failed', web.digest],
      ['worker', worker.digest, 'undone', worker.digest],
      ['jobs', null, 'unchanged', null]
    ])
    // The very manifests read before the removals: nothing re-serialised.
    expect(puts(registry)).toEqual([`put api:${MARK}=a`, `put worker:${MARK}=c`])
    expect(registry.manifests.get(api.digest)).toBe(api)
    expect(registry.manifests.get(worker.digest)).toBe(worker)
    expect(registry.tags('api')[MARK]).toBe(api.digest)
    // Every repository is read again to see what is gone, and once more at the end.
    expect(registry.log.filter((call) => call.startsWith('read'))).toHaveLength(12)
    expect(paced).toBe(5)
    expect(failure).toBeInstanceOf(AggregateError)
    expect(problems(failure)).toEqual([notTakenOff('web')])
  })

  it.each<[string, Record<string, string>, Fault[], unknown[][], string[], string[]]>([
    [
      'puts back a mark whose removal was answered as failed but did take it off',
      { api: `${MARK}=a`, web: `${MARK}=b` },
      [failing('remove', 'web', 'lost')],
      [
        ['api', 'undone', api.digest],
        ['web', 'undone', web.digest]
      ],
      [`put api:${MARK}=a`, `put web:${MARK}=b`],
      [notTakenOff('web')]
    ],
    [
      'names a put-back that fails too, and shows that mark removed',
      { api: `${MARK}=a`, web: `${MARK}=b`, worker: `${MARK}=c` },
      [failing('remove', 'web'), failing('put', 'api')],
      [
        ['api', 'removed', null],
        ['web', 'failed', web.digest],
        ['worker', 'undone', worker.digest]
      ],
      [`put worker:${MARK}=c`],
      [notTakenOff('web'), `could not put ${MARK} back on api: ecr:PutImage on api failed`]
    ],
    [
      'names every removal that fails, and puts back nothing when none was taken off',
      { api: `${MARK}=a`, web: `${MARK}=b` },
      [failing('remove', 'api'), failing('remove', 'web')],
      [
        ['api', 'failed', api.digest],
        ['web', 'failed', web.digest]
      ],
      [],
      [notTakenOff('api'), notTakenOff('web')]
    ]
  ])('%s', async (_name, repositories, faults, changed, putCalls, named) => {
    const registry = holding(repositories, ...faults)
    const result = await clear(registry)
    expect(rows(result)).toEqual(changed)
    expect(puts(registry)).toEqual(putCalls)
    expect(problems(result.failure)).toEqual(named)
  })

  it('still puts back the marks it took off when the job is cancelled: put-backs do not wait on the cancelled signal', async () => {
    const registry = holding({ api: `${MARK}=a`, web: `${MARK}=b` })
    const cancel = new AbortController()
    // The first removal takes its turn; then the job is cancelled, and a cancelled turn rejects.
    const pace = async (signal?: AbortSignal) => {
      if (signal?.aborted) throw new Error('the job was cancelled (SIGINT)')
      cancel.abort('SIGINT')
    }
    const result = await clear(registry, { pace, signal: cancel.signal })
    expect(rows(result)).toEqual([
      ['api', 'undone', api.digest],
      ['web', 'failed', web.digest]
    ])
    expect(registry.tags('api')[MARK]).toBe(api.digest)
    expect(result.failure?.message).toContain('the job was cancelled')
  })
})
