import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ECRClient, ECRServiceException, RepositoryNotFoundException } from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import { ACTION_MESSAGES } from '../../../src/action/messages.js'
import { CLI_MESSAGES } from '../../../src/cli/messages.js'
import { cli } from '../../../src/cli/cli.js'
import { createRegistry, type RegistryOptions } from '../../../src/ecr/client.js'
import { readInputs } from '../../../src/core/inputs.js'
import { derive } from '../../../src/core/derive.js'
import { judgeCosignSignature, judgeScan, scannedImages } from '../../../src/core/gates.js'
import { resolveTrigger } from '../../../src/core/trigger.js'
import { pruneLimits } from '../../../src/run/cleanup.js'
import { parseConvention } from '../../../src/core/convention-file.js'
import { builtInConvention } from '../../../src/core/conventions.js'
import { say, type Messages } from '../../../src/core/messages.js'
import { messageOf } from '../../../src/core/model.js'
import { thrownBy } from '../../support/harness.js'
import { gateSettings, manifest, push } from '../../support/builders.js'

/**
 * Each trouble as the SDK or the inputs really produce it, in-process, said in each host's words:
 * the command line's in its flags and the AWS CLI's commands, the action's in its inputs and steps.
 */

const SSO_START = 'https://example.awsapps.com/start'
const CONFIG = `[profile sso-dev]
sso_start_url = ${SSO_START}
sso_region = eu-west-1
sso_account_id = 123456789012
sso_role_name = Deployer
region = eu-west-1
`

/** A home of its own with ~/.aws/config, an SSO token that expired, and no other AWS setting. */
function awsHome(profile?: string): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'ecr-promote-aws-'))
  const cache = join(home, '.aws', 'sso', 'cache')
  mkdirSync(cache, { recursive: true })
  writeFileSync(join(home, '.aws', 'config'), CONFIG)
  const token = createHash('sha1').update(SSO_START).digest('hex')
  writeFileSync(
    join(cache, `${token}.json`),
    JSON.stringify({ accessToken: 'expired', expiresAt: '2020-01-01T00:00:00Z' })
  )
  const kept = Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_'))
  return {
    ...Object.fromEntries(kept),
    HOME: home,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...(profile && { AWS_PROFILE: profile })
  }
}

async function inEnv<T>(env: NodeJS.ProcessEnv, work: () => Promise<T>): Promise<T> {
  const saved = process.env
  process.env = env
  try {
    return await work()
  } finally {
    process.env = saved
  }
}

/** What describing api in eu-west-1 fails with, as `messages` say it; ECR answers every call with `error` when one is given. */
async function describeFails(
  messages: Messages,
  error?: Error,
  options: Partial<RegistryOptions> = {}
): Promise<string> {
  const ecr = error && mockClient(ECRClient).onAnyCommand().rejects(error)
  try {
    await createRegistry({ region: 'eu-west-1', messages, ...options }).describeRepository('api')
    return 'no error'
  } catch (failure) {
    return messageOf(failure)
  } finally {
    ecr?.restore()
  }
}

/** The inputs of a command for repository api, with no commit anywhere, read in these words. */
const inputsOf = (region: string, messages: Messages, given: Record<string, string> = {}) =>
  readInputs(
    {
      sha: '',
      shaFrom: 'nowhere',
      region,
      github: { apiUrl: '', serverUrl: '', repository: '', runId: '' }
    },
    {
      get: (name) => given[name] ?? (name === 'repository' ? 'api' : ''),
      list: (name) => (name === 'repository' ? [given.repository ?? 'api'] : [])
    },
    messages
  )
const refusedInputs = (given: Record<string, string>) => async (messages: Messages) =>
  messageOf(thrownBy(() => inputsOf('eu-west-1', messages, given)))

const denied = (account: string) =>
  new ECRServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: {},
    message: `User: arn:aws:sts::123456789012:assumed-role/ci/run is not authorized to perform: ecr:DescribeRepositories on resource: arn:aws:ecr:eu-west-1:${account}:repository/api`
  })
const target = { registryId: '210987654321', names: { target: true as const } }

