import { parseConvention } from '../../../src/core/conventions.js'
import type { ActiveTrigger, Intent } from '../../../src/core/derive.js'
import { describeRef, type Manifest, type TagMutability } from '../../../src/core/model.js'
import {
  checkPointers,
  isImmutable,
  markTags,
  needsAllTags,
  planRepository,
  proofTags,
  pushTimesNeeded,
  resolveSources,
  renderVersion,
  undoTarget,
  versionsLeft,
  withdrawnVersions,
  type RepositoryState,
  type Step
} from '../../../src/core/plan.js'
import {
  channels,
  environments,
  intentFor,
  manifests,
  promote,
  push,
  release,
  rollback,
  tagged,
  v
} from '../../support/builders.js'
import { thrownBy } from '../../support/harness.js'

/** The registry holds images b (the build), c (old), d (older) and e (a hotfix), written by letter. */
const [build, old, older, hotfix] = manifests('b', 'c', 'd', 'e')
const mutable: TagMutability = { mode: 'MUTABLE', exclusions: [] }
const immutable: TagMutability = { mode: 'IMMUTABLE', exclusions: [] }
const digestsOf = (registry: Record<string, Manifest>) =>
  new Map(Object.entries(registry).map(([tag, image]) => [tag, image.digest]))

/** What readStates would return for the intent over a registry written `tag=image …`. */
function stateFor(intent: Intent, text: string, mutability = mutable): RepositoryState {
  const registry = tagged(text)
  const tags = digestsOf(registry)
  const [source] = resolveSources([intent], () => tags) as [RepositoryState['source']]
  // As readStates does: the versions the rollback withdraws, each marked on its version's image.
  const left = versionsLeft(
    [intent],
    () => (needsAllTags(intent) ? tags : undefined),
    () => ('digest' in source.ref ? source.ref.digest : tags.get(source.ref.tag))
  )
  const withdrawing = new Map(
    left.flatMap((version) => {
      const image = registry[renderVersion(intent.versionTag, version)]
      const mark = renderVersion(intent.withdrawnTag, version)
      return image && !registry[mark] ? [[mark, { image, version: version.text }] as const] : []
    })
  )
  const { ref } = source
  const sourceManifest =
    'tag' in ref
      ? registry[ref.tag]
      : Object.values(registry).find(({ digest }) => digest === ref.digest)
  // As readStates does: the marks of the run's version are read with the targets.
  const marks = markTags(intent).flatMap((tag) => {
    const digest = tags.get(tag)
    return digest ? [[tag, digest] as [string, string]] : []
  })
  return {
    repository: intent.repository,
    uri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app',
    mutability,
    source,
    ...(sourceManifest && { sourceManifest }),
    current: new Map(
      intent.targets.flatMap(({ tag }) => (registry[tag] ? [[tag, registry[tag]] as const] : []))
    ),
    ...(needsAllTags(intent) && { tags }),
    ...(withdrawing.size > 0 && { withdrawing }),
    ...(marks.length > 0 && { withdrawnInRun: withdrawnVersions(marks, intent.withdrawnTag) })
  }
}

const planOf = (intent: Intent, text: string, mutability?: TagMutability) =>
  planRepository(intent, stateFor(intent, text, mutability))

/** The steps, one word each: `production:c>b` moves production from c to b; ` skip` leaves it. */
const summary = (intent: Intent, text: string, mutability?: TagMutability) =>
  planOf(intent, text, mutability)
    .steps.map(
      (step) =>
        `${step.tag}:${step.from?.digest[7] ?? '-'}>${step.to?.digest[7] ?? '-'}${step.write ? '' : ' skip'}`
    )
    .join(' ')

