/**
 * The stand-in's rules that moto does not implement (contract.test.ts holds those it does): the
 * wire protocol, pagination tokens, archive storage, scan findings, signing statuses, lifecycle
 * previews, STS sessions and repository policies, blobs, the layer operations and referrers, and
 * its command line. Rows where they are alike, as in the contract.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import {
  DescribeImageScanFindingsCommand,
  type DescribeImageScanFindingsCommandOutput,
  type ImageDetail as ECRImage,
  type LifecyclePolicyPreviewResult,
  type ECRClient,
  type ECRServiceException
} from '@aws-sdk/client-ecr'
import { startStandIn } from '../support/ecr-standin.mjs'
import {
  blobImage,
  blobMultiArchImage,
  cosignSignature,
  dockerV2Image,
  pushImage,
  referrerOf,
  seedImage,
  type BlobImage,
  type ImageFixture
} from '../support/images.mjs'
import { MEDIA_TYPES } from '../support/oci.mjs'
import { evaluatePolicy } from '../support/standin/lifecycle.mjs'
import {
  ACCOUNT,
  assumed,
  OTHER,
  answer,
  client,
  command,
  createRepo,
  everyPage,
  fixture,
  get,
  id,
  list,
  named,
  op,
  play,
  prepare,
  put,
  putImage,
  sleep,
  text,
  until,
  type Output,
  type Row,
  type Scene,
  type Step
} from './ecr.js'

type StandIn = Awaited<ReturnType<typeof startStandIn>>
type Scan = NonNullable<Parameters<StandIn['control']['setScan']>[2]>
type Signing = Parameters<StandIn['control']['setSigning']>[2][number]

const RESTORE_MS = 300
let standIn: StandIn
let ecr: ECRClient
/** The stand-in's clock, where a test holds it still; else the real one. */
let now: number | undefined

beforeAll(async () => {
  standIn = await startStandIn({ clock: () => now ?? Date.now() })
  ecr = client(standIn.url)
})
afterAll(async () => {
  ecr.destroy()
  await standIn.close()
})

const FINDINGS: Scan['findings'] = [
  { id: 'CVE-2024-1', severity: 'CRITICAL', package: 'openssl', packageVersion: '3.0.1' },
  { id: 'CVE-2024-2', severity: 'HIGH', package: 'zlib', packageVersion: '1.2.11' },
  { id: 'CVE-2024-3', severity: 'HIGH', package: 'curl' },
  { id: 'CVE-2024-4', severity: 'MEDIUM' },
  { id: 'CVE-2024-5', severity: 'LOW', package: 'bash', packageVersion: '5.1' }
]
const ALL_COUNTS = { CRITICAL: 1, HIGH: 2, MEDIUM: 1, LOW: 1 }
const CVES = FINDINGS?.map((f) => f.id) ?? []
const basic = (findings = FINDINGS): Scan => ({ status: 'COMPLETE', shape: 'basic', findings })
const PROFILE = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/release'
const AUDIT = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/audit'
const ANY = { imageStatus: 'ANY' }
const [NOT_FOUND, INVALID] = ['ImageNotFoundException', 'InvalidParameterException']
const ARCHIVED = 'A ARCHIVED lastArchivedAt'
const BACK = 'A ACTIVE lastArchivedAt lastActivatedAt'
const V1 = { images: { A: ['v1'] } }
const BOGUS = `sha256:${'ab'.repeat(32)}`
/** The other account's registry in us-east-1. */
const B = { account: OTHER, region: 'us-east-1' }
const SIGNED: Signing[] = [
  { signingProfileArn: PROFILE, status: 'COMPLETE' },
  { signingProfileArn: AUDIT, status: 'FAILED', failureCode: 'No', failureReason: 'revoked' }
]

// Set-up through the control API, for Row.set.
const archive =
  (restoreMs = 0) =>
  (repo: string) =>
    standIn.control.archive(repo, fixture('A').digest, { restoreMs })
const scanned =
  (scan: Scan | undefined, image = 'A') =>
  (repo: string) =>
    standIn.control.setScan(repo, fixture(image).digest, scan)
const all =
  (...sets: ((repo: string) => void)[]) =>
  (repo: string) =>
    sets.forEach((set) => set(repo))

// Steps of the stand-in's own operations.
/** 'STATUS: description' without findings; else [status, counts, ...finding ids]. */
function findingIds(out: DescribeImageScanFindingsCommandOutput) {
  const {
    findings = [],
    enhancedFindings = [],
    findingSeverityCounts
  } = out.imageScanFindings ?? {}
  const { status, description } = out.imageScanStatus ?? {}
  if (!out.imageScanFindings) return `${status}: ${description}`
  const vulnerabilities = enhancedFindings.map(
    (f) => f.packageVulnerabilityDetails?.vulnerabilityId
  )
  return [status, findingSeverityCounts, ...findings.map((f) => f.name), ...vulnerabilities]
}
const findings = (image: string, more = {}) =>
  op('DescribeImageScanFindings', { imageId: id(image), ...more }, findingIds)
/** Every page of findings, maxResults 2. */
const findingPages =
  (image: string): Step =>
  async (s) =>
    (await everyPage('DescribeImageScanFindings', { imageId: id(image), maxResults: 2 })(s)).map(
      findingIds
    )
const signing = (image: string) =>
  op('DescribeImageSigningStatus', { imageId: id(image) }, (o) => o.signingStatuses)
const storage = (image: string, targetStorageClass: string) =>
  op('UpdateImageStorageClass', { imageId: id(image), targetStorageClass }, (o) => o.imageStatus)
