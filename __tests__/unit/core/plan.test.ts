import { parseConvention } from '../../../src/core/convention-file.js'
import type { ActiveTrigger, Intent } from '../../../src/core/derive.js'
import { describeRef, type TagMutability } from '../../../src/core/model.js'
import {
  checkPointers,
  isImmutable,
  describedPointer,
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
  withSourceTag,
  type RepositoryPlan,
  type RepositoryState,
  type Step
} from '../../../src/core/plan.js'
import {
  channels,
  environments,
  hold,
  intentFor,
  listing,
  manifest,
  manifests,
  promote,
  push,
  release,
  rollback,
  rows,
  tagged,
  triggerOf,
  v
} from '../../support/builders.js'
import { thrownBy } from '../../support/harness.js'
import { ACTION_MESSAGES } from '../../../src/action/messages.js'

/** The registry holds images b (the build), c (old), d (older) and e (a hotfix), written by letter. */
const [build, old, older] = manifests('b', 'c', 'd')
const mutable: TagMutability = { mode: 'MUTABLE', exclusions: [] }
const immutable: TagMutability = { mode: 'IMMUTABLE', exclusions: [] }

/** What readStates would return for the intent over a registry written `tag=image …`. */
function stateFor(intent: Intent, text: string, mutability = mutable): RepositoryState {
  const registry = tagged(text)
  const tags = listing(text)
  const [source] = resolveSources([intent], () => tags) as [RepositoryState['source']]
  const target = 'digest' in source.ref ? source.ref.digest : tags.get(source.ref.tag)
  // As readStates does: every tag where versions decide, or those on the two images described.
  const pointer = describedPointer(intent)
  const known = needsAllTags(intent)
    ? tags
    : pointer === undefined
      ? undefined
      : new Map([...tags].filter(([, digest]) => [target, tags.get(pointer)].includes(digest)))
  // As readStates does: the versions the rollback withdraws, each marked on its version's image.
  const left = versionsLeft(
    [intent],
    () => known,
    () => target
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
    ...(known && { tags: known }),
    ...(withdrawing.size > 0 && { withdrawing }),
    ...(marks.length > 0 && { withdrawnInRun: withdrawnVersions(marks, intent.withdrawnTag) })
  }
}

const planOf = (intent: Intent, text: string, mutability?: TagMutability) =>
  planRepository(intent, stateFor(intent, text, mutability), ACTION_MESSAGES)

/** The steps, one word each: `production:c>b` moves production from c to b; ` skip` leaves it. */
const steps = ({ steps }: RepositoryPlan) =>
  steps
    .map(
      (step) =>
        `${step.tag}:${step.from?.digest[7] ?? '-'}>${step.to?.digest[7] ?? '-'}${step.write ? '' : ' skip'}`
    )
    .join(' ')
const summary = (intent: Intent, text: string, mutability?: TagMutability) =>
  steps(planOf(intent, text, mutability))

