import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ECRServiceException,
  ImageAlreadyExistsException,
  ImageDigestDoesNotMatchException,
  ImageNotFoundException,
  ImageTagAlreadyExistsException,
  InvalidParameterException,
  KmsException,
  ListImagesCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand,
  ReferencedImagesNotFoundException,
  RepositoryAlreadyExistsException,
  RepositoryNotFoundException,
  ServerException,
  paginateDescribeImages,
  paginateListImages,
  type CreateRepositoryCommandInput,
  type ImageIdentifier
} from '@aws-sdk/client-ecr'
import { startStandIn } from './support/ecr-standin.mjs'
import { MANIFEST_MEDIA_TYPES, MEDIA_TYPES, digestOf as sha256 } from './support/oci.mjs'
import { clientFor, rejection } from './support/harness.js'

type StandIn = Awaited<ReturnType<typeof startStandIn>>

const ACCOUNT = '123456789012'
const {
  ociManifest: OCI_MANIFEST,
  ociIndex: OCI_INDEX,
  dockerManifest: DOCKER_MANIFEST,
  dockerManifestList: DOCKER_LIST
} = MEDIA_TYPES
const ALL_MANIFEST_TYPES = [...MANIFEST_MEDIA_TYPES]

// ---------------------------------------------------------------------------------------------
// small but realistic manifests
// ---------------------------------------------------------------------------------------------

/** An OCI image manifest for one platform (2-space indentation, non-ASCII annotation). */
function ociImageManifest(arch: string, variant = ''): string {
  return JSON.stringify(
    {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(`config-${arch}${variant}`),
        size: 1469
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: sha256(`base-${arch}`),
          size: 3623807
        },
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: sha256(`app-${arch}${variant}`),
          size: 1048576
        }
      ],
      annotations: {
        'org.opencontainers.image.created': '2025-06-01T12:00:00Z',
        'org.opencontainers.image.description': `café ☕ service for ${arch}${variant}`
      }
    },
    null,
    2
  )
}

/** An OCI index over the given child manifests. */
function ociIndex(children: { manifest: string; arch: string }[]): string {
  return JSON.stringify(
    {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map(({ manifest, arch }) => ({
        mediaType: OCI_MANIFEST,
        digest: sha256(manifest),
        size: Buffer.byteLength(manifest, 'utf8'),
        platform: { architecture: arch, os: 'linux' }
      }))
    },
    null,
    2
  )
}

/** A Docker v2 schema 2 manifest with 3-space indentation. */
function dockerManifest(seed = 'a'): string {
  return JSON.stringify(
    {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: 7023,
        digest: sha256(`docker-config-${seed}`)
      },
      layers: [
        {
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          size: 32654,
          digest: sha256(`docker-layer-1-${seed}`)
        },
        {
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          size: 16724,
          digest: sha256(`docker-layer-2-${seed}`)
        }
      ]
    },
    null,
    3
  )
}

/** An OCI artifact manifest (SBOM) without a top-level mediaType. */
function ociArtifactManifest(): string {
  return JSON.stringify({
    schemaVersion: 2,
    artifactType: 'application/spdx+json',
    config: {
      mediaType: 'application/vnd.oci.empty.v1+json',
      digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
      size: 2,
      data: 'e30='
    },
    layers: [{ mediaType: 'application/spdx+json', digest: sha256('sbom'), size: 5120 }]
  })
}

// ---------------------------------------------------------------------------------------------
// harness
// ---------------------------------------------------------------------------------------------

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

async function createRepo(
  repositoryName: string,
  extra: Omit<CreateRepositoryCommandInput, 'repositoryName'> = {}
): Promise<void> {
  await ecr.send(new CreateRepositoryCommand({ repositoryName, ...extra }))
}

async function put(
  repositoryName: string,
  imageManifest: string,
  imageTag?: string,
  imageManifestMediaType?: string
) {
  return ecr.send(
    new PutImageCommand({ repositoryName, imageManifest, imageTag, imageManifestMediaType })
  )
}

/** Pushes the two children untagged and then the index under `tag`; returns all three. */
async function pushMultiArch(repositoryName: string, tag: string, variant = '') {
  const amd64 = ociImageManifest('amd64', variant)
  const arm64 = ociImageManifest('arm64', variant)
  const index = ociIndex([
    { manifest: amd64, arch: 'amd64' },
    { manifest: arm64, arch: 'arm64' }
  ])
  await put(repositoryName, amd64)
  await put(repositoryName, arm64)
  await put(repositoryName, index, tag)
  return { amd64, arm64, index }
}

const tagsOf = (repositoryName: string): Record<string, string[]> =>
  Object.fromEntries(standIn.control.snapshot(repositoryName).images.map((i) => [i.digest, i.tags]))

// ---------------------------------------------------------------------------------------------
// repositories
// ---------------------------------------------------------------------------------------------

describe('repositories', () => {
  it('CreateRepository defaults to MUTABLE and DescribeRepositories returns the real shape', async () => {
    const before = Date.now()
    const created = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'repo/basic' }))
    expect(created.repository?.repositoryName).toBe('repo/basic')

    const described = await ecr.send(
      new DescribeRepositoriesCommand({ repositoryNames: ['repo/basic'] })
    )
    expect(described.repositories).toHaveLength(1)
    const repo = described.repositories?.[0]
    expect(repo).toMatchObject({
      repositoryArn: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/repo/basic`,
      registryId: ACCOUNT,
      repositoryName: 'repo/basic',
      repositoryUri: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/repo/basic`,
      imageTagMutability: 'MUTABLE'
    })
    expect(repo?.imageTagMutabilityExclusionFilters).toBeUndefined()
    expect(repo?.createdAt).toBeInstanceOf(Date)
    expect(repo?.createdAt?.getTime()).toBeGreaterThanOrEqual(before - 1000)
    expect(repo?.createdAt?.getTime()).toBeLessThanOrEqual(Date.now() + 1000)
  })

  it('stores the mutability setting and exclusion filters', async () => {
    await createRepo('repo/with-filters', {
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'prod*' }]
    })
    const { repositories } = await ecr.send(
      new DescribeRepositoriesCommand({ repositoryNames: ['repo/with-filters'] })
    )
    expect(repositories?.[0]?.imageTagMutability).toBe('IMMUTABLE_WITH_EXCLUSION')
    expect(repositories?.[0]?.imageTagMutabilityExclusionFilters).toEqual([
      { filterType: 'WILDCARD', filter: 'prod*' }
    ])
  })

  it('rejects a duplicate name with RepositoryAlreadyExistsException', async () => {
    await createRepo('repo/dup')
    const err = await rejection(createRepo('repo/dup'))
    expect(err).toBeInstanceOf(RepositoryAlreadyExistsException)
  })

  it('enforces the repository name grammar and length', async () => {
    for (const bad of ['App', 'a', 'app/', '/app', 'app//x', 'app--x', 'app_', 'x'.repeat(257)]) {
      const err = await rejection(createRepo(bad))
      expect(err).toBeInstanceOf(InvalidParameterException)
    }
    await createRepo('team.one/app-1_x/sub.svc')
    await createRepo('ab')
  })

  it('DescribeRepositories on an unknown name fails with the AWS message shape', async () => {
    const err = await rejection(
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['repo/missing'] }))
    )
    expect(err).toBeInstanceOf(RepositoryNotFoundException)
    expect(err.message).toBe(
      `The repository with name 'repo/missing' does not exist in the registry with id '${ACCOUNT}'`
    )
  })

  it('every repository-scoped operation on a missing repository is RepositoryNotFoundException', async () => {
    const repositoryName = 'repo/never-created'
    const commands = [
      new PutImageCommand({ repositoryName, imageManifest: dockerManifest(), imageTag: 'v1' }),
      new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }] }),
      new ListImagesCommand({ repositoryName }),
      new DescribeImagesCommand({ repositoryName }),
      new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }] }),
      new PutImageTagMutabilityCommand({ repositoryName, imageTagMutability: 'IMMUTABLE' })
    ]
    for (const command of commands) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const err = await rejection(ecr.send(command as any))
      expect(err).toBeInstanceOf(RepositoryNotFoundException)
    }
  })

  it('accepts its own registryId and rejects any other with RepositoryNotFoundException', async () => {
    await createRepo('repo/registry-id')
    const ok = await ecr.send(
      new ListImagesCommand({ repositoryName: 'repo/registry-id', registryId: ACCOUNT })
    )
    expect(ok.imageIds).toEqual([])
    const err = await rejection(
      ecr.send(
        new ListImagesCommand({ repositoryName: 'repo/registry-id', registryId: '999999999999' })
      )
    )
    expect(err).toBeInstanceOf(RepositoryNotFoundException)
  })

  it('PutImageTagMutability changes the setting', async () => {
    await createRepo('repo/mutability-switch')
    const out = await ecr.send(
      new PutImageTagMutabilityCommand({
        repositoryName: 'repo/mutability-switch',
        imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }]
      })
    )
    expect(out).toMatchObject({
      registryId: ACCOUNT,
      repositoryName: 'repo/mutability-switch',
      imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }]
    })
    const { repositories } = await ecr.send(
      new DescribeRepositoriesCommand({ repositoryNames: ['repo/mutability-switch'] })
    )
    expect(repositories?.[0]?.imageTagMutability).toBe('MUTABLE_WITH_EXCLUSION')

    const err = await rejection(
      ecr.send(
        new PutImageTagMutabilityCommand({
          repositoryName: 'repo/mutability-switch',
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION'
        })
      )
    )
    expect(err).toBeInstanceOf(InvalidParameterException)
  })
})

