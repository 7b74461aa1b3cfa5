import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImageScanFindingsCommand,
  DescribeImageSigningStatusCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ECRServiceException,
  GetLifecyclePolicyCommand,
  GetLifecyclePolicyPreviewCommand,
  ImageAlreadyExistsException,
  ImageNotFoundException,
  ImageTagAlreadyExistsException,
  LifecyclePolicyNotFoundException,
  ListImagesCommand,
  PutImageCommand,
  PutLifecyclePolicyCommand,
  RepositoryNotFoundException,
  ScanNotFoundException,
  ServerException,
  StartLifecyclePolicyPreviewCommand,
  UpdateImageStorageClassCommand
} from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import { ACCEPTED_MEDIA_TYPES, Registry } from '../../../src/ecr/registry.js'
import type { Manifest } from '../../../src/core/model.js'
import { digestOf } from '../../support/oci.mjs'
import { ACTION_MESSAGES } from '../../../src/action/messages.js'

const ecr = mockClient(ECRClient)
const registry = () =>
  new Registry(new ECRClient({ region: 'us-east-1' }), ACTION_MESSAGES, '123456789012')
const metadata = { $metadata: {} }

const body =
  '{\n   "schemaVersion": 2,\n   "mediaType": "application/vnd.docker.distribution.manifest.v2+json"\n}'
const digest = digestOf(body)
const manifest: Manifest = {
  digest,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  body
}

/** An image as BatchGetImage answers it. */
const served = (imageId: { imageTag?: string; imageDigest?: string }, imageManifest = body) => ({
  imageId,
  imageManifest,
  imageManifestMediaType: manifest.mediaType
})
const notFound = (imageTag: string) => ({
  imageId: { imageTag },
  failureCode: 'ImageNotFound' as const,
  failureReason: 'Requested image not found'
})
/** What the first call of a command sent. */
const sent = (command: Parameters<typeof ecr.commandCalls>[0]) =>
  ecr.commandCalls(command)[0]?.args[0].input
/** Every request names the registry it was given, and the repository. */
const scope = { registryId: '123456789012', repositoryName: 'app' }

beforeEach(() => ecr.reset())

describe('Registry reads', () => {
  it('asks BatchGetImage for every manifest type and keeps the bytes exactly', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      images: [served({ imageTag: 'sha-abc1234', imageDigest: digest })],
      failures: [notFound('latest')]
    })
    const manifests = await registry().getManifests('app', [
      { tag: 'sha-abc1234' },
      { tag: 'latest' }
    ])
    expect(manifests.get('sha-abc1234')).toEqual(manifest)
    expect(manifests.has('latest')).toBe(false)
    expect(sent(BatchGetImageCommand)).toEqual({
      ...scope,
      imageIds: [{ imageTag: 'sha-abc1234' }, { imageTag: 'latest' }],
      acceptedMediaTypes: ACCEPTED_MEDIA_TYPES
    })
    expect(ACCEPTED_MEDIA_TYPES).toEqual(
      expect.arrayContaining([
        'application/vnd.oci.image.index.v1+json',
        'application/vnd.docker.distribution.manifest.list.v2+json'
      ])
    )
  })

  it('matches a digest request by digest', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      images: [served({ imageDigest: digest })]
    })
    expect((await registry().getManifests('app', [{ digest }])).get(digest)).toEqual(manifest)
  })

  it('refuses to guess when ECR cannot return an image for another reason than not found', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      failures: [
        notFound('latest'),
        {
          imageId: { imageTag: 'production' },
          failureCode: 'KmsError',
          failureReason: 'key disabled'
        }
      ]
    })
    await expect(
      registry().getManifests('app', [{ tag: 'latest' }, { tag: 'production' }])
    ).rejects.toThrow(
      'ECR could not return app:production (KmsError: key disabled); refusing to decide from a partial answer'
    )
  })

  it('asks for at most 100 images a call', async () => {
    ecr
      .on(BatchGetImageCommand)
      .callsFake(({ imageIds }: { imageIds: { imageTag: string }[] }) => ({
        failures: imageIds.map((imageId) => ({ imageId, failureCode: 'ImageNotFound' }))
      }))
    await registry().getManifests(
      'app',
      Array.from({ length: 250 }, (_, i) => ({ tag: `t${i}` }))
    )
    expect(
      ecr.commandCalls(BatchGetImageCommand).map((call) => call.args[0].input.imageIds?.length)
    ).toEqual([100, 100, 50])
  })

  it('refuses a manifest whose bytes do not hash to its digest', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      images: [served({ imageTag: 'latest', imageDigest: digest }, `${body} `)]
    })
    await expect(registry().getManifests('app', [{ tag: 'latest' }])).rejects.toThrow(
      `the manifest ECR returned for app:latest hashes to sha256:`
    )
  })

  it('follows ListImages pagination to the end and skips untagged images', async () => {
    ecr
      .on(ListImagesCommand, { nextToken: undefined })
      .resolves({
        imageIds: [{ imageTag: 'v1.0.0', imageDigest: 'sha256:1' }, { imageDigest: 'sha256:2' }],
        nextToken: 'page2'
      })
      .on(ListImagesCommand, { nextToken: 'page2' })
      .resolves({ imageIds: [{ imageTag: 'production', imageDigest: 'sha256:1' }] })
    const tags = await registry().listTags('app')
    expect([...tags]).toEqual([
      ['v1.0.0', 'sha256:1'],
      ['production', 'sha256:1']
    ])
    expect(sent(ListImagesCommand)).toMatchObject({
      filter: { tagStatus: 'TAGGED' },
      maxResults: 1000
    })
  })

  it('reads the repository URI and tag mutability', async () => {
    ecr.on(DescribeRepositoriesCommand).resolves({
      repositories: [
        {
          repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app',
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'prod*' }]
        }
      ]
    })
    expect(await registry().describeRepository('app')).toEqual({
      uri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app',
      mutability: { mode: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['prod*'] }
    })
  })
})

