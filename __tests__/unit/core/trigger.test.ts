import {
  describeTrigger,
  resolveTrigger,
  type EventContext,
  type Trigger,
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
const SCHEDULE = context('schedule', '')
const dispatched = (inputs: Record<string, string>) =>
  context('workflow_dispatch', 'refs/heads/main', { inputs })
const published = (tag_name: string, prerelease?: boolean, action?: string) =>
  context('release', `refs/tags/${tag_name}`, {
    ...(action && { action }),
    release: { tag_name, ...(prerelease !== undefined && { prerelease }) }
  })
const trunk = { repository: { default_branch: 'trunk' } }
/** What a trigger does, and for a push whether it is to the default branch. */
const described = (trigger: Trigger) =>
  `${describeTrigger(trigger)}${trigger.event === 'push' && trigger.defaultBranch ? ' (default)' : ''}`

describe('resolveTrigger maps GitHub events when the event input is empty', () => {
  it.each([
    ['push to main', PUSH, 'push to main (default)'],
    [
      'push to the default branch named in the payload',
      context('push', 'refs/heads/trunk', trunk),
      'push to trunk (default)'
    ],
    [
      'push to main when the default branch is trunk',
      context('push', 'refs/heads/main', trunk),
      'push to main'
    ],
    ['push to a feature branch', context('push', 'refs/heads/feature/x'), 'push to feature/x'],
    ['push of a tag ref', context('push', 'refs/tags/v1.2.0'), 'release 1.2.0'],
    ['push of a prerelease tag', context('push', 'refs/tags/v2.0.0-rc.1'), 'prerelease 2.0.0-rc.1'],
    ['release published', published('v1.2.0', false), 'release 1.2.0'],
    ['release flagged prerelease on GitHub', published('v1.3.0', true), 'prerelease 1.3.0'],
    [
      'release without a v prefix, build metadata dropped',
      context('release', '', { release: { tag_name: '1.4.0+build.7' } }),
      'release 1.4.0'
    ],
    [
      'pull request uses the head branch',
      context('pull_request', 'refs/pull/7/merge', {}, 'fix/login'),
      'push to fix/login'
    ],
    [
      "a fork's pull request from a branch named main never counts as the default branch",
      context('pull_request', 'refs/pull/8/merge', {}, 'main'),
      'push to main'
    ],
    [
      'pull_request_target from main likewise',
      context('pull_request_target', 'refs/heads/main', {}, 'main'),
      'push to main'
    ],
    ['release released', published('v1.2.0', false, 'released'), 'release 1.2.0'],
    ['release prereleased', published('v1.3.0-rc.1', true, 'prereleased'), 'prerelease 1.3.0-rc.1'],
    [
      'workflow_dispatch with a version rolls back',
      dispatched({ version: 'v1.1.0' }),
      'rollback to 1.1.0'
    ],
    [
      'workflow_dispatch with previous',
      dispatched({ version: 'previous' }),
      'rollback to the previous version'
    ],
    [
      'workflow_dispatch with an environment promotes',
      dispatched({ environment: 'staging' }),
      'promotion to staging'
    ],
    [
      'deployment promotes to its environment',
      context('deployment', 'refs/heads/main', { deployment: { environment: 'canary' } }),
      'promotion to canary'
    ]
  ])('%s', (_name, ctx, description) => {
    expect(described(resolveTrigger(noInputs, ctx))).toBe(description)
  })
})

describe('resolveTrigger writes nothing for events that publish nothing', () => {
  it.each(['created', 'edited', 'deleted', 'unpublished'])('a release %s', (action) => {
    const trigger = resolveTrigger(
      { ...noInputs, event: 'release' },
      published('v1.2.0', undefined, action)
    )
    expect(trigger).toEqual({
      event: 'none',
      branch: '',
      reason: `release action '${action}' publishes nothing: only published, released, prereleased tag an image`
    })
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
})

describe('resolveTrigger honours explicit inputs', () => {
  it.each([
    [{ event: 'push', branch: 'main' }, SCHEDULE, 'push to main'],
    [{ event: 'release', releaseTag: '2.0.0' }, DISPATCH, 'release 2.0.0'],
    [{ version: '1.1.0' }, dispatched({ version: '9.9.9' }), 'rollback to 1.1.0'],
    [
      { event: 'promote', environment: 'production', version: 'v1.2.0' },
      DISPATCH,
      'promotion to production of 1.2.0'
    ],
    [{ event: 'rollback', version: 'previous' }, PUSH, 'rollback to the previous version'],
    [{ event: 'prune' }, SCHEDULE, 'prune old releases'],
    [{ event: 'restore-version', version: 'v1.2.0' }, DISPATCH, 'restore withdrawn version 1.2.0'],
    [
      { event: 'restore-version' },
      dispatched({ version: '2.0.0-rc.1' }),
      'restore withdrawn version 2.0.0-rc.1'
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

  const rollbackAt = (at: string, text: string): Trigger => ({
    event: 'rollback',
    branch: 'main',
    to: { at: new Date(at), text }
  })
  const RELEASE_BRANCH = context('workflow_dispatch', 'refs/heads/release')
  it.each<[Partial<TriggerInputs>, EventContext, Trigger, string]>([
    [
      { event: 'rollback', version: '2026-11-19' },
      PUSH,
      rollbackAt('2026-11-19T23:59:59.999Z', '2026-11-19'),
      'rollback to where it was at 2026-11-19T23:59:59.999Z'
    ],
    [
      { event: 'rollback', version: '2026-11-19T09:30:00-05:30' },
      PUSH,
      rollbackAt('2026-11-19T15:00:00Z', '2026-11-19T09:30:00-05:30'),
      'rollback to where it was at 2026-11-19T15:00:00.000Z'
    ],
    [
      {},
      dispatched({ version: '2026-11-19' }),
      rollbackAt('2026-11-19T23:59:59.999Z', '2026-11-19'),
      'rollback to where it was at 2026-11-19T23:59:59.999Z'
    ],
    [
      { event: 'status' },
      RELEASE_BRANCH,
      { event: 'status', branch: 'release' },
      'status of the pointers'
    ],
    [
      { event: 'status' },
      context('pull_request', 'refs/pull/7/merge', {}, 'feature'),
      { event: 'status', branch: 'feature' },
      'status of the pointers'
    ],
    [
      { event: 'restore-version', version: '1.2.0' },
      RELEASE_BRANCH,
      {
        event: 'restore-version',
        branch: 'release',
        version: { text: '1.2.0', major: 1, minor: 2, patch: 0, prerelease: '' }
      },
      'restore withdrawn version 1.2.0'
    ],
    [
      { event: 'lifecycle' },
      context('schedule', '', trunk),
      { event: 'lifecycle', branch: 'trunk' },
      'lifecycle policy'
    ],
    [
      { event: 'lifecycle' },
      RELEASE_BRANCH,
      { event: 'lifecycle', branch: 'release' },
      'lifecycle policy'
    ]
  ])(
    '%j on %j is exactly what it says, and writes no pointer unless told',
    (inputs, ctx, trigger, description) => {
      const resolved = resolveTrigger({ ...noInputs, ...inputs }, ctx)
      expect(resolved).toEqual(trigger)
      expect(describeTrigger(resolved)).toBe(description)
    }
  )
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
    [
      { event: 'rollback' },
      PUSH,
      /a rollback needs a version.*set the version input to a version such as 1.1.0, to previous, or to a date such as 2026-11-19/
    ],
    [{ event: 'promote' }, PUSH, /a promotion needs a target/],
    [{ event: 'release' }, PUSH, /needs a release tag/],
    [
      {},
      context('release', '', { release: { tag_name: 'release-2024' } }),
      /release tag 'release-2024' is not a semantic version/
    ],
    [{}, context('push', 'refs/tags/v1.2'), /release tag 'v1.2' is not a semantic version/],
    [{ event: 'push' }, context('release', 'refs/tags/v1.0.0'), /cannot tell the branch/],
    [
      { event: 'deploy' },
      PUSH,
      /unknown event 'deploy'.*use one of push, release, promote, rollback, lifecycle, prune, status, restore-version$/
    ],
    [{ version: '1.0' }, DISPATCH, /version '1.0' is not a semantic version/],
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
    ...['previous', '2026-11-19'].map((version): [object, EventContext, RegExp] => [
      { event: 'restore-version', version },
      DISPATCH,
      new RegExp(`version '${version}' is not a semantic version`)
    ])
  ])('%j on %j', (inputs, ctx, message) => {
    expect(() => resolveTrigger({ ...noInputs, ...inputs }, ctx)).toThrow(message)
  })
})