describe('planning', () => {
  it.each(
    rows(
      'push creates latest | push | sha-a1b2c3d=b | latest:->b',
      'push moves latest | push | sha-a1b2c3d=b latest=c | latest:c>b',
      'a re-run changes nothing | push | sha-a1b2c3d=b latest=b | latest:b>b skip',
      'first release | release 1.0.0 | sha-a1b2c3d=b | v1.0.0:->b production:->b',
      'a newer release moves production forward | release 1.2.0 | sha-a1b2c3d=b v1.1.0=c production=c | v1.2.0:->b production:c>b',
      'a hotfix below production gets its tag, production stays | release 1.1.5 | sha-a1b2c3d=b v1.2.0=c production=c | v1.1.5:->b production:c>c skip',
      'production on an image without a version tag moves | release 1.0.1 | sha-a1b2c3d=b production=c | v1.0.1:->b production:c>b',
      'a tag whose version semver cannot order is no version | release 1.2.0 | sha-a1b2c3d=b v99999999999999999999.0.0=c production=c | v1.2.0:->b production:c>b',
      'production compares against the highest version its image carries | release 1.3.0 | sha-a1b2c3d=b v1.1.0=c v1.4.0=c production=c | v1.3.0:->b production:c>c skip',
      'the same version again is not backwards | release 1.2.0 | sha-a1b2c3d=b v1.2.0=b production=c v1.1.0=c | v1.2.0:b>b skip production:c>b',
      'rollback moves production back | rollback 1.0.0 | v1.0.0=d v1.1.0=c production=c | withdrawn-1.1.0:->c production:c>d',
      'a rollback to a higher version withdraws nothing | rollback 1.2.0 | v1.2.0=b v1.1.0=c production=c | production:c>b',
      'a rollback from an image without a version withdraws nothing | rollback 1.0.0 | v1.0.0=d production=c | production:c>d',
      'a rollback from a version already withdrawn marks it once | rollback 1.0.0 | v1.0.0=d v1.1.0=c withdrawn-1.1.0=c production=c | production:c>d',
      'a re-run of a withdrawn release leaves production where the rollback put it | release 1.2.0 | sha-a1b2c3d=b v1.2.0=b withdrawn-1.2.0=b v1.1.0=c production=c | v1.2.0:b>b skip production:c>c skip',
      'previous skips a withdrawn version | rollback previous | v1.0.0=d v1.1.0=c withdrawn-1.1.0=c v1.2.0=b production=b | withdrawn-1.2.0:->b production:b>d',
      'rollback to previous picks the highest stable version below production | rollback previous | v1.0.0=d v1.1.0-rc.1=e v1.1.0=c v1.2.0=b production=b | withdrawn-1.2.0:->b production:b>c',
      'staging follows any promotion | promote staging | sha-a1b2c3d=b staging=c | staging:c>b'
    )
  )('%s', (_name, trigger, registry, expected) => {
    expect(summary(intentFor(triggerOf(trigger)), registry)).toBe(expected)
  })

  it('reports the pointer digest before the run and the resolved version', () => {
    const plan = planOf(intentFor(rollback('previous')), 'v1.0.0=d v1.1.0=c production=c')
    expect(plan).toMatchObject({ pointer: 'production', version: v('1.0.0'), source: older })
    expect(plan).not.toHaveProperty('stays')
  })

  it.each(
    rows(
      'production stays | release 1.1.5 | sha-a1b2c3d=b v1.2.0=c production=c | stays on 1.2.0: 1.1.5 is lower, and only a rollback moves it back',
      'latest stays | release 2.0.3 | app-main-a1b2c3d=b 2.1.0=c latest=c | 2.1.0 is higher, so it stays',
      'a release re-run leaves production off a withdrawn version | release 1.2.0 | v1.2.0=b withdrawn-1.2.0=b sha-a1b2c3d=b v1.1.0=c production=c | stays: 1.2.0 was withdrawn by a rollback (withdrawn-1.2.0), and a release re-run does not move a pointer to it; set allow-withdrawn: true to move it on purpose'
    )
  )('explains why %s', (_name, trigger, registry, note) => {
    const convention = registry.startsWith('app-') ? channels : environments
    const { steps } = planOf(intentFor(triggerOf(trigger), { convention }), registry)
    expect(steps.find(({ write, kind }) => !write && kind !== 'version')?.note).toBe(note)
  })
})

describe('with a target registry', () => {
  /** The source registry holds the build (b) and version 1.0.0 (d); the rows give the target's tags. */
  const inSource = tagged('sha-a1b2c3d=b v1.0.0=d')

  it.each(
    rows(
      'a release writes the build tag in the target too | release 1.0.0 |  | sha-a1b2c3d:->b v1.0.0:->b production:->b',
      'a re-run changes nothing | release 1.0.0 | sha-a1b2c3d=b v1.0.0=b production=b | sha-a1b2c3d:b>b skip v1.0.0:b>b skip production:b>b skip',
      'a promotion writes the build tag and the pointer | promote staging | staging=c | sha-a1b2c3d:->b staging:c>b',
      'a push that writes no tag copies nothing | push feature |  | ',
      'a rollback to a version the target has, as in place | rollback 1.0.0 | v1.0.0=d v1.1.0=c production=c | withdrawn-1.1.0:->c v1.0.0:d>d skip production:c>d',
      'a rollback to a version only the source has creates its tag with the pointer | rollback 1.0.0 | v1.1.0=c production=c | withdrawn-1.1.0:->c v1.0.0:->d production:c>d'
    )
  )('%s', (_name, trigger, target, expected) => {
    const intent = withSourceTag(intentFor(triggerOf(trigger)))
    const state = stateFor(intent, target)
    const { ref } = state.source
    const sourceManifest = state.sourceManifest ?? ('tag' in ref ? inSource[ref.tag] : undefined)
    expect(
      steps(
        planRepository(
          intent,
          { ...state, ...(sourceManifest && { sourceManifest }) },
          ACTION_MESSAGES
        )
      )
    ).toBe(expected)
  })
})

