import { ACTION_MESSAGES } from '../../../src/action/messages.js'
import {
  describeCounts,
  judgeCosignSignature,
  judgeManagedSignature,
  judgeScan,
  scanGateOn,
  scannedImages,
  signingPending,
  type Finding,
  type GateSettings,
  type GatedMove,
  type ScanReport,
  type ScannedImage,
  type SigningState
} from '../../../src/core/gates.js'
import { shortDigest, type Manifest } from '../../../src/core/model.js'
import { MEDIA_TYPES } from '../../support/oci.mjs'
import { buildKitIndex, fakeDigests, gateSettings, manifest, rows } from '../../support/builders.js'

const [plain, index, amd64, arm64, attestation, other] = fakeDigests('a', 'b', 'c', 'd', 'e', 'f')

const image = manifest('a')
const multiArch = buildKitIndex({ index, amd64, arm64, attestation })

const move: GatedMove = { repository: 'app', tags: ['production'], image }
const indexMove: GatedMove = { repository: 'app', tags: ['production'], image: multiArch }
const refused = `cannot move app:production to ${shortDigest(plain)}`

const finding = (id: string, severity: string, extra: Partial<Finding> = {}): Finding => ({
  id,
  severity,
  open: true,
  ...extra
})
const complete = (...findings: Finding[]): ScanReport => ({ status: 'COMPLETE', findings })
/** The plain image, scanned with these findings. */
const scanOf = (...findings: Finding[]) => [{ digest: plain, report: complete(...findings) }]

/** An index of these entries, OCI unless told. */
const indexOf = (entries?: unknown[], mediaType: string = MEDIA_TYPES.ociIndex): Manifest => ({
  digest: index,
  mediaType,
  body: JSON.stringify(entries ? { schemaVersion: 2, mediaType, manifests: entries } : {})
})