describe('Registry writes', () => {
  it('sends the manifest untouched with its digest and media type', async () => {
    ecr.on(PutImageCommand).resolves({})
    expect(await registry().putTag('app', 'latest', manifest)).toBe('written')
    expect(sent(PutImageCommand)).toEqual({
      ...scope,
      imageTag: 'latest',
      imageManifest: body,
      imageManifestMediaType: manifest.mediaType,
      imageDigest: digest
    })
  })

  it('treats ImageAlreadyExistsException as already done', async () => {
    ecr.on(PutImageCommand).rejects(
      new ImageAlreadyExistsException({
        message: 'Image with digest already exists',
        ...metadata
      })
    )
    expect(await registry().putTag('app', 'latest', manifest)).toBe('already there')
  })

  it('counts ImageAlreadyExistsException on a retry as its own write: the first attempt landed', async () => {
    ecr.on(PutImageCommand).rejects(
      new ImageAlreadyExistsException({
        message: 'Image with digest already exists',
        $metadata: { attempts: 2 }
      })
    )
    expect(await registry().putTag('app', 'latest', manifest)).toBe('written')
  })

  it('removes a tag with BatchDeleteImage and reports a failure', async () => {
    ecr.on(BatchDeleteImageCommand).resolves({
      failures: [
        { imageId: { imageTag: 'latest' }, failureCode: 'KmsError', failureReason: 'key disabled' }
      ]
    })
    await expect(registry().removeTag('app', 'latest')).rejects.toThrow(
      "could not remove tag 'latest' from app: KmsError: key disabled"
    )
    expect(sent(BatchDeleteImageCommand).imageIds).toEqual([{ imageTag: 'latest' }])
  })

  it('counts a tag that is already gone as removed: the retry of a removal whose answer was lost', async () => {
    ecr.on(BatchDeleteImageCommand).resolves({
      failures: [notFound('latest')]
    })
    await expect(registry().removeTag('app', 'latest')).resolves.toBeUndefined()
  })
})

describe('Registry describes images', () => {
  it('returns tags and push times by digest, by digest ids', async () => {
    const pushedAt = new Date('2026-01-02T00:00:00Z')
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        { imageDigest: digest, imageTags: ['v1.0.0', 'production'], imagePushedAt: pushedAt },
        { imageDigest: 'sha256:other' }
      ]
    })
    const details = await registry().describeImages('app', [digest, 'sha256:other'])
    expect(details).toEqual(
      new Map([
        [digest, { tags: ['v1.0.0', 'production'], pushedAt }],
        ['sha256:other', { tags: [] }]
      ])
    )
    expect(sent(DescribeImagesCommand)).toEqual({
      ...scope,
      imageIds: [{ imageDigest: digest }, { imageDigest: 'sha256:other' }],
      filter: { imageStatus: 'ANY' }
    })
  })
})