describe('planning', () => {
  it.each<[string, ActiveTrigger, string, string]>([
    ['push creates latest', push(), 'sha-a1b2c3d=b', 'latest:->b'],
    ['push moves latest', push(), 'sha-a1b2c3d=b latest=c', 'latest:c>b'],
    ['a re-run changes nothing', push(), 'sha-a1b2c3d=b latest=b', 'latest:b>b skip'],
    ['first release', release('1.0.0'), 'sha-a1b2c3d=b', 'v1.0.0:->b production:->b'],
    [
      'a newer release moves production forward',
      release('1.2.0'),
      'sha-a1b2c3d=b v1.1.0=c production=c',
      'v1.2.0:->b production:c>b'
    ],
    [
      'a hotfix below production gets its tag, production stays',
      release('1.1.5'),
      'sha-a1b2c3d=b v1.2.0=c production=c',
      'v1.1.5:->b production:c>c skip'
    ],
    [
      'production on an image without a version tag moves',
      release('1.0.1'),
      'sha-a1b2c3d=b production=c',
      'v1.0.1:->b production:c>b'
    ],
    [
      'a tag whose version semver cannot order is no version',
      release('1.2.0'),
      'sha-a1b2c3d=b v99999999999999999999.0.0=c production=c',
      'v1.2.0:->b production:c>b'
    ],
    [
      'production compares against the highest version its image carries',
      release('1.3.0'),
      'sha-a1b2c3d=b v1.1.0=c v1.4.0=c production=c',
      'v1.3.0:->b production:c>c skip'
    ],
    [
      'the same version again is not backwards',
      release('1.2.0'),
      'sha-a1b2c3d=b v1.2.0=b production=c v1.1.0=c',
      'v1.2.0:b>b skip production:c>b'
    ],
    [
      'rollback moves production back',
      rollback('1.0.0'),
      'v1.0.0=d v1.1.0=c production=c',
      'withdrawn-1.1.0:->c production:c>d'
    ],
    [
      'a rollback to a higher version withdraws nothing',
      rollback('1.2.0'),
      'v1.2.0=b v1.1.0=c production=c',
      'production:c>b'
    ],
    [
      'a rollback from an image without a version withdraws nothing',
      rollback('1.0.0'),
      'v1.0.0=d production=c',
      'production:c>d'
    ],
    [
      'a rollback from a version already withdrawn marks it once',
      rollback('1.0.0'),
      'v1.0.0=d v1.1.0=c withdrawn-1.1.0=c production=c',
      'production:c>d'
    ],
    [
      'a re-run of a withdrawn release leaves production where the rollback put it',
      release('1.2.0'),
      'sha-a1b2c3d=b v1.2.0=b withdrawn-1.2.0=b v1.1.0=c production=c',
      'v1.2.0:b>b skip production:c>c skip'
    ],
    [
      'previous skips a withdrawn version',
      rollback('previous'),
      'v1.0.0=d v1.1.0=c withdrawn-1.1.0=c v1.2.0=b production=b',
      'withdrawn-1.2.0:->b production:b>d'
    ],
    [
      'rollback to previous picks the highest stable version below production',
      rollback('previous'),
      'v1.0.0=d v1.1.0-rc.1=e v1.1.0=c v1.2.0=b production=b',
      'withdrawn-1.2.0:->b production:b>c'
    ],
    ['staging follows any promotion', promote('staging'), 'sha-a1b2c3d=b staging=c', 'staging:c>b']
  ])('%s', (_name, trigger, registry, expected) => {
    expect(summary(intentFor(trigger), registry)).toBe(expected)
  })

  it('reports the pointer digest before the run and the resolved version', () => {
    const plan = planOf(intentFor(rollback('previous')), 'v1.0.0=d v1.1.0=c production=c')
    expect(plan).toMatchObject({ pointer: 'production', version: v('1.0.0'), source: older })
    expect(plan).not.toHaveProperty('stays')
  })

  it('explains why production stays', () => {
    expect(
      planOf(intentFor(release('1.1.5')), 'sha-a1b2c3d=b v1.2.0=c production=c').steps[1]?.note
    ).toBe('stays on 1.2.0: 1.1.5 is lower, and only a rollback moves it back')
  })
})