describe('scannedImages', () => {
  it.each<[string, Manifest, ScannedImage[]]>([
    ['an OCI image manifest is itself', image, [{ digest: plain }]],
    [
      'a Docker image manifest is itself',
      { digest: plain, mediaType: MEDIA_TYPES.dockerManifest, body: '{}' },
      [{ digest: plain }]
    ],
    [
      'an OCI index yields its platform images by os/arch, not the attestation manifest',
      multiArch,
      [
        { digest: amd64, platform: 'linux/amd64' },
        { digest: arm64, platform: 'linux/arm64' }
      ]
    ],
    [
      'a Docker manifest list yields its platform images',
      indexOf(
        [
          { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' },
          { os: 'linux', architecture: 'arm', variant: 'v7' }
        ].map((platform, at) => ({
          mediaType: MEDIA_TYPES.dockerManifest,
          digest: [amd64, arm64][at],
          platform
        })),
        MEDIA_TYPES.dockerManifestList
      ),
      [
        { digest: amd64, platform: 'windows/amd64' },
        { digest: arm64, platform: 'linux/arm/v7' }
      ]
    ],
    [
      'an entry without a platform is named by none',
      indexOf([{ digest: amd64, platform: {} }]),
      [{ digest: amd64 }]
    ],
    ['an index without manifests yields nothing', indexOf(), []]
  ])('%s', (_name, manifest, images) => {
    expect(scannedImages(manifest)).toEqual(images)
  })

  it.each<[string, Record<string, unknown>]>([
    [
      'the attestation annotation, whatever the platform',
      {
        digest: attestation,
        platform: { os: 'linux', architecture: 'amd64' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest' }
      }
    ],
    ['platform unknown/unknown', { digest: attestation, platform: { os: 'unknown' } }],
    ['no digest', { platform: { os: 'linux', architecture: 'amd64' } }],
    ['a digest that is not a string', { digest: 5, platform: { os: 'linux' } }]
  ])('skips an entry with %s', (_name, entry) => {
    expect(scannedImages(indexOf([entry, { digest: amd64 }]))).toEqual([{ digest: amd64 }])
  })
})

describe('scanGateOn', () => {
  it.each<[GateSettings['failOnSeverity'], boolean, boolean]>([
    ['off', false, false],
    ['off', true, true],
    ['HIGH', false, true],
    ['LOW', true, true]
  ])('fail-on-severity %s, require-scan %s: %s', (failOnSeverity, requireScan, on) => {
    expect(scanGateOn(gateSettings({ failOnSeverity, requireScan }))).toBe(on)
  })
})

describe('judgeScan: thresholds', () => {
  it.each<[GateSettings['failOnSeverity'], string, boolean]>([
    ['HIGH', 'CRITICAL', true],
    ['HIGH', 'HIGH', true],
    ['HIGH', 'MEDIUM', false],
    ['HIGH', 'LOW', false],
    ['CRITICAL', 'CRITICAL', true],
    ['CRITICAL', 'HIGH', false],
    ['MEDIUM', 'MEDIUM', true],
    ['MEDIUM', 'LOW', false],
    ['LOW', 'LOW', true],
    ['LOW', 'MEDIUM', true],
    ['LOW', 'INFORMATIONAL', false],
    ['LOW', 'UNDEFINED', false],
    ['LOW', 'UNTRIAGED', false],
    ['off', 'CRITICAL', false]
  ])('at %s, a %s finding refuses: %s', (failOnSeverity, severity, refuses) => {
    const verdict = judgeScan(
      move,
      scanOf(finding('CVE-2024-0001', severity)),
      gateSettings({ failOnSeverity }),
      ACTION_MESSAGES
    )
    expect(verdict.threshold).toBe(failOnSeverity)
    expect(verdict.counts).toEqual({ [severity]: 1 })
    expect(verdict.problems).toEqual(
      refuses
        ? [
            `${refused}: 1 finding at or above ${failOnSeverity} (${severity} 1): CVE-2024-0001 (${severity}). Fix and rebuild, or name the accepted ones in ignore-findings`
          ]
        : []
    )
    expect(verdict.top).toEqual(refuses ? [finding('CVE-2024-0001', severity)] : [])
  })

  it('does not count ignored ids, and lists the ignored ones that were found', () => {
    const verdict = judgeScan(
      move,
      scanOf(
        finding('CVE-2024-0001', 'CRITICAL', { package: 'openssl' }),
        finding('CVE-2024-0002', 'HIGH', { package: 'zlib' }),
        finding('CVE-2024-0001', 'CRITICAL', { package: 'libssl3' })
      ),
      gateSettings({ ignoreFindings: ['CVE-2024-0001', 'CVE-2024-9999'] }),
      ACTION_MESSAGES
    )
    expect(verdict.counts).toEqual({ HIGH: 1 })
    expect(verdict.ignored).toEqual(['CVE-2024-0001'])
    expect(verdict.top).toEqual([finding('CVE-2024-0002', 'HIGH', { package: 'zlib' })])
    expect(verdict.problems).toEqual([
      `${refused}: 1 finding at or above HIGH (HIGH 1): CVE-2024-0002 in zlib (HIGH). Fix and rebuild, or name the accepted ones in ignore-findings`
    ])
  })

  it('lets the move through when every blocking finding is ignored', () => {
    const verdict = judgeScan(
      move,
      scanOf(finding('CVE-2024-0001', 'CRITICAL'), finding('CVE-2024-0003', 'LOW')),
      gateSettings({ ignoreFindings: ['CVE-2024-0001'] }),
      ACTION_MESSAGES
    )
    expect(verdict.problems).toEqual([])
    expect(verdict.counts).toEqual({ LOW: 1 })
    expect(verdict.ignored).toEqual(['CVE-2024-0001'])
  })

  it('does not count a suppressed or closed enhanced finding (open: false), nor list it as ignored', () => {
    const verdict = judgeScan(
      move,
      scanOf(
        finding('CVE-2024-0001', 'CRITICAL', { package: 'openssl', open: false }),
        finding('CVE-2024-0002', 'HIGH', { open: false })
      ),
      gateSettings({ ignoreFindings: ['CVE-2024-0002'] }),
      ACTION_MESSAGES
    )
    expect(verdict).toMatchObject({ counts: {}, top: [], ignored: [], problems: [] })
  })

  it('counts the same vulnerability of the same package on two platform images once', () => {
    const openssl = finding('CVE-2024-0001', 'CRITICAL', { package: 'openssl' })
    const verdict = judgeScan(
      indexMove,
      [
        { digest: amd64, platform: 'linux/amd64', report: complete(openssl) },
        {
          digest: arm64,
          platform: 'linux/arm64',
          report: complete(openssl, finding('CVE-2024-0001', 'CRITICAL', { package: 'libssl3' }))
        }
      ],
      gateSettings(),
      ACTION_MESSAGES
    )
    // Once per package: openssl on both images is one, libssl3 another.
    expect(verdict.counts).toEqual({ CRITICAL: 2 })
    expect(verdict.problems).toHaveLength(1)
    expect(verdict.problems[0]).toContain('2 findings at or above HIGH (CRITICAL 2)')
  })

  it('names the counts per severity and the five worst findings, then how many more', () => {
    const findings = [
      finding('CVE-2024-0007', 'HIGH', { package: 'curl' }),
      finding('CVE-2024-0008', 'MEDIUM', { package: 'bash' }),
      finding('CVE-2024-0003', 'HIGH', { package: 'glibc', fixAvailable: 'PARTIAL' }),
      finding('CVE-2024-0002', 'CRITICAL', { package: 'zlib' }),
      finding('CVE-2024-0005', 'HIGH', { fixAvailable: 'NO' }),
      finding('CVE-2024-0004', 'HIGH', { package: 'libxml2', fixAvailable: 'NO' }),
      finding('CVE-2024-0001', 'CRITICAL', { package: 'openssl', fixAvailable: 'YES' }),
      finding('CVE-2024-0006', 'HIGH', { package: 'tar' }),
      finding('CVE-2024-0009', 'INFORMATIONAL')
    ]
    const verdict = judgeScan(move, scanOf(...findings), gateSettings(), ACTION_MESSAGES)
    expect(verdict.counts).toEqual({ CRITICAL: 2, HIGH: 5, MEDIUM: 1, INFORMATIONAL: 1 })
    expect(verdict.top.map(({ id }) => id)).toEqual([
      'CVE-2024-0001',
      'CVE-2024-0002',
      'CVE-2024-0003',
      'CVE-2024-0004',
      'CVE-2024-0005'
    ])
    expect(verdict.problems).toEqual([
      `${refused}: 7 findings at or above HIGH (CRITICAL 2, HIGH 5, MEDIUM 1, INFORMATIONAL 1): ` +
        'CVE-2024-0001 in openssl (CRITICAL, fix available: YES); ' +
        'CVE-2024-0002 in zlib (CRITICAL); ' +
        'CVE-2024-0003 in glibc (HIGH, fix available: PARTIAL); ' +
        'CVE-2024-0004 in libxml2 (HIGH, fix available: NO); ' +
        'CVE-2024-0005 (HIGH, fix available: NO); and 2 more. ' +
        'Fix and rebuild, or name the accepted ones in ignore-findings'
    ])
  })

  it('says no "more" when exactly five findings block', () => {
    const five = [1, 2, 3, 4, 5].map((n) => finding(`CVE-2024-000${n}`, 'CRITICAL'))
    const [problem] = judgeScan(move, scanOf(...five), gateSettings(), ACTION_MESSAGES).problems
    expect(problem).toContain('5 findings at or above HIGH (CRITICAL 5): ')
    expect(problem).toContain('CVE-2024-0005 (CRITICAL). Fix and rebuild')
    expect(problem).not.toContain('more')
  })
})

describe('judgeScan: scan status', () => {
  const why = (text: string) =>
    `${refused}: the image ${text}; scan it first, or set require-scan: false to let an unscanned image through`

  /** Rows `name | status[: description] | why it refuses`; `-` is no report, or no refusal. */
  it.each(
    rows(
      'COMPLETE (basic scanning) | COMPLETE | -',
      'ACTIVE (continuous enhanced scanning) | ACTIVE | -',
      'IN_PROGRESS | IN_PROGRESS | has no finished scan (status IN_PROGRESS)',
      'FAILED, with its description | FAILED: UnsupportedImageError: The operating system is not supported | has no finished scan (status FAILED: UnsupportedImageError: The operating system is not supported)',
      'no report | - | was never scanned (ECR has no scan findings for it)'
    )
  )('%s', (_name, written, problem) => {
    const [status = '', description] = written.split(/: (.*)/)
    const report = { status, ...(description && { description }), findings: [] }
    const scans = [{ digest: plain, ...(status !== '-' && { report }) }]
    const required = judgeScan(move, scans, gateSettings(), ACTION_MESSAGES)
    expect(required.problems).toEqual(problem === '-' ? [] : [why(problem)])
    expect(required.images).toEqual([
      { digest: plain, status: status === '-' ? 'NOT SCANNED' : status }
    ])
    // Without require-scan, a scan that did not finish lets the move through.
    expect(
      judgeScan(move, scans, gateSettings({ requireScan: false }), ACTION_MESSAGES).problems
    ).toEqual([])
    // With no severity limit, require-scan alone refuses it the same.
    expect(
      judgeScan(move, scans, gateSettings({ failOnSeverity: 'off' }), ACTION_MESSAGES).problems
    ).toEqual(required.problems)
  })

  it('names a platform image by its platform', () => {
    const verdict = judgeScan(
      indexMove,
      [
        { digest: amd64, platform: 'linux/amd64', report: complete() },
        { digest: arm64, platform: 'linux/arm64' },
        { digest: other, report: { status: 'IN_PROGRESS', findings: [] } }
      ],
      gateSettings(),
      ACTION_MESSAGES
    )
    const moved = `cannot move app:production to ${shortDigest(index)}`
    const remedy = 'scan it first, or set require-scan: false to let an unscanned image through'
    expect(verdict.problems).toEqual([
      `${moved}: platform image linux/arm64 ${shortDigest(arm64)} was never scanned (ECR has no scan findings for it); ${remedy}`,
      `${moved}: platform image (no platform) ${shortDigest(other)} has no finished scan (status IN_PROGRESS); ${remedy}`
    ])
    expect(verdict.images).toEqual([
      { digest: amd64, platform: 'linux/amd64', status: 'COMPLETE' },
      { digest: arm64, platform: 'linux/arm64', status: 'NOT SCANNED' },
      { digest: other, status: 'IN_PROGRESS' }
    ])
  })

  it('refuses an index with no platform image to scan while a scan is required', () => {
    const refused = judgeScan(indexMove, [], gateSettings(), ACTION_MESSAGES)
    expect(refused.problems).toEqual([
      `cannot move app:production to ${shortDigest(index)}: the index holds no platform image to scan, so nothing vouches for it; set require-scan: false to let it through`
    ])
    expect(
      judgeScan(indexMove, [], gateSettings({ requireScan: false }), ACTION_MESSAGES).problems
    ).toEqual([])
  })
})

describe('describeCounts', () => {
  it.each<[Record<string, number>, string]>([
    [{}, 'none'],
    [{ HIGH: 2 }, 'HIGH 2'],
    [
      { LOW: 1, UNTRIAGED: 1, CRITICAL: 2, INFORMATIONAL: 3, MEDIUM: 4, HIGH: 1 },
      'CRITICAL 2, HIGH 1, MEDIUM 4, LOW 1, INFORMATIONAL 3, UNTRIAGED 1'
    ]
  ])('%j reads %j, worst first', (counts, text) => {
    expect(describeCounts(counts)).toBe(text)
  })
})

describe('managed signing', () => {
  const arn = (name: string) => `arn:aws:signer:us-east-1:123456789012:/signing-profiles/${name}`
  /** Signing states written `profile STATUS [reason], …`, `-` for no profile. */
  const statesOf = (text: string): SigningState[] =>
    text
      .split(', ')
      .filter(Boolean)
      .map((state) => {
        const [profile = '', status = '', ...reason] = state.split(' ')
        return {
          ...(profile !== '-' && { profile: arn(profile) }),
          status: status as SigningState['status'],
          ...(reason.length > 0 && { reason: reason.join(' ') })
        }
      })

  it.each<[string, boolean]>([
    ['', false],
    ['- IN_PROGRESS', true],
    ['- FAILED, - IN_PROGRESS', true],
    ['- COMPLETE, - IN_PROGRESS', false],
    ['- FAILED', false]
  ])('signingPending(%j) is %s', (states, pending) => {
    expect(signingPending(statesOf(states))).toBe(pending)
  })

  const reasons = `${arn('ci')}: signing profile revoked; a signing profile: no reason given`
  /** Rows `name | states | seconds waited | status | detail | why it refuses`; `-` is none. */
  it.each(
    rows(
      `one profile COMPLETE passes, naming the profile | ci COMPLETE | 0 | COMPLETE | ${arn('ci')} | -`,
      `one of several COMPLETE passes, naming the profile | release FAILED key revoked, ci COMPLETE, - IN_PROGRESS | 0 | COMPLETE | ${arn('ci')} | -`,
      'a COMPLETE status without a profile passes, with no detail | - COMPLETE | 0 | COMPLETE | - | -',
      `every profile FAILED refuses, with the reasons | ci FAILED signing profile revoked, - FAILED | 0 | FAILED | ${reasons} | FAILED (${reasons})`,
      'a signature still IN_PROGRESS after the wait refuses, naming the seconds | ci IN_PROGRESS, release FAILED | 300 | IN_PROGRESS | - | is still IN_PROGRESS after 300 s; run again once it is COMPLETE',
      'an image with no signing status is refused as unsigned |  | 0 | UNSIGNED | - | has not signed it (no signing status): set a signing configuration for the repository (PutSigningConfiguration) and push the image again, or set require-signature: off'
    )
  )('%s', (_name, states, waited, status, detail, problem) => {
    expect(judgeManagedSignature(move, statesOf(states), Number(waited), ACTION_MESSAGES)).toEqual({
      mode: 'managed',
      status,
      ...(detail !== '-' && { detail }),
      problems: problem === '-' ? [] : [`${refused}: ECR managed signing ${problem}`]
    })
  })
})

describe('cosign', () => {
  const sig = `sha256-${'a'.repeat(64)}.sig`
  it.each([
    ['passes when the signature tag is there', true, 'SIGNED', []],
    [
      'refuses when it is absent, naming the tag and how to sign',
      false,
      'UNSIGNED',
      [
        `${refused}: it has no cosign signature (no tag ${sig} in app): sign it with cosign sign <repository uri>@${plain}, or set require-signature: off`
      ]
    ]
  ])('%s', (_name, signed, status, problems) => {
    expect(judgeCosignSignature(move, signed, ACTION_MESSAGES)).toEqual({
      mode: 'cosign',
      status,
      detail: sig,
      problems
    })
  })

  it('names every guarded tag of the move', () => {
    const guarded = { ...move, tags: ['production', 'stable'] }
    const [problem] = judgeCosignSignature(guarded, false, ACTION_MESSAGES).problems
    expect(problem).toMatch(/^cannot move app:production, stable to sha256:aaaaaaaaaaaa: /)
  })
})