/** DescribeImages, each image as 'A STATUS lastArchivedAt lastActivatedAt' (those it has). */
const statuses = (filter?: object, ids?: string[]) =>
  op('DescribeImages', { filter, imageIds: ids?.map(id) }, (o) =>
    o.imageDetails.map((d: Record<string, string>) =>
      [named(d.imageDigest), d.imageStatus, d.lastArchivedAt && 'lastArchivedAt']
        .concat(d.lastActivatedAt ? ['lastActivatedAt'] : [])
        .filter(Boolean)
        .join(' ')
    )
  )
/** control.snapshot(): each image as 'A:tag STATUS'. */
const snap: Step = async (s) =>
  standIn.control
    .snapshot(s.repo)
    .images.map((i) => `${[named(i.digest), ...i.tags].join(':')} ${i.status}`)
const SINGLE = [
  'DescribeImageScanFindings',
  'DescribeImageSigningStatus',
  'UpdateImageStorageClass'
]
/** A single-image operation (UpdateImageStorageClass: to ARCHIVE) on `image`. */
const single = (operation: string, image: string, more = {}, pick?: Parameters<typeof op>[2]) =>
  op(operation, { imageId: id(image), targetStorageClass: 'ARCHIVE', ...more }, pick)

const ROWS: Row[] = [
  // Archive storage
  ...(['ImageNotFound', 'ImageInaccessible', 'manifest'] as const).map((answer): Row => ({
    rule: `BatchGetImage of an archived image, by tag or digest, archivedAnswer ${answer}`,
    given: { images: { A: ['v1'], B: ['v2'] } },
    set: all(archive(), () => standIn.control.archivedAnswer(answer)),
    when: [get([':v1', 'A', ':v2'])],
    ecr: answer === 'manifest' ? ['A:v1', 'A', 'B:v2'] : ['B:v2', `${answer} :v1`, `${answer} A`]
  })),
  ...(
    [
      [undefined, ['B:new'], ['B ACTIVE']],
      ['ACTIVE', ['B:new'], ['B ACTIVE']],
      ['ARCHIVED', ['A:old'], [ARCHIVED]],
      ['ACTIVATING', [], []],
      ['ANY', ['A:old', 'B:new'], [ARCHIVED, 'B ACTIVE']]
    ] as const
  ).map(([imageStatus, listed, described]): Row => ({
    rule: `ListImages and DescribeImages with filter.imageStatus ${imageStatus ?? 'unset'}`,
    given: { images: { A: ['old'], B: ['new'] } },
    set: archive(),
    when: [list(imageStatus && { imageStatus }), statuses(imageStatus && { imageStatus })],
    ecr: [listed, described]
  })),
  {
    rule: 'DescribeImages by id applies filter.imageStatus (ACTIVE by default), not tagStatus',
    given: V1,
    set: archive(),
    when: [undefined, { tagStatus: 'TAGGED' }, { imageStatus: 'ACTIVE' }, ANY]
      .concat({ imageStatus: 'ARCHIVED' }, { imageStatus: 'GONE' })
      .map((filter) => statuses(filter, [':v1'])),
    ecr: [NOT_FOUND, NOT_FOUND, NOT_FOUND, [ARCHIVED], [ARCHIVED], INVALID]
  },
  ...(
    [
      ['ARCHIVE on an ACTIVE image archives it', false, 'ARCHIVE', 'ARCHIVED', ARCHIVED],
      ['STANDARD on an ACTIVE image changes nothing', false, 'STANDARD', 'ACTIVE', 'A ACTIVE'],
      ['another class: InvalidParameterException', false, 'GLACIER', INVALID, 'A ACTIVE'],
      ['STANDARD on an ARCHIVED image, restore time 0: at once', true, 'STANDARD', 'ACTIVE', BACK]
    ] as const
  ).map(([what, archived, target, answered, after]): Row => ({
    rule: `UpdateImageStorageClass ${what}`,
    given: V1,
    ...(archived && { set: archive() }),
    when: [storage('A', target), statuses(ANY)],
    ecr: [answered, [after]]
  })),
  {
    rule: 'UpdateImageStorageClass ARCHIVE on an ARCHIVED image changes nothing',
    given: V1,
    set: archive(),
    when: [
      async (s) => {
        const at = op('DescribeImages', { filter: ANY }, (o) => +o.imageDetails[0].lastArchivedAt)
        const before = await at(s)
        return [await storage('A', 'ARCHIVE')(s), before === (await at(s))]
      }
    ],
    ecr: ['ARCHIVED', true]
  },
  {
    rule: 'PutImage of an archived image restores it at once',
    given: V1,
    set: archive(60_000),
    when: [put('A', 'v1'), snap, statuses(ANY)],
    ecr: ['A', ['A:v1 ACTIVE'], [BACK]]
  },

  // The single-image operations
  {
    rule: 'the single-image operations answer registryId, repositoryName and imageId as asked',
    given: V1,
    set: scanned(basic()),
    when: [':v1', 'A'].flatMap((image) =>
      SINGLE.map((name) =>
        single(name, image, {}, (o) => [o.registryId, o.repositoryName, text(o.imageId)])
      )
    ),
    ecr: [
      [ACCOUNT, '<repo>', 'A:v1'],
      [ACCOUNT, '<repo>', 'A']
    ].flatMap((head) => Array(3).fill(head))
  },
  ...SINGLE.map((operation): Row => ({
    rule: `${operation} of no such image, of no id, in no such repository`,
    given: { images: { A: ['v1'], B: ['b'] } },
    when: [
      ...[':nope', `sha256:${'1'.repeat(64)}`, 'B:v1', ''].map((image) => single(operation, image)),
      single(operation, 'A', { repositoryName: 'single/missing' })
    ],
    ecr: [NOT_FOUND, NOT_FOUND, NOT_FOUND, INVALID, 'RepositoryNotFoundException']
  })),

  // DescribeImageScanFindings
  {
    rule: 'DescribeImageScanFindings of a COMPLETE scan without findings: counts {}, findings []',
    given: V1,
    set: scanned(basic([])),
    when: [findings(':v1')],
    ecr: ['COMPLETE', {}]
  },
  {
    rule: 'DescribeImageScanFindings without a scan, or once setScan(undefined) removed it: ScanNotFoundException',
    given: { images: { A: ['v1'], B: ['b'] } },
    set: all(scanned(basic(), 'B'), scanned(undefined, 'B')),
    when: [findings(':v1'), findings(':b')],
    ecr: ['ScanNotFoundException', 'ScanNotFoundException']
  },
  ...Object.entries({
    IN_PROGRESS: 'The scan is in progress.',
    FAILED: 'UnsupportedImageError: layer too large', // setScan's description
    UNSUPPORTED_IMAGE: 'The image type is not supported for scanning.',
    LIMIT_EXCEEDED: 'The image has reached its scan limit.',
    PENDING: 'The image is waiting to be scanned.',
    SCAN_ELIGIBILITY_EXPIRED: 'The image is no longer eligible for continuous scanning.',
    FINDINGS_UNAVAILABLE: 'The findings for the image are not available.'
  }).map(([status, description], i): Row => {
    const scan = { status, shape: i < 4 ? 'basic' : 'enhanced' } as Scan
    return {
      rule: `DescribeImageScanFindings of a ${status} ${scan.shape} scan: the status alone`,
      given: V1,
      set: scanned(status === 'FAILED' ? { ...scan, description } : scan),
      when: [findings('A')],
      ecr: `${status}: ${description}`
    }
  }),
  {
    rule: 'DescribeImageScanFindings of an archived image: IMAGE_ARCHIVED; when restored, findings',
    given: V1,
    set: all(scanned(basic()), archive()),
    when: [findings(':v1'), storage(':v1', 'STANDARD'), findings(':v1')],
    ecr: [
      'IMAGE_ARCHIVED: The image is archived and cannot be scanned.',
      'ACTIVE',
      ['COMPLETE', ALL_COUNTS, ...CVES]
    ]
  },
  ...(['basic', 'enhanced'] as const).map((shape): Row => {
    const status = shape === 'basic' ? 'COMPLETE' : 'ACTIVE'
    return {
      rule: `DescribeImageScanFindings pages ${shape} findings, each page counting them all`,
      given: V1,
      set: scanned({ status, shape, findings: FINDINGS }),
      when: [findingPages(':v1')],
      ecr: [0, 2, 4].map((from) => [status, ALL_COUNTS, ...CVES.slice(from, from + 2)])
    }
  }),
  {
    rule: 'DescribeImageScanFindings refuses maxResults outside 1-1000, a nextToken of another image',
    given: { images: { A: ['v1'], B: ['v2'] } },
    set: all(scanned(basic()), scanned(basic(), 'B')),
    when: [
      findings('A', { maxResults: 0 }),
      findings('A', { maxResults: 1001 }),
      async (s) => {
        const first = op('DescribeImageScanFindings', { imageId: id('A'), maxResults: 1 }, (o) => o)
        const { nextToken } = (await first(s)) as { nextToken?: string }
        return findings('B', { nextToken })(s)
      }
    ],
    ecr: [INVALID, INVALID, INVALID]
  },

  // DescribeImageSigningStatus
  {
    rule: 'DescribeImageSigningStatus: each profile in setSigning order, a FAILED one with its reason; never signed: []',
    given: { images: { A: ['v1'], B: ['b'] } },
    set: (repo) => standIn.control.setSigning(repo, fixture('A').digest, SIGNED),
    when: [signing('A'), signing(':b')],
    ecr: [SIGNED, []]
  }
]

