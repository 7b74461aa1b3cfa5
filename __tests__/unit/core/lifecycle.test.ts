import { readFileSync } from 'node:fs'
import { parseConvention } from '../../../src/core/convention-file.js'
import {
  pointerTags,
  policyDifference,
  policyProblems,
  policyText,
  renderPolicy,
  unsafeExpirations,
  type Expiring,
  type LifecycleRule
} from '../../../src/core/lifecycle.js'
import { type Convention, type Cleanup } from '../../../src/core/convention.js'
import { channels, environments, rows } from '../../support/builders.js'

const team = parseConvention(
  `
name: team
build-tag: 'build-{sha7}'
version-tag: 'v{version}'
push: [edge]
release:
  - { tag: 'v{version}', kind: version }
  - { tag: prod, kind: forward }
cleanup:
  protect: ['release-*']
  protect-releases: false
  keep-builds: 5
`,
  'team.yml'
)
const cleanupOf = (convention: Convention): Cleanup => convention.cleanup as Cleanup
const rendered = (convention: Convention) => renderPolicy(convention, cleanupOf(convention))

const rule = (
  rulePriority: number,
  description: string,
  selection: LifecycleRule['selection']
): LifecycleRule => ({ rulePriority, description, selection, action: { type: 'expire' } })
const days = { countType: 'sinceImagePushed', countUnit: 'days' } as const
const keep = (rulePriority: number, pattern: string) =>
  rule(rulePriority, `keep images tagged ${pattern}`, {
    tagStatus: 'tagged',
    tagPatternList: [pattern],
    ...days,
    countNumber: 36_500
  })
const untagged = (rulePriority: number, count: number) =>
  rule(rulePriority, `expire untagged images ${count} days after their push`, {
    tagStatus: 'untagged',
    ...days,
    countNumber: count
  })

/** A policy's rules in order, one phrase each: `keep latest`, `newest 20 sha-*`, `older 90 *`, `untagged 7`. */
const rulesOf = (text: string): LifecycleRule[] =>
  text.split(', ').map((phrase, at) => {
    const [kind, first = '', second = ''] = phrase.split(' ')
    if (kind === 'keep') return keep(at + 1, first)
    if (kind === 'untagged') return untagged(at + 1, Number(first))
    const [description, count] =
      kind === 'newest'
        ? [`keep the newest ${first} builds tagged ${second}`, { countType: 'imageCountMoreThan' }]
        : [`expire other tagged images ${first} days after their push`, days]
    return rule(at + 1, description, {
      tagStatus: 'tagged',
      tagPatternList: [second],
      ...count,
      countNumber: Number(first)
    } as LifecycleRule['selection'])
  })

describe('renderPolicy', () => {
  /** Rows: the convention, its pointers (the tags without a variable) and its policy's rules. */
  it.each<[string, Convention, string, string]>([
    [
      'environments',
      environments,
      'latest production staging canary',
      'keep latest, keep production, keep staging, keep canary, keep v*.*.*, keep withdrawn-*.*.*, newest 20 sha-*, untagged 7'
    ],
    [
      'channels',
      channels,
      'edge stable latest',
      'keep edge, keep stable, keep latest, keep *.*.*, keep withdrawn-*.*.*, older 90 *, untagged 90'
    ],
    [
      'a convention file: protect release-*, no release protection, keep 5 builds',
      team,
      'edge prod',
      'keep edge, keep prod, keep release-*, keep withdrawn-*.*.*, newest 5 build-*'
    ]
  ])(
    '%s: one protection rule per pointer and kept tag, ahead of count and age rules',
    (_name, convention, pointers, rules) => {
      expect(pointerTags(convention)).toEqual(pointers.split(' '))
      const policy = rendered(convention)
      expect(policy).toEqual({ rules: rulesOf(rules) })
      expect(policyProblems(policy)).toEqual([])
      expect(JSON.parse(policyText(policy))).toEqual(policy)
    }
  )
})

