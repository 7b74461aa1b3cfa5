import { builtInConvention } from '../src/core/conventions.js'
import {
  checkGates,
  gateProblems,
  type GateOutcome,
  type GateRegistry
} from '../src/run/gatekeeper.js'
import {
  cosignTag,
  type GateSettings,
  type ScanReport,
  type SigningState
} from '../src/core/gates.js'
import { shortDigest, describeRef, type ImageRef, type Manifest } from '../src/core/model.js'
import type { RepositoryPlan, Step } from '../src/core/plan.js'
import { problemsOf } from '../src/core/problems.js'
import { buildKitIndex, fakeDigest, fakeEffects } from './support/harness.js'
import { MEDIA_TYPES } from './support/oci.mjs'

const environments = builtInConvention('environments')
const channels = builtInConvention('channels')

const [plain, index, amd64, arm64, attestation, older] = ['a', 'b', 'c', 'd', 'e', 'f'].map(
  fakeDigest
) as [string, string, string, string, string, string]

const image: Manifest = {
  digest: plain,
  mediaType: MEDIA_TYPES.ociManifest,
  body: '{"schemaVersion":2}'
}
const before: Manifest = { digest: older, mediaType: MEDIA_TYPES.ociManifest, body: '{}' }
const multiArch = buildKitIndex({ index, amd64, arm64, attestation })

