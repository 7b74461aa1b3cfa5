import { createHash } from 'node:crypto'
import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  DescribeImageScanFindingsCommand,
  DescribeImageSigningStatusCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetDownloadUrlForLayerCommand,
  GetLifecyclePolicyCommand,
  GetLifecyclePolicyPreviewCommand,
  ImageAlreadyExistsException,
  ImageNotFoundException,
  ImageTagAlreadyExistsException,
  InitiateLayerUploadCommand,
  InvalidLayerPartException,
  LayerAlreadyExistsException,
  LifecyclePolicyNotFoundException,
  ListImageReferrersCommand,
  ListImagesCommand,
  PutImageCommand,
  PutLifecyclePolicyCommand,
  RepositoryNotFoundException,
  ScanNotFoundException,
  StartLifecyclePolicyPreviewCommand,
  UpdateImageStorageClassCommand,
  UploadLayerPartCommand,
  UploadNotFoundException,
  type ECRServiceException,
  type Image,
  type ImageIdentifier
} from '@aws-sdk/client-ecr'
import { ENV_PROFILE, getProfileName, parseKnownFiles } from '@smithy/core/config'
import { findingsOf } from './findings.js'
import { say, type Messages, type Trouble } from '../core/messages.js'
import type { Finding, ScanReport, SigningState } from '../core/gates.js'
import type { Expiring } from '../core/lifecycle.js'
import { registryHost } from '../core/inputs.js'
import {
  INDEX_MEDIA_TYPES,
  describeRef,
  immutableRemedy,
  type ImageDetails,
  type ImageRef,
  type Manifest,
  type TagMutability
} from '../core/model.js'

/** Every manifest type an image tag can point at; without the two index types, multi-arch images fail. */
export const ACCEPTED_MEDIA_TYPES = [
  ...INDEX_MEDIA_TYPES,
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
]

const BATCH_GET_LIMIT = 100
/** ECR's largest GetLifecyclePolicyPreview page. */
const PREVIEW_PAGE_LIMIT = 100
/** ECR's largest ListImages and DescribeImageScanFindings page; their default is 100. */
const LIST_PAGE_LIMIT = 1000

export interface PreviewPoll {
  readonly status: string
  /** The policy ECR is previewing: another run may have started a preview of its own since. */
  readonly text?: string
  readonly expiring: readonly (Expiring & { readonly pushedAt?: Date })[]
}

/** Whether PutImage moved the tag, or found it on that manifest before this call. */
export type PutResult = 'written' | 'already there'

/** What BatchCheckLayerAvailability says of a blob in a repository. */
export type LayerAvailability = 'AVAILABLE' | 'UNAVAILABLE' | 'ARCHIVED'

/** An OCI 1.1 referrer of an image, as ListImageReferrers lists it. */
export interface Referrer {
  readonly digest: string
  readonly mediaType: string
  readonly artifactType?: string
  /** ACTIVE, ARCHIVED (cannot be pulled) or ACTIVATING. */
  readonly status: string
}

/** ECR's largest ListImageReferrers page (the model says the default is 20, the API reference 50). */
const REFERRERS_PAGE_LIMIT = 50
/** A part of 5 MiB takes a second or more on a slow runner: the client's 5 s bound is for small answers. */
const PART_TIMEOUT_MS = 60_000

/** Where an image is stored: ACTIVE, ARCHIVED (cannot be pulled) or ACTIVATING (being restored). */
export interface StoredImage {
  readonly digest: string
  readonly mediaType?: string
  readonly status: string
  /** Every tag on the image. */
  readonly tags: readonly string[]
}

export interface RepositoryInfo {
  readonly uri: string
  readonly mutability: TagMutability
}

/** How errors name a registry. */
export interface RegistryNames {
  /** The registry's account id; default the registry of the credentials. */
  readonly registryId?: string
  /** `<account>.dkr.ecr.<region>.amazonaws.com`; default from the account and region. */
  readonly host?: string
  /** The registry a run copies into and writes its tags in, not the source registry. */
  readonly target?: true
}

/** The only place that talks to ECR. Each method names the IAM action it needs when access is denied. */
export class Registry {
  private readonly options: { readonly abortSignal?: AbortSignal }
  private readonly registryId: string | undefined

  constructor(
    private readonly client: ECRClient,
    private readonly messages: Messages,
    private readonly names: RegistryNames = {},
    signal?: AbortSignal
  ) {
    this.options = signal ? { abortSignal: signal } : {}
    this.registryId = names.registryId
  }

