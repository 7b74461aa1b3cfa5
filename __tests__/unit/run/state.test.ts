import type { ActiveTrigger, Intent } from '../../../src/core/derive.js'
import { planRepository } from '../../../src/core/plan.js'
import { ACTION_MESSAGES } from '../../../src/action/messages.js'
import { readStates, readStatesWaiting, repositoryWork } from '../../../src/run/state.js'
import {
  environments,
  intentFor,
  manifests,
  release,
  rollback,
  tagged,
  uri
} from '../../support/builders.js'
import { fakeEffects } from '../../support/harness.js'
import { memoryRegistry, type MemoryRegistry, type Seed } from '../../support/memory-registry.js'

/** b is the build, c old, d older, e newer: pushed on the 1st, 2nd, 3rd and 4th of January 2026. */
const [build, old, older, newer] = manifests('b', 'c', 'd', 'e')
const facts = Object.fromEntries(
  [build, old, older, newer].map(({ digest }, day) => [
    digest,
    { pushedAt: new Date(Date.UTC(2026, 0, day + 1)) }
  ])
)
/** App with these tags (`tag=image …`). */
const holding = (text: string, seed: Seed = {}) =>
  memoryRegistry({ tags: { app: tagged(text) }, facts, ...seed })
/** With a build tag that has the build's date, which a release cannot know. */
const datedIntent = (trigger: ActiveTrigger) =>
  intentFor(trigger, { convention: { ...environments, buildTag: 'build-{date}-{sha:10}' } })

/** ListImages leaves `tag` out, as a partial answer or one not yet showing a new tag would. */
const listingWithout = (registry: MemoryRegistry, tag: string) => {
  const listTags = registry.listTags.bind(registry)
  registry.listTags = async (repository) => {
    const listed = await listTags(repository)
    listed.delete(tag)
    return listed
  }
}

