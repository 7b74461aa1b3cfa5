import fc from 'fast-check'
import { parseConvention, TEMPLATE_VARIABLES } from '../../../src/core/convention-file.js'
import { type Convention } from '../../../src/core/convention.js'
import {
  derive,
  type ActiveTrigger,
  type Intent,
  type RunValues
} from '../../../src/core/derive.js'
import type { PointerRecord } from '../../../src/core/history.js'
import { isValidTag, sanitizeTagPart } from '../../../src/core/tags.js'
import { resolveTrigger } from '../../../src/core/trigger.js'
import { ACTION_MESSAGES } from '../../../src/action/messages.js'
import { parseVersion } from '../../../src/core/version.js'
import {
  channels,
  environments,
  push,
  rollback,
  rows,
  RUN as run,
  triggerOf
} from '../../support/builders.js'

/** Source and targets in one line each: `sha-a1b2c3d -> latest(plain)`. */
function summary(
  convention: Convention,
  trigger: ActiveTrigger,
  values: Partial<RunValues> = {}
): string {
  const intent = derive(convention, trigger, { ...run, ...values })
  const source = Object.values(intent.source)[0]
  const targets = intent.targets.map(
    (target) => `${target.tag}(${target.kind}${'line' in target ? `:${target.line}` : ''})`
  )
  return `${source} -> ${targets.join(' ') || 'nothing'}${intent.pointer ? ` [pointer ${intent.pointer}]` : ''}`
}

const custom = parseConvention(
  `
name: team
build-tag: 'build-{date}-{run_number}-{sha:10}'
version-tag: 'release-{version}'
rollback: live
push: [main, 'main-{date}']
release:
  - { tag: 'release-{version}', kind: version }
  - { tag: '{major}', kind: highest }
  - { tag: '{major}.{minor}', kind: highest }
  - { tag: live, kind: forward }
prerelease:
  - { tag: 'release-{version}', kind: version }
  - { tag: 'next-{prerelease}', kind: plain }
promote:
  qa: ['qa-{environment}', { tag: 'qa-{version}', optional: true }]
`,
  'team.yml'
)

describe.each([
  [
    'environments',
    environments,
    rows(
      'push to main | push main | sha-a1b2c3d -> latest(plain)',
      'push to a branch | push feature/x | sha-a1b2c3d -> nothing',
      'release | release 1.2.0 | sha-a1b2c3d -> v1.2.0(version) production(forward) [pointer production]',
      'prerelease | prerelease 1.3.0-rc.1 | sha-a1b2c3d -> v1.3.0-rc.1(version)',
      'promote staging | promote staging | sha-a1b2c3d -> staging(plain) [pointer staging]',
      'promote canary | promote canary | sha-a1b2c3d -> canary(plain) [pointer canary]',
      'promote production | promote production | sha-a1b2c3d -> production(forward) [pointer production]',
      'promote production with a version | promote production 1.2.0 | sha-a1b2c3d -> production(forward) v1.2.0(version) [pointer production]',
      'rollback | rollback v1.1.0 | v1.1.0 -> production(rollback) [pointer production]',
      'rollback to previous | rollback previous | production -> production(rollback) [pointer production]'
    )
  ],
  [
    'channels',
    channels,
    rows(
      'push to main | push main | app-main-a1b2c3d -> edge(plain)',
      'push to a branch | push Feature/Login_Page#42 | app-Feature-Login_Page-42-a1b2c3d -> nothing',
      'release | release 2.1.0 | app-main-a1b2c3d -> 2.1.0(version) stable(forward) latest(highest:all) [pointer stable]',
      'prerelease | prerelease 2.2.0-beta.1 | app-main-a1b2c3d -> 2.2.0-beta.1(version)',
      'promote staging | promote staging 2.2.0 | app-main-a1b2c3d -> 2.2.0-rc.57(version) [pointer 2.2.0-rc.57]',
      'rollback | rollback 2.0.3 | 2.0.3 -> stable(rollback) [pointer stable]',
      'rollback to previous | rollback previous | stable -> stable(rollback) [pointer stable]'
    )
  ],
  [
    'team.yml',
    custom,
    rows(
      'push to main | push main | build-*-*-a1b2c3d4e5 -> main(plain) main-20261123(plain)',
      'push to a branch | push dev | build-*-*-a1b2c3d4e5 -> nothing',
      'release | release 3.4.5 | build-*-*-a1b2c3d4e5 -> release-3.4.5(version) 3(highest:major) 3.4(highest:minor) live(forward) [pointer live]',
      'a 0.x release moves no major tag | release 0.4.1 | build-*-*-a1b2c3d4e5 -> release-0.4.1(version) 0.4(highest:minor) live(forward) [pointer live]',
      'prerelease | prerelease 3.5.0-rc.2 | build-*-*-a1b2c3d4e5 -> release-3.5.0-rc.2(version) next-rc.2(plain)',
      'promote without a version | promote qa | build-*-*-a1b2c3d4e5 -> qa-qa(plain) [pointer qa-qa]',
      'promote with a version | promote qa 3.4.5 | build-*-*-a1b2c3d4e5 -> qa-qa(plain) qa-3.4.5(plain) [pointer qa-qa]',
      'rollback | rollback 3.4.0 | release-3.4.0 -> live(rollback) [pointer live]'
    )
  ]
])('the %s convention', (_name, convention, cases) => {
  it.each(cases)('%s', (_case, trigger, expected) => {
    expect(summary(convention, triggerOf(trigger))).toBe(expected)
  })
})