  /** The same registry with its requests aborted by `signal` instead: an undo goes on after a cancel, within a bound of its own. */
  withSignal(signal: AbortSignal): Registry {
    return new Registry(this.client, this.messages, this.names, signal)
  }

  async describeRepository(repositoryName: string): Promise<RepositoryInfo> {
    const { repositories = [] } = await this.call('DescribeRepositories', repositoryName, () =>
      this.client.send(
        new DescribeRepositoriesCommand({ ...this.scope(), repositoryNames: [repositoryName] }),
        this.options
      )
    )
    const [repository] = repositories
    if (!repository?.repositoryUri)
      throw new Error(`repository ${repositoryName} was not described by ECR`)
    return {
      uri: repository.repositoryUri,
      mutability: {
        mode: repository.imageTagMutability ?? 'MUTABLE',
        exclusions: (repository.imageTagMutabilityExclusionFilters ?? []).flatMap((f) =>
          f.filter ? [f.filter] : []
        )
      }
    }
  }

  /** Every tag and its digest, following pagination to the end. */
  async listTags(repositoryName: string): Promise<Map<string, string>> {
    const tags = new Map<string, string>()
    const pages = paginate('ListImages', repositoryName, (nextToken) =>
      this.call('ListImages', repositoryName, () =>
        this.client.send(
          new ListImagesCommand({
            ...this.scope(),
            repositoryName,
            // Archived images are released versions too: a rollback may need one restored.
            filter: { tagStatus: 'TAGGED', imageStatus: 'ANY' },
            maxResults: LIST_PAGE_LIMIT,
            nextToken
          }),
          this.options
        )
      )
    )
    for await (const { imageIds } of pages) {
      // A page is a list, possibly empty; no list at all is no answer.
      if (!imageIds) throw partialAnswer('ListImages', repositoryName, 'a page without imageIds')
      for (const { imageTag, imageDigest } of imageIds) {
        if (imageTag && imageDigest) tags.set(imageTag, imageDigest)
      }
    }
    return tags
  }

  /**
   * The manifests the refs point at, keyed by `describeRef`; refs the registry lacks (ImageNotFound)
   * are absent. Any other failure, or a ref the answer leaves out, refuses the run. `archivable` are
   * refs that may name an archived image, which ECR may answer `ImageInaccessible` for (AWS does not
   * say which answer it gives): they are then absent too, and the caller learns their status otherwise.
   */
  async getManifests(
    repositoryName: string,
    refs: readonly ImageRef[],
    archivable: readonly ImageRef[] = []
  ): Promise<Map<string, Manifest>> {
    const manifests = new Map<string, Manifest>()
    const names = (ref: ImageRef) => (id: ImageIdentifier | undefined) =>
      'tag' in ref ? id?.imageTag === ref.tag : id?.imageDigest === ref.digest
    for (const batch of batches(refs)) {
      const { images = [], failures = [] } = await this.call('BatchGetImage', repositoryName, () =>
        this.client.send(
          new BatchGetImageCommand({
            ...this.scope(),
            repositoryName,
            imageIds: batch.map(toImageIdentifier),
            acceptedMediaTypes: ACCEPTED_MEDIA_TYPES
          }),
          this.options
        )
      )
      // Only "not found" means absent: treating any other failure as absent would let a write
      // overwrite, and an undo delete, a tag whose image ECR merely could not return.
      const unreadable = failures.filter(
        ({ failureCode, imageId }) =>
          failureCode !== 'ImageNotFound' &&
          !(failureCode === 'ImageInaccessible' && archivable.some((ref) => names(ref)(imageId)))
      )
      if (unreadable.length > 0) {
        throw new Error(
          `ECR could not return ${unreadable
            .map(
              ({ imageId, failureCode, failureReason }) =>
                `${repositoryName}:${imageId?.imageTag ?? imageId?.imageDigest} (${failureCode}: ${failureReason})`
            )
            .join(', ')}; refusing to decide from a partial answer`
        )
      }
      const omitted: ImageRef[] = []
      for (const ref of batch) {
        const image = images.find(({ imageId }) => names(ref)(imageId))
        if (image) manifests.set(describeRef(ref), checkedManifest(repositoryName, ref, image))
        else if (!failures.some(({ imageId }) => names(ref)(imageId))) omitted.push(ref)
      }
      if (omitted.length > 0)
        throw partialAnswer(
          'BatchGetImage',
          repositoryName,
          `${omitted.map(describeRef).join(', ')}: asked for, returned neither as an image nor as a failure`
        )
    }
    return manifests
  }

