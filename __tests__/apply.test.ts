import { applyPlans, digestAfter, preview } from '../src/apply.js'
import type { Manifest, RepositoryPlan } from '../src/plan.js'

const manifest = (name: string): Manifest => ({
  digest: `sha256:${name.padEnd(64, '0')}`,
  mediaType: 'm',
  body: name
})
const [build, old] = [manifest('b'), manifest('c')]

/** A registry of tag → digest per repository; a write named in `failing` as `repository:tag=body` fails. */
function fakeRegistry(initial: Record<string, Record<string, string>>, failing: string[] = []) {
  const tags = structuredClone(initial)
  const log: string[] = []
  return {
    tags,
    log,
    async putTag(repository: string, tag: string, to: Manifest) {
      const write = `${repository}:${tag}=${to.body}`
      if (failing.includes(write)) throw new Error(`ecr:PutImage on ${repository} failed`)
      log.push(`put ${write}`)
      const repo = (tags[repository] ??= {})
      if (repo[tag] === to.digest) return false
      repo[tag] = to.digest
      return true
    },
    async removeTag(repository: string, tag: string) {
      log.push(`remove ${repository}:${tag}`)
      delete tags[repository]?.[tag]
    }
  }
}

const plan = (repository: string, steps: RepositoryPlan['steps']): RepositoryPlan => ({
  repository,
  uri: `uri/${repository}`,
  source: build,
  steps
})
const release = plan('app', [
  { tag: 'v1.2.0', to: build, write: true },
  { tag: 'production', from: old, to: build, write: true }
])

describe('applyPlans', () => {
  it('writes every planned tag and reports created and moved', async () => {
    const registry = fakeRegistry({ app: { production: old.digest } })
    const outcome = await applyPlans([release], registry)
    expect(outcome.failure).toBeUndefined()
    expect(outcome.changes.map(({ tag, action }) => `${tag} ${action}`)).toEqual([
      'v1.2.0 created',
      'production moved'
    ])
    expect(registry.tags.app).toEqual({ production: build.digest, 'v1.2.0': build.digest })
  })

  it('counts a tag another run already wrote as unchanged', async () => {
    const registry = fakeRegistry({ app: { 'v1.2.0': build.digest, production: old.digest } })
    const outcome = await applyPlans([release], registry)
    expect(outcome.changes.map(({ action }) => action)).toEqual(['unchanged', 'moved'])
  })

  it('skips steps that need no write', async () => {
    const registry = fakeRegistry({ app: { production: old.digest } })
    await applyPlans(
      [plan('app', [{ tag: 'production', from: old, to: old, write: false, note: 'held' }])],
      registry
    )
    expect(registry.log).toEqual([])
  })

  it('puts back every tag it wrote when a later write fails', async () => {
    const registry = fakeRegistry({ app: { production: old.digest } }, ['app:production=b'])
    const outcome = await applyPlans([release], registry)
    expect(registry.tags.app).toEqual({ production: old.digest })
    expect(registry.log).toEqual(['put app:v1.2.0=b', 'remove app:v1.2.0'])
    expect(outcome.changes.map(({ tag, action }) => `${tag} ${action}`)).toEqual([
      'v1.2.0 undone',
      'production unchanged'
    ])
    expect(outcome.failure?.message).toBe(
      'ecr:PutImage on app failed\nevery tag this run had written was put back: the registry is as it was before the run'
    )
  })

  it('says so when the first write fails and nothing was written', async () => {
    const registry = fakeRegistry({ app: {} }, ['app:v1.2.0=b'])
    const outcome = await applyPlans([release], registry)
    expect(registry.log).toEqual([])
    expect(outcome.failure?.message).toBe(
      'ecr:PutImage on app failed\nno tag was written: the registry is as it was before the run'
    )
  })

  it('undoes across repositories: one plan, all or nothing', async () => {
    const registry = fakeRegistry(
      { app: { production: old.digest }, worker: { latest: old.digest } },
      ['app:production=b']
    )
    const outcome = await applyPlans(
      [release, plan('worker', [{ tag: 'latest', from: old, to: build, write: true }])],
      registry
    )
    expect(registry.tags).toEqual({
      app: { production: old.digest },
      worker: { latest: old.digest }
    })
    expect(
      outcome.changes.map(({ repository, tag, action }) => `${repository}:${tag} ${action}`)
    ).toEqual(['app:v1.2.0 undone', 'app:production unchanged', 'worker:latest undone'])
  })

  it('says exactly what to restore by hand when an undo fails', async () => {
    const registry = fakeRegistry({ app: { latest: old.digest } }, [
      'app:production=b',
      'app:latest=c'
    ])
    const outcome = await applyPlans(
      [
        plan('app', [
          { tag: 'latest', from: old, to: build, write: true },
          { tag: 'production', to: build, write: true }
        ])
      ],
      registry
    )
    expect(outcome.failure?.message).toBe(
      `ecr:PutImage on app failed\ncould not undo app:latest; point it back at ${old.digest} by hand (ecr:PutImage on app failed)`
    )
  })
})

describe('preview and digestAfter', () => {
  it('plans without writing', () => {
    const changes = preview([
      release,
      plan('app2', [{ tag: 'latest', from: build, to: build, write: false }])
    ])
    expect(changes).toEqual([
      { repository: 'app', tag: 'v1.2.0', from: null, to: build.digest, action: 'planned' },
      {
        repository: 'app',
        tag: 'production',
        from: old.digest,
        to: build.digest,
        action: 'planned'
      },
      {
        repository: 'app2',
        tag: 'latest',
        from: build.digest,
        to: build.digest,
        action: 'unchanged'
      }
    ])
  })

  it.each([
    ['created', null, build.digest],
    ['moved', old.digest, build.digest],
    ['planned', old.digest, build.digest],
    ['unchanged', old.digest, old.digest],
    ['undone', old.digest, old.digest],
    ['undone', null, null]
  ] as const)('%s from %s ends on %s', (action, from, after) => {
    expect(digestAfter({ repository: 'app', tag: 't', from, to: build.digest, action })).toBe(after)
  })
})