describe('readStates', () => {
  it.each<[string, string, Intent, string[], object]>([
    [
      'settings, tags and the source and target manifests of a release in one round',
      'sha-a1b2c3d=b v1.0.0=c production=c',
      intentFor(release('1.1.0')),
      [
        'describe app',
        'stored app sha-a1b2c3d',
        'list app',
        'read app sha-a1b2c3d,v1.1.0,production'
      ],
      { uri: uri('app'), sourceManifest: build, current: new Map([['production', old]]) }
    ],
    [
      'a build found by its tag pattern by digest, once the tags are listed',
      'build-20261122-a1b2c3d4e5=b v1.0.0=c production=c',
      datedIntent(release('1.1.0')),
      ['describe app', 'list app', 'read app v1.1.0,production', 'read app b', 'stored app b'],
      { source: { ref: { digest: build.digest } }, sourceManifest: build }
    ],
    [
      'nothing for a tag pattern no tag matches',
      'production=c',
      datedIntent(release('1.1.0')),
      ['describe app', 'list app', 'read app v1.1.0,production'],
      expect.not.objectContaining({ sourceManifest: expect.anything() })
    ],
    [
      'the tag a tested-image rule names in the same BatchGetImage',
      'sha-a1b2c3d=b v1.0.0=c production=c staging=b',
      intentFor(release('1.1.0'), { requireTested: true }),
      [
        'describe app',
        'stored app sha-a1b2c3d',
        'list app',
        'read app sha-a1b2c3d,v1.1.0,production,staging'
      ],
      { proofs: new Map([['staging', build.digest]]) }
    ],
    [
      'no listing for a rollback to a named version: the tags of its image and of its pointer’s, described in the same round, with its mark by name',
      'v0.9.0=d v1.0.0=c v1.1.0=b production=b withdrawn-1.1.0=e',
      intentFor(rollback('1.0.0')),
      [
        'describe app',
        'stored app v1.0.0',
        'stored app production',
        'read app v1.0.0,production,withdrawn-1.0.0'
      ],
      {
        tags: new Map([
          ['v1.1.0', build.digest],
          ['production', build.digest],
          ['v1.0.0', old.digest]
        ]),
        withdrawing: new Map([['withdrawn-1.1.0', { image: build, version: '1.1.0' }]])
      }
    ]
  ])('reads %s', async (_name, tags, intent, calls, state) => {
    const registry = holding(tags)
    const [read] = await readStates(registry, [intent])
    expect(registry.log).toEqual(calls)
    expect(read).toMatchObject(state)
  })

  it('reads the source of a rollback to previous once every repository is listed', async () => {
    const registry = memoryRegistry({
      tags: {
        api: tagged('v1.0.0=d v1.1.0=c production=c'),
        worker: tagged('v1.0.0=d v1.1.0=c production=d')
      }
    })
    const states = await readStates(
      registry,
      ['api', 'worker'].map((repository) => intentFor(rollback('previous'), { repository }))
    )
    expect([...registry.log.slice(-4)].sort()).toEqual([
      'read api v1.0.0',
      'read worker v1.0.0',
      'stored api v1.0.0',
      'stored worker v1.0.0'
    ])
    expect(states.map(({ sourceManifest }) => sourceManifest)).toEqual([older, older])
  })

  it('reads by name, with its mark, a version a named rollback withdraws that is on neither image described', async () => {
    const registry = memoryRegistry({
      tags: {
        api: tagged('v1.0.0=c v1.1.0=b production=b'),
        worker: tagged('v1.0.0=c v1.1.0=b production=c')
      }
    })
    const states = await readStates(
      registry,
      ['api', 'worker'].map((repository) => intentFor(rollback('1.0.0'), { repository }))
    )
    expect(registry.log.at(-1)).toBe('read worker v1.1.0,withdrawn-1.1.0')
    expect(states.map(({ withdrawing }) => withdrawing?.get('withdrawn-1.1.0')?.image)).toEqual([
      build,
      build
    ])
  })

  it('refuses a description of the pointer that the read by name contradicts, once it has read both again', async () => {
    const registry = holding('v1.0.0=c v1.1.0=b production=b')
    // Another writer moves production each time just before the read by name.
    const flip = (r: typeof registry) =>
      r.set('app', { production: r.tags('app').production === build.digest ? old : build })
    registry.fault({ operation: 'read', ref: 'production', before: flip, times: 2 })
    await expect(readStates(registry, [intentFor(rollback('1.0.0'))])).rejects.toThrow(
      "ECR's DescribeImages answer for app contradicts the tags read by name (production: listed on sha256:cccccccccccc, read by name on sha256:bbbbbbbbbbbb"
    )
  })

  it.each([
    ['not served', false, ''],
    ['served all the same', true, older.body]
  ])(
    'reads how the source is stored in the same round, and marks an archived one whose manifest is %s',
    async (_world, servesArchived, body) => {
      const registry = holding('production=c v0.9.0=d', {
        facts: { [older.digest]: { status: 'ARCHIVED' } },
        servesArchived
      })
      const [state] = await readStates(registry, [intentFor(rollback('0.9.0'))])
      expect(registry.log).toEqual([
        'describe app',
        'stored app v0.9.0',
        'stored app production',
        'read app v0.9.0,production,withdrawn-0.9.0'
      ])
      expect(state).toMatchObject({
        archived: 'ARCHIVED',
        sourceManifest: { digest: older.digest, mediaType: older.mediaType, body }
      })
    }
  )

  it('names a target tag on an archived image, which BatchGetImage does not serve, instead of a partial answer', async () => {
    const registry = holding('sha-a1b2c3d=b v1.0.0=c production=d', {
      facts: { [older.digest]: { status: 'ARCHIVED' } }
    })
    await expect(readStates(registry, [intentFor(release('1.1.0'))])).rejects.toThrow(
      `app:production is on ${older.digest.slice(0, 19)}, an archived image, which ECR does not serve: restore it to standard storage (UpdateImageStorageClass STANDARD) or move production off it, then run again; no tag was written`
    )
  })

  it('leaves a source that is nowhere, archived or not, missing', async () => {
    const [state] = await readStates(holding('production=c'), [intentFor(rollback('0.9.0'))])
    expect(state?.sourceManifest).toBeUndefined()
    expect(state?.archived).toBeUndefined()
  })

  it('refuses a listing that leaves out a tag read by name, once it has read both again', async () => {
    const registry = holding('sha-a1b2c3d=b v1.0.0=c production=c')
    listingWithout(registry, 'production')
    await expect(readStates(registry, [intentFor(release('1.1.0'))])).rejects.toThrow(
      "ECR's ListImages answer for app contradicts the tags read by name (production: listed nowhere, read by name on sha256:cccccccccccc"
    )
    expect(registry.log.filter((call) => call === 'list app')).toHaveLength(2)
  })

  it('reads push times only where an image without a version must be ranked', async () => {
    const registry = holding('sha-a1b2c3d=b production=c')
    const [state] = await readStates(registry, [intentFor(release('1.1.0'))])
    expect(registry.log.at(-1)).toBe('images app b,c')
    expect(state?.details?.get(old.digest)?.pushedAt).toEqual(new Date(Date.UTC(2026, 0, 2)))
  })
})