describe('Registry lifecycle policies and deletes', () => {
  it('reads a policy, and none as undefined', async () => {
    ecr
      .on(GetLifecyclePolicyCommand, { repositoryName: 'app' })
      .resolves({ lifecyclePolicyText: '{}' })
    ecr
      .on(GetLifecyclePolicyCommand, { repositoryName: 'bare' })
      .rejects(new LifecyclePolicyNotFoundException({ message: 'none', ...metadata }))
    expect(await registry().getLifecyclePolicy('app')).toBe('{}')
    expect(await registry().getLifecyclePolicy('bare')).toBeUndefined()
  })

  it('writes a policy and starts a preview with its text, in the registry it was given', async () => {
    ecr.on(PutLifecyclePolicyCommand).resolves({})
    ecr.on(StartLifecyclePolicyPreviewCommand).resolves({})
    await registry().putLifecyclePolicy('app', '{"rules":[]}')
    await registry().startLifecyclePreview('app', '{"rules":[]}')
    const expected = {
      ...scope,
      lifecyclePolicyText: '{"rules":[]}'
    }
    expect(sent(PutLifecyclePolicyCommand)).toEqual(expected)
    expect(sent(StartLifecyclePolicyPreviewCommand)).toEqual(expected)
  })

  it('polls a preview: in progress says so; complete follows every page and keeps only expirations', async () => {
    ecr.on(GetLifecyclePolicyPreviewCommand).resolvesOnce({ status: 'IN_PROGRESS' })
    expect(await registry().lifecyclePreview('app')).toEqual({
      status: 'IN_PROGRESS',
      expiring: []
    })
    const pushed = new Date(1_000)
    ecr
      .on(GetLifecyclePolicyPreviewCommand, { nextToken: undefined })
      .resolves({
        status: 'COMPLETE',
        nextToken: 'page-2',
        previewResults: [
          {
            imageDigest: 'sha256:a',
            imageTags: ['sha-1'],
            appliedRulePriority: 6,
            imagePushedAt: pushed,
            action: { type: 'EXPIRE' }
          },
          { imageDigest: 'sha256:t', action: { type: 'TRANSITION' } }
        ]
      })
      .on(GetLifecyclePolicyPreviewCommand, { nextToken: 'page-2' })
      .resolves({ status: 'COMPLETE', previewResults: [{ imageDigest: 'sha256:b' }] })
    expect(await registry().lifecyclePreview('app')).toEqual({
      status: 'COMPLETE',
      expiring: [
        { digest: 'sha256:a', tags: ['sha-1'], rulePriority: 6, pushedAt: pushed },
        { digest: 'sha256:b', tags: [] }
      ]
    })
  })

  it('removes tags by tag alone, counting one already gone as removed and returning any other failure', async () => {
    ecr
      .on(BatchDeleteImageCommand)
      .resolvesOnce({
        imageIds: [{ imageTag: 'sha-a', imageDigest: 'sha256:a' }],
        failures: [{ imageId: { imageTag: '1.0.0' }, failureCode: 'ImageNotFound' }]
      })
      .resolvesOnce({
        failures: [
          {
            imageId: { imageTag: '1.1.0' },
            failureCode: 'ImageReferencedByManifestList',
            failureReason: 'held'
          }
        ]
      })
    expect(await registry().removeTags('app', ['1.0.0', 'sha-a'])).toEqual(new Map())
    expect(await registry().removeTags('app', ['1.1.0'])).toEqual(
      new Map([['1.1.0', 'ImageReferencedByManifestList: held']])
    )
    expect(sent(BatchDeleteImageCommand).imageIds).toEqual([
      { imageTag: '1.0.0' },
      { imageTag: 'sha-a' }
    ])
  })
})