const write = (tag: string, to: Manifest, kind: Step['kind'] = 'forward'): Step => ({
  tag,
  kind,
  write: true,
  to
})
const hold = (tag: string, to?: Manifest): Step => ({
  tag,
  kind: 'forward',
  write: false,
  ...(to && { to }),
  note: 'already ahead'
})
const plan = (
  repository: string,
  source: Manifest,
  steps: Step[],
  extra: Partial<RepositoryPlan> = {}
): RepositoryPlan => ({
  repository,
  uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${repository}`,
  source,
  steps,
  ...extra
})
/** A release of `source` in `repository`: the version tag and the guarded production pointer. */
const release = (
  repository: string,
  source: Manifest = image,
  extra: Partial<RepositoryPlan> = {}
) =>
  plan(repository, source, [write('v1.0.0', source, 'version'), write('production', source)], extra)

const settings = (extra: Partial<GateSettings> = {}): GateSettings => ({
  failOnSeverity: 'HIGH',
  requireScan: true,
  ignoreFindings: [],
  requireSignature: 'off',
  ...extra
})
const OFF = settings({ failOnSeverity: 'off', requireScan: false })
const clean: ScanReport = { status: 'COMPLETE', findings: [] }

interface Registry {
  /** Scan reports by digest; a digest absent was never scanned. */
  scans?: Record<string, ScanReport>
  /** What each DescribeImageSigningStatus answers, in turn; the last answer repeats. */
  signing?: SigningState[][]
  /** Tags each repository has: repository → tag → manifest. */
  tags?: Record<string, Record<string, Manifest>>
  /** Repositories whose scan read fails. */
  failing?: string[]
}

/** The three reads the gates make, over a registry kept in memory, recording each call. */
function fakeReader({ scans = {}, signing = [[]], tags = {}, failing = [] }: Registry = {}) {
  const calls: string[] = []
  let signingCalls = 0
  const reader: GateRegistry = {
    async scanFindings(repository, scanned) {
      calls.push(`scan ${repository} ${shortDigest(scanned)}`)
      if (failing.includes(repository))
        throw new Error(`ecr:DescribeImageScanFindings on ${repository} failed`)
      return scans[scanned]
    },
    async signingStatuses(repository, signed) {
      calls.push(`signing ${repository} ${shortDigest(signed)}`)
      const answer = signing[Math.min(signingCalls, signing.length - 1)] ?? []
      signingCalls += 1
      return answer
    },
    async getManifests(repository, refs: readonly ImageRef[]) {
      calls.push(`get ${repository} ${refs.map(describeRef).join(',')}`)
      const held = tags[repository] ?? {}
      return new Map(
        refs.flatMap((ref) => {
          const found = 'tag' in ref ? held[ref.tag] : undefined
          return found ? [[describeRef(ref), found] as const] : []
        })
      )
    }
  }
  return { reader, calls, signingCalls: () => signingCalls }
}

const check = (
  reader: GateRegistry,
  plans: RepositoryPlan[],
  gateSettings: GateSettings,
  { convention = environments, effects = fakeEffects().effects } = {}
) => checkGates(reader, convention, plans, gateSettings, effects)

describe('checkGates: which moves are gated', () => {
  it('checks only plans that write a guarded tag, and only the guarded tags they write', async () => {
    const { reader, calls } = fakeReader({ scans: { [plain]: clean } })
    const outcomes = await check(
      reader,
      [
        release('api'),
        plan('web', image, [write('latest', image)]),
        plan('worker', image, [write('v1.0.0', image, 'version'), hold('production', before)])
      ],
      settings()
    )
    expect(outcomes.map(({ repository, tags }) => [repository, tags])).toEqual([
      ['api', ['production']]
    ])
    expect(calls).toEqual([`scan api ${shortDigest(plain)}`])
  })

  it('follows the convention: channels guards stable, not production', async () => {
    const { reader, calls } = fakeReader({ scans: { [plain]: clean } })
    const outcomes = await check(
      reader,
      [
        plan('api', image, [
          write('1.0.0', image, 'version'),
          write('stable', image),
          write('latest', image, 'highest')
        ]),
        release('web')
      ],
      settings(),
      { convention: channels }
    )
    expect(outcomes.map(({ repository, tags }) => [repository, tags])).toEqual([
      ['api', ['stable']]
    ])
    expect(calls).toEqual([`scan api ${shortDigest(plain)}`])
  })

  it('skips a plan whose source is archived: it is judged once restored', async () => {
    const { reader, calls } = fakeReader()
    const outcomes = await check(
      reader,
      [
        release('api', image, {
          archived: 'ARCHIVED',
          tested: [{ pointer: 'production', by: 'staging' }]
        })
      ],
      settings({ requireSignature: 'managed' })
    )
    expect(outcomes).toEqual([])
    expect(calls).toEqual([])
  })

  it('gives a plan with only a tested pointer an outcome without scan or signature, reading nothing', async () => {
    const { reader, calls } = fakeReader()
    const tested = [{ pointer: 'production', by: 'staging' }]
    const outcomes = await check(
      reader,
      [plan('api', image, [write('canary', image)], { tested })],
      settings({ requireSignature: 'cosign' })
    )
    expect(outcomes).toEqual([{ repository: 'api', tags: [], image, tested }])
    expect(calls).toEqual([])
  })

  it('keeps the tested pointers of a guarded move next to its verdicts', async () => {
    const { reader } = fakeReader({ scans: { [plain]: clean } })
    const tested = [{ pointer: 'production', by: 'staging' }]
    const [outcome] = await check(reader, [release('api', image, { tested })], settings())
    expect(outcome?.tested).toEqual(tested)
    expect(outcome?.scan?.problems).toEqual([])
  })

  it('with both gates off, says which moves are guarded without reading anything', async () => {
    const { reader, calls } = fakeReader()
    const outcomes = await check(reader, [release('api')], OFF)
    expect(outcomes).toEqual([{ repository: 'api', tags: ['production'], image, tested: [] }])
    expect(calls).toEqual([])
  })
})

describe('checkGates: the scan gate', () => {
  it('refuses a guarded move to an image with a blocking finding, and gateProblems says so', async () => {
    const { reader } = fakeReader({
      scans: {
        [plain]: {
          status: 'COMPLETE',
          findings: [{ id: 'CVE-2024-0001', severity: 'CRITICAL', package: 'openssl', open: true }]
        }
      }
    })
    const outcomes = await check(reader, [release('api')], settings())
    expect(outcomes[0]?.signature).toBeUndefined()
    expect(outcomes[0]?.scan).toMatchObject({
      threshold: 'HIGH',
      images: [{ digest: plain, status: 'COMPLETE' }],
      counts: { CRITICAL: 1 }
    })
    expect(gateProblems(outcomes)).toEqual([
      `cannot move api:production to ${shortDigest(plain)}: 1 finding at or above HIGH (CRITICAL 1): CVE-2024-0001 in openssl (CRITICAL). Fix and rebuild, or name the accepted ones in ignore-findings`
    ])
  })

  it('scans each platform image of an index, not the index nor its attestation manifest', async () => {
    const { reader, calls } = fakeReader({ scans: { [amd64]: clean } })
    const [outcome] = await check(reader, [release('api', multiArch)], settings())
    expect(calls.sort()).toEqual([
      `scan api ${shortDigest(amd64)}`,
      `scan api ${shortDigest(arm64)}`
    ])
    expect(outcome?.scan?.images).toEqual([
      { digest: amd64, platform: 'linux/amd64', status: 'COMPLETE' },
      { digest: arm64, platform: 'linux/arm64', status: 'NOT SCANNED' }
    ])
    expect(outcome?.scan?.problems).toEqual([
      `cannot move api:production to ${shortDigest(index)}: platform image linux/arm64 ${shortDigest(arm64)} was never scanned (ECR has no scan findings for it); scan it first, or set require-scan: false to let an unscanned image through`
    ])
  })

  it('reports the failed reads of every repository, not only the first', async () => {
    const { reader } = fakeReader({ failing: ['api', 'web'] })
    const failure = await check(reader, [release('api'), release('web')], settings()).catch(
      (error: unknown) => error
    )
    expect(problemsOf(failure).map((error) => (error as Error).message)).toEqual([
      'ecr:DescribeImageScanFindings on api failed',
      'ecr:DescribeImageScanFindings on web failed'
    ])
  })
})

describe('checkGates: the signature gate', () => {
  const profile = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/ci'
  const managed = settings({
    failOnSeverity: 'off',
    requireScan: false,
    requireSignature: 'managed'
  })

  it('passes a signature that is COMPLETE at once, without waiting', async () => {
    const { reader, calls } = fakeReader({ signing: [[{ profile, status: 'COMPLETE' }]] })
    const { effects, sleeps } = fakeEffects()
    const [outcome] = await check(reader, [release('api')], managed, { effects })
    expect(outcome?.scan).toBeUndefined()
    expect(outcome?.signature).toEqual({
      mode: 'managed',
      status: 'COMPLETE',
      detail: profile,
      problems: []
    })
    expect(calls).toEqual([`signing api ${shortDigest(plain)}`])
    expect(sleeps).toEqual([])
  })

  it('polls a signature IN_PROGRESS until it is COMPLETE', async () => {
    const { reader, signingCalls } = fakeReader({
      signing: [
        [{ status: 'IN_PROGRESS' }],
        [{ status: 'IN_PROGRESS' }],
        [{ profile, status: 'COMPLETE' }]
      ]
    })
    const { effects, sleeps, logs, now } = fakeEffects()
    const [outcome] = await check(reader, [release('api')], managed, { effects })
    expect(signingCalls()).toBe(3)
    expect(sleeps).toEqual([2_000, 4_000])
    expect(now()).toBe(6_000)
    expect(logs).toEqual([
      'api: ECR managed signing is IN_PROGRESS, 0 s',
      'api: ECR managed signing is IN_PROGRESS, 2 s'
    ])
    expect(outcome?.signature).toMatchObject({ status: 'COMPLETE', problems: [] })
  })

  it('gives up on a signature still IN_PROGRESS after 5 minutes', async () => {
    const { reader, signingCalls } = fakeReader({ signing: [[{ profile, status: 'IN_PROGRESS' }]] })
    const { effects, sleeps, now } = fakeEffects()
    const outcomes = await check(reader, [release('api')], managed, { effects })
    // 2 + 4 + 8 + 16 s, then 30 s pauses up to 300 s: one read before, one after each pause.
    expect(sleeps).toEqual([2_000, 4_000, 8_000, 16_000, ...Array(9).fill(30_000)])
    expect(now()).toBe(300_000)
    expect(signingCalls()).toBe(1 + sleeps.length)
    expect(outcomes[0]?.signature?.status).toBe('IN_PROGRESS')
    expect(gateProblems(outcomes)).toEqual([
      `cannot move api:production to ${shortDigest(plain)}: ECR managed signing is still IN_PROGRESS after 300 s; run again once it is COMPLETE`
    ])
  })

  it('refuses an image managed signing never signed, without waiting', async () => {
    const { reader, signingCalls } = fakeReader({ signing: [[]] })
    const { effects, sleeps } = fakeEffects()
    const [outcome] = await check(reader, [release('api')], managed, { effects })
    expect(outcome?.signature?.status).toBe('UNSIGNED')
    expect(signingCalls()).toBe(1)
    expect(sleeps).toEqual([])
  })

  it.each<[string, Record<string, Manifest>, string, string[]]>([
    ['present', { [cosignTag(plain)]: before }, 'SIGNED', []],
    [
      'absent',
      {},
      'UNSIGNED',
      [
        `cannot move api:production to ${shortDigest(plain)}: it has no cosign signature (no tag ${cosignTag(plain)} in api): sign it with cosign sign <repository uri>@${plain}, or set require-signature: off`
      ]
    ]
  ])('cosign: looks the signature tag up; %s', async (_name, held, status, problems) => {
    const { reader, calls } = fakeReader({ tags: { api: held } })
    const [outcome] = await check(
      reader,
      [release('api')],
      settings({ ...OFF, requireSignature: 'cosign' })
    )
    expect(calls).toEqual([`get api ${cosignTag(plain)}`])
    expect(outcome?.signature).toEqual({
      mode: 'cosign',
      status,
      detail: cosignTag(plain),
      problems
    })
    expect(gateProblems(outcome ? [outcome] : [])).toEqual(problems)
  })

  it('runs both gates on the same move', async () => {
    const { reader, calls } = fakeReader({ scans: { [plain]: clean }, tags: { api: {} } })
    const [outcome] = await check(
      reader,
      [release('api')],
      settings({ requireSignature: 'cosign' })
    )
    expect(calls.sort()).toEqual([`get api ${cosignTag(plain)}`, `scan api ${shortDigest(plain)}`])
    expect(outcome?.scan?.problems).toEqual([])
    expect(outcome?.signature?.status).toBe('UNSIGNED')
  })
})

describe('gateProblems', () => {
  const move = { repository: 'api', tags: ['production'], image, tested: [] }
  const scan = (problems: string[]) => ({
    threshold: 'HIGH' as const,
    images: [],
    counts: {},
    top: [],
    ignored: [],
    problems
  })
  const signature = (problems: string[]) => ({
    mode: 'cosign' as const,
    status: 'UNSIGNED',
    problems
  })

  it.each<[string, GateOutcome[], string[]]>([
    ['none for no outcomes', [], []],
    ['none for outcomes without verdicts', [move], []],
    [
      'every scan and signature problem, repository by repository',
      [
        { ...move, scan: scan(['api scan']), signature: signature(['api signature']) },
        { ...move, repository: 'web', scan: scan([]) },
        { ...move, repository: 'worker', signature: signature(['worker signature']) }
      ],
      ['api scan', 'api signature', 'worker signature']
    ],
    [
      'a tested-image refusal first, and nothing for a pointer proven tested',
      [
        {
          ...move,
          tested: [
            { pointer: 'production', refused: 'api untested' },
            { pointer: 'canary', by: 'staging' }
          ],
          scan: scan(['api scan'])
        }
      ],
      ['api untested', 'api scan']
    ]
  ])('%s', (_name, found, problems) => {
    expect(gateProblems(found)).toEqual(problems)
  })
})
