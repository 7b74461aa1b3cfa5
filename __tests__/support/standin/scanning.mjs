// @ts-check
/**
 * What a promotion gate reads of an image: its scan findings and its signing status. No scanner or
 * signer runs: tests record the outcome with control.setScan and control.setSigning (./admin.mjs),
 * which recordScan and recordSigning check and turn into the wire shapes below. Both live on the
 * image and go with it.
 *
 * DescribeImageScanFindings (API Reference: DescribeImageScanFindings, ImageScanStatus,
 * ImageScanFindings, ImageScanFinding, EnhancedImageScanFinding, PackageVulnerabilityDetails)
 * - imageId names an image in any status (./images.mjs), else ImageNotFoundException. An ARCHIVED
 *   or ACTIVATING image answers status IMAGE_ARCHIVED and no findings (reading: an image being
 *   restored is still archived); else an image without a scan: ScanNotFoundException.
 * - A scan with completeAfterMs reads IN_PROGRESS until that many ms (real clock) after setScan,
 *   then its own status, completed at that moment (imageScanCompletedAt).
 * - Only COMPLETE (basic scanning) and ACTIVE (enhanced, Amazon Inspector) carry findings; every
 *   other status answers imageScanStatus alone, imageScanFindings omitted, not empty (reading: the
 *   API makes it optional and does not say when).
 * - Answers { registryId, repositoryName, imageId { imageDigest, imageTag (when requested) },
 *   imageScanStatus { status, description (setScan's, else the stand-in's for the status) },
 *   imageScanFindings? { imageScanCompletedAt, vulnerabilitySourceUpdatedAt (both when the scan
 *   completed), findingSeverityCounts, findings (basic) | enhancedFindings (enhanced) },
 *   nextToken? }.
 * - Findings page by maxResults (1-1000, default 100) and nextToken as ListImages does
 *   (./protocol.mjs), in setScan's order; findingSeverityCounts counts every finding of the scan
 *   on every page, SUPPRESSED and CLOSED ones too (reading: the counts describe the scan).
 * - Severities (FindingSeverity): INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL, UNDEFINED.
 * - basic: { name: id, description, uri, severity, attributes: [{ key: 'package_name', value },
 *   { key: 'package_version', value }] (each when setScan gives it) }.
 * - enhanced: { awsAccountId, findingArn (the same for the same repository, digest, position and
 *   id), description, title, type 'PACKAGE_VULNERABILITY', severity, status (default ACTIVE),
 *   fixAvailable (default YES with a fixedInVersion, else NO), packageVulnerabilityDetails {
 *   vulnerabilityId: id, source 'NVD', vulnerablePackages: [{ name, version?, fixedInVersion? }]
 *   (empty without a package) } }.
 *
 * DescribeImageSigningStatus (API Reference: DescribeImageSigningStatus, ImageSigningStatus)
 * - imageId names an image in any status, else ImageNotFoundException. Answers { registryId,
 *   repositoryName, imageId, signingStatuses: [{ signingProfileArn, status IN_PROGRESS | COMPLETE
 *   | FAILED, failureCode?, failureReason? }] } in setSigning's order; never signed: [] (reading:
 *   no signing rule matched it, no error). An IN_PROGRESS entry with completeAfterMs reads
 *   COMPLETE that many ms (real clock) after setSigning.
 */

import { sha256Hex } from '../oci.mjs'
import { namedImage, statusOf } from './images.mjs'
import { ACCOUNT_ID, EcrError, REGION, isObject } from './protocol.mjs'

