/**
 * End to end: the scan, signature and tested-image gates and archived rollback targets, as a runner
 * runs the bundled action, against the stand-in (which serves scan findings in both shapes, signing
 * statuses and archive storage with ECR's semantics). A refused run must leave every repository as
 * it was.
 */
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr'
import { startStandIn } from './support/ecr-standin.mjs'
import { dockerV2Image, multiArchImage, seedImage } from './support/images.mjs'
import { runAction } from './support/run-action.mjs'
import { clientFor } from './support/harness.js'
import { shortDigest } from '../src/core/model.js'

type StandIn = Awaited<ReturnType<typeof startStandIn>>
type Control = StandIn['control']
type ScanSpec = NonNullable<Parameters<Control['setScan']>[2]>
type SigningSpec = Parameters<Control['setSigning']>[2][number]
type Finding = NonNullable<ScanSpec['findings']>[number]

const SHA = 'abcdef1234567890abcdef1234567890abcdef12'
const BUILD_TAG = 'sha-abcdef1'

let standIn: StandIn
let client: ECRClient
let counter = 0
beforeEach(async () => {
  standIn = await startStandIn()
  client = clientFor(standIn.url)
})
afterEach(async () => {
  client.destroy()
  await standIn.close()
})

/**
 * A repository as after a release of 1.0.0 and a build of the next commit: production and v1.0.0 on
 * the old image, the build tag (and, with `staging`, staging) on the new multi-platform one.
 */
async function repository(options: { staging?: boolean } = {}) {
  const name = `team/gates-${++counter}`
  await client.send(new CreateRepositoryCommand({ repositoryName: name }))
  const released = dockerV2Image(`released-${counter}`)
  const built = multiArchImage(`built-${counter}`)
  await seedImage(client, name, released, ['v1.0.0', 'production'])
  await seedImage(client, name, built, [BUILD_TAG, ...(options.staging ? ['staging'] : [])])
  const [amd64, arm64] = built.children as { digest: string }[]
  return { name, released, built, amd64: amd64!.digest, arm64: arm64!.digest }
}

const clean: ScanSpec = { status: 'COMPLETE', shape: 'basic', findings: [] }
const scanOf = (
  status: string,
  shape: 'basic' | 'enhanced',
  findings: Finding[] = []
): ScanSpec => ({
  status,
  shape,
  findings
})
/** Scans both platform images of a build, the arm64 one with these findings. */
function scanBuild(repo: Awaited<ReturnType<typeof repository>>, arm64: ScanSpec, amd64 = clean) {
  standIn.control.setScan(repo.name, repo.amd64, amd64)
  standIn.control.setScan(repo.name, repo.arm64, arm64)
}

const release = (repositories: string[], inputs: Record<string, string> = {}) =>
  runAction({
    endpoint: standIn.url,
    eventName: 'release',
    payload: {
      action: 'published',
      release: { tag_name: 'v1.1.0', draft: false, prerelease: false },
      repository: { default_branch: 'main', full_name: 'octo/app' }
    },
    inputs: { repository: repositories.join('\n'), sha: SHA, ...inputs },
    env: { GITHUB_REF: 'refs/tags/v1.1.0', GITHUB_SHA: SHA }
  })

const dispatch = (repositories: string[], inputs: Record<string, string>) =>
  runAction({
    endpoint: standIn.url,
    eventName: 'workflow_dispatch',
    payload: { inputs: {}, repository: { default_branch: 'main', full_name: 'octo/app' } },
    inputs: { repository: repositories.join('\n'), sha: SHA, ...inputs },
    env: { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: SHA }
  })

const snapshots = (names: string[]) => names.map((name) => standIn.control.snapshot(name))
const gatesOf = (json: string | undefined) =>
  (JSON.parse(json ?? '[]') as { repository: string; gates?: Record<string, unknown> }[]).map(
    ({ repository, gates }) => ({ repository, gates })
  )

