import { applyPlans, preview, type ApplyOptions, type RepositoryWork } from '../src/apply.js'
import type { Manifest } from '../src/model.js'
import type { RepositoryPlan, Step } from '../src/plan.js'

const manifest = (name: string): Manifest => ({
  digest: `sha256:${name.padEnd(64, '0')}`,
  mediaType: 'm',
  body: name
})
const [build, old, other, between] = [manifest('b'), manifest('c'), manifest('d'), manifest('e')]
const manifests = [build, old, other, between]
/** How the fake planner ranks images for a forward pointer: a higher number is a higher version. */
const rank = new Map([
  [old.digest, 1],
  [between.digest, 1.5],
  [build.digest, 2],
  [other.digest, 3]
])

type Tags = Record<string, Record<string, string>>
type Operation = 'put' | 'remove' | 'read'

interface Fault {
  readonly operation: Operation
  readonly tag: string
  /** `lost`: applied, then the answer is lost; `failed`: refused, nothing applied; none: only `before`. */
  readonly kind?: 'lost' | 'failed'
  /** Run before the operation: another writer acting in the meantime. */
  readonly before?: (tags: Tags) => void
}

/** A registry of tag → digest per repository, with faults keyed by operation and tag, each used once. */
function fakeRegistry(initial: Tags, faults: Fault[] = []) {
  const tags = structuredClone(initial)
  const log: string[] = []
  const fault = (operation: Operation, tag: string) => {
    const index = faults.findIndex((f) => f.operation === operation && f.tag === tag)
    if (index === -1) return undefined
    const [found] = faults.splice(index, 1)
    found?.before?.(tags)
    return found?.kind ?? 'none'
  }
  return {
    tags,
    log,
    async putTag(repository: string, tag: string, to: Manifest) {
      const kind = fault('put', tag)
      if (kind === 'failed') throw new Error(`ecr:PutImage on ${repository} failed`)
      log.push(`put ${repository}:${tag}=${to.body}`)
      const repo = (tags[repository] ??= {})
      const already = repo[tag] === to.digest
      repo[tag] = to.digest
      if (kind === 'lost') throw new Error('socket hang up')
      return already ? ('already there' as const) : ('written' as const)
    },
    async removeTag(repository: string, tag: string) {
      const kind = fault('remove', tag)
      if (kind === 'failed') throw new Error(`ecr:BatchDeleteImage on ${repository} failed`)
      log.push(`remove ${repository}:${tag}`)
      delete tags[repository]?.[tag]
      if (kind === 'lost') throw new Error('socket hang up')
    },
    async getManifests(
      repository: string,
      refs: readonly ({ tag: string } | { digest: string })[]
    ) {
      const kinds = refs.map((ref) => ('tag' in ref ? fault('read', ref.tag) : undefined))
      if (kinds.includes('failed')) throw new Error(`ecr:BatchGetImage on ${repository} failed`)
      log.push(`read ${repository}`)
      return new Map(
        refs.flatMap((ref) => {
          if (!('tag' in ref)) return []
          const found = manifests.find(({ digest }) => digest === tags[repository]?.[ref.tag])
          return found ? [[ref.tag, found] as const] : []
        })
      )
    }
  }
}

type FakeRegistry = ReturnType<typeof fakeRegistry>

const plan = (repository: string, steps: Step[]): RepositoryPlan => ({
  repository,
  uri: `uri/${repository}`,
  source: build,
  steps
})
const release = plan('app', [
  { tag: 'v1.2.0', kind: 'version', to: build, write: true },
  { tag: 'production', kind: 'forward', from: old, to: build, write: true }
])

