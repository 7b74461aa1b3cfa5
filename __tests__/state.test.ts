import { BUILT_IN_CONVENTIONS, parseConvention } from '../src/core/conventions.js'
import { derive, type ActiveTrigger } from '../src/core/derive.js'
import type { ImageDetails, ImageRef, Manifest } from '../src/core/model.js'
import { planRepository } from '../src/core/plan.js'
import {
  readStates,
  readStatesWaiting,
  refreshPointers,
  repositoryWork,
  type StateRegistry
} from '../src/run/state.js'
import { requireVersion } from '../src/core/version.js'
import { fakeEffects } from './support/harness.js'

const manifest = (name: string): Manifest => ({
  digest: `sha256:${name.padEnd(64, '0')}`,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  body: name
})
const [build, old, older, newer] = ['b', 'c', 'd', 'e'].map(manifest) as [
  Manifest,
  Manifest,
  Manifest,
  Manifest
]
const images = [build, old, older, newer]
const environments = parseConvention(BUILT_IN_CONVENTIONS.environments as string, 'environments')
const v = (text: string) => requireVersion(text, 'version')
const intentFor = (trigger: ActiveTrigger, repository = 'app', convention = environments) =>
  derive(convention, trigger, {
    repository,
    sha: 'b0b0b0b0b0',
    service: repository,
    source: '',
    date: new Date(0),
    shaOrigin: 'GITHUB_SHA'
  })
/** With a build tag that has the build's date, which a release cannot know. */
const datedIntent = (trigger: ActiveTrigger) =>
  intentFor(trigger, 'app', { ...environments, buildTag: 'build-{date}-{sha:10}' })
const release = (text: string): ActiveTrigger => ({
  event: 'release',
  branch: 'main',
  version: v(text),
  prerelease: false
})

/** A reader over tag → manifest per repository that logs each call. */
/**
 * `archived`: by repository and tag, images in archive storage; BatchGetImage returns them only when
 * `served` (AWS does not say whether it does).
 */
function fakeReader(
  repositories: Record<string, Record<string, Manifest>>,
  archived: Record<string, Record<string, Manifest & { status: string }>> = {},
  served = false
) {
  const log: string[] = []
  const reader: StateRegistry = {
    async storedImage(repository, ref) {
      log.push(`stored ${repository} ${'tag' in ref ? ref.tag : ref.digest}`)
      const image = 'tag' in ref ? archived[repository]?.[ref.tag] : undefined
      return image && { digest: image.digest, mediaType: image.mediaType, status: image.status }
    },
    async describeRepository(repository) {
      log.push(`describe ${repository}`)
      return { uri: `uri/${repository}`, mutability: { mode: 'MUTABLE', exclusions: [] } }
    },
    async listTags(repository) {
      log.push(`list ${repository}`)
      return new Map(
        Object.entries(repositories[repository] ?? {}).map(([tag, { digest }]) => [tag, digest])
      )
    },
    async getManifests(repository, refs: readonly ImageRef[]) {
      log.push(
        `get ${repository} ${refs.map((ref) => ('tag' in ref ? ref.tag : ref.digest)).join(',')}`
      )
      return new Map(
        refs.flatMap((ref) => {
          const found =
            'tag' in ref
              ? (repositories[repository]?.[ref.tag] ??
                (served ? archived[repository]?.[ref.tag] : undefined))
              : images.find(({ digest }) => digest === ref.digest)
          return found ? [['tag' in ref ? ref.tag : ref.digest, found] as const] : []
        })
      )
    },
    async describeImages(repository, digests) {
      log.push(`describe-images ${repository} ${digests.map((d) => d[7]).join(',')}`)
      return new Map(
        digests.map((digest): [string, ImageDetails] => [
          digest,
          {
            tags: Object.entries(repositories[repository] ?? {})
              .filter(([, image]) => image.digest === digest)
              .map(([tag]) => tag),
            pushedAt: new Date(Date.UTC(2026, 0, images.findIndex((i) => i.digest === digest) + 1))
          }
        ])
      )
    }
  }
  return { reader, log, repositories }
}