describe('derive', () => {
  it.each(['candidate', `sha256:${'ab'.repeat(32)}`])(
    'takes the source input, as a tag or a digest (%s), over the build tag',
    (source) => {
      expect(summary(environments, push('main'), { source })).toBe(`${source} -> latest(plain)`)
    }
  )

  const bare = parseConvention('build-tag: b-{sha7}\nversion-tag: v{version}', 'bare.yml')
  const conventions: Record<string, Convention> = { environments, channels, bare }
  const unknown = (name: string) =>
    `an environment the convention does not know (${name}) | environments | promote ${name} | - | the environments convention has no promotion to '${name}': it knows staging, canary, production`

  /** Rows `name | convention | trigger | value the run lacks | message`. */
  it.each(
    rows(
      "a build tag without a commit | environments | push main | sha | tag template 'sha-{sha7}' needs {sha7} (from GITHUB_SHA), which this run does not have",
      "a staging promotion without a version | channels | promote staging | - | tag template '{version}-rc.{build}' needs {version} (from the version input), which this run does not have",
      "a staging promotion without a run number | channels | promote staging 2.2.0 | runNumber | tag template '{version}-rc.{build}' needs {build} (from GITHUB_RUN_NUMBER), which this run does not have",
      ...['qa', 'constructor', '__proto__', 'toString', 'hasOwnProperty'].map(unknown),
      'a rollback on a convention without a rollback pointer | bare | rollback 1.0.0 | - | the bare.yml convention has no rollback pointer'
    )
  )('refuses %s', (_name, convention, trigger, lacks, message) => {
    // A value the run lacks is undefined, which exact optional types spell as a cast.
    const values = { ...run, [lacks]: undefined } as RunValues
    expect(() => derive(conventions[convention]!, triggerOf(trigger), values)).toThrow(message)
  })

  it('shortens a long branch to a valid tag with a hash, so long branches never collide', () => {
    const long = (suffix: string) =>
      derive(channels, push(`feature/${'x'.repeat(200)}-${suffix}`), run).source
    const [first, second] = [long('one'), long('two')] as [{ tag: string }, { tag: string }]
    expect(first.tag).toHaveLength(128)
    expect(first.tag).toMatch(/^app-feature-x+-[0-9a-f]{8}-a1b2c3d$/)
    expect(first.tag).not.toBe(second.tag)
  })
})