  /** The tags and push time of each image, by digest. */
  async describeImages(
    repositoryName: string,
    digests: readonly string[]
  ): Promise<Map<string, ImageDetails>> {
    const details = new Map<string, ImageDetails>()
    for (const batch of batches(digests)) {
      const { imageDetails = [] } = await this.call('DescribeImages', repositoryName, () =>
        this.client.send(
          new DescribeImagesCommand({
            ...this.scope(),
            repositoryName,
            imageIds: batch.map((imageDigest) => ({ imageDigest })),
            // Listings include archived images, so their digests must be described too.
            filter: { imageStatus: 'ANY' }
          }),
          this.options
        )
      )
      const left = batch.filter(
        (digest) => !imageDetails.some((image) => image.imageDigest === digest)
      )
      if (left.length > 0)
        throw partialAnswer('DescribeImages', repositoryName, `${left.join(', ')} not described`)
      for (const image of imageDetails) {
        const { imageDigest, imageTags = [], imagePushedAt, imageSizeInBytes } = image
        if (imageDigest)
          details.set(imageDigest, {
            tags: imageTags,
            ...(image.imageManifestMediaType && { mediaType: image.imageManifestMediaType }),
            ...(imagePushedAt && { pushedAt: imagePushedAt }),
            ...(imageSizeInBytes !== undefined && { sizeBytes: imageSizeInBytes })
          })
      }
    }
    return details
  }

  /**
   * How the image a ref names is stored, and its tags, archived ones included; undefined when there
   * is none. One ref a call: ECR fails a DescribeImages whole for any id it does not have.
   */
  async storedImage(repositoryName: string, ref: ImageRef): Promise<StoredImage | undefined> {
    try {
      const { imageDetails = [] } = await this.client.send(
        new DescribeImagesCommand({
          ...this.scope(),
          repositoryName,
          imageIds: [toImageIdentifier(ref)],
          filter: { imageStatus: 'ANY' }
        }),
        this.options
      )
      const [image] = imageDetails
      // An image ECR does not have is ImageNotFoundException; an empty answer is no answer.
      if (!image?.imageDigest)
        throw partialAnswer('DescribeImages', repositoryName, `${describeRef(ref)} not described`)
      return {
        digest: image.imageDigest,
        status: image.imageStatus ?? 'ACTIVE',
        tags: image.imageTags ?? [],
        ...(image.imageManifestMediaType && { mediaType: image.imageManifestMediaType })
      }
    } catch (error) {
      if (error instanceof ImageNotFoundException) return undefined
      throw error instanceof PartialAnswer
        ? error
        : await this.explain(error, 'DescribeImages', repositoryName)
    }
  }

  /** Starts restoring an archived image to standard storage; returns its status (ACTIVATING until done). */
  async restoreImage(repositoryName: string, digest: string): Promise<string> {
    const { imageStatus } = await this.call('UpdateImageStorageClass', repositoryName, () =>
      this.client.send(
        new UpdateImageStorageClassCommand({
          ...this.scope(),
          repositoryName,
          imageId: { imageDigest: digest },
          targetStorageClass: 'STANDARD'
        }),
        this.options
      )
    )
    return imageStatus ?? 'ACTIVATING'
  }

  /**
   * The image's scan, basic or enhanced (Amazon Inspector), with every finding, following pagination
   * to the end; undefined when the image was never scanned.
   */
  async scanFindings(repositoryName: string, digest: string): Promise<ScanReport | undefined> {
    const findings: Finding[] = []
    let status = 'UNKNOWN'
    let description: string | undefined
    const pages = paginate('DescribeImageScanFindings', repositoryName, (nextToken) =>
      this.client.send(
        new DescribeImageScanFindingsCommand({
          ...this.scope(),
          repositoryName,
          imageId: { imageDigest: digest },
          maxResults: LIST_PAGE_LIMIT,
          nextToken
        }),
        this.options
      )
    )
    try {
      for await (const page of pages) {
        status = page.imageScanStatus?.status ?? status
        description = page.imageScanStatus?.description ?? description
        // Counted from the findings themselves, not findingSeverityCounts: ignored ids must not count.
        findings.push(...findingsOf(page.imageScanFindings))
      }
    } catch (error) {
      if (error instanceof ScanNotFoundException) return undefined
      throw error instanceof PartialAnswer
        ? error
        : await this.explain(error, 'DescribeImageScanFindings', repositoryName)
    }
    return { status, findings, ...(description && { description }) }
  }