describe('readStates', () => {
  it('reads settings, tags and the source and target manifests of a release in one round', async () => {
    const { reader, log } = fakeReader({
      app: { 'sha-b0b0b0b': build, 'v1.0.0': old, production: old }
    })
    const [state] = await readStates(reader, [intentFor(release('1.1.0'))])
    expect(log).toEqual([
      'describe app',
      'stored app sha-b0b0b0b',
      'list app',
      'get app sha-b0b0b0b,v1.1.0,production'
    ])
    expect(state).toMatchObject({
      uri: 'uri/app',
      sourceManifest: build,
      current: new Map([['production', old]])
    })
  })

  it('reads the source of a rollback to previous once every repository is listed', async () => {
    const rollback: ActiveTrigger = { event: 'rollback', branch: 'main', to: 'previous' }
    const { reader, log } = fakeReader({
      api: { 'v1.0.0': older, 'v1.1.0': old, production: old },
      worker: { 'v1.0.0': older, 'v1.1.0': old, production: older }
    })
    const states = await readStates(reader, [
      intentFor(rollback, 'api'),
      intentFor(rollback, 'worker')
    ])
    expect([...log.slice(-4)].sort()).toEqual([
      'get api v1.0.0',
      'get worker v1.0.0',
      'stored api v1.0.0',
      'stored worker v1.0.0'
    ])
    expect(states.map(({ sourceManifest }) => sourceManifest)).toEqual([older, older])
  })

  it('reads a build found by its tag pattern by digest, once the tags are listed', async () => {
    const { reader, log } = fakeReader({
      app: { 'build-20261122-b0b0b0b0b0': build, 'v1.0.0': old, production: old }
    })
    const [state] = await readStates(reader, [datedIntent(release('1.1.0'))])
    expect(log).toEqual([
      'describe app',
      'list app',
      'get app v1.1.0,production',
      `get app ${build.digest}`,
      `stored app ${build.digest}`
    ])
    expect(state).toMatchObject({
      source: { ref: { digest: build.digest } },
      sourceManifest: build
    })
  })

  it('reads nothing for a tag pattern no tag matches', async () => {
    const { reader, log } = fakeReader({ app: { production: old } })
    const [state] = await readStates(reader, [datedIntent(release('1.1.0'))])
    expect(log).toEqual(['describe app', 'list app', 'get app v1.1.0,production'])
    expect(state?.sourceManifest).toBeUndefined()
  })

  it.each([
    ['not served', false, ''],
    ['served all the same', true, older.body]
  ])(
    'reads how the source is stored in the same round, and marks an archived one whose manifest is %s',
    async (_world, served, body) => {
      const { reader, log } = fakeReader(
        { app: { production: old } },
        { app: { 'v0.9.0': { ...older, status: 'ARCHIVED' } } },
        served
      )
      const rollback = intentFor({ event: 'rollback', branch: 'main', to: v('0.9.0') })
      const [state] = await readStates(reader, [rollback])
      expect(log).toEqual([
        'describe app',
        'stored app v0.9.0',
        'list app',
        'get app v0.9.0,production'
      ])
      expect(state).toMatchObject({
        archived: 'ARCHIVED',
        sourceManifest: { digest: older.digest, mediaType: older.mediaType, body }
      })
    }
  )

  it('names a target tag on an archived image, which BatchGetImage does not serve, instead of a partial answer', async () => {
    const { reader } = fakeReader({ app: { 'sha-b0b0b0b': build, 'v1.0.0': old } })
    // production is listed on an archived image that BatchGetImage does not return.
    const listTags = reader.listTags.bind(reader)
    reader.listTags = async (repository) =>
      new Map([...(await listTags(repository)), ['production', older.digest]])
    reader.storedImage = async (_repository, ref) =>
      'digest' in ref && ref.digest === older.digest
        ? { digest: older.digest, status: 'ARCHIVED' }
        : undefined
    await expect(readStates(reader, [intentFor(release('1.1.0'))])).rejects.toThrow(
      `app:production is on ${older.digest.slice(0, 19)}, an archived image, which ECR does not serve: restore it to standard storage (UpdateImageStorageClass STANDARD) or move production off it, then run again; no tag was written`
    )
  })

  it('leaves a source that is nowhere, archived or not, missing', async () => {
    const { reader } = fakeReader({ app: { production: old } })
    const [state] = await readStates(reader, [
      intentFor({ event: 'rollback', branch: 'main', to: v('0.9.0') })
    ])
    expect(state?.sourceManifest).toBeUndefined()
    expect(state?.archived).toBeUndefined()
  })

  it('reads the tag a tested-image rule names in the same BatchGetImage', async () => {
    const { reader, log } = fakeReader({
      app: { 'sha-b0b0b0b': build, 'v1.0.0': old, production: old, staging: build }
    })
    const intent = derive(environments, release('1.1.0'), {
      repository: 'app',
      sha: 'b0b0b0b0b0',
      service: 'app',
      source: '',
      date: new Date(0),
      shaOrigin: 'GITHUB_SHA',
      requireTested: true
    })
    const [state] = await readStates(reader, [intent])
    expect(log).toEqual([
      'describe app',
      'stored app sha-b0b0b0b',
      'list app',
      'get app sha-b0b0b0b,v1.1.0,production,staging'
    ])
    expect(state?.proofs).toEqual(new Map([['staging', build.digest]]))
  })

  it('reads push times only where an image without a version must be ranked', async () => {
    const { reader, log } = fakeReader({ app: { 'sha-b0b0b0b': build, production: old } })
    const [state] = await readStates(reader, [intentFor(release('1.1.0'))])
    expect(log.at(-1)).toBe('describe-images app b,c')
    expect(state?.details?.get(old.digest)?.pushedAt).toEqual(new Date(Date.UTC(2026, 0, 2)))
  })
})

