import { environments, loadConvention } from '../src/conventions.js'
import { derive, type RunValues } from '../src/derive.js'
import type { Trigger } from '../src/trigger.js'
import { requireVersion } from '../src/version.js'

const run: RunValues = {
  repository: 'team/app',
  sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  service: 'app',
  source: ''
}
const v = (text: string) => requireVersion(text, 'version')

describe('the environments convention', () => {
  it.each<[string, Trigger, object]>([
    [
      'push to main tags latest',
      { event: 'push', branch: 'main', defaultBranch: true },
      { source: { tag: 'sha-a1b2c3d' }, targets: [{ tag: 'latest', kind: 'plain' }] }
    ],
    [
      'push to another branch only checks the build image',
      { event: 'push', branch: 'feature/x', defaultBranch: false },
      { source: { tag: 'sha-a1b2c3d' }, targets: [] }
    ],
    [
      'release adds the version tag and moves production forward',
      { event: 'release', version: v('1.2.0'), prerelease: false },
      {
        source: { tag: 'sha-a1b2c3d' },
        targets: [
          { tag: 'v1.2.0', kind: 'version' },
          { tag: 'production', kind: 'forward' }
        ],
        pointer: 'production',
        version: v('1.2.0')
      }
    ],
    [
      'prerelease gets its own tag only',
      { event: 'release', version: v('1.3.0-rc.1'), prerelease: true },
      { targets: [{ tag: 'v1.3.0-rc.1', kind: 'version' }] }
    ],
    [
      'promote to staging',
      { event: 'promote', environment: 'staging' },
      {
        source: { tag: 'sha-a1b2c3d' },
        targets: [{ tag: 'staging', kind: 'plain' }],
        pointer: 'staging'
      }
    ],
    [
      'promote to canary',
      { event: 'promote', environment: 'canary' },
      { targets: [{ tag: 'canary', kind: 'plain' }], pointer: 'canary' }
    ],
    [
      'promote to production without a version',
      { event: 'promote', environment: 'production' },
      { targets: [{ tag: 'production', kind: 'forward' }], pointer: 'production' }
    ],
    [
      'promote to production with a version adds the version tag',
      { event: 'promote', environment: 'production', version: v('1.2.0') },
      {
        targets: [
          { tag: 'production', kind: 'forward' },
          { tag: 'v1.2.0', kind: 'version' }
        ]
      }
    ],
    [
      'rollback re-points production to the version image',
      { event: 'rollback', to: v('1.1.0') },
      {
        source: { tag: 'v1.1.0' },
        targets: [{ tag: 'production', kind: 'rollback' }],
        pointer: 'production'
      }
    ],
    [
      'rollback to previous is resolved against the registry',
      { event: 'rollback', to: 'previous' },
      {
        source: { previousVersionOf: 'production' },
        targets: [{ tag: 'production', kind: 'rollback' }]
      }
    ]
  ])('%s', (_name, trigger, expected) => {
    const intent = derive(environments, trigger, run)
    expect(intent).toMatchObject({ repository: 'team/app', versionTag: 'v{version}', ...expected })
  })
})

describe('derive', () => {
  it('takes the source input, as a tag or a digest, over the build tag', () => {
    const push: Trigger = { event: 'push', branch: 'main', defaultBranch: true }
    expect(derive(environments, push, { ...run, source: 'candidate' }).source).toEqual({
      tag: 'candidate'
    })
    const digest = `sha256:${'ab'.repeat(32)}`
    expect(derive(environments, push, { ...run, source: digest }).source).toEqual({ digest })
  })

  it('needs a commit for the build tag', () => {
    const push: Trigger = { event: 'push', branch: 'main', defaultBranch: true }
    expect(() => derive(environments, push, { ...run, sha: undefined })).toThrow(
      "tag template 'sha-{sha7}' needs {sha7}, which this run does not have"
    )
  })

  it('rejects an environment the convention does not know', () => {
    expect(() => derive(environments, { event: 'promote', environment: 'qa' }, run)).toThrow(
      "the environments convention has no promotion to 'qa': it knows staging, canary, production"
    )
  })
})

describe('loadConvention', () => {
  it('knows the built-in environments convention', () => {
    expect(loadConvention('environments')).toBe(environments)
  })

  it('names the built-ins when it does not know one', () => {
    expect(() => loadConvention('gitflow')).toThrow(
      "unknown convention 'gitflow': the built-in conventions are environments"
    )
  })
})