  /** What ECR managed signing says of the image, one entry per signing profile. */
  async signingStatuses(repositoryName: string, digest: string): Promise<SigningState[]> {
    const { signingStatuses = [] } = await this.call(
      'DescribeImageSigningStatus',
      repositoryName,
      () =>
        this.client.send(
          new DescribeImageSigningStatusCommand({
            ...this.scope(),
            repositoryName,
            imageId: { imageDigest: digest }
          }),
          this.options
        )
    )
    return signingStatuses.map(({ signingProfileArn, status, failureReason }) => ({
      // An entry without a status vouches for nothing, and is nothing to wait for either.
      status: status ?? 'UNKNOWN',
      ...(signingProfileArn && { profile: signingProfileArn }),
      ...(failureReason && { reason: failureReason })
    }))
  }

  /**
   * Points `tag` at the manifest, byte for byte. `already there` comes back when ECR had the tag on
   * that manifest before the first attempt; when only a retry finds it there, the first attempt wrote it.
   */
  async putTag(repositoryName: string, tag: string, manifest: Manifest): Promise<PutResult> {
    try {
      await this.call('PutImage', repositoryName, () =>
        this.client.send(
          new PutImageCommand({
            ...this.scope(),
            repositoryName,
            imageTag: tag,
            imageManifest: manifest.body,
            imageManifestMediaType: manifest.mediaType,
            imageDigest: manifest.digest
          }),
          this.options
        )
      )
      return 'written'
    } catch (error) {
      // On a retry, the tag is most likely there because ECR applied the first attempt and lost its answer.
      if (error instanceof ImageAlreadyExistsException) return foundThere(error)
      if (error instanceof ImageTagAlreadyExistsException) {
        throw new Error(
          `tag '${tag}' in ${repositoryName} is immutable: ${immutableRemedy(tag)} (${error.message})`,
          { cause: error }
        )
      }
      throw error
    }
  }

  /** Removes one tag, as removeTags does; a tag ECR did not remove is an error. */
  async removeTag(repositoryName: string, tag: string): Promise<void> {
    const refused = (await this.removeTags(repositoryName, [tag])).get(tag)
    if (refused) throw new Error(`could not remove tag '${tag}' from ${repositoryName}: ${refused}`)
  }

  /** The repository's lifecycle policy text, or undefined when it has none. */
  async getLifecyclePolicy(repositoryName: string): Promise<string | undefined> {
    try {
      const { lifecyclePolicyText } = await this.client.send(
        new GetLifecyclePolicyCommand({ ...this.scope(), repositoryName }),
        this.options
      )
      return lifecyclePolicyText
    } catch (error) {
      if (error instanceof LifecyclePolicyNotFoundException) return undefined
      throw await this.explain(error, 'GetLifecyclePolicy', repositoryName)
    }
  }

  async putLifecyclePolicy(repositoryName: string, lifecyclePolicyText: string): Promise<void> {
    await this.call('PutLifecyclePolicy', repositoryName, () =>
      this.client.send(
        new PutLifecyclePolicyCommand({ ...this.scope(), repositoryName, lifecyclePolicyText }),
        this.options
      )
    )
  }

  /** Asks ECR to evaluate a policy against the repository without applying it. */
  async startLifecyclePreview(repositoryName: string, lifecyclePolicyText: string): Promise<void> {
    await this.call('StartLifecyclePolicyPreview', repositoryName, () =>
      this.client.send(
        new StartLifecyclePolicyPreviewCommand({
          ...this.scope(),
          repositoryName,
          lifecyclePolicyText
        }),
        this.options
      )
    )
  }

  /** The preview's status, and once it is COMPLETE every image it expires, following pagination to the end. */
  async lifecyclePreview(repositoryName: string): Promise<PreviewPoll> {
    const expiring: (Expiring & { pushedAt?: Date })[] = []
    let policyText: string | undefined
    const pages = paginate('GetLifecyclePolicyPreview', repositoryName, (nextToken) =>
      this.call('GetLifecyclePolicyPreview', repositoryName, () =>
        this.client.send(
          new GetLifecyclePolicyPreviewCommand({
            ...this.scope(),
            repositoryName,
            maxResults: PREVIEW_PAGE_LIMIT,
            nextToken
          }),
          this.options
        )
      )
    )
    for await (const page of pages) {
      const status = page.status ?? 'IN_PROGRESS'
      const text = page.lifecyclePolicyText
      if (status !== 'COMPLETE')
        return { status, expiring: [], ...(text !== undefined && { text }) }
      for (const result of page.previewResults ?? []) {
        if (!result.imageDigest || (result.action?.type && result.action.type !== 'EXPIRE'))
          continue
        expiring.push({
          digest: result.imageDigest,
          tags: result.imageTags ?? [],
          ...(result.appliedRulePriority !== undefined && {
            rulePriority: result.appliedRulePriority
          }),
          ...(result.imagePushedAt && { pushedAt: result.imagePushedAt })
        })
      }
      if (text !== undefined) policyText = text
    }
    return { status: 'COMPLETE', expiring, ...(policyText !== undefined && { text: policyText }) }
  }

