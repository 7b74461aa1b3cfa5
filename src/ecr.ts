import { createHash } from 'node:crypto'
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImageScanFindingsCommand,
  DescribeImageSigningStatusCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
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
  StartLifecyclePolicyPreviewCommand,
  UpdateImageStorageClassCommand,
  type ImageIdentifier,
  type ImageScanFindings
} from '@aws-sdk/client-ecr'
import type { Finding, ScanReport, SigningState } from './gates.js'
import type { Expiring } from './lifecycle.js'
import {
  INDEX_MEDIA_TYPES,
  describeRef,
  immutableRemedy,
  type ImageDetails,
  type ImageRef,
  type Manifest,
  type TagMutability
} from './model.js'

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

/** ECR answers in well under a second; these bound a connection that never opens or a request never answered. */
const CONNECTION_TIMEOUT_MS = 5_000
const REQUEST_TIMEOUT_MS = 30_000
/**
 * Enough attempts that a lost answer, a reset connection or a throttle is retried past bad luck, not
 * past an outage; `adaptive` retries also slow every later call of the client after a throttle.
 */
const MAX_ATTEMPTS = 10

export interface RegistryOptions {
  readonly region: string
  /** The registry's account id; default the registry of the credentials. */
  readonly registryId?: string
  /** Told of every attempt that ECR throttled, so the run's write pace can slow down. */
  readonly onThrottle?: () => void
}

/** The one place that builds the SDK client: region, user agent, retries and timeouts. */
export function createRegistry({ region, registryId, onThrottle }: RegistryOptions): Registry {
  const client = new ECRClient({
    region,
    customUserAgent: 'ecr-promote',
    maxAttempts: MAX_ATTEMPTS,
    retryMode: 'adaptive',
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true
    }
  })
  if (onThrottle) {
    // Below the retry middleware, so it sees each attempt, not only the last.
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args)
        } catch (error) {
          if (isThrottle(error)) onThrottle()
          throw error
        }
      },
      { step: 'finalizeRequest', priority: 'low', name: 'ecrPromoteThrottleWatch' }
    )
  }
  return new Registry(client, registryId)
}

const isThrottle = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === 'ThrottlingException' ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 429)

/** One poll of a lifecycle policy preview: its status and, once COMPLETE, every image it would expire. */
/** The region the AWS SDK's own chain finds (the environment, then the profile's config); empty if none. */
export async function sdkRegion(): Promise<string> {
  const client = new ECRClient({})
  try {
    return await client.config.region()
  } catch {
    return ''
  } finally {
    client.destroy()
  }
}

export interface PreviewPoll {
  readonly status: string
  /** The policy ECR is previewing: another run may have started a preview of its own since. */
  readonly text?: string
  readonly expiring: readonly (Expiring & { readonly pushedAt?: Date })[]
}

/** Whether PutImage moved the tag, or found it on that manifest before this call. */
export type PutResult = 'written' | 'already there'

/** Where an image is stored: ACTIVE, ARCHIVED (cannot be pulled) or ACTIVATING (being restored). */
export interface StoredImage {
  readonly digest: string
  readonly mediaType?: string
  readonly status: string
}

export interface RepositoryInfo {
  readonly uri: string
  readonly mutability: TagMutability
}

/** The only place that talks to ECR. Each method names the IAM action it needs when access is denied. */
export class Registry {
  constructor(
    private readonly client: ECRClient,
    private readonly registryId?: string
  ) {}

  async describeRepository(repositoryName: string): Promise<RepositoryInfo> {
    const { repositories = [] } = await this.call('DescribeRepositories', repositoryName, () =>
      this.client.send(
        new DescribeRepositoriesCommand({ ...this.scope(), repositoryNames: [repositoryName] })
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
    let nextToken: string | undefined
    do {
      const page = await this.call('ListImages', repositoryName, () =>
        this.client.send(
          new ListImagesCommand({
            ...this.scope(),
            repositoryName,
            // Archived images are released versions too: a rollback may need one restored.
            filter: { tagStatus: 'TAGGED', imageStatus: 'ANY' },
            maxResults: LIST_PAGE_LIMIT,
            nextToken
          })
        )
      )
      for (const { imageTag, imageDigest } of page.imageIds ?? []) {
        if (imageTag && imageDigest) tags.set(imageTag, imageDigest)
      }
      nextToken = page.nextToken
    } while (nextToken)
    return tags
  }

  /** The manifests the refs point at, keyed by `describeRef`; refs the registry lacks are absent. */
  async getManifests(
    repositoryName: string,
    refs: readonly ImageRef[]
  ): Promise<Map<string, Manifest>> {
    const manifests = new Map<string, Manifest>()
    for (const batch of batches(refs)) {
      const { images = [], failures = [] } = await this.call('BatchGetImage', repositoryName, () =>
        this.client.send(
          new BatchGetImageCommand({
            ...this.scope(),
            repositoryName,
            imageIds: batch.map(toImageIdentifier),
            acceptedMediaTypes: ACCEPTED_MEDIA_TYPES
          })
        )
      )
      // Only "not found" means absent: treating any other failure as absent would let a write
      // overwrite, and an undo delete, a tag whose image ECR merely could not return.
      const unreadable = failures.filter(({ failureCode }) => failureCode !== 'ImageNotFound')
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
      for (const ref of batch) {
        const image = images.find(({ imageId }) =>
          'tag' in ref ? imageId?.imageTag === ref.tag : imageId?.imageDigest === ref.digest
        )
        if (!image) continue
        const { imageId, imageManifest, imageManifestMediaType } = image
        if (!imageId?.imageDigest || imageManifest === undefined || !imageManifestMediaType) {
          throw new Error(
            `ECR returned an incomplete image for ${repositoryName}:${describeRef(ref)}`
          )
        }
        const computed = `sha256:${createHash('sha256').update(imageManifest, 'utf8').digest('hex')}`
        if (computed !== imageId.imageDigest) {
          throw new Error(
            `the manifest ECR returned for ${repositoryName}:${describeRef(ref)} hashes to ${computed}, not to its digest ${imageId.imageDigest}; refusing to write anything from it`
          )
        }
        manifests.set(describeRef(ref), {
          digest: imageId.imageDigest,
          mediaType: imageManifestMediaType,
          body: imageManifest
        })
      }
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
          })
        )
      )
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