describe('highest-only tags', () => {
  const lines = parseConvention(
    `build-tag: 'app-main-{sha7}'\nversion-tag: '{version}'\nrelease: [{ tag: '{major}', kind: highest }, { tag: '{major}.{minor}', kind: highest }]`,
    'lines.yml'
  )
  const inChannels = (version: string) => intentFor(release(version), { convention: channels })

  it.each<[string, Intent, string, string]>([
    [
      'the highest release moves latest and stable',
      inChannels('2.1.0'),
      'app-main-a1b2c3d=b 2.0.0=c stable=c latest=c',
      '2.1.0:->b stable:c>b latest:c>b'
    ],
    [
      'a lower release moves neither',
      inChannels('2.0.3'),
      'app-main-a1b2c3d=b 2.1.0=c stable=c latest=c',
      '2.0.3:->b stable:c>c skip latest:c>c skip'
    ],
    [
      'a lower release does not create latest either',
      inChannels('2.0.3'),
      'app-main-a1b2c3d=b 2.1.0=c',
      '2.0.3:->b stable:->b latest:->- skip'
    ],
    [
      'prereleases in the registry do not count',
      inChannels('2.1.0'),
      'app-main-a1b2c3d=b 2.2.0-rc.1=c latest=c',
      '2.1.0:->b stable:->b latest:c>b'
    ],
    [
      'each line ranks on its own',
      intentFor(release('3.4.9'), { convention: lines }),
      'app-main-a1b2c3d=b 3.5.0=c 3=c 3.4.1=d 3.4=d',
      '3:c>c skip 3.4:d>b'
    ]
  ])('%s', (_name, intent, registry, expected) => {
    expect(summary(intent, registry)).toBe(expected)
  })

  it('says why latest stays', () => {
    expect(planOf(inChannels('2.0.3'), 'app-main-a1b2c3d=b 2.1.0=c latest=c').steps[2]?.note).toBe(
      '2.1.0 is higher, so it stays'
    )
  })
})

describe('planning refuses before any write', () => {
  it.each<[string, ActiveTrigger, string, TagMutability, RegExp]>([
    [
      'a missing build image',
      push('feature'),
      '',
      mutable,
      /source image 'sha-a1b2c3d' not found in repository app/
    ],
    [
      'a missing rollback version',
      rollback('0.9.0'),
      'production=c',
      mutable,
      /source image 'v0.9.0' not found/
    ],
    [
      'a version tag that would move',
      release('1.0.0'),
      'sha-a1b2c3d=b v1.0.0=c',
      mutable,
      /version tag 'v1.0.0' in app already points at sha256:cccccccccccc, not at the source sha256:bbbbbbbbbbbb: a version tag never moves/
    ],
    [
      'an immutable tag that would move',
      push(),
      'sha-a1b2c3d=b latest=c',
      immutable,
      /tag 'latest' in app is immutable \(imageTagMutability IMMUTABLE\).*IMMUTABLE_WITH_EXCLUSION with an exclusion filter matching 'latest'/
    ]
  ])('%s', (_name, trigger, registry, mutability, message) => {
    expect(() => planOf(intentFor(trigger), registry, mutability)).toThrow(message)
  })

  it('names every problem at once', () => {
    const error = thrownBy(() =>
      planOf(intentFor(release('1.0.0')), 'sha-a1b2c3d=b v1.0.0=c production=c', immutable)
    )
    expect(error).toBeInstanceOf(AggregateError)
    expect(
      (error as AggregateError).errors.map((each: Error) => each.message.split(':')[0])
    ).toEqual([
      "version tag 'v1.0.0' in app already points at sha256",
      "tag 'v1.0.0' in app is immutable (imageTagMutability IMMUTABLE) and already points at sha256",
      "tag 'production' in app is immutable (imageTagMutability IMMUTABLE) and already points at sha256"
    ])
  })

  it.each<[string, string, RegExp]>([
    ['no production tag', 'v1.0.0=c', /it has no 'production' tag/],
    [
      'production without a version',
      'production=c',
      /'production' \(sha256:cccccccccccc\) carries no version tag/
    ],
    ['nothing below production', 'v1.0.0=c production=c', /no stable version below 1.0.0/]
  ])('rollback to previous with %s', (_name, registry, message) => {
    expect(() => stateFor(intentFor(rollback('previous')), registry)).toThrow(message)
  })
})