describe("the seed's original policy for environments", () => {
  // One rule listing production, staging and v: ECR selects only images carrying all three prefixes.
  const seed = readFileSync('__tests__/support/seed-environments-policy.json', 'utf8')

  it('differs from the rendered policy, rule by rule', () => {
    const lines = policyDifference(seed, rendered(environments))
    expect(lines.map((line) => /^rule \d+ (is|missing)/.exec(line)?.[0]).join(', ')).toBe(
      'rule 1 is, rule 2 is, rule 3 is, rule 4 missing, rule 5 missing, rule 6 missing, rule 7 missing, rule 8 missing'
    )
    expect(lines[0]).toMatch(
      /^rule 1 is .*"tagPrefixList":\["production","staging","v"\].*, the convention has .*"tagPatternList":\["latest"\]/
    )
  })
})

describe('policyProblems names what ECR would reject or misread', () => {
  const tagged = (priority: number, patterns: string[] | undefined, extra = {}) =>
    rule(priority, 'r', {
      tagStatus: 'tagged',
      ...(patterns && { tagPatternList: patterns }),
      countType: 'imageCountMoreThan',
      countNumber: 3,
      ...extra
    })
  const protectMany = renderPolicy(environments, {
    ...cleanupOf(environments),
    protect: Array.from({ length: 200 }, (_, index) => `team-${index}-*`)
  })

  const whole = 'countNumber must be a whole number from 1'
  const unitDays = 'countUnit days goes with sinceImagePushed, and only with it'
  it.each<[string, LifecycleRule[], string[]]>([
    ['zero rules', [], ['a lifecycle policy needs at least one rule']],
    [
      'duplicate priorities',
      [tagged(1, ['a']), tagged(1, ['b'])],
      ['rule priorities must be unique: 1, 1']
    ],
    [
      'a priority below 1',
      [tagged(0, ['a'])],
      ['rule 0: rulePriority must be a whole number from 1']
    ],
    [
      'two untagged rules',
      [untagged(1, 7), untagged(2, 9)],
      ['only one rule may select untagged images']
    ],
    [
      'a tagged rule without patterns',
      [tagged(1, undefined), tagged(2, [])],
      [
        'rule 1: a tagged rule needs a tagPatternList',
        'rule 2: a tagged rule needs a tagPatternList'
      ]
    ],
    [
      'an untagged rule with patterns',
      [{ ...untagged(1, 7), selection: { ...untagged(1, 7).selection, tagPatternList: ['x'] } }],
      ['rule 1: an untagged rule cannot list tags']
    ],
    [
      'more than 4 wildcards in a pattern',
      [tagged(1, ['a*b*c*d*', 'a*b*c*d*e*'])],
      ["rule 1: 'a*b*c*d*e*' has more than 4 wildcards"]
    ],
    ['countNumber 0', [tagged(1, ['a'], { countNumber: 0 })], [`rule 1: ${whole}`]],
    ['countNumber 1.5', [tagged(1, ['a'], { countNumber: 1.5 })], [`rule 1: ${whole}`]],
    [
      'countUnit with imageCountMoreThan',
      [tagged(1, ['a'], { countUnit: 'days' })],
      [`rule 1: ${unitDays}`]
    ],
    [
      'sinceImagePushed without countUnit',
      [tagged(1, ['a'], { countType: 'sinceImagePushed' })],
      [`rule 1: ${unitDays}`]
    ]
  ])('%s', (_name, rules, problems) => {
    expect(policyProblems({ rules })).toEqual(problems)
  })

  it('names a policy over 30,720 characters (many protect entries), counting the text it writes', () => {
    const length = policyText(protectMany).length
    expect(length).toBeGreaterThan(30_720)
    expect(policyProblems(protectMany)).toEqual([
      `the policy is ${length} characters; ECR takes at most 30720`
    ])
  })
})