  /** How the image a ref names is stored, archived ones included; undefined when there is none. */
  async storedImage(repositoryName: string, ref: ImageRef): Promise<StoredImage | undefined> {
    try {
      const { imageDetails = [] } = await this.client.send(
        new DescribeImagesCommand({
          ...this.scope(),
          repositoryName,
          imageIds: [toImageIdentifier(ref)],
          filter: { imageStatus: 'ANY' }
        })
      )
      const [image] = imageDetails
      if (!image?.imageDigest) return undefined
      return {
        digest: image.imageDigest,
        status: image.imageStatus ?? 'ACTIVE',
        ...(image.imageManifestMediaType && { mediaType: image.imageManifestMediaType })
      }
    } catch (error) {
      if (error instanceof ImageNotFoundException) return undefined
      throw explain(error, 'DescribeImages', repositoryName, this.registryId)
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
        })
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
    let nextToken: string | undefined
    let status = 'UNKNOWN'
    let description: string | undefined
    try {
      do {
        const page = await this.client.send(
          new DescribeImageScanFindingsCommand({
            ...this.scope(),
            repositoryName,
            imageId: { imageDigest: digest },
            maxResults: LIST_PAGE_LIMIT,
            nextToken
          })
        )
        status = page.imageScanStatus?.status ?? status
        description = page.imageScanStatus?.description ?? description
        // Counted from the findings themselves, not findingSeverityCounts: ignored ids must not count.
        findings.push(...findingsOf(page.imageScanFindings))
        nextToken = page.nextToken
      } while (nextToken)
    } catch (error) {
      if (error instanceof ScanNotFoundException) return undefined
      throw explain(error, 'DescribeImageScanFindings', repositoryName, this.registryId)
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
          })
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
          })
        )
      )
      return 'written'
    } catch (error) {
      // On a retry, the tag is most likely there because ECR applied the first attempt and lost its answer.
      if (error instanceof ImageAlreadyExistsException)
        return (error.$metadata.attempts ?? 1) > 1 ? 'written' : 'already there'
      if (error instanceof ImageTagAlreadyExistsException) {
        throw new Error(
          `tag '${tag}' in ${repositoryName} is immutable: ${immutableRemedy(tag)} (${error.message})`,
          { cause: error }
        )
      }
      throw error
    }
  }

  /**
   * Removes one tag; the image stays while other tags name it. A tag that is already gone counts as
   * removed: that is what a retry sees after ECR applied a removal whose answer was lost.
   */
  async removeTag(repositoryName: string, tag: string): Promise<void> {
    const { failures = [] } = await this.call('BatchDeleteImage', repositoryName, () =>
      this.client.send(
        new BatchDeleteImageCommand({
          ...this.scope(),
          repositoryName,
          imageIds: [{ imageTag: tag }]
        })
      )
    )
    const failure = failures.find(({ failureCode }) => failureCode !== 'ImageNotFound')
    if (failure)
      throw new Error(
        `could not remove tag '${tag}' from ${repositoryName}: ${failure.failureReason}`
      )
  }

  /** The repository's lifecycle policy text, or undefined when it has none. */
  async getLifecyclePolicy(repositoryName: string): Promise<string | undefined> {
    try {
      const { lifecyclePolicyText } = await this.client.send(
        new GetLifecyclePolicyCommand({ ...this.scope(), repositoryName })
      )
      return lifecyclePolicyText
    } catch (error) {
      if (error instanceof LifecyclePolicyNotFoundException) return undefined
      throw explain(error, 'GetLifecyclePolicy', repositoryName, this.registryId)
    }
  }

  async putLifecyclePolicy(repositoryName: string, lifecyclePolicyText: string): Promise<void> {
    await this.call('PutLifecyclePolicy', repositoryName, () =>
      this.client.send(
        new PutLifecyclePolicyCommand({ ...this.scope(), repositoryName, lifecyclePolicyText })
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
        })
      )
    )
  }

  /** The preview's status, and once it is COMPLETE every image it expires, following pagination to the end. */
  async lifecyclePreview(repositoryName: string): Promise<PreviewPoll> {
    const expiring: (Expiring & { pushedAt?: Date })[] = []
    let policyText: string | undefined
    let nextToken: string | undefined
    do {
      const page = await this.call('GetLifecyclePolicyPreview', repositoryName, () =>
        this.client.send(
          new GetLifecyclePolicyPreviewCommand({
            ...this.scope(),
            repositoryName,
            maxResults: PREVIEW_PAGE_LIMIT,
            nextToken
          })
        )
      )
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
      nextToken = page.nextToken
      if (text !== undefined) policyText = text
    } while (nextToken)
    return { status: 'COMPLETE', expiring, ...(policyText !== undefined && { text: policyText }) }
  }

  /**
   * Removes tags in one request (at most 100), never naming a digest: ECR deletes an image when its
   * last tag goes, so an image that gained a tag meanwhile stays. Returns the tags ECR did not
   * remove, with why. A tag already gone counts as removed: that is what a retry sees after ECR
   * applied a removal whose answer was lost.
   */
  async removeTags(repositoryName: string, tags: readonly string[]): Promise<Map<string, string>> {
    const { failures = [] } = await this.call('BatchDeleteImage', repositoryName, () =>
      this.client.send(
        new BatchDeleteImageCommand({
          ...this.scope(),
          repositoryName,
          imageIds: tags.map((imageTag) => ({ imageTag }))
        })
      )
    )
    return new Map(
      failures.flatMap(({ imageId, failureCode, failureReason }) =>
        failureCode === 'ImageNotFound'
          ? []
          : [[imageId?.imageTag ?? '(unnamed)', `${failureCode}: ${failureReason}`] as const]
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
      throw explain(error, operation, repositoryName, this.registryId)
    }
  }
}

