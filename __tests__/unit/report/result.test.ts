import type { LifecycleOutcome } from '../../../src/run/cleanup.js'
import { cleanupFailure, jsonOutput, preview } from '../../../src/report/result.js'
import {
  copied,
  hold,
  lifecycleOutcome,
  manifest,
  plan,
  result,
  write
} from '../../support/builders.js'

const [build, old] = [manifest('b'), manifest('c')]

describe('preview', () => {
  it('shows where each tag would be once the plan is written, with the reason for a hold', () => {
    const held = 'a lower release never moves production'
    const changes = preview([
      plan('app', {
        steps: [write('v1.2.0', 'version', build), hold('production', 'forward', old, held)]
      }),
      plan('app2', { steps: [hold('latest', 'plain', build)] })
    ])
    expect(changes).toEqual([
      {
        repository: 'app',
        tag: 'v1.2.0',
        from: null,
        to: build.digest,
        now: build.digest,
        action: 'planned'
      },
      {
        repository: 'app',
        tag: 'production',
        from: old.digest,
        to: old.digest,
        now: old.digest,
        action: 'unchanged',
        note: held
      },
      {
        repository: 'app2',
        tag: 'latest',
        from: build.digest,
        to: build.digest,
        now: build.digest,
        action: 'unchanged'
      }
    ])
  })
})

describe('cleanupFailure', () => {
  const failureOf = (lifecycle: LifecycleOutcome[]) => cleanupFailure(result({ lifecycle }))

  it('names each refused image and says no policy was written', () => {
    const refused = lifecycleOutcome('web', 'refused', {
      refused: [
        {
          image: { digest: build.digest, tags: ['sha-aaaaaaa', 'v1.0.0'] },
          reason: 'it carries v1.0.0, which the convention keeps'
        },
        {
          image: { digest: old.digest, tags: [] },
          reason: 'an image the convention keeps holds it as a platform image'
        }
      ]
    })
    const { failure } = failureOf([lifecycleOutcome('api', 'not written'), refused])
    expect((failure as AggregateError).errors.map(({ message }: Error) => message)).toEqual([
      'the lifecycle policy would expire web@sha256:bbbbbbbbbbbb (sha-aaaaaaa, v1.0.0): it carries v1.0.0, which the convention keeps',
      'the lifecycle policy would expire web@sha256:cccccccccccc: an image the convention keeps holds it as a platform image',
      'no lifecycle policy was written'
    ])
  })

  it('fails nothing when every policy was written or in sync, and names one that could not be written', () => {
    expect(
      failureOf([lifecycleOutcome('api', 'written'), lifecycleOutcome('web', 'in sync')])
    ).toEqual({})
    expect(
      failureOf([lifecycleOutcome('api', 'failed', { error: new Error('ServerException: boom') })])
        .failure?.message
    ).toBe('the lifecycle policy of api was not written: ServerException: boom')
  })
})

describe('jsonOutput', () => {
  it('names the deployment a rollback to a moment went back to', () => {
    const recorded = {
      id: 7,
      environment: 'production',
      createdAt: new Date('2026-11-10T00:00:00Z'),
      payload: {
        repository: 'api',
        tag: 'production',
        digest: old.digest,
        version: null,
        image: ''
      }
    }
    expect(jsonOutput(result({ plans: [plan('api', { recorded })] }))[0]?.history).toEqual({
      deployment: 7,
      environment: 'production',
      'created-at': '2026-11-10T00:00:00.000Z',
      digest: old.digest
    })
  })

  it('gives a repository copied into the target its copy; one not copied none', () => {
    const json = jsonOutput(
      result({ repositories: ['api', 'worker'], copies: [copied('api', { warnings: ['kept'] })] })
    )
    expect(json.map((entry) => entry.copy)).toEqual([
      {
        from: `123456789012.dkr.ecr.us-east-1.amazonaws.com/api@${build.digest}`,
        blobs: { copied: 3, present: 4 },
        bytes: 43_201_331,
        manifests: 4,
        referrers: 2
      },
      undefined
    ])
  })
})