// ---------------------------------------------------------------------------------------------
// PutImage
// ---------------------------------------------------------------------------------------------

describe('PutImage', () => {
  it('stores the manifest byte-exact and digests the exact UTF-8 bytes', async () => {
    const repositoryName = 'put/roundtrip'
    await createRepo(repositoryName)
    const manifest = dockerManifest()
    expect(manifest).toContain('\n   "schemaVersion"') // 3-space indentation
    expect(JSON.stringify(JSON.parse(manifest))).not.toBe(manifest)

    const out = await put(repositoryName, manifest, 'v1')
    expect(out.image).toEqual({
      registryId: ACCOUNT,
      repositoryName,
      imageId: { imageDigest: sha256(manifest), imageTag: 'v1' },
      imageManifest: manifest,
      imageManifestMediaType: DOCKER_MANIFEST
    })

    const got = await ecr.send(
      new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }] })
    )
    expect(got.failures).toEqual([])
    expect(got.images?.[0]?.imageManifest).toBe(manifest)
    expect(sha256(got.images?.[0]?.imageManifest ?? '')).toBe(sha256(manifest))

    // Non-ASCII content: the digest is over UTF-8 bytes, not UTF-16 code units.
    const oci = ociImageManifest('amd64')
    expect(oci).toContain('café ☕')
    const ociOut = await put(repositoryName, oci, 'oci')
    expect(ociOut.image?.imageId?.imageDigest).toBe(sha256(oci))
    expect(
      standIn.control.snapshot(repositoryName).images.find((i) => i.tags.includes('oci'))
    ).toEqual({
      digest: sha256(oci),
      mediaType: OCI_MANIFEST,
      manifest: oci,
      tags: ['oci'],
      status: 'ACTIVE'
    })
  })

  it('checks imageDigest against the computed digest', async () => {
    const repositoryName = 'put/digest-check'
    await createRepo(repositoryName)
    const manifest = dockerManifest()
    const err = await rejection(
      ecr.send(
        new PutImageCommand({
          repositoryName,
          imageManifest: manifest,
          imageTag: 'v1',
          imageDigest: sha256(manifest + ' ')
        })
      )
    )
    expect(err).toBeInstanceOf(ImageDigestDoesNotMatchException)
    expect(standIn.control.snapshot(repositoryName).images).toEqual([])

    const ok = await ecr.send(
      new PutImageCommand({
        repositoryName,
        imageManifest: manifest,
        imageTag: 'v1',
        imageDigest: sha256(manifest)
      })
    )
    expect(ok.image?.imageId?.imageDigest).toBe(sha256(manifest))
  })

  it('resolves the media type from the parameter or the manifest', async () => {
    const repositoryName = 'put/media-type'
    await createRepo(repositoryName)
    const artifact = ociArtifactManifest()
    expect(JSON.parse(artifact)).not.toHaveProperty('mediaType')

    const missing = await rejection(put(repositoryName, artifact, 'sbom'))
    expect(missing).toBeInstanceOf(InvalidParameterException)
    expect(missing.message).toBe('image manifest mediatype not provided in manifest or parameter')

    const ok = await put(repositoryName, artifact, 'sbom', OCI_MANIFEST)
    expect(ok.image?.imageManifestMediaType).toBe(OCI_MANIFEST)
    const details = await ecr.send(
      new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: 'sbom' }] })
    )
    expect(details.imageDetails?.[0]?.imageManifestMediaType).toBe(OCI_MANIFEST)

    // Manifest says Docker v2, parameter says OCI: rejected.
    const conflict = await rejection(put(repositoryName, dockerManifest(), 'v1', OCI_MANIFEST))
    expect(conflict).toBeInstanceOf(InvalidParameterException)
    // Matching parameter is fine.
    await put(repositoryName, dockerManifest(), 'v1', DOCKER_MANIFEST)

    const notJson = await rejection(
      put(repositoryName, '{"schemaVersion": 2,', 'broken', OCI_MANIFEST)
    )
    expect(notJson).toBeInstanceOf(InvalidParameterException)
    expect(standIn.control.snapshot(repositoryName).images).toHaveLength(2)
  })

  it('enforces the tag grammar', async () => {
    const repositoryName = 'put/tag-grammar'
    await createRepo(repositoryName)
    for (const bad of ['-v1', '.hidden', 'has space', 'ünïcode', 'a:b', 'x'.repeat(129)]) {
      const err = await rejection(put(repositoryName, dockerManifest(), bad))
      expect(err).toBeInstanceOf(InvalidParameterException)
    }
    await put(repositoryName, dockerManifest(), 'v1.2.3_rc-1')
    await put(repositoryName, dockerManifest(), `_${'x'.repeat(127)}`)
    expect(standIn.control.snapshot(repositoryName).images[0]?.tags).toHaveLength(2)
  })

  it('rejects re-putting a tag onto the digest it already has with ImageAlreadyExistsException', async () => {
    const repositoryName = 'put/already-exists'
    await createRepo(repositoryName)
    const manifest = dockerManifest()
    await put(repositoryName, manifest, 'v1')
    const err = await rejection(put(repositoryName, manifest, 'v1'))
    expect(err).toBeInstanceOf(ImageAlreadyExistsException)
    expect(err.message).toBe(
      `Image with digest '${sha256(manifest)}' and tag 'v1' already exists in the repository with name '${repositoryName}' in registry with id '${ACCOUNT}'`
    )
    // Untagged push of a digest that exists is also ImageAlreadyExistsException.
    const untagged = await rejection(put(repositoryName, manifest))
    expect(untagged).toBeInstanceOf(ImageAlreadyExistsException)
    // A new tag on the same digest is fine.
    await put(repositoryName, manifest, 'stable')
    expect(tagsOf(repositoryName)).toEqual({ [sha256(manifest)]: ['stable', 'v1'] })
  })

  it('moves a mutable tag and keeps the previous image as an untagged image', async () => {
    const repositoryName = 'put/tag-move'
    await createRepo(repositoryName)
    const first = dockerManifest('first')
    const second = dockerManifest('second')
    await put(repositoryName, first, 'latest')
    await put(repositoryName, second, 'latest')

    expect(tagsOf(repositoryName)).toEqual({
      [sha256(first)]: [],
      [sha256(second)]: ['latest']
    })
    const untagged = await ecr.send(
      new ListImagesCommand({ repositoryName, filter: { tagStatus: 'UNTAGGED' } })
    )
    expect(untagged.imageIds).toEqual([{ imageDigest: sha256(first) }])
    const details = await ecr.send(
      new DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest: sha256(first) }] })
    )
    expect(details.imageDetails?.[0]?.imageTags).toBeUndefined()
    const got = await ecr.send(
      new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: 'latest' }] })
    )
    expect(got.images?.[0]?.imageId?.imageDigest).toBe(sha256(second))
  })

  it('requires every child of an OCI index / Docker manifest list to exist first', async () => {
    const repositoryName = 'put/index-children'
    await createRepo(repositoryName)
    const amd64 = ociImageManifest('amd64')
    const arm64 = ociImageManifest('arm64')
    const index = ociIndex([
      { manifest: amd64, arch: 'amd64' },
      { manifest: arm64, arch: 'arm64' }
    ])

    expect(await rejection(put(repositoryName, index, 'v1'))).toBeInstanceOf(
      ReferencedImagesNotFoundException
    )
    const childOut = await put(repositoryName, amd64) // children are pushed untagged
    expect(childOut.image?.imageId).toEqual({ imageDigest: sha256(amd64) })
    expect(await rejection(put(repositoryName, index, 'v1'))).toBeInstanceOf(
      ReferencedImagesNotFoundException
    )
    await put(repositoryName, arm64)
    const out = await put(repositoryName, index, 'v1')
    expect(out.image?.imageManifestMediaType).toBe(OCI_INDEX)
    expect(tagsOf(repositoryName)).toEqual({
      [sha256(amd64)]: [],
      [sha256(arm64)]: [],
      [sha256(index)]: ['v1']
    })

    const dockerList = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: [
        {
          mediaType: DOCKER_MANIFEST,
          digest: sha256(dockerManifest('not-pushed')),
          size: 100,
          platform: { architecture: 'amd64', os: 'linux' }
        }
      ]
    })
    expect(await rejection(put(repositoryName, dockerList, 'list'))).toBeInstanceOf(
      ReferencedImagesNotFoundException
    )
  })
})