describe('withdrawn versions', () => {
  const withdrawn12 = 'v1.2.0=b withdrawn-1.2.0=b sha-a1b2c3d=b v1.1.0=c production=c staging=c'

  it.each<[string, ActiveTrigger]>([
    ['a rollback that names it', rollback('1.2.0')],
    ['a promotion to production that names it', promote('production', '1.2.0')],
    [
      'a promotion to staging that names it (its mark read without a listing)',
      promote('staging', '1.2.0')
    ]
  ])('%s needs allow-withdrawn', (_name, trigger) => {
    expect(() => planOf(intentFor(trigger), withdrawn12)).toThrow(
      /to 1\.2\.0: it was withdrawn by a rollback \(tag withdrawn-1\.2\.0\); set allow-withdrawn: true/
    )
  })

  it.each<[string, ActiveTrigger, string]>([
    ['a rollback', rollback('1.2.0'), 'production'],
    ['a promotion', promote('staging', '1.2.0'), 'staging'],
    ['a release re-run', release('1.2.0'), 'production']
  ])('with allow-withdrawn, %s moves to it and says so', (_name, trigger, pointer) => {
    const step = planOf({ ...intentFor(trigger), allowWithdrawn: true }, withdrawn12).steps.find(
      ({ tag }) => tag === pointer
    )
    expect(step).toMatchObject({ write: true, to: build })
    expect(step?.note).toBe(
      '1.2.0 is withdrawn (withdrawn-1.2.0); moved because allow-withdrawn is true'
    )
  })

  it('a release re-run says why production stays', () => {
    expect(planOf(intentFor(release('1.2.0')), withdrawn12).steps[1]?.note).toBe(
      'stays: 1.2.0 was withdrawn by a rollback (withdrawn-1.2.0), and a release re-run does not move a pointer to it; set allow-withdrawn: true to move it on purpose'
    )
  })

  it('a withdrawn higher version does not hold latest back', () => {
    const registry = 'app-main-a1b2c3d=b 1.2.0=c withdrawn-1.2.0=c latest=c 1.1.0=d stable=d'
    expect(summary(intentFor(release('1.1.1'), { convention: channels }), registry)).toBe(
      '1.1.1:->b stable:d>b latest:c>b'
    )
  })

  it.each<[string, Record<string, string>, ActiveTrigger, string[]]>([
    [
      'the version each pointer leaves, once for the run',
      { api: 'v1.1.0=c v1.2.0=b production=b', worker: 'v1.1.0=c v1.2.0=b production=b' },
      rollback('1.1.0'),
      ['1.2.0']
    ],
    [
      'nothing where the pointer is already on the target',
      { api: 'v1.1.0=c production=c' },
      rollback('1.1.0'),
      []
    ],
    [
      'nothing for a rollback to a higher version',
      { api: 'v1.1.0=c v1.2.0=b production=c' },
      rollback('1.2.0'),
      []
    ],
    ['nothing for a release', { api: 'v1.1.0=c production=c sha-a1b2c3d=b' }, release('1.2.0'), []]
  ])('versionsLeft: %s', (_name, registries, trigger, expected) => {
    const intents = Object.keys(registries).map((repository) => intentFor(trigger, { repository }))
    const tagsOf = (intent: Intent) => digestsOf(tagged(registries[intent.repository] ?? ''))
    const target = (intent: Intent) => tagsOf(intent).get(`v${intent.version?.text}`)
    expect(versionsLeft(intents, tagsOf, target).map(({ text }) => text)).toEqual(expected)
  })

  it('a version withdrawn in another repository of the run holds this one too', () => {
    const intent = intentFor(release('1.2.0'))
    const state = {
      ...stateFor(intent, 'sha-a1b2c3d=b v1.2.0=b v1.1.0=c production=c'),
      withdrawnInRun: new Set(['1.2.0'])
    }
    expect(planRepository(intent, state).steps[1]).toMatchObject({
      tag: 'production',
      write: false,
      note: expect.stringContaining('1.2.0 was withdrawn by a rollback')
    })
  })

  it.each([
    ['v1.0.0=d v1.1.0=c v1.2.0=b withdrawn-1.2.0=b production=c', { further: v('1.0.0') }],
    ['v1.1.0=c v1.2.0=b withdrawn-1.2.0=b v1.3.0=e withdrawn-1.3.0=e production=c', {}]
  ])(
    'a re-run of a rollback to previous stays where the first run put the pointer: %s',
    (registry, further) => {
      expect(summary(intentFor(rollback('previous')), registry)).toBe('production:c>c skip')
      expect(planOf(intentFor(rollback('previous')), registry).stays).toEqual({
        version: v('1.1.0'),
        withdrawn: v('1.2.0'),
        ...further
      })
    }
  )

  it('previous fails when every lower version is withdrawn', () => {
    const registry = 'v1.1.0=c withdrawn-1.1.0=c v1.2.0=b production=b'
    expect(() => stateFor(intentFor(rollback('previous')), registry)).toThrow(
      'no stable version below 1.2.0 that is not withdrawn'
    )
  })

  it("reads the mark of the run's version only where no listing shows it", () => {
    expect(markTags(intentFor(promote('staging', '1.2.0')))).toEqual(['withdrawn-1.2.0'])
    expect(markTags(intentFor(promote('production', '1.2.0')))).toEqual([])
    expect(markTags(intentFor(rollback('1.2.0')))).toEqual([])
  })
})

