import { cosignTag } from '../../../src/core/tags.js'
import type { Manifest } from '../../../src/core/model.js'
import { problemsOf } from '../../../src/core/problems.js'
import {
  readStatus,
  repositoryStatus,
  type ImageFacts,
  type PointerStatus
} from '../../../src/run/status.js'
import {
  buildKitIndex,
  channels,
  environments,
  fakeDigest,
  fakeDigests,
  GITHUB,
  listing,
  manifest,
  nameOf,
  pointerStatus,
  uri
} from '../../support/builders.js'
import { rejection } from '../../support/harness.js'
import {
  memoryRegistry,
  type Fault,
  type ImageFacts as Facts
} from '../../support/memory-registry.js'

const [released, candidate, old, older] = fakeDigests('a', 'b', 'c', 'd')
const [index, amd64, arm64, attestation] = fakeDigests('e', 'f', '1', '2')
const COMMIT = 'abcdef1'
const OTHER_COMMIT = '1234567'
const pushedAt = new Date('2026-11-19T15:00:00Z')

describe('repositoryStatus (environments)', () => {
  const tags = listing(
    `production=a staging=a v1.2.0=a v1.10.0=a v1.10.0-rc.1=a v1.9.0=a sha-${COMMIT}=a latest=b v1.11.0=b sha-${OTHER_COMMIT}=b withdrawn-1.11.0=b withdrawn-1.0.0=c withdrawn-2.0.0-rc.1=d withdrawn-1.3=d withdrawn-latest=d`
  )
  const facts = new Map<string, ImageFacts>([
    [
      released,
      {
        details: { tags: [], pushedAt, sizeBytes: 1234 },
        scan: 'COMPLETE: HIGH 1',
        signature: 'unsigned'
      }
    ],
    [candidate, { scan: 'NOT SCANNED: none', signature: 'cosign signed' }]
  ])
  const status = repositoryStatus(environments, 'api', uri('api'), tags, facts, GITHUB)

  it('lists every pointer of the convention, in order, with what is on its image', () => {
    expect(status.pointers).toEqual([
      pointerStatus('latest', {
        digest: candidate,
        versions: ['1.11.0'],
        buildTag: `sha-${OTHER_COMMIT}`,
        commit: OTHER_COMMIT,
        commitUrl: `https://ghe.example.com/acme/shop/commit/${OTHER_COMMIT}`,
        scan: 'NOT SCANNED: none',
        signature: 'cosign signed',
        withdrawn: true
      }),
      pointerStatus('production', {
        digest: released,
        versions: ['1.10.0', '1.10.0-rc.1', '1.9.0', '1.2.0'],
        buildTag: `sha-${COMMIT}`,
        commit: COMMIT,
        commitUrl: `https://ghe.example.com/acme/shop/commit/${COMMIT}`,
        pushedAt,
        sizeBytes: 1234,
        scan: 'COMPLETE: HIGH 1',
        signature: 'unsigned'
      }),
      expect.objectContaining({ tag: 'staging', digest: released, commit: COMMIT }),
      pointerStatus('canary')
    ])
  })

  it('lists the withdrawn versions, highest first, leaving out marks of no version', () => {
    expect(status.withdrawn).toEqual([
      { version: '2.0.0-rc.1', tag: 'withdrawn-2.0.0-rc.1', digest: older },
      { version: '1.11.0', tag: 'withdrawn-1.11.0', digest: candidate },
      { version: '1.0.0', tag: 'withdrawn-1.0.0', digest: old }
    ])
  })

  it('links no commit outside a runner, where the repository is not known', () => {
    const outside = repositoryStatus(environments, 'api', uri('api'), tags, facts, {
      ...GITHUB,
      repository: ''
    })
    expect(outside.pointers.map(({ commit, commitUrl }) => [commit, commitUrl])).toEqual([
      [OTHER_COMMIT, null],
      [COMMIT, null],
      [COMMIT, null],
      [null, null]
    ])
  })

  it('leaves a pointer without a build tag, a version or facts at null and empty', () => {
    const bare = repositoryStatus(
      environments,
      'api',
      uri('api'),
      listing('production=c sha-ABCDEF1=c v1.2=c'),
      new Map(),
      GITHUB
    )
    expect(bare.pointers[1]).toEqual({ ...pointerStatus('production'), digest: old })
    expect(bare.withdrawn).toEqual([])
  })

  it('shows every pointer missing in a repository without tags', () => {
    expect(repositoryStatus(environments, 'api', uri('api'), new Map(), new Map(), GITHUB)).toEqual(
      {
        repository: 'api',
        uri: uri('api'),
        pointers: ['latest', 'production', 'staging', 'canary'].map((tag) => pointerStatus(tag)),
        withdrawn: []
      }
    )
  })
})

