/** The scan and signature gates' rules, without I/O: what ECR's answers mean for a pointer's move. */
import { say, type Messages } from './messages.js'
import { cosignTag } from './tags.js'
import { indexEntries, isIndex, shortDigest, type Manifest } from './model.js'

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const
export type Severity = (typeof SEVERITIES)[number]
export const SIGNATURE_MODES = ['off', 'managed', 'cosign'] as const
export type SignatureMode = (typeof SIGNATURE_MODES)[number]

export interface GateSettings {
  /** Findings at or above this severity refuse the move. */
  readonly failOnSeverity: 'off' | Severity
  /** An image without a finished scan is refused. */
  readonly requireScan: boolean
  /** Finding ids (CVE ids) the scan gate does not count. */
  readonly ignoreFindings: readonly string[]
  readonly requireSignature: SignatureMode
}

export const scanGateOn = ({ failOnSeverity, requireScan }: GateSettings): boolean =>
  failOnSeverity !== 'off' || requireScan

/** One vulnerability, from basic scanning's `findings` or enhanced scanning's `enhancedFindings`. */
export interface Finding {
  readonly id: string
  readonly severity: string
  readonly package?: string
  /** Enhanced scanning only: YES, NO or PARTIAL. */
  readonly fixAvailable?: string
  /** False for an enhanced finding Inspector has suppressed or closed. */
  readonly open: boolean
}

export interface ScanReport {
  readonly status: string
  readonly description?: string
  readonly findings: readonly Finding[]
}

/** What ECR managed signing says for one signing profile. */
export interface SigningState {
  readonly profile?: string
  readonly status: string
  readonly reason?: string
}

/** A pointer move the gates look at: every guarded tag a repository's plan writes, and the image. */
export interface GatedMove {
  readonly repository: string
  readonly tags: readonly string[]
  readonly image: Manifest
}

/** An image the scan gate reads: the image itself, or each platform image of an index. */
export interface ScannedImage {
  readonly digest: string
  readonly platform?: string
}

export interface ScanVerdict {
  readonly threshold: 'off' | Severity
  readonly images: readonly (ScannedImage & { readonly status: string })[]
  /** Open findings not ignored, by severity, each vulnerability of a package counted once. */
  readonly counts: Readonly<Record<string, number>>
  /** The worst findings at or above the threshold. */
  readonly top: readonly Finding[]
  /** Ignored ids that were found. */
  readonly ignored: readonly string[]
  readonly problems: readonly string[]
}

export interface SignatureVerdict {
  readonly mode: Exclude<SignatureMode, 'off'>
  /** COMPLETE, IN_PROGRESS, FAILED or UNSIGNED (managed); SIGNED or UNSIGNED (cosign). */
  readonly status: string
  /** The signing profile, the signature tag, or why it failed. */
  readonly detail?: string
  readonly problems: readonly string[]
}

/** A scan that has findings to judge: basic scanning's COMPLETE, or continuous enhanced scanning's ACTIVE. */
const FINISHED = ['COMPLETE', 'ACTIVE']
const TOP_FINDINGS = 5
const rank = (severity: string): number => {
  const index = (SEVERITIES as readonly string[]).indexOf(severity)
  return index < 0 ? 0 : SEVERITIES.length - index
}

/**
 * The images a scan covers: an index holds no layers, so its platform images are scanned; the
 * attestation manifests BuildKit adds (platform unknown/unknown) are not images to run.
 */
