import { parseConvention } from '../../../src/core/convention-file.js'
import {
  BUILT_IN_CONVENTIONS,
  builtInConvention,
  loadConvention
} from '../../../src/core/conventions.js'
import { rows } from '../../support/builders.js'
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
    ...['gitflow', 'constructor', 'toString'].map((name) => [
      name,
      `unknown convention '${name}': use environments or channels, or the path of a convention file`
    ]),
    [
      '.github/missing.yml',
      'cannot read convention file .github/missing.yml: ENOENT: no such file or directory'
    ]
  ])('refuses %s', async (spec, message) => {
    await expect(loadConvention(spec, readText)).rejects.toThrow(message)
  })
})

const base = 'build-tag: b-{sha7}\nversion-tag: v{version}\n'
const rules = (count: number) =>
  Array.from({ length: count }, (_, index) => `  - t${index}`).join('\n')
const VARIABLES =
  '{sha}, {sha7}, {branch}, {service}, {build}, {run_number}, {date}, {version}, {major}, {minor}, {patch}, {prerelease}, {environment}'

/** Rows `name | convention | problem`; a convention starting `+` is added to `base`, `\n` is a new line. */
const mistakes = (...lines: string[]) =>
  rows(...lines).map(([name = '', text = '', problem = '']) => [
    name,
    (text.startsWith('+') ? base + text.slice(1) : text).replaceAll('\\n', '\n'),
    problem
  ])

describe('a convention with a mistake gets an error that names the field', () => {
  it.each(
    mistakes(
      'not YAML | build-tag: [ |  is not valid YAML or JSON: Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 13',
      'no build tag | version-tag: v{version} | : build-tag: is required',
      'an unknown field | +relase: [] | : relase: is not a known field',
      'an unknown kind | +release: [{ tag: latest, kind: floating }] | : release[0].kind: must be one of plain, version, forward, highest',
      "a template with a space | +push: ['my tag'] | : push[0]: must be a tag template: letters, digits, . _ - and {variables} such as {version} or {sha:7}",
      "a tested-image rule with a space | +gates: { tested: { production: 'my staging' } } | : gates.tested.production: must be a tag or tag template, with * for any run of characters, such as staging or {version}-rc.*",
      `a tested-image rule with a variable no trigger has | +gates: { tested: { production: '{flavour}-*' } } | : gates.tested.production: {flavour} is not a template variable; use ${VARIABLES}`,
      'a withdrawn mark without {version} | +withdrawn-tag: withdrawn | : withdrawn-tag: must contain {version} exactly once, and no other variable',
      `a withdrawn mark that reads as a version tag | build-tag: b-{sha7}\\nversion-tag: "{version}"\\nwithdrawn-tag: "{version}-withdrawn" | : withdrawn-tag: '{version}-withdrawn' renders tags that read as the version tag '{version}': add a prefix such as withdrawn-`,
      "a withdrawn mark that is the version tag | +withdrawn-tag: v{version} | : withdrawn-tag: 'v{version}' renders tags that read as the version tag 'v{version}': add a prefix such as withdrawn-",
      "a withdrawn mark that matches the build tag | build-tag: b-{branch}\\nversion-tag: v{version}\\nwithdrawn-tag: b-gone-{version} | : withdrawn-tag: 'b-gone-{version}' renders tags that match the build tag 'b-{branch}'",
      'a deployment environment that is not a string | +deployments: { production: [prod] } | : deployments.production: must be a string',
      'a version tag without {version} | build-tag: b\\nversion-tag: release | : version-tag: must contain {version} exactly once, and no other variable',
      'rules that are not a list | +push: edge | : push: must be a list',
      `an unknown variable | +push: ['edge-{colour}'] | : push[0]: {colour} is not a template variable; use ${VARIABLES}`,
      "a variable the trigger does not have | +push: [{ tag: 'v{version}' }] | : push[0].tag: {version} has no value there; available: {sha}, {sha7}, {branch}, {service}, {build}, {run_number}, {date}",
      "a tag that would start with a dash | +promote:\\n  qa: ['-qa'] | : promote.qa[0]: '-qa' starts with '-', which a tag cannot",
      "an invalid rollback tag | +rollback: 'prod env' | : rollback: must be a valid tag (letters, digits, . _ -; at most 128)"
    )
  )('%s', (_name, text, problem) => {
    expect(problems(text)).toEqual([`convention c.yml${problem}`])
  })

  it('names several mistakes at once', () => {
    expect(problems('version-tag: v\npush: [{ tag: x, kind: nope, extra: 1 }]')).toEqual([
      'convention c.yml: build-tag: is required',
      'convention c.yml: version-tag: must contain {version} exactly once, and no other variable',
      'convention c.yml: push[0].extra: is not a known field',
      'convention c.yml: push[0].kind: must be one of plain, version, forward, highest'
    ])
  })
})