// ---------------------------------------------------------------------------------------------
// tag immutability
// ---------------------------------------------------------------------------------------------

describe('tag immutability', () => {
  it('IMMUTABLE refuses to move any tag', async () => {
    const repositoryName = 'immutable/all'
    await createRepo(repositoryName, { imageTagMutability: 'IMMUTABLE' })
    const a = dockerManifest('a')
    const b = dockerManifest('b')
    await put(repositoryName, a, 'v1')
    const err = await rejection(put(repositoryName, b, 'v1'))
    expect(err).toBeInstanceOf(ImageTagAlreadyExistsException)
    expect(err.message).toBe(
      `The image tag 'v1' already exists in the '${repositoryName}' repository and cannot be overwritten because the tag is immutable.`
    )
    // Same tag on the same digest is still ImageAlreadyExists, and new tags are allowed.
    expect(await rejection(put(repositoryName, a, 'v1'))).toBeInstanceOf(
      ImageAlreadyExistsException
    )
    await put(repositoryName, a, 'v1-alias')
    await put(repositoryName, b, 'v2')
    expect(tagsOf(repositoryName)).toEqual({
      [sha256(a)]: ['v1', 'v1-alias'],
      [sha256(b)]: ['v2']
    })
  })

  it('IMMUTABLE_WITH_EXCLUSION lets only matching tags move', async () => {
    const repositoryName = 'immutable/with-exclusion'
    await createRepo(repositoryName, {
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [
        { filterType: 'WILDCARD', filter: 'latest' },
        { filterType: 'WILDCARD', filter: 'dev-*' },
        { filterType: 'WILDCARD', filter: 'v1.*' }
      ]
    })
    const a = dockerManifest('a')
    const b = dockerManifest('b')
    for (const tag of ['latest', 'dev-7', 'v1.2', 'v1x2', 'v2', 'latest-1', 'my-dev-1']) {
      await put(repositoryName, a, tag)
    }
    await put(repositoryName, b, 'latest')
    await put(repositoryName, b, 'dev-7')
    await put(repositoryName, b, 'v1.2')
    // '.' is literal in a WILDCARD filter, and the filter must match the whole tag.
    for (const tag of ['v1x2', 'v2', 'latest-1', 'my-dev-1']) {
      const err = await rejection(put(repositoryName, b, tag))
      expect(err).toBeInstanceOf(ImageTagAlreadyExistsException)
    }
    expect(tagsOf(repositoryName)).toEqual({
      [sha256(a)]: ['latest-1', 'my-dev-1', 'v1x2', 'v2'],
      [sha256(b)]: ['dev-7', 'latest', 'v1.2']
    })
  })

  it('MUTABLE_WITH_EXCLUSION makes only matching tags immutable', async () => {
    const repositoryName = 'mutable/with-exclusion'
    await createRepo(repositoryName, {
      imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'prod*' }]
    })
    const a = dockerManifest('a')
    const b = dockerManifest('b')
    for (const tag of ['prod', 'production-1', 'staging', 'preprod']) {
      await put(repositoryName, a, tag)
    }
    expect(await rejection(put(repositoryName, b, 'prod'))).toBeInstanceOf(
      ImageTagAlreadyExistsException
    )
    expect(await rejection(put(repositoryName, b, 'production-1'))).toBeInstanceOf(
      ImageTagAlreadyExistsException
    )
    await put(repositoryName, b, 'staging')
    await put(repositoryName, b, 'preprod')
    expect(tagsOf(repositoryName)).toEqual({
      [sha256(a)]: ['prod', 'production-1'],
      [sha256(b)]: ['preprod', 'staging']
    })
  })

  it('PutImageTagMutability takes effect for later pushes', async () => {
    const repositoryName = 'immutable/switched'
    await createRepo(repositoryName)
    await put(repositoryName, dockerManifest('a'), 'v1')
    await ecr.send(
      new PutImageTagMutabilityCommand({ repositoryName, imageTagMutability: 'IMMUTABLE' })
    )
    expect(await rejection(put(repositoryName, dockerManifest('b'), 'v1'))).toBeInstanceOf(
      ImageTagAlreadyExistsException
    )
    await ecr.send(
      new PutImageTagMutabilityCommand({ repositoryName, imageTagMutability: 'MUTABLE' })
    )
    await put(repositoryName, dockerManifest('b'), 'v1')
  })
})

// ---------------------------------------------------------------------------------------------
// BatchGetImage
// ---------------------------------------------------------------------------------------------

describe('BatchGetImage', () => {
  it('fails an index when acceptedMediaTypes is omitted and returns it when accepted', async () => {
    const repositoryName = 'get/multi-arch'
    await createRepo(repositoryName)
    const { amd64, index } = await pushMultiArch(repositoryName, 'v1')

    const naive = await ecr.send(
      new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }] })
    )
    expect(naive.images).toEqual([])
    expect(naive.failures).toEqual([
      {
        imageId: { imageTag: 'v1' },
        failureCode: 'UnsupportedImageType',
        failureReason: expect.any(String)
      }
    ])

    // Single-image manifests are accepted by default.
    const child = await ecr.send(
      new BatchGetImageCommand({ repositoryName, imageIds: [{ imageDigest: sha256(amd64) }] })
    )
    expect(child.images?.[0]?.imageManifest).toBe(amd64)

    const onlyManifestTypes = await ecr.send(
      new BatchGetImageCommand({
        repositoryName,
        imageIds: [{ imageTag: 'v1' }],
        acceptedMediaTypes: [OCI_MANIFEST, DOCKER_MANIFEST]
      })
    )
    expect(onlyManifestTypes.failures?.[0]?.failureCode).toBe('UnsupportedImageType')

    const proper = await ecr.send(
      new BatchGetImageCommand({
        repositoryName,
        imageIds: [{ imageTag: 'v1' }],
        acceptedMediaTypes: ALL_MANIFEST_TYPES
      })
    )
    expect(proper.failures).toEqual([])
    expect(proper.images).toEqual([
      {
        registryId: ACCOUNT,
        repositoryName,
        imageId: { imageDigest: sha256(index), imageTag: 'v1' },
        imageManifest: index,
        imageManifestMediaType: OCI_INDEX
      }
    ])
  })

  it('echoes the requested tag, omits it for digest lookups, and reports failures as requested', async () => {
    const repositoryName = 'get/ids'
    await createRepo(repositoryName)
    const a = dockerManifest('a')
    const b = dockerManifest('b')
    await put(repositoryName, a, 'v1')
    await put(repositoryName, a, 'stable')
    await put(repositoryName, b, 'v2')

    const out = await ecr.send(
      new BatchGetImageCommand({
        repositoryName,
        imageIds: [
          { imageTag: 'stable' },
          { imageDigest: sha256(a) },
          { imageTag: 'v1', imageDigest: sha256(a) },
          { imageTag: 'missing' },
          { imageDigest: sha256('nothing') },
          { imageTag: 'v2', imageDigest: sha256(a) }
        ]
      })
    )
    expect(out.images?.map((i) => i.imageId)).toEqual([
      { imageDigest: sha256(a), imageTag: 'stable' },
      { imageDigest: sha256(a) },
      { imageDigest: sha256(a), imageTag: 'v1' }
    ])
    expect(out.images?.every((i) => i.imageManifest === a)).toBe(true)
    expect(out.failures).toEqual([
      {
        imageId: { imageTag: 'missing' },
        failureCode: 'ImageNotFound',
        failureReason: 'Requested image not found'
      },
      {
        imageId: { imageDigest: sha256('nothing') },
        failureCode: 'ImageNotFound',
        failureReason: 'Requested image not found'
      },
      {
        imageId: { imageTag: 'v2', imageDigest: sha256(a) },
        failureCode: 'ImageTagDoesNotMatchDigest',
        failureReason: expect.any(String)
      }
    ])
  })

  it('accepts at most 100 image ids', async () => {
    const repositoryName = 'get/limit'
    await createRepo(repositoryName)
    const ids = (n: number): ImageIdentifier[] =>
      Array.from({ length: n }, (_, i) => ({ imageTag: `t${i}` }))
    const ok = await ecr.send(new BatchGetImageCommand({ repositoryName, imageIds: ids(100) }))
    expect(ok.failures).toHaveLength(100)
    const err = await rejection(
      ecr.send(new BatchGetImageCommand({ repositoryName, imageIds: ids(101) }))
    )
    expect(err).toBeInstanceOf(InvalidParameterException)
  })
})

// ---------------------------------------------------------------------------------------------
// ListImages / DescribeImages
// ---------------------------------------------------------------------------------------------

