import type { Messages } from '../core/messages.js'

/** The action's words: for a workflow's author, in terms of its inputs and steps. */
export const ACTION_MESSAGES: Messages = {
  'no-credentials': ({ detail }) =>
    `no AWS credentials: run aws-actions/configure-aws-credentials before this step (${detail})`,
  'sso-expired': ({ detail }) =>
    `no AWS credentials: run aws-actions/configure-aws-credentials before this step (${detail})`,
  'profile-not-found': ({ profile }) =>
    `AWS profile '${profile}' is in no AWS config or credentials file: unset AWS_PROFILE, and run aws-actions/configure-aws-credentials before this step`,
  'repository-not-found': ({ repository, account, region }) =>
    `repository ${repository} not found in ${account ? `registry ${account}` : 'the default registry of these credentials'} (${region}): check the repository, registry-id and region inputs`,
  'no-region': () =>
    'no AWS region: set the region input, or AWS_REGION (aws-actions/configure-aws-credentials sets it)',
  'sha-origin': ({ given }) => (given ? 'the sha input' : 'the sha input or GITHUB_SHA')
}