describe('repositoryWork', () => {
  /** The repository's work as the writer gets it, planned from the first read of app. */
  async function workFor(text: string, trigger: ActiveTrigger) {
    const registry = holding(text)
    const intent = intentFor(trigger)
    const [state] = await readStates(registry, [intent])
    const work = repositoryWork(
      registry,
      intent,
      state!,
      planRepository(intent, state!, ACTION_MESSAGES)
    )
    registry.log.length = 0
    return { registry, work, intent, state: state! }
  }
  const first = 'sha-a1b2c3d=b v1.0.0=c production=c'

  it('checks pointers after writing with one listing when none is to be put right', async () => {
    const { registry, work } = await workFor(first, release('1.1.0'))
    registry.set('app', tagged('v1.1.0=b production=b'))
    expect(await work.checkPointers(work.plan.steps.slice(1))).toEqual([
      { tag: 'production', now: build.digest }
    ])
    expect(registry.log).toEqual(['list app'])
  })

  it('confirms a move by reading the pointers by name and the image they leave, then fetches the image to hand them to', async () => {
    const { registry, work } = await workFor(first, release('1.1.0'))
    registry.set('app', tagged('v1.1.0=b v1.2.0=e production=b'))
    expect(await work.checkPointers(work.plan.steps.slice(1))).toEqual([
      {
        tag: 'production',
        now: build.digest,
        moveTo: newer,
        note: 'handed on to 1.2.0, which another run released meanwhile'
      }
    ])
    expect(registry.log).toEqual([
      'list app',
      'list app',
      'read app production',
      'images app b,e',
      'read app e'
    ])
  })

  it('moves no pointer off an image whose version a partial listing left out: the image’s own tags tell', async () => {
    const { registry, work } = await workFor(first, release('1.1.0'))
    registry.set('app', tagged('v1.1.0=b v1.2.0=e production=e'))
    listingWithout(registry, 'v1.2.0')
    expect(await work.checkPointers(work.plan.steps.slice(1))).toEqual([
      {
        tag: 'production',
        now: newer.digest,
        note: 'another run released 1.2.0 meanwhile and moved it there'
      }
    ])
    expect(registry.log).toEqual(['list app', 'list app', 'read app production', 'images app b,e'])
  })

  it('does not move a pointer back onto its own version when the listing has yet to show the rollback’s withdrawn mark', async () => {
    const { registry, work } = await workFor(first, release('1.1.0'))
    // A rollback took production back to 1.0.0 and withdrew 1.1.0; ListImages does not show the new mark yet.
    registry.set('app', tagged('v1.1.0=b production=c withdrawn-1.1.0=b'))
    listingWithout(registry, 'withdrawn-1.1.0')
    const [check] = await work.checkPointers(work.plan.steps.slice(1))
    expect(check?.moveTo).toBeUndefined()
  })

  it('reads again once when the listing and the read by name disagree, a writer having moved a pointer between them', async () => {
    const { registry, work } = await workFor(first, release('1.1.0'))
    // A lower release wrote production last; its run puts it right between this run's reads.
    registry.set('app', tagged('v1.1.0=b v1.0.5=d production=d'))
    registry.fault({ operation: 'read', before: (r) => r.set('app', { production: build }) })
    expect(await work.checkPointers(work.plan.steps.slice(1))).toEqual([
      { tag: 'production', now: build.digest }
    ])
    expect(registry.log).toEqual([
      'list app',
      'list app',
      'images app b,d',
      'read app production',
      'list app',
      'read app production',
      'images app b,d'
    ])
  })

  it('moves nothing while another writer keeps moving a pointer: that writer checks it after', async () => {
    const { registry, work } = await workFor(first, release('1.1.0'))
    registry.set('app', tagged('v1.1.0=b v1.0.5=d production=d'))
    const flip = (to: typeof build) => ({
      operation: 'read' as const,
      before: (r: typeof registry) => r.set('app', { production: to })
    })
    registry.fault(flip(build), flip(old))
    const [check] = await work.checkPointers(work.plan.steps.slice(1))
    expect(check).toMatchObject({ tag: 'production', now: old.digest })
    expect(check?.moveTo).toBeUndefined()
    expect(check?.note).toMatch(/^another writer moved it while this run checked it \(/)
  })

  it('puts a pointer back on a release made meanwhile, listing once, and keeps plain tags as they were', async () => {
    const { registry, work } = await workFor(first, release('1.2.0'))
    registry.set('app', tagged('v1.1.0=e v1.2.0=b production=b'))
    const [version, production] = work.plan.steps
    const targets = await work.undoTargets(
      [
        { step: version!, before: undefined },
        { step: production!, before: old }
      ],
      registry
    )
    expect(registry.log).toEqual(['list app', 'read app e'])
    expect(targets).toEqual([undefined, newer])
  })
})

describe('readStatesWaiting', () => {
  /** App without the build, which the build pushes (as `tag`) once `pushAfterMs` have passed. */
  function waiting(pushAfterMs?: number, tag = 'sha-a1b2c3d') {
    const registry = holding('v1.0.0=c production=c')
    const fake = fakeEffects()
    const effects = {
      ...fake.effects,
      sleep: async (ms: number) => {
        await fake.effects.sleep(ms)
        if (pushAfterMs !== undefined && fake.now() >= pushAfterMs)
          registry.set('app', { [tag]: build })
      }
    }
    return { registry, effects, pauses: fake.sleeps, logged: fake.logs }
  }

  it('polls only the missing image, with growing pauses, then reads everything afresh', async () => {
    const { registry, effects, pauses, logged } = waiting(7_000)
    const [state] = await readStatesWaiting(
      registry,
      [intentFor(release('1.1.0'))],
      60_000,
      effects
    )
    expect(state?.sourceManifest).toBe(build)
    expect(pauses).toEqual([2_000, 4_000, 8_000])
    expect(logged[0]).toBe('waiting for app:sha-a1b2c3d: 0 s of 60 s')
    expect(registry.log.filter((line) => line === 'describe app')).toHaveLength(2)
    expect(registry.log.filter((line) => line === 'read app sha-a1b2c3d')).toHaveLength(3)
  })

  it('lists the tags again to find a build by its tag pattern, pushed on another day', async () => {
    const { registry, effects, pauses, logged } = waiting(6_000, 'build-19700102-a1b2c3d4e5')
    const [state] = await readStatesWaiting(
      registry,
      [datedIntent(release('1.1.0'))],
      60_000,
      effects
    )
    expect(state?.sourceManifest).toBe(build)
    expect(pauses).toEqual([2_000, 4_000])
    expect(logged[0]).toBe('waiting for app:build-*-a1b2c3d4e5: 0 s of 60 s')
    expect(registry.log.filter((line) => line === 'list app')).toHaveLength(3)
  })

  it.each<[string, ActiveTrigger, number, number[]]>([
    [
      'does not wait for a rollback target: a released version does not appear later',
      rollback('0.9.0'),
      60_000,
      []
    ],
    [
      'gives up when the time runs out, leaving the image missing',
      release('1.1.0'),
      5_000,
      [2_000, 3_000]
    ],
    ['reads once without waiting when wait-for-source is 0', release('1.1.0'), 0, []]
  ])('%s', async (_name, trigger, ms, expected) => {
    const { registry, effects, pauses } = waiting()
    const [state] = await readStatesWaiting(registry, [intentFor(trigger)], ms, effects)
    expect(state?.sourceManifest).toBeUndefined()
    expect(pauses).toEqual(expected)
    expect(registry.log.filter((line) => line === 'describe app')).toHaveLength(1)
  })
})
