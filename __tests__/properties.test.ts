import fc from 'fast-check'
import {
  BUILT_IN_CONVENTIONS,
  parseConvention,
  TEMPLATE_VARIABLES
} from '../src/core/conventions.js'
import { derive, type ActiveTrigger, type Intent, type RunValues } from '../src/core/derive.js'
import { isValidTag, sanitizeTagPart } from '../src/core/tags.js'
import { resolveTrigger } from '../src/core/trigger.js'
import { parseVersion } from '../src/core/version.js'
import { type Convention } from '../src/core/convention.js'

const builtIns = Object.entries(BUILT_IN_CONVENTIONS).map(([name, text]) =>
  parseConvention(text, name)
)
const run: RunValues = {
  repository: 'team/app',
  sha: '0123456789abcdef0123456789abcdef01234567',
  service: 'app',
  source: '',
  runNumber: '12',
  date: new Date('2026-11-23T00:00:00Z'),
  shaOrigin: 'GITHUB_SHA'
}

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
      fc.property(anyText.filter(Boolean), fc.constantFrom(...builtIns), (branch, convention) => {
        const trigger: ActiveTrigger = { event: 'push', branch, defaultBranch: false }
        const intent = derive(convention, trigger, run)
        return tagsOf(intent).every(isValidTag)
      }),
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
        fc.constantFrom(...builtIns),
        (tag, prerelease, convention) =>
          validOrRefused(() => {
            const trigger = resolveTrigger(
              { event: '', branch: '', releaseTag: '', version: '', environment: '' },
              {
                eventName: 'release',
                ref: `refs/tags/${tag}`,
                headRef: '',
                payload: { release: { tag_name: tag, prerelease } }
              }
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
        fc.constantFrom(...builtIns),
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
          {
            minLength: 1,
            maxLength: 6
          }
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
            { event: 'push', branch, defaultBranch: true },
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
