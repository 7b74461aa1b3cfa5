import { BUILT_IN_CONVENTIONS, parseConvention } from '../src/core/conventions.js'
import { derive, type ActiveTrigger, type Intent } from '../src/core/derive.js'
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
} from '../src/core/plan.js'
import { describeRef, type Manifest, type TagMutability } from '../src/core/model.js'
import { requireVersion } from '../src/core/version.js'
import { thrownBy } from './support/thrown.js'

const manifest = (name: string): Manifest => ({
  digest: `sha256:${name.padEnd(64, '0')}`,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  body: `{"name":"${name}"}`
})
const [build, old, older, hotfix] = ['b', 'c', 'd', 'e'].map(manifest) as [
  Manifest,
  Manifest,
  Manifest,
  Manifest
]
const v = (text: string) => requireVersion(text, 'version')
const mutable: TagMutability = { mode: 'MUTABLE', exclusions: [] }

const environments = parseConvention(BUILT_IN_CONVENTIONS.environments ?? '', 'environments')
const channels = parseConvention(BUILT_IN_CONVENTIONS.channels ?? '', 'channels')
const run = {
  repository: 'app',
  sha: 'b0b0b0b0b0',
  service: 'app',
  source: '',
  date: new Date(0),
  shaOrigin: 'GITHUB_SHA'
}
const intentFor = (trigger: ActiveTrigger, convention = environments): Intent =>
  derive(convention, trigger, run)

/** A registry given as tag → manifest; the state is what readState would return for the intent. */
function stateFor(
  intent: Intent,
  registry: Record<string, Manifest>,
  mutability = mutable
): RepositoryState {
  const tags = new Map(Object.entries(registry).map(([tag, m]) => [tag, m.digest]))
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
    // As readStates does: the marks of the run's version are read with the targets.
    ...(markTags(intent).some((tag) => tags.has(tag)) && {
      withdrawnInRun: withdrawnVersions(
        markTags(intent).flatMap((tag) =>
          tags.has(tag) ? [[tag, tags.get(tag)!] as [string, string]] : []
        ),
        intent.withdrawnTag
      )
    })
  }
}

const summary = (
  intent: Intent,
  registry: Record<string, Manifest>,
  mutability?: TagMutability
) => {
  const plan = planRepository(intent, stateFor(intent, registry, mutability))
  return plan.steps.map(
    (step) =>
      `${step.tag}:${step.from?.digest[7] ?? '-'}>${step.to?.digest[7] ?? '-'}${step.write ? '' : ' skip'}`
  )
}

