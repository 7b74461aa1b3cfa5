import {
  describeTrigger,
  resolveTrigger,
  type EventContext,
  type TriggerInputs
} from '../../../src/core/trigger.js'

const noInputs: TriggerInputs = {
  event: '',
  branch: '',
  releaseTag: '',
  version: '',
  environment: ''
}
const context = (
  eventName: string,
  ref: string,
  payload: EventContext['payload'] = {},
  headRef = ''
): EventContext => ({ eventName, ref, headRef, payload })
const PUSH = context('push', 'refs/heads/main')
const DISPATCH = context('workflow_dispatch', 'refs/heads/main')
const dispatched = (inputs: Record<string, string>) =>
  context('workflow_dispatch', 'refs/heads/main', { inputs })
const trunk = { repository: { default_branch: 'trunk' } }

describe('resolveTrigger maps GitHub events when the event input is empty', () => {
  it.each([
    ['push to main', PUSH, 'push to main', { defaultBranch: true, pullRequest: false }],
    [
      'push to the default branch named in the payload',
      context('push', 'refs/heads/trunk', trunk),
      'push to trunk',
      { defaultBranch: true }
    ],
    [
      'push to main when the default branch is trunk',
      context('push', 'refs/heads/main', trunk),
      'push to main',
      { defaultBranch: false }
    ],
    [
      'push to a feature branch',
      context('push', 'refs/heads/feature/x'),
      'push to feature/x',
      { defaultBranch: false }
    ],
    [
      'push of a tag ref',
      context('push', 'refs/tags/v1.2.0'),
      'release 1.2.0',
      { prerelease: false }
    ],
    [
      'push of a prerelease tag',
      context('push', 'refs/tags/v2.0.0-rc.1'),
      'prerelease 2.0.0-rc.1',
      { prerelease: true }
    ],
    [
      'release published',
      context('release', 'refs/tags/v1.2.0', {
        release: { tag_name: 'v1.2.0', prerelease: false }
      }),
      'release 1.2.0',
      { prerelease: false }
    ],
    [
      'release flagged prerelease on GitHub',
      context('release', 'refs/tags/v1.3.0', { release: { tag_name: 'v1.3.0', prerelease: true } }),
      'prerelease 1.3.0',
      { prerelease: true }
    ],
    [
      'release without a v prefix, build metadata dropped',
      context('release', '', { release: { tag_name: '1.4.0+build.7' } }),
      'release 1.4.0',
      { prerelease: false }
    ],
    [
      'pull request uses the head branch',
      context('pull_request', 'refs/pull/7/merge', {}, 'fix/login'),
      'pull request: no tag is written',
      { branch: 'fix/login', defaultBranch: false, pullRequest: true }
    ],
    [
      "a fork's pull request from a branch named main never counts as the default branch",
      context('pull_request', 'refs/pull/8/merge', {}, 'main'),
      'pull request: no tag is written',
      { defaultBranch: false, pullRequest: true }
    ],
    [
      'pull_request_target from main likewise',
      context('pull_request_target', 'refs/heads/main', {}, 'main'),
      'pull request: no tag is written',
      { defaultBranch: false, pullRequest: true }
    ],
    [
      'release released',
      context('release', 'refs/tags/v1.2.0', {
        action: 'released',
        release: { tag_name: 'v1.2.0', prerelease: false }
      }),
      'release 1.2.0',
      { prerelease: false }
    ],
    [
      'release prereleased',
      context('release', 'refs/tags/v1.3.0-rc.1', {
        action: 'prereleased',
        release: { tag_name: 'v1.3.0-rc.1', prerelease: true }
      }),
      'prerelease 1.3.0-rc.1',
      { prerelease: true }
    ],
    [
      'workflow_dispatch with a version rolls back',
      dispatched({ version: 'v1.1.0' }),
      'rollback to 1.1.0',
      {}
    ],
    [
      'workflow_dispatch with previous',
      dispatched({ version: 'previous' }),
      'rollback to the previous version',
      {}
    ],
    [
      'workflow_dispatch with a date rolls back to where the pointer was then',
      dispatched({ version: '2026-11-19' }),
      'rollback to where it was at 2026-11-19T23:59:59.999Z',
      { event: 'rollback', to: { text: '2026-11-19' } }
    ],
    [
      'workflow_dispatch with an environment promotes',
      dispatched({ environment: 'staging' }),
      'promotion to staging',
      {}
    ],
    [
      'deployment promotes to its environment',
      context('deployment', 'refs/heads/main', { deployment: { environment: 'canary' } }),
      'promotion to canary',
      {}
    ]
  ])('%s', (_name, ctx, description, fields) => {
    const trigger = resolveTrigger(noInputs, ctx)
    expect(describeTrigger(trigger)).toBe(description)
    expect(trigger).toMatchObject(fields)
  })
})

