/**
 * The stand-in's gate-facing operations (scan findings, signing status, image storage class) and
 * the archive status they share with the image operations, driven through the real ECR client.
 */
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImageScanFindingsCommand,
  DescribeImageSigningStatusCommand,
  DescribeImagesCommand,
  ECRClient,
  ImageNotFoundException,
  ImageStorageClassUpdateNotSupportedException,
  InvalidParameterException,
  ListImagesCommand,
  PutImageCommand,
  RepositoryNotFoundException,
  ScanNotFoundException,
  ServerException,
  UpdateImageStorageClassCommand,
  type DescribeImageScanFindingsCommandOutput,
  type ImageIdentifier,
  type ImageStatusFilter,
  type TargetStorageClass
} from '@aws-sdk/client-ecr'
import { startStandIn } from './support/ecr-standin.mjs'
import { dockerV2Image, seedImage } from './support/images.mjs'
import { clientFor, rejection } from './support/harness.js'

type StandIn = Awaited<ReturnType<typeof startStandIn>>
type Scan = NonNullable<Parameters<StandIn['control']['setScan']>[2]>
type Finding = NonNullable<Scan['findings']>[number]
type Signing = Parameters<StandIn['control']['setSigning']>[2][number]

const ACCOUNT = '123456789012'
const RESTORE_MS = 300

let standIn: StandIn
let ecr: ECRClient

beforeAll(async () => {
  standIn = await startStandIn()
  ecr = clientFor(standIn.url)
})

