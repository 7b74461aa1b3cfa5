/** Everything the run takes from its environment, read once, with defaults resolved here. */
export interface Context {
  readonly eventName: string
  readonly ref: string
  /** The head branch of a pull request. */
  readonly headRef: string
  readonly sha: string
  /** Where `sha` came from, such as GITHUB_SHA, for messages. */
  readonly shaFrom: string
  readonly runNumber?: string
  readonly workspace: string
  readonly region: string
  readonly payload: EventPayload
  /** Where GitHub's API and web pages are: github.com, or a GitHub Enterprise Server. */
  readonly github: {
    readonly apiUrl: string
    readonly serverUrl: string
    /** `owner/name` of the repository the workflow runs in; empty outside a runner. */
    readonly repository: string
    readonly runId: string
  }
}

/**
 * The fields of the webhook payload the run reads. It is JSON from outside: every field may be
 * missing or of another type, so each is `unknown` until the code that reads it checks it.
 */
export interface EventPayload {
  readonly action?: unknown
  readonly inputs?: { readonly version?: unknown; readonly environment?: unknown }
  readonly repository?: { readonly default_branch?: unknown }
  readonly release?: {
    readonly tag_name?: unknown
    readonly prerelease?: unknown
    readonly draft?: unknown
  }
  readonly deployment?: { readonly environment?: unknown }
}
