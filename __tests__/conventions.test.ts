import {
  BUILT_IN_CONVENTIONS,
  builtInConvention,
  loadConvention,
  parseConvention
} from '../src/conventions.js'
import { thrownBy } from './support/thrown.js'

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
