import { parseMoment, type Moment } from './history.js'
import { requireVersion, type Version } from './version.js'
import { type Context } from './context.js'
import { say, type Messages } from './messages.js'

/**
 * What this run was asked to do, independent of how GitHub delivered it. `branch` is the branch whose
 * build the run starts from: the pushed branch, else the branch input or ref, else the default branch.
 */
export type Trigger = { readonly branch: string } &
  /** A pull request checks its build image and writes no tag. */
  (
    | { readonly event: 'push'; readonly defaultBranch: boolean; readonly pullRequest: boolean }
    | { readonly event: 'release'; readonly version: Version; readonly prerelease: boolean }
    | { readonly event: 'promote'; readonly environment: string; readonly version?: Version }
    /** To a version, to the stable version below the pointer's, or to where the pointer was at a moment. */
    | { readonly event: 'rollback'; readonly to: Version | 'previous' | Moment }
    /** Keeps the lifecycle policy to the convention; writes no tag. */
    | { readonly event: 'lifecycle' }
    /** Deletes release images outside the minor versions the convention keeps; writes no tag. */
    | { readonly event: 'prune' }
    /** Reads where every pointer the convention knows points, and what is on each image; writes nothing. */
    | { readonly event: 'status' }
    /** Takes the withdrawn mark off a version, so releases and rollbacks may move to it again. */
    | { readonly event: 'restore-version'; readonly version: Version }
    /** A GitHub event that must write nothing, such as a release being edited. */
    | { readonly event: 'none'; readonly reason: string }
  )

export const EVENTS = [
  'push',
  'release',
  'promote',
  'rollback',
  'lifecycle',
  'prune',
  'status',
  'restore-version'
] as const

export interface TriggerInputs {
  readonly event: string
  readonly branch: string
  readonly releaseTag: string
  readonly version: string
  readonly environment: string
}

/** The parts of the GitHub context that decide the trigger. */
export type EventContext = Pick<Context, 'eventName' | 'ref' | 'headRef' | 'payload'>

const BRANCH_REF = 'refs/heads/'
const TAG_REF = 'refs/tags/'
/** Release activity that makes a release public; `created`, `edited`, `deleted` or `unpublished` must not move a pointer. */
const PUBLISHING_RELEASE_ACTIONS = ['published', 'released', 'prereleased']
const PULL_REQUEST_EVENTS = ['pull_request', 'pull_request_target']

export function resolveTrigger(
  inputs: TriggerInputs,
  context: EventContext,
  messages: Messages
): Trigger {
  const argument = (event: string, input: string) =>
    say(messages, { kind: 'argument', event, input })
  const silence = silenceReason(inputs, context)
  if (silence) return { event: 'none', branch: branchOf(context), reason: silence }
  const dispatched = {
    version: inputs.version || stringOrEmpty(context.payload.inputs?.version),
    environment: inputs.environment || stringOrEmpty(context.payload.inputs?.environment)
  }
  const event = inputs.event || inferEvent(context, dispatched)
  const defaultBranch = stringOrEmpty(context.payload.repository?.default_branch) || 'main'
  const branch = inputs.branch || branchOf(context)
  const buildBranch = branch || defaultBranch
  switch (event) {
    case 'push': {
      if (!branch) {
        throw new Error(
          `cannot tell the branch of this push (ref '${context.ref}'): ${say(messages, { kind: 'set', name: 'branch' })}`
        )
      }
      // A pull request's head branch is named by whoever opened it (a fork's `main`), so it never counts as the default branch.
      const pullRequest = PULL_REQUEST_EVENTS.includes(context.eventName)
      return { event, branch, defaultBranch: !pullRequest && branch === defaultBranch, pullRequest }
    }
    case 'release': {
      const tag =
        inputs.releaseTag ||
        stringOrEmpty(context.payload.release?.tag_name) ||
        (context.ref.startsWith(TAG_REF) ? context.ref.slice(TAG_REF.length) : '')
      if (!tag)
        throw new Error(`a release needs a release tag: ${argument('release', 'release-tag')}`)
      const version = requireVersion(tag, 'release tag')
      return {
        event,
        branch: buildBranch,
        version,
        prerelease: version.prerelease !== '' || context.payload.release?.prerelease === true
      }
    }
    case 'promote': {
      const environment =
        dispatched.environment || stringOrEmpty(context.payload.deployment?.environment)
      if (!environment)
        throw new Error(`a promotion needs a target: ${argument('promote', 'environment')}`)
      const version = dispatched.version && requireVersion(dispatched.version, 'version')
      return { event, branch: buildBranch, environment, ...(version && { version }) }
    }
    case 'rollback': {
      if (!dispatched.version) {
        throw new Error(
          `a rollback needs a version such as 1.1.0, previous, or a date such as 2026-11-19: ${argument('rollback', 'version')}`
        )
      }
      return {
        event,
        branch: buildBranch,
        to:
          dispatched.version === 'previous'
            ? 'previous'
            : (parseMoment(dispatched.version) ?? requireVersion(dispatched.version, 'version'))
      }
    }
    case 'restore-version': {
      if (!dispatched.version)
        throw new Error(
          `restore-version needs the version to take the mark off: ${argument('restore-version', 'version')}`
        )
      return { event, branch: buildBranch, version: requireVersion(dispatched.version, 'version') }
    }
    case 'lifecycle':
    case 'prune':
    case 'status':
      return { event, branch: buildBranch }
    default:
      throw new Error(`unknown event '${event}': use one of ${EVENTS.join(', ')}`)
  }
}

