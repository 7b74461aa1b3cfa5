import { builtInConvention } from '../src/core/conventions.js'
import { describeRef, type ImageRef, type Manifest } from '../src/core/model.js'
import { problemsOf } from '../src/core/problems.js'
import { requireVersion } from '../src/core/version.js'
import { clearWithdrawn } from '../src/run/withdrawn.js'
import { fakeDigest, rejection } from './support/harness.js'
import { MEDIA_TYPES } from './support/oci.mjs'

const environments = builtInConvention('environments')
const version = requireVersion('v1.2.0', 'version')
const MARK = 'withdrawn-1.2.0'

/** A manifest with its own body, so a put-back of another one would show. */
const image = (name: string): Manifest => ({
  digest: fakeDigest(name),
  mediaType: MEDIA_TYPES.ociManifest,
  body: `{"schemaVersion":2,"name":"${name}"}`
})

interface Faults {
  /** Repositories whose removal fails. */
  removeFails?: string[]
  /** Repositories whose removal fails, though ECR did take the tag off (the answer was lost). */
  removeLost?: string[]
  /** Repositories whose put-back fails. */
  putFails?: string[]
}

/** The three calls a restore makes, over tags kept in memory, recording each call. */
function fakeRegistry(
  held: Record<string, Record<string, Manifest>>,
  { removeFails = [], removeLost = [], putFails = [] }: Faults = {}
) {
  const calls: string[] = []
  const put: { repository: string; tag: string; manifest: Manifest }[] = []
  let paced = 0
  const registry = {
    async getManifests(repository: string, refs: readonly ImageRef[]) {
      calls.push(`get ${repository} ${refs.map(describeRef).join(',')}`)
      const tags = held[repository] ?? {}
      return new Map(
        refs.flatMap((ref) => {
          const found = 'tag' in ref ? tags[ref.tag] : undefined
          return found ? [[describeRef(ref), found] as const] : []
        })
      )
    },
    async removeTag(repository: string, tag: string) {
      calls.push(`remove ${repository} ${tag}`)
      if (removeLost.includes(repository)) delete held[repository]?.[tag]
      if (removeFails.includes(repository) || removeLost.includes(repository))
        throw new Error(`ecr:BatchDeleteImage on ${repository} denied`)
      delete held[repository]?.[tag]
    },
    async putTag(repository: string, tag: string, manifest: Manifest) {
      calls.push(`put ${repository} ${tag}`)
      if (putFails.includes(repository)) throw new Error(`ecr:PutImage on ${repository} throttled`)
      put.push({ repository, tag, manifest })
      ;(held[repository] ??= {})[tag] = manifest
      return 'written' as const
    }
  }
  const pace = async () => {
    paced += 1
  }
  return { registry, calls, put, pace, paced: () => paced }
}

const [api, web, worker] = [image('a'), image('b'), image('c')]
const running = new AbortController().signal