describe('planning', () => {
  const push: ActiveTrigger = { event: 'push', branch: 'main', defaultBranch: true }
  const release = (text: string): ActiveTrigger => ({
    event: 'release',
    branch: 'main',
    version: v(text),
    prerelease: false
  })

  it.each<[string, ActiveTrigger, Record<string, Manifest>, string[]]>([
    ['push creates latest', push, { 'sha-b0b0b0b': build }, ['latest:->b']],
    ['push moves latest', push, { 'sha-b0b0b0b': build, latest: old }, ['latest:c>b']],
    [
      'a re-run changes nothing',
      push,
      { 'sha-b0b0b0b': build, latest: build },
      ['latest:b>b skip']
    ],
    ['first release', release('1.0.0'), { 'sha-b0b0b0b': build }, ['v1.0.0:->b', 'production:->b']],
    [
      'a newer release moves production forward',
      release('1.2.0'),
      { 'sha-b0b0b0b': build, 'v1.1.0': old, production: old },
      ['v1.2.0:->b', 'production:c>b']
    ],
    [
      'a hotfix below production gets its tag, production stays',
      release('1.1.5'),
      { 'sha-b0b0b0b': build, 'v1.2.0': old, production: old },
      ['v1.1.5:->b', 'production:c>c skip']
    ],
    [
      'production on an image without a version tag moves',
      release('1.0.1'),
      { 'sha-b0b0b0b': build, production: old },
      ['v1.0.1:->b', 'production:c>b']
    ],
    [
      'a tag whose version semver cannot order is no version',
      release('1.2.0'),
      { 'sha-b0b0b0b': build, 'v99999999999999999999.0.0': old, production: old },
      ['v1.2.0:->b', 'production:c>b']
    ],
    [
      'production compares against the highest version its image carries',
      release('1.3.0'),
      { 'sha-b0b0b0b': build, 'v1.1.0': old, 'v1.4.0': old, production: old },
      ['v1.3.0:->b', 'production:c>c skip']
    ],
    [
      'the same version again is not backwards',
      release('1.2.0'),
      { 'sha-b0b0b0b': build, 'v1.2.0': build, production: old, 'v1.1.0': old },
      ['v1.2.0:b>b skip', 'production:c>b']
    ],
    [
      'rollback moves production back',
      { event: 'rollback', branch: 'main', to: v('1.0.0') },
      { 'v1.0.0': older, 'v1.1.0': old, production: old },
      ['withdrawn-1.1.0:->c', 'production:c>d']
    ],
    [
      'a rollback to a higher version withdraws nothing',
      { event: 'rollback', branch: 'main', to: v('1.2.0') },
      { 'v1.2.0': build, 'v1.1.0': old, production: old },
      ['production:c>b']
    ],
    [
      'a rollback from an image without a version withdraws nothing',
      { event: 'rollback', branch: 'main', to: v('1.0.0') },
      { 'v1.0.0': older, production: old },
      ['production:c>d']
    ],
    [
      'a rollback from a version already withdrawn marks it once',
      { event: 'rollback', branch: 'main', to: v('1.0.0') },
      { 'v1.0.0': older, 'v1.1.0': old, 'withdrawn-1.1.0': old, production: old },
      ['production:c>d']
    ],
    [
      'a re-run of a withdrawn release leaves production where the rollback put it',
      release('1.2.0'),
      {
        'sha-b0b0b0b': build,
        'v1.2.0': build,
        'withdrawn-1.2.0': build,
        'v1.1.0': old,
        production: old
      },
      ['v1.2.0:b>b skip', 'production:c>c skip']
    ],
    [
      'previous skips a withdrawn version',
      { event: 'rollback', branch: 'main', to: 'previous' },
      {
        'v1.0.0': older,
        'v1.1.0': old,
        'withdrawn-1.1.0': old,
        'v1.2.0': build,
        production: build
      },
      ['withdrawn-1.2.0:->b', 'production:b>d']
    ],
    [
      'rollback to previous picks the highest stable version below production',
      { event: 'rollback', branch: 'main', to: 'previous' },
      { 'v1.0.0': older, 'v1.1.0-rc.1': hotfix, 'v1.1.0': old, 'v1.2.0': build, production: build },
      ['withdrawn-1.2.0:->b', 'production:b>c']
    ],
    [
      'staging follows any promotion',
      { event: 'promote', branch: 'main', environment: 'staging' },
      { 'sha-b0b0b0b': build, staging: old },
      ['staging:c>b']
    ]
  ])('%s', (_name, trigger, registry, expected) => {
    expect(summary(intentFor(trigger), registry)).toEqual(expected)
  })

  it('reports the pointer digest before the run and the resolved version', () => {
    const intent = intentFor({ event: 'rollback', branch: 'main', to: 'previous' })
    const plan = planRepository(
      intent,
      stateFor(intent, { 'v1.0.0': older, 'v1.1.0': old, production: old })
    )
    expect(plan).toMatchObject({ pointer: 'production', version: v('1.0.0'), source: older })
  })

  it('explains why production stays', () => {
    const intent = intentFor(release('1.1.5'))
    const plan = planRepository(
      intent,
      stateFor(intent, { 'sha-b0b0b0b': build, 'v1.2.0': old, production: old })
    )
    expect(plan.steps[1]?.note).toBe(
      'stays on 1.2.0: 1.1.5 is lower, and only a rollback moves it back'
    )
  })
})

describe('highest-only tags', () => {
  const release = (text: string): ActiveTrigger => ({
    event: 'release',
    branch: 'main',
    version: v(text),
    prerelease: false
  })
  const lines = parseConvention(
    `build-tag: 'app-main-{sha7}'\nversion-tag: '{version}'\nrelease: [{ tag: '{major}', kind: highest }, { tag: '{major}.{minor}', kind: highest }]`,
    'lines.yml'
  )

  it.each<[string, ActiveTrigger, Record<string, Manifest>, string[], typeof channels]>([
    [
      'the highest release moves latest and stable',
      release('2.1.0'),
      { 'app-main-b0b0b0b': build, '2.0.0': old, stable: old, latest: old },
      ['2.1.0:->b', 'stable:c>b', 'latest:c>b'],
      channels
    ],
    [
      'a lower release moves neither',
      release('2.0.3'),
      { 'app-main-b0b0b0b': build, '2.1.0': old, stable: old, latest: old },
      ['2.0.3:->b', 'stable:c>c skip', 'latest:c>c skip'],
      channels
    ],
    [
      'a lower release does not create latest either',
      release('2.0.3'),
      { 'app-main-b0b0b0b': build, '2.1.0': old },
      ['2.0.3:->b', 'stable:->b', 'latest:->- skip'],
      channels
    ],
    [
      'prereleases in the registry do not count',
      release('2.1.0'),
      { 'app-main-b0b0b0b': build, '2.2.0-rc.1': old, latest: old },
      ['2.1.0:->b', 'stable:->b', 'latest:c>b'],
      channels
    ],
    [
      'each line ranks on its own',
      release('3.4.9'),
      { 'app-main-b0b0b0b': build, '3.5.0': old, '3': old, '3.4.1': older, '3.4': older },
      ['3:c>c skip', '3.4:d>b'],
      lines
    ]
  ])('%s', (_name, trigger, registry, expected, convention) => {
    expect(summary(intentFor(trigger, convention), registry)).toEqual(expected)
  })

  it('says why latest stays', () => {
    const intent = intentFor(release('2.0.3'), channels)
    const registry = { 'app-main-b0b0b0b': build, '2.1.0': old, latest: old }
    expect(planRepository(intent, stateFor(intent, registry)).steps[2]?.note).toBe(
      '2.1.0 is higher, so it stays'
    )
  })
})