describe('tag immutability', () => {
  it.each<[string, TagMutability, boolean]>([
    ['production', mutable, false],
    ['production', { mode: 'IMMUTABLE', exclusions: ['production'] }, true],
    ['production', { mode: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['prod*'] }, false],
    ['v1.0.0', { mode: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['prod*', 'latest'] }, true],
    ['latest', { mode: 'MUTABLE_WITH_EXCLUSION', exclusions: ['v*'] }, false],
    ['v1.0.0', { mode: 'MUTABLE_WITH_EXCLUSION', exclusions: ['v*'] }, true],
    ['v1x0.0', { mode: 'MUTABLE_WITH_EXCLUSION', exclusions: ['v1.0.*'] }, false]
  ])('%s under %j: %s', (tag, mutability, immutable) => {
    expect(isImmutable(tag, mutability)).toBe(immutable)
  })
})

describe('the forward rule without versions, and explicit promotions', () => {
  /** The state with push times: the build pushed on `buildDay` of January 2026, image c on the 2nd. */
  const withPushTimes = (intent: Intent, registry: string, buildDay?: number): RepositoryState => ({
    ...stateFor(intent, registry),
    details: new Map(
      buildDay === undefined
        ? []
        : [
            [build.digest, { tags: [], pushedAt: new Date(Date.UTC(2026, 0, buildDay)) }],
            [old.digest, { tags: [], pushedAt: new Date(Date.UTC(2026, 0, 2)) }]
          ]
    )
  })

  it.each<[string, ActiveTrigger, string, number, string]>([
    [
      'a release whose pointer carries no version and was pushed later is held',
      release('1.2.0'),
      'sha-a1b2c3d=b production=c',
      1,
      'production:c>c skip'
    ],
    [
      'a release over an unversioned pointer pushed earlier moves it',
      release('1.2.0'),
      'sha-a1b2c3d=b production=c',
      3,
      'production:c>b'
    ],
    [
      'a plain pointer such as staging moves whatever the push times',
      promote('staging'),
      'sha-a1b2c3d=b staging=c',
      1,
      'staging:c>b'
    ]
  ])('%s', (_name, trigger, registry, buildDay, expected) => {
    const intent = intentFor(trigger)
    const step = planRepository(intent, withPushTimes(intent, registry, buildDay)).steps.find(
      ({ kind }) => kind === 'forward' || kind === 'plain'
    )
    expect(
      `${step?.tag}:${step?.from?.digest[7]}>${step?.to?.digest[7]}${step?.write ? '' : ' skip'}`
    ).toBe(expected)
  })

  it('names the push times in the note', () => {
    const intent = intentFor(release('1.2.0'))
    expect(
      planRepository(intent, withPushTimes(intent, 'sha-a1b2c3d=b production=c', 1)).steps[1]?.note
    ).toBe(
      'stays on the image pushed 2026-01-02T00:00:00.000Z: this image was pushed earlier (2026-01-01T00:00:00.000Z), and only a rollback moves it back'
    )
  })

  it.each<[string, string, number | undefined, string]>([
    [
      'a lower version',
      'sha-a1b2c3d=b v1.0.0=b v1.1.0=c production=c',
      undefined,
      'cannot promote app:production: it stays on 1.1.0: 1.0.0 is lower, and only a rollback moves it back; to move it back, run event: rollback'
    ],
    [
      'an older unversioned build',
      'sha-a1b2c3d=b v1.1.0=c production=c',
      1,
      'cannot promote app:production: it stays on 1.1.0 pushed 2026-01-02T00:00:00.000Z: this image was pushed earlier (2026-01-01T00:00:00.000Z), and only a rollback moves it back; to move it back, run event: rollback'
    ]
  ])('refuses to promote production backwards to %s', (_name, registry, buildDay, message) => {
    const intent = intentFor(promote('production'))
    expect(
      thrownBy(() => planRepository(intent, withPushTimes(intent, registry, buildDay)))
    ).toEqual(new AggregateError([], message))
  })

  it.each<[string, ActiveTrigger, string, string[]]>([
    ['both carry versions', release('1.2.0'), 'v1.1.0=c production=c', []],
    ['the pointer carries none', release('1.2.0'), 'production=c', ['b', 'c']],
    ['the build carries none', promote('production'), 'v1.1.0=c production=c', ['b', 'c']],
    ['the pointer is already on the build', release('1.2.0'), 'production=b', []],
    ['plain tags never need them', push(), 'latest=c', []]
  ])('reads push times only where needed: %s', (_name, trigger, registry, expected) => {
    const intent = intentFor(trigger)
    const state = stateFor(intent, `sha-a1b2c3d=b ${registry}`)
    expect(pushTimesNeeded(intent, state).map((digest) => digest[7])).toEqual(expected)
  })
})