/** Plans the pointers again from what the fake registry returns: forward-only by `rank`. */
function work(registry: FakeRegistry, planned: RepositoryPlan): RepositoryWork {
  return {
    plan: planned,
    replanPointers: async () => {
      const pointers = planned.steps.filter(({ kind }) => kind !== 'version' && kind !== 'plain')
      const current = await registry.getManifests(
        planned.repository,
        pointers.map(({ tag }) => ({ tag }))
      )
      return {
        ...planned,
        steps: planned.steps.map((step): Step => {
          const from = current.get(step.tag)
          const base = { tag: step.tag, kind: step.kind, ...(from && { from }) }
          if (from?.digest === build.digest) return { ...base, to: build, write: false }
          if (from && (rank.get(from.digest) ?? 0) > (rank.get(build.digest) ?? 0))
            return { ...base, to: from, write: false, note: 'higher, so it stays' }
          return { ...base, to: build, write: true }
        })
      }
    }
  }
}

const options = (overrides: Partial<ApplyOptions> = {}): ApplyOptions => ({
  signal: new AbortController().signal,
  log: () => {},
  sleep: async () => {},
  clock: () => 0,
  ...overrides
})

const apply = (
  registry: FakeRegistry,
  plans: RepositoryPlan[],
  overrides?: Partial<ApplyOptions>
) =>
  applyPlans(
    plans.map((planned) => work(registry, planned)),
    registry,
    options(overrides)
  )

const actions = (outcome: Awaited<ReturnType<typeof apply>>) =>
  outcome.changes.map(({ repository, tag, action }) => `${repository}:${tag} ${action}`)