export function scannedImages(image: Manifest): ScannedImage[] {
  if (!isIndex(image.mediaType)) return [{ digest: image.digest }]
  return indexEntries(image).flatMap(({ digest, platform, annotations }) => {
    if (annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') return []
    if (platform?.os === 'unknown') return []
    const name = platform?.os
      ? [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/')
      : undefined
    return [{ digest, ...(name && { platform: name }) }]
  })
}

const moveName = ({ repository, tags, image }: GatedMove): string =>
  `${repository}:${tags.join(', ')} to ${shortDigest(image.digest)}`

const imageName = ({ digest, platform }: ScannedImage, move: GatedMove): string =>
  digest === move.image.digest
    ? 'the image'
    : `platform image ${platform ?? '(no platform)'} ${shortDigest(digest)}`

/** What the scans found: each image's scan status, and its open findings, the ignored ones apart. */
export function tallyScans(
  scans: readonly (ScannedImage & { readonly report?: ScanReport })[],
  ignoreFindings: readonly string[]
) {
  const found = new Map<string, Finding>()
  for (const finding of scans.flatMap(({ report }) => report?.findings ?? [])) {
    if (finding.open) found.set(`${finding.id} ${finding.package ?? ''}`, finding)
  }
  const ignore = new Set(ignoreFindings)
  const counted = [...found.values()].filter(({ id }) => !ignore.has(id))
  const counts: Record<string, number> = {}
  for (const { severity } of counted) counts[severity] = (counts[severity] ?? 0) + 1
  return {
    images: scans.map(({ digest, platform, report }) => ({
      digest,
      ...(platform && { platform }),
      status: report?.status ?? 'NOT SCANNED'
    })),
    counted,
    counts,
    ignored: [...new Set([...found.values()].map(({ id }) => id).filter((id) => ignore.has(id)))]
  }
}

/** Refuses the move when a scanned image has findings at or above the threshold, or no finished scan when one is required. */
export function judgeScan(
  move: GatedMove,
  scans: readonly (ScannedImage & { readonly report?: ScanReport })[],
  settings: GateSettings,
  messages: Messages
): ScanVerdict {
  const threshold = settings.failOnSeverity
  const refused = `cannot move ${moveName(move)}`
  const scanOff = say(messages, { kind: 'set', name: 'require-scan', value: 'false' })
  const problems: string[] = []
  if (settings.requireScan && scans.length === 0)
    problems.push(
      `${refused}: the index holds no platform image to scan, so nothing vouches for it; ${scanOff} to let it through`
    )
  for (const scan of scans) {
    const { report } = scan
    if (!settings.requireScan || (report && FINISHED.includes(report.status))) continue
    const why = report
      ? `has no finished scan (status ${report.status}${report.description ? `: ${report.description}` : ''})`
      : 'was never scanned (ECR has no scan findings for it)'
    problems.push(
      `${refused}: ${imageName(scan, move)} ${why}; scan it first, or ${scanOff} to let an unscanned image through`
    )
  }
  const { images, counted, counts, ignored } = tallyScans(scans, settings.ignoreFindings)
  const blocking =
    threshold === 'off'
      ? []
      : counted
          .filter(({ severity }) => rank(severity) >= rank(threshold))
          .sort((a, b) => rank(b.severity) - rank(a.severity) || a.id.localeCompare(b.id))
  if (blocking.length > 0) {
    problems.push(
      `${refused}: ${blocking.length} finding${blocking.length === 1 ? '' : 's'} at or above ${threshold} (${describeCounts(counts)}): ${blocking
        .slice(0, TOP_FINDINGS)
        .map(describeFinding)
        .join(
          '; '
        )}${blocking.length > TOP_FINDINGS ? `; and ${blocking.length - TOP_FINDINGS} more` : ''}. Fix and rebuild, or name the accepted ones in ignore-findings`
    )
  }
  return { threshold, images, counts, top: blocking.slice(0, TOP_FINDINGS), ignored, problems }
}

/** `CRITICAL 1, HIGH 2`, worst first. */
export const describeCounts = (counts: Readonly<Record<string, number>>): string =>
  Object.entries(counts)
    .sort(([a], [b]) => rank(b) - rank(a) || a.localeCompare(b))
    .map(([severity, count]) => `${severity} ${count}`)
    .join(', ') || 'none'

export const describeFinding = ({ id, severity, package: name, fixAvailable }: Finding): string =>
  `${id}${name ? ` in ${name}` : ''} (${severity}${fixAvailable ? `, fix available: ${fixAvailable}` : ''})`

/** Managed signing is still at work on the image: no profile has signed it yet, and one is signing. */
export const signingPending = (states: readonly SigningState[]): boolean =>
  !states.some(({ status }) => status === 'COMPLETE') &&
  states.some(({ status }) => status === 'IN_PROGRESS')

const signatureOff = (messages: Messages): string =>
  say(messages, { kind: 'set', name: 'require-signature', value: 'off' })

/** ECR managed signing: at least one signing profile must have signed the digest. */
export function judgeManagedSignature(
  move: GatedMove,
  states: readonly SigningState[],
  waitedSeconds: number,
  messages: Messages
): SignatureVerdict {
  const refused = `cannot move ${moveName(move)}`
  const complete = states.find(({ status }) => status === 'COMPLETE')
  if (complete)
    return {
      mode: 'managed',
      status: 'COMPLETE',
      ...(complete.profile && { detail: complete.profile }),
      problems: []
    }
  if (signingPending(states))
    return {
      mode: 'managed',
      status: 'IN_PROGRESS',
      problems: [
        `${refused}: ECR managed signing is still IN_PROGRESS after ${waitedSeconds} s; run again once it is COMPLETE`
      ]
    }
  const failed = states.filter(({ status }) => status === 'FAILED')
  if (failed.length > 0) {
    const reasons = failed.map(
      ({ profile, reason }) => `${profile ?? 'a signing profile'}: ${reason ?? 'no reason given'}`
    )
    return {
      mode: 'managed',
      status: 'FAILED',
      detail: reasons.join('; '),
      problems: [`${refused}: ECR managed signing FAILED (${reasons.join('; ')})`]
    }
  }
  return {
    mode: 'managed',
    status: 'UNSIGNED',
    problems: [
      `${refused}: ECR managed signing has not signed it (no signing status): set a signing configuration for the repository (PutSigningConfiguration) and push the image again, or ${signatureOff(messages)}`
    ]
  }
}

/** cosign: the signature tag of the digest must exist in the repository. */
export function judgeCosignSignature(
  move: GatedMove,
  signed: boolean,
  messages: Messages
): SignatureVerdict {
  const tag = cosignTag(move.image.digest)
  return {
    mode: 'cosign',
    status: signed ? 'SIGNED' : 'UNSIGNED',
    detail: tag,
    problems: signed
      ? []
      : [
          `cannot move ${moveName(move)}: it has no cosign signature (no tag ${tag} in ${move.repository}): sign it with cosign sign <repository uri>@${move.image.digest}, or ${signatureOff(messages)}`
        ]
  }
}