describe('rollback to previous across repositories', () => {
  const intents = ['api', 'worker'].map((repository) =>
    intentFor(rollback('previous'), { repository })
  )
  const tagsOf = (registries: Record<string, string>) => (intent: Intent) =>
    digestsOf(tagged(registries[intent.repository] ?? ''))

  it('resolves one version below the highest any pointer carries, for every repository', () => {
    // A half-finished release: api reached 1.2.0, worker still carries 1.1.0.
    const sources = resolveSources(
      intents,
      tagsOf({
        api: 'v1.0.0=d v1.1.0=c v1.2.0=b production=b',
        worker: 'v1.0.0=d v1.1.0=c v1.2.0=b production=c'
      })
    )
    expect(sources.map(({ ref, version }) => `${describeRef(ref)} ${version?.text}`)).toEqual([
      'v1.1.0 1.1.0',
      'v1.1.0 1.1.0'
    ])
  })

  it.each<[string, Record<string, string>, string]>([
    [
      'the version is missing in one repository',
      { api: 'v1.1.0=c v1.2.0=b production=b', worker: 'v1.2.0=b production=b' },
      'cannot roll back to previous: the previous version 1.1.0 (below 1.2.0) is missing or withdrawn in worker; set version to a version every repository has'
    ],
    [
      'no pointer carries a version',
      { api: 'production=b', worker: 'v1.0.0=c' },
      "cannot roll back api to previous: 'production' (sha256:bbbbbbbbbbbb) carries no version tag; set version to the version to roll back to\ncannot roll back worker to previous: it has no 'production' tag; set version to the version to roll back to"
    ],
    [
      'nothing below the top',
      { api: 'v1.0.0=b production=b', worker: 'v1.0.0-rc.1=c' },
      'cannot roll back api, worker to previous: no stable version below 1.0.0 that is not withdrawn'
    ]
  ])('refuses when %s', (_name, registries, message) => {
    expect(thrownBy(() => resolveSources(intents, tagsOf(registries)))).toHaveProperty(
      'message',
      message
    )
  })
})

describe('a build tag with run variables is found by its other parts', () => {
  const dated = parseConvention(
    "build-tag: 'build-{date}-{sha:10}'\nversion-tag: v{version}\npush: [main]\nrelease: [{ tag: 'v{version}', kind: version }, { tag: production, kind: forward }]",
    'dated.yml'
  )
  const releaseIntent = intentFor(release('1.1.0'), { convention: dated })
  const pushIntent = intentFor(push(), { convention: dated })
  const resolved = (intent: Intent, registry: string) => {
    const [{ ref, unmatched }] = resolveSources([intent], () => digestsOf(tagged(registry))) as [
      RepositoryState['source']
    ]
    return `${describeRef(ref)}${unmatched ? ' (unmatched)' : ''}`
  }

  it('lists every tag to find it, whatever the event', () => {
    expect(releaseIntent.source).toEqual({
      buildTagMatching: 'build-*-a1b2c3d4e5',
      buildTag: 'build-{date}-{sha:10}'
    })
    expect([releaseIntent, pushIntent].map(needsAllTags)).toEqual([true, true])
  })

  it.each<[string, string, string]>([
    [
      'one build, among other commits',
      'build-20260101-a1b2c3d4e5=b build-20260102-c0c0c0c0c0=c production=c',
      build.digest
    ],
    [
      'one image pushed on two days',
      'build-20260101-a1b2c3d4e5=b build-20260102-a1b2c3d4e5=b',
      build.digest
    ],
    [
      'none of this commit',
      'build-20260101-c0c0c0c0c0=c a1b2c3d4e5=c',
      'build-*-a1b2c3d4e5 (unmatched)'
    ],
    ['an empty repository', '', 'build-*-a1b2c3d4e5 (unmatched)']
  ])('resolves %s', (_name, registry, expected) => {
    expect(resolved(releaseIntent, registry)).toBe(expected)
  })

  it('refuses builds of the commit on different images, naming the tags and the variable', () => {
    const registry = 'build-20260102-a1b2c3d4e5=c build-20260101-a1b2c3d4e5=b'
    expect(thrownBy(() => resolved(pushIntent, registry))).toHaveProperty(
      'message',
      "cannot tell which build app starts from: build-20260101-a1b2c3d4e5 (sha256:bbbbbbbbbbbb), build-20260102-a1b2c3d4e5 (sha256:cccccccccccc) match the build tag build-{date}-{sha:10} on different images, and its {date} cannot be known after the build's own run; set source to the tag of the image meant"
    )
  })

  it('plans from the build found, and says what it looked for when there is none', () => {
    expect(summary(releaseIntent, 'build-20251231-a1b2c3d4e5=b production=c')).toBe(
      'v1.1.0:->b production:c>b'
    )
    expect(thrownBy(() => summary(releaseIntent, 'production=c'))).toHaveProperty(
      'message',
      "source image 'build-*-a1b2c3d4e5' not found in repository app: it is the build tag build-{date}-{sha:10} of commit a1b2c3d4e5f60718293a4b5c6d7e8f9012345678 (sha from GITHUB_SHA), whatever its {date}; if the build pushes it later, set wait-for-source (such as 10m) or run this step after the build"
    )
  })
})

