import {
  applyPlans,
  type ApplyWrites,
  type Outcome,
  type RepositoryWork
} from '../../../src/run/apply.js'
import type { Effects } from '../../../src/run/effects.js'
import { leftToUndo, type JournalEntry } from '../../../src/run/journal.js'
import type { Manifest } from '../../../src/core/model.js'
import type { RepositoryPlan } from '../../../src/core/plan.js'
import { changeRow } from '../../../src/report/result.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { hold, manifests, plan, taggedRepositories, write } from '../../support/builders.js'
import { fakeEffects } from '../../support/harness.js'
import { memoryRegistry, type Fault, type MemoryRegistry } from '../../support/memory-registry.js'

const [build, old, other, between] = manifests('b', 'c', 'd', 'e')
/** How the fake planner ranks images for a forward pointer: a higher number is a higher version. */
const rank = new Map([
  [old.digest, 1],
  [between.digest, 1.5],
  [build.digest, 2],
  [other.digest, 3]
])

/** The registry with these repositories (`tag=image …`), production on c in app unless told. */
const holding = (
  repositories: Record<string, string> = { app: 'production=c' },
  ...faults: Fault[]
) => memoryRegistry({ tags: taggedRepositories(repositories), faults })
const failed = (operation: Fault['operation'], ref: string, extra: Partial<Fault> = {}): Fault => ({
  operation,
  ref,
  kind: 'failed',
  ...extra
})

const release = plan('app', {
  source: build,
  steps: [write('v1.2.0', 'version', build), write('production', 'forward', build, old)]
})
const plain = (repository: string, from?: Manifest) =>
  plan(repository, { source: build, steps: [write('latest', 'plain', build, from)] })
/** latest (plain) then production (forward) in app, latest on c before. */
const latestThenProduction = plan('app', {
  source: build,
  steps: [write('latest', 'plain', build, old), write('production', 'forward', build)]
})
/** Lets the writes of the other repositories land first. */
const slowly = (): Promise<void> => sleep(20)
/** Aborts `controller` once a put of `tag` (any, when absent) has landed. */
function cancelAfterPut(registry: MemoryRegistry, controller: AbortController, tag?: string) {
  const putTag = registry.putTag.bind(registry)
  registry.putTag = async (...args) => {
    const result = await putTag(...args)
    if (tag === undefined || args[1] === tag) controller.abort('SIGINT')
    return result
  }
}

/**
 * A repository's work over the fake registry: after the writes, a lower image on a pointer is
 * replaced and a higher one left alone, by `rank`; undo goes back to `before`.
 */
function work(
  registry: MemoryRegistry,
  planned: RepositoryPlan,
  restoreTo?: (tag: string) => Manifest | undefined
): RepositoryWork {
  const ranks = (manifest: Manifest | undefined) => rank.get(manifest?.digest ?? '') ?? 0
  return {
    plan: planned,
    async checkPointers(steps) {
      const tags = steps.map(({ tag }) => tag)
      const current = await registry.getManifests(
        planned.repository,
        tags.map((tag) => ({ tag }))
      )
      return tags.map((tag) => {
        const now = current.get(tag)
        if (now?.digest === build.digest) return { tag, now: now.digest }
        if (ranks(now) < ranks(build))
          return { tag, now: now?.digest ?? null, moveTo: build, note: 'a lower one took it' }
        return { tag, now: now?.digest ?? null, note: 'a higher one took it; left alone' }
      })
    },
    async undoTargets(steps) {
      return steps.map(({ step, before }) => (restoreTo ? restoreTo(step.tag) : before))
    }
  }
}

const noJournal = { note: () => {}, resume: 'finish it by hand' }

/** The effects and writes of a run, each as the test overrides it. */
type Options = Partial<Effects & ApplyWrites>

const apply = (registry: MemoryRegistry, plans: RepositoryPlan[], overrides: Options = {}) =>
  applyWork(
    registry,
    plans.map((planned) => work(registry, planned)),
    overrides
  ).then(rows)