describe('rows', () => {
  afterEach(() => standIn.control.archivedAnswer('ImageNotFound'))
  it.each(ROWS.map((row, i) => [row.rule, row, i] as const))('%s', async (_, row, i) => {
    expect(await play(ecr, `standin/${i}`, row)).toEqual(row.ecr)
  })
})

it.each([
  ['an unknown operation', 'POST', '/', 'LaunchRockets', '{}', 'UnknownOperationException'],
  ['no X-Amz-Target', 'POST', '/', undefined, '{}', 'UnknownOperationException'],
  ['a GET', 'GET', '/', 'ListImages', undefined, 'UnknownOperationException'],
  ['another path', 'POST', '/x', 'ListImages', '{}', 'UnknownOperationException'],
  ['a body that is not JSON', 'POST', '/', 'ListImages', '{', 'SerializationException'],
  ['a body that is no JSON object', 'POST', '/', 'ListImages', '[]', 'SerializationException']
])('answers %s with HTTP 400 %s', async (_, method, path, operation, body, type) => {
  const target = operation && `AmazonEC2ContainerRegistry_V20150921.${operation}`
  const headers = { ...(target && { 'x-amz-target': target }) }
  const res = await fetch(`${standIn.url}${path}`, { method, headers, ...(body && { body }) })
  expect([res.status, ((await res.json()) as { __type: string }).__type]).toEqual([400, type])
})

describe('pagination', () => {
  const repo = 'paging/app'
  const scene = () => ({ ecr, repo })
  const images = [0, 1, 2, 3, 4].map((i) => dockerV2Image(`paging-${i}`))
  const many = Array.from({ length: 150 }, (_, i) => `x${String(i).padStart(3, '0')}`)

  beforeAll(async () => {
    await createRepo(ecr, repo)
    for (const [i, image] of images.entries()) await seedImage(ecr, repo, image, [`t${i}`])
    standIn.control.seedTags(repo, images[2]?.digest ?? '', many)
  })

  it('lists in push order, then by tag, 100 a page by default, up to maxResults 1000', async () => {
    const listed = await everyPage('ListImages')(scene())
    const [all] = await everyPage('ListImages', { maxResults: 1000 })(scene())
    expect(listed.map((page) => page.imageIds.length)).toEqual([100, 55])
    expect(listed.flatMap((page) => page.imageIds)).toEqual(all.imageIds)
    const order = ['t0', 't1', 't2', ...many, 't3', 't4']
    expect(all.imageIds.map((i: { imageTag: string }) => i.imageTag)).toEqual(order)
    const described = await everyPage('DescribeImages', { maxResults: 2 })(scene())
    const digests = described.flatMap((page) =>
      page.imageDetails.map((d: ECRImage) => d.imageDigest)
    )
    expect(digests).toEqual(images.map((image) => image.digest))
    const tags = op('DescribeImages', { imageIds: [id(':t2')] }, (o) => o.imageDetails[0].imageTags)
    expect(await tags(scene())).toEqual(['t2', ...many].sort())
  })
})