describe('highest-only tags', () => {
  const lines = parseConvention(
    `build-tag: 'app-main-{sha7}'\nversion-tag: '{version}'\nrelease: [{ tag: '{major}', kind: highest }, { tag: '{major}.{minor}', kind: highest }]`,
    'lines.yml'
  )

  it.each(
    rows(
      'the highest release moves latest and stable | channels | release 2.1.0 | app-main-a1b2c3d=b 2.0.0=c stable=c latest=c | 2.1.0:->b stable:c>b latest:c>b',
      'a lower release moves neither | channels | release 2.0.3 | app-main-a1b2c3d=b 2.1.0=c stable=c latest=c | 2.0.3:->b stable:c>c skip latest:c>c skip',
      'a lower release does not create latest either | channels | release 2.0.3 | app-main-a1b2c3d=b 2.1.0=c | 2.0.3:->b stable:->b latest:->- skip',
      'prereleases in the registry do not count | channels | release 2.1.0 | app-main-a1b2c3d=b 2.2.0-rc.1=c latest=c | 2.1.0:->b stable:->b latest:c>b',
      'a withdrawn higher version does not hold latest back | channels | release 1.1.1 | app-main-a1b2c3d=b 1.2.0=c withdrawn-1.2.0=c latest=c 1.1.0=d stable=d | 1.1.1:->b stable:d>b latest:c>b',
      'ranks each line on its own | lines | release 3.4.9 | app-main-a1b2c3d=b 3.5.0=c 3=c 3.4.1=d 3.4=d | 3:c>c skip 3.4:d>b'
    )
  )('%s', (_name, convention, trigger, registry, expected) => {
    const conventions = { channels, lines }
    const intent = intentFor(triggerOf(trigger), { convention: conventions[convention as 'lines'] })
    expect(summary(intent, registry)).toBe(expected)
  })
})

describe('planning refuses before any write', () => {
  it.each(
    rows(
      "a missing build image | push feature |  | mutable | source image 'sha-a1b2c3d' not found in repository app",
      "a missing rollback version | rollback 0.9.0 | production=c | mutable | source image 'v0.9.0' not found",
      "a version tag that would move | release 1.0.0 | sha-a1b2c3d=b v1.0.0=c | mutable | version tag 'v1.0.0' in app already points at sha256:cccccccccccc, not at the source sha256:bbbbbbbbbbbb: a version tag never moves",
      "an immutable tag that would move | push | sha-a1b2c3d=b latest=c | immutable | tag 'latest' in app is immutable (imageTagMutability IMMUTABLE) and already points at sha256:cccccccccccc: set imageTagMutability to IMMUTABLE_WITH_EXCLUSION with an exclusion filter matching 'latest'"
    )
  )('%s', (_name, trigger, registry, mode, message) => {
    const mutability = mode === 'immutable' ? immutable : mutable
    expect(() => planOf(intentFor(triggerOf(trigger)), registry, mutability)).toThrow(message)
  })

  it('names every problem at once', () => {
    const error = thrownBy(() =>
      planOf(intentFor(release('1.0.0')), 'sha-a1b2c3d=b v1.0.0=c production=c', immutable)
    )
    expect(error).toBeInstanceOf(AggregateError)
    const messages = (error as AggregateError).errors.map((each: Error) => each.message)
    expect(messages.map((message) => message.split(':')[0])).toEqual([
      "version tag 'v1.0.0' in app already points at sha256",
      "tag 'v1.0.0' in app is immutable (imageTagMutability IMMUTABLE) and already points at sha256",
      "tag 'production' in app is immutable (imageTagMutability IMMUTABLE) and already points at sha256"
    ])
  })
})