describe('clearWithdrawn', () => {
  it('takes the mark off in every repository that has it', async () => {
    const held = {
      api: { [MARK]: api, 'v1.2.0': api },
      web: { 'v1.2.0': web },
      worker: { [MARK]: worker }
    }
    const { registry, calls, pace, paced } = fakeRegistry(held)
    const result = await clearWithdrawn(
      registry,
      environments,
      ['api', 'web', 'worker'],
      version,
      false,
      pace,
      running
    )
    expect(result).toEqual({
      changes: [
        // In the order of the repository input, as every other event's rows.
        { repository: 'api', tag: MARK, from: api.digest, to: null, action: 'removed', now: null },
        {
          repository: 'web',
          tag: MARK,
          from: null,
          to: null,
          action: 'unchanged',
          now: null,
          note: '1.2.0 is not withdrawn here'
        },
        {
          repository: 'worker',
          tag: MARK,
          from: worker.digest,
          to: null,
          action: 'removed',
          now: null
        }
      ]
    })
    expect(held).toEqual({ api: { 'v1.2.0': api }, web: { 'v1.2.0': web }, worker: {} })
    expect(calls.filter((call) => !call.startsWith('get'))).toEqual([
      `remove api ${MARK}`,
      `remove worker ${MARK}`
    ])
    expect(calls.filter((call) => call.startsWith('get'))).toEqual([
      `get api ${MARK}`,
      `get web ${MARK}`,
      `get worker ${MARK}`
    ])
    // One turn of the write pace before each removal.
    expect(paced()).toBe(2)
  })

  it("takes off the convention's own mark", async () => {
    const held = { api: { [MARK]: api, 'pulled-1.2.0': api } }
    const { registry, pace } = fakeRegistry(held)
    const { changes } = await clearWithdrawn(
      registry,
      { ...environments, withdrawnTag: 'pulled-{version}' },
      ['api'],
      version,
      false,
      pace,
      running
    )
    expect(changes.map(({ tag, action }) => [tag, action])).toEqual([['pulled-1.2.0', 'removed']])
    expect(Object.keys(held.api)).toEqual([MARK])
  })

  it('only plans in a dry run, and writes nothing', async () => {
    const held = { api: { [MARK]: api }, web: {} }
    const { registry, calls, pace, paced } = fakeRegistry(held)
    const { changes, failure } = await clearWithdrawn(
      registry,
      environments,
      ['api', 'web'],
      version,
      true,
      pace,
      running
    )
    expect(failure).toBeUndefined()
    expect(
      changes.map(({ repository, from, action, now }) => [repository, from, action, now])
    ).toEqual([
      ['api', api.digest, 'planned', null],
      ['web', null, 'unchanged', null]
    ])
    expect(calls).toEqual([`get api ${MARK}`, `get web ${MARK}`])
    expect(held.api[MARK]).toBe(api)
    expect(paced()).toBe(0)
  })

  it.each([false, true])(
    'refuses when no repository has the mark, writing nothing (dry run %s)',
    async (dryRun) => {
      const { registry, calls, pace } = fakeRegistry({ api: { 'v1.2.0': api }, web: {} })
      const failure = await rejection(
        clearWithdrawn(registry, environments, ['api', 'web'], version, dryRun, pace, running)
      )
      expect(failure.message).toBe(
        `1.2.0 is not withdrawn in api, web: none has the tag ${MARK}; nothing to clear`
      )
      expect(calls).toEqual([`get api ${MARK}`, `get web ${MARK}`])
    }
  )

  it('puts the marks back, byte for byte, when one removal fails, and says where each mark is now', async () => {
    const held = {
      api: { [MARK]: api },
      web: { [MARK]: web },
      worker: { [MARK]: worker },
      jobs: {}
    }
    const { registry, calls, put, pace, paced } = fakeRegistry(held, { removeFails: ['web'] })
    const { changes, failure } = await clearWithdrawn(
      registry,
      environments,
      ['api', 'web', 'worker', 'jobs'],
      version,
      false,
      pace,
      running
    )
    expect(
      changes.map(({ repository, from, action, now }) => [repository, from, action, now])
    ).toEqual([
      ['api', api.digest, 'undone', api.digest],
      ['web', web.digest, 'failed', web.digest],
      ['worker', worker.digest, 'undone', worker.digest],
      ['jobs', null, 'unchanged', null]
    ])
    // The very manifests read before the removals: nothing re-serialised.
    expect(put).toEqual([
      { repository: 'api', tag: MARK, manifest: api },
      { repository: 'worker', tag: MARK, manifest: worker }
    ])
    expect(put[0]?.manifest).toBe(api)
    expect(put[1]?.manifest).toBe(worker)
    expect(held.api[MARK]).toBe(api)
    expect(calls.filter((call) => call.startsWith('put'))).toEqual([
      `put api ${MARK}`,
      `put worker ${MARK}`
    ])
    // Every repository is read again to see what is gone, and once more at the end.
    expect(calls.filter((call) => call.startsWith('get'))).toHaveLength(12)
    expect(paced()).toBe(5)
    expect(failure).toBeInstanceOf(AggregateError)
    expect(problemsOf(failure).map((error) => (error as Error).message)).toEqual([
      `could not take ${MARK} off web: ecr:BatchDeleteImage on web denied`
    ])
  })

  it('puts back a mark whose removal was answered as failed but did take it off', async () => {
    const held = { api: { [MARK]: api }, web: { [MARK]: web } }
    const { registry, pace } = fakeRegistry(held, { removeLost: ['web'] })
    const { changes, failure } = await clearWithdrawn(
      registry,
      environments,
      ['api', 'web'],
      version,
      false,
      pace,
      running
    )
    expect(changes.map(({ repository, action, now }) => [repository, action, now])).toEqual([
      ['api', 'undone', api.digest],
      ['web', 'undone', web.digest]
    ])
    expect(failure?.message).toBe(
      `could not take ${MARK} off web: ecr:BatchDeleteImage on web denied`
    )
  })

  it('names a put-back that fails too, and shows that mark removed', async () => {
    const held = { api: { [MARK]: api }, web: { [MARK]: web }, worker: { [MARK]: worker } }
    const { registry, pace } = fakeRegistry(held, { removeFails: ['web'], putFails: ['api'] })
    const { changes, failure } = await clearWithdrawn(
      registry,
      environments,
      ['api', 'web', 'worker'],
      version,
      false,
      pace,
      running
    )
    expect(changes.map(({ repository, action, now }) => [repository, action, now])).toEqual([
      ['api', 'removed', null],
      ['web', 'failed', web.digest],
      ['worker', 'undone', worker.digest]
    ])
    expect(problemsOf(failure).map((error) => (error as Error).message)).toEqual([
      `could not take ${MARK} off web: ecr:BatchDeleteImage on web denied`,
      `could not put ${MARK} back on api: ecr:PutImage on api throttled`
    ])
  })

  it('names every removal that fails, and puts back nothing when none was taken off', async () => {
    const held = { api: { [MARK]: api }, web: { [MARK]: web } }
    const { registry, put, pace } = fakeRegistry(held, { removeFails: ['api', 'web'] })
    const { changes, failure } = await clearWithdrawn(
      registry,
      environments,
      ['api', 'web'],
      version,
      false,
      pace,
      running
    )
    expect(put).toEqual([])
    expect(changes.map(({ action }) => action)).toEqual(['failed', 'failed'])
    expect(problemsOf(failure).map((error) => (error as Error).message)).toEqual([
      `could not take ${MARK} off api: ecr:BatchDeleteImage on api denied`,
      `could not take ${MARK} off web: ecr:BatchDeleteImage on web denied`
    ])
  })
})

describe('clearWithdrawn when the job is cancelled', () => {
  it('still puts back the marks it took off: put-backs do not wait on the cancelled signal', async () => {
    const held = { api: { [MARK]: api }, web: { [MARK]: web } }
    const { registry } = fakeRegistry(held)
    const cancel = new AbortController()
    // The first removal takes its turn; then the job is cancelled, and a cancelled turn rejects.
    const pace = async (signal?: AbortSignal) => {
      if (signal?.aborted) throw new Error('the job was cancelled (SIGINT)')
      cancel.abort('SIGINT')
    }
    const { changes, failure } = await clearWithdrawn(
      registry,
      environments,
      ['api', 'web'],
      version,
      false,
      pace,
      cancel.signal
    )
    expect(changes.map(({ repository, action, now }) => [repository, action, now])).toEqual([
      ['api', 'undone', api.digest],
      ['web', 'failed', web.digest]
    ])
    expect(held.api[MARK]).toBe(api)
    expect(failure?.message).toContain('the job was cancelled')
  })
})