/** The repository's work as the writer gets it, planned from the first read. */
async function workFor(fake: ReturnType<typeof fakeReader>, trigger: ActiveTrigger) {
  const intent = intentFor(trigger)
  const [state] = await readStates(fake.reader, [intent])
  const work = repositoryWork(fake.reader, intent, state!, planRepository(intent, state!))
  fake.log.length = 0
  return work
}

describe('refreshPointers and repositoryWork', () => {
  it('reads only the pointers, and returns the same state when none moved', async () => {
    const { reader, log } = fakeReader({
      app: { 'sha-b0b0b0b': build, 'v1.0.0': old, production: old }
    })
    const intent = intentFor(release('1.1.0'))
    const [state] = await readStates(reader, [intent])
    log.length = 0
    expect(await refreshPointers(reader, intent, state!)).toBe(state)
    expect(log).toEqual(['get app production'])
  })

  it('learns the versions of an image that arrived on a pointer, and holds for a higher one', async () => {
    const fake = fakeReader({ app: { 'sha-b0b0b0b': build, 'v1.0.0': old, production: old } })
    const work = await workFor(fake, release('1.1.0'))
    // Another run releases 1.2.0 and moves production while this run writes v1.1.0.
    Object.assign(fake.repositories.app!, { 'v1.2.0': newer, production: newer })
    const plan = await work.replanPointers()
    expect(fake.log).toEqual(['get app production', 'describe-images app e,b'])
    expect(plan.steps[1]).toMatchObject({
      tag: 'production',
      from: newer,
      write: false,
      note: 'stays on 1.2.0: 1.1.0 is lower, and only a rollback moves it back'
    })
  })

  it('describes nothing when a pointer arrived on the run’s own image', async () => {
    const fake = fakeReader({ app: { 'sha-b0b0b0b': build, 'v1.0.0': old, production: old } })
    const work = await workFor(fake, release('1.1.0'))
    fake.repositories.app!.production = build
    const plan = await work.replanPointers()
    expect(fake.log).toEqual(['get app production'])
    expect(plan.steps[1]).toMatchObject({ from: build, write: false })
  })

  it('refuses an explicit promotion that a higher release took just before the write', async () => {
    const promote: ActiveTrigger = { event: 'promote', branch: 'main', environment: 'production' }
    const fake = fakeReader({
      app: { 'sha-b0b0b0b': build, 'v1.0.0': old, 'v1.1.0': build, production: old }
    })
    const work = await workFor(fake, promote)
    Object.assign(fake.repositories.app!, { 'v1.2.0': newer, production: newer })
    await expect(work.replanPointers()).rejects.toThrow(
      'cannot promote app:production: it stays on 1.2.0'
    )
  })

  it('checks pointers after writing with one listing, and fetches the image to hand them to', async () => {
    const fake = fakeReader({ app: { 'sha-b0b0b0b': build, 'v1.0.0': old, production: old } })
    const work = await workFor(fake, release('1.1.0'))
    Object.assign(fake.repositories.app!, { 'v1.1.0': build, 'v1.2.0': newer, production: build })
    expect(await work.checkPointers(['production'])).toEqual([
      {
        tag: 'production',
        now: build.digest,
        moveTo: newer,
        note: 'handed on to 1.2.0, which another run released meanwhile'
      }
    ])
    expect(fake.log).toEqual(['list app', 'get app production', `get app ${newer.digest}`])
  })

  it('reads the pointers again once when the listing and the read by name disagree, a writer having moved one between them', async () => {
    const fake = fakeReader({ app: { 'sha-b0b0b0b': build, 'v1.0.0': old, production: old } })
    const work = await workFor(fake, release('1.1.0'))
    Object.assign(fake.repositories.app!, { 'v1.1.0': build, production: build })
    const getManifests = fake.reader.getManifests.bind(fake.reader)
    let moved = false
    fake.reader.getManifests = async (repository, refs) => {
      // Another writer moves production to 1.0.0 after the first listing, before the read by name.
      if (!moved) fake.repositories.app!.production = old
      moved = true
      return getManifests(repository, refs)
    }
    expect(await work.checkPointers(['production'])).toEqual([
      {
        tag: 'production',
        now: old.digest,
        note: 'another writer has since moved it to 1.0.0; left alone'
      }
    ])
    expect(fake.log).toEqual(['list app', 'get app production', 'list app', 'get app production'])
  })

  it('puts a pointer back on a release made meanwhile, listing once, and keeps plain tags as they were', async () => {
    const fake = fakeReader({ app: { 'sha-b0b0b0b': build, 'v1.0.0': old, production: old } })
    const work = await workFor(fake, release('1.2.0'))
    Object.assign(fake.repositories.app!, { 'v1.1.0': newer, 'v1.2.0': build, production: build })
    const [version, production] = work.plan.steps
    const targets = await work.undoTargets(
      [
        { step: version!, before: undefined },
        { step: production!, before: old }
      ],
      fake.reader
    )
    expect(fake.log).toEqual(['list app', `get app ${newer.digest}`])
    expect(targets).toEqual([undefined, newer])
  })
})