describe('planning refuses before any write', () => {
  it.each<[string, ActiveTrigger, Record<string, Manifest>, TagMutability, RegExp]>([
    [
      'a missing build image',
      { event: 'push', branch: 'feature', defaultBranch: false },
      {},
      mutable,
      /source image 'sha-b0b0b0b' not found in repository app/
    ],
    [
      'a missing rollback version',
      { event: 'rollback', branch: 'main', to: v('0.9.0') },
      { production: old },
      mutable,
      /source image 'v0.9.0' not found/
    ],
    [
      'a version tag that would move',
      { event: 'release', branch: 'main', version: v('1.0.0'), prerelease: false },
      { 'sha-b0b0b0b': build, 'v1.0.0': old },
      mutable,
      /version tag 'v1.0.0' in app already points at sha256:c00000000000, not at the source sha256:b00000000000: a version tag never moves/
    ],
    [
      'an immutable tag that would move',
      { event: 'push', branch: 'main', defaultBranch: true },
      { 'sha-b0b0b0b': build, latest: old },
      { mode: 'IMMUTABLE', exclusions: [] },
      /tag 'latest' in app is immutable \(imageTagMutability IMMUTABLE\).*IMMUTABLE_WITH_EXCLUSION with an exclusion filter matching 'latest'/
    ]
  ])('%s', (_name, trigger, registry, mutability, message) => {
    const intent = intentFor(trigger)
    expect(() => planRepository(intent, stateFor(intent, registry, mutability))).toThrow(message)
  })

  it('names every problem at once', () => {
    const intent = intentFor({
      event: 'release',
      branch: 'main',
      version: v('1.0.0'),
      prerelease: false
    })
    const state = stateFor(
      intent,
      { 'sha-b0b0b0b': build, 'v1.0.0': old, production: old },
      { mode: 'IMMUTABLE', exclusions: [] }
    )
    const error = thrownBy(() => planRepository(intent, state))
    expect(error).toBeInstanceOf(AggregateError)
    expect(
      (error as AggregateError).errors.map((each: Error) => each.message.split(':')[0])
    ).toEqual([
      "version tag 'v1.0.0' in app already points at sha256",
      "tag 'v1.0.0' in app is immutable (imageTagMutability IMMUTABLE) and already points at sha256",
      "tag 'production' in app is immutable (imageTagMutability IMMUTABLE) and already points at sha256"
    ])
  })

  it.each<[string, Record<string, Manifest>, RegExp]>([
    ['no production tag', { 'v1.0.0': old }, /it has no 'production' tag/],
    [
      'production without a version',
      { production: old },
      /'production' \(sha256:c00000000000\) carries no version tag/
    ],
    [
      'nothing below production',
      { 'v1.0.0': old, production: old },
      /no stable version below 1.0.0/
    ]
  ])('rollback to previous with %s', (_name, registry, message) => {
    const intent = intentFor({ event: 'rollback', branch: 'main', to: 'previous' })
    expect(() => stateFor(intent, registry)).toThrow(message)
  })
})