describe('scan gate', () => {
  it('refuses a release in every repository when one platform image has a finding at or above the severity', async () => {
    const [api, worker] = [await repository(), await repository()]
    scanBuild(
      api,
      scanOf('ACTIVE', 'enhanced', [
        { id: 'CVE-2024-0001', severity: 'CRITICAL', package: 'openssl', fixAvailable: 'YES' },
        { id: 'CVE-2024-0002', severity: 'MEDIUM', package: 'zlib', fixAvailable: 'NO' }
      ])
    )
    scanBuild(worker, clean)
    const before = snapshots([api.name, worker.name])
    const run = await release([api.name, worker.name], { 'fail-on-severity': 'HIGH' })
    expect(run.status).toBe(1)
    expect(run.errors).toEqual([
      `cannot move ${api.name}:production to ${shortDigest(api.built.digest)}: 1 finding at or above HIGH (CRITICAL 1, MEDIUM 1): CVE-2024-0001 in openssl (CRITICAL, fix available: YES). Fix and rebuild, or name the accepted ones in ignore-findings`
    ])
    expect(snapshots([api.name, worker.name])).toEqual(before)
    expect(run.summary).toContain('<h4>Gates</h4>')
    expect(run.summary).toContain('refused (fail on HIGH): CRITICAL 1, MEDIUM 1')
    expect(run.summary).toContain('linux/arm64: ACTIVE')
    expect(run.summary).toContain('Nothing was written.')
    // A refused run names no tag as moved: a later step must not deploy the refused image.
    expect([run.outputs.tags, run.outputs.images, run.outputs.changes]).toEqual(['', '', '[]'])
    const [apiGates] = gatesOf(run.outputs.json)
    expect(apiGates?.gates).toMatchObject({
      tags: ['production'],
      digest: api.built.digest,
      scan: {
        threshold: 'HIGH',
        passed: false,
        counts: { CRITICAL: 1, MEDIUM: 1 },
        images: [
          { digest: api.amd64, platform: 'linux/amd64', status: 'COMPLETE' },
          { digest: api.arm64, platform: 'linux/arm64', status: 'ACTIVE' }
        ],
        top: [
          { id: 'CVE-2024-0001', severity: 'CRITICAL', package: 'openssl', 'fix-available': 'YES' }
        ]
      },
      signature: 'off'
    })
  })

  it('lets the release through when the finding is ignored, and names it', async () => {
    const api = await repository()
    scanBuild(api, scanOf('COMPLETE', 'basic', [{ id: 'CVE-2024-0001', severity: 'CRITICAL' }]))
    const run = await release([api.name], {
      'fail-on-severity': 'HIGH',
      'ignore-findings': 'CVE-2024-0001\nCVE-2099-9999'
    })
    expect(run.errors).toEqual([])
    expect(run.status).toBe(0)
    expect(run.summary).toContain('ignored: CVE-2024-0001')
    expect(gatesOf(run.outputs.json)[0]?.gates).toMatchObject({
      scan: { passed: true, counts: {}, ignored: ['CVE-2024-0001'] }
    })
    expect(standIn.control.snapshot(api.name).images).toContainEqual(
      expect.objectContaining({
        digest: api.built.digest,
        tags: ['production', BUILD_TAG, 'v1.1.0']
      })
    )
  })

  it('reads findings to the last page', async () => {
    const api = await repository()
    const low = Array.from({ length: 1_100 }, (_, i) => ({
      id: `CVE-2023-${String(i).padStart(5, '0')}`,
      severity: 'LOW'
    }))
    scanBuild(api, scanOf('COMPLETE', 'basic', [...low, { id: 'CVE-2024-9999', severity: 'HIGH' }]))
    const run = await release([api.name], { 'fail-on-severity': 'HIGH' })
    expect(run.status).toBe(1)
    expect(run.errors[0]).toContain('(HIGH 1, LOW 1100): CVE-2024-9999 (HIGH)')
    const pages = standIn.control.calls.filter(
      ({ operation, input }) =>
        operation === 'DescribeImageScanFindings' && input.imageId.imageDigest === api.arm64
    )
    expect(pages).toHaveLength(2)
  })

  it.each<[string, ScanSpec | undefined, string]>([
    [
      'a scan still in progress',
      scanOf('IN_PROGRESS', 'enhanced'),
      'has no finished scan (status IN_PROGRESS: The scan is in progress.)'
    ],
    [
      'a failed scan',
      { ...scanOf('FAILED', 'basic'), description: 'UnsupportedImageError' },
      'has no finished scan (status FAILED: UnsupportedImageError)'
    ],
    ['no scan at all', undefined, 'was never scanned (ECR has no scan findings for it)']
  ])('refuses %s unless require-scan is false', async (_name, arm64, why) => {
    const api = await repository()
    standIn.control.setScan(api.name, api.amd64, clean)
    if (arm64) standIn.control.setScan(api.name, api.arm64, arm64)
    const refused = await release([api.name], { 'fail-on-severity': 'CRITICAL' })
    expect(refused.status).toBe(1)
    expect(refused.errors).toEqual([
      `cannot move ${api.name}:production to ${shortDigest(api.built.digest)}: platform image linux/arm64 ${shortDigest(api.arm64)} ${why}; scan it first, or set require-scan: false to let an unscanned image through`
    ])
    const letThrough = await release([api.name], {
      'fail-on-severity': 'CRITICAL',
      'require-scan': 'false'
    })
    expect(letThrough.errors).toEqual([])
    expect(letThrough.status).toBe(0)
  })

  it('gates a rollback too, and an incident rollback can turn the gate off, which the summary says', async () => {
    const api = await repository()
    standIn.control.setScan(
      api.name,
      api.released.digest,
      scanOf('COMPLETE', 'basic', [{ id: 'CVE-2024-0003', severity: 'HIGH' }])
    )
    // production is on the newer v1.1.0 image; rolling back to 1.0.0 meets its finding.
    const hotfix = dockerV2Image('hotfix')
    await seedImage(client, api.name, hotfix, ['v1.1.0', 'production'])
    const gated = await dispatch([api.name], {
      event: 'rollback',
      version: '1.0.0',
      'fail-on-severity': 'HIGH'
    })
    expect(gated.status).toBe(1)
    expect(gated.errors[0]).toContain('1 finding at or above HIGH (HIGH 1): CVE-2024-0003 (HIGH)')
    const incident = await dispatch([api.name], {
      event: 'rollback',
      version: '1.0.0',
      'fail-on-severity': 'off'
    })
    expect(incident.status).toBe(0)
    expect(incident.summary).toMatch(
      /<td>production<\/td><td><code>sha256:[0-9a-f]{12}<\/code><\/td><td>off<\/td><td>off<\/td>/
    )
    expect(gatesOf(incident.outputs.json)[0]?.gates).toMatchObject({ scan: 'off' })
  })
})

