import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { readContext } from '../../../src/run/context.js'
import { durationMs, readInputs } from '../../../src/core/inputs.js'
import { rows } from '../../support/builders.js'
import { thrownBy } from '../../support/harness.js'
import { RUNNER_INPUTS } from '../../../src/action/inputs.js'
import { ACTION_MESSAGES } from '../../../src/action/messages.js'

/** Runs readInputs with these INPUT_* values set, as a runner sets them, plus action.yml's defaults. */
function withInputs(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  const all = { convention: 'environments', 'dry-run': '', ...inputs }
  const names = Object.keys(all).map((name) => `INPUT_${name.toUpperCase()}`)
  Object.entries(all).forEach(
    ([name, value]) => (process.env[`INPUT_${name.toUpperCase()}`] = value)
  )
  try {
    return readInputs(
      readContext({ AWS_REGION: 'eu-west-1', GITHUB_SHA: 'ABCDEF0123456789', ...env }),
      RUNNER_INPUTS,
      ACTION_MESSAGES
    )
  } finally {
    names.forEach((name) => delete process.env[name])
  }
}

const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
/** Values written `name=value …`, with `\n` for a new line. */
const pairs = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split(' ')
      .filter(Boolean)
      .map((pair) => [
        pair.slice(0, pair.indexOf('=')),
        pair.slice(pair.indexOf('=') + 1).replaceAll('\\n', '\n')
      ])
  )

/** action.yml's inputs with a default, but the token, whose default is a workflow expression. */
const DEFAULTS = Object.entries(
  (
    parse(readFileSync('action.yml', 'utf8')) as {
      inputs: Record<string, { default?: string }>
    }
  ).inputs
).flatMap(([name, { default: value = '' }]) =>
  value && name !== 'github-token' ? [[name, value] as const] : []
)