afterAll(async () => {
  ecr.destroy()
  await standIn.close()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Reads until `done` holds or 5 s pass, and returns the last read (the test asserts on it). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000
  for (;;) {
    const value = await read()
    if (done(value) || Date.now() > deadline) return value
    await sleep(20)
  }
}

/** A new repository holding one Docker image tagged v1 (and `seed`); returns its digest. */
async function repoWithImage(repositoryName: string, seed = repositoryName): Promise<string> {
  await ecr.send(new CreateRepositoryCommand({ repositoryName }))
  return seedImage(ecr, repositoryName, dockerV2Image(seed), ['v1'])
}

const findingsOf = (repositoryName: string, imageId: ImageIdentifier, more = {}) =>
  ecr.send(new DescribeImageScanFindingsCommand({ repositoryName, imageId, ...more }))

const signingOf = (repositoryName: string, imageId: ImageIdentifier) =>
  ecr.send(new DescribeImageSigningStatusCommand({ repositoryName, imageId }))

const storageClass = (
  repositoryName: string,
  imageId: ImageIdentifier,
  targetStorageClass: TargetStorageClass
) => ecr.send(new UpdateImageStorageClassCommand({ repositoryName, imageId, targetStorageClass }))

const pull = (repositoryName: string, imageIds: ImageIdentifier[]) =>
  ecr.send(new BatchGetImageCommand({ repositoryName, imageIds }))

/** The image's status as DescribeImages reports it with filter ANY. */
async function detailOf(repositoryName: string, imageDigest: string) {
  const { imageDetails } = await ecr.send(
    new DescribeImagesCommand({
      repositoryName,
      imageIds: [{ imageDigest }],
      filter: { imageStatus: 'ANY' }
    })
  )
  return imageDetails?.[0]
}

const FINDINGS: Finding[] = [
  { id: 'CVE-2024-1', severity: 'CRITICAL', package: 'openssl', packageVersion: '3.0.1' },
  { id: 'CVE-2024-2', severity: 'HIGH', package: 'zlib', packageVersion: '1.2.11' },
  { id: 'CVE-2024-3', severity: 'HIGH', package: 'curl' },
  { id: 'CVE-2024-4', severity: 'MEDIUM' },
  { id: 'CVE-2024-5', severity: 'LOW', package: 'bash', packageVersion: '5.1' }
]
const ALL_COUNTS = { CRITICAL: 1, HIGH: 2, MEDIUM: 1, LOW: 1 }

// ---------------------------------------------------------------------------------------------
// DescribeImageScanFindings
// ---------------------------------------------------------------------------------------------

describe('DescribeImageScanFindings', () => {
  it('answers a basic scan with ImageScanFinding entries and the counts by severity', async () => {
    const repositoryName = 'scan/basic'
    const digest = await repoWithImage(repositoryName)
    const before = Date.now()
    standIn.control.setScan(repositoryName, digest, {
      status: 'COMPLETE',
      shape: 'basic',
      findings: FINDINGS.slice(0, 4)
    })

    const out = await findingsOf(repositoryName, { imageTag: 'v1' })
    expect(out).toMatchObject({
      registryId: ACCOUNT,
      repositoryName,
      imageId: { imageDigest: digest, imageTag: 'v1' },
      imageScanStatus: { status: 'COMPLETE', description: 'The scan was completed successfully.' }
    })
    expect(out.nextToken).toBeUndefined()
    const scan = out.imageScanFindings
    expect(scan?.enhancedFindings).toBeUndefined()
    expect(scan?.findingSeverityCounts).toEqual({ CRITICAL: 1, HIGH: 2, MEDIUM: 1 })
    expect(scan?.imageScanCompletedAt?.getTime()).toBeGreaterThanOrEqual(before - 1000)
    expect(scan?.vulnerabilitySourceUpdatedAt).toEqual(scan?.imageScanCompletedAt)
    expect(scan?.findings).toEqual([
      {
        name: 'CVE-2024-1',
        description: 'CVE-2024-1 in openssl 3.0.1',
        uri: 'https://nvd.nist.gov/vuln/detail/CVE-2024-1',
        severity: 'CRITICAL',
        attributes: [
          { key: 'package_name', value: 'openssl' },
          { key: 'package_version', value: '3.0.1' }
        ]
      },
      {
        name: 'CVE-2024-2',
        description: 'CVE-2024-2 in zlib 1.2.11',
        uri: 'https://nvd.nist.gov/vuln/detail/CVE-2024-2',
        severity: 'HIGH',
        attributes: [
          { key: 'package_name', value: 'zlib' },
          { key: 'package_version', value: '1.2.11' }
        ]
      },
      {
        name: 'CVE-2024-3',
        description: 'CVE-2024-3 in curl',
        uri: 'https://nvd.nist.gov/vuln/detail/CVE-2024-3',
        severity: 'HIGH',
        attributes: [{ key: 'package_name', value: 'curl' }]
      },
      {
        name: 'CVE-2024-4',
        description: 'CVE-2024-4 in the image',
        uri: 'https://nvd.nist.gov/vuln/detail/CVE-2024-4',
        severity: 'MEDIUM',
        attributes: []
      }
    ])

    // By digest, the answer names no tag.
    const byDigest = await findingsOf(repositoryName, { imageDigest: digest })
    expect(byDigest.imageId).toEqual({ imageDigest: digest })
    expect(byDigest.imageScanFindings?.findings).toEqual(scan?.findings)
  })

  it('answers an enhanced scan with Amazon Inspector findings, defaults filled in', async () => {
    const repositoryName = 'scan/enhanced'
    const digest = await repoWithImage(repositoryName)
    standIn.control.setScan(repositoryName, digest, {
      status: 'ACTIVE',
      shape: 'enhanced',
      description: 'Continuous scan is selected for image.',
      findings: [
        { id: 'CVE-2024-10', severity: 'HIGH', package: 'openssl', packageVersion: '3.0.1' },
        {
          id: 'CVE-2024-11',
          severity: 'CRITICAL',
          package: 'glibc',
          packageVersion: '2.31',
          fixedInVersion: '2.31-13',
          status: 'SUPPRESSED'
        },
        { id: 'GHSA-xxxx', severity: 'LOW', fixAvailable: 'PARTIAL', status: 'CLOSED' }
      ]
    })

    const out = await findingsOf(repositoryName, { imageDigest: digest })
    expect(out.imageScanStatus).toEqual({
      status: 'ACTIVE',
      description: 'Continuous scan is selected for image.'
    })
    const scan = out.imageScanFindings
    expect(scan?.findings).toBeUndefined()
    // Every finding counts, suppressed and closed ones included.
    expect(scan?.findingSeverityCounts).toEqual({ HIGH: 1, CRITICAL: 1, LOW: 1 })
    const arn = expect.stringMatching(
      /^arn:aws:inspector2:us-east-1:123456789012:finding\/[0-9a-f]{32}$/
    )
    expect(scan?.enhancedFindings).toEqual([
      {
        awsAccountId: ACCOUNT,
        findingArn: arn,
        description: 'CVE-2024-10 in openssl 3.0.1',
        title: 'CVE-2024-10 - openssl',
        type: 'PACKAGE_VULNERABILITY',
        severity: 'HIGH',
        status: 'ACTIVE',
        fixAvailable: 'NO',
        packageVulnerabilityDetails: {
          vulnerabilityId: 'CVE-2024-10',
          source: 'NVD',
          vulnerablePackages: [{ name: 'openssl', version: '3.0.1' }]
        }
      },
      {
        awsAccountId: ACCOUNT,
        findingArn: arn,
        description: 'CVE-2024-11 in glibc 2.31',
        title: 'CVE-2024-11 - glibc',
        type: 'PACKAGE_VULNERABILITY',
        severity: 'CRITICAL',
        status: 'SUPPRESSED',
        fixAvailable: 'YES',
        packageVulnerabilityDetails: {
          vulnerabilityId: 'CVE-2024-11',
          source: 'NVD',
          vulnerablePackages: [{ name: 'glibc', version: '2.31', fixedInVersion: '2.31-13' }]
        }
      },
      {
        awsAccountId: ACCOUNT,
        findingArn: arn,
        description: 'GHSA-xxxx in the image',
        title: 'GHSA-xxxx',
        type: 'PACKAGE_VULNERABILITY',
        severity: 'LOW',
        status: 'CLOSED',
        fixAvailable: 'PARTIAL',
        packageVulnerabilityDetails: {
          vulnerabilityId: 'GHSA-xxxx',
          source: 'NVD',
          vulnerablePackages: []
        }
      }
    ])
    const arns = (scan?.enhancedFindings ?? []).map((f) => f.findingArn)
    expect(new Set(arns).size).toBe(3)
    const again = await findingsOf(repositoryName, { imageTag: 'v1' })
    expect(again.imageScanFindings?.enhancedFindings?.map((f) => f.findingArn)).toEqual(arns)
  })

  it.each<
    [Scan['shape'], Scan['status'], (out: DescribeImageScanFindingsCommandOutput) => string[]]
  >([
    [
      'basic',
      'COMPLETE',
      (out) => (out.imageScanFindings?.findings ?? []).map((f) => f.name ?? '')
    ],
    [
      'enhanced',
      'ACTIVE',
      (out) =>
        (out.imageScanFindings?.enhancedFindings ?? []).map(
          (f) => f.packageVulnerabilityDetails?.vulnerabilityId ?? ''
        )
    ]
  ])(
    '%s findings page by maxResults 2: each seen once, every page counting them all',
    async (shape, status, idsOf) => {
      const repositoryName = `scan/pages-${shape}`
      const digest = await repoWithImage(repositoryName)
      standIn.control.setScan(repositoryName, digest, { status, shape, findings: FINDINGS })

      const pages: DescribeImageScanFindingsCommandOutput[] = []
      let nextToken: string | undefined
      do {
        const page = await findingsOf(
          repositoryName,
          { imageTag: 'v1' },
          { maxResults: 2, nextToken }
        )
        pages.push(page)
        nextToken = page.nextToken
      } while (nextToken && pages.length < 10)

      expect(pages.map((page) => idsOf(page))).toEqual([
        ['CVE-2024-1', 'CVE-2024-2'],
        ['CVE-2024-3', 'CVE-2024-4'],
        ['CVE-2024-5']
      ])
      for (const page of pages) {
        expect(page.imageScanStatus?.status).toBe(status)
        expect(page.imageScanFindings?.findingSeverityCounts).toEqual(ALL_COUNTS)
      }
      expect(idsOf(await findingsOf(repositoryName, { imageTag: 'v1' }))).toHaveLength(5)
    }
  )

  it('refuses a maxResults out of 1-1000 and a nextToken issued for another image', async () => {
    const repositoryName = 'scan/paging-rules'
    const digest = await repoWithImage(repositoryName, 'a')
    const other = await seedImage(ecr, repositoryName, dockerV2Image('b'), ['v2'])
    for (const d of [digest, other])
      standIn.control.setScan(repositoryName, d, {
        status: 'COMPLETE',
        shape: 'basic',
        findings: FINDINGS
      })
    for (const maxResults of [0, 1001]) {
      const err = await rejection(
        findingsOf(repositoryName, { imageDigest: digest }, { maxResults })
      )
      expect(err).toBeInstanceOf(InvalidParameterException)
    }
    const { nextToken } = await findingsOf(
      repositoryName,
      { imageDigest: digest },
      { maxResults: 1 }
    )
    expect(nextToken).toEqual(expect.any(String))
    const err = await rejection(findingsOf(repositoryName, { imageDigest: other }, { nextToken }))
    expect(err).toBeInstanceOf(InvalidParameterException)
  })

  it('is ScanNotFoundException for an image without a scan, and again once the scan is removed', async () => {
    const repositoryName = 'scan/none'
    const digest = await repoWithImage(repositoryName)
    const err = await rejection(findingsOf(repositoryName, { imageTag: 'v1' }))
    expect(err).toBeInstanceOf(ScanNotFoundException)
    expect(err.message).toContain(repositoryName)

    standIn.control.setScan(repositoryName, digest, { status: 'COMPLETE', shape: 'basic' })
    const empty = await findingsOf(repositoryName, { imageTag: 'v1' })
    expect(empty.imageScanFindings).toMatchObject({ findingSeverityCounts: {}, findings: [] })

    standIn.control.setScan(repositoryName, digest, undefined)
    expect(await rejection(findingsOf(repositoryName, { imageTag: 'v1' }))).toBeInstanceOf(
      ScanNotFoundException
    )
  })

  it.each<[Scan['status'], Scan['shape'], string | undefined, string]>([
    ['IN_PROGRESS', 'basic', undefined, 'The scan is in progress.'],
    [
      'FAILED',
      'basic',
      'UnsupportedImageError: layer too large',
      'UnsupportedImageError: layer too large'
    ],
    ['UNSUPPORTED_IMAGE', 'basic', undefined, 'The image type is not supported for scanning.'],
    ['LIMIT_EXCEEDED', 'basic', undefined, 'The image has reached its scan limit.'],
    ['PENDING', 'enhanced', undefined, 'The image is waiting to be scanned.'],
    [
      'SCAN_ELIGIBILITY_EXPIRED',
      'enhanced',
      undefined,
      'The image is no longer eligible for continuous scanning.'
    ],
    ['FINDINGS_UNAVAILABLE', 'enhanced', undefined, 'The findings for the image are not available.']
  ])(
    '%s (%s) answers the status alone, without imageScanFindings',
    async (status, shape, description, expected) => {
      const repositoryName = `scan/status-${status.toLowerCase().replaceAll('_', '-')}`
      const digest = await repoWithImage(repositoryName)
      standIn.control.setScan(repositoryName, digest, {
        status,
        shape,
        findings: [],
        ...(description !== undefined && { description })
      })
      const out = await findingsOf(repositoryName, { imageDigest: digest })
      expect(out.imageScanStatus).toEqual({ status, description: expected })
      expect(out.imageScanFindings).toBeUndefined()
      expect(out.nextToken).toBeUndefined()
    }
  )

  it('with completeAfterMs reads IN_PROGRESS, then the given status and findings', async () => {
    const repositoryName = 'scan/later'
    const digest = await repoWithImage(repositoryName)
    const setAt = Date.now()
    standIn.control.setScan(repositoryName, digest, {
      status: 'COMPLETE',
      shape: 'basic',
      findings: FINDINGS,
      completeAfterMs: RESTORE_MS
    })
    const first = await findingsOf(repositoryName, { imageTag: 'v1' })
    expect(first.imageScanStatus?.status).toBe('IN_PROGRESS')
    expect(first.imageScanFindings).toBeUndefined()

    const done = await until(
      () => findingsOf(repositoryName, { imageTag: 'v1' }),
      (out) => out.imageScanStatus?.status !== 'IN_PROGRESS'
    )
    expect(Date.now() - setAt).toBeGreaterThanOrEqual(RESTORE_MS)
    expect(done.imageScanStatus?.status).toBe('COMPLETE')
    expect(done.imageScanFindings?.findings).toHaveLength(5)
    expect(done.imageScanFindings?.findingSeverityCounts).toEqual(ALL_COUNTS)
    expect(done.imageScanFindings?.imageScanCompletedAt?.getTime()).toBeGreaterThanOrEqual(
      setAt + RESTORE_MS - 1
    )
  })

  it('answers IMAGE_ARCHIVED without findings for an archived image, its findings once restored', async () => {
    const repositoryName = 'scan/archived'
    const digest = await repoWithImage(repositoryName)
    standIn.control.setScan(repositoryName, digest, {
      status: 'COMPLETE',
      shape: 'basic',
      findings: FINDINGS
    })
    standIn.control.archive(repositoryName, digest)
    const archived = await findingsOf(repositoryName, { imageTag: 'v1' })
    expect(archived.imageScanStatus).toEqual({
      status: 'IMAGE_ARCHIVED',
      description: 'The image is archived and cannot be scanned.'
    })
    expect(archived.imageScanFindings).toBeUndefined()

    expect((await storageClass(repositoryName, { imageTag: 'v1' }, 'STANDARD')).imageStatus).toBe(
      'ACTIVE'
    )
    const restored = await findingsOf(repositoryName, { imageTag: 'v1' })
    expect(restored.imageScanStatus?.status).toBe('COMPLETE')
    expect(restored.imageScanFindings?.findings).toHaveLength(5)
  })

  it('setScan refuses a scan ECR could not report, and unknown repositories and digests', async () => {
    const repositoryName = 'scan/set-up'
    const digest = await repoWithImage(repositoryName)
    const bad: [string, unknown][] = [
      ['a COMPLETE enhanced scan', { status: 'COMPLETE', shape: 'enhanced', findings: [] }],
      ['an ACTIVE basic scan', { status: 'ACTIVE', shape: 'basic', findings: [] }],
      ['findings on a FAILED scan', { status: 'FAILED', shape: 'basic', findings: FINDINGS }],
      ['an unknown status', { status: 'DONE', shape: 'basic', findings: [] }],
      ['an unknown shape', { status: 'COMPLETE', shape: 'deep', findings: [] }],
      [
        'an unknown severity',
        { status: 'COMPLETE', shape: 'basic', findings: [{ id: 'CVE-1', severity: 'SEVERE' }] }
      ],
      [
        'an enhanced-only field on a basic finding',
        {
          status: 'COMPLETE',
          shape: 'basic',
          findings: [{ id: 'CVE-1', severity: 'LOW', status: 'SUPPRESSED' }]
        }
      ],
      [
        'a negative completeAfterMs',
        { status: 'COMPLETE', shape: 'basic', findings: [], completeAfterMs: -1 }
      ]
    ]
    const accepted = bad.filter(([, scan]) => {
      try {
        standIn.control.setScan(repositoryName, digest, scan as Scan)
        return true
      } catch (error) {
        return !(error instanceof TypeError)
      }
    })
    expect(accepted.map(([why]) => why)).toEqual([])
    const scan: Scan = { status: 'COMPLETE', shape: 'basic', findings: [] }
    expect(() => standIn.control.setScan('scan/missing', digest, scan)).toThrow(/no repository/)
    expect(() => standIn.control.setScan(repositoryName, `sha256:${'0'.repeat(64)}`, scan)).toThrow(
      /no image/
    )
    // None of that recorded a scan.
    expect(await rejection(findingsOf(repositoryName, { imageTag: 'v1' }))).toBeInstanceOf(
      ScanNotFoundException
    )
  })
})

// ---------------------------------------------------------------------------------------------
// DescribeImageSigningStatus
// ---------------------------------------------------------------------------------------------

describe('DescribeImageSigningStatus', () => {
  const PROFILE = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/release'
  const AUDIT = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/audit'

  it('answers signingStatuses [] for an image never signed', async () => {
    const repositoryName = 'sign/never'
    const digest = await repoWithImage(repositoryName)
    expect(await signingOf(repositoryName, { imageTag: 'v1' })).toMatchObject({
      registryId: ACCOUNT,
      repositoryName,
      imageId: { imageDigest: digest, imageTag: 'v1' },
      signingStatuses: []
    })
  })

  it('answers each profile in order, a FAILED one with its code and reason', async () => {
    const repositoryName = 'sign/statuses'
    const digest = await repoWithImage(repositoryName)
    const statuses: Signing[] = [
      { signingProfileArn: PROFILE, status: 'COMPLETE' },
      {
        signingProfileArn: AUDIT,
        status: 'FAILED',
        failureCode: 'AccessDenied',
        failureReason: 'The signing profile is revoked'
      }
    ]
    standIn.control.setSigning(repositoryName, digest, statuses)
    const out = await signingOf(repositoryName, { imageDigest: digest })
    expect(out.imageId).toEqual({ imageDigest: digest })
    expect(out.signingStatuses).toEqual(statuses)

    standIn.control.setSigning(repositoryName, digest, [])
    expect((await signingOf(repositoryName, { imageDigest: digest })).signingStatuses).toEqual([])
  })

  it('turns an IN_PROGRESS entry with completeAfterMs COMPLETE after that time', async () => {
    const repositoryName = 'sign/later'
    const digest = await repoWithImage(repositoryName)
    const setAt = Date.now()
    standIn.control.setSigning(repositoryName, digest, [
      { signingProfileArn: PROFILE, status: 'IN_PROGRESS', completeAfterMs: RESTORE_MS },
      { signingProfileArn: AUDIT, status: 'IN_PROGRESS' }
    ])
    const first = await signingOf(repositoryName, { imageTag: 'v1' })
    expect(first.signingStatuses?.map((s) => s.status)).toEqual(['IN_PROGRESS', 'IN_PROGRESS'])

    const done = await until(
      () => signingOf(repositoryName, { imageTag: 'v1' }),
      (out) => out.signingStatuses?.[0]?.status === 'COMPLETE'
    )
    expect(Date.now() - setAt).toBeGreaterThanOrEqual(RESTORE_MS)
    expect(done.signingStatuses).toEqual([
      { signingProfileArn: PROFILE, status: 'COMPLETE' },
      { signingProfileArn: AUDIT, status: 'IN_PROGRESS' } // without completeAfterMs: for good
    ])
  })

  it('setSigning refuses statuses ECR could not report', async () => {
    const repositoryName = 'sign/set-up'
    const digest = await repoWithImage(repositoryName)
    const bad: unknown[] = [
      'COMPLETE',
      [{ status: 'COMPLETE' }],
      [{ signingProfileArn: PROFILE, status: 'SIGNED' }],
      [{ signingProfileArn: PROFILE, status: 'COMPLETE', failureReason: 'nope' }],
      [{ signingProfileArn: PROFILE, status: 'FAILED', completeAfterMs: 10 }]
    ]
    for (const statuses of bad) {
      expect(() =>
        standIn.control.setSigning(repositoryName, digest, statuses as Signing[])
      ).toThrow(TypeError)
    }
    expect(() => standIn.control.setSigning('sign/missing', digest, [])).toThrow(/no repository/)
    expect((await signingOf(repositoryName, { imageTag: 'v1' })).signingStatuses).toEqual([])
  })
})

// ---------------------------------------------------------------------------------------------
// Archive status, UpdateImageStorageClass
// ---------------------------------------------------------------------------------------------

describe('archived images', () => {
  it('cannot be pulled: BatchGetImage fails ImageNotFound by tag and by digest', async () => {
    const repositoryName = 'archive/pull'
    const digest = await repoWithImage(repositoryName, 'a')
    const other = await seedImage(ecr, repositoryName, dockerV2Image('b'), ['v2'])
    standIn.control.archive(repositoryName, digest)

    const out = await pull(repositoryName, [
      { imageTag: 'v1' },
      { imageDigest: digest },
      { imageTag: 'v2' }
    ])
    expect(out.images?.map((i) => i.imageId)).toEqual([{ imageDigest: other, imageTag: 'v2' }])
    expect(out.failures).toEqual([
      {
        imageId: { imageTag: 'v1' },
        failureCode: 'ImageNotFound',
        failureReason: 'Requested image not found'
      },
      {
        imageId: { imageDigest: digest },
        failureCode: 'ImageNotFound',
        failureReason: 'Requested image not found'
      }
    ])
    const snapshot = standIn.control.snapshot(repositoryName).images
    expect(snapshot.find((i) => i.digest === digest)).toMatchObject({
      tags: ['v1'],
      status: 'ARCHIVED'
    })
    expect(snapshot.find((i) => i.digest === other)?.status).toBe('ACTIVE')
  })

  it.each([
    ['ImageInaccessible', { failureCode: 'ImageInaccessible' }],
    ['manifest', { served: true }]
  ] as const)(
    'answers BatchGetImage for it as control.archivedAnswer says (AWS does not document it): %s',
    async (answer, expected) => {
      const repositoryName = `archive/answer-${answer.toLowerCase()}`
      const digest = await repoWithImage(repositoryName, answer)
      standIn.control.archive(repositoryName, digest)
      standIn.control.archivedAnswer(answer)
      try {
        const out = await pull(repositoryName, [{ imageTag: 'v1' }])
        if ('served' in expected) {
          expect(out.images?.map((i) => i.imageId)).toEqual([
            { imageDigest: digest, imageTag: 'v1' }
          ])
          expect(out.failures).toEqual([])
        } else {
          expect(out.images).toEqual([])
          expect(out.failures?.map(({ failureCode }) => failureCode)).toEqual([
            expected.failureCode
          ])
        }
      } finally {
        standIn.control.archivedAnswer('ImageNotFound')
      }
      expect(() =>
        standIn.control.archivedAnswer(
          'served' as Parameters<typeof standIn.control.archivedAnswer>[0]
        )
      ).toThrow(RangeError)
    }
  )

  it('snapshot() reads every status at the call', async () => {
    const repositoryName = 'archive/snapshot'
    const image = dockerV2Image('snapshot')
    await repoWithImage(repositoryName, 'snapshot')
    const shape = {
      digest: image.digest,
      mediaType: image.mediaType,
      manifest: image.manifest,
      tags: ['v1']
    }
    expect(standIn.control.snapshot(repositoryName).images).toEqual([
      { ...shape, status: 'ACTIVE' }
    ])

    standIn.control.archive(repositoryName, image.digest, { restoreMs: RESTORE_MS })
    expect(standIn.control.snapshot(repositoryName).images).toEqual([
      { ...shape, status: 'ARCHIVED' }
    ])
    await storageClass(repositoryName, { imageTag: 'v1' }, 'STANDARD')
    expect(standIn.control.snapshot(repositoryName).images).toEqual([
      { ...shape, status: 'ACTIVATING' }
    ])
  })

  it.each<[string, ('active' | 'archived')[], ImageStatusFilter | undefined]>([
    ['no filter', ['active'], undefined],
    ['ACTIVE', ['active'], 'ACTIVE'],
    ['ARCHIVED', ['archived'], 'ARCHIVED'],
    ['ACTIVATING', [], 'ACTIVATING'],
    ['ANY', ['archived', 'active'], 'ANY'] // push order
  ])('ListImages and DescribeImages with %s list %j', async (_name, expected, imageStatus) => {
    const repositoryName = `archive/list-${(imageStatus ?? 'default').toLowerCase()}`
    await ecr.send(new CreateRepositoryCommand({ repositoryName }))
    const archived = await seedImage(ecr, repositoryName, dockerV2Image(`${repositoryName}-x`), [
      'old'
    ])
    const active = await seedImage(ecr, repositoryName, dockerV2Image(`${repositoryName}-y`), [
      'new'
    ])
    const before = Date.now()
    standIn.control.archive(repositoryName, archived)
    const digests = { active, archived }
    const filter = imageStatus === undefined ? undefined : { imageStatus }

    const listed = await ecr.send(new ListImagesCommand({ repositoryName, filter }))
    expect(listed.imageIds).toEqual(
      expected.map((which) => ({
        imageDigest: digests[which],
        imageTag: which === 'active' ? 'new' : 'old'
      }))
    )
    const described = await ecr.send(new DescribeImagesCommand({ repositoryName, filter }))
    const details = described.imageDetails ?? []
    expect(details.map((d) => [d.imageDigest, d.imageStatus])).toEqual(
      expected.map((which) => [digests[which], which === 'active' ? 'ACTIVE' : 'ARCHIVED'])
    )
    for (const detail of details) {
      if (detail.imageStatus === 'ARCHIVED') {
        expect(detail.lastArchivedAt?.getTime()).toBeGreaterThanOrEqual(before - 1000)
      } else {
        expect(detail.lastArchivedAt).toBeUndefined()
      }
      expect(detail.lastActivatedAt).toBeUndefined()
    }
  })

  it('DescribeImages by id applies the status filter: an archived image is absent unless asked for', async () => {
    const repositoryName = 'archive/describe-ids'
    const digest = await repoWithImage(repositoryName)
    standIn.control.archive(repositoryName, digest)
    const byTag = { repositoryName, imageIds: [{ imageTag: 'v1' }] }

    for (const filter of [
      undefined,
      { imageStatus: 'ACTIVE' as const },
      { tagStatus: 'TAGGED' as const }
    ]) {
      const err = await rejection(ecr.send(new DescribeImagesCommand({ ...byTag, filter })))
      expect(err).toBeInstanceOf(ImageNotFoundException)
    }
    for (const imageStatus of ['ARCHIVED', 'ANY'] as const) {
      const out = await ecr.send(new DescribeImagesCommand({ ...byTag, filter: { imageStatus } }))
      expect(out.imageDetails).toEqual([
        expect.objectContaining({ imageDigest: digest, imageTags: ['v1'], imageStatus: 'ARCHIVED' })
      ])
    }
    const bad = await rejection(
      ecr.send(
        new DescribeImagesCommand({
          repositoryName,
          filter: { imageStatus: 'GONE' as ImageStatusFilter }
        })
      )
    )
    expect(bad).toBeInstanceOf(InvalidParameterException)
  })

  it('are restored by UpdateImageStorageClass STANDARD: ACTIVATING, then ACTIVE after the restore time', async () => {
    const repositoryName = 'archive/restore'
    const digest = await repoWithImage(repositoryName)
    standIn.control.archive(repositoryName, digest, { restoreMs: RESTORE_MS })

    const startedAt = Date.now()
    const first = await storageClass(repositoryName, { imageTag: 'v1' }, 'STANDARD')
    const answeredAt = Date.now()
    expect(first).toMatchObject({
      registryId: ACCOUNT,
      repositoryName,
      imageId: { imageDigest: digest, imageTag: 'v1' },
      imageStatus: 'ACTIVATING'
    })
    expect(standIn.control.snapshot(repositoryName).images[0]?.status).toBe('ACTIVATING')
    expect((await pull(repositoryName, [{ imageTag: 'v1' }])).failures?.[0]?.failureCode).toBe(
      'ImageNotFound'
    )
    expect((await detailOf(repositoryName, digest))?.imageStatus).toBe('ACTIVATING')
    const activating = await ecr.send(
      new ListImagesCommand({ repositoryName, filter: { imageStatus: 'ACTIVATING' } })
    )
    expect(activating.imageIds).toEqual([{ imageDigest: digest, imageTag: 'v1' }])

    // Halfway: STANDARD again does not restart the restore; ARCHIVE is refused.
    await sleep(RESTORE_MS / 2)
    const againAt = Date.now()
    expect(
      (await storageClass(repositoryName, { imageDigest: digest }, 'STANDARD')).imageStatus
    ).toBe('ACTIVATING')
    const refused = await rejection(
      storageClass(repositoryName, { imageDigest: digest }, 'ARCHIVE')
    )
    expect(refused).toBeInstanceOf(ImageStorageClassUpdateNotSupportedException)

    const detail = await until(
      () => detailOf(repositoryName, digest),
      (d) => d?.imageStatus === 'ACTIVE'
    )
    expect(detail?.imageStatus).toBe('ACTIVE')
    const activatedAt = detail?.lastActivatedAt?.getTime() ?? 0
    expect(activatedAt).toBeGreaterThanOrEqual(startedAt + RESTORE_MS - 1)
    expect(activatedAt).toBeLessThanOrEqual(answeredAt + RESTORE_MS + 1)
    expect(activatedAt).toBeLessThan(againAt + RESTORE_MS)
    expect(detail?.lastArchivedAt?.getTime()).toBeLessThanOrEqual(startedAt + 1)

    const pulled = await pull(repositoryName, [{ imageTag: 'v1' }])
    expect(pulled.failures).toEqual([])
    expect(pulled.images?.[0]?.imageId).toEqual({ imageDigest: digest, imageTag: 'v1' })
    expect(standIn.control.snapshot(repositoryName).images[0]?.status).toBe('ACTIVE')
    expect((await ecr.send(new ListImagesCommand({ repositoryName }))).imageIds).toHaveLength(1)
  })

  it.each<[string, 'archive' | 'none', TargetStorageClass, string, 'ARCHIVED' | 'ACTIVE']>([
    ['ARCHIVE on ACTIVE archives', 'none', 'ARCHIVE', 'ARCHIVED', 'ARCHIVED'],
    ['ARCHIVE on ARCHIVED changes nothing', 'archive', 'ARCHIVE', 'ARCHIVED', 'ARCHIVED'],
    ['STANDARD on ACTIVE changes nothing', 'none', 'STANDARD', 'ACTIVE', 'ACTIVE'],
    [
      'STANDARD on ARCHIVED with restore time 0 is ACTIVE at once',
      'archive',
      'STANDARD',
      'ACTIVE',
      'ACTIVE'
    ]
  ])('UpdateImageStorageClass: %s', async (name, setUp, target, answered, after) => {
    const repositoryName = `archive/class-${name.split(' ').slice(0, 3).join('-').toLowerCase()}`
    const digest = await repoWithImage(repositoryName)
    if (setUp === 'archive') standIn.control.archive(repositoryName, digest)
    const archivedAt = (await detailOf(repositoryName, digest))?.lastArchivedAt

    const out = await storageClass(repositoryName, { imageDigest: digest }, target)
    expect(out).toEqual({
      $metadata: expect.anything(),
      registryId: ACCOUNT,
      repositoryName,
      imageId: { imageDigest: digest },
      imageStatus: answered
    })
    const detail = await detailOf(repositoryName, digest)
    expect(detail?.imageStatus).toBe(after)
    if (setUp === 'archive' && target === 'ARCHIVE')
      expect(detail?.lastArchivedAt).toEqual(archivedAt)
    expect((await pull(repositoryName, [{ imageDigest: digest }])).images).toHaveLength(
      after === 'ACTIVE' ? 1 : 0
    )
  })

  it('UpdateImageStorageClass refuses a bad targetStorageClass, unknown images and repositories', async () => {
    const repositoryName = 'archive/class-errors'
    const digest = await repoWithImage(repositoryName)
    const bad = await rejection(
      storageClass(repositoryName, { imageDigest: digest }, 'GLACIER' as TargetStorageClass)
    )
    expect(bad).toBeInstanceOf(InvalidParameterException)
    expect(bad.message).toContain('targetStorageClass')
    const noId = await rejection(storageClass(repositoryName, {}, 'ARCHIVE'))
    expect(noId).toBeInstanceOf(InvalidParameterException)
    expect((await detailOf(repositoryName, digest))?.imageStatus).toBe('ACTIVE')
  })

  it('a re-push of an archived image restores it at once', async () => {
    const repositoryName = 'archive/repush'
    const image = dockerV2Image('repush')
    await repoWithImage(repositoryName, 'repush')
    standIn.control.archive(repositoryName, image.digest, { restoreMs: 60_000 })
    const before = Date.now()

    const out = await ecr.send(
      new PutImageCommand({ repositoryName, imageManifest: image.manifest, imageTag: 'v1' })
    )
    expect(out.image?.imageId).toEqual({ imageDigest: image.digest, imageTag: 'v1' })
    const detail = await detailOf(repositoryName, image.digest)
    expect(detail?.imageStatus).toBe('ACTIVE')
    expect(detail?.lastActivatedAt?.getTime()).toBeGreaterThanOrEqual(before - 1000)
    expect((await pull(repositoryName, [{ imageTag: 'v1' }])).images).toHaveLength(1)
  })
})

// ---------------------------------------------------------------------------------------------
// shared rules
// ---------------------------------------------------------------------------------------------

describe('the three single-image operations', () => {
  const OPERATIONS: [
    string,
    (repositoryName: string, imageId: ImageIdentifier) => Promise<unknown>
  ][] = [
    ['DescribeImageScanFindings', (r, id) => findingsOf(r, id)],
    ['DescribeImageSigningStatus', (r, id) => signingOf(r, id)],
    ['UpdateImageStorageClass', (r, id) => storageClass(r, id, 'ARCHIVE')]
  ]

  it.each(OPERATIONS)(
    '%s: ImageNotFoundException for an unknown image, RepositoryNotFoundException for an unknown repository',
    async (operation, send) => {
      const repositoryName = `shared/${operation.toLowerCase()}`
      const digest = await repoWithImage(repositoryName)
      for (const imageId of [
        { imageTag: 'nope' },
        { imageDigest: `sha256:${'1'.repeat(64)}` },
        { imageTag: 'v1', imageDigest: `sha256:${'2'.repeat(64)}` }
      ]) {
        const err = await rejection(send(repositoryName, imageId))
        expect(err).toBeInstanceOf(ImageNotFoundException)
      }
      expect(await rejection(send('shared/missing', { imageDigest: digest }))).toBeInstanceOf(
        RepositoryNotFoundException
      )
    }
  )

  it('are requests like any other: recorded, deniable, faultable, and reset() clears what was set', async () => {
    const isolated = await startStandIn()
    const client = new ECRClient({
      endpoint: isolated.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1
    })
    try {
      await client.send(new CreateRepositoryCommand({ repositoryName: 'app' }))
      const image = dockerV2Image('isolated')
      await seedImage(client, 'app', image, ['v1'])
      isolated.control.setScan('app', image.digest, {
        status: 'COMPLETE',
        shape: 'basic',
        findings: FINDINGS
      })
      isolated.control.setSigning('app', image.digest, [
        { signingProfileArn: 'arn:p', status: 'COMPLETE' }
      ])
      isolated.control.archive('app', image.digest)
      const callsBefore = isolated.control.calls.length

      isolated.control.deny('DescribeImageSigningStatus', 'app')
      const denied = await rejection(
        client.send(
          new DescribeImageSigningStatusCommand({
            repositoryName: 'app',
            imageId: { imageTag: 'v1' }
          })
        )
      )
      expect(denied.name).toBe('AccessDeniedException')
      const applied = isolated.control.waitFor('UpdateImageStorageClass')
      await client.send(
        new UpdateImageStorageClassCommand({
          repositoryName: 'app',
          imageId: { imageTag: 'v1' },
          targetStorageClass: 'STANDARD'
        })
      )
      await applied
      expect(isolated.control.calls.slice(callsBefore).map((c) => c.operation)).toEqual([
        'DescribeImageSigningStatus',
        'UpdateImageStorageClass'
      ])
      isolated.control.faults({
        rate: 1,
        operations: ['DescribeImageScanFindings'],
        kinds: ['error-after']
      })
      const faulted = await rejection(
        client.send(
          new DescribeImageScanFindingsCommand({
            repositoryName: 'app',
            imageId: { imageTag: 'v1' }
          })
        )
      )
      expect(faulted).toBeInstanceOf(ServerException)
      expect(isolated.control.injected).toEqual([
        { operation: 'DescribeImageScanFindings', kind: 'error-after' }
      ])

      isolated.control.reset()
      await client.send(new CreateRepositoryCommand({ repositoryName: 'app' }))
      await seedImage(client, 'app', image, ['v1'])
      const scan = await rejection(
        client.send(
          new DescribeImageScanFindingsCommand({
            repositoryName: 'app',
            imageId: { imageTag: 'v1' }
          })
        )
      )
      expect(scan).toBeInstanceOf(ScanNotFoundException)
      const signing = await client.send(
        new DescribeImageSigningStatusCommand({
          repositoryName: 'app',
          imageId: { imageTag: 'v1' }
        })
      )
      expect(signing.signingStatuses).toEqual([])
      expect(isolated.control.snapshot('app').images[0]?.status).toBe('ACTIVE')
    } finally {
      client.destroy()
      await isolated.close()
    }
  })
})