/**
 * @typedef {import('./protocol.mjs').Key} Key
 * @typedef {'basic' | 'enhanced'} ScanShape
 * @typedef {{ id: string, severity: string, package?: string, packageVersion?: string,
 *   fixedInVersion?: string, fixAvailable?: 'YES' | 'NO' | 'PARTIAL',
 *   status?: 'ACTIVE' | 'SUPPRESSED' | 'CLOSED' }} FindingSpec
 *   fixedInVersion, fixAvailable and status: enhanced findings only
 * @typedef {{ status: string, description?: string, shape: ScanShape,
 *   findings?: readonly FindingSpec[], completeAfterMs?: number }} ScanSpec
 * @typedef {{ status: string, description: string | undefined, shape: ScanShape,
 *   findings: Record<string, unknown>[], counts: Record<string, number>, completeAt: number }} RecordedScan
 *   findings in wire shape; completeAt: epoch ms
 * @typedef {{ signingProfileArn: string, status: 'COMPLETE' | 'IN_PROGRESS' | 'FAILED',
 *   failureCode?: string, failureReason?: string, completeAfterMs?: number }} SigningSpec
 * @typedef {{ entry: Record<string, string>, completeAt: number | undefined }} RecordedSigning
 *   entry in wire shape; completeAt: epoch ms at which an IN_PROGRESS entry reads COMPLETE
 */

/** Every scan status, with the stand-in's description of it for a scan that gives none. */
const DESCRIPTIONS = Object.freeze({
  IN_PROGRESS: 'The scan is in progress.',
  COMPLETE: 'The scan was completed successfully.',
  FAILED: 'The scan failed.',
  UNSUPPORTED_IMAGE: 'The image type is not supported for scanning.',
  ACTIVE: 'Continuous scanning is in effect for the image.',
  PENDING: 'The image is waiting to be scanned.',
  SCAN_ELIGIBILITY_EXPIRED: 'The image is no longer eligible for continuous scanning.',
  FINDINGS_UNAVAILABLE: 'The findings for the image are not available.',
  LIMIT_EXCEEDED: 'The image has reached its scan limit.',
  IMAGE_ARCHIVED: 'The image is archived and cannot be scanned.'
})
const SCAN_STATUSES = Object.keys(DESCRIPTIONS)
/** The one status of each scan shape that carries findings. @type {Readonly<Record<ScanShape, string>>} */
const FINDINGS_STATUS = Object.freeze({ basic: 'COMPLETE', enhanced: 'ACTIVE' })
const SEVERITIES = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'UNDEFINED']
const FIX_AVAILABLE = ['YES', 'NO', 'PARTIAL']
const FINDING_STATUSES = ['ACTIVE', 'SUPPRESSED', 'CLOSED']
const SIGNING_STATUSES = ['IN_PROGRESS', 'COMPLETE', 'FAILED']

/**
 * A TypeError naming the first rule that does not hold, of [holds, rule] pairs.
 * @param {string} what @param {[unknown, string][]} rules
 */
function check(what, rules) {
  const broken = rules.find(([holds]) => !holds)
  if (broken) throw new TypeError(`stand-in: ${what}: ${broken[1]}`)
}
/** @param {unknown} value */
const optionalText = (value) => value === undefined || (typeof value === 'string' && value !== '')
/** @param {unknown} ms */
const isDelay = (ms) =>
  ms === undefined || (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)

/**
 * One finding in the wire shape of its scan.
 * @param {ScanShape} shape
 * @param {FindingSpec} finding
 * @param {string} arnSeed what makes the enhanced findingArn unique
 */
function wireFinding(shape, finding, arnSeed) {
  const { id, severity, package: name, packageVersion: version, fixedInVersion } = finding
  const description = `${id} in ${[name, version].filter(Boolean).join(' ') || 'the image'}`
  if (shape === 'basic') {
    const attributes = [
      ...(name === undefined ? [] : [{ key: 'package_name', value: name }]),
      ...(version === undefined ? [] : [{ key: 'package_version', value: version }])
    ]
    const uri = `https://nvd.nist.gov/vuln/detail/${encodeURIComponent(id)}`
    return { name: id, description, uri, severity, attributes }
  }
  return {
    awsAccountId: ACCOUNT_ID,
    findingArn: `arn:aws:inspector2:${REGION}:${ACCOUNT_ID}:finding/${sha256Hex(arnSeed).slice(0, 32)}`,
    description,
    title: name === undefined ? id : `${id} - ${name}`,
    type: 'PACKAGE_VULNERABILITY',
    severity,
    status: finding.status ?? 'ACTIVE',
    fixAvailable: finding.fixAvailable ?? (fixedInVersion === undefined ? 'NO' : 'YES'),
    packageVulnerabilityDetails: {
      vulnerabilityId: id,
      source: 'NVD',
      vulnerablePackages:
        name === undefined
          ? []
          : [
              {
                name,
                ...(version !== undefined && { version }),
                ...(fixedInVersion !== undefined && { fixedInVersion })
              }
            ]
    }
  }
}