describe('listing', () => {
  const repositoryName = 'list/many-tags'
  const manifests = Array.from({ length: 250 }, (_, i) => dockerManifest(`img-${i}`))
  const tag = (i: number): string => `build-${String(i).padStart(3, '0')}`

  beforeAll(async () => {
    await createRepo(repositoryName)
    for (const [i, manifest] of manifests.entries()) await put(repositoryName, manifest, tag(i))
  })

  it('paginates 250 tags at 100 per page with an opaque nextToken', async () => {
    const page1 = await ecr.send(new ListImagesCommand({ repositoryName }))
    expect(page1.imageIds).toHaveLength(100)
    expect(page1.nextToken).toEqual(expect.any(String))
    const page2 = await ecr.send(
      new ListImagesCommand({ repositoryName, nextToken: page1.nextToken })
    )
    expect(page2.imageIds).toHaveLength(100)
    const page3 = await ecr.send(
      new ListImagesCommand({ repositoryName, nextToken: page2.nextToken })
    )
    expect(page3.imageIds).toHaveLength(50)
    expect(page3.nextToken).toBeUndefined()

    const all = [...(page1.imageIds ?? []), ...(page2.imageIds ?? []), ...(page3.imageIds ?? [])]
    // Stable order: push order.
    expect(all).toEqual(manifests.map((m, i) => ({ imageDigest: sha256(m), imageTag: tag(i) })))

    // The SDK paginator sees the same thing.
    const viaPaginator: string[] = []
    for await (const page of paginateListImages({ client: ecr }, { repositoryName })) {
      for (const id of page.imageIds ?? []) viaPaginator.push(id.imageTag ?? '')
    }
    expect(viaPaginator).toEqual(manifests.map((_, i) => tag(i)))

    const big = await ecr.send(new ListImagesCommand({ repositoryName, maxResults: 1000 }))
    expect(big.imageIds).toHaveLength(250)
    expect(big.nextToken).toBeUndefined()
    const small = await ecr.send(new ListImagesCommand({ repositoryName, maxResults: 7 }))
    expect(small.imageIds).toHaveLength(7)
  })

  it('rejects invalid nextToken and maxResults with InvalidParameterException', async () => {
    const page1 = await ecr.send(new ListImagesCommand({ repositoryName }))
    const token = page1.nextToken ?? ''
    for (const nextToken of [
      'garbage',
      `${token}x`,
      token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'))
    ]) {
      const err = await rejection(ecr.send(new ListImagesCommand({ repositoryName, nextToken })))
      expect(err).toBeInstanceOf(InvalidParameterException)
    }
    // A token is bound to its operation, repository and filter.
    const otherFilter = await rejection(
      ecr.send(
        new ListImagesCommand({
          repositoryName,
          nextToken: token,
          filter: { tagStatus: 'UNTAGGED' }
        })
      )
    )
    expect(otherFilter).toBeInstanceOf(InvalidParameterException)
    const otherOp = await rejection(
      ecr.send(new DescribeImagesCommand({ repositoryName, nextToken: token }))
    )
    expect(otherOp).toBeInstanceOf(InvalidParameterException)
    for (const maxResults of [0, 1001]) {
      const err = await rejection(ecr.send(new ListImagesCommand({ repositoryName, maxResults })))
      expect(err).toBeInstanceOf(InvalidParameterException)
    }
  })

  it('paginates DescribeImages the same way', async () => {
    const pages: number[] = []
    const digests: string[] = []
    for await (const page of paginateDescribeImages({ client: ecr }, { repositoryName })) {
      pages.push(page.imageDetails?.length ?? 0)
      for (const detail of page.imageDetails ?? []) digests.push(detail.imageDigest ?? '')
    }
    expect(pages).toEqual([100, 100, 50])
    expect(digests).toEqual(manifests.map((m) => sha256(m)))
  })

  it('filters by tagStatus and lists one entry per tag', async () => {
    const name = 'list/tag-status'
    await createRepo(name)
    const a = dockerManifest('a')
    const b = dockerManifest('b')
    await put(name, a, 'v1')
    await put(name, a, 'alpha')
    await put(name, b) // untagged
    const any = await ecr.send(new ListImagesCommand({ repositoryName: name }))
    expect(any.imageIds).toEqual([
      { imageDigest: sha256(a), imageTag: 'alpha' },
      { imageDigest: sha256(a), imageTag: 'v1' },
      { imageDigest: sha256(b) }
    ])
    const tagged = await ecr.send(
      new ListImagesCommand({ repositoryName: name, filter: { tagStatus: 'TAGGED' } })
    )
    expect(tagged.imageIds).toHaveLength(2)
    const untagged = await ecr.send(
      new ListImagesCommand({ repositoryName: name, filter: { tagStatus: 'UNTAGGED' } })
    )
    expect(untagged.imageIds).toEqual([{ imageDigest: sha256(b) }])
    const describedUntagged = await ecr.send(
      new DescribeImagesCommand({ repositoryName: name, filter: { tagStatus: 'UNTAGGED' } })
    )
    expect(describedUntagged.imageDetails?.map((d) => d.imageDigest)).toEqual([sha256(b)])
  })

  it('DescribeImages returns image details and ImageNotFoundException for unknown ids', async () => {
    const name = 'describe/details'
    await createRepo(name)
    const before = Date.now()
    const { amd64, index } = await pushMultiArch(name, 'v1')
    await put(name, index, 'stable')

    const out = await ecr.send(
      new DescribeImagesCommand({
        repositoryName: name,
        imageIds: [{ imageTag: 'v1' }, { imageDigest: sha256(amd64) }]
      })
    )
    expect(out.imageDetails).toHaveLength(2)
    const [indexDetail, childDetail] = out.imageDetails ?? []
    expect(indexDetail).toMatchObject({
      registryId: ACCOUNT,
      repositoryName: name,
      imageDigest: sha256(index),
      imageTags: ['stable', 'v1'],
      imageManifestMediaType: OCI_INDEX
    })
    expect(indexDetail?.imagePushedAt).toBeInstanceOf(Date)
    expect(indexDetail?.imagePushedAt?.getTime()).toBeGreaterThanOrEqual(before - 1000)
    expect(childDetail).toMatchObject({
      imageDigest: sha256(amd64),
      imageManifestMediaType: OCI_MANIFEST,
      imageSizeInBytes: 3623807 + 1048576
    })
    expect(childDetail?.imageTags).toBeUndefined()
    expect(indexDetail?.imageSizeInBytes).toBe(3623807 + 1048576)

    const err = await rejection(
      ecr.send(
        new DescribeImagesCommand({ repositoryName: name, imageIds: [{ imageTag: 'nope' }] })
      )
    )
    expect(err).toBeInstanceOf(ImageNotFoundException)
  })
})

// ---------------------------------------------------------------------------------------------
// BatchDeleteImage
// ---------------------------------------------------------------------------------------------

describe('BatchDeleteImage', () => {
  it('removes a tag, deleting the image only with its last tag', async () => {
    const repositoryName = 'delete/by-tag'
    await createRepo(repositoryName)
    const a = dockerManifest('a')
    await put(repositoryName, a, 'v1')
    await put(repositoryName, a, 'stable')

    const first = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }] })
    )
    expect(first.imageIds).toEqual([{ imageDigest: sha256(a), imageTag: 'v1' }])
    expect(first.failures).toEqual([])
    expect(tagsOf(repositoryName)).toEqual({ [sha256(a)]: ['stable'] })

    await ecr.send(
      new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: 'stable' }] })
    )
    expect(standIn.control.snapshot(repositoryName).images).toEqual([])

    const missing = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: 'stable' }] })
    )
    expect(missing.imageIds).toEqual([])
    expect(missing.failures).toEqual([
      {
        imageId: { imageTag: 'stable' },
        failureCode: 'ImageNotFound',
        failureReason: 'Requested image not found'
      }
    ])
  })

  it('deletes by digest with all tags, but not images an index references', async () => {
    const repositoryName = 'delete/by-digest'
    await createRepo(repositoryName)
    const { amd64, arm64, index } = await pushMultiArch(repositoryName, 'v1')
    await put(repositoryName, index, 'stable')

    const blocked = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest: sha256(amd64) }] })
    )
    expect(blocked.imageIds).toEqual([])
    expect(blocked.failures?.[0]).toMatchObject({
      imageId: { imageDigest: sha256(amd64) },
      failureCode: 'ImageReferencedByManifestList'
    })

    const out = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest: sha256(index) }] })
    )
    expect(out.failures).toEqual([])
    expect(out.imageIds).toEqual([
      { imageDigest: sha256(index), imageTag: 'stable' },
      { imageDigest: sha256(index), imageTag: 'v1' }
    ])
    expect(tagsOf(repositoryName)).toEqual({ [sha256(amd64)]: [], [sha256(arm64)]: [] })

    // Now that nothing references the children, they can go.
    const children = await ecr.send(
      new BatchDeleteImageCommand({
        repositoryName,
        imageIds: [{ imageDigest: sha256(amd64) }, { imageDigest: sha256(arm64) }]
      })
    )
    expect(children.imageIds).toHaveLength(2)
    expect(standIn.control.snapshot(repositoryName).images).toEqual([])
  })
})