describe('a convention whose rules would corrupt a run is refused on load', () => {
  const once = 'an event writes each tag once; keep one rule'
  const backwards =
    'the plain rule would move it backwards, which only a rollback may; keep one rule'
  const buildTag =
    'every later run of that commit would start from where this rule moved it; use another tag'
  const commitless =
    "which only the build's own run knows: a later run finds the build by the tag's other parts, and without {sha} or {sha7} they name no commit; add one, such as"
  it.each(
    mistakes(
      `the same rule twice | +push: [latest, edge, latest] | : push[2]: renders 'latest' as push[0] does: ${once}`,
      `a plain rule for a forward pointer | +release:\\n  - { tag: 'v{version}', kind: version }\\n  - { tag: production, kind: forward }\\n  - next\\n  - production | : release[3]: renders 'production' as release[1] does, which release[1] makes a forward pointer: ${backwards}`,
      `a highest pointer after a plain rule for it | +release: [latest, { tag: latest, kind: highest }] | : release[1]: renders 'latest' as release[0] does, which release[1] makes a highest pointer: ${backwards}`,
      `two pointer rules for one tag | +promote:\\n  production: [{ tag: live, kind: forward }, { tag: live, kind: highest }] | : promote.production[1]: renders 'live' as promote.production[0] does: ${once}`,
      `templates that render one tag for a stable version | +release:\\n  - { tag: 'v{version}', kind: version }\\n  - { tag: 'v{major}.{minor}.{patch}', kind: version } | : release[1]: renders 'v1.2.3' as release[0] does for version 1.2.3: ${once}`,
      `a rule for the build tag | +push: ['b-{sha7}'] | : push[0]: renders 'b-0123456', which reads as the build tag 'b-{sha7}': ${buildTag}`,
      `a rule for a tag a build tag with a run variable matches | build-tag: 'b-{date}-{sha7}'\\nversion-tag: v{version}\\npush: ['b-main-{sha7}'] | : push[0]: renders 'b-main-0123456', which reads as the build tag 'b-{date}-{sha7}': ${buildTag}`,
      "a rule for the withdrawn mark | +promote:\\n  qa: [qa, { tag: 'withdrawn-{version}', optional: true }] | : promote.qa[1]: renders 'withdrawn-1.2.3', the withdrawn mark of 1.2.3 (withdrawn-tag 'withdrawn-{version}'): every later run would take 1.2.3 as withdrawn by a rollback; use another tag",
      "a plain rule for a version tag | +prerelease: ['v{version}'] | : prerelease[0]: renders 'v1.2.3', the version tag of 1.2.3 (version-tag 'v{version}'), but is kind plain: a version tag never moves, so make it kind: version",
      `a build tag with a run variable and no commit | build-tag: 'nightly-{branch}-{date}'\\nversion-tag: v{version} | : build-tag: 'nightly-{branch}-{date}' uses {date}, ${commitless} 'nightly-{branch}-{date}-{sha7}'`,
      `a build tag with run variables and no commit | build-tag: 'b-{run_number}.{build}'\\nversion-tag: v{version} | : build-tag: 'b-{run_number}.{build}' uses {run_number}, {build}, ${commitless} 'b-{run_number}.{build}-{sha7}'`,
      "a longer sha than a commit has | build-tag: 'b-{sha:41}'\\nversion-tag: v{version} | : build-tag: {sha:41} takes more characters than a commit hash has (40)"
    )
  )('%s', (_name, text, problem) => {
    expect(problems(text)).toEqual([`convention c.yml${problem}`])
  })

  it.each([
    ['more rules than ECR gives an image tags', 'release', 1000],
    ['ten thousand rules', 'push', 10_000]
  ])('%s', (_name, section, count) => {
    expect(problems(`${base}${section}:\n${rules(count)}`)).toEqual([
      `convention c.yml: ${section}: lists more than 999 rules: ECR allows 1,000 tags per image, and the build tag is one of them`
    ])
  })

  it('names each pair of templates that always render one tag', () => {
    expect(
      problems(`${base}push: ['c-{sha7}', 'c-{sha:7}', 'c-{build}', 'c-{run_number}']`)
    ).toEqual([
      `convention c.yml: push[1]: renders 'c-0123456' as push[0] does: ${once}`,
      `convention c.yml: push[3]: renders 'c-4242' as push[2] does: ${once}`
    ])
  })

  it.each([
    ['999 rules, with the build tag as many tags as ECR allows', `${base}release:\n${rules(999)}`],
    ...mistakes(
      'one tag in several events | +push: [edge]\\nrelease: [{ tag: live, kind: forward }, edge]\\npromote:\\n  production: [{ tag: live, kind: forward }]',
      "templates that render one tag only for a prerelease, which a release never has | +release: [{ tag: 'x-{version}', kind: version }, 'x-{major}.{minor}.{patch}-rc.1']",
      "a build tag with a run variable and the commit | build-tag: 'b-{date}-{sha:10}'\\nversion-tag: v{version}"
    )
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
    '%s loads by its name, and passes the schema and the template checks, which a run skips for it',
    async (name) => {
      const loaded = await loadConvention(name, readText)
      expect(loaded.name).toBe(name)
      expect(parseConvention(JSON.stringify(BUILT_IN_CONVENTIONS[name]), name)).toEqual(loaded)
    }
  )
})