  /**
   * Removes tags in one request (at most 100), never naming a digest: ECR deletes an image when its
   * last tag goes, so an image that gained a tag meanwhile stays. Returns the tags ECR did not
   * remove, with why. A tag already gone counts as removed: that is what a retry sees after ECR
   * applied a removal whose answer was lost.
   */
  async removeTags(repositoryName: string, tags: readonly string[]): Promise<Map<string, string>> {
    const { imageIds = [], failures = [] } = await this.call(
      'BatchDeleteImage',
      repositoryName,
      () =>
        this.client.send(
          new BatchDeleteImageCommand({
            ...this.scope(),
            repositoryName,
            imageIds: tags.map((imageTag) => ({ imageTag }))
          }),
          this.options
        )
    )
    const answered = new Set(
      [...imageIds, ...failures.map(({ imageId }) => imageId)].map((id) => id?.imageTag)
    )
    const omitted = tags.filter((tag) => !answered.has(tag))
    if (omitted.length > 0)
      throw partialAnswer(
        'BatchDeleteImage',
        repositoryName,
        `${omitted.join(', ')}: asked to remove, returned neither as removed nor as a failure`
      )
    return new Map(
      failures.flatMap(({ imageId, failureCode, failureReason }) =>
        failureCode === 'ImageNotFound'
          ? []
          : [[imageId?.imageTag ?? '', `${failureCode}: ${failureReason}`] as const]
      )
    )
  }

  private scope(): { registryId?: string } {
    return this.registryId ? { registryId: this.registryId } : {}
  }

  private async call<T>(
    operation: string,
    repositoryName: string,
    send: () => Promise<T>
  ): Promise<T> {
    try {
      return await send()
    } catch (error) {
      throw await this.explain(error, operation, repositoryName)
    }
  }

  /** The error as a person reads it: in the host's words, where it has some for it. */
  private async explain(
    error: unknown,
    operation: string,
    repositoryName: string
  ): Promise<unknown> {
    if (!(error instanceof Error)) return error
    const trouble = await troubleOf(error, operation, repositoryName, this.names, this.client)
    return trouble
      ? new Error(say(this.messages, trouble), { cause: error })
      : described(error, operation, repositoryName)
  }

  /** Whether the repository holds each blob; a blob ECR answers neither way about refuses the run. */
  async checkLayers(
    repositoryName: string,
    digests: readonly string[]
  ): Promise<Map<string, LayerAvailability>> {
    const availability = new Map<string, LayerAvailability>()
    for (const batch of batches(digests)) {
      const { layers = [], failures = [] } = await this.call(
        'BatchCheckLayerAvailability',
        repositoryName,
        () =>
          this.client.send(
            new BatchCheckLayerAvailabilityCommand({
              ...this.scope(),
              repositoryName,
              layerDigests: [...batch]
            }),
            this.options
          )
      )
      for (const { layerDigest, layerAvailability } of layers)
        if (layerDigest && layerAvailability) availability.set(layerDigest, layerAvailability)
      for (const { layerDigest, failureCode, failureReason } of failures) {
        // MissingLayerDigest is ECR's "not here"; InvalidLayerDigest and the rest are no answer.
        if (failureCode !== 'MissingLayerDigest')
          throw new Error(
            `ECR could not check blob ${layerDigest} in ${repositoryName} (${failureCode}: ${failureReason}); refusing to decide from a partial answer`
          )
        if (layerDigest) availability.set(layerDigest, 'UNAVAILABLE')
      }
      const omitted = batch.filter((digest) => !availability.has(digest))
      if (omitted.length > 0)
        throw partialAnswer(
          'BatchCheckLayerAvailability',
          repositoryName,
          `${omitted.join(', ')}: asked for, returned neither as a layer nor as a failure`
        )
    }
    return availability
  }

  /** A presigned URL to GET the blob's bytes from, without credentials. */
  async downloadUrl(repositoryName: string, digest: string): Promise<string> {
    const { downloadUrl, layerDigest } = await this.call(
      'GetDownloadUrlForLayer',
      repositoryName,
      () =>
        this.client.send(
          new GetDownloadUrlForLayerCommand({
            ...this.scope(),
            repositoryName,
            layerDigest: digest
          }),
          this.options
        )
    )
    if (!downloadUrl || (layerDigest && layerDigest !== digest))
      throw partialAnswer(
        'GetDownloadUrlForLayer',
        repositoryName,
        `${digest}: answered ${downloadUrl ? `for ${layerDigest}` : 'without a URL'}`
      )
    return downloadUrl
  }