it('UpdateImageStorageClass STANDARD: ACTIVATING until the restore time, then ACTIVE; tags kept; snapshot() reads the status at the call', async () => {
  const s = await prepare(ecr, 'archive/restore', { given: V1, set: archive(RESTORE_MS) })
  const archived = await snap(s)
  const startedAt = (now = Date.now())
  const first = await storage(':v1', 'STANDARD')(s)
  const during = [
    await get([':v1'])(s),
    await list({ imageStatus: 'ACTIVATING' })(s),
    await snap(s)
  ]
  now += RESTORE_MS / 2 // halfway: ARCHIVE is refused, STANDARD does not restart it
  const again = [await storage('A', 'STANDARD')(s), await storage('A', 'ARCHIVE')(s)]
  expect([archived, first, ...during, ...again]).toEqual([
    ['A:v1 ARCHIVED'],
    'ACTIVATING',
    ['ImageNotFound :v1'],
    ['A:v1'],
    ['A:v1 ACTIVATING'],
    'ACTIVATING',
    'ImageStorageClassUpdateNotSupportedException'
  ])
  now = startedAt + RESTORE_MS // the restore time from the first call: STANDARD did not restart it
  const read = op('DescribeImages', { filter: ANY }, (o) => o.imageDetails[0])
  expect(await read(s)).toMatchObject({ imageStatus: 'ACTIVE', lastActivatedAt: new Date(now) })
  now = undefined
  expect(await get([':v1'])(s)).toEqual(['A:v1'])
})

