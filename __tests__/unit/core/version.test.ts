import {
  compareVersions,
  highestVersion,
  parseVersion,
  requireVersion
} from '../../../src/core/version.js'

describe('parseVersion accepts strict SemVer only', () => {
  it.each([
    ['1.2.3', '1.2.3'],
    ['0.0.0', '0.0.0'],
    ['10.20.30', '10.20.30'],
    ['1.2.3-rc.1', '1.2.3-rc.1'],
    ['1.2.3-alpha-1.beta', '1.2.3-alpha-1.beta'],
    ['1.2.3+build.5', '1.2.3'],
    ['1.2.3-rc.1+sha.abc', '1.2.3-rc.1']
  ])('%s → %s', (input, text) => {
    expect(parseVersion(input)?.text).toBe(text)
  })

  it.each([
    'v1.2.3',
    '1.2',
    '01.2.3',
    '1.2.3-01',
    '=1.2.3',
    ' 1.2.3',
    '1.2.3 ',
    'latest',
    '1.2.3-',
    '1.2.3+',
    ''
  ])('rejects %j', (input) => {
    expect(parseVersion(input)).toBeUndefined()
  })

  it.each([
    ['9007199254740991.0.0', '9007199254740991.0.0'],
    ['0.9007199254740991.9007199254740991', '0.9007199254740991.9007199254740991'],
    ['9007199254740992.0.0', undefined],
    ['99999999999999999999.0.0', undefined],
    ['1.99999999999999999999.0', undefined],
    ['1.0.99999999999999999999-rc.1', undefined]
  ])('takes numbers up to what semver orders: %s → %s', (input, text) => {
    expect(parseVersion(input)?.text).toBe(text)
  })

  it('never hands compareVersions a version it cannot order', () => {
    const tags = ['1.0.0', '99999999999999999999.0.0', '2.0.0']
    const versions = tags.flatMap((tag) => parseVersion(tag) ?? [])
    expect(highestVersion(versions)?.text).toBe('2.0.0')
  })
})

describe('requireVersion takes what users type', () => {
  it.each([
    ['v1.1.0', '1.1.0'],
    ['1.1.0', '1.1.0'],
    ['v2.0.0-beta.2', '2.0.0-beta.2']
  ])('%s → %s', (input, text) => {
    expect(requireVersion(input, 'version').text).toBe(text)
  })

  const range = 'is out of range: MAJOR, MINOR and PATCH are each at most 9007199254740991'
  it.each([
    ...['vv1.0.0', 'V1.0.0', 'v1', 'previous'].map((input) => [input, 'is not a semantic version']),
    ...['v99999999999999999999.0.0', '1.9007199254740992.0', '1.0.9007199254740992-rc.1'].map(
      (input) => [input, range]
    )
  ])('rejects %j with a message naming it: %s', (input, why) => {
    expect(() => requireVersion(input, 'version')).toThrow(`version '${input}' ${why}`)
  })
})

describe('version order follows SemVer precedence', () => {
  it.each([
    ['1.2.0', '1.10.0', -1],
    ['1.2.0-rc.1', '1.2.0', -1],
    ['1.2.0-rc.2', '1.2.0-rc.10', -1],
    ['2.0.0', '1.99.99', 1],
    ['1.0.0', '1.0.0', 0]
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(requireVersion(a, 'a'), requireVersion(b, 'b')))).toBe(sign)
  })

  it('finds the highest', () => {
    const versions = ['1.2.0', '1.10.0', '1.9.9', '1.10.0-rc.1'].map((v) => requireVersion(v, 'v'))
    expect(highestVersion(versions)?.text).toBe('1.10.0')
    expect(highestVersion([])).toBeUndefined()
  })
})