describe('after writing: checkPointers and undoTarget', () => {
  /** This run releases from `build`; before it started the registry held `first`. */
  const first = 'v1.0.0=d v1.1.0=c production=c sha-a1b2c3d=b'
  const planned = (trigger: ActiveTrigger) => {
    const intent = intentFor(trigger)
    return { intent, plan: planOf(intent, first) }
  }
  const tagsThen = (meanwhile = '') => digestsOf(tagged(`${first} ${meanwhile}`))

  it.each<[string, ActiveTrigger, string, Manifest | undefined, RegExp | undefined]>([
    ['the pointer stayed on this run', release('1.2.0'), 'production=b', undefined, undefined],
    [
      'a lower release made meanwhile took it: written again',
      release('1.2.0'),
      'v1.1.5=e production=e',
      build,
      /^1\.1\.5, released by another run meanwhile, took it after this run wrote it; 1\.2\.0 is higher/
    ],
    [
      'a higher release made meanwhile took it: left alone',
      release('1.1.5'),
      'v1.2.0=e production=e',
      undefined,
      /^another run released 1\.2\.0 meanwhile and moved it there$/
    ],
    [
      'a rollback to a version that existed before: left alone',
      release('1.2.0'),
      'production=d',
      undefined,
      /^another writer has since moved it to 1\.0\.0; left alone$/
    ],
    [
      'a release hands the pointer on to a higher release made meanwhile',
      release('1.1.5'),
      'v1.2.0=e production=b',
      hotfix,
      /^handed on to 1\.2\.0, which another run released meanwhile$/
    ],
    [
      'a promotion keeps the pointer on its own image whatever was released meanwhile',
      promote('production', '1.2.0'),
      'v1.3.0=e production=b',
      undefined,
      undefined
    ],
    [
      'a prerelease made meanwhile does not count',
      release('1.1.5'),
      'v1.3.0-rc.1=e production=b',
      undefined,
      undefined
    ]
  ])('%s', (_name, trigger, meanwhile, moveTo, note) => {
    const { intent, plan } = planned(trigger)
    const [check] = checkPointers(intent, plan, tagsThen(), tagsThen(meanwhile), ['production'])
    expect(check?.moveTo).toBe(moveTo?.digest)
    if (note) expect(check?.note).toMatch(note)
    else expect(check?.note).toBeUndefined()
  })

  it.each<[string, string, Manifest | undefined, Manifest | undefined]>([
    ['back where it was when nothing was released meanwhile', '', old, old],
    ['onto a release made meanwhile that ranks above where it was', 'v1.1.5=e', old, hotfix],
    ['not onto one below where it was', 'v1.0.5=e', old, old],
    ['onto a release made meanwhile rather than removing it', 'v1.1.5=e', undefined, hotfix],
    ['removed when it did not exist and nothing was released', '', undefined, undefined]
  ])('undoTarget puts production %s', (_name, meanwhile, before, expected) => {
    const { intent, plan } = planned(release('1.2.0'))
    const step = plan.steps.find(({ tag }) => tag === 'production') as Step
    expect(
      undoTarget(intent, plan, step, before, tagsThen(), tagsThen(`${meanwhile} v1.2.0=b`))
    ).toBe(expected?.digest ?? null)
  })

  it('undoTarget puts a version tag back as it was, whatever was released', () => {
    const { intent, plan } = planned(release('1.2.0'))
    const step = plan.steps.find(({ tag }) => tag === 'v1.2.0') as Step
    expect(undoTarget(intent, plan, step, undefined, tagsThen(), tagsThen('v1.3.0=e'))).toBeNull()
  })
})