describe('scan findings and signing statuses in detail', () => {
  const withScan = (repo: string, scan: Scan) =>
    prepare(ecr, repo, { given: V1, set: scanned(scan) })
  const scanOf = (s: Scene) =>
    s.ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: s.repo, imageId: id('A') }))

  it('a basic scan: ImageScanFinding entries, attributes as given, counts by severity', async () => {
    const before = Date.now()
    const out = await scanOf(await withScan('scan/basic', basic(FINDINGS?.slice(1, 4))))
    const scan = out.imageScanFindings
    expect(scan?.imageScanCompletedAt?.getTime()).toBeGreaterThanOrEqual(before - 1000)
    expect(scan?.vulnerabilitySourceUpdatedAt).toEqual(scan?.imageScanCompletedAt)
    const finding = (name: string, severity: string, about: string, ...values: string[]) => ({
      name,
      description: `${name} in ${about}`,
      uri: `https://nvd.nist.gov/vuln/detail/${name}`,
      severity,
      attributes: values.map((value, i) => ({ key: ['package_name', 'package_version'][i], value }))
    })
    expect([out.imageScanStatus, scan?.findingSeverityCounts, scan?.enhancedFindings]).toEqual([
      { status: 'COMPLETE', description: 'The scan was completed successfully.' },
      { HIGH: 2, MEDIUM: 1 },
      undefined
    ])
    expect(scan?.findings).toEqual([
      finding('CVE-2024-2', 'HIGH', 'zlib 1.2.11', 'zlib', '1.2.11'),
      finding('CVE-2024-3', 'HIGH', 'curl', 'curl'),
      finding('CVE-2024-4', 'MEDIUM', 'the image')
    ])
  })

  it('an enhanced scan: Amazon Inspector findings, defaults filled in, every status counted', async () => {
    const s = await withScan('scan/enhanced', {
      status: 'ACTIVE',
      shape: 'enhanced',
      description: 'Continuous scan is selected for image.',
      findings: [
        { id: 'CVE-2024-10', severity: 'HIGH', package: 'ssl', packageVersion: '3.0.1' },
        {
          ...{ id: 'CVE-2024-11', severity: 'CRITICAL', package: 'libc' },
          status: 'SUPPRESSED',
          fixedInVersion: '2.31-13'
        },
        { id: 'GHSA-xxxx', severity: 'LOW', fixAvailable: 'PARTIAL', status: 'CLOSED' }
      ]
    })
    const out = await scanOf(s)
    const ARN = /^arn:aws:inspector2:us-east-1:123456789012:finding\/[0-9a-f]{32}$/
    /** One enhanced finding: 'SEVERITY STATUS fixAvailable', what it is in, and its packages. */
    const finding = (id: string, states: string, about: string, ...packages: object[]) => {
      const [severity, status, fixAvailable] = states.split(' ')
      return {
        ...{ awsAccountId: ACCOUNT, findingArn: expect.stringMatching(ARN) },
        description: `${id} in ${about}`,
        title: packages.length > 0 ? `${id} - ${about.split(' ')[0]}` : id,
        ...{ type: 'PACKAGE_VULNERABILITY', severity, status, fixAvailable },
        packageVulnerabilityDetails: {
          vulnerabilityId: id,
          source: 'NVD',
          vulnerablePackages: packages
        }
      }
    }
    const scan = out.imageScanFindings
    expect([out.imageScanStatus?.description, scan?.findingSeverityCounts, scan?.findings]).toEqual(
      ['Continuous scan is selected for image.', { HIGH: 1, CRITICAL: 1, LOW: 1 }, undefined]
    )
    expect(scan?.enhancedFindings).toEqual([
      finding('CVE-2024-10', 'HIGH ACTIVE NO', 'ssl 3.0.1', { name: 'ssl', version: '3.0.1' }),
      finding('CVE-2024-11', 'CRITICAL SUPPRESSED YES', 'libc', {
        name: 'libc',
        fixedInVersion: '2.31-13'
      }),
      finding('GHSA-xxxx', 'LOW CLOSED PARTIAL', 'the image')
    ])
    const arns = async () =>
      (await scanOf(s)).imageScanFindings?.enhancedFindings?.map((f) => f.findingArn)
    expect(new Set(await arns()).size).toBe(3)
    expect(await arns()).toEqual(scan?.enhancedFindings?.map((f) => f.findingArn))
  })

  it('a scan, and a signing entry IN_PROGRESS, with completeAfterMs: IN_PROGRESS until then, then as set', async () => {
    const setAt = Date.now()
    const s = await withScan('scan/later', { ...basic(), completeAfterMs: RESTORE_MS })
    const signAt = Date.now()
    standIn.control.setSigning(s.repo, fixture('A').digest, [
      { signingProfileArn: PROFILE, status: 'IN_PROGRESS', completeAfterMs: RESTORE_MS },
      { signingProfileArn: AUDIT, status: 'IN_PROGRESS' }
    ])
    const states = async () => ((await signing('A')(s)) as Signing[]).map((e) => e.status)
    expect([await findings('A')(s), await states()]).toEqual([
      'IN_PROGRESS: The scan is in progress.',
      ['IN_PROGRESS', 'IN_PROGRESS']
    ])
    const done = await until(
      () => scanOf(s),
      (o) => findingIds(o)[0] === 'COMPLETE'
    )
    expect(Date.now() - setAt).toBeGreaterThanOrEqual(RESTORE_MS)
    expect(findingIds(done)).toEqual(['COMPLETE', ALL_COUNTS, ...CVES])
    expect(done.imageScanFindings?.imageScanCompletedAt?.getTime()).toBeGreaterThanOrEqual(
      setAt + RESTORE_MS - 1
    )
    expect(await until(states, (read) => read[0] === 'COMPLETE')).toEqual([
      'COMPLETE',
      'IN_PROGRESS'
    ])
    expect(Date.now() - signAt).toBeGreaterThanOrEqual(RESTORE_MS)
  })

  let refusals = 0
  it.each<[string, unknown]>([
    ['setScan', { status: 'COMPLETE', shape: 'enhanced' }],
    ['setScan', { status: 'ACTIVE', shape: 'basic' }],
    ['setScan', { status: 'FAILED', shape: 'basic', findings: FINDINGS }],
    ['setScan', { status: 'DONE', shape: 'basic' }],
    ['setScan', { status: 'COMPLETE', shape: 'deep' }],
    ['setScan', basic([{ id: 'CVE-1', severity: 'SEVERE' } as never])],
    ['setScan', basic([{ id: 'CVE-1', severity: 'LOW', status: 'SUPPRESSED' }])],
    ['setScan', { ...basic([]), completeAfterMs: -1 }],
    ['setSigning', 'COMPLETE'],
    ['setSigning', [{ status: 'COMPLETE' }]],
    ['setSigning', [{ signingProfileArn: PROFILE, status: 'SIGNED' }]],
    ['setSigning', [{ signingProfileArn: PROFILE, status: 'COMPLETE', failureReason: 'nope' }]],
    ['setSigning', [{ signingProfileArn: PROFILE, status: 'FAILED', completeAfterMs: 10 }]]
  ])('%s refuses what ECR could not report, changing nothing: %j', async (control, value) => {
    const s = await withScan(`scan/refused/${(refusals += 1)}`, basic())
    const set = standIn.control[control as 'setScan' | 'setSigning']
    expect(() => set(s.repo, fixture('A').digest, value as never)).toThrow(TypeError)
    expect([await findings('A')(s), await signing('A')(s)]).toEqual([
      ['COMPLETE', ALL_COUNTS, ...CVES],
      []
    ])
  })
})