  /** Starts a blob upload: its id, and the part size ECR expects. */
  async startUpload(repositoryName: string): Promise<{ uploadId: string; partSize: number }> {
    const { uploadId, partSize } = await this.call('InitiateLayerUpload', repositoryName, () =>
      this.client.send(
        new InitiateLayerUploadCommand({ ...this.scope(), repositoryName }),
        this.options
      )
    )
    if (!uploadId || !partSize)
      throw partialAnswer('InitiateLayerUpload', repositoryName, 'no upload id or part size')
    return { uploadId, partSize }
  }

  /** Sends bytes `first` to `last` (inclusive) of an upload; they follow the parts sent before. */
  async uploadPart(
    repositoryName: string,
    uploadId: string,
    first: number,
    last: number,
    bytes: Uint8Array
  ): Promise<void> {
    const command = new UploadLayerPartCommand({
      ...this.scope(),
      repositoryName,
      uploadId,
      partFirstByte: first,
      partLastByte: last,
      layerPartBlob: bytes
    })
    const body = writePartOnce(command)
    const { lastByteReceived } = await this.call('UploadLayerPart', repositoryName, () =>
      this.client
        .send(command, { ...this.options, requestTimeout: PART_TIMEOUT_MS })
        .finally(body.release)
        .catch((error: unknown) => {
          // A retry of a part ECR took before its answer was lost: ECR already has these bytes.
          if (
            error instanceof InvalidLayerPartException &&
            (error.$metadata.attempts ?? 1) > 1 &&
            (error.lastValidByteReceived ?? -1) >= last
          )
            return { lastByteReceived: last }
          throw error
        })
    )
    if (lastByteReceived !== undefined && lastByteReceived !== last)
      throw partialAnswer(
        'UploadLayerPart',
        repositoryName,
        `bytes ${first}-${last} answered as received up to ${lastByteReceived}`
      )
  }

  /** Ends an upload: ECR checks the bytes against the digest and keeps the blob. */
  async completeUpload(
    repositoryName: string,
    uploadId: string,
    digest: string
  ): Promise<PutResult> {
    let found: PutResult | undefined
    const { layerDigest } = await this.call('CompleteLayerUpload', repositoryName, () =>
      this.client
        .send(
          new CompleteLayerUploadCommand({
            ...this.scope(),
            repositoryName,
            uploadId,
            layerDigests: [digest]
          }),
          this.options
        )
        .catch(async (error: unknown) => {
          if (error instanceof LayerAlreadyExistsException) {
            found = foundThere(error)
            return { layerDigest: digest }
          }
          // A retry of a completion ECR applied before its answer was lost: the upload is over,
          // and the blob is there if that completion was the one that made it.
          if (
            error instanceof UploadNotFoundException &&
            (error.$metadata.attempts ?? 1) > 1 &&
            (await this.checkLayers(repositoryName, [digest])).get(digest) === 'AVAILABLE'
          )
            return { layerDigest: digest }
          throw error
        })
    )
    if (layerDigest !== digest)
      throw new Error(
        `ECR completed the upload of ${digest} in ${repositoryName} as ${layerDigest}; refusing to go on`
      )
    return found ?? 'written'
  }

  /** Puts a manifest byte for byte, by digest and without a tag: a platform image, an index or a referrer. */
  async putManifest(repositoryName: string, manifest: Manifest): Promise<PutResult> {
    let found: PutResult | undefined
    const { image } = await this.call('PutImage', repositoryName, () =>
      this.client
        .send(
          new PutImageCommand({
            ...this.scope(),
            repositoryName,
            imageManifest: manifest.body,
            imageManifestMediaType: manifest.mediaType,
            imageDigest: manifest.digest
          }),
          this.options
        )
        .catch((error: unknown) => {
          if (!(error instanceof ImageAlreadyExistsException)) throw error
          found = foundThere(error)
          return { image: { imageId: { imageDigest: manifest.digest } } }
        })
    )
    const answered = image?.imageId?.imageDigest
    if (answered !== manifest.digest)
      throw new Error(
        `ECR stored the manifest ${manifest.digest} in ${repositoryName} as ${answered}; refusing to go on`
      )
    return found ?? 'written'
  }