describe('derive: a rollback to a moment', () => {
  const to = { at: new Date('2026-11-26T23:59:59.999Z'), text: '2026-11-26' }
  const digest = `sha256:${'9'.repeat(64)}`
  const recorded: PointerRecord = {
    id: 7,
    environment: 'production',
    createdAt: new Date('2026-11-25T00:00:00Z'),
    payload: { repository: 'app', tag: 'production', digest, version: '1.1.0', image: '' }
  }
  const trigger: ActiveTrigger = { event: 'rollback', branch: 'main', to }

  it('goes to the image its deployment record names, and says where it came from should it be gone', () => {
    expect(derive(environments, trigger, { ...run, recorded })).toMatchObject({
      source: { digest },
      targets: [{ tag: 'production', kind: 'rollback' }],
      pointer: 'production',
      recorded,
      sourceAdvice:
        'it is the image production pointed at on 2026-11-26, by deployment 7 of 2026-11-25T00:00:00.000Z: production on sha256:999999999999 (1.1.0), and it has been deleted since: roll back to a version instead'
    })
  })

  it('refuses without a record', () => {
    expect(() => derive(environments, trigger, run)).toThrow(
      'no deployment record of app:production'
    )
  })
})

describe('derive explains a source it cannot name right', () => {
  const sha12 = { ...environments, buildTag: 'build-{sha:12}' }
  it('refuses a sha shorter than a {sha:N} the run renders, naming the template', () => {
    expect(() => derive(sha12, push(), { ...run, sha: 'a1b2c3d' })).toThrow(
      "sha 'a1b2c3d' has 7 characters, but the tag template 'build-{sha:12}' takes 12: pass the full commit hash as sha"
    )
  })

  it('minds no {sha:N} that the run does not render', () => {
    const values = { ...run, sha: 'a1b2c3d', source: 'nightly' }
    expect(derive(sha12, push(), values).source).toEqual({ tag: 'nightly' })
  })

  const from = `it is the build tag sha-{sha7} of commit ${run.sha} (sha from GITHUB_SHA)`
  it.each([
    [
      undefined,
      'if the build pushes it later, set wait-for-source (such as 10m) or run this step after the build'
    ],
    ['5m', 'it did not appear within wait-for-source (5m): check that the build pushed it']
  ])('says where the build tag came from, waiting %s', (waitForSource, advice) => {
    expect(
      derive(environments, push(), { ...run, ...(waitForSource && { waitForSource }) }).sourceAdvice
    ).toBe(`${from}; ${advice}`)
  })

  it('looks for a build tag with run variables by its other parts, unless the source input names one', () => {
    const dated = { ...environments, buildTag: 'build-{date}-{sha:10}' }
    expect(derive(dated, push(), run).source).toEqual({
      buildTagMatching: 'build-*-a1b2c3d4e5',
      buildTag: 'build-{date}-{sha:10}'
    })
    expect(derive(dated, push(), { ...run, source: 'build-20261122-a1b2c3d4e5' }).source).toEqual({
      tag: 'build-20261122-a1b2c3d4e5'
    })
  })

  it('gives no such advice for a source input or a rollback', () => {
    expect(derive(environments, push(), { ...run, source: 'nightly' }).sourceAdvice).toBeUndefined()
    expect(derive(environments, rollback('1.0.0'), run).sourceAdvice).toBeUndefined()
  })
})

/** Every tag an intent would read or write. */
const tagsOf = (intent: Intent): string[] => [
  ...('tag' in intent.source ? [intent.source.tag] : []),
  ...intent.targets.map(({ tag }) => tag)
]

/** The property: deriving either fails (before any write, as derive runs before the registry is touched) or yields valid tags. */
function validOrRefused(derivation: () => Intent): boolean {
  let intent: Intent
  try {
    intent = derivation()
  } catch {
    return true
  }
  derived++
  return tagsOf(intent).every(isValidTag)
}

/** How many derivations succeeded, so that a property cannot hold merely because every run was refused. */
let derived = 0
beforeEach(() => {
  derived = 0
})