// ---------------------------------------------------------------------------------------------
// control surface
// ---------------------------------------------------------------------------------------------

describe('control', () => {
  it('records every call in order with its parsed input', async () => {
    const repositoryName = 'control/calls'
    const start = standIn.control.calls.length
    await createRepo(repositoryName)
    await put(repositoryName, dockerManifest(), 'v1')
    await ecr.send(new ListImagesCommand({ repositoryName, maxResults: 5 }))
    const recorded = standIn.control.calls.slice(start)
    expect(recorded.map((c) => c.operation)).toEqual(['CreateRepository', 'PutImage', 'ListImages'])
    expect(recorded[1]?.input).toEqual({
      repositoryName,
      imageManifest: dockerManifest(),
      imageTag: 'v1'
    })
    expect(recorded[2]?.input).toEqual({ repositoryName, maxResults: 5 })
  })

  it('deny() turns later calls into AccessDeniedException, optionally per repository', async () => {
    const isolated = await startStandIn()
    const client = clientFor(isolated.url)
    try {
      await client.send(new CreateRepositoryCommand({ repositoryName: 'app' }))
      await client.send(new CreateRepositoryCommand({ repositoryName: 'other' }))
      isolated.control.deny('PutImage', 'app')

      const err = await rejection(
        client.send(
          new PutImageCommand({
            repositoryName: 'app',
            imageManifest: dockerManifest(),
            imageTag: 'v1'
          })
        )
      )
      expect(err).toBeInstanceOf(ECRServiceException)
      expect(err.name).toBe('AccessDeniedException')
      expect(err.message).toBe(
        'User: arn:aws:sts::123456789012:assumed-role/ci/gh is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:us-east-1:123456789012:repository/app because no identity-based policy allows the ecr:PutImage action'
      )
      expect((err as ECRServiceException).$metadata.httpStatusCode).toBe(400)
      expect(isolated.control.calls.filter((c) => c.operation === 'PutImage')).toHaveLength(1)
      expect(isolated.control.snapshot('app').images).toEqual([])

      // Other repositories and other operations are unaffected.
      await client.send(
        new PutImageCommand({
          repositoryName: 'other',
          imageManifest: dockerManifest(),
          imageTag: 'v1'
        })
      )
      await client.send(new ListImagesCommand({ repositoryName: 'app' }))

      isolated.control.deny('ListImages')
      expect(
        (await rejection(client.send(new ListImagesCommand({ repositoryName: 'other' })))).name
      ).toBe('AccessDeniedException')

      isolated.control.reset()
      expect(isolated.control.calls).toEqual([])
      const gone = await rejection(client.send(new ListImagesCommand({ repositoryName: 'other' })))
      expect(gone).toBeInstanceOf(RepositoryNotFoundException) // no longer denied, repo emptied
      expect(() => isolated.control.snapshot('other')).toThrow()
    } finally {
      client.destroy()
      await isolated.close()
    }
  })

  it('failPutImage() fails the next `times` PutImage requests for that tag, without changing state', async () => {
    const repositoryName = 'control/fail-put'
    await createRepo(repositoryName)
    const a = dockerManifest('a')
    const b = dockerManifest('b')
    await put(repositoryName, a, 'v1')
    await put(repositoryName, a, 'v2')
    const before = standIn.control.snapshot(repositoryName)

    // A ServerException is an HTTP 500, which the SDK tries three times.
    standIn.control.failPutImage('v2', { exception: 'ServerException', times: 3 })
    await put(repositoryName, b, 'v1') // other tags are unaffected
    const err = await rejection(put(repositoryName, b, 'v2'))
    expect(err).toBeInstanceOf(ServerException)
    expect(err.message).toBe('injected failure')
    expect((err as ServerException).$metadata).toMatchObject({ httpStatusCode: 500, attempts: 3 })
    expect(tagsOf(repositoryName)).toEqual({ [sha256(a)]: ['v2'], [sha256(b)]: ['v1'] })
    expect(before.images[0]?.tags).toEqual(['v1', 'v2'])

    await put(repositoryName, b, 'v2') // only three times
    expect(tagsOf(repositoryName)).toEqual({ [sha256(a)]: [], [sha256(b)]: ['v1', 'v2'] })

    standIn.control.failPutImage('v3', { exception: 'KmsException', message: 'kms is down' })
    const kms = await rejection(put(repositoryName, a, 'v3'))
    expect(kms).toBeInstanceOf(KmsException)
    expect(kms.message).toBe('kms is down')
    const v3Calls = standIn.control.calls.filter(
      (c) =>
        c.operation === 'PutImage' &&
        c.input.repositoryName === repositoryName &&
        c.input.imageTag === 'v3'
    )
    expect(v3Calls).toHaveLength(1) // HTTP 400 + non-throttling name: the SDK does not retry
    expect(tagsOf(repositoryName)[sha256(a)]).toEqual([])
  })

  it('rewrite() changes the next successful answers of one operation, as a proxy would, then stops', async () => {
    const repositoryName = 'control/rewrite'
    await createRepo(repositoryName)
    await put(repositoryName, dockerManifest('r'), 'v1')
    const list = () => ecr.send(new ListImagesCommand({ repositoryName }))
    standIn.control.rewrite(
      'ListImages',
      (body: { imageIds: unknown[] }) => ({ ...body, imageIds: [] }),
      {
        count: 1
      }
    )
    // A failed answer is not rewritten, nor counted.
    await rejection(ecr.send(new ListImagesCommand({ repositoryName: 'control/none' })))
    expect((await list()).imageIds).toEqual([])
    expect((await list()).imageIds).toHaveLength(1)
    standIn.control.rewrite('ListImages', () => ({}))
    expect((await list()).imageIds).toBeUndefined()
    standIn.control.rewrite('ListImages', null)
    expect((await list()).imageIds).toHaveLength(1)
  })

  it('failPutImage() with a throttling exception name is absorbed by the SDK retry', async () => {
    const repositoryName = 'control/fail-put-throttled'
    await createRepo(repositoryName)
    standIn.control.failPutImage('v1', { exception: 'LimitExceededException' })
    const out = await put(repositoryName, dockerManifest(), 'v1')
    expect(out.$metadata.attempts).toBe(2)
    const attempts = standIn.control.calls.filter(
      (c) => c.operation === 'PutImage' && c.input.repositoryName === repositoryName
    )
    expect(attempts).toHaveLength(2)
    expect(tagsOf(repositoryName)).toEqual({ [sha256(dockerManifest())]: ['v1'] })
  })

  it('snapshot() lists every image sorted by digest, including untagged ones', async () => {
    const repositoryName = 'control/snapshot'
    await createRepo(repositoryName)
    const manifests = ['a', 'b', 'c', 'd'].map((seed) => dockerManifest(seed))
    for (const m of manifests) await put(repositoryName, m, 'moving')
    const { images } = standIn.control.snapshot(repositoryName)
    expect(images.map((i) => i.digest)).toEqual(manifests.map((m) => sha256(m)).sort())
    expect(images.filter((i) => i.tags.length === 0)).toHaveLength(3)
    expect(images.every((i) => i.mediaType === DOCKER_MANIFEST)).toBe(true)
  })

  it('answers unknown operations with UnknownOperationException', async () => {
    const client = clientFor(standIn.url)
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers: Record<string, string> }
        request.headers['x-amz-target'] = 'AmazonEC2ContainerRegistry_V20150921.LaunchRockets'
        return next(args)
      },
      { step: 'build', name: 'rewriteTarget' }
    )
    try {
      const err = await rejection(client.send(new ListImagesCommand({ repositoryName: 'x1' })))
      expect(err).toBeInstanceOf(ECRServiceException)
      expect(err.name).toBe('UnknownOperationException')
      expect((err as ECRServiceException).$metadata.httpStatusCode).toBe(400)
    } finally {
      client.destroy()
    }
  })

  it('runs as a CLI that prints its URL and stops on SIGTERM', async () => {
    const script = fileURLToPath(new URL('./support/ecr-standin.mjs', import.meta.url))
    const child = spawn(process.execPath, [script, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code))
    )
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = ''
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8')
          const line = out.split('\n')
          if (line.length > 1) resolve(line[0] ?? '')
        })
        child.on('exit', () => reject(new Error(`stand-in exited before printing its URL: ${out}`)))
      })
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const client = clientFor(url)
      try {
        const out = await client.send(new CreateRepositoryCommand({ repositoryName: 'cli/app' }))
        expect(out.repository?.repositoryUri).toBe(
          `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/cli/app`
        )
      } finally {
        client.destroy()
      }
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  })
})

// ---------------------------------------------------------------------------------------------
// fault injection and latency
// ---------------------------------------------------------------------------------------------