  /** The OCI 1.1 referrers of an image, archived ones included, following pagination to the end. */
  async listReferrers(repositoryName: string, digest: string): Promise<Referrer[]> {
    const referrers: Referrer[] = []
    // ECR asks for ecr:BatchGetImage to list referrers.
    const pages = paginate('ListImageReferrers', repositoryName, (nextToken) =>
      this.call('BatchGetImage', repositoryName, () =>
        this.client.send(
          new ListImageReferrersCommand({
            ...this.scope(),
            repositoryName,
            subjectId: { imageDigest: digest },
            filter: { artifactStatus: 'ANY' },
            maxResults: REFERRERS_PAGE_LIMIT,
            nextToken
          }),
          this.options
        )
      )
    )
    for await (const page of pages) {
      if (!page.referrers)
        throw partialAnswer('ListImageReferrers', repositoryName, 'a page without referrers')
      for (const { digest: found, mediaType, artifactType, artifactStatus } of page.referrers) {
        if (!found || !mediaType)
          throw partialAnswer('ListImageReferrers', repositoryName, 'a referrer without digest')
        referrers.push({
          digest: found,
          mediaType,
          status: artifactStatus ?? 'ACTIVE',
          ...(artifactType && { artifactType })
        })
      }
    }
    return referrers
  }
}

/** ECR had it already: before this call, or because a lost answer's first attempt wrote it. */
const foundThere = (error: ECRServiceException): PutResult =>
  (error.$metadata.attempts ?? 1) > 1 ? 'written' : 'already there'

/** An error the host words itself, with the facts it needs; undefined for the others. */
async function troubleOf(
  error: Error,
  operation: string,
  repository: string,
  { registryId, host, target }: RegistryNames,
  client: ECRClient
): Promise<Trouble | undefined> {
  if (error instanceof RepositoryNotFoundException) {
    // ECR names the registry it looked in: "… does not exist in the registry with id '123456789012'".
    const account = registryId ?? /registry with id '(\d{12})'/.exec(error.message)?.[1]
    return {
      kind: 'repository-not-found',
      repository,
      region: await client.config.region(),
      ...(account && { account }),
      ...(target && { target })
    }
  }
  if (error.name === 'AccessDeniedException') {
    // ECR names the resource: "… on resource: arn:aws:ecr:us-east-1:123456789012:repository/app …".
    const account = registryId ?? /:ecr:[a-z0-9-]+:(\d{12}):/.exec(error.message)?.[1]
    const region = await client.config.region()
    const named = host ?? (account && registryHost(account, region))
    return {
      kind: 'access-denied',
      action: `ecr:${operation}`,
      repository,
      region,
      ...(named && { host: named }),
      ...(target && { target }),
      detail: error.message
    }
  }
  if (error.name !== 'CredentialsProviderError' && error.name !== 'TokenProviderError')
    return undefined
  const profile = getProfileName({})
  if (/\bSSO\b.*\b(expired|invalid)\b|Token is expired/i.test(error.message))
    return { kind: 'sso-expired', profile, detail: error.message }
  if (process.env[ENV_PROFILE] && !(await profileExists(profile)))
    return { kind: 'profile-not-found', profile }
  return { kind: 'no-credentials', detail: error.message }
}

/** Whether the AWS config or credentials files have a profile of that name. */
export async function profileExists(profile: string): Promise<boolean> {
  return Object.hasOwn(await parseKnownFiles({ profile, ignoreCache: true }), profile)
}

/**
 * Whether ECR answered the call with a refusal (a 4xx), so that it applied nothing; a timeout, a
 * reset or a 5xx leaves a write's outcome unknown.
 */