describe('readInputs', () => {
  it('reads every input, with defaults from the environment', () => {
    expect(withInputs({ repository: 'team/app\n\nworker\n' })).toEqual({
      repositories: ['team/app', 'worker'],
      registryId: '',
      region: 'eu-west-1',
      convention: 'environments',
      trigger: { event: '', branch: '', releaseTag: '', version: '', environment: '' },
      source: '',
      sha: 'abcdef0123456789',
      shaOrigin: 'GITHUB_SHA',
      service: '',
      dryRun: false,
      maxWritesPerSecond: 10,
      waitForSource: { text: '0', ms: 0 },
      lifecycle: 'off',
      prune: {},
      gates: {
        failOnSeverity: 'off',
        requireScan: false,
        ignoreFindings: [],
        requireSignature: 'off'
      },
      requireTested: false,
      restoreTimeout: { text: '15m', ms: 900_000 },
      deployments: false,
      githubToken: '',
      allowWithdrawn: false
    })
  })

  it('takes the registry and region from a full image URI, and the name after them', () => {
    expect(withInputs({ repository: `${ECR}/team/app\nworker` })).toMatchObject({
      repositories: ['team/app', 'worker'],
      registryId: '123456789012',
      region: 'eu-west-1'
    })
  })

  it.each([
    "repository 'App_' is not a valid ECR repository name",
    "registry-id '12345' is not a 12-digit AWS account id",
    "max-writes-per-second 'fast' is not a positive number of writes a second, such as 10 (ECR's default PutImage quota)",
    "max-writes-per-second '0' is not a positive number",
    "event 'deploy' is not one of push, release, promote, rollback",
    "version '1.2' is not a semantic version",
    "release-tag 'latest' is not a semantic version",
    "environment 'prod env' is not a valid tag name",
    "source 'my tag' is neither a tag nor a sha256: digest",
    "source 'sha256:deadbeef' is not a digest: a digest is sha256: followed by 64 lowercase hexadecimal characters",
    "wait-for-source 'soon' is not a duration: use a number with s, m or h, such as 90s, 10m or 1h (0 waits not at all)",
    "wait-for-source '7h' is longer than a GitHub job may run (6h): wait for the build with needs: instead",
    "repository '123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-app:latest' looks like a registry address, but not like an ECR repository URI: use <account>.dkr.ecr.<region>.amazonaws.com/<name>, with no tag or digest (a source image goes in the source input)",
    "repository '123456789012.dkr.ecr.eu-west-1.amazonaws.com' looks like a registry address, but not like an ECR repository URI",
    "sha 'main' is not a git commit hash",
    "dry-run 'maybe' is not true or false",
    "lifecycle 'sometimes' is not one of off, check, apply",
    "fail-on-severity 'severe' is not one of off, CRITICAL, HIGH, MEDIUM, LOW",
    "require-signature 'gpg' is not one of off, managed, cosign",
    "restore-timeout 'soon' is not a duration: use a number with s, m or h, such as 15m or 1h",
    "allow-withdrawn 'yes' is not true or false",
    // Neither a registry host nor an account: a scheme, a repository, a tag, FIPS and dual-stack hosts, ECR Public, 11 digits.
    ...[
      'https://210987654321.dkr.ecr.us-east-1.amazonaws.com',
      '210987654321.dkr.ecr.us-east-1.amazonaws.com/app',
      '210987654321.dkr.ecr.us-east-1.amazonaws.com:v1',
      '210987654321.dkr.ecr-fips.us-east-1.amazonaws.com',
      '210987654321.dkr-ecr.us-east-1.on.aws',
      'public.ecr.aws',
      '21098765432'
    ].map(
      (value) =>
        `target-registry '${value}' is neither an ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com) nor a 12-digit account id`
    ),
    "target-role-to-assume 'promoter' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
    // Which dates are none is parseMoment's rule (history.test.ts); here, that readInputs says so.
    "version '2026-02-30' is not a date or date-time: use 2026-11-19 (the end of that day, UTC) or 2026-11-19T15:00:00Z, with Z or an offset such as +01:00"
  ])('rejects the input the message names: %s', (message) => {
    const [, name = '', value = ''] = /^(\S+) '([^']*)'/.exec(message) ?? []
    expect(() => withInputs({ repository: 'app', [name]: value })).toThrow(message)
  })

  /** Rows `name | input=value … | VARIABLE=value … | message`; `\n` is a new line. */
  it.each(
    rows(
      'no repository | repository= |  | repository is required: name at least one ECR repository',
      'the same repository twice | repository=app\\napp |  | repository lists the same repository twice',
      'no region |  | AWS_REGION= | no AWS region: set the region input, or AWS_REGION',
      `an image URI in another region than the region input | repository=${ECR}/my-app region=us-east-1 |  | repository '${ECR}/my-app' is in region eu-west-1, but the region input is us-east-1: drop one or make them agree`,
      `an image URI in another registry than the registry-id input | repository=${ECR}/my-app registry-id=210987654321 |  | repository '${ECR}/my-app' is in registry 123456789012, but the registry-id input is 210987654321: drop one or make them agree`,
      `image URIs in two registries | repository=${ECR}/api\\n123456789012.dkr.ecr.us-east-1.amazonaws.com/worker |  | the repositories name more than one registry (123456789012 in eu-west-1, 123456789012 in us-east-1): one run works in one registry and region`,
      'a lifecycle event with lifecycle off | event=lifecycle |  | event: lifecycle needs the lifecycle input: check (report drift) or apply',
      'a status event that would apply a lifecycle policy | event=status lifecycle=apply |  | event: status never writes, so it cannot apply a lifecycle policy: set lifecycle: check, or run event: lifecycle',
      "deployments that are neither off nor on | deployments=true github-token=token | GITHUB_REPOSITORY=acme/shop | deployments 'true' is not off or on",
      'deployments on without a token | deployments=on | GITHUB_REPOSITORY=acme/shop | deployments: on needs a GitHub token: leave github-token at its default (the workflow token, with permissions deployments: write)',
      'deployments on outside a runner | deployments=on github-token=token |  | deployments: on needs GITHUB_REPOSITORY (the repository whose Environments page shows them), which a runner sets',
      "a target-registry with a line break, escaped | target-registry=2109\\n87654321 |  | target-registry '2109\\n87654321' is neither an ECR registry host",
      'a role without a target | target-role-to-assume=arn:aws:iam::210987654321:role/promoter |  | target-role-to-assume needs target-registry: the role is assumed for the target registry only'
    )
  )('rejects %s', (_name, inputs, env, message) => {
    expect(() => withInputs({ repository: 'app', ...pairs(inputs) }, pairs(env))).toThrow(message)
  })

  /** Rows `name | input=value … | VARIABLE=value … | what is read, as JSON`. */
  it.each(
    rows(
      'the region input over the environment | region=us-west-2 |  | {"region":"us-west-2"}',
      'a prune step without dry-run only plans | event=prune |  | {"dryRun":true}',
      'a prune step with dry-run: false deletes | event=prune dry-run=false |  | {"dryRun":false}',
      'any other step without dry-run writes | event=release |  | {"dryRun":false}',
      'dry-run: true on any step plans | event=push dry-run=true |  | {"dryRun":true}',
      'a severity in any case, which then requires a scan | fail-on-severity=high |  | {"gates":{"failOnSeverity":"HIGH","requireScan":true}}',
      'a severity gate that lets an unscanned image through | fail-on-severity=CRITICAL require-scan=false |  | {"gates":{"failOnSeverity":"CRITICAL","requireScan":false}}',
      'a scan required without a severity limit | require-scan=true |  | {"gates":{"requireScan":true}}',
      'ignored findings, one per line | ignore-findings=CVE-2024-1\\n\\nCVE-2024-2\\n |  | {"gates":{"ignoreFindings":["CVE-2024-1","CVE-2024-2"]}}',
      'a signature mode | require-signature=cosign |  | {"gates":{"requireSignature":"cosign"}}',
      'restore-timeout as a duration and require-tested as a boolean | restore-timeout=1h require-tested=true |  | {"restoreTimeout":{"text":"1h","ms":3600000},"requireTested":true}',
      ...['2026-11-19', '2026-11-19T15:00:00Z', '2026-11-19T16:00+01:00', 'previous', 'v1.2.0'].map(
        (version) =>
          `${version} as the version of a rollback | event=rollback version=${version} |  | {"trigger":{"version":"${version}"}}`
      ),
      'deployments off, with a token | deployments=off github-token=token |  | {"deployments":false,"githubToken":"token"}',
      'deployments on, with a token, on a runner | deployments=on github-token=token | GITHUB_REPOSITORY=acme/shop | {"deployments":true,"githubToken":"token"}',
      'allow-withdrawn true | allow-withdrawn=true |  | {"allowWithdrawn":true}',
      'allow-withdrawn false | allow-withdrawn=false |  | {"allowWithdrawn":false}',
      'event status with lifecycle check | event=status lifecycle=check |  | {"trigger":{"event":"status"},"lifecycle":"check"}',
      'the prune limits as numbers | keep-minor-versions=3 prune-older-than=0 |  | {"prune":{"keepMinorVersions":3,"olderThanDays":0}}',
      'a target registry host | target-registry=210987654321.dkr.ecr.us-east-1.amazonaws.com |  | {"target":{"account":"210987654321","region":"us-east-1","host":"210987654321.dkr.ecr.us-east-1.amazonaws.com"}}',
      'a target registry host in China | target-registry=210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn |  | {"target":{"account":"210987654321","region":"cn-north-1","host":"210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn"}}',
      'a target account, in the source region, with a role | target-registry=210987654321 target-role-to-assume=arn:aws-cn:iam::210987654321:role/ci/promoter |  | {"target":{"account":"210987654321","region":"eu-west-1","host":"210987654321.dkr.ecr.eu-west-1.amazonaws.com","roleArn":"arn:aws-cn:iam::210987654321:role/ci/promoter"}}',
      'a target account of the source in another region | registry-id=123456789012 target-registry=123456789012.dkr.ecr.us-east-1.amazonaws.com |  | {"target":{"account":"123456789012","region":"us-east-1"}}'
    )
  )('reads %s', (_name, given, env, read) => {
    expect(withInputs({ repository: 'app', ...pairs(given) }, pairs(env))).toMatchObject(
      JSON.parse(read) as object
    )
  })

  it.each(['123456789012', ECR])(
    'reads a target-registry %s that is the source registry as in place, with a notice',
    (given) => {
      const inputs = withInputs({
        repository: 'app',
        'registry-id': '123456789012',
        'target-registry': given
      })
      expect(inputs.target).toBeUndefined()
      expect(inputs.notices).toEqual([
        `target-registry ${given} is the source registry: the tags are written in place`
      ])
    }
  )

  it('names every problem at once', () => {
    const error = thrownBy(() =>
      withInputs({ repository: 'App', version: 'x', sha: 'y' })
    ) as AggregateError
    expect(error.errors.map((each: Error) => each.message.split(' is ')[0])).toEqual([
      "repository 'App'",
      "version 'x'",
      "sha 'y'"
    ])
  })

  it('finds the defaults of action.yml', () => {
    expect(DEFAULTS).toEqual(
      expect.arrayContaining([
        ['convention', 'environments'],
        ['max-writes-per-second', '10'],
        ['restore-timeout', '15m']
      ])
    )
  })

  // The command line passes '' for every flag not given: it gets action.yml's defaults only if
  // readInputs has them too.
  it.each(DEFAULTS)('reads %s empty as its action.yml default %j', (name, value) => {
    expect(withInputs({ repository: 'app', [name]: '' })).toEqual(
      withInputs({ repository: 'app', [name]: value })
    )
  })
})

describe('durationMs', () => {
  it.each<[string, number | undefined]>([
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['45', 45_000],
    ['0', 0],
    ['1.5m', 90_000],
    ['0.5s', 500],
    [' 30s ', 30_000],
    ['', undefined],
    ['s', undefined],
    ['5d', undefined],
    ['-1s', undefined],
    ['1 m', undefined],
    ['.5s', undefined],
    ['1m30s', undefined],
    ['10M', undefined],
    ['ten minutes', undefined]
  ])('%j is %j ms', (text, ms) => {
    expect(durationMs(text)).toBe(ms)
  })
})