describe('signature gate', () => {
  const profile = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/ecr'

  it.each<[string, SigningSpec[], number, string | undefined]>([
    [
      'a COMPLETE signature passes',
      [{ signingProfileArn: profile, status: 'COMPLETE' }],
      0,
      undefined
    ],
    [
      'a signature IN_PROGRESS is waited for',
      [{ signingProfileArn: profile, status: 'IN_PROGRESS', completeAfterMs: 1_500 }],
      0,
      undefined
    ],
    [
      'a FAILED signature refuses, with its reason',
      [
        {
          signingProfileArn: profile,
          status: 'FAILED',
          failureCode: 'KmsKeyDisabled',
          failureReason: 'the signing key is disabled'
        }
      ],
      1,
      `ECR managed signing FAILED (${profile}: the signing key is disabled)`
    ],
    ['an unsigned image refuses', [], 1, 'ECR managed signing has not signed it']
  ])('managed: %s', async (_name, statuses, status, message) => {
    const api = await repository()
    standIn.control.setSigning(api.name, api.built.digest, statuses)
    const run = await release([api.name], { 'require-signature': 'managed' })
    expect(run.status).toBe(status)
    if (message) expect(run.errors[0]).toContain(message)
    else
      expect(gatesOf(run.outputs.json)[0]?.gates).toMatchObject({
        signature: { mode: 'managed', status: 'COMPLETE', passed: true, detail: profile }
      })
  })

  it('cosign: refuses an image without its sha256-<hex>.sig tag, and passes once it is there', async () => {
    const api = await repository()
    const signatureTag = `${api.built.digest.replace(':', '-')}.sig`
    const refused = await release([api.name], { 'require-signature': 'cosign' })
    expect(refused.status).toBe(1)
    expect(refused.errors[0]).toContain(
      `it has no cosign signature (no tag ${signatureTag} in ${api.name})`
    )
    await seedImage(client, api.name, dockerV2Image('signature'), [signatureTag])
    const signed = await release([api.name], { 'require-signature': 'cosign' })
    expect(signed.status).toBe(0)
    expect(signed.summary).toContain(`passed: cosign SIGNED (${signatureTag})`)
  })
})