describe('fault injection', () => {
  const HANG_TIMEOUT_MS = 300
  let faulty: StandIn
  let raw: ECRClient

  /** No retries, so faults arrive raw; a short timeout gives up on hung requests. */
  const rawClientFor = (url: string, timeout = true): ECRClient =>
    new ECRClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
      ...(timeout
        ? { requestHandler: { requestTimeout: HANG_TIMEOUT_MS, throwOnRequestTimeout: true } }
        : {})
    })

  const putApp = (manifest: string, imageTag?: string) =>
    raw.send(new PutImageCommand({ repositoryName: 'app', imageManifest: manifest, imageTag }))

  const appTags = (): Record<string, string[]> =>
    Object.fromEntries(faulty.control.snapshot('app').images.map((i) => [i.digest, i.tags]))

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

  /** Resolves to whether `promise` settled within `ms`. */
  const settlesWithin = (promise: Promise<unknown>, ms: number): Promise<boolean> =>
    Promise.race([
      promise.then(
        () => true,
        () => true
      ),
      sleep(ms).then(() => false)
    ])

  beforeEach(async () => {
    faulty = await startStandIn()
    raw = rawClientFor(faulty.url)
    await raw.send(new CreateRepositoryCommand({ repositoryName: 'app' }))
  })

  afterEach(async () => {
    raw.destroy()
    await faulty.close()
  })

  it('reset-before drops the connection before applying: no state change, the call rejects', async () => {
    faulty.control.faults({ rate: 1, operations: ['PutImage'], kinds: ['reset-before'] })
    const err = await rejection(putApp(dockerManifest(), 'v1'))
    expect(err).not.toBeInstanceOf(ECRServiceException) // no answer at all, only a reset
    expect(err.message).toMatch(/ECONNRESET/) // the SDK sees the reset itself
    expect(faulty.control.snapshot('app').images).toEqual([])
    expect(faulty.control.calls.map((c) => c.operation)).toEqual(['CreateRepository', 'PutImage'])
    expect(faulty.control.injected).toEqual([{ operation: 'PutImage', kind: 'reset-before' }])
  })

  it('error-after applies a PutImage, then answers HTTP 500 ServerException', async () => {
    const manifest = dockerManifest()
    faulty.control.faults({ rate: 1, operations: ['PutImage'], kinds: ['error-after'] })
    const err = await rejection(putApp(manifest, 'v1'))
    expect(err).toBeInstanceOf(ServerException)
    expect(err.message).toBe('injected: applied, answer lost')
    expect((err as ServerException).$metadata.httpStatusCode).toBe(500)

    const got = await raw.send(
      new BatchGetImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'v1' }] })
    )
    expect(got.images?.map((i) => i.imageId?.imageDigest)).toEqual([sha256(manifest)])
    expect(faulty.control.injected).toEqual([{ operation: 'PutImage', kind: 'error-after' }])

    // A request the operation rejects just loses its (error) answer and changes nothing.
    const again = await rejection(putApp(manifest, 'v1'))
    expect(again).toBeInstanceOf(ServerException)
    expect(again.message).toBe('injected: rejected, answer lost')
    expect(appTags()).toEqual({ [sha256(manifest)]: ['v1'] })

    // Unfaulted, the retry of the lost write meets its own earlier attempt, as on real ECR.
    faulty.control.faults(null)
    expect(await rejection(putApp(manifest, 'v1'))).toBeInstanceOf(ImageAlreadyExistsException)
  })

  it('reset-after applies, then drops the connection without an answer', async () => {
    const manifest = dockerManifest()
    faulty.control.faults({ rate: 1, operations: ['PutImage'], kinds: ['reset-after'] })
    const err = await rejection(putApp(manifest, 'v1'))
    expect(err).not.toBeInstanceOf(ECRServiceException)
    expect(err.message).toMatch(/ECONNRESET/) // the SDK sees the reset itself
    expect(appTags()).toEqual({ [sha256(manifest)]: ['v1'] })
    expect(faulty.control.injected).toEqual([{ operation: 'PutImage', kind: 'reset-after' }])
  })

  it('hang() leaves the next request unanswered and unapplied until the client gives up', async () => {
    faulty.control.hang('PutImage')
    const start = performance.now()
    const err = await rejection(putApp(dockerManifest(), 'v1'))
    expect(err.name).toBe('TimeoutError')
    expect(performance.now() - start).toBeGreaterThanOrEqual(HANG_TIMEOUT_MS - 5)
    expect(faulty.control.snapshot('app').images).toEqual([])
    expect(faulty.control.injected).toEqual([{ operation: 'PutImage', kind: 'hang' }])

    await putApp(dockerManifest(), 'v1') // count defaults to 1: the next one is answered
    expect(appTags()).toEqual({ [sha256(dockerManifest())]: ['v1'] })

    // faults() kind 'hang' behaves the same: not applied, never answered.
    faulty.control.faults({ rate: 1, operations: ['PutImage'], kinds: ['hang'] })
    expect((await rejection(putApp(dockerManifest('b'), 'v2'))).name).toBe('TimeoutError')
    expect(appTags()).toEqual({ [sha256(dockerManifest())]: ['v1'] })
  })

  it('hang() with apply: true applies the request, then never answers', async () => {
    const manifest = dockerManifest()
    faulty.control.hang('PutImage', { count: 2, apply: true })
    expect((await rejection(putApp(manifest, 'v1'))).name).toBe('TimeoutError')
    expect(appTags()).toEqual({ [sha256(manifest)]: ['v1'] })
    // The second hung request is rejected by the operation: nothing changes, still no answer.
    expect((await rejection(putApp(manifest, 'v1'))).name).toBe('TimeoutError')
    expect(appTags()).toEqual({ [sha256(manifest)]: ['v1'] })
    expect(faulty.control.injected).toEqual([
      { operation: 'PutImage', kind: 'hang' },
      { operation: 'PutImage', kind: 'hang' }
    ])
    expect(await rejection(putApp(manifest, 'v1'))).toBeInstanceOf(ImageAlreadyExistsException)
  })

  it('latency() delays a call by at least the set ms and applies it at the end of the delay', async () => {
    faulty.control.latency({ PutImage: 200 })
    const start = performance.now()
    const pending = putApp(dockerManifest(), 'v1')
    await sleep(80)
    expect(faulty.control.calls.map((c) => c.operation)).toContain('PutImage') // received...
    expect(faulty.control.snapshot('app').images).toEqual([]) // ...but not applied yet
    await pending
    expect(performance.now() - start).toBeGreaterThanOrEqual(200)
    expect(appTags()).toEqual({ [sha256(dockerManifest())]: ['v1'] })

    const listStart = performance.now()
    await raw.send(new ListImagesCommand({ repositoryName: 'app' })) // not named, no default
    expect(performance.now() - listStart).toBeLessThan(150)

    faulty.control.latency(0)
    const offStart = performance.now()
    await putApp(dockerManifest('b'), 'v2')
    expect(performance.now() - offStart).toBeLessThan(150)
  })

  it('latency() beyond the client timeout still applies the write: only the answer is lost', async () => {
    faulty.control.latency({ PutImage: HANG_TIMEOUT_MS + 100 })
    const written = faulty.control.waitFor('PutImage')
    expect((await rejection(putApp(dockerManifest(), 'v1'))).name).toBe('TimeoutError')
    expect(faulty.control.snapshot('app').images).toEqual([]) // the client left mid-delay
    expect(await settlesWithin(written, 1000)).toBe(true)
    expect(appTags()).toEqual({ [sha256(dockerManifest())]: ['v1'] })
    expect(faulty.control.injected).toEqual([]) // slowness is not a fault
  })

  it('latency() delays concurrent calls independently, and ranges stay within bounds', async () => {
    faulty.control.latency(250)
    const start = performance.now()
    const timed = async (call: Promise<unknown>) => {
      await call
      return performance.now() - start
    }
    const took = await Promise.all([
      timed(raw.send(new ListImagesCommand({ repositoryName: 'app' }))),
      timed(raw.send(new DescribeImagesCommand({ repositoryName: 'app' })))
    ])
    for (const ms of took) expect(ms).toBeGreaterThanOrEqual(250)
    expect(performance.now() - start).toBeLessThan(450) // overlapped, not 2 x 250

    faulty.control.latency({ default: [60, 90], ListImages: 0 }, 7)
    const rangeStart = performance.now()
    await raw.send(new DescribeImagesCommand({ repositoryName: 'app' }))
    const ranged = performance.now() - rangeStart
    expect(ranged).toBeGreaterThanOrEqual(60)
    expect(ranged).toBeLessThan(90 + 150)
  })

  it('the seeded PRNG gives the same faults for the same seed and others for another seed', async () => {
    const run = async (seed: number) => {
      faulty.control.reset()
      faulty.control.faults({ seed, rate: 0.5, kinds: ['reset-before', 'error-after'] })
      const outcomes: string[] = []
      for (let i = 0; i < 24; i++) {
        try {
          await raw.send(new DescribeRepositoriesCommand({}))
          outcomes.push('ok')
        } catch (error) {
          outcomes.push(error instanceof ServerException ? '500' : 'reset')
        }
      }
      return { outcomes, injected: faulty.control.injected.map((f) => f.kind) }
    }
    const first = await run(42)
    const second = await run(42)
    const other = await run(7)
    expect(second).toEqual(first)
    expect(other.outcomes).not.toEqual(first.outcomes)
    for (const { outcomes, injected } of [first, other]) {
      expect(outcomes).toContain('ok')
      expect(outcomes).toContain('500')
      expect(outcomes).toContain('reset')
      expect(injected).toEqual(
        outcomes
          .filter((o) => o !== 'ok')
          .map((o) => (o === '500' ? 'error-after' : 'reset-before'))
      )
    }
  })

  it('faults() touch only the listed operations', async () => {
    faulty.control.faults({ rate: 1, operations: ['PutImage', 'BatchDeleteImage'] })
    for (let i = 0; i < 5; i++) {
      await raw.send(new ListImagesCommand({ repositoryName: 'app' }))
      await raw.send(new DescribeRepositoriesCommand({ repositoryNames: ['app'] }))
    }
    expect(faulty.control.injected).toEqual([])
    faulty.control.faults({ rate: 1, operations: ['ListImages'], kinds: ['error-after'] })
    await putApp(dockerManifest(), 'v1')
    expect(
      await rejection(raw.send(new ListImagesCommand({ repositoryName: 'app' })))
    ).toBeInstanceOf(ServerException)
    expect(faulty.control.injected).toEqual([{ operation: 'ListImages', kind: 'error-after' }])
  })

  it('setPushedAt() sets the imagePushedAt DescribeImages reports', async () => {
    await putApp(dockerManifest('old'), 'old')
    await putApp(dockerManifest('new'), 'new')
    const old = new Date('2020-01-02T03:04:05.000Z')
    faulty.control.setPushedAt('app', sha256(dockerManifest('old')), old)
    faulty.control.setPushedAt('app', sha256(dockerManifest('new')), Date.UTC(2024, 5, 1))
    const { imageDetails = [] } = await raw.send(
      new DescribeImagesCommand({ repositoryName: 'app' })
    )
    expect(imageDetails.map((d) => [d.imageTags, d.imagePushedAt])).toEqual([
      [['old'], old],
      [['new'], new Date(Date.UTC(2024, 5, 1))]
    ])
    expect(() => faulty.control.setPushedAt('nope', sha256(dockerManifest('old')), old)).toThrow(
      /no repository named 'nope'/
    )
    expect(() => faulty.control.setPushedAt('app', sha256('missing'), old)).toThrow(/no image/)
  })

  it('waitFor() resolves once the write is applied, not before', async () => {
    faulty.control.latency({ PutImage: 200 })
    const written = faulty.control.waitFor('PutImage')
    const pending = putApp(dockerManifest(), 'v1')
    expect(await settlesWithin(written, 80)).toBe(false) // received, still in its delay
    expect(faulty.control.snapshot('app').images).toEqual([])
    await written
    expect(appTags()).toEqual({ [sha256(dockerManifest())]: ['v1'] }) // applied on resolution
    await pending

    // Counts are absolute since start/reset; a request the operation rejects is not applied.
    await faulty.control.waitFor('PutImage', 1)
    const second = faulty.control.waitFor('PutImage', 2)
    faulty.control.latency(0)
    expect(await rejection(putApp(dockerManifest(), 'v1'))).toBeInstanceOf(
      ImageAlreadyExistsException
    )
    expect(await settlesWithin(second, 50)).toBe(false)
    faulty.control.faults({ rate: 1, operations: ['PutImage'], kinds: ['reset-after'] })
    await rejection(putApp(dockerManifest('b'), 'v2')) // applied, then its answer lost: counts
    await expect(second).resolves.toBeUndefined()
  })

  it('reset() turns latency, faults and hangs off and clears injected and waiters', async () => {
    faulty.control.faults({ rate: 1, kinds: ['error-after'] })
    await rejection(raw.send(new ListImagesCommand({ repositoryName: 'app' })))
    expect(faulty.control.injected).toHaveLength(1)
    faulty.control.latency(400)
    faulty.control.hang('CreateRepository')
    faulty.control.hang('ListImages', { count: 3 })
    const waiter = faulty.control.waitFor('PutImage')

    faulty.control.reset()
    await expect(waiter).rejects.toThrow(/reset\(\)/)
    expect(faulty.control.injected).toEqual([])
    expect(faulty.control.calls).toEqual([])
    const start = performance.now()
    await raw.send(new CreateRepositoryCommand({ repositoryName: 'app' }))
    await raw.send(new ListImagesCommand({ repositoryName: 'app' }))
    await putApp(dockerManifest(), 'v1')
    expect(performance.now() - start).toBeLessThan(200)
    expect(faulty.control.injected).toEqual([])
    await faulty.control.waitFor('PutImage') // counts restarted after the reset
  })

  it('close() returns promptly with a hung and a delayed request open', async () => {
    const patient = rawClientFor(faulty.url, false) // never gives up by itself
    try {
      faulty.control.hang('ListImages', { apply: true })
      faulty.control.latency({ PutImage: 300 })
      const hung = patient.send(new ListImagesCommand({ repositoryName: 'app' }))
      hung.catch(() => {})
      expect(await settlesWithin(faulty.control.waitFor('ListImages'), 1000)).toBe(true) // hanging
      const delayed = patient.send(
        new PutImageCommand({
          repositoryName: 'app',
          imageManifest: dockerManifest(),
          imageTag: 'v1'
        })
      )
      delayed.catch(() => {})
      while (!faulty.control.calls.some((c) => c.operation === 'PutImage')) await sleep(5)

      const start = performance.now()
      expect(await settlesWithin(faulty.close(), 1000)).toBe(true)
      expect(performance.now() - start).toBeLessThan(500)
      await expect(hung).rejects.toThrow()
      await expect(delayed).rejects.toThrow()
      await sleep(400) // past the delay: it was cancelled, not applied late
      expect(faulty.control.snapshot('app').images).toEqual([])
    } finally {
      patient.destroy()
    }
  })

  it('rejects invalid control arguments', () => {
    const { control } = faulty
    expect(() => control.hang('LaunchRockets')).toThrow(/unknown operation 'LaunchRockets'/)
    expect(() => control.hang('PutImage', { count: 0 })).toThrow(RangeError)
    expect(() => control.faults({ rate: 1.5 })).toThrow(RangeError)
    expect(() => control.faults({ rate: 0.5, operations: ['Put'] })).toThrow(/unknown operation/)
    expect(() => control.faults({ rate: 0.5, kinds: [] })).toThrow(RangeError)
    expect(() => control.faults({ rate: 0.5, seed: 1.5 })).toThrow(TypeError)
    expect(() => control.latency(-1)).toThrow(RangeError)
    expect(() => control.latency({ PutImage: [50, 10] })).toThrow(RangeError)
    expect(() => control.latency({ Nope: 10 })).toThrow(/unknown operation/)
    expect(() => control.waitFor('PutImage', 0)).toThrow(RangeError)
    expect(() => control.setPushedAt('app', sha256('x'), new Date('nonsense'))).toThrow(Error)
  })
})

