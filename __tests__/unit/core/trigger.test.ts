import {
  describeTrigger,
  resolveTrigger,
  type EventContext,
  type Trigger,
  type TriggerInputs
} from '../../../src/core/trigger.js'
import { ACTION_MESSAGES } from '../../../src/action/messages.js'
import { rows } from '../../support/builders.js'
import { thrownBy } from '../../support/harness.js'

const noInputs: TriggerInputs = {
  event: '',
  branch: '',
  releaseTag: '',
  version: '',
  environment: ''
}
const pairs = (text: string): Record<string, string> =>
  Object.fromEntries(text.split(' ').flatMap((pair) => (pair ? [pair.split('=')] : [])))

/**
 * An event written `name ref key=value …` (`-` for an empty ref): `head` is a pull request's
 * branch, `default` the repository's default branch; `tag`, `prerelease`, `draft` and `action` are
 * the release's; `version` and `environment` are workflow_dispatch inputs; `deployment` is the
 * deployment's environment.
 */
function on(text: string): EventContext {
  const [eventName = '', ref = '', ...rest] = text.split(' ')
  const { head, tag, prerelease, draft, action, version, environment, deployment, ...others } =
    pairs(rest.join(' '))
  const inputs = { ...(version && { version }), ...(environment && { environment }) }
  return {
    eventName,
    ref: ref === '-' ? '' : ref,
    headRef: head ?? '',
    payload: {
      ...(others.default && { repository: { default_branch: others.default } }),
      ...(action && { action }),
      ...(tag && {
        release: {
          tag_name: tag,
          ...(prerelease && { prerelease: prerelease === 'true' }),
          ...(draft && { draft: draft === 'true' })
        }
      }),
      ...(Object.keys(inputs).length > 0 && { inputs }),
      ...(deployment && { deployment: { environment: deployment } })
    }
  }
}
/** The event inputs written `key=value …`, such as `event=promote environment=production`. */
const inputs = (text: string): TriggerInputs => ({ ...noInputs, ...pairs(text) })
/** What a trigger does; for a push, whether it is to the default branch, and a pull request's branch. */
const described = (trigger: Trigger) =>
  `${describeTrigger(trigger)}${trigger.event === 'push' && trigger.defaultBranch ? ' (default)' : ''}${trigger.event === 'push' && trigger.pullRequest ? ` (head ${trigger.branch})` : ''}`

describe('resolveTrigger maps GitHub events when the event input is empty', () => {
  it.each(
    rows(
      'push to main | push refs/heads/main | push to main (default)',
      'push to the default branch named in the payload | push refs/heads/trunk default=trunk | push to trunk (default)',
      'push to main when the default branch is trunk | push refs/heads/main default=trunk | push to main',
      'push to a feature branch | push refs/heads/feature/x | push to feature/x',
      'push of a tag ref | push refs/tags/v1.2.0 | release 1.2.0',
      'push of a prerelease tag | push refs/tags/v2.0.0-rc.1 | prerelease 2.0.0-rc.1',
      'release published | release refs/tags/v1.2.0 tag=v1.2.0 prerelease=false | release 1.2.0',
      'release flagged prerelease on GitHub | release refs/tags/v1.3.0 tag=v1.3.0 prerelease=true | prerelease 1.3.0',
      'release without a v prefix, build metadata dropped | release - tag=1.4.0+build.7 | release 1.4.0',
      'pull request uses the head branch | pull_request refs/pull/7/merge head=fix/login | pull request: no tag is written (head fix/login)',
      "a fork's pull request from a branch named main never counts as the default branch | pull_request refs/pull/8/merge head=main | pull request: no tag is written (head main)",
      'pull_request_target from main likewise | pull_request_target refs/heads/main head=main | pull request: no tag is written (head main)',
      'release released | release refs/tags/v1.2.0 action=released tag=v1.2.0 prerelease=false | release 1.2.0',
      'release prereleased | release refs/tags/v1.3.0-rc.1 action=prereleased tag=v1.3.0-rc.1 prerelease=true | prerelease 1.3.0-rc.1',
      'workflow_dispatch with a version rolls back | workflow_dispatch refs/heads/main version=v1.1.0 | rollback to 1.1.0',
      'workflow_dispatch with previous | workflow_dispatch refs/heads/main version=previous | rollback to the previous version',
      'workflow_dispatch with an environment promotes | workflow_dispatch refs/heads/main environment=staging | promotion to staging',
      'deployment promotes to its environment | deployment refs/heads/main deployment=canary | promotion to canary'
    )
  )('%s', (_name, event, description) => {
    expect(described(resolveTrigger(noInputs, on(event), ACTION_MESSAGES))).toBe(description)
  })
})

describe('resolveTrigger writes nothing for events that publish nothing', () => {
  const publishes = 'publishes nothing: only published, released, prereleased tag an image'
  /** Rows `name | inputs | event | why nothing is written`. */
  it.each(
    rows(
      ...['created', 'edited', 'deleted', 'unpublished'].map(
        (action) =>
          `a release ${action} | event=release | release refs/tags/v1.2.0 action=${action} tag=v1.2.0 | release action '${action}' ${publishes}`
      ),
      'a draft release, even when published |  | release - action=published tag=v1.2.0 draft=true | the release is a draft: nothing is tagged until it is published'
    )
  )('%s', (_name, given = '', event = '', reason) => {
    const trigger = resolveTrigger(inputs(given), on(event), ACTION_MESSAGES)
    expect(trigger).toEqual({ event: 'none', branch: '', reason })
    expect(describeTrigger(trigger)).toBe(`nothing to do: ${reason}`)
  })
})