describe('Registry refuses a partial answer', () => {
  it('refuses a BatchDeleteImage answer that leaves a tag out, or names a failure without its tag', async () => {
    ecr
      .on(BatchDeleteImageCommand)
      .resolvesOnce({ imageIds: [{ imageTag: 'v1' }] })
      .resolves({ failures: [{ failureCode: 'KmsError', failureReason: 'key disabled' }] })
    await expect(registry().removeTags('app', ['v1', 'v2'])).rejects.toThrow(
      'ECR answered BatchDeleteImage on app in part (v2: asked to remove, returned neither as removed nor as a failure)'
    )
    await expect(registry().removeTag('app', 'v1')).rejects.toThrow(
      'ECR answered BatchDeleteImage on app in part (v1: asked to remove'
    )
  })

  const image = {
    imageId: { imageTag: 'v1.0.0', imageDigest: digest },
    imageManifest: body,
    imageManifestMediaType: manifest.mediaType
  }
  const refusal = (operation: string, what: string) =>
    `ECR answered ${operation} on app in part (${what}): refusing to decide from a partial answer; run again`

  it.each([
    ['leaves a tag out', { images: [image] }, 'production'],
    ['has an empty body', {}, 'v1.0.0, production']
  ])(
    'BatchGetImage that %s: neither an image nor a failure is no answer',
    async (_name, answer, left) => {
      ecr.on(BatchGetImageCommand).resolves(answer)
      await expect(
        registry().getManifests('app', [{ tag: 'v1.0.0' }, { tag: 'production' }])
      ).rejects.toThrow(
        refusal(
          'BatchGetImage',
          `${left}: asked for, returned neither as an image nor as a failure`
        )
      )
    }
  )

  it('takes ImageInaccessible as absent only for the ref that may be archived, and refuses it for any other', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      failures: [
        {
          imageId: { imageTag: 'v0.9.0' },
          failureCode: 'ImageInaccessible',
          failureReason: 'archived'
        }
      ]
    })
    expect(await registry().getManifests('app', [{ tag: 'v0.9.0' }], [{ tag: 'v0.9.0' }])).toEqual(
      new Map()
    )
    await expect(registry().getManifests('app', [{ tag: 'v0.9.0' }])).rejects.toThrow(
      'ECR could not return app:v0.9.0 (ImageInaccessible: archived); refusing to decide from a partial answer'
    )
  })

  it('refuses a DescribeImages answer that leaves an image out', async () => {
    ecr
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ imageDigest: digest, imageTags: [] }] })
    await expect(registry().describeImages('app', [digest, 'sha256:2'])).rejects.toThrow(
      refusal('DescribeImages', 'sha256:2 not described')
    )
  })

  it('refuses a ListImages page without imageIds, and takes an empty one as empty', async () => {
    ecr.on(ListImagesCommand).resolvesOnce({ imageIds: [] }).resolves({})
    expect(await registry().listTags('app')).toEqual(new Map())
    await expect(registry().listTags('app')).rejects.toThrow(
      refusal('ListImages', 'a page without imageIds')
    )
  })

  it.each([
    [
      'ListImages',
      () => ecr.on(ListImagesCommand).resolves({ imageIds: [], nextToken: 'again' }),
      () => registry().listTags('app'),
      () => ecr.commandCalls(ListImagesCommand).length
    ],
    [
      'DescribeImageScanFindings',
      () => ecr.on(DescribeImageScanFindingsCommand).resolves({ nextToken: 'again' }),
      () => registry().scanFindings('app', digest),
      () => ecr.commandCalls(DescribeImageScanFindingsCommand).length
    ],
    [
      'GetLifecyclePolicyPreview',
      () =>
        ecr
          .on(GetLifecyclePolicyPreviewCommand)
          .resolves({ status: 'COMPLETE', previewResults: [], nextToken: 'again' }),
      () => registry().lifecyclePreview('app'),
      () => ecr.commandCalls(GetLifecyclePolicyPreviewCommand).length
    ]
  ])(
    'stops %s with an error on a nextToken it gave before, after two pages',
    async (operation, answer, read, calls) => {
      answer()
      await expect(read()).rejects.toThrow(refusal(operation, 'a nextToken it had given before'))
      expect(calls()).toBe(2)
    }
  )
})

