import { builtInConvention } from '../src/core/conventions.js'
import { cosignTag, type ScanReport, type SigningState } from '../src/core/gates.js'
import {
  describeRef,
  shortDigest,
  type ImageDetails,
  type ImageRef,
  type Manifest
} from '../src/core/model.js'
import { problemsOf } from '../src/core/problems.js'
import {
  readStatus,
  repositoryStatus,
  type ImageFacts,
  type PointerStatus
} from '../src/run/status.js'
import { buildKitIndex, fakeDigest, rejection } from './support/harness.js'
import { MEDIA_TYPES } from './support/oci.mjs'

const environments = builtInConvention('environments')
const channels = builtInConvention('channels')

const [released, candidate, old, older, index, amd64, arm64, attestation] = [
  'a',
  'b',
  'c',
  'd',
  'e',
  'f',
  '1',
  '2'
].map(fakeDigest) as [string, string, string, string, string, string, string, string]
const uri = (repository: string) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/${repository}`
const github = {
  apiUrl: 'https://ghe.example.com/api/v3',
  serverUrl: 'https://ghe.example.com',
  repository: 'acme/shop',
  runId: '42'
}
const COMMIT = 'abcdef1'
const OTHER_COMMIT = '1234567'
const pushedAt = new Date('2026-11-19T15:00:00Z')

/** A pointer no repository tag names. */
const missing = (tag: string): PointerStatus => ({
  tag,
  digest: null,
  versions: [],
  buildTag: null,
  commit: null,
  commitUrl: null,
  pushedAt: null,
  sizeBytes: null,
  scan: null,
  signature: null,
  withdrawn: false
})

describe('repositoryStatus (environments)', () => {
  const tags = new Map([
    ['production', released],
    ['staging', released],
    ['v1.2.0', released],
    ['v1.10.0', released],
    ['v1.10.0-rc.1', released],
    ['v1.9.0', released],
    [`sha-${COMMIT}`, released],
    ['latest', candidate],
    ['v1.11.0', candidate],
    [`sha-${OTHER_COMMIT}`, candidate],
    ['withdrawn-1.11.0', candidate],
    ['withdrawn-1.0.0', old],
    ['withdrawn-2.0.0-rc.1', older],
    ['withdrawn-1.3', older],
    ['withdrawn-latest', older]
  ])
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
  const status = repositoryStatus(environments, 'api', uri('api'), tags, facts, github)

  it('lists every pointer of the convention, in order, with what is on its image', () => {
    expect(status).toMatchObject({ repository: 'api', uri: uri('api') })
    expect(status.pointers).toEqual([
      {
        tag: 'latest',
        digest: candidate,
        versions: ['1.11.0'],
        buildTag: `sha-${OTHER_COMMIT}`,
        commit: OTHER_COMMIT,
        commitUrl: `https://ghe.example.com/acme/shop/commit/${OTHER_COMMIT}`,
        pushedAt: null,
        sizeBytes: null,
        scan: 'NOT SCANNED: none',
        signature: 'cosign signed',
        withdrawn: true
      },
      {
        tag: 'production',
        digest: released,
        versions: ['1.10.0', '1.10.0-rc.1', '1.9.0', '1.2.0'],
        buildTag: `sha-${COMMIT}`,
        commit: COMMIT,
        commitUrl: `https://ghe.example.com/acme/shop/commit/${COMMIT}`,
        pushedAt,
        sizeBytes: 1234,
        scan: 'COMPLETE: HIGH 1',
        signature: 'unsigned',
        withdrawn: false
      },
      expect.objectContaining({ tag: 'staging', digest: released, commit: COMMIT }),
      missing('canary')
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
      ...github,
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
      new Map([
        ['production', old],
        ['sha-ABCDEF1', old],
        ['v1.2', old]
      ]),
      new Map(),
      github
    )
    expect(bare.pointers[1]).toEqual({ ...missing('production'), digest: old })
    expect(bare.withdrawn).toEqual([])
  })

  it('shows every pointer missing in a repository without tags', () => {
    expect(repositoryStatus(environments, 'api', uri('api'), new Map(), new Map(), github)).toEqual(
      {
        repository: 'api',
        uri: uri('api'),
        pointers: ['latest', 'production', 'staging', 'canary'].map(missing),
        withdrawn: []
      }
    )
  })
})