describe('write quota', () => {
  let limited: StandIn
  let raw: ECRClient
  /** The stand-in's clock: time moves only when a test moves it. */
  let now: number

  /** No retries, so every ThrottlingException arrives as the call's own error. */
  const rawClientFor = (url: string, maxAttempts = 1): ECRClient =>
    new ECRClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts
    })

  const putTag = (client: ECRClient, imageTag: string) =>
    client.send(
      new PutImageCommand({ repositoryName: 'app', imageManifest: dockerManifest(), imageTag })
    )

  /** Sends the PutImages at once and sorts the answers into successes and throttled errors. */
  async function putAll(client: ECRClient, tags: string[]) {
    const settled = await Promise.allSettled(tags.map((tag) => putTag(client, tag)))
    const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []))
    return {
      ok: settled.filter((s) => s.status === 'fulfilled').length,
      throttled: errors.filter((e) => e.name === 'ThrottlingException').length,
      other: errors.filter((e) => e.name !== 'ThrottlingException')
    }
  }

  const tagged = (): string[] =>
    limited.control.snapshot('app').images.flatMap((image) => image.tags)

  const appTags = (): Record<string, string[]> =>
    Object.fromEntries(limited.control.snapshot('app').images.map((i) => [i.digest, i.tags]))

  const numbered = (prefix: string, count: number): string[] =>
    Array.from({ length: count }, (_, i) => `${prefix}${i}`)

  beforeEach(async () => {
    now = 1_000_000
    limited = await startStandIn({ clock: () => now })
    raw = rawClientFor(limited.url)
    await raw.send(new CreateRepositoryCommand({ repositoryName: 'app' }))
  })

  afterEach(async () => {
    raw.destroy()
    await limited.close()
  })

  it('answers a request that finds the bucket empty with HTTP 400 ThrottlingException, unapplied', async () => {
    limited.control.quota({ PutImage: { rate: 10, burst: 1 } })
    await putTag(raw, 'first')
    const err = await rejection(putTag(raw, 'second'))
    expect(err).toBeInstanceOf(ECRServiceException) // not modeled by the ECR client
    expect(err.name).toBe('ThrottlingException')
    expect(err.message).toBe('Rate exceeded')
    expect((err as ECRServiceException).$metadata.httpStatusCode).toBe(400)
    expect(tagged()).toEqual(['first'])
    expect(limited.control.throttled).toEqual([{ operation: 'PutImage', at: now }])
    // Recorded on arrival like every call, with the clock's time.
    expect(limited.control.calls.map(({ operation, at }) => [operation, at])).toEqual([
      ['CreateRepository', now],
      ['PutImage', now],
      ['PutImage', now]
    ])
  })

  it('10/s with a burst of 10: 15 at once give 10 writes and 5 throttled; 300 ms later 3 more fit', async () => {
    limited.control.quota({ PutImage: { rate: 10, burst: 10 } })
    const first = await putAll(raw, numbered('a', 15))
    expect(first).toEqual({ ok: 10, throttled: 5, other: [] })
    expect(tagged()).toHaveLength(10)
    expect(limited.control.throttled).toHaveLength(5)

    now += 300 // refills 3 tokens, continuously: not a whole second's worth at once
    const later: string[] = []
    for (const tag of numbered('b', 4)) {
      try {
        await putTag(raw, tag)
        later.push('ok')
      } catch (error) {
        later.push((error as Error).name)
      }
    }
    expect(later).toEqual(['ok', 'ok', 'ok', 'ThrottlingException'])
    expect(limited.control.throttled).toHaveLength(6)
    expect(limited.control.throttled[5]).toEqual({ operation: 'PutImage', at: now })

    now += 60_000 // a long pause fills the bucket to its burst, no further
    expect(await putAll(raw, numbered('c', 12))).toEqual({ ok: 10, throttled: 2, other: [] })
  })

  it('leaves other operations unlimited and keeps one bucket per operation, across repositories', async () => {
    await raw.send(new CreateRepositoryCommand({ repositoryName: 'other' }))
    limited.control.quota({ PutImage: { rate: 1, burst: 2 }, ListImages: { rate: 1, burst: 1 } })
    await putTag(raw, 'v1')
    await raw.send(
      new PutImageCommand({
        repositoryName: 'other',
        imageManifest: dockerManifest(),
        imageTag: 'v1'
      })
    )
    expect((await rejection(putTag(raw, 'v2'))).name).toBe('ThrottlingException') // shared bucket

    const reads = await Promise.all(
      Array.from({ length: 20 }, () =>
        Promise.all([
          raw.send(new DescribeRepositoriesCommand({ repositoryNames: ['app'] })),
          raw.send(
            new BatchGetImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'v1' }] })
          ),
          raw.send(new DescribeImagesCommand({ repositoryName: 'app' }))
        ])
      )
    )
    expect(reads).toHaveLength(20)
    await raw.send(new ListImagesCommand({ repositoryName: 'app' }))
    const list = await rejection(raw.send(new ListImagesCommand({ repositoryName: 'other' })))
    expect(list.name).toBe('ThrottlingException')
    expect(limited.control.throttled.map((t) => t.operation)).toEqual(['PutImage', 'ListImages'])
  })

  it('takes the token when the request is applied, after its latency delay', async () => {
    limited.control.quota({ PutImage: { rate: 10, burst: 1 } })
    await putTag(raw, 'first') // the bucket is empty now
    limited.control.latency({ PutImage: 150 })
    const written = limited.control.waitFor('PutImage', 2)
    const pending = putTag(raw, 'second')
    while (!limited.control.calls.some((c) => c.input.imageTag === 'second')) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    now += 100 // during the delay: one token back by the time the request lands
    await pending
    await written
    expect(tagged().sort()).toEqual(['first', 'second'])
    expect(limited.control.throttled).toEqual([])
  })

  it('is retried by the SDK as a throttling error', async () => {
    const patient = rawClientFor(limited.url, 6)
    try {
      limited.control.quota({ PutImage: { rate: 10, burst: 1 } })
      await putTag(patient, 'first')
      const retried = putTag(patient, 'second')
      while (limited.control.throttled.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      now += 100 // one token back before the SDK's backoff ends
      const out = await retried
      expect(out.$metadata.attempts).toBeGreaterThan(1)
      expect(tagged().sort()).toEqual(['first', 'second'])
    } finally {
      patient.destroy()
    }
  })

  it('counts on the real clock by default', async () => {
    const real = await startStandIn()
    const client = rawClientFor(real.url)
    try {
      await client.send(new CreateRepositoryCommand({ repositoryName: 'app' }))
      real.control.quota({ PutImage: { rate: 1, burst: 2 } })
      const started = Date.now()
      const results = await Promise.allSettled(numbered('r', 3).map((tag) => putTag(client, tag)))
      const ok = results.filter((r) => r.status === 'fulfilled').length
      // A second buys one token: exactly 2 fit unless the machine stalled for over a second.
      if (Date.now() - started < 1000) expect(ok).toBe(2)
      expect(ok + real.control.throttled.length).toBe(3)
      for (const { at } of real.control.throttled) {
        expect(at).toBeGreaterThanOrEqual(started)
        expect(at).toBeLessThanOrEqual(Date.now())
      }
      for (const { at } of real.control.calls) expect(at).toBeLessThanOrEqual(Date.now())
    } finally {
      client.destroy()
      await real.close()
    }
  })

  it('reset() turns quotas off and clears throttled; quota(null) turns them off too', async () => {
    limited.control.quota({ PutImage: { rate: 10, burst: 10 } })
    expect(await putAll(raw, numbered('a', 12))).toEqual({ ok: 10, throttled: 2, other: [] })
    limited.control.quota(null)
    expect(await putAll(raw, numbered('b', 15))).toEqual({ ok: 15, throttled: 0, other: [] })

    limited.control.quota({ PutImage: { rate: 10, burst: 10 } })
    expect((await putAll(raw, numbered('c', 12))).throttled).toBe(2)
    limited.control.reset()
    expect(limited.control.throttled).toEqual([])
    await raw.send(new CreateRepositoryCommand({ repositoryName: 'app' }))
    expect(await putAll(raw, numbered('d', 30))).toEqual({ ok: 30, throttled: 0, other: [] })
    expect(limited.control.throttled).toEqual([])
  })

  it('quota() again refills every bucket; invalid quotas are refused', async () => {
    limited.control.quota({ PutImage: { rate: 10, burst: 3 } })
    expect((await putAll(raw, numbered('a', 4))).ok).toBe(3)
    limited.control.quota({ PutImage: { rate: 10, burst: 3 } })
    expect((await putAll(raw, numbered('b', 4))).ok).toBe(3)

    const { control } = limited
    expect(() => control.quota({ Launch: { rate: 1, burst: 1 } })).toThrow(/unknown operation/)
    expect(() => control.quota({ PutImage: { rate: 0, burst: 1 } })).toThrow(RangeError)
    expect(() => control.quota({ PutImage: { rate: 1, burst: 0.5 } })).toThrow(RangeError)
    expect(() => control.quota({ PutImage: { rate: Infinity, burst: 1 } })).toThrow(RangeError)
    expect(() => control.quota('fast' as never)).toThrow(TypeError)
    await expect(startStandIn({ clock: 5 as never })).rejects.toThrow(TypeError)
  })

  it('seedTags() writes tags straight into the state, without a call, moving them as PutImage does', async () => {
    await putTag(raw, 'base')
    const digest = sha256(dockerManifest())
    await raw.send(
      new PutImageCommand({
        repositoryName: 'app',
        imageManifest: dockerManifest('b'),
        imageTag: 'moves'
      })
    )
    const calls = limited.control.calls.length
    limited.control.quota({ PutImage: { rate: 1, burst: 1 } })
    const many = numbered('t', 2_000)
    limited.control.seedTags('app', digest, [...many, 'moves'])
    expect(limited.control.calls).toHaveLength(calls)
    expect(limited.control.throttled).toEqual([])
    expect(appTags()).toEqual({
      [sha256(dockerManifest())]: ['base', 'moves', ...many].sort(),
      [sha256(dockerManifest('b'))]: []
    })
    expect(() => limited.control.seedTags('nope', digest, ['x'])).toThrow(/no repository/)
    expect(() => limited.control.seedTags('app', sha256('missing'), ['x'])).toThrow(/no image/)
    expect(() => limited.control.seedTags('app', digest, ['-bad'])).toThrow(/valid/)
  })
})