describe('withdrawn versions', () => {
  const withdrawn12 = {
    'v1.2.0': build,
    'withdrawn-1.2.0': build,
    'sha-b0b0b0b': build,
    'v1.1.0': old,
    production: old,
    staging: old
  }
  const promote = (environment: string): ActiveTrigger => ({
    event: 'promote',
    branch: 'main',
    environment,
    version: v('1.2.0')
  })
  const rollback: ActiveTrigger = { event: 'rollback', branch: 'main', to: v('1.2.0') }

  it.each<[string, ActiveTrigger]>([
    ['a rollback that names it', rollback],
    ['a promotion to production that names it', promote('production')],
    ['a promotion to staging that names it (its mark read without a listing)', promote('staging')]
  ])('%s needs allow-withdrawn', (_name, trigger) => {
    const intent = intentFor(trigger)
    expect(() => planRepository(intent, stateFor(intent, withdrawn12))).toThrow(
      /to 1\.2\.0: it was withdrawn by a rollback \(tag withdrawn-1\.2\.0\); set allow-withdrawn: true/
    )
  })

  it.each<[string, ActiveTrigger, string]>([
    ['a rollback', rollback, 'production'],
    ['a promotion', promote('staging'), 'staging'],
    [
      'a release re-run',
      { event: 'release', branch: 'main', version: v('1.2.0'), prerelease: false },
      'production'
    ]
  ])('with allow-withdrawn, %s moves to it and says so', (_name, trigger, pointer) => {
    const intent = { ...intentFor(trigger), allowWithdrawn: true }
    const step = planRepository(intent, stateFor(intent, withdrawn12)).steps.find(
      ({ tag }) => tag === pointer
    )
    expect(step).toMatchObject({ write: true, to: build })
    expect(step?.note).toBe(
      '1.2.0 is withdrawn (withdrawn-1.2.0); moved because allow-withdrawn is true'
    )
  })

  it('a release re-run says why production stays', () => {
    const intent = intentFor({
      event: 'release',
      branch: 'main',
      version: v('1.2.0'),
      prerelease: false
    })
    const step = planRepository(intent, stateFor(intent, withdrawn12)).steps.find(
      ({ tag }) => tag === 'production'
    )
    expect(step?.note).toBe(
      'stays: 1.2.0 was withdrawn by a rollback (withdrawn-1.2.0), and a release re-run does not move a pointer to it; set allow-withdrawn: true to move it on purpose'
    )
  })

  it('a withdrawn higher version does not hold latest back', () => {
    const intent = intentFor(
      { event: 'release', branch: 'main', version: v('1.1.1'), prerelease: false },
      channels
    )
    const registry = {
      'app-main-b0b0b0b': build,
      '1.2.0': old,
      'withdrawn-1.2.0': old,
      latest: old,
      '1.1.0': older,
      stable: older
    }
    expect(summary(intent, registry)).toEqual(['1.1.1:->b', 'stable:d>b', 'latest:c>b'])
  })

  it.each<[string, Record<string, Record<string, Manifest>>, ActiveTrigger, string[]]>([
    [
      'the version each pointer leaves, once for the run',
      {
        api: { 'v1.1.0': old, 'v1.2.0': build, production: build },
        worker: { 'v1.1.0': old, 'v1.2.0': build, production: build }
      },
      { event: 'rollback', branch: 'main', to: v('1.1.0') },
      ['1.2.0']
    ],
    [
      'nothing where the pointer is already on the target',
      { api: { 'v1.1.0': old, production: old } },
      { event: 'rollback', branch: 'main', to: v('1.1.0') },
      []
    ],
    [
      'nothing for a rollback to a higher version',
      { api: { 'v1.1.0': old, 'v1.2.0': build, production: old } },
      { event: 'rollback', branch: 'main', to: v('1.2.0') },
      []
    ],
    [
      'nothing for a release',
      { api: { 'v1.1.0': old, production: old, 'sha-b0b0b0b': build } },
      { event: 'release', branch: 'main', version: v('1.2.0'), prerelease: false },
      []
    ]
  ])('versionsLeft: %s', (_name, registries, trigger, expected) => {
    const intents = Object.keys(registries).map((repository) => ({
      ...intentFor(trigger),
      repository
    }))
    const tagsOf = (intent: Intent) =>
      new Map(
        Object.entries(registries[intent.repository] ?? {}).map(([tag, m]) => [tag, m.digest])
      )
    const target = (intent: Intent) => tagsOf(intent).get(`v${intent.version?.text}`)
    expect(versionsLeft(intents, tagsOf, target).map(({ text }) => text)).toEqual(expected)
  })

  it('a version withdrawn in another repository of the run holds this one too', () => {
    const intent = intentFor({
      event: 'release',
      branch: 'main',
      version: v('1.2.0'),
      prerelease: false
    })
    const state = {
      ...stateFor(intent, {
        'sha-b0b0b0b': build,
        'v1.2.0': build,
        'v1.1.0': old,
        production: old
      }),
      withdrawnInRun: new Set(['1.2.0'])
    }
    expect(
      planRepository(intent, state).steps.find(({ tag }) => tag === 'production')
    ).toMatchObject({
      write: false,
      note: expect.stringContaining('1.2.0 was withdrawn by a rollback')
    })
  })

  it('a re-run of a rollback to previous stays where the first run put the pointer', () => {
    const intent = intentFor({ event: 'rollback', branch: 'main', to: 'previous' })
    expect(
      summary(intent, {
        'v1.0.0': older,
        'v1.1.0': old,
        'v1.2.0': build,
        'withdrawn-1.2.0': build,
        production: old
      })
    ).toEqual(['production:c>c skip'])
  })

  it('previous fails when every lower version is withdrawn', () => {
    const intent = intentFor({ event: 'rollback', branch: 'main', to: 'previous' })
    expect(() =>
      stateFor(intent, {
        'v1.1.0': old,
        'withdrawn-1.1.0': old,
        'v1.2.0': build,
        production: build
      })
    ).toThrow('no stable version below 1.2.0 that is not withdrawn')
  })

  it("reads the mark of the run's version only where no listing shows it", () => {
    expect(markTags(intentFor(promote('staging')))).toEqual(['withdrawn-1.2.0'])
    expect(markTags(intentFor(promote('production')))).toEqual([])
    expect(markTags(intentFor(rollback))).toEqual([])
  })
})

