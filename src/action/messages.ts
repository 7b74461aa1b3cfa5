import { registryHost } from '../core/inputs.js'
import type { Messages } from '../core/messages.js'

/** The action's words: for a workflow's author, in terms of its inputs and steps. */
export const ACTION_MESSAGES: Messages = {
  'no-credentials': ({ detail }) =>
    `no AWS credentials: run aws-actions/configure-aws-credentials before this step (${detail})`,
  'sso-expired': ({ detail }) =>
    `no AWS credentials: run aws-actions/configure-aws-credentials before this step (${detail})`,
  'profile-not-found': ({ profile }) =>
    `AWS profile '${profile}' is in no AWS config or credentials file: unset AWS_PROFILE, and run aws-actions/configure-aws-credentials before this step`,
  'repository-not-found': ({ repository, account, region, target }) =>
    target && account
      ? `repository ${repository} not found in the target registry ${registryHost(account, region)}: create it there (the image is copied into the repository of the same name), or check the target-registry input`
      : `repository ${repository} not found in ${account ? `registry ${account}` : 'the default registry of these credentials'} (${region}): check the repository, registry-id and region inputs`,
  'access-denied': ({ action, repository, host, region, target, detail }) =>
    `access denied: the credentials lack the IAM permission ${action} on repository ${repository} in ${host ?? `the default registry of these credentials (${region})`}: grant it to ${target ? "the target-role-to-assume role (without one, to the workflow's role, in the target repository's policy)" : "the workflow's role"} (${detail})`,
  'no-region': () =>
    'no AWS region: set the region input, or AWS_REGION (aws-actions/configure-aws-credentials sets it)',
  'sha-origin': ({ given }) => (given ? 'the sha input' : 'the sha input or GITHUB_SHA'),
  'no-github-token': () =>
    'deployments: on needs a GitHub token: leave github-token at its default (the workflow token, with permissions deployments: write)',
  input: ({ name }) => `the ${name} input`,
  set: ({ name, value }) =>
    value === undefined ? `set the ${name} input` : `set ${name}: ${value}`,
  argument: ({ input }) => `set the ${input} input`,
  'no-github-repository': () =>
    'deployments: on needs GITHUB_REPOSITORY (the repository whose Environments page shows them), which a runner sets',
  event: ({ event }) => `event: ${event}`
}