describe('the tested-image rule (require-tested)', () => {
  const tested = (trigger: ActiveTrigger, convention = environments): Intent =>
    intentFor(trigger, { convention, requireTested: true })
  /** The state as readStates builds it: the tags a rule names without `*` are read as proofs. */
  const testedState = (intent: Intent, text: string): RepositoryState => {
    const registry = tagged(text)
    const proofs = new Map(
      (intent.tested ?? []).flatMap(({ pattern }) =>
        registry[pattern] ? [[pattern, registry[pattern].digest] as const] : []
      )
    )
    return { ...stateFor(intent, text), proofs }
  }

  it.each<[string, Intent, string, { pointer: string; by: string }[]]>([
    [
      'environments: a release moves production to the image staging points at',
      tested(release('1.1.0')),
      'sha-a1b2c3d=b staging=b production=c v1.0.0=c',
      [{ pointer: 'production', by: 'staging' }]
    ],
    [
      'environments: a promotion to production, likewise',
      tested(promote('production', '1.1.0')),
      'sha-a1b2c3d=b staging=b production=c',
      [{ pointer: 'production', by: 'staging' }]
    ],
    [
      'channels: stable moves to an image carrying an rc tag of the same version',
      tested(release('2.1.0'), channels),
      'app-main-a1b2c3d=b 2.1.0-rc.41=b 2.1.0-rc.7=b stable=c',
      [{ pointer: 'stable', by: '2.1.0-rc.41' }]
    ],
    [
      'a pointer already on the image is not a move, so nothing needs proving',
      tested(release('1.1.0')),
      'sha-a1b2c3d=b production=b',
      []
    ]
  ])('%s', (_name, intent, registry, proven) => {
    expect(planRepository(intent, testedState(intent, registry)).tested ?? []).toEqual(proven)
  })

  it.each<[string, Intent, string, string]>([
    [
      'environments: staging is on another image',
      tested(release('1.1.0')),
      'sha-a1b2c3d=b staging=c production=c',
      `cannot move app:production to sha256:bbbbbbbbbbbb: require-tested is on, and production takes only the image that staging points at, which is sha256:cccccccccccc: move staging to this image first and test it there`
    ],
    [
      'environments: there is no staging tag',
      tested(promote('production', '1.1.0')),
      'sha-a1b2c3d=b',
      'which is none (there is no such tag)'
    ],
    [
      'channels: the rc tag is of another version',
      tested(release('2.1.0'), channels),
      'app-main-a1b2c3d=b 2.0.0-rc.3=b stable=c',
      "stable takes only an image carrying a tag matching '2.1.0-rc.*'; this image carries 2.0.0-rc.3, app-main-a1b2c3d"
    ]
  ])('leaves the gates a refusal when %s', (_name, intent, registry, message) => {
    const [proof] = planRepository(intent, testedState(intent, registry)).tested ?? []
    expect(proof).toEqual({
      pointer: intent.tested?.[0]?.pointer,
      refused: expect.stringContaining(message)
    })
  })

  it('reads every tag for a rule with *, and the named tag for one without', () => {
    const channelsRelease = tested(release('2.1.0'), channels)
    expect(channelsRelease.tested).toEqual([{ pointer: 'stable', pattern: '2.1.0-rc.*' }])
    expect(needsAllTags(channelsRelease)).toBe(true)
    expect(proofTags(tested(release('1.1.0')))).toEqual(['staging'])
  })

  it('applies only with require-tested, and never to a rollback', () => {
    expect(intentFor(release('1.1.0')).tested).toBe(undefined)
    expect(tested(rollback('1.0.0')).tested).toBe(undefined)
  })
})