describe('lifecycle policies', () => {
  const NOW = Date.UTC(2026, 11, 1)
  /** '1 tagged sinceImagePushed 7 tagPrefixList a,b': rulePriority, tagStatus, count, a list. */
  const rule = (spec: string) => {
    const [priority, tagStatus = '', countType = '', countNumber, list, entries = ''] =
      spec.split(' ')
    const selection = { tagStatus, countType, countNumber: Number(countNumber) }
    return {
      rulePriority: Number(priority),
      selection: { ...selection, ...(list && { [list]: entries.split(',') }) }
    }
  }
  /** 'b 5 production,v1.0.0 child': digest, age in days, tags, children. */
  const image = (spec: string) => {
    const [digest = '', days, tags, children] = spec.split(' ')
    const pushedAt = NOW - Number(days) * 86_400_000
    return { digest, pushedAt, tags: tags?.split(',') ?? [], children: children?.split(',') ?? [] }
  }

  // Each row: rules | images | what expires, each a list separated by '; '.
  it.each([
    [
      'a multi-entry prefix list selects only images carrying every entry',
      '1 tagged sinceImagePushed 1 tagPrefixList production,v | a 5 production; b 5 production,v1.0.0 | b 1'
    ],
    [
      'a pattern matches the whole tag, * any run of characters',
      '1 tagged sinceImagePushed 1 tagPatternList v*.*.* | a 5 v1.2.3; b 5 v1.2; c 5 xv1.2.3 | a 1'
    ],
    [
      'imageCountMoreThan keeps the newest by push time',
      '1 tagged imageCountMoreThan 2 tagPrefixList sha- | a 3 sha-1; b 1 sha-2; c 2 sha-3 | a 1'
    ],
    [
      'an image a higher rule selected is never expired by a lower one, but still counted',
      '1 tagged sinceImagePushed 9999 tagPatternList production; 2 tagged imageCountMoreThan 1 tagPrefixList sha- | a 3 sha-1,production; b 2 sha-2; c 1 sha-3 | b 2'
    ],
    [
      'untagged selects images without tags; any selects every image',
      '1 untagged sinceImagePushed 7; 2 any sinceImagePushed 30 | a 8; b 31 x; c 3; d 3 y | a 1; b 2'
    ],
    [
      'a platform image of an index that stays is not expired',
      '1 untagged sinceImagePushed 7 | index 100 v1 child; child 100; loose 100 | loose 1'
    ]
  ])('evaluation: %s', (_, row) => {
    const [rules = [], images = [], expired] = row.split(' | ').map((part) => part.split('; '))
    const expiring = evaluatePolicy({ rules: rules.map(rule) }, images.map(image), NOW)
    expect(expiring.map((e) => `${e.image.digest} ${e.rulePriority}`)).toEqual(expired)
  })

  it('a preview: IN_PROGRESS once, then COMPLETE in pages; one at a time; archived images count', async () => {
    const images = { A: [], B: [], INDEX0: [] }
    const s = await prepare(ecr, 'lifecycle/preview', { given: { images }, set: archive() })
    const text = JSON.stringify({
      rules: [{ ...rule('3 untagged imageCountMoreThan 0'), action: { type: 'expire' } }]
    })
    const start = (lifecyclePolicyText?: string) =>
      op('StartLifecyclePolicyPreview', { lifecyclePolicyText }, (o) => o.status)(s)
    const page = (more = {}) =>
      op('GetLifecyclePolicyPreview', more, (o) => [
        o.status,
        ...(o.previewResults ?? []).map(
          (r: LifecyclePolicyPreviewResult) =>
            `${named(r.imageDigest)} [${r.imageTags}] ${r.action?.type} ${r.appliedRulePriority}` +
            (r.imagePushedAt instanceof Date ? '' : ' without imagePushedAt')
        ),
        o.summary?.expiringImageTotalCount,
        o.lifecyclePolicyText === text && o.nextToken
      ])(s)
    expect([await start(), await page()]).toEqual([
      'LifecyclePolicyNotFoundException',
      'LifecyclePolicyPreviewNotFoundException'
    ])
    expect([await start(text), await start(text), await page()]).toEqual([
      'IN_PROGRESS',
      'LifecyclePolicyPreviewInProgressException',
      ['IN_PROGRESS', undefined, undefined]
    ])
    const first = (await page({ maxResults: 2 })) as unknown[]
    const rest = await page({ maxResults: 2, nextToken: first.at(-1) })
    expect([first, rest, await page({ maxResults: 101 })]).toEqual([
      ['COMPLETE', 'A [] EXPIRE 3', 'B [] EXPIRE 3', 3, expect.any(String)],
      ['COMPLETE', 'INDEX0 [] EXPIRE 3', 3, undefined],
      INVALID
    ])
    await op('PutLifecyclePolicy', { lifecyclePolicyText: text })(s)
    expect(await start()).toBe('IN_PROGRESS') // the repository's policy
  })
})

describe('accounts, STS, repository policies', () => {
  const A = fixture('A')
  const base = (repo: string) => ({ ecr, repo })

  it('STS AssumeRole (AWS_ENDPOINT_URL_STS): the role account’s keys, refreshed when short-lived; an expired key: ExpiredTokenException 403; a bad ARN, a chained session over an hour: ValidationError', async () => {
    process.env.AWS_ENDPOINT_URL_STS = standIn.url
    standIn.control.sessionLifetime(300)
    const credentials = assumed()
    const role = client(standIn.url, undefined, { credentials })
    const assumeRoles = () => standIn.control.calls.filter((c) => c.operation === 'AssumeRole')
    await op('CreateRepository')({ ecr: role, repo: 'sts/app' }) // in OTHER's registry: contract.test.ts
    await op('ListImages')({ ecr: role, repo: 'sts/app' })
    // The SDK assumes the role again for a session about to expire (one of an hour: once).
    expect(assumeRoles().length).toBeGreaterThan(1)
    const keys = await credentials()
    await sleep(350)
    const stale = client(standIn.url, undefined, { credentials: keys })
    const expired = await stale
      .send(command('ListImages', { repositoryName: 'sts/app' }))
      .catch((e: ECRServiceException) => [e.name, e.$metadata.httpStatusCode, e.message])
    expect(expired).toEqual([
      'ExpiredTokenException',
      403,
      'The security token included in the request is expired'
    ])
    standIn.control.sessionLifetime(undefined)
    const refused = [
      assumed(undefined, { RoleArn: 'arn:aws:iam::12:role/x' }),
      assumed(undefined, { DurationSeconds: 7200 }, await assumed()())
    ].map((provider) => provider().catch((e: Error) => e.name))
    expect(await Promise.all(refused)).toEqual(['ValidationError', 'ValidationError'])
    delete process.env.AWS_ENDPOINT_URL_STS
    for (const c of [role, stale]) c.destroy()
  })

  it('another account’s repository: AccessDeniedException unless its policy grants that action to the caller’s account, in that Region; a repository it lacks: RepositoryNotFoundException', async () => {
    standIn.control.createRepository('shared/app', B)
    const call = (operation: string, more = {}) =>
      op(
        operation,
        { registryId: OTHER, subjectId: { imageDigest: A.digest }, ...more },
        () => 'ok'
      )(base('shared/app'))
    const denied = await call('ListImageReferrers')
    standIn.control.grant(B, 'shared/app', ACCOUNT, ['ecr:BatchGetImage', 'ecr:ListImages'])
    standIn.control.grant({ ...B, region: 'eu-west-1' }, 'shared/app', ACCOUNT, ['ecr:*'])
    const message = await ecr
      .send(
        command('PutImage', {
          registryId: OTHER,
          repositoryName: 'shared/app',
          imageManifest: A.manifest
        })
      )
      .catch((e: Error) => `${e.name}: ${e.message}`)
    expect([denied, await call('ListImageReferrers'), await call('ListImages'), message]).toEqual([
      'AccessDeniedException',
      'ok',
      'ok',
      `AccessDeniedException: User: arn:aws:sts::${ACCOUNT}:assumed-role/ci/gh is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:us-east-1:${OTHER}:repository/shared/app because no resource-based policy allows the ecr:PutImage action`
    ])
    expect(await call('ListImages', { repositoryName: 'shared/none' })).toBe(
      'RepositoryNotFoundException'
    )
  })
})