describe('repositoryStatus (channels)', () => {
  const tags = new Map([
    ['stable', released],
    ['latest', released],
    ['1.2.0', released],
    ['1.2.0-rc.7', released],
    ['1.1.0', released],
    [`api-feature-login-x-${COMMIT}`, released],
    ['edge', candidate],
    [`api-main-${OTHER_COMMIT}`, candidate],
    ['withdrawn-1.3.0', candidate],
    ['1.3.0', candidate]
  ])
  const status = repositoryStatus(channels, 'api', uri('api'), tags, new Map(), github)

  it('reads the channels pointers, versions without a prefix, and build tags with dashes in the branch', () => {
    expect(
      status.pointers.map(({ tag, digest, versions, buildTag, commit, withdrawn }) => ({
        tag,
        digest,
        versions,
        buildTag,
        commit,
        withdrawn
      }))
    ).toEqual([
      {
        tag: 'edge',
        digest: candidate,
        versions: ['1.3.0'],
        buildTag: `api-main-${OTHER_COMMIT}`,
        commit: OTHER_COMMIT,
        withdrawn: true
      },
      {
        tag: 'stable',
        digest: released,
        versions: ['1.2.0', '1.2.0-rc.7', '1.1.0'],
        buildTag: `api-feature-login-x-${COMMIT}`,
        commit: COMMIT,
        withdrawn: false
      },
      {
        tag: 'latest',
        digest: released,
        versions: ['1.2.0', '1.2.0-rc.7', '1.1.0'],
        buildTag: `api-feature-login-x-${COMMIT}`,
        commit: COMMIT,
        withdrawn: false
      }
    ])
    expect(status.withdrawn).toEqual([
      { version: '1.3.0', tag: 'withdrawn-1.3.0', digest: candidate }
    ])
  })
})

const plain = (of: string): Manifest => ({
  digest: of,
  mediaType: MEDIA_TYPES.ociManifest,
  body: '{"schemaVersion":2}'
})
const multiArch = buildKitIndex({ index, amd64, arm64, attestation })
const finding = (id: string, severity: string) => ({ id, severity, open: true })

interface Held {
  /** Tags by repository. */
  tags: Record<string, Map<string, string>>
  /** The manifests BatchGetImage returns, by digest; one absent is archived. */
  manifests?: Record<string, Manifest>
  details?: Record<string, ImageDetails>
  scans?: Record<string, ScanReport>
  signing?: Record<string, SigningState[]>
  /** Digests whose scan read fails. */
  scanFails?: string[]
  /** Digests whose signing status read fails. */
  signingFails?: string[]
  /** Repositories whose tag listing fails. */
  listFails?: string[]
}