/** Why a GitHub event must not write anything, if it must not. */
function silenceReason(inputs: TriggerInputs, context: EventContext): string | undefined {
  // A pull request may read (status) or check its build image (push), never write.
  if (
    PULL_REQUEST_EVENTS.includes(context.eventName) &&
    inputs.event &&
    !['push', 'status'].includes(inputs.event)
  ) {
    throw new Error(
      `a ${context.eventName} event never writes tags, so event '${inputs.event}' cannot run on it: use push (it checks that the build image exists) or status, or run the step on another event`
    )
  }
  if (context.eventName !== 'release') return undefined
  const { action, release } = context.payload
  if (release?.draft === true)
    return 'the release is a draft: nothing is tagged until it is published'
  if (typeof action === 'string' && !PUBLISHING_RELEASE_ACTIONS.includes(action)) {
    return `release action '${action}' publishes nothing: only ${PUBLISHING_RELEASE_ACTIONS.join(', ')} tag an image`
  }
  return undefined
}

export function describeTrigger(trigger: Trigger): string {
  switch (trigger.event) {
    case 'none':
      return `nothing to do: ${trigger.reason}`
    case 'push':
      return trigger.pullRequest ? 'pull request: no tag is written' : `push to ${trigger.branch}`
    case 'release':
      return `${trigger.prerelease ? 'prerelease' : 'release'} ${trigger.version.text}`
    case 'promote':
      return `promotion to ${trigger.environment}${trigger.version ? ` of ${trigger.version.text}` : ''}`
    case 'rollback':
      return `rollback to ${trigger.to === 'previous' ? 'the previous version' : 'at' in trigger.to ? `where it was at ${trigger.to.at.toISOString()}` : trigger.to.text}`
    case 'status':
      return 'status of the pointers'
    case 'restore-version':
      return `restore withdrawn version ${trigger.version.text}`
    case 'lifecycle':
      return 'lifecycle policy'
    case 'prune':
      return 'prune old releases'
  }
}

function inferEvent(
  context: EventContext,
  dispatched: { version: string; environment: string }
): string {
  switch (context.eventName) {
    case 'push':
      return context.ref.startsWith(TAG_REF) ? 'release' : 'push'
    case 'pull_request':
    case 'pull_request_target':
      return 'push'
    case 'release':
      return 'release'
    case 'deployment':
      return 'promote'
    case 'workflow_dispatch':
      if (dispatched.version && dispatched.environment) {
        throw new Error(
          'workflow_dispatch has both a version and an environment: set the event input to rollback or promote'
        )
      }
      if (dispatched.version) return 'rollback'
      if (dispatched.environment) return 'promote'
      throw new Error(
        'workflow_dispatch needs a version (rollback) or an environment (promote) input'
      )
    default:
      throw new Error(
        `cannot tell what to do on a '${context.eventName}' event: set the event input to one of ${EVENTS.join(', ')}`
      )
  }
}

function branchOf(context: EventContext): string {
  if (context.headRef) return context.headRef
  return context.ref.startsWith(BRANCH_REF) ? context.ref.slice(BRANCH_REF.length) : ''
}

const stringOrEmpty = (value: unknown): string => (typeof value === 'string' ? value : '')