describe('Registry explains SDK errors', () => {
  const denied = (operation: string) =>
    new ECRServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      message: `User: arn:aws:sts::123456789012:assumed-role/ci/gh is not authorized to perform: ecr:${operation}`,
      ...metadata
    })
  const serverError = new ServerException({ message: 'internal error', ...metadata })
  const notFound = new RepositoryNotFoundException({ message: 'no such repository', ...metadata })
  /** A method of each way it reaches ECR (the shared call, or a catch of its own), failing with `error`. */
  const failing = (operation: keyof typeof methods, error: Error) => {
    const [command, call] = methods[operation]
    ecr.on(command as Parameters<typeof ecr.on>[0]).rejects(error)
    return call()
  }
  const methods = {
    PutImage: [PutImageCommand, () => registry().putTag('app', 'latest', manifest)],
    ListImages: [ListImagesCommand, () => registry().listTags('app')],
    DescribeImages: [DescribeImagesCommand, () => registry().storedImage('app', { digest })],
    UpdateImageStorageClass: [
      UpdateImageStorageClassCommand,
      () => registry().restoreImage('app', digest)
    ],
    DescribeImageScanFindings: [
      DescribeImageScanFindingsCommand,
      () => registry().scanFindings('app', digest)
    ],
    DescribeImageSigningStatus: [
      DescribeImageSigningStatusCommand,
      () => registry().signingStatuses('app', digest)
    ]
  } as const

  it.each(Object.keys(methods) as (keyof typeof methods)[])(
    'names the IAM action ecr:%s when access to it is denied',
    async (operation) => {
      await expect(failing(operation, denied(operation))).rejects.toThrow(
        new RegExp(
          `^access denied: the credentials lack the IAM permission ecr:${operation} on repository app \\(User: arn`
        )
      )
    }
  )

  it.each(['PutImage', 'DescribeImageScanFindings'] as const)(
    'names the operation %s of another failure, and the inputs to check of a missing repository',
    async (operation) => {
      await expect(failing(operation, serverError)).rejects.toThrow(
        new RegExp(`^ecr:${operation} on app failed: ServerException: internal error$`)
      )
      await expect(failing(operation, notFound)).rejects.toThrow(
        /^repository app not found in registry 123456789012 \(us-east-1\): check the repository, registry-id and region inputs$/
      )
    }
  )

  it('names the default registry of the credentials when no registry-id is given', async () => {
    ecr.on(ListImagesCommand).rejects(notFound)
    await expect(
      new Registry(new ECRClient({ region: 'us-east-1' }), ACTION_MESSAGES).listTags('app')
    ).rejects.toThrow(
      /^repository app not found in the default registry of these credentials \(us-east-1\): check the repository, registry-id and region inputs$/
    )
  })

  it('suggests IMMUTABLE_WITH_EXCLUSION for an immutable tag', async () => {
    const immutable = new ImageTagAlreadyExistsException({
      message: "The image tag 'latest' already exists",
      ...metadata
    })
    await expect(failing('PutImage', immutable)).rejects.toThrow(
      /^tag 'latest' in app is immutable: set imageTagMutability to IMMUTABLE_WITH_EXCLUSION with an exclusion filter matching 'latest'/
    )
  })

  it('points at configure-aws-credentials when there are no credentials', async () => {
    const missing = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError'
    })
    ecr.on(DescribeRepositoriesCommand).rejects(missing)
    await expect(registry().describeRepository('app')).rejects.toThrow(
      'no AWS credentials: run aws-actions/configure-aws-credentials before this step'
    )
  })
})