/** The reads a status makes, over a registry kept in memory, recording each call. */
function fakeRegistry({
  tags,
  manifests = {},
  details = {},
  scans = {},
  signing = {},
  scanFails = [],
  signingFails = [],
  listFails = []
}: Held) {
  const calls: string[] = []
  const registry = {
    async describeRepository(repository: string) {
      calls.push(`describe ${repository}`)
      return { uri: uri(repository), mutability: { mode: 'MUTABLE', exclusions: [] } }
    },
    async listTags(repository: string) {
      calls.push(`list ${repository}`)
      if (listFails.includes(repository)) throw new Error(`ecr:ListImages on ${repository} denied`)
      return new Map(tags[repository])
    },
    async getManifests(repository: string, refs: readonly ImageRef[]) {
      calls.push(`get ${repository} ${refs.map((ref) => shortDigest(describeRef(ref))).join(',')}`)
      return new Map(
        refs.flatMap((ref) => {
          const found = manifests[describeRef(ref)]
          return found ? [[describeRef(ref), found] as const] : []
        })
      )
    },
    async describeImages(repository: string, digests: readonly string[]) {
      calls.push(`images ${repository} ${digests.map(shortDigest).join(',')}`)
      return new Map(
        digests.flatMap((digest) => {
          const found = details[digest]
          return found ? [[digest, found] as const] : []
        })
      )
    },
    async scanFindings(repository: string, digest: string) {
      calls.push(`scan ${repository} ${shortDigest(digest)}`)
      if (scanFails.includes(digest))
        throw new Error(`ecr:DescribeImageScanFindings on ${repository} denied`)
      return scans[digest]
    },
    async signingStatuses(repository: string, digest: string) {
      calls.push(`signing ${repository} ${shortDigest(digest)}`)
      if (signingFails.includes(digest))
        throw new Error('DescribeImageSigningStatus is not available in this region')
      return signing[digest] ?? []
    }
  }
  return { registry, calls }
}

const status = (held: Held, repositories = ['api'], convention = environments) => {
  const { registry, calls } = fakeRegistry(held)
  return {
    calls,
    read: () => readStatus(registry, convention, repositories, github)
  }
}
const shown = (statuses: Awaited<ReturnType<typeof readStatus>>) =>
  statuses.flatMap(({ repository, pointers }) =>
    pointers.map(({ tag, scan, signature }) => [`${repository}:${tag}`, scan, signature])
  )