describe('repositoryStatus (channels)', () => {
  const tags = listing(
    `stable=a latest=a 1.2.0=a 1.2.0-rc.7=a 1.1.0=a api-feature-login-x-${COMMIT}=a edge=b api-main-${OTHER_COMMIT}=b withdrawn-1.3.0=b 1.3.0=b`
  )
  const status = repositoryStatus(channels, 'api', uri('api'), tags, new Map(), GITHUB)

  it('reads the channels pointers, versions without a prefix, and build tags with dashes in the branch', () => {
    const line = ({ tag, digest, versions, buildTag, commit, withdrawn }: PointerStatus) =>
      `${tag} ${nameOf(digest ?? '')} ${versions.join(',')} ${buildTag} ${commit} ${withdrawn}`
    expect(status.pointers.map(line)).toEqual([
      `edge b 1.3.0 api-main-${OTHER_COMMIT} ${OTHER_COMMIT} true`,
      `stable a 1.2.0,1.2.0-rc.7,1.1.0 api-feature-login-x-${COMMIT} ${COMMIT} false`,
      `latest a 1.2.0,1.2.0-rc.7,1.1.0 api-feature-login-x-${COMMIT} ${COMMIT} false`
    ])
    expect(status.withdrawn).toEqual([
      { version: '1.3.0', tag: 'withdrawn-1.3.0', digest: candidate }
    ])
  })
})

const multiArch = buildKitIndex({ index, amd64, arm64, attestation })
const finding = (id: string, severity: string) => ({ id, severity, open: true })
/** Images by digest: the plain ones by their names, the index as BuildKit pushes it. */
const imageOf = (digest: string): Manifest => (digest === index ? multiArch : manifest(digest[7]!))

/** Repository → tag → digest, what ECR tells of each image, and faults. */
const holding = (
  tags: Record<string, Record<string, string>>,
  facts: Record<string, Facts> = {},
  ...faults: Fault[]
) =>
  memoryRegistry({
    tags: Object.fromEntries(
      Object.entries(tags).map(([repository, held]) => [
        repository,
        Object.fromEntries(Object.entries(held).map(([tag, digest]) => [tag, imageOf(digest)]))
      ])
    ),
    facts,
    faults
  })
const read = (
  registry: ReturnType<typeof holding>,
  repositories = ['api'],
  convention = environments
) => readStatus(registry, convention, repositories, GITHUB)
const shown = (statuses: Awaited<ReturnType<typeof readStatus>>) =>
  statuses.flatMap(({ repository, pointers }) =>
    pointers.map(({ tag, scan, signature }) => [`${repository}:${tag}`, scan, signature])
  )