describe('withdrawn versions', () => {
  const withdrawn12 = 'v1.2.0=b withdrawn-1.2.0=b sha-a1b2c3d=b v1.1.0=c production=c staging=c'

  it.each(
    rows(
      'a rollback that names it | rollback 1.2.0',
      'a promotion to production that names it | promote production 1.2.0',
      'a promotion to staging that names it (its mark read without a listing) | promote staging 1.2.0'
    )
  )('%s needs allow-withdrawn', (_name, trigger) => {
    expect(() => planOf(intentFor(triggerOf(trigger)), withdrawn12)).toThrow(
      /to 1\.2\.0: it was withdrawn by a rollback \(tag withdrawn-1\.2\.0\); set allow-withdrawn: true/
    )
  })

  it.each(
    rows(
      'a rollback | rollback 1.2.0 | production',
      'a promotion | promote staging 1.2.0 | staging',
      'a release re-run | release 1.2.0 | production'
    )
  )('with allow-withdrawn, %s moves to it and says so', (_name, trigger, pointer) => {
    const intent = { ...intentFor(triggerOf(trigger)), allowWithdrawn: true }
    expect(planOf(intent, withdrawn12).steps.find(({ tag }) => tag === pointer)).toMatchObject({
      write: true,
      to: build,
      note: '1.2.0 is withdrawn (withdrawn-1.2.0); moved because allow-withdrawn is true'
    })
  })

  /** Rows `name | trigger | api's tags | worker's tags, if any | versions left`. */
  it.each(
    rows(
      'the version each pointer leaves, once for the run | rollback 1.1.0 | v1.1.0=c v1.2.0=b production=b | v1.1.0=c v1.2.0=b production=b | 1.2.0',
      'nothing where the pointer is already on the target | rollback 1.1.0 | v1.1.0=c production=c |  | ',
      'nothing for a rollback to a higher version | rollback 1.2.0 | v1.1.0=c v1.2.0=b production=c |  | ',
      'nothing for a release | release 1.2.0 | v1.1.0=c production=c sha-a1b2c3d=b |  | '
    )
  )('versionsLeft: %s', (_name, trigger, api, worker, expected) => {
    const registries: Record<string, string> = { api, ...(worker && { worker }) }
    const intents = Object.keys(registries).map((repository) =>
      intentFor(triggerOf(trigger), { repository })
    )
    const tagsOf = (intent: Intent) => listing(registries[intent.repository] ?? '')
    const target = (intent: Intent) => tagsOf(intent).get(`v${intent.version?.text}`)
    expect(versionsLeft(intents, tagsOf, target).map(({ text }) => text)).toEqual(
      expected ? expected.split(' ') : []
    )
  })

  it('a version withdrawn in another repository of the run holds this one too', () => {
    const intent = intentFor(release('1.2.0'))
    const state = {
      ...stateFor(intent, 'sha-a1b2c3d=b v1.2.0=b v1.1.0=c production=c'),
      withdrawnInRun: new Set(['1.2.0'])
    }
    expect(planRepository(intent, state, ACTION_MESSAGES).steps[1]).toMatchObject({
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

  it("reads the mark of the run's version only where no listing shows it", () => {
    expect(markTags(intentFor(promote('staging', '1.2.0')))).toEqual(['withdrawn-1.2.0'])
    expect(markTags(intentFor(promote('production', '1.2.0')))).toEqual([])
    expect(markTags(intentFor(rollback('1.2.0')))).toEqual(['withdrawn-1.2.0'])
    expect(markTags(intentFor(rollback('previous')))).toEqual([])
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

  const pushedAt =
    'pushed 2026-01-02T00:00:00.000Z: this image was pushed earlier (2026-01-01T00:00:00.000Z), and only a rollback moves it back'
  /** Rows `name | trigger | registry | the build's day of January | steps | the pointer's note`. */
  it.each(
    rows(
      `a release whose pointer carries no version and was pushed later is held | release 1.2.0 | sha-a1b2c3d=b production=c | 1 | v1.2.0:->b production:c>c skip | stays on the image ${pushedAt}`,
      'a release over an unversioned pointer pushed earlier moves it | release 1.2.0 | sha-a1b2c3d=b production=c | 3 | v1.2.0:->b production:c>b | -',
      'a plain pointer such as staging moves whatever the push times | promote staging | sha-a1b2c3d=b staging=c | 1 | staging:c>b | -'
    )
  )('%s', (_name, trigger, registry, buildDay, expected, note) => {
    const intent = intentFor(triggerOf(trigger))
    const plan = planRepository(
      intent,
      withPushTimes(intent, registry, Number(buildDay)),
      ACTION_MESSAGES
    )
    expect(steps(plan)).toBe(expected)
    const pointer = plan.steps.find(({ tag }) => tag === intent.pointer)
    expect(pointer?.note).toBe(note === '-' ? undefined : note)
    // Held on an image without a version, which may be a release whose version tag is on its way.
    expect(pointer?.unranked ?? false).toBe(note !== '-')
  })

  /** Rows `name | registry | the build's day of January, if known | message`. */
  it.each(
    rows(
      'a lower version | sha-a1b2c3d=b v1.0.0=b v1.1.0=c production=c | - | it stays on 1.1.0: 1.0.0 is lower, and only a rollback moves it back',
      `an older unversioned build | sha-a1b2c3d=b v1.1.0=c production=c | 1 | it stays on 1.1.0 ${pushedAt}`
    )
  )('refuses to promote production backwards to %s', (_name, registry, buildDay, message) => {
    const intent = intentFor(promote('production'))
    const day = buildDay === '-' ? undefined : Number(buildDay)
    expect(
      thrownBy(() => planRepository(intent, withPushTimes(intent, registry, day), ACTION_MESSAGES))
    ).toEqual(
      new AggregateError(
        [],
        `cannot promote app:production: ${message}; to move it back, run event: rollback`
      )
    )
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
    listing(registries[intent.repository] ?? '')

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

  /** Rows `name | api's tags | worker's tags | message`. */
  it.each(
    rows(
      'the version is missing in one repository | v1.1.0=c v1.2.0=b production=b | v1.2.0=b production=b | cannot roll back to previous: the previous version 1.1.0 (below 1.2.0) is missing or withdrawn in worker; set version to a version every repository has',
      "no pointer carries a version | production=b | v1.0.0=c | cannot roll back api to previous: 'production' (sha256:bbbbbbbbbbbb) carries no version tag; set version to the version to roll back to\ncannot roll back worker to previous: it has no 'production' tag; set version to the version to roll back to",
      'nothing below the top | v1.0.0=b production=b | v1.0.0-rc.1=c | cannot roll back api, worker to previous: no stable version below 1.0.0 that is not withdrawn',
      'every lower version is withdrawn | v1.1.0=c withdrawn-1.1.0=c v1.2.0=b production=b | v1.1.0=c withdrawn-1.1.0=c v1.2.0=b production=b | cannot roll back api, worker to previous: no stable version below 1.2.0 that is not withdrawn'
    )
  )('refuses when %s', (_name, api, worker, message) => {
    expect(thrownBy(() => resolveSources(intents, tagsOf({ api, worker })))).toHaveProperty(
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
    const [{ ref, unmatched }] = resolveSources([intent], () => listing(registry)) as [
      RepositoryState['source']
    ]
    return `${describeRef(ref)}${unmatched ? ' (unmatched)' : ''}`
  }

  it('lists every tag to find it, whatever the event', () => {
    expect([releaseIntent, pushIntent].map(needsAllTags)).toEqual([true, true])
  })

  it.each(
    rows(
      'one build, among other commits | build-20260101-a1b2c3d4e5=b build-20260102-c0c0c0c0c0=c production=c | b',
      'one image pushed on two days | build-20260101-a1b2c3d4e5=b build-20260102-a1b2c3d4e5=b | b',
      'none of this commit | build-20260101-c0c0c0c0c0=c a1b2c3d4e5=c | build-*-a1b2c3d4e5 (unmatched)',
      'an empty repository |  | build-*-a1b2c3d4e5 (unmatched)'
    )
  )('resolves %s', (_name, registry, expected) => {
    expect(resolved(releaseIntent, registry)).toBe(expected === 'b' ? build.digest : expected)
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
  const tagsThen = (meanwhile = '') => listing(`${first} ${meanwhile}`)
  const channelsFirst = '1.0.0=d 1.1.0=c latest=c stable=c app-main-a1b2c3d=b'

  /**
   * Rows `name | trigger | tags meanwhile (production=- removes it) | moved to | note`; `-` is none.
   * Where latest moves meanwhile, the run is a release of channels from `channelsFirst`.
   */
  it.each(
    rows(
      'the pointer stayed on this run | release 1.2.0 | production=b | - | -',
      'a lower release made meanwhile took it: written again | release 1.2.0 | v1.1.5=e production=e | b | 1.1.5, released by another run meanwhile, took it after this run wrote it; 1.2.0 is higher, so it was written again',
      'a higher release made meanwhile took it: left alone | release 1.1.5 | v1.2.0=e production=e | - | another run released 1.2.0 meanwhile and moved it there',
      'a lower version released before took it (a release that wrote last): written again | release 1.2.0 | production=d | b | 1.0.0 took it after this run wrote it; it belongs on 1.2.0, so it was written again',
      'back where it was (another run undid its write): written again | release 1.2.0 | production=c | b | 1.1.0 took it after this run wrote it; it belongs on 1.2.0, so it was written again',
      'removed (another run undid the write that created it): written again | release 1.2.0 | production=- | b | it was removed after this run wrote it; it belongs on 1.2.0, so it was written again',
      'an image with no version yet (a release whose version tag is on its way): written again | release 1.2.0 | production=e | b | sha256:eeeeeeeeeeee, an image with no version (yet), took it after this run wrote it; it belongs on 1.2.0, so it was written again',
      'a rollback made meanwhile from the version before: left alone | release 1.2.0 | withdrawn-1.1.0=c production=d | - | another writer has since moved it to 1.0.0; left alone',
      'a rollback that withdrew this run’s version: left alone | release 1.2.0 | v1.2.0=b withdrawn-1.2.0=b production=c | - | a rollback withdrew 1.2.0 meanwhile; left alone',
      'a promotion leaves a pointer a higher version took | promote production 1.2.0 | v1.3.0=e production=e | - | another writer has since moved it to 1.3.0; left alone',
      'a release hands the pointer on to a higher release made meanwhile | release 1.1.5 | v1.2.0=e production=b | e | handed on to 1.2.0, which another run released meanwhile',
      'a promotion keeps the pointer on its own image whatever was released meanwhile | promote production 1.2.0 | v1.3.0=e production=b | - | -',
      'a prerelease made meanwhile does not count | release 1.1.5 | v1.3.0-rc.1=e production=b | - | -',
      'latest (highest): a lower release wrote it last: written again | release 1.2.0 | 1.1.5=e latest=e | b | 1.1.5, released by another run meanwhile, took it after this run wrote it; 1.2.0 is higher, so it was written again',
      'latest (highest): an image with no version yet took it: written again | release 1.2.0 | latest=e | b | sha256:eeeeeeeeeeee, an image with no version (yet), took it after this run wrote it; it belongs on 1.2.0, so it was written again',
      'latest (highest): a higher release made meanwhile but withdrawn does not count | release 1.2.0 | 1.3.0=e withdrawn-1.3.0=e latest=b | - | -'
    )
  )('%s', (_name, trigger, meanwhile, moveTo, note) => {
    const pointer = meanwhile.includes('latest=') ? 'latest' : 'production'
    const before = pointer === 'latest' ? channelsFirst : first
    const intent = intentFor(
      triggerOf(trigger),
      pointer === 'latest' ? { convention: channels } : {}
    )
    const plan = planOf(intent, before)
    const fresh = listing(`${before} ${meanwhile.replace('production=-', '')}`)
    if (meanwhile.includes('production=-')) fresh.delete('production')
    const steps = plan.steps.filter(({ tag }) => tag === pointer)
    const [check] = checkPointers(intent, plan, listing(before), fresh, steps)
    expect(check?.moveTo).toBe(moveTo === '-' ? undefined : manifest(moveTo).digest)
    expect(check?.note).toBe(note === '-' ? undefined : note)
  })

  /** Rows `name | tags meanwhile | moved to`: production held on e, an image without a version. */
  it.each(
    rows(
      'moves once that image shows a lower version | v1.1.5=e production=e | b',
      'stays while it shows none | production=e | -',
      'stays when it shows a higher one | v1.3.0=e production=e | -',
      'stays when another writer moved it since | v1.1.5=e production=d | -'
    )
  )('a pointer held on an image without a version %s', (_name, meanwhile, moveTo) => {
    const { intent, plan } = planned(release('1.2.0'))
    const held: Step = { ...hold('production', 'forward', manifest('e')), unranked: true }
    const [check] = checkPointers(intent, plan, tagsThen(), tagsThen(meanwhile), [held])
    expect(check?.moveTo).toBe(moveTo === '-' ? undefined : manifest(moveTo).digest)
  })

  /** Rows `name | tag | released meanwhile | image before | undo target`; `-` is none. */
  it.each(
    rows(
      'production back where it was when nothing was released meanwhile | production |  | c | c',
      'production onto a release made meanwhile that ranks above where it was | production | v1.1.5=e | c | e',
      'production not onto one below where it was | production | v1.0.5=e | c | c',
      'production not onto a release made meanwhile that a rollback has since withdrawn | production | v1.3.0=e withdrawn-1.3.0=e | c | c',
      'production onto a release made meanwhile rather than removing it | production | v1.1.5=e | - | e',
      'production removed when it did not exist and nothing was released | production |  | - | -',
      'a version tag back as it was, whatever was released | v1.2.0 | v1.3.0=e | - | -'
    )
  )('undoTarget puts %s', (_name, tag, meanwhile, before, expected) => {
    const { intent, plan } = planned(release('1.2.0'))
    const step = plan.steps.find((each) => each.tag === tag) as Step
    const was = before === '-' ? undefined : manifest(before)
    expect(undoTarget(intent, plan, step, was, tagsThen(), tagsThen(`${meanwhile} v1.2.0=b`))).toBe(
      expected === '-' ? null : manifest(expected).digest
    )
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

  it.each(
    rows(
      'environments: a release moves production to the image staging points at | release 1.1.0 | sha-a1b2c3d=b staging=b production=c v1.0.0=c | production by staging',
      'environments: a promotion to production, likewise | promote production 1.1.0 | sha-a1b2c3d=b staging=b production=c | production by staging',
      'channels: stable moves to an image carrying an rc tag of the same version | release 2.1.0 | app-main-a1b2c3d=b 2.1.0-rc.41=b 2.1.0-rc.7=b stable=c | stable by 2.1.0-rc.41',
      'a pointer already on the image is not a move, so nothing needs proving | release 1.1.0 | sha-a1b2c3d=b production=b | ',
      'environments: staging is on another image | release 1.1.0 | sha-a1b2c3d=b staging=c production=c | production refused: cannot move app:production to sha256:bbbbbbbbbbbb: require-tested is on, and production takes only the image that staging points at, which is sha256:cccccccccccc: move staging to this image first and test it there',
      'environments: there is no staging tag | promote production 1.1.0 | sha-a1b2c3d=b | production refused: cannot move app:production to sha256:bbbbbbbbbbbb: require-tested is on, and production takes only the image that staging points at, which is none (there is no such tag): move staging to this image first and test it there',
      "channels: the rc tag is of another version | release 2.1.0 | app-main-a1b2c3d=b 2.0.0-rc.3=b stable=c | stable refused: cannot move app:stable to sha256:bbbbbbbbbbbb: require-tested is on, and stable takes only an image carrying a tag matching '2.1.0-rc.*'; this image carries 2.0.0-rc.3, app-main-a1b2c3d"
    )
  )('%s', (_name, trigger, registry, proven) => {
    const intent = tested(triggerOf(trigger), registry.startsWith('app-') ? channels : environments)
    const proofs = (
      planRepository(intent, testedState(intent, registry), ACTION_MESSAGES).tested ?? []
    ).map((proof) =>
      'by' in proof
        ? `${proof.pointer} by ${proof.by}`
        : `${proof.pointer} refused: ${proof.refused}`
    )
    expect(proofs.join('')).toBe(proven)
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
