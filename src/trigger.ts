import { requireVersion, type Version } from './version.js'

/**
 * What this run was asked to do, independent of how GitHub delivered it. `branch` is the branch whose
 * build the run starts from: the pushed branch, else the branch input or ref, else the default branch.
 */
export type Trigger = { readonly branch: string } & (
  | { readonly event: 'push'; readonly defaultBranch: boolean }
  | { readonly event: 'release'; readonly version: Version; readonly prerelease: boolean }
  | { readonly event: 'promote'; readonly environment: string; readonly version?: Version }
  | { readonly event: 'rollback'; readonly to: Version | 'previous' }
)

export const EVENTS = ['push', 'release', 'promote', 'rollback'] as const

export interface TriggerInputs {
  readonly event: string
  readonly branch: string
  readonly releaseTag: string
  readonly version: string
  readonly environment: string
}

/** The parts of the GitHub context that decide the trigger. */
export interface EventContext {
  readonly eventName: string
  readonly ref: string
  readonly headRef: string
  // The webhook payload is untyped JSON; every field read here is optional.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly payload: Record<string, any>
}

const BRANCH_REF = 'refs/heads/'
const TAG_REF = 'refs/tags/'

export function resolveTrigger(inputs: TriggerInputs, context: EventContext): Trigger {
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
          `cannot tell the branch of this push (ref '${context.ref}'): set the branch input`
        )
      }
      return { event, branch, defaultBranch: branch === defaultBranch }
    }
    case 'release': {
      const tag =
        inputs.releaseTag ||
        stringOrEmpty(context.payload.release?.tag_name) ||
        (context.ref.startsWith(TAG_REF) ? context.ref.slice(TAG_REF.length) : '')
      if (!tag) throw new Error('a release needs a release tag: set the release-tag input')
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
      if (!environment) throw new Error('a promotion needs a target: set the environment input')
      const version = dispatched.version && requireVersion(dispatched.version, 'version')
      return { event, branch: buildBranch, environment, ...(version && { version }) }
    }
    case 'rollback': {
      if (!dispatched.version) {
        throw new Error(
          'a rollback needs a version: set the version input to a version such as 1.1.0, or to previous'
        )
      }
      return {
        event,
        branch: buildBranch,
        to:
          dispatched.version === 'previous'
            ? 'previous'
            : requireVersion(dispatched.version, 'version')
      }
    }
    default:
      throw new Error(`unknown event '${event}': use one of ${EVENTS.join(', ')}`)
  }
}

export function describeTrigger(trigger: Trigger): string {
  switch (trigger.event) {
    case 'push':
      return `push to ${trigger.branch}`
    case 'release':
      return `${trigger.prerelease ? 'prerelease' : 'release'} ${trigger.version.text}`
    case 'promote':
      return `promotion to ${trigger.environment}${trigger.version ? ` of ${trigger.version.text}` : ''}`
    case 'rollback':
      return `rollback to ${trigger.to === 'previous' ? 'the previous version' : trigger.to.text}`
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