describe('readStatus', () => {
  it('reads each image once, however many pointers name it', async () => {
    const registry = holding(
      {
        api: {
          production: released,
          staging: released,
          canary: released,
          latest: index,
          [`sha-${COMMIT}`]: released,
          'v1.2.0': released
        }
      },
      {
        [released]: {
          pushedAt,
          sizeBytes: 99,
          scan: {
            status: 'COMPLETE',
            findings: ['HIGH', 'CRITICAL', 'HIGH'].map((severity, at) =>
              finding(`CVE-${at}`, severity)
            )
          },
          signing: [{ status: 'COMPLETE', profile: 'arn:aws:signer:profile/release' }]
        },
        [amd64]: { scan: { status: 'COMPLETE', findings: [] } }
      }
    )
    const [api] = await read(registry)
    expect(registry.log).toEqual([
      'describe api',
      'list api',
      'read api e,a',
      'images api e,a',
      'scan api f',
      'scan api 1',
      'signing api e',
      'scan api a',
      'signing api a'
    ])
    const signed = 'managed COMPLETE (arn:aws:signer:profile/release)'
    expect(shown([api!])).toEqual([
      ['api:latest', 'COMPLETE, NOT SCANNED: none', 'unsigned'],
      ['api:production', 'COMPLETE: CRITICAL 1, HIGH 2', signed],
      ['api:staging', 'COMPLETE: CRITICAL 1, HIGH 2', signed],
      ['api:canary', 'COMPLETE: CRITICAL 1, HIGH 2', signed]
    ])
    expect(api?.pointers[1]).toMatchObject({
      versions: ['1.2.0'],
      commit: COMMIT,
      pushedAt,
      sizeBytes: 99
    })
  })

  const unavailable = 'DescribeImageSigningStatus is not available in this region'
  it.each<[string, Facts, Fault[], string | null, string, string]>([
    [
      'a scan ECR will not show',
      {},
      [{ operation: 'scan', kind: 'failed' }],
      null,
      'unavailable: ecr:DescribeImageScanFindings on api failed',
      'unsigned'
    ],
    [
      'a signature ECR will not show',
      {},
      [{ operation: 'signing', kind: 'failed', error: unavailable }],
      null,
      'NOT SCANNED: none',
      `managed signing unavailable: ${unavailable}`
    ],
    [
      'a signature ECR will not show, on a cosign-signed image',
      {},
      [{ operation: 'signing', kind: 'failed', error: unavailable }],
      released,
      'NOT SCANNED: none',
      `cosign signed; managed signing unavailable: ${unavailable}`
    ],
    ['a cosign signature tag', {}, [], released, 'NOT SCANNED: none', 'cosign signed'],
    ['a cosign signature tag of another image', {}, [], candidate, 'NOT SCANNED: none', 'unsigned'],
    [
      'managed signing and a cosign signature tag',
      { signing: [{ status: 'IN_PROGRESS' }, { status: 'COMPLETE', profile: 'release' }] },
      [],
      released,
      'NOT SCANNED: none',
      'managed IN_PROGRESS; managed COMPLETE (release); cosign signed'
    ],
    [
      'a scan that has not finished',
      { scan: { status: 'IN_PROGRESS', findings: [] } },
      [],
      null,
      'IN_PROGRESS: none',
      'unsigned'
    ]
  ])(
    'shows %s as such, not as a failure',
    async (_name, facts, faults, cosigned, scan, signature) => {
      // `cosigned`: the image a cosign signature tag signs, if any.
      const tags = {
        production: released,
        ...(cosigned && { [cosignTag(cosigned)]: fakeDigest('9') })
      }
      const [api] = await read(holding({ api: tags }, { [released]: facts }, ...faults))
      expect(api?.pointers[1]).toMatchObject({ tag: 'production', scan, signature })
    }
  )

  it('shows an archived image, whose manifest ECR does not serve, as not read, and still reads its signature', async () => {
    const registry = holding(
      { api: { production: released } },
      { [released]: { status: 'ARCHIVED', pushedAt, signing: [{ status: 'COMPLETE' }] } }
    )
    const [api] = await read(registry)
    expect(api?.pointers[1]).toMatchObject({
      scan: 'archived: not read',
      signature: 'managed COMPLETE',
      pushedAt
    })
    expect(registry.log.filter((call) => /^(scan|signing)/.test(call))).toEqual(['signing api a'])
  })

  it('reads nothing of images in a repository without pointers', async () => {
    const registry = holding({ api: { 'v1.0.0': released } })
    const [api] = await read(registry)
    expect(api?.pointers.every(({ digest }) => digest === null)).toBe(true)
    expect(registry.log.filter((call) => /^(scan|signing)/.test(call))).toEqual([])
  })

  it('reads every repository, and names each one it cannot read', async () => {
    const both = holding({ api: { stable: released }, web: { edge: candidate } })
    expect(
      (await read(both, ['api', 'web'], channels)).map(({ repository, pointers }) => [
        repository,
        pointers.flatMap(({ tag, digest }) => (digest ? [tag] : []))
      ])
    ).toEqual([
      ['api', ['stable']],
      ['web', ['edge']]
    ])

    const failing = holding(
      { api: {}, web: {} },
      {},
      { operation: 'list', kind: 'failed', times: 2 }
    )
    const failure = await rejection(read(failing, ['api', 'web']))
    expect(problemsOf(failure).map((error) => (error as Error).message)).toEqual([
      'ecr:ListImages on api failed',
      'ecr:ListImages on web failed'
    ])
  })
})
