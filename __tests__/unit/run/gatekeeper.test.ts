import { ACTION_MESSAGES } from '../../../src/action/messages.js'
import { cosignTag } from '../../../src/core/tags.js'
import { type GateSettings, type ScanReport, type SigningState } from '../../../src/core/gates.js'
import type { Convention } from '../../../src/core/convention.js'
import { shortDigest, type Manifest } from '../../../src/core/model.js'
import type { RepositoryPlan, Step } from '../../../src/core/plan.js'
import { problemsOf } from '../../../src/core/problems.js'
import { checkGates, gateProblems, type GateOutcome } from '../../../src/run/gatekeeper.js'
import {
  buildKitIndex,
  channels,
  environments,
  fakeDigests,
  gateSettings,
  hold,
  manifest,
  plan,
  write
} from '../../support/builders.js'
import { fakeEffects, rejection } from '../../support/harness.js'
import { memoryRegistry, type MemoryRegistry, type Seed } from '../../support/memory-registry.js'

const [index, amd64, arm64, attestation] = fakeDigests('b', 'c', 'd', 'e')
const [image, before] = [manifest('a'), manifest('f')]
const plain = image.digest
const multiArch = buildKitIndex({ index, amd64, arm64, attestation })

const moving = (
  repository: string,
  source: Manifest,
  steps: Step[],
  extra: Partial<RepositoryPlan> = {}
) => plan(repository, { source, steps, ...extra })
/** A release of `source` in `repository`: the version tag and the guarded production pointer. */
const release = (
  repository: string,
  source: Manifest = image,
  extra: Partial<RepositoryPlan> = {}
) =>
  moving(
    repository,
    source,
    [write('v1.0.0', 'version', source), write('production', 'forward', source)],
    extra
  )

const OFF = gateSettings({ failOnSeverity: 'off', requireScan: false })
const clean: ScanReport = { status: 'COMPLETE', findings: [] }
/** Scans by digest; a digest absent was never scanned. */
const scanned = (scans: Record<string, ScanReport>, seed: Seed = {}) =>
  memoryRegistry({
    facts: Object.fromEntries(Object.entries(scans).map(([digest, scan]) => [digest, { scan }])),
    ...seed
  })
/** Image a's managed signing statuses: each read answers the next, the last one from then on. */
const signed = (...answers: SigningState[][]) =>
  memoryRegistry({
    faults: [
      {
        operation: 'signing',
        times: Infinity,
        before: (r) =>
          void (r.facts[plain] = {
            signing: (answers.length > 1 ? answers.shift() : answers[0]) ?? []
          })
      }
    ]
  })
const reads = (registry: MemoryRegistry, operation: string) =>
  registry.log.filter((call) => call.startsWith(operation)).length

const check = (
  registry: MemoryRegistry,
  plans: RepositoryPlan[],
  settings: GateSettings,
  { convention = environments, effects = fakeEffects().effects } = {}
) => checkGates(registry, convention, plans, settings, effects, ACTION_MESSAGES)

describe('checkGates: which moves are gated', () => {
  it.each<[string, RepositoryPlan[], Convention]>([
    [
      'checks only plans that write a guarded tag, and only the guarded tags they write',
      [
        release('api'),
        moving('web', image, [write('latest', 'forward', image)]),
        moving('worker', image, [
          write('v1.0.0', 'version', image),
          hold('production', 'forward', before, 'already ahead')
        ])
      ],
      environments
    ],
    [
      'follows the convention: channels guards stable, not production',
      [
        moving('api', image, [
          write('1.0.0', 'version', image),
          write('stable', 'forward', image),
          write('latest', 'highest', image)
        ]),
        release('web')
      ],
      channels
    ]
  ])('%s', async (_name, plans, convention) => {
    const registry = scanned({ [plain]: clean })
    const outcomes = await check(registry, plans, gateSettings(), { convention })
    expect(outcomes.map(({ repository, tags }) => [repository, tags])).toEqual([
      ['api', [convention === channels ? 'stable' : 'production']]
    ])
    expect(registry.log).toEqual(['scan api a'])
  })

  const tested = [{ pointer: 'production', by: 'staging' }]
  it.each<[string, RepositoryPlan, GateSettings, GateOutcome[]]>([
    [
      'skips a plan whose source is archived: it is judged once restored',
      release('api', image, { archived: 'ARCHIVED', tested }),
      gateSettings({ requireSignature: 'managed' }),
      []
    ],
    [
      'gives a plan with only a tested pointer an outcome without scan or signature',
      moving('api', image, [write('canary', 'forward', image)], { tested }),
      gateSettings({ requireSignature: 'cosign' }),
      [{ repository: 'api', tags: [], image, tested }]
    ],
    [
      'with both gates off, says which moves are guarded',
      release('api'),
      OFF,
      [{ repository: 'api', tags: ['production'], image, tested: [] }]
    ]
  ])('%s, reading nothing', async (_name, planned, settings, outcomes) => {
    const registry = scanned({})
    expect(await check(registry, [planned], settings)).toEqual(outcomes)
    expect(registry.log).toEqual([])
  })
})