describe('tested-image gate', () => {
  it('environments: production moves only to the image staging points at', async () => {
    const [api, worker] = [await repository(), await repository({ staging: true })]
    const before = snapshots([api.name, worker.name])
    const refused = await release([api.name, worker.name], { 'require-tested': 'true' })
    expect(refused.status).toBe(1)
    expect(refused.errors).toEqual([
      `cannot move ${api.name}:production to ${shortDigest(api.built.digest)}: require-tested is on, and production takes only the image that staging points at, which is none (there is no such tag): move staging to this image first and test it there`
    ])
    expect(snapshots([api.name, worker.name])).toEqual(before)
    expect(refused.summary).toContain('production: refused')
    expect(gatesOf(refused.outputs.json).map(({ gates }) => gates?.tested)).toEqual([
      [{ pointer: 'production', refused: refused.errors[0] }],
      [{ pointer: 'production', by: 'staging' }]
    ])
    const promoted = await dispatch([api.name], { event: 'promote', environment: 'staging' })
    expect(promoted.status).toBe(0)
    const released = await release([api.name, worker.name], { 'require-tested': 'true' })
    expect(released.status).toBe(0)
    expect(released.summary).toContain('production from staging')
  })

  it('channels: stable moves only to an image carrying an rc tag of its version', async () => {
    const name = `team/gates-${++counter}`
    await client.send(new CreateRepositoryCommand({ repositoryName: name }))
    const built = dockerV2Image('channels-build')
    const service = name.split('/').pop()
    await seedImage(client, name, built, [`${service}-main-abcdef1`, '2.0.0-rc.3'])
    const run = (inputs: Record<string, string> = {}) =>
      release([name], { convention: 'channels', 'require-tested': 'true', ...inputs })
    const refused = await run()
    expect(refused.status).toBe(1)
    expect(refused.errors[0]).toContain(
      "stable takes only an image carrying a tag matching '1.1.0-rc.*'"
    )
    await seedImage(client, name, built, ['1.1.0-rc.41'])
    const passed = await run()
    expect(passed.status).toBe(0)
    expect(passed.summary).toContain('stable from 1.1.0-rc.41')
  })
})

