import { registryHost } from '../core/inputs.js'
import type { Messages } from '../core/messages.js'
import { SUBCOMMANDS } from './command.js'

/** The command line's words: for a person at a terminal, in terms of its flags and the AWS CLI. */
export const CLI_MESSAGES: Messages = {
  'no-credentials': ({ detail }) =>
    `no AWS credentials (${detail}); give them one of three ways: run aws configure (the default profile), name a profile with --profile (aws sso login --profile <name> for SSO), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
  'sso-expired': ({ profile }) =>
    `the AWS SSO session of profile ${profile} has expired: run aws sso login --profile ${profile}, then this command again`,
  'profile-not-found': ({ profile }) =>
    `no AWS profile named ${profile} in the AWS config or credentials files: check --profile (aws configure list-profiles lists them)`,
  'repository-not-found': ({ repository, account, region, target }) =>
    target && account
      ? `repository ${repository} not found in the target registry ${registryHost(account, region)}: create it there (the image is copied into the repository of the same name), or check --target-registry`
      : `repository ${repository} not found in ${account ? `account ${account}` : 'the account of these credentials'}, region ${region}: check --repository, --registry-id and --region (or --profile)`,
  'access-denied': ({ action, repository, host, region, target, detail }) =>
    `access denied: the credentials lack the IAM permission ${action} on repository ${repository} in ${host ?? `the default registry of these credentials (${region})`}: grant it to ${target ? "the --target-role-to-assume role (without one, to these credentials, in the target repository's policy)" : 'these credentials (--profile)'} (${detail})`,
  'no-region': () =>
    'no AWS region: give --region, export AWS_REGION, or set one in the profile (aws configure set region <region>)',
  'sha-origin': ({ given }) =>
    given
      ? '--sha'
      : '--sha, or the CI variable GITHUB_SHA, CI_COMMIT_SHA, CIRCLE_SHA1, BUILDKITE_COMMIT or GIT_COMMIT',
  'no-github-token': () =>
    '--deployments on needs a GitHub token: export GITHUB_TOKEN (a token that may write deployments), or give --github-token',
  input: ({ name }) => `--${name}`,
  set: ({ name, value }) =>
    value === undefined || value === 'true'
      ? `give --${name}`
      : value === 'false'
        ? `give --no-${name}`
        : value === 'off'
          ? `drop --${name}`
          : `give --${name} ${value}`,
  argument: ({ event, input }) =>
    `ecr-promote ${event} ${SUBCOMMANDS[event]?.argument?.name ?? `--${input}`}`,
  'no-github-repository': () =>
    '--deployments on needs the GitHub repository that holds the records: export GITHUB_REPOSITORY=<owner>/<name>',
  event: ({ event }) => `ecr-promote ${event}`
}