describe('resolveTrigger writes nothing for events that publish nothing', () => {
  it.each([
    [
      'created',
      "release action 'created' publishes nothing: only published, released, prereleased tag an image"
    ],
    ['edited', "release action 'edited' publishes nothing"],
    ['deleted', "release action 'deleted' publishes nothing"],
    ['unpublished', "release action 'unpublished' publishes nothing"]
  ])('a release %s', (action, reason) => {
    const trigger = resolveTrigger(
      { ...noInputs, event: 'release' },
      context('release', 'refs/tags/v1.2.0', { action, release: { tag_name: 'v1.2.0' } })
    )
    expect(trigger).toMatchObject({ event: 'none', reason: expect.stringContaining(reason) })
    expect(describeTrigger(trigger)).toBe(
      `nothing to do: ${(trigger as { reason: string }).reason}`
    )
  })

  it('a draft release, even when published', () => {
    const trigger = resolveTrigger(
      noInputs,
      context('release', '', { action: 'published', release: { tag_name: 'v1.2.0', draft: true } })
    )
    expect(trigger).toEqual({
      event: 'none',
      branch: '',
      reason: 'the release is a draft: nothing is tagged until it is published'
    })
  })

  it('refuses an event input other than push on a pull request', () => {
    expect(() =>
      resolveTrigger(
        { ...noInputs, event: 'promote', environment: 'production' },
        context('pull_request_target', 'refs/heads/main', {}, 'main')
      )
    ).toThrow(
      "a pull_request_target event never writes tags, so event 'promote' cannot run on it: use push"
    )
  })

  it('lets a pull request read the status, which writes nothing', () => {
    expect(
      resolveTrigger(
        { ...noInputs, event: 'status' },
        context('pull_request', 'refs/pull/7/merge', {}, 'feature')
      )
    ).toEqual({ event: 'status', branch: 'feature' })
  })
})

