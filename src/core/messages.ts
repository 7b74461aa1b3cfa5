/**
 * What went wrong, with the facts a person needs, apart from the words: each host says it in its
 * own (src/action/messages.ts for a workflow's author, src/cli/messages.ts for a person at a
 * terminal), through its Host.
 */
export type Trouble =
  | { readonly kind: 'no-credentials'; readonly detail: string }
  | { readonly kind: 'sso-expired'; readonly profile: string; readonly detail: string }
  | { readonly kind: 'profile-not-found'; readonly profile: string }
  | {
      readonly kind: 'repository-not-found'
      readonly repository: string
      /** The registry's account, as given or as ECR named it; unknown if neither did. */
      readonly account?: string
      readonly region: string
      /** The registry a run copies into, named by target-registry. */
      readonly target?: true
    }
  | {
      readonly kind: 'access-denied'
      /** The IAM action the call needs, such as `ecr:PutImage`. */
      readonly action: string
      readonly repository: string
      /** `<account>.dkr.ecr.<region>.amazonaws.com`; unknown if neither the inputs nor ECR named the account. */
      readonly host?: string
      readonly region: string
      readonly target?: true
      /** ECR's own words. */
      readonly detail: string
    }
  | { readonly kind: 'no-region' }
  /** Where the commit comes from: `given` when it was named, else where it would have been found. */
  | { readonly kind: 'sha-origin'; readonly given: boolean }
  /** Deployment records asked for, with no token to write them. */
  | { readonly kind: 'no-github-token' }
  /** How to name an input in a sentence. */
  | { readonly kind: 'input'; readonly name: string }
  /** How to ask for an input, or for one of its values. */
  | { readonly kind: 'set'; readonly name: string; readonly value?: string }
  /** How to ask for the input an event takes as its argument (on the command line, positional). */
  | { readonly kind: 'argument'; readonly event: string; readonly input: string }
  /** Deployment records asked for, with no repository to write them to. */
  | { readonly kind: 'no-github-repository' }
  /** How to name a run of an event. */
  | { readonly kind: 'event'; readonly event: string }

/** A host's words: one entry per kind of trouble. */
export type Messages = {
  readonly [K in Trouble['kind']]: (trouble: Extract<Trouble, { kind: K }>) => string
}

export const say = (messages: Messages, trouble: Trouble): string =>
  (messages[trouble.kind] as (trouble: Trouble) => string)(trouble)
