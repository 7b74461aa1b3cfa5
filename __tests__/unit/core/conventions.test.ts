import {
  BUILT_IN_CONVENTIONS,
  builtInConvention,
  loadConvention,
  parseConvention
} from '../../../src/core/conventions.js'
import { thrownBy } from '../../support/harness.js'

const files: Record<string, string> = {
  '.github/ecr-convention.yml':
    'name: team\nbuild-tag: b-{sha7}\nversion-tag: v{version}\npush: [edge]\n',
  'convention.json':
    '{"build-tag": "b-{sha7}", "version-tag": "{version}", "release": [{"tag": "{version}", "kind": "version"}]}'
}
const readText = async (path: string) => {
  const text = files[path]
  if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`)
  return text
}

/** Every problem the convention has, one message each. */
function problems(text: string): string[] {
  const error = thrownBy(() => parseConvention(text, 'c.yml'))
  return error instanceof AggregateError
    ? error.errors.map((each: Error) => each.message)
    : [(error as Error).message]
}

describe('loadConvention', () => {
  it.each(Object.keys(BUILT_IN_CONVENTIONS))('loads the built-in %s', async (name) => {
    expect((await loadConvention(name, readText)).name).toBe(name)
  })

  it('loads a YAML file and names the convention after it when it has no name', async () => {
    expect(await loadConvention('.github/ecr-convention.yml', readText)).toEqual({
      name: 'team',
      buildTag: 'b-{sha7}',
      versionTag: 'v{version}',
      push: [{ tag: 'edge', kind: 'plain', optional: false }],
      release: [],
      prerelease: [],
      promote: {},
      gates: { guard: [], tested: {} },
      withdrawnTag: 'withdrawn-{version}',
      deployments: {}
    })
    expect(await loadConvention('convention.json', readText)).toMatchObject({
      name: 'convention.json',
      release: [{ tag: '{version}', kind: 'version', optional: false }]
    })
  })

  it.each([
    [
      'gitflow',
      "unknown convention 'gitflow': use environments or channels, or the path of a convention file"
    ],
    [
      'constructor',
      "unknown convention 'constructor': use environments or channels, or the path of a convention file"
    ],
    [
      'toString',
      "unknown convention 'toString': use environments or channels, or the path of a convention file"
    ],
    [
      '.github/missing.yml',
      'cannot read convention file .github/missing.yml: ENOENT: no such file or directory'
    ]
  ])('refuses %s', async (spec, message) => {
    await expect(loadConvention(spec, readText)).rejects.toThrow(message)
  })
})

describe('a convention with a mistake gets an error that names the field', () => {
  const base = 'build-tag: b-{sha7}\nversion-tag: v{version}\n'
  it.each<[string, string, string[]]>([
    [
      'not YAML',
      'build-tag: [',
      [
        'convention c.yml is not valid YAML or JSON: Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 13'
      ]
    ],
    ['no build tag', 'version-tag: v{version}', ['convention c.yml: build-tag: is required']],
    ['an unknown field', `${base}relase: []`, ['convention c.yml: relase: is not a known field']],
    [
      'an unknown kind',
      `${base}release: [{ tag: latest, kind: floating }]`,
      ['convention c.yml: release[0].kind: must be one of plain, version, forward, highest']
    ],
    [
      'a template with a space',
      `${base}push: ['my tag']`,
      [
        'convention c.yml: push[0]: must be a tag template: letters, digits, . _ - and {variables} such as {version} or {sha:7}'
      ]
    ],
    [
      'a tested-image rule with a space',
      `${base}gates: { tested: { production: 'my staging' } }`,
      [
        'convention c.yml: gates.tested.production: must be a tag or tag template, with * for any run of characters, such as staging or {version}-rc.*'
      ]
    ],
    [
      'a tested-image rule with a variable no trigger has',
      `${base}gates: { tested: { production: '{flavour}-*' } }`,
      [
        'convention c.yml: gates.tested.production: {flavour} is not a template variable; use {sha}, {sha7}, {branch}, {service}, {build}, {run_number}, {date}, {version}, {major}, {minor}, {patch}, {prerelease}, {environment}'
      ]
    ],
    [
      'a withdrawn mark without {version}',
      `${base}withdrawn-tag: withdrawn`,
      [
        'convention c.yml: withdrawn-tag: must contain {version} exactly once, and no other variable'
      ]
    ],
    [
      'a withdrawn mark that reads as a version tag',
      'build-tag: b-{sha7}\nversion-tag: "{version}"\nwithdrawn-tag: "{version}-withdrawn"',
      [
        "convention c.yml: withdrawn-tag: '{version}-withdrawn' renders tags that read as the version tag '{version}': add a prefix such as withdrawn-"
      ]
    ],
    [
      'a withdrawn mark that is the version tag',
      `${base}withdrawn-tag: v{version}`,
      [
        "convention c.yml: withdrawn-tag: 'v{version}' renders tags that read as the version tag 'v{version}': add a prefix such as withdrawn-"
      ]
    ],
    [
      'a withdrawn mark that matches the build tag',
      'build-tag: b-{branch}\nversion-tag: v{version}\nwithdrawn-tag: b-gone-{version}',
      [
        "convention c.yml: withdrawn-tag: 'b-gone-{version}' renders tags that match the build tag 'b-{branch}'"
      ]
    ],
    [
      'a deployment environment that is not a string',
      `${base}deployments: { production: [prod] }`,
      ['convention c.yml: deployments.production: must be a string']
    ],
    [
      'a version tag without {version}',
      'build-tag: b\nversion-tag: release',
      ['convention c.yml: version-tag: must contain {version} exactly once, and no other variable']
    ],
    ['rules that are not a list', `${base}push: edge`, ['convention c.yml: push: must be a list']],
    [
      'an unknown variable',
      `${base}push: ['edge-{colour}']`,
      [
        'convention c.yml: push[0]: {colour} is not a template variable; use {sha}, {sha7}, {branch}, {service}, {build}, {run_number}, {date}, {version}, {major}, {minor}, {patch}, {prerelease}, {environment}'
      ]
    ],
    [
      'a variable the trigger does not have',
      `${base}push: [{ tag: 'v{version}' }]`,
      [
        'convention c.yml: push[0].tag: {version} has no value there; available: {sha}, {sha7}, {branch}, {service}, {build}, {run_number}, {date}'
      ]
    ],
    [
      'a tag that would start with a dash',
      `${base}promote:\n  qa: ['-qa']`,
      ["convention c.yml: promote.qa[0]: '-qa' starts with '-', which a tag cannot"]
    ],
    [
      'an invalid rollback tag',
      `${base}rollback: 'prod env'`,
      ['convention c.yml: rollback: must be a valid tag (letters, digits, . _ -; at most 128)']
    ],
    [
      'several mistakes at once',
      'version-tag: v\npush: [{ tag: x, kind: nope, extra: 1 }]',
      [
        'convention c.yml: build-tag: is required',
        'convention c.yml: version-tag: must contain {version} exactly once, and no other variable',
        'convention c.yml: push[0].extra: is not a known field',
        'convention c.yml: push[0].kind: must be one of plain, version, forward, highest'
      ]
    ]
  ])('%s', (_name, text, expected) => {
    expect(problems(text)).toEqual(expected)
  })
})

describe('a convention whose rules would corrupt a run is refused on load', () => {
  const base = 'build-tag: b-{sha7}\nversion-tag: v{version}\n'
  const rules = (count: number) =>
    Array.from({ length: count }, (_, index) => `  - t${index}`).join('\n')
  it.each<[string, string, string[]]>([
    [
      'the same rule twice',
      `${base}push: [latest, edge, latest]`,
      [
        "convention c.yml: push[2]: renders 'latest' as push[0] does: an event writes each tag once; keep one rule"
      ]
    ],
    [
      'a plain rule for a forward pointer',
      `${base}release:\n  - { tag: 'v{version}', kind: version }\n  - { tag: production, kind: forward }\n  - next\n  - production`,
      [
        "convention c.yml: release[3]: renders 'production' as release[1] does, which release[1] makes a forward pointer: the plain rule would move it backwards, which only a rollback may; keep one rule"
      ]
    ],
    [
      'a highest pointer after a plain rule for it',
      `${base}release: [latest, { tag: latest, kind: highest }]`,
      [
        "convention c.yml: release[1]: renders 'latest' as release[0] does, which release[1] makes a highest pointer: the plain rule would move it backwards, which only a rollback may; keep one rule"
      ]
    ],
    [
      'two pointer rules for one tag',
      `${base}promote:\n  production: [{ tag: live, kind: forward }, { tag: live, kind: highest }]`,
      [
        "convention c.yml: promote.production[1]: renders 'live' as promote.production[0] does: an event writes each tag once; keep one rule"
      ]
    ],
    [
      'templates that render one tag for a stable version',
      `${base}release:\n  - { tag: 'v{version}', kind: version }\n  - { tag: 'v{major}.{minor}.{patch}', kind: version }`,
      [
        "convention c.yml: release[1]: renders 'v1.2.3' as release[0] does for version 1.2.3: an event writes each tag once; keep one rule"
      ]
    ],
    [
      'templates that always render one tag',
      `${base}push: ['c-{sha7}', 'c-{sha:7}', 'c-{build}', 'c-{run_number}']`,
      [
        "convention c.yml: push[1]: renders 'c-0123456' as push[0] does: an event writes each tag once; keep one rule",
        "convention c.yml: push[3]: renders 'c-4242' as push[2] does: an event writes each tag once; keep one rule"
      ]
    ],
    [
      'a rule for the build tag',
      `${base}push: ['b-{sha7}']`,
      [
        "convention c.yml: push[0]: renders 'b-0123456', which reads as the build tag 'b-{sha7}': every later run of that commit would start from where this rule moved it; use another tag"
      ]
    ],
    [
      'a rule for a tag a build tag with a run variable matches',
      "build-tag: 'b-{date}-{sha7}'\nversion-tag: v{version}\npush: ['b-main-{sha7}']",
      [
        "convention c.yml: push[0]: renders 'b-main-0123456', which reads as the build tag 'b-{date}-{sha7}': every later run of that commit would start from where this rule moved it; use another tag"
      ]
    ],
    [
      'a rule for the withdrawn mark',
      `${base}promote:\n  qa: [qa, { tag: 'withdrawn-{version}', optional: true }]`,
      [
        "convention c.yml: promote.qa[1]: renders 'withdrawn-1.2.3', the withdrawn mark of 1.2.3 (withdrawn-tag 'withdrawn-{version}'): every later run would take 1.2.3 as withdrawn by a rollback; use another tag"
      ]
    ],
    [
      'a plain rule for a version tag',
      `${base}prerelease: ['v{version}']`,
      [
        "convention c.yml: prerelease[0]: renders 'v1.2.3', the version tag of 1.2.3 (version-tag 'v{version}'), but is kind plain: a version tag never moves, so make it kind: version"
      ]
    ],
    [
      'more rules than ECR gives an image tags',
      `${base}release:\n${rules(1000)}`,
      [
        'convention c.yml: release: lists more than 999 rules: ECR allows 1,000 tags per image, and the build tag is one of them'
      ]
    ],
    [
      'ten thousand rules',
      `${base}push:\n${rules(10_000)}`,
      [
        'convention c.yml: push: lists more than 999 rules: ECR allows 1,000 tags per image, and the build tag is one of them'
      ]
    ],
    [
      'a build tag with a run variable and no commit',
      "build-tag: 'nightly-{branch}-{date}'\nversion-tag: v{version}",
      [
        "convention c.yml: build-tag: 'nightly-{branch}-{date}' uses {date}, which only the build's own run knows: a later run finds the build by the tag's other parts, and without {sha} or {sha7} they name no commit; add one, such as 'nightly-{branch}-{date}-{sha7}'"
      ]
    ],
    [
      'a build tag with run variables and no commit',
      "build-tag: 'b-{run_number}.{build}'\nversion-tag: v{version}",
      [
        "convention c.yml: build-tag: 'b-{run_number}.{build}' uses {run_number}, {build}, which only the build's own run knows: a later run finds the build by the tag's other parts, and without {sha} or {sha7} they name no commit; add one, such as 'b-{run_number}.{build}-{sha7}'"
      ]
    ],
    [
      'a longer sha than a commit has',
      "build-tag: 'b-{sha:41}'\nversion-tag: v{version}",
      ['convention c.yml: build-tag: {sha:41} takes more characters than a commit hash has (40)']
    ]
  ])('%s', (_name, text, expected) => {
    expect(problems(text)).toEqual(expected)
  })

  it.each([
    ['999 rules, with the build tag as many tags as ECR allows', `${base}release:\n${rules(999)}`],
    [
      'one tag in several events',
      `${base}push: [edge]\nrelease: [{ tag: live, kind: forward }, edge]\npromote:\n  production: [{ tag: live, kind: forward }]`
    ],
    [
      'templates that render one tag only for a prerelease, which a release never has',
      `${base}release: [{ tag: 'x-{version}', kind: version }, 'x-{major}.{minor}.{patch}-rc.1']`
    ],
    [
      'a build tag with a run variable and the commit',
      "build-tag: 'b-{date}-{sha:10}'\nversion-tag: v{version}"
    ]
  ])('accepts %s', (_name, text) => {
    expect(() => parseConvention(text, 'c.yml')).not.toThrow()
  })
})

describe('built-in conventions', () => {
  it.each<[string, object]>([
    ['environments', { guard: ['production'], tested: { production: 'staging' } }],
    ['channels', { guard: ['stable'], tested: { stable: '{version}-rc.*' } }]
  ])('%s guards its production pointer and names where its image is tested', (name, gates) => {
    expect(builtInConvention(name).gates).toEqual(gates)
  })

  it.each(Object.keys(BUILT_IN_CONVENTIONS))(
    '%s passes the schema and the template checks, which a run skips for it',
    (name) => {
      expect(parseConvention(BUILT_IN_CONVENTIONS[name] as string, name)).toEqual(
        builtInConvention(name)
      )
    }
  )
})