describe('checkGates: the scan gate', () => {
  it('refuses a guarded move to an image with a blocking finding, and gateProblems says so, keeping its tested pointers', async () => {
    const finding = { id: 'CVE-2024-0001', severity: 'CRITICAL', package: 'openssl', open: true }
    const registry = scanned({ [plain]: { status: 'COMPLETE', findings: [finding] } })
    const tested = [{ pointer: 'production', by: 'staging' }]
    const outcomes = await check(registry, [release('api', image, { tested })], gateSettings())
    // The tested pointers of a guarded move are kept next to its verdicts.
    expect(outcomes[0]?.tested).toEqual(tested)
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
    const registry = scanned({ [amd64]: clean })
    const [outcome] = await check(registry, [release('api', multiArch)], gateSettings())
    expect(registry.log.sort()).toEqual(['scan api c', 'scan api d'])
    expect(outcome?.scan?.images).toEqual([
      { digest: amd64, platform: 'linux/amd64', status: 'COMPLETE' },
      { digest: arm64, platform: 'linux/arm64', status: 'NOT SCANNED' }
    ])
  })

  it('reports the failed reads of every repository, not only the first', async () => {
    const registry = scanned({}, { faults: [{ operation: 'scan', kind: 'failed', times: 2 }] })
    const failure = await rejection(
      check(registry, [release('api'), release('web')], gateSettings())
    )
    expect(problemsOf(failure).map((error) => (error as Error).message)).toEqual([
      'ecr:DescribeImageScanFindings on api failed',
      'ecr:DescribeImageScanFindings on web failed'
    ])
  })
})

describe('checkGates: the signature gate', () => {
  const profile = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/ci'
  const managed = gateSettings({ ...OFF, requireSignature: 'managed' })

  it.each<[string, SigningState[], object]>([
    [
      'passes a signature that is COMPLETE at once',
      [{ profile, status: 'COMPLETE' }],
      { mode: 'managed', status: 'COMPLETE', detail: profile, problems: [] }
    ],
    [
      'refuses an image managed signing never signed',
      [],
      {
        mode: 'managed',
        status: 'UNSIGNED',
        // The message is core/gates' to pin.
        problems: [expect.stringContaining('ECR managed signing has not signed it')]
      }
    ]
  ])('%s, without waiting', async (_name, answer, signature) => {
    const registry = signed(answer)
    const { effects, sleeps } = fakeEffects()
    const [outcome] = await check(registry, [release('api')], managed, { effects })
    expect(outcome?.scan).toBeUndefined()
    expect(outcome?.signature).toEqual(signature)
    expect(registry.log).toEqual(['signing api a'])
    expect(sleeps).toEqual([])
  })

  it('polls a signature IN_PROGRESS until it is COMPLETE', async () => {
    const pending = [{ status: 'IN_PROGRESS' }]
    const registry = signed(pending, pending, [{ profile, status: 'COMPLETE' }])
    const { effects, sleeps, logs } = fakeEffects()
    const [outcome] = await check(registry, [release('api')], managed, { effects })
    expect(reads(registry, 'signing')).toBe(3)
    expect(sleeps).toEqual([2_000, 4_000])
    expect(logs).toEqual([
      'api: ECR managed signing is IN_PROGRESS, 0 s',
      'api: ECR managed signing is IN_PROGRESS, 2 s'
    ])
    expect(outcome?.signature).toMatchObject({ status: 'COMPLETE', problems: [] })
  })

  it('gives up on a signature still IN_PROGRESS after 5 minutes', async () => {
    const registry = signed([{ profile, status: 'IN_PROGRESS' }])
    const { effects, sleeps, now } = fakeEffects()
    const outcomes = await check(registry, [release('api')], managed, { effects })
    expect(now()).toBe(300_000)
    // One read before the first pause, and one after each.
    expect(reads(registry, 'signing')).toBe(1 + sleeps.length)
    expect(outcomes[0]?.signature?.status).toBe('IN_PROGRESS')
    expect(gateProblems(outcomes)).toEqual([
      `cannot move api:production to ${shortDigest(plain)}: ECR managed signing is still IN_PROGRESS after 300 s; run again once it is COMPLETE`
    ])
  })

  // Present here, absent below: what each verdict says is core/gates' to pin.
  it('cosign: looks the signature tag up', async () => {
    const registry = memoryRegistry({ tags: { api: { [cosignTag(plain)]: before } } })
    const [outcome] = await check(registry, [release('api')], {
      ...OFF,
      requireSignature: 'cosign'
    })
    expect(registry.log).toEqual([`read api ${cosignTag(plain)}`])
    expect(outcome?.signature).toEqual({
      mode: 'cosign',
      status: 'SIGNED',
      detail: cosignTag(plain),
      problems: []
    })
  })

  it('runs both gates on the same move', async () => {
    const registry = scanned({ [plain]: clean })
    const [outcome] = await check(
      registry,
      [release('api')],
      gateSettings({ requireSignature: 'cosign' })
    )
    expect(registry.log.sort()).toEqual([`read api ${cosignTag(plain)}`, 'scan api a'])
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