describe('tag immutability', () => {
  it.each<[string, TagMutability, boolean]>([
    ['production', { mode: 'MUTABLE', exclusions: [] }, false],
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
  const promoteProduction: ActiveTrigger = {
    event: 'promote',
    branch: 'main',
    environment: 'production'
  }
  const release = (text: string): ActiveTrigger => ({
    event: 'release',
    branch: 'main',
    version: v(text),
    prerelease: false
  })
  /** The state with push times, given as days of January 2026 per image. */
  const withPushTimes = (
    intent: Intent,
    registry: Record<string, Manifest>,
    days: [Manifest, number][]
  ): RepositoryState => ({
    ...stateFor(intent, registry),
    details: new Map(
      days.map(([image, day]) => [
        image.digest,
        { tags: [], pushedAt: new Date(Date.UTC(2026, 0, day)) }
      ])
    )
  })

  it.each<[string, ActiveTrigger, Record<string, Manifest>, [Manifest, number][], string]>([
    [
      'a release whose pointer carries no version and was pushed later is held',
      release('1.2.0'),
      { 'sha-b0b0b0b': build, production: old },
      [
        [build, 1],
        [old, 2]
      ],
      'production:c>c skip'
    ],
    [
      'a release over an unversioned pointer pushed earlier moves it',
      release('1.2.0'),
      { 'sha-b0b0b0b': build, production: old },
      [
        [build, 3],
        [old, 2]
      ],
      'production:c>b'
    ],
    [
      'a plain pointer such as staging moves whatever the push times',
      { event: 'promote', branch: 'main', environment: 'staging' },
      { 'sha-b0b0b0b': build, staging: old },
      [
        [build, 1],
        [old, 2]
      ],
      'staging:c>b'
    ]
  ])('%s', (_name, trigger, registry, days, expected) => {
    const intent = intentFor(trigger)
    const plan = planRepository(intent, withPushTimes(intent, registry, days))
    const step = plan.steps.find(({ kind }) => kind === 'forward' || kind === 'plain')
    expect(
      `${step?.tag}:${step?.from?.digest[7]}>${step?.to?.digest[7]}${step?.write ? '' : ' skip'}`
    ).toBe(expected)
  })

  it('names the push times in the note', () => {
    const intent = intentFor(release('1.2.0'))
    const plan = planRepository(
      intent,
      withPushTimes(intent, { 'sha-b0b0b0b': build, production: old }, [
        [build, 1],
        [old, 2]
      ])
    )
    expect(plan.steps[1]?.note).toBe(
      'stays on the image pushed 2026-01-02T00:00:00.000Z: this image was pushed earlier (2026-01-01T00:00:00.000Z), and only a rollback moves it back'
    )
  })

  it.each<[string, Record<string, Manifest>, [Manifest, number][], string]>([
    [
      'a lower version',
      { 'sha-b0b0b0b': build, 'v1.0.0': build, 'v1.1.0': old, production: old },
      [],
      'cannot promote app:production: it stays on 1.1.0: 1.0.0 is lower, and only a rollback moves it back; to move it back, run event: rollback'
    ],
    [
      'an older unversioned build',
      { 'sha-b0b0b0b': build, 'v1.1.0': old, production: old },
      [
        [build, 1],
        [old, 2]
      ],
      'cannot promote app:production: it stays on 1.1.0 pushed 2026-01-02T00:00:00.000Z: this image was pushed earlier (2026-01-01T00:00:00.000Z), and only a rollback moves it back; to move it back, run event: rollback'
    ]
  ])('refuses to promote production backwards to %s', (_name, registry, days, message) => {
    const intent = intentFor(promoteProduction)
    expect(thrownBy(() => planRepository(intent, withPushTimes(intent, registry, days)))).toEqual(
      new AggregateError([], message)
    )
  })

  it.each<[string, ActiveTrigger, Record<string, Manifest>, string[]]>([
    ['both carry versions', release('1.2.0'), { 'v1.1.0': old, production: old }, []],
    ['the pointer carries none', release('1.2.0'), { production: old }, ['b', 'c']],
    ['the build carries none', promoteProduction, { 'v1.1.0': old, production: old }, ['b', 'c']],
    ['the pointer is already on the build', release('1.2.0'), { production: build }, []],
    [
      'plain tags never need them',
      { event: 'push', branch: 'main', defaultBranch: true },
      { latest: old },
      []
    ]
  ])('reads push times only where needed: %s', (_name, trigger, registry, expected) => {
    const intent = intentFor(trigger)
    const state = stateFor(intent, { 'sha-b0b0b0b': build, ...registry })
    expect(pushTimesNeeded(intent, state).map((digest) => digest[7])).toEqual(expected)
  })
})

describe('rollback to previous across repositories', () => {
  const rollback = intentFor({ event: 'rollback', branch: 'main', to: 'previous' })
  const intentIn = (repository: string): Intent => ({ ...rollback, repository })
  const tagsOf = (registries: Record<string, Record<string, Manifest>>) => (intent: Intent) =>
    new Map(Object.entries(registries[intent.repository] ?? {}).map(([tag, m]) => [tag, m.digest]))

  it('resolves one version below the highest any pointer carries, for every repository', () => {
    // A half-finished release: api reached 1.2.0, worker still carries 1.1.0.
    const sources = resolveSources(
      [intentIn('api'), intentIn('worker')],
      tagsOf({
        api: { 'v1.0.0': older, 'v1.1.0': old, 'v1.2.0': build, production: build },
        worker: { 'v1.0.0': older, 'v1.1.0': old, 'v1.2.0': build, production: old }
      })
    )
    expect(sources.map(({ ref, version }) => `${describeRef(ref)} ${version?.text}`)).toEqual([
      'v1.1.0 1.1.0',
      'v1.1.0 1.1.0'
    ])
  })

  it.each<[string, Record<string, Record<string, Manifest>>, string]>([
    [
      'the version is missing in one repository',
      {
        api: { 'v1.1.0': old, 'v1.2.0': build, production: build },
        worker: { 'v1.2.0': build, production: build }
      },
      'cannot roll back to previous: the previous version 1.1.0 (below 1.2.0) is missing or withdrawn in worker; set version to a version every repository has'
    ],
    [
      'no pointer carries a version',
      { api: { production: build }, worker: { 'v1.0.0': old } },
      "cannot roll back api to previous: 'production' (sha256:b00000000000) carries no version tag; set version to the version to roll back to\ncannot roll back worker to previous: it has no 'production' tag; set version to the version to roll back to"
    ],
    [
      'nothing below the top',
      { api: { 'v1.0.0': build, production: build }, worker: { 'v1.0.0-rc.1': old } },
      'cannot roll back api, worker to previous: no stable version below 1.0.0 that is not withdrawn'
    ]
  ])('refuses when %s', (_name, registries, message) => {
    expect(
      thrownBy(() => resolveSources([intentIn('api'), intentIn('worker')], tagsOf(registries)))
    ).toHaveProperty('message', message)
  })
})

describe('a build tag with run variables is found by its other parts', () => {
  const dated = parseConvention(
    "build-tag: 'build-{date}-{sha:10}'\nversion-tag: v{version}\npush: [main]\nrelease: [{ tag: 'v{version}', kind: version }, { tag: production, kind: forward }]",
    'dated.yml'
  )
  const release = intentFor(
    { event: 'release', branch: 'main', version: v('1.1.0'), prerelease: false },
    dated
  )
  const push = intentFor({ event: 'push', branch: 'main', defaultBranch: true }, dated)
  const resolved = (intent: Intent, registry: Record<string, Manifest>) => {
    const tags = new Map(Object.entries(registry).map(([tag, m]) => [tag, m.digest]))
    const [{ ref, unmatched }] = resolveSources([intent], () => tags) as [RepositoryState['source']]
    return `${describeRef(ref)}${unmatched ? ' (unmatched)' : ''}`
  }

  it('lists every tag to find it, whatever the event', () => {
    expect(release.source).toEqual({
      buildTagMatching: 'build-*-b0b0b0b0b0',
      buildTag: 'build-{date}-{sha:10}'
    })
    expect([release, push].map(needsAllTags)).toEqual([true, true])
  })

  it.each<[string, Record<string, Manifest>, string]>([
    [
      'one build, among other commits',
      { 'build-20260101-b0b0b0b0b0': build, 'build-20260102-c0c0c0c0c0': old, production: old },
      build.digest
    ],
    [
      'one image pushed on two days',
      { 'build-20260101-b0b0b0b0b0': build, 'build-20260102-b0b0b0b0b0': build },
      build.digest
    ],
    [
      'none of this commit',
      { 'build-20260101-c0c0c0c0c0': old, b0b0b0b0b0: old },
      'build-*-b0b0b0b0b0 (unmatched)'
    ],
    ['an empty repository', {}, 'build-*-b0b0b0b0b0 (unmatched)']
  ])('resolves %s', (_name, registry, expected) => {
    expect(resolved(release, registry)).toBe(expected)
  })

  it('refuses builds of the commit on different images, naming the tags and the variable', () => {
    const registry = { 'build-20260102-b0b0b0b0b0': old, 'build-20260101-b0b0b0b0b0': build }
    expect(thrownBy(() => resolved(push, registry))).toHaveProperty(
      'message',
      "cannot tell which build app starts from: build-20260101-b0b0b0b0b0 (sha256:b00000000000), build-20260102-b0b0b0b0b0 (sha256:c00000000000) match the build tag build-{date}-{sha:10} on different images, and its {date} cannot be known after the build's own run; set source to the tag of the image meant"
    )
  })

  it('plans from the build found, and says what it looked for when there is none', () => {
    expect(summary(release, { 'build-20251231-b0b0b0b0b0': build, production: old })).toEqual([
      'v1.1.0:->b',
      'production:c>b'
    ])
    expect(thrownBy(() => summary(release, { production: old }))).toHaveProperty(
      'message',
      "source image 'build-*-b0b0b0b0b0' not found in repository app: it is the build tag build-{date}-{sha:10} of commit b0b0b0b0b0 (sha from GITHUB_SHA), whatever its {date}; if the build pushes it later, set wait-for-source (such as 10m) or run this step after the build"
    )
  })
})

describe('after writing: checkPointers and undoTarget', () => {
  const releaseOf = (text: string): ActiveTrigger => ({
    event: 'release',
    branch: 'main',
    version: v(text),
    prerelease: false
  })
  const tagsOf = (registry: Record<string, Manifest>) =>
    new Map(Object.entries(registry).map(([tag, image]) => [tag, image.digest]))
  /** This run releases 1.2.0 from `build`; before it started the registry held `first`. */
  const first = { 'v1.0.0': older, 'v1.1.0': old, production: old, 'sha-b0b0b0b': build }
  const planned = (trigger: ActiveTrigger) => {
    const intent = intentFor(trigger)
    return { intent, plan: planRepository(intent, stateFor(intent, first)) }
  }

  it.each<
    [string, ActiveTrigger, Record<string, Manifest>, string | undefined, RegExp | undefined]
  >([
    [
      'the pointer stayed on this run',
      releaseOf('1.2.0'),
      { production: build },
      undefined,
      undefined
    ],
    [
      'a lower release made meanwhile took it: written again',
      releaseOf('1.2.0'),
      { 'v1.1.5': hotfix, production: hotfix },
      build.digest,
      /^1\.1\.5, released by another run meanwhile, took it after this run wrote it; 1\.2\.0 is higher/
    ],
    [
      'a higher release made meanwhile took it: left alone',
      releaseOf('1.1.5'),
      { 'v1.2.0': hotfix, production: hotfix },
      undefined,
      /^another run released 1\.2\.0 meanwhile and moved it there$/
    ],
    [
      'a rollback to a version that existed before: left alone',
      releaseOf('1.2.0'),
      { production: older },
      undefined,
      /^another writer has since moved it to 1\.0\.0; left alone$/
    ],
    [
      'a release hands the pointer on to a higher release made meanwhile',
      releaseOf('1.1.5'),
      { 'v1.2.0': hotfix, production: build },
      hotfix.digest,
      /^handed on to 1\.2\.0, which another run released meanwhile$/
    ],
    [
      'a promotion keeps the pointer on its own image whatever was released meanwhile',
      { event: 'promote', branch: 'main', environment: 'production', version: v('1.2.0') },
      { 'v1.3.0': hotfix, production: build },
      undefined,
      undefined
    ],
    [
      'a prerelease made meanwhile does not count',
      releaseOf('1.1.5'),
      { 'v1.3.0-rc.1': hotfix, production: build },
      undefined,
      undefined
    ]
  ])('%s', (_name, trigger, meanwhile, moveTo, note) => {
    const { intent, plan } = planned(trigger)
    const [check] = checkPointers(intent, plan, tagsOf(first), tagsOf({ ...first, ...meanwhile }), [
      'production'
    ])
    expect(check?.moveTo).toBe(moveTo)
    if (note) expect(check?.note).toMatch(note)
    else expect(check?.note).toBeUndefined()
  })

  it.each<[string, Record<string, Manifest>, Manifest | undefined, string | null]>([
    ['back where it was when nothing was released meanwhile', {}, old, old.digest],
    [
      'onto a release made meanwhile that ranks above where it was',
      { 'v1.1.5': hotfix },
      old,
      hotfix.digest
    ],
    ['not onto one below where it was', { 'v1.0.5': hotfix }, old, old.digest],
    [
      'onto a release made meanwhile rather than removing it',
      { 'v1.1.5': hotfix },
      undefined,
      hotfix.digest
    ],
    ['removed when it did not exist and nothing was released', {}, undefined, null]
  ])('undoTarget puts production %s', (_name, meanwhile, before, expected) => {
    const { intent, plan } = planned(releaseOf('1.2.0'))
    const step = plan.steps.find(({ tag }) => tag === 'production') as Step
    expect(
      undoTarget(
        intent,
        plan,
        step,
        before,
        tagsOf(first),
        tagsOf({ ...first, ...meanwhile, 'v1.2.0': build })
      )
    ).toBe(expected)
  })

  it('undoTarget puts a version tag back as it was, whatever was released', () => {
    const { intent, plan } = planned(releaseOf('1.2.0'))
    const step = plan.steps.find(({ tag }) => tag === 'v1.2.0') as Step
    expect(
      undoTarget(
        intent,
        plan,
        step,
        undefined,
        tagsOf(first),
        tagsOf({ ...first, 'v1.3.0': hotfix })
      )
    ).toBeNull()
  })
})

describe('the tested-image rule (require-tested)', () => {
  const tested = (trigger: ActiveTrigger, convention = environments): Intent =>
    derive(convention, trigger, { ...run, requireTested: true })
  /** The state as readStates builds it: the tags a rule names without `*` are read as proofs. */
  const testedState = (intent: Intent, registry: Record<string, Manifest>): RepositoryState => {
    const proofs = new Map(
      (intent.tested ?? []).flatMap(({ pattern }) =>
        registry[pattern] ? [[pattern, registry[pattern].digest] as const] : []
      )
    )
    return { ...stateFor(intent, registry), proofs }
  }
  const rc = (version: string): ActiveTrigger => ({
    event: 'release',
    branch: 'main',
    version: v(version),
    prerelease: false
  })

  it.each<[string, Intent, Record<string, Manifest>, { pointer: string; by: string }[]]>([
    [
      'environments: a release moves production to the image staging points at',
      tested(rc('1.1.0')),
      { 'sha-b0b0b0b': build, staging: build, production: old, 'v1.0.0': old },
      [{ pointer: 'production', by: 'staging' }]
    ],
    [
      'environments: a promotion to production, likewise',
      tested({ event: 'promote', branch: 'main', environment: 'production', version: v('1.1.0') }),
      { 'sha-b0b0b0b': build, staging: build, production: old },
      [{ pointer: 'production', by: 'staging' }]
    ],
    [
      'channels: stable moves to an image carrying an rc tag of the same version',
      tested(rc('2.1.0'), channels),
      { 'app-main-b0b0b0b': build, '2.1.0-rc.41': build, '2.1.0-rc.7': build, stable: old },
      [{ pointer: 'stable', by: '2.1.0-rc.41' }]
    ],
    [
      'a pointer already on the image is not a move, so nothing needs proving',
      tested(rc('1.1.0')),
      { 'sha-b0b0b0b': build, production: build },
      []
    ]
  ])('%s', (_name, intent, registry, proven) => {
    expect(planRepository(intent, testedState(intent, registry)).tested ?? []).toEqual(proven)
  })

  it.each<[string, Intent, Record<string, Manifest>, string]>([
    [
      'environments: staging is on another image',
      tested(rc('1.1.0')),
      { 'sha-b0b0b0b': build, staging: old, production: old },
      `cannot move app:production to sha256:b00000000000: require-tested is on, and production takes only the image that staging points at, which is sha256:c00000000000: move staging to this image first and test it there`
    ],
    [
      'environments: there is no staging tag',
      tested({ event: 'promote', branch: 'main', environment: 'production', version: v('1.1.0') }),
      { 'sha-b0b0b0b': build },
      'which is none (there is no such tag)'
    ],
    [
      'channels: the rc tag is of another version',
      tested(rc('2.1.0'), channels),
      { 'app-main-b0b0b0b': build, '2.0.0-rc.3': build, stable: old },
      "stable takes only an image carrying a tag matching '2.1.0-rc.*'; this image carries 2.0.0-rc.3, app-main-b0b0b0b"
    ]
  ])('leaves the gates a refusal when %s', (_name, intent, registry, message) => {
    const [proof] = planRepository(intent, testedState(intent, registry)).tested ?? []
    expect(proof).toEqual({
      pointer: intent.tested?.[0]?.pointer,
      refused: expect.stringContaining(message)
    })
  })

  it('reads every tag for a rule with *, and the named tag for one without', () => {
    const channelsRelease = tested(rc('2.1.0'), channels)
    expect(channelsRelease.tested).toEqual([{ pointer: 'stable', pattern: '2.1.0-rc.*' }])
    expect(needsAllTags(channelsRelease)).toBe(true)
    expect(proofTags(tested(rc('1.1.0')))).toEqual(['staging'])
  })

  it('applies only with require-tested, and never to a rollback', () => {
    expect(intentFor(rc('1.1.0')).tested).toBe(undefined)
    expect(tested({ event: 'rollback', branch: 'main', to: v('1.0.0') }).tested).toBe(undefined)
  })
})