describe('Registry reads archived images', () => {
  it('lists the tags of archived images too', async () => {
    ecr.on(ListImagesCommand).resolves({
      imageIds: [{ imageTag: 'v0.9.0', imageDigest: 'sha256:archived' }]
    })
    expect([...(await registry().listTags('app'))]).toEqual([['v0.9.0', 'sha256:archived']])
    expect(sent(ListImagesCommand).filter).toEqual({
      tagStatus: 'TAGGED',
      imageStatus: 'ANY'
    })
  })

  it.each([
    [{ digest }, { imageDigest: digest }],
    [{ tag: 'v1.0.0' }, { imageTag: 'v1.0.0' }]
  ])('describes how the image %j is stored, archived ones included', async (ref, imageId) => {
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        {
          imageDigest: digest,
          imageStatus: 'ARCHIVED',
          imageManifestMediaType: manifest.mediaType,
          imageTags: ['v1.0.0']
        }
      ]
    })
    expect(await registry().storedImage('app', ref)).toEqual({
      digest,
      status: 'ARCHIVED',
      mediaType: manifest.mediaType
    })
    expect(sent(DescribeImagesCommand)).toEqual({
      ...scope,
      imageIds: [imageId],
      filter: { imageStatus: 'ANY' }
    })
  })

  it('reads an image without a status as ACTIVE, and leaves out a media type ECR does not give', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: digest }] })
    expect(await registry().storedImage('app', { digest })).toEqual({ digest, status: 'ACTIVE' })
  })

  it('answers no stored image for ImageNotFoundException', async () => {
    ecr
      .on(DescribeImagesCommand)
      .rejects(new ImageNotFoundException({ message: 'not found', ...metadata }))
    expect(await registry().storedImage('app', { tag: 'v1.0.0' })).toBeUndefined()
  })

  it.each([
    ['no image details', {}],
    ['an empty list', { imageDetails: [] }],
    ['details without a digest', { imageDetails: [{ imageStatus: 'ACTIVE' as const }] }]
  ])(
    'refuses %s: an image ECR lacks is ImageNotFoundException, so this is no answer',
    async (_name, answer) => {
      ecr.on(DescribeImagesCommand).resolves(answer)
      await expect(registry().storedImage('app', { tag: 'v1.0.0' })).rejects.toThrow(
        'ECR answered DescribeImages on app in part (v1.0.0 not described): refusing to decide from a partial answer; run again'
      )
    }
  )

  it('restores an archived image to standard storage and returns its status', async () => {
    ecr.on(UpdateImageStorageClassCommand).resolvesOnce({ imageStatus: 'ACTIVATING' }).resolves({})
    expect(await registry().restoreImage('app', digest)).toBe('ACTIVATING')
    // No status in the answer: the restore is under way.
    expect(await registry().restoreImage('app', digest)).toBe('ACTIVATING')
    expect(sent(UpdateImageStorageClassCommand)).toEqual({
      ...scope,
      imageId: { imageDigest: digest },
      targetStorageClass: 'STANDARD'
    })
  })

  it('returns ACTIVE when ECR says the image is already restored', async () => {
    ecr.on(UpdateImageStorageClassCommand).resolves({ imageStatus: 'ACTIVE' })
    expect(await registry().restoreImage('app', digest)).toBe('ACTIVE')
  })
})