describe('resolveTrigger honours explicit inputs', () => {
  it.each([
    [{ event: 'push', branch: 'main' }, context('schedule', ''), 'push to main'],
    [{ event: 'release', releaseTag: '2.0.0' }, DISPATCH, 'release 2.0.0'],
    [{ version: '1.1.0' }, dispatched({ version: '9.9.9' }), 'rollback to 1.1.0'],
    [
      { event: 'promote', environment: 'production', version: 'v1.2.0' },
      DISPATCH,
      'promotion to production of 1.2.0'
    ],
    [{ event: 'rollback', version: 'previous' }, PUSH, 'rollback to the previous version'],
    [{ event: 'lifecycle' }, context('schedule', ''), 'lifecycle policy'],
    [{ event: 'prune' }, context('schedule', ''), 'prune old releases'],
    [{ event: 'status' }, context('schedule', ''), 'status of the pointers'],
    [{ event: 'restore-version', version: 'v1.2.0' }, DISPATCH, 'restore withdrawn version 1.2.0'],
    [
      { event: 'restore-version' },
      dispatched({ version: '2.0.0-rc.1' }),
      'restore withdrawn version 2.0.0-rc.1'
    ],
    [
      { event: 'rollback', version: '2026-11-19' },
      DISPATCH,
      'rollback to where it was at 2026-11-19T23:59:59.999Z'
    ],
    [
      { event: 'rollback', version: '2026-11-19T16:00+01:00' },
      DISPATCH,
      'rollback to where it was at 2026-11-19T15:00:00.000Z'
    ],
    [{ event: 'rollback', version: '2026.11.19' }, DISPATCH, 'rollback to 2026.11.19']
  ])('%j on %j', (inputs, ctx, description) => {
    expect(describeTrigger(resolveTrigger({ ...noInputs, ...inputs }, ctx))).toBe(description)
  })

  it.each([
    ['2026-11-19', { at: new Date('2026-11-19T23:59:59.999Z'), text: '2026-11-19' }],
    [
      '2026-11-19T09:30:00-05:30',
      { at: new Date('2026-11-19T15:00:00Z'), text: '2026-11-19T09:30:00-05:30' }
    ]
  ])('a rollback to %s goes to that moment, as typed', (version, to) => {
    expect(resolveTrigger({ ...noInputs, event: 'rollback', version }, PUSH)).toEqual({
      event: 'rollback',
      branch: 'main',
      to
    })
  })

  it.each([
    [{ event: 'status' }, { event: 'status', branch: 'release' }],
    [
      { event: 'restore-version', version: '1.2.0' },
      {
        event: 'restore-version',
        branch: 'release',
        version: { text: '1.2.0', major: 1, minor: 2, patch: 0, prerelease: '' }
      }
    ]
  ])('event %j writes no pointer', (inputs, trigger) => {
    expect(
      resolveTrigger({ ...noInputs, ...inputs }, context('workflow_dispatch', 'refs/heads/release'))
    ).toEqual(trigger)
  })

  it.each([
    [context('schedule', '', trunk), 'trunk'],
    [context('workflow_dispatch', 'refs/heads/release'), 'release']
  ])('event lifecycle writes no tag, on the branch of %j', (ctx, branch) => {
    expect(resolveTrigger({ ...noInputs, event: 'lifecycle' }, ctx)).toEqual({
      event: 'lifecycle',
      branch
    })
  })
})

describe('resolveTrigger rejects what it cannot act on, naming the fix', () => {
  it.each([
    [
      {},
      context('schedule', 'refs/heads/main'),
      /cannot tell what to do on a 'schedule' event: set the event input/
    ],
    [{}, DISPATCH, /needs a version \(rollback\) or an environment/],
    [
      {},
      dispatched({ version: '1.0.0', environment: 'staging' }),
      /both a version and an environment: set the event input/
    ],
    [{ event: 'rollback' }, PUSH, /a rollback needs a version/],
    [{ event: 'promote' }, PUSH, /a promotion needs a target/],
    [{ event: 'release' }, PUSH, /needs a release tag/],
    [
      {},
      context('release', '', { release: { tag_name: 'release-2024' } }),
      /release tag 'release-2024' is not a semantic version/
    ],
    [{}, context('push', 'refs/tags/v1.2'), /release tag 'v1.2' is not a semantic version/],
    [{ event: 'push' }, context('release', 'refs/tags/v1.0.0'), /cannot tell the branch/],
    [{ event: 'deploy' }, PUSH, /unknown event 'deploy'/],
    [{ version: '1.0' }, DISPATCH, /version '1.0' is not a semantic version/],
    [
      { event: 'rollback' },
      PUSH,
      /set the version input to a version such as 1.1.0, to previous, or to a date such as 2026-11-19/
    ],
    [
      { event: 'rollback', version: '2026-11-19T15:00:00' },
      DISPATCH,
      /version '2026-11-19T15:00:00' is not a semantic version/
    ],
    [
      { event: 'restore-version' },
      DISPATCH,
      /^restore-version needs the version input: the version to take the mark off$/
    ],
    [
      { event: 'restore-version', version: 'previous' },
      DISPATCH,
      /version 'previous' is not a semantic version/
    ],
    [
      { event: 'restore-version', version: '2026-11-19' },
      DISPATCH,
      /version '2026-11-19' is not a semantic version/
    ],
    [
      { event: 'deploy' },
      PUSH,
      /use one of push, release, promote, rollback, lifecycle, prune, status, restore-version$/
    ]
  ])('%j on %j', (inputs, ctx, message) => {
    expect(() => resolveTrigger({ ...noInputs, ...inputs }, ctx)).toThrow(message)
  })
})