describe('applyPlans', () => {
  it('writes version tags, then re-reads and writes the pointer, then reads it once more', async () => {
    const registry = fakeRegistry({ app: { production: old.digest } })
    const outcome = await apply(registry, [release])
    expect(outcome.failure).toBeUndefined()
    expect(actions(outcome)).toEqual(['app:v1.2.0 created', 'app:production moved'])
    expect(registry.log).toEqual([
      'put app:v1.2.0=b',
      'read app',
      'put app:production=b',
      'read app'
    ])
    expect(outcome.changes.map(({ now }) => now)).toEqual([build.digest, build.digest])
  })

  it('skips the re-read before a pointer when nothing was written before it', async () => {
    const registry = fakeRegistry({ app: { production: old.digest } })
    await apply(registry, [
      plan('app', [{ tag: 'production', kind: 'forward', from: old, to: build, write: true }])
    ])
    expect(registry.log).toEqual(['put app:production=b', 'read app'])
  })

  it('skips steps that need no write', async () => {
    const registry = fakeRegistry({ app: { production: old.digest } })
    const outcome = await apply(registry, [
      plan('app', [
        { tag: 'production', kind: 'forward', from: old, to: old, write: false, note: 'held' }
      ])
    ])
    expect(registry.log).toEqual([])
    expect(outcome.changes).toEqual([
      expect.objectContaining({ action: 'unchanged', now: old.digest, note: 'held' })
    ])
  })

  it('counts a write whose answer was lost as written when the registry shows it', async () => {
    const registry = fakeRegistry({ app: { production: old.digest } }, [
      { operation: 'put', tag: 'v1.2.0', kind: 'lost' }
    ])
    const logged: string[] = []
    const outcome = await apply(registry, [release], { log: (line) => logged.push(line) })
    expect(outcome.failure).toBeUndefined()
    expect(actions(outcome)).toEqual(['app:v1.2.0 created', 'app:production moved'])
    expect(logged[0]).toMatch(/answer to PutImage was lost .* shows the tag written/)
  })

  it('counts a tag it read elsewhere and then found already there as written, and undoes it', async () => {
    // A retry after a lost answer sees ImageAlreadyExistsException: the first attempt landed.
    const registry = fakeRegistry({ app: { production: old.digest } }, [
      { operation: 'put', tag: 'v1.2.0', before: (t) => void (t.app!['v1.2.0'] = build.digest) },
      { operation: 'put', tag: 'production', kind: 'failed' }
    ])
    const outcome = await apply(registry, [release])
    expect(actions(outcome)).toEqual(['app:v1.2.0 undone', 'app:production failed'])
    expect(registry.tags.app).toEqual({ production: old.digest })
  })

  it('marks a write that failed as failed and puts back every tag it wrote', async () => {
    const registry = fakeRegistry({ app: { production: old.digest } }, [
      { operation: 'put', tag: 'production', kind: 'failed' }
    ])
    const outcome = await apply(registry, [release])
    expect(registry.tags.app).toEqual({ production: old.digest })
    expect(actions(outcome)).toEqual(['app:v1.2.0 undone', 'app:production failed'])
    expect(outcome.changes.map(({ now }) => now)).toEqual([null, old.digest])
    expect(outcome.failure?.message).toBe(
      'ecr:PutImage on app failed\nevery tag this run had written was put back: the registry is as it was before the run'
    )
  })

  it('says so when the first write fails and nothing was written', async () => {
    const registry = fakeRegistry({ app: {} }, [
      { operation: 'put', tag: 'v1.2.0', kind: 'failed' }
    ])
    const outcome = await apply(registry, [release])
    expect(registry.log.filter((line) => !line.startsWith('read'))).toEqual([])
    expect(outcome.failure?.message).toBe(
      'ecr:PutImage on app failed\nno tag was written: the registry is as it was before the run'
    )
  })

  it('undoes across repositories: one plan, all or nothing', async () => {
    const registry = fakeRegistry(
      { app: { production: old.digest }, worker: { latest: old.digest } },
      [{ operation: 'put', tag: 'production', kind: 'failed' }]
    )
    const outcome = await apply(registry, [
      release,
      plan('worker', [{ tag: 'latest', kind: 'plain', from: old, to: build, write: true }])
    ])
    expect(registry.tags).toEqual({
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
    const registry = fakeRegistry({ app: { latest: old.digest } }, [
      {
        operation: 'put',
        tag: 'production',
        kind: 'failed',
        before: (t) => void (t.app!.latest = other.digest)
      }
    ])
    const outcome = await apply(registry, [
      plan('app', [
        { tag: 'latest', kind: 'plain', from: old, to: build, write: true },
        { tag: 'production', kind: 'forward', to: build, write: true }
      ])
    ])
    expect(registry.tags.app).toEqual({ latest: other.digest })
    expect(outcome.changes[0]).toMatchObject({ action: 'moved', now: other.digest })
    expect(outcome.failure?.message).toContain(
      'app:latest now points at sha256:d00000000000, written by another writer after this run; left alone'
    )
  })

  it('counts a removal whose answer was lost as done when the tag is gone', async () => {
    const registry = fakeRegistry({ app: { production: old.digest } }, [
      { operation: 'put', tag: 'production', kind: 'failed' },
      { operation: 'remove', tag: 'v1.2.0', kind: 'lost' }
    ])
    const outcome = await apply(registry, [release])
    expect(actions(outcome)).toEqual(['app:v1.2.0 undone', 'app:production failed'])
    expect(outcome.failure?.message).not.toContain('by hand')
  })

  it('says exactly what to restore by hand when an undo fails', async () => {
    const registry = fakeRegistry({ app: { latest: old.digest } }, [
      { operation: 'put', tag: 'production', kind: 'failed' },
      { operation: 'put', tag: 'latest' },
      { operation: 'put', tag: 'latest', kind: 'failed' }
    ])
    const outcome = await apply(registry, [
      plan('app', [
        { tag: 'latest', kind: 'plain', from: old, to: build, write: true },
        { tag: 'production', kind: 'forward', to: build, write: true }
      ])
    ])
    expect(outcome.failure?.message).toBe(
      `ecr:PutImage on app failed\napp:latest points at sha256:b00000000000; point it back at ${old.digest} by hand`
    )
  })

  it('re-plans a pointer another run moved between the first read and the write', async () => {
    // Another run put a higher version on production while this run wrote v1.2.0: production stays there.
    const registry = fakeRegistry({ app: { production: other.digest } })
    const outcome = await apply(registry, [release])
    expect(registry.tags.app).toEqual({ production: other.digest, 'v1.2.0': build.digest })
    expect(outcome.changes[1]).toMatchObject({
      action: 'unchanged',
      from: other.digest,
      note: 'higher, so it stays'
    })
  })

  it('undoes a pointer to where the registry had it just before the write', async () => {
    // A run that finished in between moved production to `between`; undo must restore that, not `old`.
    const registry = fakeRegistry({ app: { production: old.digest }, worker: {} }, [
      { operation: 'put', tag: 'v1.2.0', before: (t) => void (t.app!.production = between.digest) },
      { operation: 'put', tag: 'latest', kind: 'failed' }
    ])
    const outcome = await apply(registry, [
      release,
      plan('worker', [{ tag: 'latest', kind: 'plain', to: build, write: true }])
    ])
    expect(outcome.failure).toBeDefined()
    expect(registry.tags.app).toEqual({ production: between.digest })
    expect(outcome.changes[1]).toMatchObject({ from: between.digest, action: 'undone' })
  })

  it('writes a forward pointer again when a lower version took it after the write', async () => {
    const registry = fakeRegistry({ app: { production: old.digest } }, [
      { operation: 'read', tag: 'production' },
      { operation: 'read', tag: 'production', before: (t) => void (t.app!.production = old.digest) }
    ])
    const logged: string[] = []
    const outcome = await apply(registry, [release], { log: (line) => logged.push(line) })
    expect(registry.tags.app?.production).toBe(build.digest)
    expect(outcome.changes[1]).toMatchObject({ action: 'moved', now: build.digest })
    expect(logged.join('\n')).toMatch(
      /moved to sha256:c00000000000 by another writer .* written again/
    )
  })

  it('leaves a forward pointer that a higher version took after the write, and says so', async () => {
    const registry = fakeRegistry({ app: { production: old.digest } }, [
      { operation: 'read', tag: 'production' },
      {
        operation: 'read',
        tag: 'production',
        before: (t) => void (t.app!.production = other.digest)
      }
    ])
    const outcome = await apply(registry, [release])
    expect(registry.tags.app?.production).toBe(other.digest)
    expect(outcome.failure).toBeUndefined()
    expect(outcome.changes[1]).toMatchObject({
      action: 'moved',
      now: other.digest,
      note: expect.stringContaining('another run has since moved it to sha256:d00000000000')
    })
  })

  it('waits a settle time before checking a pointer, longer when writes are slow', async () => {
    const waits: number[] = []
    let time = 0
    const registry = fakeRegistry({ app: { production: old.digest } })
    await apply(registry, [release], {
      sleep: async (ms) => void waits.push(ms),
      clock: () => (time += 400)
    })
    expect(waits).toEqual([1200])
  })

  it('stops writing when cancelled and puts back what it wrote', async () => {
    const controller = new AbortController()
    const registry = fakeRegistry({ app: { production: old.digest } })
    const putTag = registry.putTag.bind(registry)
    registry.putTag = async (...args) => {
      const result = await putTag(...args)
      controller.abort('SIGINT')
      return result
    }
    const outcome = await apply(registry, [release], { signal: controller.signal })
    expect(registry.tags.app).toEqual({ production: old.digest })
    expect(actions(outcome)).toEqual(['app:v1.2.0 undone', 'app:production unchanged'])
    expect(outcome.failure?.message).toBe(
      'the job was cancelled (SIGINT): no further tag is written\nevery tag this run had written was put back: the registry is as it was before the run'
    )
  })
})

describe('preview', () => {
  it('plans without writing', () => {
    const changes = preview([
      release,
      plan('app2', [{ tag: 'latest', kind: 'plain', from: build, to: build, write: false }])
    ])
    expect(changes).toEqual([
      {
        repository: 'app',
        tag: 'v1.2.0',
        from: null,
        to: build.digest,
        now: build.digest,
        action: 'planned'
      },
      {
        repository: 'app',
        tag: 'production',
        from: old.digest,
        to: build.digest,
        now: build.digest,
        action: 'planned'
      },
      {
        repository: 'app2',
        tag: 'latest',
        from: build.digest,
        to: build.digest,
        now: build.digest,
        action: 'unchanged'
      }
    ])
  })
})
