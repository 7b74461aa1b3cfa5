import * as ECR from '@aws-sdk/client-ecr'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mockClient } from 'aws-sdk-client-mock'
import { fetchBlob } from '../../../src/ecr/blobs.js'
import { ACCEPTED_MEDIA_TYPES, Registry } from '../../../src/ecr/registry.js'
import type { ImageRef, Manifest } from '../../../src/core/model.js'
import { digestOf } from '../../support/oci.mjs'
import { ACTION_MESSAGES } from '../../../src/action/messages.js'
import { rejection } from '../../support/harness.js'

const ecr = mockClient(ECR.ECRClient)
const registry = () =>
  new Registry(new ECR.ECRClient({ region: 'us-east-1' }), ACTION_MESSAGES, {
    registryId: '123456789012'
  })
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
/** A BatchGetImage or BatchDeleteImage failure of a tag. */
const failure = <Code extends string>(tag: string, failureCode: Code, failureReason: string) => ({
  imageId: { imageTag: tag },
  failureCode,
  failureReason
})
const notFound = (tag: string) => failure(tag, 'ImageNotFound', 'Requested image not found')
/** What the first call of a command sent. */
const sent = (command: Parameters<typeof ecr.commandCalls>[0]) =>
  ecr.commandCalls(command)[0]?.args[0].input
/** Every request names the registry it was given, and the repository. */
const scope = { registryId: '123456789012', repositoryName: 'app' }

beforeEach(() => ecr.reset())