/** applyPlans over repositories' work as the test builds it, with the effects and writes overridden. */
function applyWork(registry: MemoryRegistry, works: RepositoryWork[], overrides: Options = {}) {
  const {
    pace = async () => {},
    undo = { registry, signal: new AbortController().signal },
    journal = noJournal,
    beforeUndo = async () => {},
    ...effects
  } = overrides
  return applyPlans(
    works,
    registry,
    { ...fakeEffects().effects, clock: () => 0, ...effects },
    { pace, undo, journal, beforeUndo }
  )
}

/** The outcome as the `changes` rows it reports, which is what a user reads. */
const rows = ({ steps, failure }: Outcome) => ({
  changes: steps.map(changeRow),
  ...(failure && { failure })
})

const actions = (outcome: Awaited<ReturnType<typeof apply>>) =>
  outcome.changes.map(({ repository, tag, action }) => `${repository}:${tag} ${action}`)

describe('applyPlans', () => {
  it('writes version tags and pointers in one wave, then, once all are answered, checks the pointers', async () => {
    // The version tag's answer is slow: the pointer is sent without waiting for it.
    const registry = holding(undefined, { operation: 'put', ref: 'v1.2.0', before: slowly })
    const outcome = await apply(registry, [release])
    expect(outcome.failure).toBeUndefined()
    expect(actions(outcome)).toEqual(['app:v1.2.0 created', 'app:production moved'])
    expect(registry.log).toEqual([
      'put app:production=b',
      'put app:v1.2.0=b',
      'read app production'
    ])
    expect(outcome.changes.map(({ now }) => now)).toEqual([build.digest, build.digest])
  })

  it('writes a pointer it held on an image without a version once the check finds it belongs on its own, journaled as any write', async () => {
    const registry = holding()
    const entries: JournalEntry[] = []
    const held = { ...hold('production', 'forward', old, 'pushed later'), unranked: true as const }
    const outcome = await apply(
      registry,
      [plan('app', { source: build, steps: [write('v1.2.0', 'version', build), held] })],
      { journal: { note: (entry) => void entries.push(entry), resume: '' } }
    )
    expect(registry.log).toEqual([
      'put app:v1.2.0=b',
      'read app production',
      'put app:production=b',
      'read app production'
    ])
    expect(actions(outcome)).toEqual(['app:v1.2.0 created', 'app:production moved'])
    expect(entries.flatMap((entry) => (entry.note === 'write' ? [entry.tag] : []))).toEqual([
      'v1.2.0',
      'production'
    ])
  })

  it('skips steps that need no write', async () => {
    const registry = holding()
    const outcome = await apply(registry, [
      plan('app', { steps: [hold('production', 'forward', old, 'held')] })
    ])
    expect(registry.log).toEqual([])
    expect(outcome.changes).toEqual([
      expect.objectContaining({ action: 'unchanged', now: old.digest, note: 'held' })
    ])
  })

  it('counts a write whose answer was lost as written when the registry shows it', async () => {
    const registry = holding(undefined, { operation: 'put', ref: 'v1.2.0', kind: 'lost' })
    const logged: string[] = []
    const outcome = await apply(registry, [release], { log: (line) => logged.push(line) })
    expect(outcome.failure).toBeUndefined()
    expect(actions(outcome)).toEqual(['app:v1.2.0 created', 'app:production moved'])
    expect(logged[0]).toMatch(/answer to PutImage was lost .* shows the tag written/)
  })

  it('leaves a tag another writer put there before the first attempt out of its writes and its undo', async () => {
    // ECR answered ImageAlreadyExistsException on the first attempt: a duplicate run wrote it first.
    const registry = holding(
      undefined,
      { operation: 'put', ref: 'v1.2.0', before: (r) => r.set('app', { 'v1.2.0': build }) },
      failed('put', 'production')
    )
    const entries: JournalEntry[] = []
    const outcome = await apply(registry, [release], {
      journal: { note: (entry) => void entries.push(entry), resume: '' }
    })
    expect(actions(outcome)).toEqual(['app:v1.2.0 unchanged', 'app:production failed'])
    expect(outcome.changes[0]?.note).toBe('another writer had put it there since this run read it')
    expect(registry.repositories.app).toEqual({ production: old.digest, 'v1.2.0': build.digest })
    expect(outcome.failure?.message).toContain('no tag was written')
    // Nothing is left for a post step to take off the other writer's tag.
    expect(leftToUndo(entries.filter(({ note }) => note !== 'finished')).undos).toEqual([])
  })

  it('marks a write that failed as failed and puts back every tag it wrote', async () => {
    const registry = holding(undefined, failed('put', 'production'))
    const outcome = await apply(registry, [release])
    expect(registry.repositories.app).toEqual({ production: old.digest })
    expect(actions(outcome)).toEqual(['app:v1.2.0 undone', 'app:production failed'])
    expect(outcome.changes.map(({ now }) => now)).toEqual([null, old.digest])
    expect(outcome.failure?.message).toBe(
      'ecr:PutImage on app failed\nevery tag this run had written was put back: the registry is as it was before the run'
    )
  })

  it('says so when the first write fails and nothing was written', async () => {
    const registry = holding({ app: '' }, failed('put', 'v1.2.0'))
    const outcome = await apply(registry, [
      plan('app', { steps: [write('v1.2.0', 'version', build)] })
    ])
    expect(registry.log.filter((line) => !line.startsWith('read'))).toEqual([])
    expect(outcome.failure?.message).toBe(
      'ecr:PutImage on app failed\nno tag was written: the registry is as it was before the run'
    )
  })

  it('undoes across repositories: one plan, all or nothing', async () => {
    const registry = holding(
      { app: 'production=c', worker: 'latest=c' },
      failed('put', 'production')
    )
    const outcome = await apply(registry, [release, plain('worker', old)])
    expect(registry.repositories).toEqual({
      app: { production: old.digest },
      worker: { latest: old.digest }
    })
    expect(actions(outcome)).toEqual([
      'app:v1.2.0 undone',
      'app:production failed',
      'worker:latest undone'
    ])
  })

  it('leaves a tag that another writer moved since, and says where it points', async () => {
    const registry = holding(
      { app: 'latest=c' },
      failed('put', 'production', { before: (r) => r.set('app', { latest: other }) })
    )
    const outcome = await apply(registry, [latestThenProduction])
    expect(registry.repositories.app).toEqual({ latest: other.digest })
    expect(outcome.changes[0]).toMatchObject({ action: 'moved', now: other.digest })
    expect(outcome.failure?.message).toContain(
      'app:latest now points at sha256:dddddddddddd, written by another writer after this run; left alone'
    )
  })

  it('counts a removal whose answer was lost as done when the tag is gone', async () => {
    const registry = holding(undefined, failed('put', 'production'), {
      operation: 'remove',
      ref: 'v1.2.0',
      kind: 'lost'
    })
    const outcome = await apply(registry, [release])
    expect(actions(outcome)).toEqual(['app:v1.2.0 undone', 'app:production failed'])
    expect(outcome.failure?.message).not.toContain('by hand')
  })

  it('says exactly what to restore by hand when an undo fails', async () => {
    const registry = holding(
      { app: 'latest=c' },
      failed('put', 'production'),
      { operation: 'put', ref: 'latest' },
      failed('put', 'latest')
    )
    const outcome = await apply(registry, [latestThenProduction])
    expect(outcome.failure?.message).toBe(
      `ecr:PutImage on app failed\napp:latest points at sha256:bbbbbbbbbbbb; point it back at ${old.digest} by hand\n${noJournal.resume}`
    )
  })

  it('writes a forward pointer again when a lower version took it after the write', async () => {
    const registry = holding(undefined, {
      operation: 'read',
      ref: 'production',
      before: (r) => r.set('app', { production: old })
    })
    const logged: string[] = []
    const outcome = await apply(registry, [release], { log: (line) => logged.push(line) })
    expect(registry.repositories.app?.production).toBe(build.digest)
    expect(outcome.changes[1]).toMatchObject({ action: 'moved', now: build.digest })
    expect(logged).toContain('app:production: a lower one took it')
  })

  it('does not finish green, reporting the pointer on its image, when a lower version took it and the check could not read', async () => {
    // A lower release wrote production last; this run's check read is throttled out.
    const registry = holding(
      undefined,
      failed('read', 'production', { before: (r) => r.set('app', { production: old }) })
    )
    const outcome = await apply(registry, [release])
    expect(registry.repositories.app?.production).toBe(old.digest)
    expect(outcome.changes[1]?.now).toBe(old.digest)
    expect(outcome.failure?.message).toMatch(
      /^app: could not read production again after writing, so another run may have moved one below this release unseen; the tags stay written: run again to check and put them right \(/
    )
  })

  it('leaves a forward pointer that a higher version took after the write, and says so', async () => {
    const registry = holding(undefined, {
      operation: 'read',
      ref: 'production',
      before: (r) => r.set('app', { production: other })
    })
    const outcome = await apply(registry, [release])
    expect(registry.repositories.app?.production).toBe(other.digest)
    expect(outcome.failure).toBeUndefined()
    expect(outcome.changes[1]).toMatchObject({
      action: 'moved',
      now: other.digest,
      note: 'a higher one took it; left alone'
    })
  })

  it.each([
    [200, 600],
    [10, 100],
    [1_000, 1_000]
  ])(
    'after writes of %d ms, waits %d ms before checking a pointer: three times the median write, 0.1 s to 1 s',
    async (writeMs, settle) => {
      const waits: number[] = []
      let time = 0
      await apply(
        holding(),
        [plan('app', { steps: [write('production', 'forward', build, old)] })],
        { sleep: async (ms) => void waits.push(ms), clock: () => (time += writeMs) }
      )
      expect(waits).toEqual([settle])
    }
  )

  it('stops writing when cancelled and puts back what it wrote', async () => {
    const controller = new AbortController()
    const registry = holding()
    cancelAfterPut(registry, controller)
    const outcome = await apply(registry, [release], { signal: controller.signal })
    expect(registry.repositories.app).toEqual({ production: old.digest })
    expect(actions(outcome)).toEqual(['app:v1.2.0 undone', 'app:production undone'])
    expect(outcome.failure?.message).toBe(
      'the job was cancelled (SIGINT): no further tag is written\nevery tag this run had written was put back: the registry is as it was before the run'
    )
  })
})

describe('applyPlans when the job is cancelled or a repository fails', () => {
  it('undoes when the cancel arrives while it waits to check its pointers', async () => {
    const controller = new AbortController()
    const registry = holding()
    const outcome = await apply(registry, [release], {
      signal: controller.signal,
      sleep: async (_ms, signal) => {
        controller.abort('SIGTERM')
        if (signal?.aborted) throw new Error('aborted')
      }
    })
    expect(registry.repositories.app).toEqual({ production: old.digest })
    expect(actions(outcome)).toEqual(['app:v1.2.0 undone', 'app:production undone'])
    expect(outcome.failure?.message).toMatch(
      /^the job was cancelled \(SIGTERM\): no further tag is written\n/
    )
  })

  it('stops the other repositories writing once one fails, and reports only the real failure', async () => {
    let go: () => void = () => {}
    const gate = new Promise<void>((resolve) => (go = resolve))
    const registry = holding({ api: '', worker: '' }, failed('put', 'v1.2.0'), {
      operation: 'put',
      repository: 'worker',
      ref: 'latest',
      before: () => gate
    })
    // Writes take turns: the third waits until the first has failed.
    let turns = 0
    const pending = apply(
      registry,
      [
        plan('api', { steps: [write('v1.2.0', 'version', build)] }),
        plan('worker', {
          steps: [write('latest', 'plain', build), write('production', 'forward', build)]
        })
      ],
      { pace: async () => void (++turns > 2 && (await gate)) }
    )
    setTimeout(go, 10)
    const outcome = await pending
    expect(registry.log.filter((line) => line.startsWith('put'))).toEqual(['put worker:latest=b'])
    expect(registry.repositories.worker).toEqual({})
    expect(outcome.failure?.message).toBe(
      'ecr:PutImage on api failed\nevery tag this run had written was put back: the registry is as it was before the run'
    )
  })

  it('puts a pointer back on a release another run made meanwhile, and says so', async () => {
    const registry = holding(
      { app: 'production=c', worker: '' },
      failed('put', 'latest', { before: slowly })
    )
    const outcome = await applyWork(registry, [
      work(registry, release, (tag) => (tag === 'production' ? between : undefined)),
      work(registry, plain('worker'))
    ])
    expect(registry.repositories.app).toEqual({ production: between.digest })
    expect(outcome.failure?.message).toBe(
      'ecr:PutImage on worker failed\nevery tag this run had written was put back\napp:production was put back on sha256:eeeeeeeeeeee, which another run released meanwhile, rather than on sha256:cccccccccccc'
    )
  })

  it('abandons a write under way when cancelled; the undo reads where it landed and puts it back', async () => {
    const controller = new AbortController()
    // ECR applies it; the answer never comes before the cancel abandons the request.
    const registry = holding(undefined, {
      operation: 'put',
      ref: 'production',
      kind: 'lost',
      error: 'ecr:PutImage on app was abandoned (SIGINT)',
      before: () => controller.abort('SIGINT')
    })
    const outcome = await apply(registry, [release], { signal: controller.signal })
    expect(registry.repositories.app).toEqual({ production: old.digest })
    expect(actions(outcome)).toEqual(['app:v1.2.0 undone', 'app:production undone'])
    expect(outcome.failure?.message).toBe(
      'the job was cancelled (SIGINT): no further tag is written\nevery tag this run had written was put back: the registry is as it was before the run'
    )
  })

  it('a failed write that lands after the undo first looked is put back at the last look', async () => {
    // The request timed out; ECR applies it a moment later, after the undo has read the tag.
    const registry = holding(
      undefined,
      failed('put', 'production', { error: 'ecr:PutImage on app failed: TimeoutError' })
    )
    const waits: number[] = []
    const outcome = await apply(registry, [release], {
      clock: () => 5_000,
      sleep: async (ms) => {
        waits.push(ms)
        registry.set('app', { production: build })
      }
    })
    expect(waits).toContain(1_000)
    expect(registry.repositories.app).toEqual({ production: old.digest })
    expect(actions(outcome)).toEqual(['app:v1.2.0 undone', 'app:production undone'])
  })

  it('says how to finish when the undo cannot read a repository', async () => {
    const registry = holding(undefined, failed('put', 'production'), {
      operation: 'read',
      kind: 'failed',
      times: 4
    })
    const outcome = await apply(registry, [release])
    expect(outcome.failure?.message.split('\n').at(-1)).toBe('finish it by hand')
    expect(outcome.failure?.message).toContain(
      'could not undo in app: ecr:BatchGetImage on app failed'
    )
  })

  it('decides a repository it could not read at first whole at its last look', async () => {
    const registry = holding(undefined, failed('put', 'production'), {
      operation: 'read',
      kind: 'failed',
      times: 2
    })
    const outcome = await apply(registry, [release])
    expect(registry.repositories.app).toEqual({ production: old.digest })
    expect(actions(outcome)).toEqual(['app:v1.2.0 undone', 'app:production failed'])
  })

  it('does not say another writer wrote a pointer this run handed on in its check, when another repository then fails', async () => {
    const registry = holding(
      { app: 'production=c', worker: '' },
      failed('put', 'latest', { before: () => sleep(50) })
    )
    const handing: RepositoryWork = {
      // The undo, too, puts production on the release made meanwhile rather than where it was.
      ...work(registry, release, (tag) => (tag === 'production' ? other : undefined)),
      // Another run released 1.3.0 meanwhile; the check hands production on to it.
      checkPointers: async () => {
        registry.set('app', { 'v1.3.0': other })
        return [{ tag: 'production', now: build.digest, moveTo: other, note: 'handed on to 1.3.0' }]
      }
    }
    const outcome = await applyWork(registry, [handing, work(registry, plain('worker'))])
    expect(registry.repositories.app).toEqual({ production: other.digest, 'v1.3.0': other.digest })
    expect(outcome.failure?.message).not.toContain('written by another writer')
  })

  it('puts back the pointers of every repository before any version tag', async () => {
    const registry = holding(
      { api: 'production=c', worker: 'production=c' },
      failed('put', 'latest', { before: slowly })
    )
    await apply(registry, [
      { ...release, repository: 'api' },
      { ...release, repository: 'worker' },
      plain('jobs')
    ])
    const undo = registry.log.filter((line) => /=c$|^remove/.test(line))
    expect(undo.slice(0, 2).sort()).toEqual(['put api:production=c', 'put worker:production=c'])
    expect(undo.slice(2).sort()).toEqual(['remove api:v1.2.0', 'remove worker:v1.2.0'])
  })

  it('journals each write before it is sent, then what the undo decides and settles; tells the host first', async () => {
    const registry = holding(undefined, failed('put', 'production'))
    const journal = {
      note: (entry: JournalEntry) => void registry.log.push(`journal ${JSON.stringify(entry)}`),
      resume: 'finish it by hand'
    }
    const outcome = await apply(registry, [release], {
      journal,
      beforeUndo: async ({ steps }) =>
        void registry.log.push(
          `told ${steps.map(({ step, action }) => `${step.tag} ${action}`).join(', ')}`
        )
    })
    const noted = (entry: object) => `journal ${JSON.stringify(entry)}`
    const wrote = (tag: string, pointer: boolean, before: string | null) =>
      noted({ note: 'write', repository: 'app', tag, pointer, before, placed: build.digest })
    const settled = (tag: string) => noted({ note: 'settled', repository: 'app', tag })
    expect(registry.log).toEqual([
      wrote('v1.2.0', false, null),
      'put app:v1.2.0=b',
      wrote('production', true, old.digest),
      // Did the failed write land all the same?
      'read app production',
      'told v1.2.0 created, production failed',
      'read app production,v1.2.0',
      noted({
        note: 'target',
        repository: 'app',
        tag: 'v1.2.0',
        pointer: false,
        placed: build.digest,
        target: null
      }),
      // Read again just before it is written.
      'read app v1.2.0',
      'remove app:v1.2.0',
      settled('v1.2.0'),
      // The failed write may land late: once it has had its time, a last look, and it is settled.
      'read app production',
      settled('production'),
      'read app v1.2.0,production',
      noted({ note: 'finished' })
    ])
    expect(actions(outcome)).toEqual(['app:v1.2.0 undone', 'app:production failed'])
  })

  it('stops the undo when its time is over, and says what is left and how to finish it', async () => {
    const cancel = new AbortController()
    const over = new AbortController()
    const registry = holding()
    cancelAfterPut(registry, cancel, 'production')
    const outcome = await apply(registry, [release], {
      signal: cancel.signal,
      undo: { registry, signal: over.signal },
      beforeUndo: async () => over.abort('SIGTERM received'),
      pace: async (signal) => signal?.throwIfAborted()
    })
    expect(registry.repositories.app).toEqual({ production: build.digest, 'v1.2.0': build.digest })
    expect(outcome.failure?.message.split('\n')).toEqual([
      'the job was cancelled (SIGINT): no further tag is written',
      `app:production points at sha256:bbbbbbbbbbbb; point it back at ${old.digest} by hand`,
      'app:v1.2.0 points at sha256:bbbbbbbbbbbb; it did not exist before this run: remove it by hand',
      'finish it by hand'
    ])
  })

  it('puts back a pointer that reached its image while it ran, whoever moved it there', async () => {
    // Another release handed production to this run's image; this run then fails: production goes back.
    const registry = holding(
      { app: 'production=c', worker: '' },
      { operation: 'put', ref: 'v1.2.0', before: (r) => r.set('app', { production: build }) },
      failed('put', 'latest', { before: slowly })
    )
    const outcome = await apply(registry, [release, plain('worker')])
    expect(registry.repositories.app).toEqual({ production: old.digest })
    expect(outcome.changes[1]).toMatchObject({
      tag: 'production',
      action: 'undone',
      now: old.digest
    })
  })
})