describe('Registry reads scan findings', () => {
  it('follows pagination to the end and reads basic findings with their package', async () => {
    ecr
      .on(DescribeImageScanFindingsCommand, { nextToken: undefined })
      .resolves({
        imageScanStatus: {
          status: 'COMPLETE',
          description: 'The scan was completed successfully.'
        },
        imageScanFindings: {
          findings: [
            {
              name: 'CVE-2024-0001',
              severity: 'CRITICAL',
              attributes: [
                { key: 'package_version', value: '3.0.1' },
                { key: 'package_name', value: 'openssl' }
              ]
            }
          ]
        },
        nextToken: 'page-2'
      })
      .on(DescribeImageScanFindingsCommand, { nextToken: 'page-2' })
      .resolves({
        imageScanStatus: { status: 'COMPLETE' },
        imageScanFindings: { findings: [{ name: 'CVE-2024-0002', severity: 'LOW' }, {}] }
      })
    expect(await registry().scanFindings('app', digest)).toEqual({
      status: 'COMPLETE',
      description: 'The scan was completed successfully.',
      findings: [
        { id: 'CVE-2024-0001', severity: 'CRITICAL', package: 'openssl', open: true },
        { id: 'CVE-2024-0002', severity: 'LOW', open: true },
        { id: '(unnamed)', severity: 'UNDEFINED', open: true }
      ]
    })
    const calls = ecr.commandCalls(DescribeImageScanFindingsCommand)
    expect(calls.map((call) => call.args[0].input)).toEqual([
      {
        registryId: '123456789012',
        repositoryName: 'app',
        imageId: { imageDigest: digest },
        maxResults: 1000,
        nextToken: undefined
      },
      {
        registryId: '123456789012',
        repositoryName: 'app',
        imageId: { imageDigest: digest },
        maxResults: 1000,
        nextToken: 'page-2'
      }
    ])
  })

  it('reads enhanced findings: the vulnerability id, its first package, the fix, and whether it is open', async () => {
    ecr.on(DescribeImageScanFindingsCommand).resolves({
      imageScanStatus: { status: 'ACTIVE' },
      imageScanFindings: {
        enhancedFindings: [
          {
            severity: 'HIGH',
            status: 'ACTIVE',
            fixAvailable: 'YES',
            title: 'CVE-2024-0003 - glibc',
            packageVulnerabilityDetails: {
              vulnerabilityId: 'CVE-2024-0003',
              vulnerablePackages: [{ name: 'glibc' }, { name: 'glibc-common' }]
            }
          },
          {
            severity: 'CRITICAL',
            status: 'SUPPRESSED',
            packageVulnerabilityDetails: { vulnerabilityId: 'CVE-2024-0004' }
          },
          {
            severity: 'MEDIUM',
            status: 'CLOSED',
            packageVulnerabilityDetails: { vulnerabilityId: 'CVE-2024-0005' }
          },
          { severity: 'LOW', title: 'GHSA-xxxx-yyyy-zzzz', fixAvailable: 'NO' },
          {}
        ]
      }
    })
    expect(await registry().scanFindings('app', digest)).toEqual({
      status: 'ACTIVE',
      findings: [
        {
          id: 'CVE-2024-0003',
          severity: 'HIGH',
          package: 'glibc',
          fixAvailable: 'YES',
          open: true
        },
        { id: 'CVE-2024-0004', severity: 'CRITICAL', open: false },
        { id: 'CVE-2024-0005', severity: 'MEDIUM', open: false },
        { id: 'GHSA-xxxx-yyyy-zzzz', severity: 'LOW', fixAvailable: 'NO', open: true },
        { id: '(unnamed)', severity: 'UNDEFINED', open: true }
      ]
    })
  })

  it.each<[string, object, object]>([
    [
      'a failed scan, with its description',
      {
        imageScanStatus: {
          status: 'FAILED',
          description: 'UnsupportedImageError: The operating system is not supported'
        }
      },
      {
        status: 'FAILED',
        description: 'UnsupportedImageError: The operating system is not supported',
        findings: []
      }
    ],
    [
      'a scan in progress',
      { imageScanStatus: { status: 'IN_PROGRESS' } },
      { status: 'IN_PROGRESS', findings: [] }
    ],
    ['an answer without a status', {}, { status: 'UNKNOWN', findings: [] }]
  ])('reads %s', async (_name, answer, report) => {
    ecr.on(DescribeImageScanFindingsCommand).resolves(answer)
    expect(await registry().scanFindings('app', digest)).toEqual(report)
  })

  it('answers no report for an image that was never scanned', async () => {
    ecr
      .on(DescribeImageScanFindingsCommand)
      .rejects(new ScanNotFoundException({ message: 'no scan', ...metadata }))
    expect(await registry().scanFindings('app', digest)).toBeUndefined()
  })
})

describe('Registry reads managed signing', () => {
  it('returns one state per signing profile', async () => {
    const profile = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/ci'
    ecr.on(DescribeImageSigningStatusCommand).resolves({
      signingStatuses: [
        { signingProfileArn: profile, status: 'COMPLETE' },
        {
          signingProfileArn: `${profile}-2`,
          status: 'FAILED',
          failureCode: 'AccessDenied',
          failureReason: 'signer:SignPayload denied'
        },
        {}
      ]
    })
    expect(await registry().signingStatuses('app', digest)).toEqual([
      { profile, status: 'COMPLETE' },
      { profile: `${profile}-2`, status: 'FAILED', reason: 'signer:SignPayload denied' },
      { status: 'UNKNOWN' }
    ])
    expect(sent(DescribeImageSigningStatusCommand)).toEqual({
      ...scope,
      imageId: { imageDigest: digest }
    })
  })

  it('returns no state for an image managed signing knows nothing of', async () => {
    ecr.on(DescribeImageSigningStatusCommand).resolves({})
    expect(await registry().signingStatuses('app', digest)).toEqual([])
  })
})
