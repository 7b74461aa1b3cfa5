import { matchesWildcard } from '../../../src/core/model.js'

describe('matchesWildcard', () => {
  it.each([
    ['production', 'production', true],
    ['production', 'production-2', false],
    ['prod*', 'production', true],
    ['prod*', 'prod', true],
    ['prod*', 'preprod', false],
    ['*-rc.*', '1.2.0-rc.1', true],
    ['sha-*-x', 'sha-abc-x', true],
    ['sha-*-x', 'sha-abc-y', false],
    ['a*b*c', 'a1b2c', true],
    ['a*b*c', 'acb', false],
    ['*.*.*', '1.2.3', true],
    ['*.*.*', 'app-main-abc1234', false],
    ['v1.2', 'v1.2', true],
    ['v1.2', 'v1x2', false],
    ['a+b', 'aab', false],
    ['(x)|y', 'y', false],
    ['(x)|y', '(x)|y', true]
  ])('%s on %s: %s', (pattern, tag, matches) => {
    expect(matchesWildcard(pattern, tag)).toBe(matches)
  })
})