describe('readStatesWaiting', () => {
  /** A clock that sleeping advances, and a build that pushes its image after `pushAfterMs`. */
  function waiting(pushAfterMs: number | undefined, waitMs: number) {
    const fake = fakeReader({ app: { 'v1.0.0': old, production: old } })
    let now = 0
    const pauses: number[] = []
    const logged: string[] = []
    const wait = {
      ...fakeEffects().effects,
      ms: waitMs,
      clock: () => now,
      progress: (line: string) => void logged.push(line),
      sleep: async (ms: number) => {
        pauses.push(ms)
        now += ms
        if (pushAfterMs !== undefined && now >= pushAfterMs)
          fake.repositories.app!['sha-b0b0b0b'] = build
      }
    }
    return { fake, wait, pauses, logged }
  }

  it('polls only the missing image, with growing pauses, then reads everything afresh', async () => {
    const { fake, wait, pauses, logged } = waiting(7_000, 60_000)
    const [state] = await readStatesWaiting(
      fake.reader,
      [intentFor(release('1.1.0'))],
      wait.ms,
      wait
    )
    expect(state?.sourceManifest).toBe(build)
    expect(pauses).toEqual([2_000, 4_000, 8_000])
    expect(logged[0]).toBe('waiting for app:sha-b0b0b0b: 0 s of 60 s')
    expect(fake.log.filter((line) => line.startsWith('describe app'))).toHaveLength(2)
    expect(fake.log.filter((line) => line === 'get app sha-b0b0b0b')).toHaveLength(3)
  })

  it('lists the tags again to find a build by its tag pattern, pushed on another day', async () => {
    const { fake, wait, pauses, logged } = waiting(undefined, 60_000)
    const sleep = wait.sleep
    wait.sleep = async (ms) => {
      await sleep(ms)
      if (pauses.length === 2) fake.repositories.app!['build-19700102-b0b0b0b0b0'] = build
    }
    const [state] = await readStatesWaiting(
      fake.reader,
      [datedIntent(release('1.1.0'))],
      wait.ms,
      wait
    )
    expect(state?.sourceManifest).toBe(build)
    expect(pauses).toEqual([2_000, 4_000])
    expect(logged[0]).toBe('waiting for app:build-*-b0b0b0b0b0: 0 s of 60 s')
    expect(fake.log.filter((line) => line === 'list app')).toHaveLength(3)
  })

  it('does not wait for a rollback target: a released version does not appear later', async () => {
    const { fake, wait, pauses } = waiting(undefined, 60_000)
    const rollback = intentFor({ event: 'rollback', branch: 'main', to: v('0.9.0') })
    await readStatesWaiting(fake.reader, [rollback], wait.ms, wait)
    expect(pauses).toEqual([])
  })

  it('gives up when the time runs out, leaving the image missing', async () => {
    const { fake, wait, pauses } = waiting(undefined, 5_000)
    const [state] = await readStatesWaiting(
      fake.reader,
      [intentFor(release('1.1.0'))],
      wait.ms,
      wait
    )
    expect(state?.sourceManifest).toBeUndefined()
    expect(pauses).toEqual([2_000, 3_000])
  })

  it('reads once without waiting when wait-for-source is 0', async () => {
    const { fake, wait, pauses } = waiting(undefined, 0)
    await readStatesWaiting(fake.reader, [intentFor(release('1.1.0'))], wait.ms, wait)
    expect(pauses).toEqual([])
    expect(fake.log.filter((line) => line.startsWith('describe app'))).toHaveLength(1)
  })
})