describe('readStatus', () => {
  it('reads each image once, however many pointers name it', async () => {
    const { read, calls } = status({
      tags: {
        api: new Map([
          ['production', released],
          ['staging', released],
          ['canary', released],
          ['latest', index],
          [`sha-${COMMIT}`, released],
          ['v1.2.0', released]
        ])
      },
      manifests: { [released]: plain(released), [index]: multiArch },
      details: { [released]: { tags: [], pushedAt, sizeBytes: 99 } },
      scans: {
        [released]: {
          status: 'COMPLETE',
          findings: [
            finding('CVE-1', 'HIGH'),
            finding('CVE-2', 'CRITICAL'),
            finding('CVE-3', 'HIGH')
          ]
        },
        [amd64]: { status: 'COMPLETE', findings: [] }
      },
      signing: { [released]: [{ status: 'COMPLETE', profile: 'arn:aws:signer:profile/release' }] }
    })
    const [api] = await read()
    expect(calls).toEqual([
      'describe api',
      'list api',
      `get api ${shortDigest(index)},${shortDigest(released)}`,
      `images api ${shortDigest(index)},${shortDigest(released)}`,
      `scan api ${shortDigest(amd64)}`,
      `scan api ${shortDigest(arm64)}`,
      `signing api ${shortDigest(index)}`,
      `scan api ${shortDigest(released)}`,
      `signing api ${shortDigest(released)}`
    ])
    expect(shown([api!])).toEqual([
      ['api:latest', 'COMPLETE, NOT SCANNED: none', 'unsigned'],
      [
        'api:production',
        'COMPLETE: CRITICAL 1, HIGH 2',
        'managed COMPLETE (arn:aws:signer:profile/release)'
      ],
      [
        'api:staging',
        'COMPLETE: CRITICAL 1, HIGH 2',
        'managed COMPLETE (arn:aws:signer:profile/release)'
      ],
      [
        'api:canary',
        'COMPLETE: CRITICAL 1, HIGH 2',
        'managed COMPLETE (arn:aws:signer:profile/release)'
      ]
    ])
    expect(api?.pointers[1]).toMatchObject({
      versions: ['1.2.0'],
      commit: COMMIT,
      pushedAt,
      sizeBytes: 99
    })
  })

  it.each<[string, Partial<Held>, boolean, string, string]>([
    [
      'a scan ECR will not show',
      { scanFails: [released] },
      false,
      'unavailable: ecr:DescribeImageScanFindings on api denied',
      'unsigned'
    ],
    [
      'a signature ECR will not show',
      { signingFails: [released] },
      false,
      'NOT SCANNED: none',
      'managed signing unavailable: DescribeImageSigningStatus is not available in this region'
    ],
    [
      'a signature ECR will not show, on a cosign-signed image',
      { signingFails: [released] },
      true,
      'NOT SCANNED: none',
      'cosign signed; managed signing unavailable: DescribeImageSigningStatus is not available in this region'
    ],
    ['a cosign signature tag', {}, true, 'NOT SCANNED: none', 'cosign signed'],
    [
      'managed signing and a cosign signature tag',
      {
        signing: {
          [released]: [{ status: 'IN_PROGRESS' }, { status: 'COMPLETE', profile: 'release' }]
        }
      },
      true,
      'NOT SCANNED: none',
      'managed IN_PROGRESS; managed COMPLETE (release); cosign signed'
    ],
    [
      'a scan that has not finished',
      { scans: { [released]: { status: 'IN_PROGRESS', findings: [] } } },
      false,
      'IN_PROGRESS: none',
      'unsigned'
    ]
  ])('shows %s as such, not as a failure', async (_name, given, cosigned, scan, signature) => {
    const tags = new Map([['production', released]])
    if (cosigned) tags.set(cosignTag(released), fakeDigest('9'))
    const { read } = status({
      manifests: { [released]: plain(released) },
      ...given,
      tags: { api: tags }
    })
    const [api] = await read()
    expect(api?.pointers[1]).toMatchObject({ tag: 'production', scan, signature })
  })

  it('shows an archived image, whose manifest ECR does not serve, as not read, and still reads its signature', async () => {
    const { read, calls } = status({
      tags: { api: new Map([['production', released]]) },
      details: { [released]: { tags: ['production'], pushedAt } },
      signing: { [released]: [{ status: 'COMPLETE' }] }
    })
    const [api] = await read()
    expect(api?.pointers[1]).toMatchObject({
      scan: 'archived: not read',
      signature: 'managed COMPLETE',
      pushedAt
    })
    expect(calls.filter((call) => /^(scan|signing)/.test(call))).toEqual([
      `signing api ${shortDigest(released)}`
    ])
  })

  it('does not take a cosign signature tag of another image for this one', async () => {
    const { read } = status({
      tags: {
        api: new Map([
          ['production', released],
          [cosignTag(candidate), fakeDigest('9')]
        ])
      },
      manifests: { [released]: plain(released) }
    })
    const [api] = await read()
    expect(api?.pointers[1]?.signature).toBe('unsigned')
  })

  it('reads nothing of images in a repository without pointers', async () => {
    const { read, calls } = status({ tags: { api: new Map([['v1.0.0', released]]) } })
    const [api] = await read()
    expect(api?.pointers.every(({ digest }) => digest === null)).toBe(true)
    expect(calls.filter((call) => /^(scan|signing)/.test(call))).toEqual([])
  })

  it('reads every repository, and names each one it cannot read', async () => {
    const ok = status(
      {
        tags: {
          api: new Map([['stable', released]]),
          web: new Map([['edge', candidate]])
        },
        manifests: { [released]: plain(released), [candidate]: plain(candidate) }
      },
      ['api', 'web'],
      channels
    )
    expect(
      (await ok.read()).map(({ repository, pointers }) => [
        repository,
        pointers.flatMap(({ tag, digest }) => (digest ? [tag] : []))
      ])
    ).toEqual([
      ['api', ['stable']],
      ['web', ['edge']]
    ])

    const failing = status(
      { tags: { api: new Map(), web: new Map() }, listFails: ['api', 'web'] },
      ['api', 'web']
    )
    const failure = await rejection(failing.read())
    expect(problemsOf(failure).map((error) => (error as Error).message)).toEqual([
      'ecr:ListImages on api denied',
      'ecr:ListImages on web denied'
    ])
  })
})