describe('policyDifference compares policies as data', () => {
  const wanted = rendered(environments)
  /** The same data with every object's keys in reverse order. */
  const reversed = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(reversed)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value)
              .reverse()
              .map(([k, v]) => [k, reversed(v)])
          )
        : value
  const withBuildsRule = (countNumber: number) =>
    JSON.stringify({
      rules: wanted.rules.map((each) =>
        each.rulePriority === 7 ? { ...each, selection: { ...each.selection, countNumber } } : each
      )
    })

  it.each<[string, string | undefined, (string | RegExp)[]]>([
    ['no policy', undefined, ['the repository has no lifecycle policy']],
    [
      'a policy that is not JSON',
      '{"rules": [',
      ['the repository has a lifecycle policy that is not JSON']
    ],
    ['the same policy, keys reordered and spaced', JSON.stringify(reversed(wanted), null, 4), []],
    [
      'one rule changed',
      withBuildsRule(10),
      [/^rule 7 is .*"countNumber":10.*, the convention has .*"countNumber":20/]
    ],
    [
      'a rule the convention does not have',
      JSON.stringify({ rules: [...wanted.rules, untagged(9, 1)] }),
      [/^rule 9 not in the convention: \{"action":/]
    ],
    [
      'a rule missing',
      JSON.stringify({ rules: wanted.rules.slice(0, 7) }),
      [/^rule 8 missing: .*"tagStatus":"untagged"/]
    ],
    [
      'another top-level field',
      JSON.stringify({ ...wanted, schemaVersion: 2 }),
      ['the policy has other fields: {"schemaVersion":2}']
    ]
  ])('%s', (_name, current, lines) => {
    expect(policyDifference(current, wanted)).toEqual(
      lines.map((line) => (typeof line === 'string' ? line : expect.stringMatching(line)))
    )
  })
})

describe('unsafeExpirations refuses what the convention keeps', () => {
  const [index, child, build] = ['idx', 'child', 'build'].map(
    (name) => `sha256:${name.padEnd(64, '0')}`
  ) as [string, string, string]
  const keptImages = new Map([
    [index, 'it carries production now, which the convention keeps'],
    [child, 'it is a platform image of sha256:idx, which the convention keeps']
  ])
  const noReleases = (convention: Convention): Cleanup => ({
    ...cleanupOf(convention),
    protectReleases: false
  })

  const conventions: Record<string, Convention> = { environments, channels, team }
  const digests: Record<string, string> = { index, child, build }

  /** Rows `name | convention | cleanup | image (rule N): tags | reason`; `-` is no reason, so it may go. */
  it.each(
    rows(
      'a protected tag | environments | as set | build: sha-abc1234 staging | it carries staging, which the convention keeps',
      'a version tag, protected by its pattern | environments | as set | build: v1.0.0 | it carries v1.0.0, which the convention keeps',
      'a version tag without release protection | environments | no releases | build: sha-abc1234 v1.0.0 | it carries v1.0.0, which the convention keeps',
      'a bare version tag in channels | channels | no releases | build: 1.2.3 | it carries 1.2.3, which the convention keeps',
      'a prerelease tag in channels | channels | no releases | build: 1.3.0-rc.7 | it carries 1.3.0-rc.7, which the convention keeps',
      'a channels build tag, which is no version | channels | no releases | build: app-main-abc1234 | -',
      'a v-prefixed tag in channels, which is no version there | channels | no releases | build: v1.2.3 | -',
      'a pattern from the protect list | team | as set | build: release-7 | it carries release-7, which the convention keeps',
      'an image production is on now, which the preview listed without it | environments | as set | index (rule 6): sha-abc1234 | it carries production now, which the convention keeps',
      "an untagged platform image of a pointer's index | environments | as set | child (rule 7): | it is a platform image of sha256:idx, which the convention keeps",
      'an old build | environments | as set | build: sha-abc1234 v1.0 | -'
    )
  )('%s', (_name, name, cleanup, written, reason) => {
    const [, image = '', rule, tags = ''] = /^(\w+)(?: \(rule (\d+)\))?: ?(.*)$/.exec(written) ?? []
    const expiring: Expiring = {
      digest: digests[image] as string,
      tags: tags.split(' ').filter(Boolean),
      ...(rule && { rulePriority: Number(rule) })
    }
    const convention = conventions[name] as Convention
    const kept = cleanup === 'as set' ? cleanupOf(convention) : noReleases(convention)
    expect(unsafeExpirations([expiring], convention, kept, keptImages)).toEqual(
      reason === '-' ? [] : [{ image: expiring, reason }]
    )
  })
})