type Row = [string, (messages: Messages) => Promise<string>, RegExp, RegExp]
const rows: Row[] = [
  [
    'no credentials at all',
    (messages) => inEnv(awsHome(), () => describeFails(messages)),
    /^no AWS credentials \(Could not load credentials from any providers\); give them one of three ways: run aws configure .*--profile.*AWS_ACCESS_KEY_ID/,
    /^no AWS credentials: run aws-actions\/configure-aws-credentials before this step/
  ],
  [
    'a profile that does not exist',
    (messages) => inEnv(awsHome('dve'), () => describeFails(messages)),
    /^no AWS profile named dve in the AWS config or credentials files: check --profile/,
    /^AWS profile 'dve' is in no AWS config or credentials file: unset AWS_PROFILE/
  ],
  [
    'an SSO session that expired',
    (messages) => inEnv(awsHome('sso-dev'), () => describeFails(messages)),
    /^the AWS SSO session of profile sso-dev has expired: run aws sso login --profile sso-dev,/,
    /^no AWS credentials: run aws-actions\/configure-aws-credentials before this step \(The SSO session associated with this profile has expired/
  ],
  [
    'a repository that is not there',
    (messages) =>
      describeFails(
        messages,
        new RepositoryNotFoundException({
          message:
            "The repository with name 'api' does not exist in the registry with id '123456789012'",
          $metadata: {}
        })
      ),
    /^repository api not found in account 123456789012, region eu-west-1: check --repository, --registry-id and --region/,
    /^repository api not found in registry 123456789012 \(eu-west-1\): check the repository, registry-id and region inputs$/
  ],
  [
    'access denied in the source registry, whose account ECR names',
    (messages) => describeFails(messages, denied('123456789012')),
    /^access denied: the credentials lack the IAM permission ecr:DescribeRepositories on repository api in 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com: grant it to these credentials \(--profile\) \(User: /,
    /^access denied: the credentials lack the IAM permission ecr:DescribeRepositories on repository api in 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com: grant it to the workflow's role \(User: /
  ],
  [
    'access denied in the target registry',
    (messages) => describeFails(messages, denied('210987654321'), target),
    /ecr:DescribeRepositories on repository api in 210987654321\.dkr\.ecr\.eu-west-1\.amazonaws\.com: grant it to the --target-role-to-assume role/,
    /ecr:DescribeRepositories on repository api in 210987654321\.dkr\.ecr\.eu-west-1\.amazonaws\.com: grant it to the target-role-to-assume role/
  ],
  [
    'a target repository that is not there',
    (messages) =>
      describeFails(
        messages,
        new RepositoryNotFoundException({ message: 'not there', $metadata: {} }),
        target
      ),
    /^repository api not found in the target registry 210987654321\.dkr\.ecr\.eu-west-1\.amazonaws\.com: create it there .*--target-registry$/,
    /^repository api not found in the target registry 210987654321\.dkr\.ecr\.eu-west-1\.amazonaws\.com: create it there .*the target-registry input$/
  ],
  [
    'no region',
    async (messages) => messageOf(thrownBy(() => inputsOf('', messages))),
    /^no AWS region: give --region, export AWS_REGION, or set one in the profile/,
    /^no AWS region: set the region input, or AWS_REGION/
  ],
  [
    'a build tag without a commit',
    async (messages) => {
      const { shaOrigin } = inputsOf('eu-west-1', messages)
      const run = { repository: 'api', service: 'api', source: '', date: new Date(0), shaOrigin }
      return messageOf(thrownBy(() => derive(builtInConvention('environments'), push(), run)))
    },
    /needs \{sha7\} \(from --sha, or the CI variable GITHUB_SHA, CI_COMMIT_SHA/,
    /needs \{sha7\} \(from the sha input or GITHUB_SHA\)/
  ],
  [
    'a lifecycle run with the policy off',
    refusedInputs({ event: 'lifecycle' }),
    /ecr-promote lifecycle needs --lifecycle: check \(report drift\) or apply/,
    /event: lifecycle needs the lifecycle input: check \(report drift\) or apply/
  ],
  [
    'a status run asked to apply a policy',
    refusedInputs({ event: 'status', lifecycle: 'apply' }),
    /ecr-promote status never writes, .*: give --lifecycle check, or run ecr-promote lifecycle/,
    /event: status never writes, .*: set lifecycle: check, or run event: lifecycle/
  ],
  [
    'deployment records without a GitHub token',
    refusedInputs({ deployments: 'on' }),
    /--deployments on needs a GitHub token: export GITHUB_TOKEN .*, or give --github-token/,
    /deployments: on needs a GitHub token: leave github-token at its default/
  ],
  [
    'an image URI that disagrees with the registry given',
    refusedInputs({
      repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/api',
      'registry-id': '111111111111'
    }),
    /is in registry 123456789012, but --registry-id is 111111111111: drop one/,
    /is in registry 123456789012, but the registry-id input is 111111111111: drop one/
  ],
  [
    'a push whose branch cannot be told',
    async (messages) =>
      messageOf(
        thrownBy(() =>
          resolveTrigger(
            { event: 'push', branch: '', releaseTag: '', version: '', environment: '' },
            { eventName: 'push', ref: '', headRef: '', payload: {} },
            messages
          )
        )
      ),
    /cannot tell the branch of this push \(ref ''\): give --branch$/,
    /cannot tell the branch of this push \(ref ''\): set the branch input$/
  ],
  [
    'a limit a prune needs',
    async (messages) =>
      messageOf(
        thrownBy(() =>
          pruneLimits(
            parseConvention('name: bare\nbuild-tag: sha-{sha7}\nversion-tag: v{version}', 'bare'),
            {},
            messages
          )
        )
      ),
    /minor versions to keep: give --keep-minor-versions, or cleanup\.keep-minor-versions/,
    /minor versions to keep: set the keep-minor-versions input, or cleanup\.keep-minor-versions/
  ],
  [
    'deployment records with no repository to hold them',
    refusedInputs({ deployments: 'on', 'github-token': 'token' }),
    /--deployments on needs the GitHub repository that holds the records: export GITHUB_REPOSITORY=<owner>\/<name>/,
    /deployments: on needs GITHUB_REPOSITORY \(the repository whose Environments page shows them\), which a runner sets/
  ],
  ...(
    [
      ['release', 'a release needs a release tag: ', 'release <tag>', 'release-tag'],
      [
        'rollback',
        'a rollback needs a version such as 1.1.0, .*: ',
        'rollback <version\\|previous\\|date>',
        'version'
      ]
    ] as const
  ).map(([event, needs, argument, input]): Row => [
    `a ${event} without its argument`,
    async (messages) =>
      messageOf(
        thrownBy(() =>
          resolveTrigger(
            { event, branch: '', releaseTag: '', version: '', environment: '' },
            { eventName: 'push', ref: 'refs/heads/main', headRef: '', payload: {} },
            messages
          )
        )
      ),
    new RegExp(`^${needs}ecr-promote ${argument}$`),
    new RegExp(`^${needs}set the ${input} input$`)
  ]),
  [
    'an unscanned image at a scan gate',
    async (messages) => {
      const image = manifest('api-build')
      const move = { repository: 'api', tags: ['production'], image }
      const settings = gateSettings({ requireScan: true })
      return judgeScan(move, scannedImages(image), settings, messages).problems.join('\n')
    },
    /was never scanned .*; scan it first, or give --no-require-scan to let an unscanned image through$/,
    /was never scanned .*; scan it first, or set require-scan: false to let an unscanned image through$/
  ],
  [
    'an unsigned image at a cosign gate',
    async (messages) => {
      const move = { repository: 'api', tags: ['production'], image: manifest('api-build') }
      return judgeCosignSignature(move, false, messages).problems.join('\n')
    },
    /^cannot move .*: it has no cosign signature .*, or drop --require-signature$/,
    /^cannot move .*: it has no cosign signature .*, or set require-signature: off$/
  ],
  [
    'a switch that moves to a withdrawn version',
    (messages) =>
      Promise.resolve(say(messages, { kind: 'set', name: 'allow-withdrawn', value: 'true' })),
    /^give --allow-withdrawn$/,
    /^set allow-withdrawn: true$/
  ]
]

describe('each host says each trouble in its own words', () => {
  it.each(rows)('%s', async (_name, reach, cli, action) => {
    expect(await reach(CLI_MESSAGES)).toMatch(cli)
    expect(await reach(ACTION_MESSAGES)).toMatch(action)
  })

  it('names a profile that does not exist on the command line, before it looks for a region', async () => {
    const out: string[] = []
    const terminal = {
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => out.push(text) },
      live: false,
      interactive: false,
      color: false,
      ask: () => Promise.resolve('')
    }
    const env = awsHome()
    const code = await inEnv(env, () =>
      cli(['status', '--repository', 'api', '--profile', 'dve'], env, terminal)
    )
    expect({ code, out: out.join('') }).toEqual({
      code: 2,
      out: expect.stringContaining('no AWS profile named dve') as string
    })
    expect(out.join('')).not.toContain('region')
  })
})