describe('archived rollback targets', () => {
  const rollback = (name: string, inputs: Record<string, string> = {}) =>
    dispatch([name], { event: 'rollback', version: '1.0.0', ...inputs })

  async function archivedRelease(restoreMs: number) {
    const api = await repository()
    await seedImage(client, api.name, dockerV2Image('next'), ['v1.1.0', 'production'])
    standIn.control.archive(api.name, api.released.digest, { restoreMs })
    return api
  }

  // AWS does not say what BatchGetImage answers for an archived image: every answer is run.
  const WORLDS = ['ImageNotFound', 'ImageInaccessible', 'manifest'] as const

  it.each(WORLDS)(
    'BatchGetImage answering %s for it: restores the archived image, waits until it is ACTIVE, then writes',
    async (answer) => {
      const api = await archivedRelease(1_500)
      standIn.control.archivedAnswer(answer)
      const run = await rollback(api.name)
      expect(run.errors).toEqual([])
      expect(run.status).toBe(0)
      expect(run.stdout).toContain(
        `${api.name}@${shortDigest(api.released.digest)} is archived: restoring it`
      )
      const image = standIn.control
        .snapshot(api.name)
        .images.find(({ digest }) => digest === api.released.digest)
      expect(image).toMatchObject({ status: 'ACTIVE', tags: ['production', 'v1.0.0'] })
      expect(JSON.parse(run.outputs.json ?? '[]')[0].restore).toMatchObject({
        digest: api.released.digest,
        was: 'ARCHIVED',
        action: 'restored'
      })
      const restores = standIn.control.calls.filter(
        ({ operation }) => operation === 'UpdateImageStorageClass'
      )
      expect(restores).toHaveLength(1)
    }
  )

  it('restores nothing when another repository is refused at a gate', async () => {
    const api = await archivedRelease(0)
    const worker = await repository()
    const hotfix = dockerV2Image(`hotfix-${counter}`)
    await seedImage(client, worker.name, hotfix, ['v1.1.0', 'production'])
    standIn.control.setScan(
      worker.name,
      worker.released.digest,
      scanOf('COMPLETE', 'basic', [{ id: 'CVE-2024-0004', severity: 'CRITICAL' }])
    )
    const run = await dispatch([api.name, worker.name], {
      event: 'rollback',
      version: '1.0.0',
      'fail-on-severity': 'HIGH'
    })
    expect(run.status).toBe(1)
    expect(run.errors).toEqual([expect.stringContaining(`cannot move ${worker.name}:production`)])
    expect(standIn.control.calls.map(({ operation }) => operation)).not.toContain(
      'UpdateImageStorageClass'
    )
    expect(
      standIn.control.snapshot(api.name).images.find(({ digest }) => digest === api.released.digest)
        ?.status
    ).toBe('ARCHIVED')
  })

  it('prune lists and deletes an archived release like any other', async () => {
    const api = await archivedRelease(0)
    await seedImage(client, api.name, dockerV2Image(`v2-${counter}`), ['v2.0.0'])
    const run = await dispatch([api.name], {
      event: 'prune',
      'keep-minor-versions': '2',
      'dry-run': 'false'
    })
    expect(run.errors).toEqual([])
    expect(run.status).toBe(0)
    const pruned = JSON.parse(run.outputs.json ?? '[]')[0].prune
    expect(pruned.images.map(({ digest }: { digest: string }) => digest)).toEqual([
      api.released.digest
    ])
    expect(standIn.control.snapshot(api.name).images.map(({ digest }) => digest)).not.toContain(
      api.released.digest
    )
  })

  it.each(WORLDS)(
    'BatchGetImage answering %s for it: a dry run says a restore would be needed, and restores nothing',
    async (answer) => {
      const api = await archivedRelease(0)
      standIn.control.archivedAnswer(answer)
      const before = snapshots([api.name])
      const run = await rollback(api.name, { 'dry-run': 'true' })
      expect(run.status).toBe(0)
      expect(run.summary).toContain('was ARCHIVED: would restore')
      expect(snapshots([api.name])).toEqual(before)
    }
  )

  it.each(WORLDS)(
    'BatchGetImage answering %s for it: writes nothing when the restore outlasts restore-timeout, and says how to resume',
    async (answer) => {
      const api = await archivedRelease(60_000)
      standIn.control.archivedAnswer(answer)
      const run = await rollback(api.name, { 'restore-timeout': '3s' })
      expect(run.status).toBe(1)
      expect(run.errors).toEqual([
        `${api.name}@${shortDigest(api.released.digest)} is still being restored from archive after restore-timeout (3s): no tag was written; ECR goes on restoring it, so run this step again later (it waits again), or raise restore-timeout`
      ])
      const production = standIn.control
        .snapshot(api.name)
        .images.find(({ tags }) => tags.includes('production'))
      expect(production?.tags).toEqual(['production', 'v1.1.0'])
    }
  )
})

it('a gate input outside its values is one clear error before anything is read', async () => {
  const api = await repository()
  const run = await release([api.name], { 'fail-on-severity': 'severe' })
  expect(run.status).toBe(1)
  expect(run.errors).toEqual([
    "fail-on-severity 'severe' is not one of off, CRITICAL, HIGH, MEDIUM, LOW"
  ])
  expect(standIn.control.calls.map(({ operation }) => operation)).not.toContain(
    'DescribeRepositories'
  )
})