describe('Registry reads', () => {
  it('asks BatchGetImage for every manifest type and keeps the bytes exactly', async () => {
    ecr.on(ECR.BatchGetImageCommand).resolves({
      images: [served({ imageTag: 'sha-abc1234', imageDigest: digest })],
      failures: [notFound('latest')]
    })
    const manifests = await registry().getManifests('app', [
      { tag: 'sha-abc1234' },
      { tag: 'latest' }
    ])
    expect(manifests.get('sha-abc1234')).toEqual(manifest)
    expect(manifests.has('latest')).toBe(false)
    expect(sent(ECR.BatchGetImageCommand)).toEqual({
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

  it('asks for at most 100 images a call', async () => {
    ecr
      .on(ECR.BatchGetImageCommand)
      .callsFake(({ imageIds }: { imageIds: { imageTag: string }[] }) => ({
        failures: imageIds.map((imageId) => ({ imageId, failureCode: 'ImageNotFound' }))
      }))
    await registry().getManifests(
      'app',
      Array.from({ length: 250 }, (_, i) => ({ tag: `t${i}` }))
    )
    expect(
      ecr.commandCalls(ECR.BatchGetImageCommand).map((call) => call.args[0].input.imageIds?.length)
    ).toEqual([100, 100, 50])
  })

  it('follows ListImages pagination to the end, archived images included, and skips untagged images', async () => {
    ecr
      .on(ECR.ListImagesCommand, { nextToken: undefined })
      .resolves({
        imageIds: [{ imageTag: 'v1.0.0', imageDigest: 'sha256:1' }, { imageDigest: 'sha256:2' }],
        nextToken: 'page2'
      })
      .on(ECR.ListImagesCommand, { nextToken: 'page2' })
      .resolves({ imageIds: [{ imageTag: 'production', imageDigest: 'sha256:1' }] })
    const tags = await registry().listTags('app')
    expect([...tags]).toEqual([
      ['v1.0.0', 'sha256:1'],
      ['production', 'sha256:1']
    ])
    expect(sent(ECR.ListImagesCommand)).toMatchObject({
      filter: { tagStatus: 'TAGGED', imageStatus: 'ANY' },
      maxResults: 1000
    })
  })

  it('reads the repository URI and tag mutability', async () => {
    ecr.on(ECR.DescribeRepositoriesCommand).resolves({
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

  it('returns tags and push times by digest, by digest ids', async () => {
    const pushedAt = new Date('2026-01-02T00:00:00Z')
    ecr.on(ECR.DescribeImagesCommand).resolves({
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
    expect(sent(ECR.DescribeImagesCommand)).toEqual({
      ...scope,
      imageIds: [{ imageDigest: digest }, { imageDigest: 'sha256:other' }],
      filter: { imageStatus: 'ANY' }
    })
  })

  it.each([
    [{ digest }, { imageDigest: digest }],
    [{ tag: 'v1.0.0' }, { imageTag: 'v1.0.0' }]
  ])(
    'describes how the image %j is stored, archived ones included, and its tags',
    async (ref, imageId) => {
      ecr.on(ECR.DescribeImagesCommand).resolves({
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
        mediaType: manifest.mediaType,
        tags: ['v1.0.0']
      })
      expect(sent(ECR.DescribeImagesCommand)).toEqual({
        ...scope,
        imageIds: [imageId],
        filter: { imageStatus: 'ANY' }
      })
    }
  )

  it('returns one signing state per signing profile', async () => {
    const profile = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/ci'
    ecr.on(ECR.DescribeImageSigningStatusCommand).resolves({
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
    expect(sent(ECR.DescribeImageSigningStatusCommand)).toEqual({
      ...scope,
      imageId: { imageDigest: digest }
    })
  })
})

describe('Registry writes', () => {
  it('sends the manifest untouched with its digest and media type', async () => {
    ecr.on(ECR.PutImageCommand).resolves({})
    expect(await registry().putTag('app', 'latest', manifest)).toBe('written')
    expect(sent(ECR.PutImageCommand)).toEqual({
      ...scope,
      imageTag: 'latest',
      imageManifest: body,
      imageManifestMediaType: manifest.mediaType,
      imageDigest: digest
    })
  })

  it('writes a policy and starts a preview with its text, in the registry it was given', async () => {
    ecr.on(ECR.PutLifecyclePolicyCommand).resolves({})
    ecr.on(ECR.StartLifecyclePolicyPreviewCommand).resolves({})
    await registry().putLifecyclePolicy('app', '{"rules":[]}')
    await registry().startLifecyclePreview('app', '{"rules":[]}')
    const expected = { ...scope, lifecyclePolicyText: '{"rules":[]}' }
    expect(sent(ECR.PutLifecyclePolicyCommand)).toEqual(expected)
    expect(sent(ECR.StartLifecyclePolicyPreviewCommand)).toEqual(expected)
  })

  it('polls a preview: in progress says so; complete follows every page and keeps only expirations', async () => {
    ecr.on(ECR.GetLifecyclePolicyPreviewCommand).resolvesOnce({ status: 'IN_PROGRESS' })
    expect(await registry().lifecyclePreview('app')).toEqual({
      status: 'IN_PROGRESS',
      expiring: []
    })
    const pushed = new Date(1_000)
    ecr
      .on(ECR.GetLifecyclePolicyPreviewCommand, { nextToken: undefined })
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
      .on(ECR.GetLifecyclePolicyPreviewCommand, { nextToken: 'page-2' })
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
      .on(ECR.BatchDeleteImageCommand)
      .resolvesOnce({
        imageIds: [{ imageTag: 'sha-a', imageDigest: 'sha256:a' }],
        failures: [notFound('1.0.0')]
      })
      .resolvesOnce({ failures: [failure('1.1.0', 'ImageReferencedByManifestList', 'held')] })
    expect(await registry().removeTags('app', ['1.0.0', 'sha-a'])).toEqual(new Map())
    expect(await registry().removeTags('app', ['1.1.0'])).toEqual(
      new Map([['1.1.0', 'ImageReferencedByManifestList: held']])
    )
    expect(sent(ECR.BatchDeleteImageCommand).imageIds).toEqual([
      { imageTag: '1.0.0' },
      { imageTag: 'sha-a' }
    ])
  })
})

/** The calls the tables make, each on repository `app`. */
const get =
  (...refs: ImageRef[]) =>
  () =>
    registry().getManifests('app', refs)
const list = () => registry().listTags('app')
const stored =
  (ref: ImageRef = { tag: 'v1.0.0' }) =>
  () =>
    registry().storedImage('app', ref)
const scan = () => registry().scanFindings('app', digest)
const signing = () => registry().signingStatuses('app', digest)
const restore = () => registry().restoreImage('app', digest)
const put = () => registry().putTag('app', 'latest', manifest)
const check = () => registry().checkLayers('app', ['sha256:1', 'sha256:2', 'sha256:3'])
const part = () => registry().uploadPart('app', 'u', 0, 9, new Uint8Array(10))
const complete = () => registry().completeUpload('app', 'u', digest)
const putManifest = () => registry().putManifest('app', manifest)
const referrers = () => registry().listReferrers('app', digest)
const remove = (tag: string) => () => registry().removeTag('app', tag)
/** An SDK exception of a type, as the SDK throws it after `attempts` attempts. */
const thrown = <T>(
  Type: new (options: { message: string; $metadata: object }) => T,
  attempts = 1
) => new Type({ message: 'x', $metadata: { attempts } })
/** A case: what the command answers (an exception is thrown), the call, and what it comes to. */
type Case = [string, Command, object, () => Promise<unknown>, unknown, (() => void)?]
type Command = Parameters<typeof ecr.commandCalls>[0]
const answer = (command: Command, given: object) => {
  const on = ecr.on(command as Parameters<typeof ecr.on>[0])
  return given instanceof Error ? on.rejects(given) : on.resolves(given)
}
const [v1, production, archived] = [{ tag: 'v1.0.0' }, { tag: 'production' }, { tag: 'v0.9.0' }]

describe('Registry reads each answer as what it is', () => {
  const Scan = ECR.DescribeImageScanFindingsCommand

  it.each<Case>([
    [
      'a digest request, matched by digest',
      ECR.BatchGetImageCommand,
      { images: [served({ imageDigest: digest })] },
      async () => (await get({ digest })()).get(digest),
      manifest
    ],
    [
      'ImageInaccessible for the ref that may be archived, as absent',
      ECR.BatchGetImageCommand,
      { failures: [failure('v0.9.0', 'ImageInaccessible', 'archived')] },
      () => registry().getManifests('app', [archived], [archived]),
      new Map()
    ],
    [
      'an image without a status, as ACTIVE, and no media type nor tags where ECR gives none',
      ECR.DescribeImagesCommand,
      { imageDetails: [{ imageDigest: digest }] },
      stored({ digest }),
      { digest, status: 'ACTIVE', tags: [] }
    ],
    [
      'ImageNotFoundException, as no stored image',
      ECR.DescribeImagesCommand,
      thrown(ECR.ImageNotFoundException),
      stored(),
      undefined
    ],
    [
      'a lifecycle policy, as its text',
      ECR.GetLifecyclePolicyCommand,
      { lifecyclePolicyText: '{}' },
      () => registry().getLifecyclePolicy('app'),
      '{}'
    ],
    [
      'LifecyclePolicyNotFoundException, as no policy',
      ECR.GetLifecyclePolicyCommand,
      thrown(ECR.LifecyclePolicyNotFoundException),
      () => registry().getLifecyclePolicy('bare'),
      undefined
    ],
    [
      'ImageAlreadyExistsException, as already done',
      ECR.PutImageCommand,
      thrown(ECR.ImageAlreadyExistsException),
      put,
      'already there'
    ],
    [
      'ImageAlreadyExistsException on a retry, as its own write: the first attempt landed',
      ECR.PutImageCommand,
      thrown(ECR.ImageAlreadyExistsException, 2),
      put,
      'written'
    ],
    [
      'a tag already gone, as removed: the retry of a removal whose answer was lost',
      ECR.BatchDeleteImageCommand,
      { failures: [notFound('latest')] },
      remove('latest'),
      undefined,
      () => expect(sent(ECR.BatchDeleteImageCommand).imageIds).toEqual([{ imageTag: 'latest' }])
    ],
    [
      'a restore to standard storage without a status, as under way',
      ECR.UpdateImageStorageClassCommand,
      {},
      restore,
      'ACTIVATING',
      () =>
        expect(sent(ECR.UpdateImageStorageClassCommand)).toEqual({
          ...scope,
          imageId: { imageDigest: digest },
          targetStorageClass: 'STANDARD'
        })
    ],
    [
      'a restore of an image already restored, as ACTIVE',
      ECR.UpdateImageStorageClassCommand,
      { imageStatus: 'ACTIVE' },
      restore,
      'ACTIVE'
    ],
    [
      'ScanNotFoundException, as no scan report',
      Scan,
      thrown(ECR.ScanNotFoundException),
      scan,
      undefined
    ],
    [
      'a failed scan, with its description',
      Scan,
      { imageScanStatus: { status: 'FAILED', description: 'UnsupportedImageError: unsupported' } },
      scan,
      {
        status: 'FAILED',
        description: 'UnsupportedImageError: unsupported',
        findings: []
      }
    ],
    ['a scan answer without a status', Scan, {}, scan, { status: 'UNKNOWN', findings: [] }],
    ['no signing status, as none', ECR.DescribeImageSigningStatusCommand, {}, signing, []],
    [
      'blobs as ECR has them: MissingLayerDigest, as unavailable',
      ECR.BatchCheckLayerAvailabilityCommand,
      {
        layers: [
          { layerDigest: 'sha256:1', layerAvailability: 'AVAILABLE' },
          { layerDigest: 'sha256:2', layerAvailability: 'ARCHIVED' }
        ],
        failures: [{ layerDigest: 'sha256:3', failureCode: 'MissingLayerDigest' }]
      },
      check,
      new Map([
        ['sha256:1', 'AVAILABLE'],
        ['sha256:2', 'ARCHIVED'],
        ['sha256:3', 'UNAVAILABLE']
      ]),
      () =>
        expect(sent(ECR.BatchCheckLayerAvailabilityCommand)).toEqual({
          ...scope,
          layerDigests: ['sha256:1', 'sha256:2', 'sha256:3']
        })
    ],
    [
      'a download URL',
      ECR.GetDownloadUrlForLayerCommand,
      { downloadUrl: 'https://s3/blob?X-Amz-Signature=s', layerDigest: digest },
      () => registry().downloadUrl('app', digest),
      'https://s3/blob?X-Amz-Signature=s'
    ],
    [
      'an upload started',
      ECR.InitiateLayerUploadCommand,
      { uploadId: 'u', partSize: 10_485_760 },
      () => registry().startUpload('app'),
      { uploadId: 'u', partSize: 10_485_760 }
    ],
    [
      'a part received, sent with a minute to go',
      ECR.UploadLayerPartCommand,
      { lastByteReceived: 9 },
      part,
      undefined,
      () => {
        // The mock's types know only the command; the client's send also takes the options.
        const [command, options] = (ecr.commandCalls(ECR.UploadLayerPartCommand)[0]?.args ??
          []) as unknown as [ECR.UploadLayerPartCommand, object]
        expect(command.input).toEqual({
          ...scope,
          uploadId: 'u',
          partFirstByte: 0,
          partLastByte: 9,
          layerPartBlob: new Uint8Array(10)
        })
        expect(options).toMatchObject({ requestTimeout: 60_000 })
      }
    ],
    [
      'a retried part ECR has already, as received',
      ECR.UploadLayerPartCommand,
      new ECR.InvalidLayerPartException({
        message: 'not consecutive',
        $metadata: { attempts: 2 },
        lastValidByteReceived: 9
      }),
      part,
      undefined
    ],
    [
      'an upload completed',
      ECR.CompleteLayerUploadCommand,
      { layerDigest: digest },
      complete,
      'written',
      () =>
        expect(sent(ECR.CompleteLayerUploadCommand)).toEqual({
          ...scope,
          uploadId: 'u',
          layerDigests: [digest]
        })
    ],
    [
      'LayerAlreadyExistsException, as already there',
      ECR.CompleteLayerUploadCommand,
      thrown(ECR.LayerAlreadyExistsException),
      complete,
      'already there'
    ],
    [
      'an untagged manifest put, by digest',
      ECR.PutImageCommand,
      { image: { imageId: { imageDigest: digest } } },
      putManifest,
      'written',
      () =>
        expect(sent(ECR.PutImageCommand)).toEqual({
          ...scope,
          imageManifest: body,
          imageManifestMediaType: manifest.mediaType,
          imageDigest: digest
        })
    ],
    [
      'ImageAlreadyExistsException on an untagged put, as already there',
      ECR.PutImageCommand,
      thrown(ECR.ImageAlreadyExistsException),
      putManifest,
      'already there'
    ],
    [
      'referrers, archived ones too',
      ECR.ListImageReferrersCommand,
      {
        referrers: [
          { digest: 'sha256:1', mediaType: manifest.mediaType, size: 1, artifactType: 'sbom' },
          { digest: 'sha256:2', mediaType: manifest.mediaType, size: 1, artifactStatus: 'ARCHIVED' }
        ]
      },
      referrers,
      [
        {
          digest: 'sha256:1',
          mediaType: manifest.mediaType,
          artifactType: 'sbom',
          status: 'ACTIVE'
        },
        { digest: 'sha256:2', mediaType: manifest.mediaType, status: 'ARCHIVED' }
      ],
      () =>
        expect(sent(ECR.ListImageReferrersCommand)).toEqual({
          ...scope,
          subjectId: { imageDigest: digest },
          filter: { artifactStatus: 'ANY' },
          maxResults: 50
        })
    ]
  ])('reads %s', async (...[, command, given, call, expected, alsoCheck]: Case) => {
    answer(command, given)
    expect(await call()).toEqual(expected)
    alsoCheck?.()
  })

  it.each<[string, 'AVAILABLE' | 'UNAVAILABLE', string]>([
    ['the blob is there: written', 'AVAILABLE', 'written'],
    ['the blob is not there: the failure', 'UNAVAILABLE', 'UploadNotFoundException: x']
  ])(
    'reads a retried completion ECR had applied, whose upload is then gone, by the blob: %s',
    async (_, layerAvailability, expected) => {
      answer(ECR.CompleteLayerUploadCommand, thrown(ECR.UploadNotFoundException, 2))
      answer(ECR.BatchCheckLayerAvailabilityCommand, {
        layers: [{ layerDigest: digest, layerAvailability }]
      })
      expect(await complete().catch((error: Error) => error.message)).toContain(expected)
    }
  )
})

describe('Registry refuses a partial answer, and explains a failure', () => {
  const refusal = (operation: string, what: string) =>
    `ECR answered ${operation} on app in part (${what}): refusing to decide from a partial answer; run again`
  const denied = (operation: string) =>
    new ECR.ECRServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      message: `User: arn:aws:sts::123456789012:assumed-role/ci/gh is not authorized to perform: ecr:${operation}`,
      ...metadata
    })
  const serverError = new ECR.ServerException({ message: 'internal error', ...metadata })
  const missing = new ECR.RepositoryNotFoundException({
    message: 'no such repository',
    ...metadata
  })
  /** Each way a method reaches ECR (the shared call, or a catch of its own): its command and a call. */
  const methods = {
    PutImage: [ECR.PutImageCommand, put],
    ListImages: [ECR.ListImagesCommand, list],
    DescribeImages: [ECR.DescribeImagesCommand, stored({ digest })],
    UpdateImageStorageClass: [ECR.UpdateImageStorageClassCommand, restore],
    DescribeImageScanFindings: [ECR.DescribeImageScanFindingsCommand, scan],
    DescribeImageSigningStatus: [ECR.DescribeImageSigningStatusCommand, signing],
    BatchCheckLayerAvailability: [ECR.BatchCheckLayerAvailabilityCommand, check],
    GetDownloadUrlForLayer: [
      ECR.GetDownloadUrlForLayerCommand,
      () => registry().downloadUrl('app', digest)
    ],
    InitiateLayerUpload: [ECR.InitiateLayerUploadCommand, () => registry().startUpload('app')],
    UploadLayerPart: [ECR.UploadLayerPartCommand, part],
    CompleteLayerUpload: [ECR.CompleteLayerUploadCommand, complete],
    // ECR asks for this action to list referrers.
    BatchGetImage: [ECR.ListImageReferrersCommand, referrers]
  } as const
  const failing = (operation: keyof typeof methods, error: Error, expected: RegExp): Case => {
    const [command, call] = methods[operation]
    return [`${operation} failing with ${error.name}`, command, error, call, expected]
  }
  const looping = (command: Command, operation: string, given: object, call: Case[3]): Case => [
    `${operation} giving a nextToken it gave before, after two pages`,
    command,
    { ...given, nextToken: 'again' },
    call,
    refusal(operation, 'a nextToken it had given before'),
    () => expect(ecr.commandCalls(command)).toHaveLength(2)
  ]

  it.each<Case>([
    [
      'a BatchGetImage failure other than not found',
      ECR.BatchGetImageCommand,
      { failures: [notFound('latest'), failure('production', 'KmsError', 'key disabled')] },
      get({ tag: 'latest' }, production),
      'ECR could not return app:production (KmsError: key disabled); refusing to decide from a partial answer'
    ],
    [
      'ImageInaccessible for a ref that may not be archived',
      ECR.BatchGetImageCommand,
      { failures: [failure('v0.9.0', 'ImageInaccessible', 'archived')] },
      get(archived),
      'ECR could not return app:v0.9.0 (ImageInaccessible: archived); refusing to decide from a partial answer'
    ],
    [
      'a manifest whose bytes do not hash to its digest',
      ECR.BatchGetImageCommand,
      { images: [served({ imageTag: 'latest', imageDigest: digest }, `${body} `)] },
      get({ tag: 'latest' }),
      'the manifest ECR returned for app:latest hashes to sha256:'
    ],
    ...[
      [
        'leaves a tag out',
        { images: [served({ imageTag: 'v1.0.0', imageDigest: digest })] },
        'production'
      ],
      ['has an empty body', {}, 'v1.0.0, production']
    ].map(([what, given, left]): Case => [
      `a BatchGetImage answer that ${what as string}: neither an image nor a failure is no answer`,
      ECR.BatchGetImageCommand,
      given as object,
      get(v1, production),
      refusal(
        'BatchGetImage',
        `${left as string}: asked for, returned neither as an image nor as a failure`
      )
    ]),
    [
      'a BatchDeleteImage failure of a tag',
      ECR.BatchDeleteImageCommand,
      { failures: [failure('latest', 'KmsError', 'key disabled')] },
      remove('latest'),
      "could not remove tag 'latest' from app: KmsError: key disabled"
    ],
    [
      'a BatchDeleteImage answer that leaves a tag out',
      ECR.BatchDeleteImageCommand,
      { imageIds: [{ imageTag: 'v1' }] },
      () => registry().removeTags('app', ['v1', 'v2']),
      'ECR answered BatchDeleteImage on app in part (v2: asked to remove, returned neither as removed nor as a failure)'
    ],
    [
      'a BatchDeleteImage failure without its tag',
      ECR.BatchDeleteImageCommand,
      { failures: [{ failureCode: 'KmsError', failureReason: 'key disabled' }] },
      remove('v1'),
      'ECR answered BatchDeleteImage on app in part (v1: asked to remove'
    ],
    [
      'a DescribeImages answer that leaves an image out',
      ECR.DescribeImagesCommand,
      { imageDetails: [{ imageDigest: digest, imageTags: [] }] },
      () => registry().describeImages('app', [digest, 'sha256:2']),
      refusal('DescribeImages', 'sha256:2 not described')
    ],
    // An image ECR lacks is ImageNotFoundException, so none of these is an answer.
    ...[{}, { imageDetails: [] }, { imageDetails: [{ imageStatus: 'ACTIVE' }] }].map(
      (given): Case => [
        `a DescribeImages answer ${JSON.stringify(given)}`,
        ECR.DescribeImagesCommand,
        given,
        stored(),
        refusal('DescribeImages', 'v1.0.0 not described')
      ]
    ),
    [
      'a ListImages page without imageIds',
      ECR.ListImagesCommand,
      {},
      list,
      refusal('ListImages', 'a page without imageIds')
    ],
    looping(ECR.ListImagesCommand, 'ListImages', { imageIds: [] }, list),
    looping(ECR.ListImageReferrersCommand, 'ListImageReferrers', { referrers: [] }, referrers),
    [
      'a ListImageReferrers page without referrers',
      ECR.ListImageReferrersCommand,
      {},
      referrers,
      refusal('ListImageReferrers', 'a page without referrers')
    ],
    [
      'a blob ECR could not check',
      ECR.BatchCheckLayerAvailabilityCommand,
      {
        failures: [
          { layerDigest: 'sha256:1', failureCode: 'InvalidLayerDigest', failureReason: 'bad' }
        ]
      },
      check,
      'ECR could not check blob sha256:1 in app (InvalidLayerDigest: bad); refusing to decide from a partial answer'
    ],
    [
      'a BatchCheckLayerAvailability answer that leaves a blob out',
      ECR.BatchCheckLayerAvailabilityCommand,
      { layers: [{ layerDigest: 'sha256:1', layerAvailability: 'AVAILABLE' }] },
      check,
      refusal(
        'BatchCheckLayerAvailability',
        'sha256:2, sha256:3: asked for, returned neither as a layer nor as a failure'
      )
    ],
    [
      'an upload completed as another digest',
      ECR.CompleteLayerUploadCommand,
      { layerDigest: 'sha256:2' },
      complete,
      `ECR completed the upload of ${digest} in app as sha256:2; refusing to go on`
    ],
    [
      'an untagged manifest stored as another digest',
      ECR.PutImageCommand,
      { image: { imageId: { imageDigest: 'sha256:2' } } },
      putManifest,
      `ECR stored the manifest ${digest} in app as sha256:2; refusing to go on`
    ],
    [
      'a part ECR has received only in part',
      ECR.UploadLayerPartCommand,
      { lastByteReceived: 4 },
      part,
      refusal('UploadLayerPart', 'bytes 0-9 answered as received up to 4')
    ],
    looping(ECR.DescribeImageScanFindingsCommand, 'DescribeImageScanFindings', {}, scan),
    looping(
      ECR.GetLifecyclePolicyPreviewCommand,
      'GetLifecyclePolicyPreview',
      { status: 'COMPLETE', previewResults: [] },
      () => registry().lifecyclePreview('app')
    ),
    // Denied: the IAM action is named.
    ...(Object.keys(methods) as (keyof typeof methods)[]).map((operation) =>
      failing(
        operation,
        denied(operation),
        new RegExp(
          `^access denied: the credentials lack the IAM permission ecr:${operation} on repository app in 123456789012\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com: grant it to the workflow's role \\(User: arn`
        )
      )
    ),
    // Another failure names its operation; a missing repository, the inputs to check.
    ...(['PutImage', 'DescribeImageScanFindings'] as const).flatMap((operation) => [
      failing(
        operation,
        serverError,
        new RegExp(`^ecr:${operation} on app failed: ServerException: internal error$`)
      ),
      failing(
        operation,
        missing,
        /^repository app not found in registry 123456789012 \(us-east-1\): check the repository, registry-id and region inputs$/
      )
    ]),
    [
      'a missing repository without registry-id: the default registry of the credentials',
      ECR.ListImagesCommand,
      missing,
      () =>
        new Registry(new ECR.ECRClient({ region: 'us-east-1' }), ACTION_MESSAGES).listTags('app'),
      /^repository app not found in the default registry of these credentials \(us-east-1\): check the repository, registry-id and region inputs$/
    ],
    failing(
      'PutImage',
      new ECR.ImageTagAlreadyExistsException({
        message: "The image tag 'latest' already exists",
        ...metadata
      }),
      /^tag 'latest' in app is immutable: set imageTagMutability to IMMUTABLE_WITH_EXCLUSION with an exclusion filter matching 'latest'/
    )
  ])('refuses %s', async (...[, command, given, call, message, alsoCheck]: Case) => {
    answer(command, given)
    await expect(call()).rejects.toThrow(message as string | RegExp)
    alsoCheck?.()
  })
})

describe('Registry reads scan findings', () => {
  it('follows pagination to the end and reads basic findings with their package', async () => {
    ecr
      .on(ECR.DescribeImageScanFindingsCommand, { nextToken: undefined })
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
      .on(ECR.DescribeImageScanFindingsCommand, { nextToken: 'page-2' })
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
    expect(
      ecr.commandCalls(ECR.DescribeImageScanFindingsCommand).map((call) => call.args[0].input)
    ).toEqual(
      [undefined, 'page-2'].map((nextToken) => ({
        ...scope,
        imageId: { imageDigest: digest },
        maxResults: 1000,
        nextToken
      }))
    )
  })

  it('reads enhanced findings: the vulnerability id, its first package, the fix, and whether it is open', async () => {
    const finding = (severity: string, status: string, vulnerabilityId: string) => ({
      severity,
      status,
      packageVulnerabilityDetails: { vulnerabilityId }
    })
    ecr.on(ECR.DescribeImageScanFindingsCommand).resolves({
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
          finding('CRITICAL', 'SUPPRESSED', 'CVE-2024-0004'),
          finding('MEDIUM', 'CLOSED', 'CVE-2024-0005'),
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
})

describe('fetchBlob', () => {
  /** A presigned URL's server: answers `?status=N`, else the blob of 10 bytes; notes each Authorization header. */
  let server: Server
  let url: string
  const authorizations: (string | undefined)[] = []
  const signal = new AbortController().signal
  beforeAll(async () => {
    server = createServer((request, response) => {
      authorizations.push(request.headers.authorization)
      const status = Number(
        new URL(request.url ?? '', 'http://x').searchParams.get('status') ?? 200
      )
      response.writeHead(status, { 'content-length': '10' }).end('0123456789')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/blob?X-Amz-Signature=s`
  })
  afterAll(() => new Promise((resolve) => server.close(resolve)))

  it('streams the bytes, with no credentials of its own', async () => {
    const chunks: Uint8Array[] = []
    for await (const chunk of await fetchBlob(url, signal, 10)) chunks.push(chunk)
    expect(Buffer.concat(chunks).toString()).toBe('0123456789')
    expect(authorizations).toEqual([undefined])
  })

  it.each([
    [
      'a 403 (an expired URL): worth a new one',
      '&status=403',
      10,
      'was answered 403 Forbidden',
      true
    ],
    ['a 404', '&status=404', 10, 'was answered 404 Not Found', false],
    ["a length other than the blob's", '', 11, "announced 10 bytes, not the blob's 11", false]
  ])('refuses %s', async (_, query, size, message, retry) => {
    const error = await rejection(fetchBlob(`${url}${query}`, signal, size))
    expect(error.message).toContain(message)
    expect(error).toMatchObject({ retry })
  })
})
