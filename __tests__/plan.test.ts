import { BUILT_IN_CONVENTIONS, parseConvention } from '../src/conventions.js'
import { derive, type Intent } from '../src/derive.js'
import {
  isImmutable,
  needsAllTags,
  planRepository,
  resolveSource,
  type Manifest,
  type RepositoryState,
  type TagMutability
} from '../src/plan.js'
import type { Trigger } from '../src/trigger.js'
import { requireVersion } from '../src/version.js'
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
const run = { repository: 'app', sha: 'b0b0b0b0b0', service: 'app', source: '', date: new Date(0) }
const intentFor = (trigger: Trigger, convention = environments): Intent =>
  derive(convention, trigger, run)

/** A registry given as tag → manifest; the state is what readState would return for the intent. */
function stateFor(
  intent: Intent,
  registry: Record<string, Manifest>,
  mutability = mutable
): RepositoryState {
  const tags = new Map(Object.entries(registry).map(([tag, m]) => [tag, m.digest]))
  const source = resolveSource(intent, tags)
  const sourceManifest = 'tag' in source.ref ? registry[source.ref.tag] : undefined
  return {
    repository: intent.repository,
    uri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app',
    mutability,
    source,
    ...(sourceManifest && { sourceManifest }),
    current: new Map(
      intent.targets.flatMap(({ tag }) => (registry[tag] ? [[tag, registry[tag]] as const] : []))
    ),
    ...(needsAllTags(intent) && { tags })
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
  const push: Trigger = { event: 'push', branch: 'main', defaultBranch: true }
  const release = (text: string): Trigger => ({
    event: 'release',
    branch: 'main',
    version: v(text),
    prerelease: false
  })

  it.each<[string, Trigger, Record<string, Manifest>, string[]]>([
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
      ['production:c>d']
    ],
    [
      'rollback to previous picks the highest stable version below production',
      { event: 'rollback', branch: 'main', to: 'previous' },
      { 'v1.0.0': older, 'v1.1.0-rc.1': hotfix, 'v1.1.0': old, 'v1.2.0': build, production: build },
      ['production:b>c']
    ],
    [
      'promotion of a build whose version is lower is held back',
      { event: 'promote', branch: 'main', environment: 'production' },
      { 'sha-b0b0b0b': build, 'v1.0.0': build, 'v1.1.0': old, production: old },
      ['production:c>c skip']
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
    expect(plan).toMatchObject({ previousDigest: old.digest, version: v('1.0.0'), source: older })
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
  const release = (text: string): Trigger => ({
    event: 'release',
    branch: 'main',
    version: v(text),
    prerelease: false
  })
  const lines = parseConvention(
    `build-tag: 'app-main-{sha7}'\nversion-tag: '{version}'\nrelease: [{ tag: '{major}', kind: highest }, { tag: '{major}.{minor}', kind: highest }]`,
    'lines.yml'
  )

  it.each<[string, Trigger, Record<string, Manifest>, string[], typeof channels]>([
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
  it.each<[string, Trigger, Record<string, Manifest>, TagMutability, RegExp]>([
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