describe('resolveTrigger honours explicit inputs', () => {
  it.each(
    rows(
      'event=push branch=main | schedule - | push to main',
      'event=release releaseTag=2.0.0 | workflow_dispatch refs/heads/main | release 2.0.0',
      'version=1.1.0 | workflow_dispatch refs/heads/main version=9.9.9 | rollback to 1.1.0',
      'event=promote environment=production version=v1.2.0 | workflow_dispatch refs/heads/main | promotion to production of 1.2.0',
      'event=rollback version=previous | push refs/heads/main | rollback to the previous version',
      'event=prune | schedule - | prune old releases',
      'event=restore-version version=v1.2.0 | workflow_dispatch refs/heads/main | restore withdrawn version 1.2.0',
      'event=restore-version | workflow_dispatch refs/heads/main version=2.0.0-rc.1 | restore withdrawn version 2.0.0-rc.1',
      'event=rollback version=2026.11.19 | workflow_dispatch refs/heads/main | rollback to 2026.11.19'
    )
  )('%s on %s', (given, event, description) => {
    expect(describeTrigger(resolveTrigger(inputs(given), on(event), ACTION_MESSAGES))).toBe(
      description
    )
  })

  /** Rows `inputs | event | description | the trigger, as JSON`. */
  it.each(
    rows(
      'event=rollback version=2026-11-19 | push refs/heads/main | rollback to where it was at 2026-11-19T23:59:59.999Z | {"event":"rollback","branch":"main","to":{"at":"2026-11-19T23:59:59.999Z","text":"2026-11-19"}}',
      ' | workflow_dispatch refs/heads/main version=2026-11-19 | rollback to where it was at 2026-11-19T23:59:59.999Z | {"event":"rollback","branch":"main","to":{"at":"2026-11-19T23:59:59.999Z","text":"2026-11-19"}}',
      'event=status | workflow_dispatch refs/heads/release | status of the pointers | {"event":"status","branch":"release"}',
      'event=status | pull_request refs/pull/7/merge head=feature | status of the pointers | {"event":"status","branch":"feature"}',
      'event=restore-version version=1.2.0 | workflow_dispatch refs/heads/release | restore withdrawn version 1.2.0 | {"event":"restore-version","branch":"release","version":{"text":"1.2.0","major":1,"minor":2,"patch":0,"prerelease":""}}',
      'event=lifecycle | schedule - default=trunk | lifecycle policy | {"event":"lifecycle","branch":"trunk"}',
      'event=lifecycle | workflow_dispatch refs/heads/release | lifecycle policy | {"event":"lifecycle","branch":"release"}'
    )
  )(
    '%s on %s is exactly what it says, and writes no pointer unless told',
    (given, event, description, trigger) => {
      const resolved = resolveTrigger(inputs(given.trim()), on(event), ACTION_MESSAGES)
      expect(describeTrigger(resolved)).toBe(description)
      expect(JSON.parse(JSON.stringify(resolved))).toEqual(JSON.parse(trigger))
    }
  )
})

describe('resolveTrigger rejects what it cannot act on, naming the fix', () => {
  const semver = `is not a semantic version: expected MAJOR.MINOR.PATCH with an optional v prefix and -prerelease, such as v1.2.0 or 1.2.0-rc.1`
  const events = 'push, release, promote, rollback, lifecycle, prune, status, restore-version'
  it.each(
    rows(
      ` | schedule refs/heads/main | cannot tell what to do on a 'schedule' event: set the event input to one of ${events}`,
      ' | workflow_dispatch refs/heads/main | workflow_dispatch needs a version (rollback) or an environment (promote) input',
      ' | workflow_dispatch refs/heads/main version=1.0.0 environment=staging | workflow_dispatch has both a version and an environment: set the event input to rollback or promote',
      'event=rollback | push refs/heads/main | a rollback needs a version such as 1.1.0, previous, or a date such as 2026-11-19: set the version input',
      'event=promote | push refs/heads/main | a promotion needs a target: set the environment input',
      'event=release | push refs/heads/main | a release needs a release tag: set the release-tag input',
      ` | release - tag=release-2024 | release tag 'release-2024' ${semver}`,
      ` | push refs/tags/v1.2 | release tag 'v1.2' ${semver}`,
      "event=push | release refs/tags/v1.0.0 | cannot tell the branch of this push (ref 'refs/tags/v1.0.0'): set the branch input",
      `event=deploy | push refs/heads/main | unknown event 'deploy': use one of ${events}`,
      `version=1.0 | workflow_dispatch refs/heads/main | version '1.0' ${semver}`,
      `event=rollback version=2026-11-19T15:00:00 | workflow_dispatch refs/heads/main | version '2026-11-19T15:00:00' ${semver}`,
      'event=restore-version | workflow_dispatch refs/heads/main | restore-version needs the version to take the mark off: set the version input',
      `event=restore-version version=previous | workflow_dispatch refs/heads/main | version 'previous' ${semver}`,
      `event=restore-version version=2026-11-19 | workflow_dispatch refs/heads/main | version '2026-11-19' ${semver}`,
      "event=promote environment=production | pull_request_target refs/heads/main head=main | a pull_request_target event never writes tags, so event 'promote' cannot run on it: use push (it checks that the build image exists) or status, or run the step on another event"
    )
  )('%s on %s', (given, event, message) => {
    expect(
      thrownBy(() => resolveTrigger(inputs(given.trim()), on(event), ACTION_MESSAGES))
    ).toHaveProperty('message', message)
  })
})