export function refused(error: unknown): boolean {
  for (
    let each: unknown = error;
    each instanceof Object;
    each = (each as { cause?: unknown }).cause
  ) {
    const status = (each as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
    if (status !== undefined) return status >= 400 && status < 500
  }
  return false
}

function described(error: Error, operation: string, repositoryName: string): Error {
  if (
    error instanceof ImageAlreadyExistsException ||
    error instanceof ImageTagAlreadyExistsException
  )
    return error
  if (error.name === 'AbortError')
    return new Error(`ecr:${operation} on ${repositoryName} was abandoned (${error.message})`, {
      cause: error
    })
  return new Error(
    `ecr:${operation} on ${repositoryName} failed: ${error.name}: ${error.message}`,
    { cause: error }
  )
}

/** An answer that cannot be all of it: the run refuses to decide from it. */
class PartialAnswer extends Error {}

const partialAnswer = (operation: string, repositoryName: string, what: string): PartialAnswer =>
  new PartialAnswer(
    `ECR answered ${operation} on ${repositoryName} in part (${what}): refusing to decide from a partial answer; run again`
  )

/** The manifest exactly as ECR returned it, once its bytes are checked against its digest. */
function checkedManifest(
  repositoryName: string,
  ref: ImageRef,
  { imageId, imageManifest, imageManifestMediaType }: Image
): Manifest {
  if (!imageId?.imageDigest || imageManifest === undefined || !imageManifestMediaType) {
    throw new Error(`ECR returned an incomplete image for ${repositoryName}:${describeRef(ref)}`)
  }
  const computed = `sha256:${createHash('sha256').update(imageManifest, 'utf8').digest('hex')}`
  if (computed !== imageId.imageDigest) {
    throw new Error(
      `the manifest ECR returned for ${repositoryName}:${describeRef(ref)} hashes to ${computed}, not to its digest ${imageId.imageDigest}; refusing to write anything from it`
    )
  }
  return { digest: imageId.imageDigest, mediaType: imageManifestMediaType, body: imageManifest }
}

/** Follows nextToken to the end; a token given twice would go round for ever, so it ends the run. */
async function* paginate<Page extends { nextToken?: string | undefined }>(
  operation: string,
  repositoryName: string,
  fetch: (nextToken: string | undefined) => Promise<Page>
): AsyncGenerator<Page> {
  const seen = new Set<string>()
  let nextToken: string | undefined
  do {
    const page = await fetch(nextToken)
    yield page
    nextToken = page.nextToken
    if (nextToken && seen.has(nextToken))
      throw partialAnswer(operation, repositoryName, `a nextToken it had given before`)
    if (nextToken) seen.add(nextToken)
  } while (nextToken)
}

/** BatchGetImage, DescribeImages and BatchDeleteImage take at most 100 image ids a call. */
export function batches<T>(items: readonly T[]): T[][] {
  const result: T[][] = []
  for (let start = 0; start < items.length; start += BATCH_GET_LIMIT)
    result.push(items.slice(start, start + BATCH_GET_LIMIT))
  return result
}

function toImageIdentifier(ref: ImageRef): ImageIdentifier {
  return 'tag' in ref ? { imageTag: ref.tag } : { imageDigest: ref.digest }
}

/** A part's request body, kept for the next part once its request is over (a run sends one part at a time). */
let spareBody: Buffer | undefined

/**
 * The SDK's JSON protocol holds a part three more times besides the bytes (its base64 text, the
 * JSON text, and that text's bytes), garbage the process frees late: a 200 MiB copy then peaks
 * above the 150 MiB the copy promises. So the part is left out of the serialized request, and the
 * body is written once, its base64 in slices, into a buffer reused part after part.
 */
function writePartOnce(command: UploadLayerPartCommand): { release: () => void } {
  const bytes = command.input.layerPartBlob ?? new Uint8Array(0)
  const source = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let taken: Buffer | undefined
  command.middlewareStack.add(
    (next) => (args) =>
      next({ ...args, input: { ...command.input, layerPartBlob: new Uint8Array(0) } }),
    { step: 'initialize', name: 'ecrPromotePartLeftOut' }
  )
  command.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { body?: unknown }
      const { body: serialized } = request
      const text =
        serialized instanceof Uint8Array
          ? Buffer.from(serialized).toString('utf8')
          : String(serialized)
      const [head, tail] = text.split('"layerPartBlob":""')
      if (head === undefined || tail === undefined)
        throw new Error('UploadLayerPart: the serialized request has no layerPartBlob')
      const [opening, closing] = [`${head}"layerPartBlob":"`, `"${tail}`]
      const size =
        Buffer.byteLength(opening) + 4 * Math.ceil(source.length / 3) + Buffer.byteLength(closing)
      taken = spareBody && spareBody.length >= size ? spareBody : Buffer.allocUnsafe(size)
      spareBody = undefined
      let at = taken.write(opening)
      // A slice of a multiple of 3 bytes encodes to base64 without padding, so the slices join.
      const slice = 3 * 16_384
      for (let from = 0; from < source.length; from += slice)
        at += taken.write(source.subarray(from, from + slice).toString('base64'), at, 'latin1')
      at += taken.write(closing, at)
      if (at !== size) throw new Error('UploadLayerPart: the part body was not written whole')
      request.body = taken.subarray(0, size)
      return next(args)
    },
    { step: 'build', priority: 'high', name: 'ecrPromotePartBody' }
  )
  return { release: () => void (spareBody = taken ?? spareBody) }
}
