import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { readContext } from '../../../src/run/context.js'
import { durationMs, readInputs } from '../../../src/core/inputs.js'
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
    expect(
      withInputs({ repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app\nworker' })
    ).toMatchObject({
      repositories: ['team/app', 'worker'],
      registryId: '123456789012',
      region: 'eu-west-1'
    })
  })

  it.each([
    [{ region: 'us-west-2' }, {}, 'us-west-2'],
    [{}, { AWS_REGION: '', AWS_DEFAULT_REGION: 'ap-south-1' }, 'ap-south-1']
  ])('takes the region from %j and %j', (inputs, env, region) => {
    expect(withInputs({ repository: 'app', ...inputs }, env).region).toBe(region)
  })

  it.each<[string, Record<string, string>, string, NodeJS.ProcessEnv?]>([
    [
      'a repository name outside the grammar',
      { repository: 'App_' },
      "repository 'App_' is not a valid ECR repository name"
    ],
    [
      'the same repository twice',
      { repository: 'app\napp' },
      'repository lists the same repository twice'
    ],
    [
      'a registry id that is not an account',
      { 'registry-id': '12345' },
      "registry-id '12345' is not a 12-digit AWS account id"
    ],
    ['no region', {}, 'no AWS region: set the region input, or AWS_REGION', { AWS_REGION: '' }],
    [
      'a write pace that is not a positive number',
      { 'max-writes-per-second': 'fast' },
      "max-writes-per-second 'fast' is not a positive number of writes a second, such as 10 (ECR's default PutImage quota)"
    ],
    [
      'a write pace of zero',
      { 'max-writes-per-second': '0' },
      "max-writes-per-second '0' is not a positive number"
    ],
    [
      'an unknown event',
      { event: 'deploy' },
      "event 'deploy' is not one of push, release, promote, rollback"
    ],
    ['a version that is not SemVer', { version: '1.2' }, "version '1.2' is not a semantic version"],
    [
      'a version out of range',
      { version: 'v99999999999999999999.0.0' },
      "version 'v99999999999999999999.0.0' is out of range: MAJOR, MINOR and PATCH are each at most 9007199254740991"
    ],
    [
      'a release tag that is not SemVer',
      { 'release-tag': 'latest' },
      "release-tag 'latest' is not a semantic version"
    ],
    [
      'an environment that is not a tag',
      { environment: 'prod env' },
      "environment 'prod env' is not a valid tag name"
    ],
    [
      'a source that is neither a tag nor a digest',
      { source: 'my tag' },
      "source 'my tag' is neither a tag nor a sha256: digest"
    ],
    [
      'a digest that is too short',
      { source: 'sha256:deadbeef' },
      "source 'sha256:deadbeef' is not a digest: a digest is sha256: followed by 64 lowercase hexadecimal characters"
    ],
    [
      'a wait that is not a duration',
      { 'wait-for-source': 'soon' },
      "wait-for-source 'soon' is not a duration: use a number with s, m or h, such as 90s, 10m or 1h (0 waits not at all)"
    ],
    [
      'an image URI in another region than the region input',
      { repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-app', region: 'us-east-1' },
      "repository '123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-app' is in region eu-west-1, but the region input is us-east-1: drop one or make them agree"
    ],
    [
      'an image URI in another registry than the registry-id input',
      {
        repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-app',
        'registry-id': '210987654321'
      },
      "repository '123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-app' is in registry 123456789012, but the registry-id input is 210987654321: drop one or make them agree"
    ],
    [
      'an image URI with a tag',
      { repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-app:latest' },
      "repository '123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-app:latest' looks like a registry address, but not like an ECR repository URI: use <account>.dkr.ecr.<region>.amazonaws.com/<name>, with no tag or digest (a source image goes in the source input)"
    ],
    [
      "amazon-ecr-login's registry output, with no repository",
      { repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' },
      "repository '123456789012.dkr.ecr.eu-west-1.amazonaws.com' looks like a registry address, but not like an ECR repository URI"
    ],
    [
      'a wait longer than a job may run',
      { 'wait-for-source': '7h' },
      "wait-for-source '7h' is longer than a GitHub job may run (6h): wait for the build with needs: instead"
    ],
    [
      'image URIs in two registries',
      {
        repository:
          '123456789012.dkr.ecr.eu-west-1.amazonaws.com/api\n123456789012.dkr.ecr.us-east-1.amazonaws.com/worker'
      },
      'the repositories name more than one registry (123456789012 in eu-west-1, 123456789012 in us-east-1): one run works in one registry and region'
    ],
    ['a sha that is not a commit', { sha: 'main' }, "sha 'main' is not a git commit hash"],
    [
      'a dry-run that is not a boolean',
      { 'dry-run': 'maybe' },
      "dry-run 'maybe' is not true or false"
    ],
    [
      'a lifecycle mode that is not one',
      { lifecycle: 'sometimes' },
      "lifecycle 'sometimes' is not one of off, check, apply"
    ],
    [
      'a lifecycle event with lifecycle off',
      { event: 'lifecycle' },
      'event lifecycle needs the lifecycle input: check (report drift) or apply'
    ],
    [
      'a status event that would apply a lifecycle policy',
      { event: 'status', lifecycle: 'apply' },
      'event status never writes, so it cannot apply a lifecycle policy: use lifecycle: check, or event: lifecycle'
    ],
    [
      'deployments that are neither off nor on',
      { deployments: 'true', 'github-token': 'token' },
      "deployments 'true' is not off or on",
      { GITHUB_REPOSITORY: 'acme/shop' }
    ],
    [
      'deployments on without a token',
      { deployments: 'on' },
      'deployments: on needs a GitHub token: leave github-token at its default (the workflow token, with permissions deployments: write)',
      { GITHUB_REPOSITORY: 'acme/shop' }
    ],
    [
      'deployments on outside a runner',
      { deployments: 'on', 'github-token': 'token' },
      'deployments: on needs GITHUB_REPOSITORY (the repository whose Environments page shows them), which a runner sets'
    ],
    [
      'a severity that is not one',
      { 'fail-on-severity': 'severe' },
      "fail-on-severity 'severe' is not one of off, CRITICAL, HIGH, MEDIUM, LOW"
    ],
    [
      'a signature mode that is not one',
      { 'require-signature': 'gpg' },
      "require-signature 'gpg' is not one of off, managed, cosign"
    ],
    [
      'a restore timeout that is not a duration',
      { 'restore-timeout': 'soon' },
      "restore-timeout 'soon' is not a duration: use a number with s, m or h, such as 15m or 1h"
    ],
    [
      'an allow-withdrawn that is not a boolean',
      { 'allow-withdrawn': 'yes' },
      "allow-withdrawn 'yes' is not true or false"
    ],
    ...[
      '2026-02-30',
      '2025-02-29',
      '2026-13-01',
      '2026-11-19T24:00:00Z',
      '2026-11-19T15:00:00',
      '2026-11-19T15:00:00+25:00',
      '2026-11-19 15:00'
    ].map((version): [string, Record<string, string>, string] => [
      `a date that is none, ${version}`,
      { version },
      `version '${version}' is not a date or date-time: use 2026-11-19 (the end of that day, UTC) or 2026-11-19T15:00:00Z, with Z or an offset such as +01:00`
    ])
  ])('rejects %s', (_name, inputs, message, env = {}) => {
    expect(() => withInputs({ repository: 'app', ...inputs }, env)).toThrow(message)
  })

  it.each([
    ['a prune step without dry-run only plans', { event: 'prune' }, true],
    ['a prune step with dry-run: false deletes', { event: 'prune', 'dry-run': 'false' }, false],
    ['any other step without dry-run writes', { event: 'release' }, false],
    ['dry-run: true on any step plans', { event: 'push', 'dry-run': 'true' }, true]
  ])('%s', (_name, given, dryRun) => {
    expect(withInputs({ repository: 'app', ...given }).dryRun).toBe(dryRun)
  })

  it.each<[string, Record<string, string>, object]>([
    ['every gate off by default', {}, { failOnSeverity: 'off', requireScan: false }],
    [
      'a severity in any case, which then requires a scan',
      { 'fail-on-severity': 'high' },
      { failOnSeverity: 'HIGH', requireScan: true }
    ],
    [
      'a severity gate that lets an unscanned image through',
      { 'fail-on-severity': 'CRITICAL', 'require-scan': 'false' },
      { failOnSeverity: 'CRITICAL', requireScan: false }
    ],
    ['a scan required without a severity limit', { 'require-scan': 'true' }, { requireScan: true }],
    [
      'ignored findings, one per line',
      { 'ignore-findings': 'CVE-2024-1\n\nCVE-2024-2\n' },
      { ignoreFindings: ['CVE-2024-1', 'CVE-2024-2'] }
    ],
    ['a signature mode', { 'require-signature': 'cosign' }, { requireSignature: 'cosign' }]
  ])('reads the gates: %s', (_name, given, gates) => {
    expect(withInputs({ repository: 'app', ...given }).gates).toMatchObject(gates)
  })

  it('reads restore-timeout as a duration and require-tested as a boolean', () => {
    expect(
      withInputs({ repository: 'app', 'restore-timeout': '1h', 'require-tested': 'true' })
    ).toMatchObject({ restoreTimeout: { text: '1h', ms: 3_600_000 }, requireTested: true })
  })

  it.each([
    ['a date', '2026-11-19'],
    ['a date-time in UTC', '2026-11-19T15:00:00Z'],
    ['a date-time with an offset', '2026-11-19T16:00+01:00'],
    ['previous', 'previous'],
    ['a version', 'v1.2.0']
  ])('takes %s as the version', (_name, version) => {
    expect(withInputs({ repository: 'app', event: 'rollback', version }).trigger.version).toBe(
      version
    )
  })

  it.each<[string, Record<string, string>, NodeJS.ProcessEnv, object]>([
    ['deployments off by default', {}, {}, { deployments: false, githubToken: '' }],
    [
      'deployments off, with a token',
      { deployments: 'off', 'github-token': 'token' },
      {},
      { deployments: false, githubToken: 'token' }
    ],
    [
      'deployments on, with a token, on a runner',
      { deployments: 'on', 'github-token': 'token' },
      { GITHUB_REPOSITORY: 'acme/shop' },
      { deployments: true, githubToken: 'token' }
    ],
    ['allow-withdrawn true', { 'allow-withdrawn': 'true' }, {}, { allowWithdrawn: true }],
    ['allow-withdrawn false', { 'allow-withdrawn': 'false' }, {}, { allowWithdrawn: false }],
    [
      'event status with lifecycle check',
      { event: 'status', lifecycle: 'check' },
      {},
      { trigger: expect.objectContaining({ event: 'status' }), lifecycle: 'check' }
    ]
  ])('reads %s', (_name, given, env, read) => {
    expect(withInputs({ repository: 'app', ...given }, env)).toMatchObject(read)
  })

  it('reads the prune limits as numbers', () => {
    expect(
      withInputs({ repository: 'app', 'keep-minor-versions': '3', 'prune-older-than': '0' }).prune
    ).toEqual({ keepMinorVersions: 3, olderThanDays: 0 })
  })

  it('requires a repository', () => {
    expect(() => withInputs({})).toThrow('repository is required: name at least one ECR repository')
  })

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