/**
 * Check a control.setScan scan and record it, its findings in wire shape, as of now.
 * @param {string} repositoryName
 * @param {string} digest
 * @param {unknown} scan
 * @returns {RecordedScan}
 */
export function recordScan(repositoryName, digest, scan) {
  const what = 'setScan'
  const spec = 'pass { status, shape, findings?, description?, completeAfterMs? }'
  check(what, [[isObject(scan), spec]])
  const {
    status,
    description,
    shape,
    findings = [],
    completeAfterMs
  } = /** @type {ScanSpec} */ (scan)
  const carries = Object.values(FINDINGS_STATUS).includes(status)
  check(what, [
    [shape === 'basic' || shape === 'enhanced', `shape must be 'basic' or 'enhanced'`],
    [SCAN_STATUSES.includes(status), `status must be one of ${SCAN_STATUSES.join(', ')}`],
    [!carries || status === FINDINGS_STATUS[shape], `${status} is not a ${shape} scan status`],
    [
      Array.isArray(findings) && (carries || findings.length === 0),
      `findings must be a list, empty unless the status is ${FINDINGS_STATUS[shape]}`
    ],
    [optionalText(description), 'description must be a non-empty string'],
    [isDelay(completeAfterMs), 'completeAfterMs must be ms >= 0']
  ])
  /** @type {Record<string, number>} */
  const counts = {}
  const wire = findings.map((finding, index) => {
    const at = `${what}: findings[${index}]`
    check(at, [
      [isObject(finding) && typeof finding.id === 'string' && finding.id !== '', 'needs an id']
    ])
    const { fixAvailable, status: state, fixedInVersion } = finding
    check(at, [
      [SEVERITIES.includes(finding.severity), `severity must be one of ${SEVERITIES.join(', ')}`],
      .../** @type {const} */ (['package', 'packageVersion', 'fixedInVersion']).map(
        (key) =>
          /** @type {[unknown, string]} */ ([
            optionalText(finding[key]),
            `${key} must be a non-empty string`
          ])
      ),
      [
        fixAvailable === undefined || FIX_AVAILABLE.includes(fixAvailable),
        'fixAvailable must be YES, NO or PARTIAL'
      ],
      [
        state === undefined || FINDING_STATUSES.includes(state),
        'status must be ACTIVE, SUPPRESSED or CLOSED'
      ],
      [
        shape === 'enhanced' || [fixAvailable, state, fixedInVersion].every((v) => v === undefined),
        'fixAvailable, status and fixedInVersion belong to enhanced findings'
      ]
    ])
    counts[finding.severity] = (counts[finding.severity] ?? 0) + 1
    const arnSeed = `${repositoryName}\u0000${digest}\u0000${index}\u0000${finding.id}`
    return wireFinding(shape, finding, arnSeed)
  })
  const completeAt = Date.now() + (completeAfterMs ?? 0)
  return { status, description, shape, findings: wire, counts, completeAt }
}

/**
 * Check control.setSigning statuses and record them, as of now.
 * @param {unknown} statuses
 * @returns {RecordedSigning[]}
 */
