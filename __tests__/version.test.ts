import { compareVersions, highestVersion, parseVersion, requireVersion } from '../src/version.js'

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
})

describe('requireVersion takes what users type', () => {
  it.each([
    ['v1.1.0', '1.1.0'],
    ['1.1.0', '1.1.0'],
    ['v2.0.0-beta.2', '2.0.0-beta.2']
  ])('%s → %s', (input, text) => {
    expect(requireVersion(input, 'version').text).toBe(text)
  })

  it.each(['vv1.0.0', 'V1.0.0', 'v1', 'previous'])(
    'rejects %j with a message naming it',
    (input) => {
      expect(() => requireVersion(input, 'version')).toThrow(
        `version '${input}' is not a semantic version`
      )
    }
  )
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
