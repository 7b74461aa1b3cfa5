import { matchesWildcard } from '../../../src/core/model.js'
import {
  anyRun,
  commitOfBuildTag,
  isValidRepositoryName,
  isValidTag,
  renderTag,
  renderTemplate,
  runVariables,
  templatePattern,
  templateVariables,
  versionTagMatcher
} from '../../../src/core/tags.js'

describe('tag grammar', () => {
  it.each([
    ['latest', true],
    ['v1.2.0', true],
    ['sha-a1b2c3d', true],
    ['_internal', true],
    ['a'.repeat(128), true],
    ['a'.repeat(129), false],
    ['-leading-dash', false],
    ['.leading-dot', false],
    ['has space', false],
    ['plus+sign', false],
    ['', false]
  ])('%j valid: %s', (tag, valid) => {
    expect(isValidTag(tag)).toBe(valid)
  })
})

describe('repository grammar', () => {
  it.each([
    ['app', true],
    ['team/app', true],
    ['team/sub.group/my-app_2', true],
    ['a', false],
    ['App', false],
    ['team//app', false],
    ['/app', false],
    ['app-', false],
    ['app..x', false]
  ])('%j valid: %s', (name, valid) => {
    expect(isValidRepositoryName(name)).toBe(valid)
  })
})

describe('templates', () => {
  const values = { sha: 'a1b2c3d4e5f6', version: '1.2.0', branch: undefined }

  it.each([
    ['sha-{sha:7}', 'sha-a1b2c3d'],
    ['v{version}', 'v1.2.0'],
    ['plain', 'plain'],
    ['{version}-{sha:4}', '1.2.0-a1b2'],
    // A variable without a value in this run leaves the template out.
    ['{branch}-x', undefined]
  ])('%s renders %s', (template, tag) => {
    expect(renderTemplate(template, values)).toBe(tag)
  })

  it('rejects unknown variables', () => {
    expect(() => renderTemplate('{colour}', values)).toThrow(
      "tag template '{colour}' uses unknown variable {colour}"
    )
  })

  it('rejects a render that is not a valid tag', () => {
    expect(() => renderTag('-{version}', values)).toThrow(
      "tag template '-{version}' renders '-1.2.0', which is not a valid image tag"
    )
  })

  it('lists variables', () => {
    expect(templateVariables('{service}-{branch}-{sha:7}')).toEqual(['service', 'branch', 'sha'])
  })
})

describe('versionTagMatcher reads versions back from tags', () => {
  it.each([
    ['v{version}', 'v1.2.0', '1.2.0'],
    ['v{version}', 'latest', undefined],
    ['v{version}', 'v', undefined],
    ['{version}', '1.2.0', '1.2.0'],
    ['release-{version}-final', 'release-2.0.0-final', '2.0.0']
  ])('%s on %s', (template, tag, version) => {
    expect(versionTagMatcher(template)(tag)).toBe(version)
  })

  it.each(['v{version}{version}', 'latest', '{major}-{version}'])(
    'rejects the template %s',
    (template) => {
      expect(() => versionTagMatcher(template)).toThrow('must contain {version} exactly once')
    }
  )
})