export function recordSigning(statuses) {
  check('setSigning', [[Array.isArray(statuses), 'statuses must be a list (empty: never signed)']])
  return /** @type {unknown[]} */ (statuses).map((spec, index) => {
    const at = `setSigning: statuses[${index}]`
    const fields =
      'pass { signingProfileArn, status, failureCode?, failureReason?, completeAfterMs? }'
    check(at, [[isObject(spec), fields]])
    const { signingProfileArn, status, failureCode, failureReason, completeAfterMs } =
      /** @type {SigningSpec} */ (spec)
    check(at, [
      [
        typeof signingProfileArn === 'string' && signingProfileArn !== '',
        'needs a signingProfileArn'
      ],
      [SIGNING_STATUSES.includes(status), `status must be one of ${SIGNING_STATUSES.join(', ')}`],
      [
        optionalText(failureCode) && optionalText(failureReason),
        'failureCode and failureReason must be non-empty strings'
      ],
      [
        status === 'FAILED' || (failureCode ?? failureReason) === undefined,
        'only a FAILED entry has a failureCode or failureReason'
      ],
      [isDelay(completeAfterMs), 'completeAfterMs must be ms >= 0'],
      [
        status === 'IN_PROGRESS' || completeAfterMs === undefined,
        'only an IN_PROGRESS entry can complete later'
      ]
    ])
    const entry = {
      signingProfileArn,
      status,
      ...(failureCode !== undefined && { failureCode }),
      ...(failureReason !== undefined && { failureReason })
    }
    const completeAt = completeAfterMs === undefined ? undefined : Date.now() + completeAfterMs
    return { entry, completeAt }
  })
}

/**
 * @param {(input: Record<string, any>) => import('./repositories.mjs').StoredRepository} repositoryFor
 * @param {ReturnType<typeof import('./protocol.mjs').createPager>} paginate
 */
export function createScanningOperations(repositoryFor, paginate) {
  /** @satisfies {Record<string, import('./protocol.mjs').Operation>} */
  const operations = {
    DescribeImageScanFindings(input) {
      const repository = repositoryFor(input)
      const { image, answer } = namedImage(repository, input)
      const archived = statusOf(image) !== 'ACTIVE'
      const scan = archived ? undefined : image.scan
      if (!archived && !scan) {
        const { imageDigest, imageTag } = input.imageId
        throw new EcrError(
          'ScanNotFoundException',
          `Image scan does not exist for the image with '{imageDigest:'${imageDigest ?? 'null'}', imageTag:'${imageTag ?? 'null'}'}' in the repository with name '${repository.name}' in the registry with id '${ACCOUNT_ID}'`
        )
      }
      const done = scan !== undefined && Date.now() >= scan.completeAt
      const status = archived ? 'IMAGE_ARCHIVED' : done ? scan.status : 'IN_PROGRESS'
      const listing = done && status === FINDINGS_STATUS[scan.shape] ? scan : undefined
      /** @type {{ key: Key, value: Record<string, unknown> }[]} */
      const entries = (listing?.findings ?? []).map((value, index) => ({ key: [index, ''], value }))
      const scope = { op: 'DescribeImageScanFindings', repo: repository.name, digest: image.digest }
      const { page, nextToken } = paginate(input, scope, entries)
      const description =
        (done && scan.description) || DESCRIPTIONS[/** @type {keyof DESCRIPTIONS} */ (status)]
      return {
        ...answer,
        imageScanStatus: { status, description },
        ...(listing && {
          imageScanFindings: {
            imageScanCompletedAt: listing.completeAt / 1000,
            vulnerabilitySourceUpdatedAt: listing.completeAt / 1000,
            findingSeverityCounts: listing.counts,
            [listing.shape === 'basic' ? 'findings' : 'enhancedFindings']: page
          }
        }),
        ...(nextToken !== undefined && { nextToken })
      }
    },

    DescribeImageSigningStatus(input) {
      const repository = repositoryFor(input)
      const { image, answer } = namedImage(repository, input)
      const now = Date.now()
      const signingStatuses = (image.signing ?? []).map(({ entry, completeAt }) =>
        completeAt !== undefined && now >= completeAt ? { ...entry, status: 'COMPLETE' } : entry
      )
      return { ...answer, signingStatuses }
    }
  }
  return operations
}