function explain(
  error: unknown,
  operation: string,
  repositoryName: string,
  registryId?: string
): unknown {
  if (!(error instanceof Error)) return error
  const registry = registryId
    ? `registry ${registryId}`
    : 'the default registry of these credentials'
  if (error.name === 'AccessDeniedException') {
    return new Error(
      `access denied: the credentials lack the IAM permission ecr:${operation} on repository ${repositoryName} (${error.message})`,
      { cause: error }
    )
  }
  if (error instanceof RepositoryNotFoundException) {
    return new Error(
      `repository ${repositoryName} not found in ${registry}: check the repository, registry-id and region inputs`,
      { cause: error }
    )
  }
  if (error.name === 'CredentialsProviderError') {
    return new Error(
      `no AWS credentials: run aws-actions/configure-aws-credentials before this step (${error.message})`,
      { cause: error }
    )
  }
  if (
    error instanceof ImageAlreadyExistsException ||
    error instanceof ImageTagAlreadyExistsException
  )
    return error
  return new Error(
    `ecr:${operation} on ${repositoryName} failed: ${error.name}: ${error.message}`,
    { cause: error }
  )
}

/** BatchGetImage, DescribeImages and BatchDeleteImage take at most 100 image ids a call. */
export function batches<T>(items: readonly T[]): T[][] {
  const result: T[][] = []
  for (let start = 0; start < items.length; start += BATCH_GET_LIMIT)
    result.push(items.slice(start, start + BATCH_GET_LIMIT))
  return result
}

/** Both shapes as one: basic scanning's `findings` and enhanced scanning's `enhancedFindings`. */
function findingsOf(found: ImageScanFindings | undefined): Finding[] {
  const basic = (found?.findings ?? []).map(({ name, severity, attributes = [] }): Finding => ({
    id: name ?? '(unnamed)',
    severity: severity ?? 'UNDEFINED',
    open: true,
    ...packageOf(attributes.find(({ key }) => key === 'package_name')?.value)
  }))
  const enhanced = (found?.enhancedFindings ?? []).map(
    ({ packageVulnerabilityDetails: details, title, severity, status, fixAvailable }): Finding => ({
      id: details?.vulnerabilityId ?? title ?? '(unnamed)',
      severity: severity ?? 'UNDEFINED',
      // Suppressed and closed findings are ones Inspector no longer reports as present.
      open: status === undefined || status === 'ACTIVE',
      ...packageOf(details?.vulnerablePackages?.[0]?.name),
      ...(fixAvailable && { fixAvailable })
    })
  )
  return [...basic, ...enhanced]
}

const packageOf = (name: string | undefined): { package?: string } =>
  name ? { package: name } : {}

function toImageIdentifier(ref: ImageRef): ImageIdentifier {
  return 'tag' in ref ? { imageTag: ref.tag } : { imageDigest: ref.digest }
}