describe('commitOfBuildTag reads the commit back from a build tag', () => {
  const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
  it.each([
    ['sha-{sha7}', 'sha-a1b2c3d', 'a1b2c3d'],
    ['sha-{sha7}', 'sha-a1b2c3', undefined],
    ['sha-{sha7}', 'sha-a1b2c3d4', undefined],
    ['sha-{sha7}', 'sha-A1B2C3D', undefined],
    ['sha-{sha7}', 'sha-g1b2c3d', undefined],
    ['sha-{sha7}', 'xsha-a1b2c3d', undefined],
    ['sha-{sha7}', 'latest', undefined],
    ['{service}-{branch}-{sha7}', 'api-main-a1b2c3d', 'a1b2c3d'],
    ['{service}-{branch}-{sha7}', 'api-feature-login-x-a1b2c3d', 'a1b2c3d'],
    ['{service}-{branch}-{sha7}', 'api--a1b2c3d', undefined],
    ['{service}-{branch}-{sha7}', 'api-a1b2c3d', undefined],
    ['{sha}', SHA, SHA],
    ['{sha}', SHA.slice(0, 39), undefined],
    ['{sha:12}', SHA.slice(0, 12), SHA.slice(0, 12)],
    ['{sha:12}', SHA.slice(0, 7), undefined],
    ['sha-{sha7:5}', 'sha-a1b2c', 'a1b2c'],
    ['build-{sha:7}-{build}', 'build-a1b2c3d-42', 'a1b2c3d'],
    ['{sha7}-{sha}', `a1b2c3d-${SHA}`, 'a1b2c3d'],
    ['latest', 'latest', undefined],
    ['{branch}-{build}', 'main-42', undefined],
    ['b.{sha7}', 'b.a1b2c3d', 'a1b2c3d'],
    ['b.{sha7}', 'bxa1b2c3d', undefined],
    ['b.-{sha7}', 'b.-a1b2c3d', 'a1b2c3d'],
    ['b.-{sha7}', 'bb-a1b2c3d', undefined],
    ['{sha7}.b', 'a1b2c3d.b', 'a1b2c3d'],
    ['{sha7}.b', 'a1b2c3dxb', undefined]
  ])('%s on %s', (template, tag, commit) => {
    expect(commitOfBuildTag(template, tag)).toBe(commit)
  })

  it.each([
    ['sha-{sha7}', { sha7: 'a1b2c3d' }],
    ['{service}-{branch}-{sha7}', { service: 'api', branch: 'release-2.0', sha7: 'a1b2c3d' }],
    ['{sha:10}_{date}', { sha: SHA, date: '20261119' }],
    ['sha-{sha7:5}', { sha7: 'a1b2c3d' }],
    ['sha-{sha7:12}', { sha7: 'a1b2c3d' }]
  ])('reads back what %s renders', (template, values) => {
    const tag = renderTemplate(template, values) as string
    expect(SHA.startsWith(commitOfBuildTag(template, tag) ?? 'none')).toBe(true)
  })
})

describe('a build tag with run variables matches the builds of its commit from any run', () => {
  const values = {
    sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    sha7: 'a1b2c3d',
    branch: 'main',
    service: 'api',
    date: '20261123',
    build: '57',
    run_number: '57'
  }

  it.each([
    ['build-{date}-{sha:10}', 'build-*-a1b2c3d4e5', ['date']],
    ['{service}-{branch}-{run_number}-{sha7}', 'api-main-*-a1b2c3d', ['run_number']],
    ['b{build}{date:4}.{sha7}', 'b**.a1b2c3d', ['build', 'date']],
    ['sha-{sha7}', 'sha-a1b2c3d', []]
  ])('%s renders %s', (template, pattern, variables) => {
    expect(runVariables(template)).toEqual(variables)
    expect(renderTemplate(template, anyRun(values))).toBe(pattern)
  })

  it.each([
    ['build-{date}-{sha:10}', 'build-20261122-a1b2c3d4e5', true],
    ['build-{date}-{sha:10}', 'build-20251231-a1b2c3d4e5', true],
    ['build-{date}-{sha:10}', 'build-20261123-a1b2c3d4e6', false],
    ['build-{date}-{sha:10}', 'build-20261123-a1b2c3d4e5x', false],
    ['build-{date}-{sha:10}', 'xbuild-20261123-a1b2c3d4e5', false],
    ['build-{date}-{sha:10}', 'sha-a1b2c3d', false],
    ['{service}-{branch}-{run_number}-{sha7}', 'api-main-12-a1b2c3d', true],
    ['{service}-{branch}-{run_number}-{sha7}', 'api-dev-12-a1b2c3d', false],
    ['{service}-{branch}-{run_number}-{sha7}', 'web-main-12-a1b2c3d', false]
  ])('%s matches %s: %s', (template, tag, matches) => {
    const pattern = renderTemplate(template, anyRun(values)) as string
    expect(matchesWildcard(pattern, tag)).toBe(matches)
  })
})

describe('templatePattern', () => {
  it.each([
    ['sha-{sha7}', 'sha-*'],
    ['v{version}', 'v*.*.*'],
    ['{version}', '*.*.*'],
    ['{service}-{branch}-{sha7}', '*-*-*'],
    ['{sha:12}', '*'],
    ['{service}{branch}', '*'],
    ['{version}-rc.{build}', '*.*.*-rc.*'],
    ['production', 'production']
  ])('%s matches every tag it renders as %s', (template, pattern) => {
    expect(templatePattern(template)).toBe(pattern)
  })
})