const anyText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.stringMatching(/^[#./_ A-Za-z0-9-]{0,260}$/)
)
const versionLike = fc.oneof(
  fc
    .tuple(
      fc.nat(100),
      fc.nat(100),
      fc.nat(100),
      fc.stringMatching(
        /^(-[0-9A-Za-z-]{1,20}(\.[0-9A-Za-z-]{1,10}){0,2})?(\+[0-9A-Za-z.-]{1,10})?$/
      )
    )
    .map(([major, minor, patch, rest]) => `${major}.${minor}.${patch}${rest}`),
  anyText
)

describe('every derived tag is valid, or the run fails before writing', () => {
  it('for any branch name, on both built-ins: the build tag is always valid', () => {
    fc.assert(
      fc.property(
        anyText.filter(Boolean),
        fc.constantFrom(environments, channels),
        (branch, convention) => {
          const trigger = push(branch, false)
          const intent = derive(convention, trigger, run)
          return tagsOf(intent).every(isValidTag)
        }
      ),
      { numRuns: 500 }
    )
  })

  it('sanitizing any value gives a non-empty tag fragment', () => {
    fc.assert(
      fc.property(anyText, (value) => /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(sanitizeTagPart(value))),
      { numRuns: 500 }
    )
  })

  it('for any release tag and GitHub context, on both built-ins', () => {
    fc.assert(
      fc.property(
        versionLike,
        fc.boolean(),
        fc.constantFrom(environments, channels),
        (tag, prerelease, convention) =>
          validOrRefused(() => {
            const trigger = resolveTrigger(
              { event: '', branch: '', releaseTag: '', version: '', environment: '' },
              {
                eventName: 'release',
                ref: `refs/tags/${tag}`,
                headRef: '',
                payload: { release: { tag_name: tag, prerelease } }
              },
              ACTION_MESSAGES
            )
            if (trigger.event !== 'release')
              throw new Error(`a release tag resolved to ${trigger.event}`)
            return derive(convention, trigger, run)
          })
      ),
      { numRuns: 500 }
    )
    expect(derived).toBeGreaterThan(100)
  })

  it('for any version a promotion or rollback is given', () => {
    fc.assert(
      fc.property(
        versionLike,
        fc.constantFrom('staging', 'canary', 'production'),
        fc.constantFrom(environments, channels),
        (input, environment, convention) => {
          const version = parseVersion(input)
          if (!version) return true
          const triggers: ActiveTrigger[] = [
            { event: 'promote', branch: 'main', environment, version },
            { event: 'rollback', branch: 'main', to: version }
          ]
          return triggers.every((trigger) => validOrRefused(() => derive(convention, trigger, run)))
        }
      ),
      { numRuns: 300 }
    )
    expect(derived).toBeGreaterThan(100)
  })

  it('for any template in a convention file, with any branch and version', () => {
    const literal = fc.oneof(
      { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{1,30}$/) },
      { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._ #/+-]{1,40}$/) }
    )
    const templateOf = (variables: string[]) =>
      fc
        .array(
          fc.oneof(
            literal,
            fc.constantFrom(...variables.map((name) => `{${name}}`), '{sha:3}', '{branch:200}')
          ),
          { minLength: 1, maxLength: 6 }
        )
        .map((parts) => parts.join(''))
    const buildVariables = ['sha', 'sha7', 'branch', 'service', 'build', 'run_number', 'date']
    const buildTemplate = fc.oneof(
      { weight: 4, arbitrary: templateOf(buildVariables) },
      { weight: 1, arbitrary: templateOf(TEMPLATE_VARIABLES) }
    )
    const releaseTemplate = templateOf(TEMPLATE_VARIABLES.filter((name) => name !== 'environment'))
    fc.assert(
      fc.property(
        buildTemplate,
        buildTemplate,
        releaseTemplate,
        anyText.filter(Boolean),
        versionLike,
        (buildTag, pushTag, releaseTag, branch, versionText) => {
          let convention: Convention
          try {
            convention = parseConvention(
              JSON.stringify({
                'build-tag': buildTag,
                'version-tag': 'v{version}',
                release: [releaseTag],
                push: [pushTag]
              }),
              'generated.json'
            )
          } catch {
            return true
          }
          const version = parseVersion(versionText)
          const triggers: ActiveTrigger[] = [
            push(branch, true),
            ...(version ? [{ event: 'release' as const, branch, version, prerelease: false }] : [])
          ]
          return triggers.every((trigger) => validOrRefused(() => derive(convention, trigger, run)))
        }
      ),
      { numRuns: 1000 }
    )
    expect(derived).toBeGreaterThan(100)
  })
})