describe('blobs and the layer operations', () => {
  const MIB = 1024 * 1024
  const UNKNOWN = 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6'
  const sha = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  /** An operation on `repo` of the default registry: its answer as `pick` reads it, or its error's name. */
  const on = (repo: string, operation: string, input = {}, pick?: (o: Output) => unknown) =>
    op(operation, input, pick)({ ecr, repo })
  /** A new repository with `image` pushed, blobs and all, as v1. */
  const pushed = async <T extends BlobImage>(repo: string, image: T, to = ecr) => {
    await createRepo(to, repo)
    await pushImage(to, repo, image, ['v1'])
    return image
  }
  const start = (repo: string) =>
    on(repo, 'InitiateLayerUpload', {}, (o) => o.uploadId) as Promise<string>
  const part = (repo: string, uploadId: string, first: number, bytes: Uint8Array, last?: number) =>
    ecr
      .send(
        command('UploadLayerPart', {
          repositoryName: repo,
          uploadId,
          partFirstByte: first,
          partLastByte: last ?? first + bytes.length - 1,
          layerPartBlob: bytes
        })
      )
      .then(
        (o: Output) => o.lastByteReceived,
        (e: Output) => `${e.name} ${e.lastValidByteReceived}`
      )
  const complete = (repo: string, uploadId: string, digest: string) =>
    on(repo, 'CompleteLayerUpload', { uploadId, layerDigests: [digest] }, (o) => o.layerDigest)
  afterEach(() => standIn.control.reset())

  it('PutImage in another account’s registry needs every blob (LayersNotFoundException); pushImage() uploads them; snapshot() shows them by account and Region', async () => {
    const other = client(standIn.url, undefined, {
      credentials: standIn.control.credentials(OTHER)
    })
    const image = blobMultiArchImage('strict')
    await createRepo(other, 'strict/app')
    expect(await answer(putImage(other, 'strict/app', image.children[0] as ImageFixture))).toBe(
      'LayersNotFoundException'
    )
    await pushImage(other, 'strict/app', image, ['v1'])
    const { images, blobs } = standIn.control.snapshot('strict/app', B)
    const sizes = [...image.blobs].map(([digest, b]) => ({ digest, size: b.length }))
    expect([images.length, blobs]).toEqual([
      3,
      sizes.sort((x, y) => (x.digest < y.digest ? -1 : 1))
    ])
    other.destroy()
  })

  it('BatchCheckLayerAvailability: 1-100 digests; AVAILABLE or ARCHIVED with its size; failures InvalidLayerDigest, MissingLayerDigest', async () => {
    const image = await pushed('layers/check', blobImage('check'))
    const [config = ''] = [...image.blobs.keys()].slice(-1)
    const size = image.blobs.get(config)?.length
    const check = (...layerDigests: string[]) =>
      on('layers/check', 'BatchCheckLayerAvailability', { layerDigests }, (o) => [
        ...o.layers.map((l: Output) => `${l.layerAvailability} ${l.layerSize}`),
        ...o.failures.map((f: Output) => `${f.failureCode} ${f.layerDigest}`)
      ])
    const answers = [
      await check(),
      await check(...Array(101).fill(BOGUS)),
      await check(config, 'nope', BOGUS)
    ]
    standIn.control.archive('layers/check', image.digest)
    expect([...answers, await check(config)]).toEqual([
      INVALID,
      INVALID,
      [`AVAILABLE ${size}`, 'InvalidLayerDigest nope', `MissingLayerDigest ${BOGUS}`],
      [`ARCHIVED ${size}`]
    ])
  })

  it('an upload: UUID ids, partSize (10 MiB, control.partSize), contiguous inclusive parts, and the checks of CompleteLayerUpload', async () => {
    const repo = 'layers/upload'
    await createRepo(ecr, repo)
    const [small, five] = [Buffer.alloc(MIB, 1), Buffer.alloc(5 * MIB, 2)]
    const both = sha(Buffer.concat([five, small]))
    const refused = `InvalidLayerPartException ${5 * MIB - 1}`
    expect(await start(repo)).toMatch(/^[0-9a-f-]{36}$/)
    const id = await start(repo)
    expect(await part(repo, id, 0, five)).toBe(5 * MIB - 1)
    expect(await part(repo, id, 0, small)).toBe(refused) // not after the last byte received
    expect(await part(repo, id, 5 * MIB, small, 5 * MIB)).toBe(refused) // the range is not its length
    expect(await part(repo, id, 5 * MIB, small)).toBe(6 * MIB - 1)
    expect(await part(repo, UNKNOWN, 0, small)).toBe('UploadNotFoundException undefined')
    expect([await complete(repo, id, both), await complete(repo, id, 'x')]).toEqual([
      both,
      'UploadNotFoundException'
    ])
    const [tooSmall, empty, wrong, again] = [
      await start(repo),
      await start(repo),
      await start(repo),
      await start(repo)
    ]
    await part(repo, tooSmall, 0, small)
    await part(repo, tooSmall, MIB, small)
    await part(repo, wrong, 0, small)
    await part(repo, again, 0, five)
    await part(repo, again, 5 * MIB, small)
    expect([
      await complete(repo, tooSmall, sha(Buffer.concat([small, small]))),
      await complete(repo, empty, sha(small)),
      await complete(repo, wrong, sha(five)),
      await complete(repo, again, both)
    ]).toEqual([
      'LayerPartTooSmallException',
      'EmptyUploadException',
      'InvalidLayerException',
      'LayerAlreadyExistsException'
    ])
    standIn.control.partSize(6 * MIB)
    const over = await start(repo)
    expect([
      await on(repo, 'InitiateLayerUpload', {}, (o) => o.partSize),
      await part(repo, over, 0, Buffer.alloc(6 * MIB + 1))
    ]).toEqual([6 * MIB, 'InvalidLayerPartException 0'])
  })

  it('GetDownloadUrlForLayer: a URL it serves (no Authorization header), for referenced blobs only; corrupted, reset and expired downloads', async () => {
    const repo = 'layers/download'
    const image = await pushed(repo, blobImage('download', { layerSize: 12 * MIB }))
    const uploaded = standIn.control.calls.filter((c) => c.operation === 'UploadLayerPart')
    const parts = [uploaded.length, uploaded.reduce((n, c) => n + c.input.layerPartBlob, 0)]
    const [, layer = ''] = [...image.blobs.keys()]
    const loose = await start(repo)
    await part(repo, loose, 0, Buffer.from('loose'))
    await complete(repo, loose, sha(Buffer.from('loose')))
    const url = (layerDigest: string) =>
      on(repo, 'GetDownloadUrlForLayer', { layerDigest }, (o) => o.downloadUrl) as Promise<string>
    const download = async (headers = {}) => {
      const res = await fetch(await url(layer), { headers })
      return res.ok ? sha(new Uint8Array(await res.arrayBuffer())) : res.status
    }
    const answers = [
      await url(sha(Buffer.from('loose'))),
      await download(),
      await download({ Authorization: 'AWS4-HMAC-SHA256 x' })
    ]
    standIn.control.resetDownload(layer)
    answers.push(await download().catch((e: Error) => e.name))
    const stale = await url(layer)
    standIn.control.expireDownloadUrls()
    answers.push((await fetch(stale)).status, await download())
    standIn.control.corruptDownload(layer)
    answers.push(await download())
    expect([parts, await url(layer), ...answers]).toEqual([
      // the 12 MiB layer in three 5 MiB parts, the base layer and the config in one each; calls
      // record a part's byte count
      [5, [...image.blobs.values()].reduce((n, b) => n + b.length, 0)],
      expect.stringMatching(
        new RegExp(
          `^${standIn.url}/_blobs/[0-9a-f-]+\\?X-Amz-Algorithm=AWS4-HMAC-SHA256&.*X-Amz-Signature=`
        )
      ),
      'LayerInaccessibleException',
      layer,
      400,
      'TypeError',
      403,
      layer,
      expect.not.stringMatching(layer)
    ])
  })

  it('ListImageReferrers: manifests whose subject is the image, 20 a page or maxResults 1-50, by artifactType and artifactStatus (ACTIVE by default)', async () => {
    const repo = 'layers/referrers'
    const subject = await pushed(repo, blobImage('subject'))
    const [sbom, bundle] = ['application/spdx+json', undefined].map((type) =>
      referrerOf(subject, type)
    ) as [BlobImage, BlobImage]
    for (const referrer of [sbom, bundle, cosignSignature(subject)])
      await pushImage(ecr, repo, referrer)
    const referrers = (
      more = {},
      pick = (o: Output): unknown => [
        ...o.referrers.map((r: Output) => `${r.artifactType} ${r.artifactStatus}`),
        ...(o.nextToken ? ['next'] : [])
      ]
    ) =>
      on(repo, 'ListImageReferrers', { subjectId: { imageDigest: subject.digest }, ...more }, pick)
    const answers = [
      await referrers(),
      await referrers({ maxResults: 1 }),
      await referrers({ maxResults: 51 }),
      await referrers({ filter: { artifactTypes: ['application/spdx+json'] } })
    ]
    standIn.control.archive(repo, sbom.digest)
    answers.push(await referrers(), await referrers({ filter: { artifactStatus: 'ANY' } }))
    const BUNDLE = `${MEDIA_TYPES.sigstoreBundle} ACTIVE`
    expect([...answers, await referrers({}, (o) => o.referrers[0])]).toEqual([
      ['application/spdx+json ACTIVE', BUNDLE],
      ['application/spdx+json ACTIVE', 'next'],
      INVALID,
      ['application/spdx+json ACTIVE'],
      [BUNDLE],
      ['application/spdx+json ARCHIVED', BUNDLE],
      {
        digest: bundle.digest,
        mediaType: MEDIA_TYPES.ociManifest,
        artifactType: MEDIA_TYPES.sigstoreBundle,
        size: Buffer.byteLength(bundle.manifest),
        annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
        artifactStatus: 'ACTIVE'
      }
    ])
  })
})

it('runs as a command line that prints its URL and stops on SIGTERM', async () => {
  const script = fileURLToPath(new URL('../support/ecr-standin.mjs', import.meta.url))
  const child = spawn(process.execPath, [script, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8')
        if (out.includes('\n')) resolve(out.split('\n')[0] ?? '')
      })
      child.on('exit', () => reject(new Error(`stand-in exited before printing its URL: ${out}`)))
    })
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const cli = client(url)
    expect(await op('CreateRepository', {})({ ecr: cli, repo: 'cli/app' })).toBe('ok')
    cli.destroy()
  } finally {
    child.kill('SIGTERM')
  }
  expect(await exited).toBe(0)
})
