/**
 * The one in-memory registry of the unit suites: every `Registry` method a stage calls, over tags →
 * digests per repository, manifests by digest and what ECR tells of each image; a log of the calls
 * it answered; faults by operation and tag (or digest), each struck as often as it says.
 *
 * It keeps ECR's rules the stages rely on: a tag points at one image; PutImage of the image a tag
 * already has is "already there"; an archived image's manifest is not served (unless
 * `servesArchived`); a tag ECR refuses to remove stays, and says why. It keeps images by digest for
 * good: no test reads an image that lost its last tag. Blobs are real bytes, by digest; the layer
 * calls keep ECR's rules a copy relies on: contiguous inclusive parts no larger than `partSize`,
 * 5 MiB at least but the last, the bytes checked against the digest on completion, a blob it has
 * completed "already there"; PutImage of a manifest untagged needs its blobs and children.
 */
import { createHash } from 'node:crypto'
import { PART_BYTES, contentOf, type Descriptor } from '../../src/core/copy.js'
import {
  describeRef,
  type ImageRef,
  type Manifest,
  type TagMutability
} from '../../src/core/model.js'
import type { Expiring } from '../../src/core/lifecycle.js'
import type { ScanReport, SigningState } from '../../src/core/gates.js'
import type {
  LayerAvailability,
  PreviewPoll,
  PutResult,
  Referrer,
  StoredImage
} from '../../src/ecr/registry.js'
import { nameOf, uri } from './builders.js'

/** Each call, as the log names it, and the ECR operation behind it, as a failure names it. */
const ECR = {
  describe: 'DescribeRepositories',
  list: 'ListImages',
  read: 'BatchGetImage',
  images: 'DescribeImages',
  stored: 'DescribeImages',
  restore: 'UpdateImageStorageClass',
  scan: 'DescribeImageScanFindings',
  signing: 'DescribeImageSigningStatus',
  put: 'PutImage',
  remove: 'BatchDeleteImage',
  policy: 'GetLifecyclePolicy',
  'put-policy': 'PutLifecyclePolicy',
  preview: 'StartLifecyclePolicyPreview',
  poll: 'GetLifecyclePolicyPreview',
  check: 'BatchCheckLayerAvailability',
  url: 'GetDownloadUrlForLayer',
  start: 'InitiateLayerUpload',
  part: 'UploadLayerPart',
  complete: 'CompleteLayerUpload',
  'put-manifest': 'PutImage',
  referrers: 'ListImageReferrers'
} as const
export type Operation = keyof typeof ECR

export interface Fault {
  readonly operation: Operation
  readonly repository?: string
  /** The tag or digest the call names; any call of the operation when absent. */
  readonly ref?: string
  /** Runs before the call is answered: another writer, or time, acting meanwhile. */
  readonly before?: (registry: MemoryRegistry) => unknown
  /**
   * `failed`: refused, nothing applied; `lost`: applied, then the answer is lost; `refused` (remove):
   * ECR answers that it kept the tag. None: only `before`, or a call let through as it is.
   */
  readonly kind?: 'failed' | 'lost' | 'refused'
  /** The message; `ecr:<Operation> on <repository> failed` by default. */
  readonly error?: string
  /** How many calls it strikes: one unless told. */
  readonly times?: number
}

/** What ECR tells of an image besides its manifest. */
export interface ImageFacts {
  pushedAt?: Date
  sizeBytes?: number
  /** ACTIVE unless told: ARCHIVED, or ACTIVATING while it is restored. */
  status?: string
  /** Its scan; never scanned when absent. */
  scan?: ScanReport
  signing?: SigningState[]
}

/** A lifecycle preview: IN_PROGRESS for `inProgress` polls, then `status` (COMPLETE unless told). */
export interface Preview {
  readonly inProgress?: number
  readonly status?: string
  readonly expiring: readonly Expiring[]
}

export interface Seed {
  /** Repository → tag → image. */
  readonly tags?: Record<string, Record<string, Manifest>>
  /** Images no tag names (platform images of an index, say). */
  readonly images?: readonly Manifest[]
  readonly facts?: Record<string, ImageFacts>
  readonly mutability?: TagMutability
  readonly policies?: Record<string, string>
  readonly previews?: Record<string, Preview>
  readonly faults?: readonly Fault[]
  /** BatchGetImage returns an archived image's manifest all the same (AWS does not say it does not). */
  readonly servesArchived?: boolean
  /** The part size InitiateLayerUpload names: 10 MiB unless told. */
  readonly partSize?: number
}

/** Every `Registry` method a stage calls; each stage's port checks the ones it takes. */
export class MemoryRegistry {
  /** Repository → tag → digest: what a test reads the registry's end state from, and another writer changes. */
  readonly repositories: Record<string, Record<string, string>> = {}
  readonly manifests = new Map<string, Manifest>()
  readonly facts: Record<string, ImageFacts>
  readonly policies: Record<string, string>
  /** Each call the registry answered, a lost answer's too: `put app:v1.2.0=b`, `read app production`. */
  readonly log: string[] = []
  /** The policy text each repository's last preview was started with. */
  readonly previewed: Record<string, string> = {}
  /** Blobs by digest (ECR keeps them per repository; no unit test needs that). */
  readonly blobs = new Map<string, Uint8Array>()
  /** Upload parts being sent now, and the most at once. */
  inFlight = 0
  mostInFlight = 0
  private readonly faults: { fault: Fault; left: number }[]
  private readonly polls: Record<string, number> = {}
  private readonly uploads = new Map<string, Uint8Array[]>()
  private started = 0

  constructor(private readonly seed: Seed = {}) {
    for (const [repository, tags] of Object.entries(seed.tags ?? {})) this.set(repository, tags)
    for (const image of seed.images ?? []) this.manifests.set(image.digest, image)
    this.facts = structuredClone(seed.facts ?? {})
    this.policies = { ...seed.policies }
    this.faults = (seed.faults ?? []).map((fault) => ({ fault, left: fault.times ?? 1 }))
  }

  /** Adds faults after the start, struck after those given before. */
  fault(...faults: Fault[]): this {
    this.faults.push(...faults.map((fault) => ({ fault, left: fault.times ?? 1 })))
    return this
  }

  /** The same registry for an undo: nothing of it is a request a signal could abort. */
  withSignal(): this {
    return this
  }

  tags(repository: string): Record<string, string> {
    return (this.repositories[repository] ??= {})
  }

  /** Points tags at images, as another writer would. */
  set(repository: string, tags: Record<string, Manifest>): void {
    const held = this.tags(repository)
    for (const [tag, image] of Object.entries(tags)) {
      this.manifests.set(image.digest, image)
      held[tag] = image.digest
    }
  }

  describeRepository(repository: string) {
    return this.call('describe', repository, [], '', () => ({
      uri: uri(repository),
      mutability: this.seed.mutability ?? { mode: 'MUTABLE', exclusions: [] }
    }))
  }

  listTags(repository: string): Promise<Map<string, string>> {
    const tags = () => new Map(Object.entries(this.tags(repository)))
    return this.call('list', repository, [], '', tags)
  }

  getManifests(repository: string, refs: readonly ImageRef[]) {
    const what = ` ${refs.map(this.named).join(',')}`
    return this.call('read', repository, refs.map(describeRef), what, () => {
      const served = refs.flatMap((ref) => {
        const found = this.image(repository, ref)
        const shown = found && (this.status(found.digest) === 'ACTIVE' || this.seed.servesArchived)
        return shown ? [[describeRef(ref), found] as const] : []
      })
      return new Map(served)
    })
  }

  describeImages(repository: string, digests: readonly string[]) {
    return this.call('images', repository, digests, ` ${digests.map(nameOf).join(',')}`, () => {
      const tags = Object.entries(this.tags(repository))
      const described = digests.flatMap((digest) => {
        const found = this.manifests.get(digest)
        if (!found) return []
        const { pushedAt, sizeBytes } = this.facts[digest] ?? {}
        const details = {
          tags: tags.flatMap(([tag, on]) => (on === digest ? [tag] : [])),
          mediaType: found.mediaType,
          ...(pushedAt && { pushedAt }),
          ...(sizeBytes !== undefined && { sizeBytes })
        }
        return [[digest, details] as const]
      })
      return new Map(described)
    })
  }

  storedImage(repository: string, ref: ImageRef): Promise<StoredImage | undefined> {
    return this.call('stored', repository, [describeRef(ref)], ` ${this.named(ref)}`, () => {
      const found = this.image(repository, ref)
      const { digest, mediaType } = found ?? { digest: '', mediaType: '' }
      const tags = Object.entries(this.tags(repository)).flatMap(([tag, on]) =>
        on === digest ? [tag] : []
      )
      return found && { digest, mediaType, status: this.status(digest), tags }
    })
  }

  restoreImage(repository: string, digest: string): Promise<string> {
    return this.call('restore', repository, [digest], ` ${nameOf(digest)}`, () => {
      const facts = (this.facts[digest] ??= {})
      if (facts.status === 'ARCHIVED') facts.status = 'ACTIVATING'
      return this.status(digest)
    })
  }

  scanFindings(repository: string, digest: string): Promise<ScanReport | undefined> {
    const what = ` ${nameOf(digest)}`
    return this.call('scan', repository, [digest], what, () => this.facts[digest]?.scan)
  }

  signingStatuses(repository: string, digest: string): Promise<SigningState[]> {
    const what = ` ${nameOf(digest)}`
    return this.call('signing', repository, [digest], what, () => this.facts[digest]?.signing ?? [])
  }

  putTag(repository: string, tag: string, image: Manifest): Promise<PutResult> {
    return this.call('put', repository, [tag], `:${tag}=${nameOf(image.digest)}`, () => {
      const already = this.tags(repository)[tag] === image.digest
      this.set(repository, { [tag]: image })
      return already ? 'already there' : 'written'
    })
  }

  async removeTag(repository: string, tag: string): Promise<void> {
    const refused = (await this.removeTags(repository, [tag])).get(tag)
    if (refused) throw new Error(`could not remove tag '${tag}' from ${repository}: ${refused}`)
  }

  removeTags(repository: string, tags: readonly string[]): Promise<Map<string, string>> {
    return this.call('remove', repository, tags, `:${tags.join(',')}`, (refused) => {
      for (const tag of tags) if (!refused.has(tag)) delete this.tags(repository)[tag]
      return refused
    })
  }

  getLifecyclePolicy(repository: string): Promise<string | undefined> {
    return this.call('policy', repository, [], '', () => this.policies[repository])
  }

  async putLifecyclePolicy(repository: string, text: string): Promise<void> {
    await this.call('put-policy', repository, [], '', () => (this.policies[repository] = text))
  }

  async startLifecyclePreview(repository: string, text: string): Promise<void> {
    await this.call('preview', repository, [], '', () => {
      this.previewed[repository] = text
      this.polls[repository] = 0
    })
  }

  lifecyclePreview(repository: string): Promise<PreviewPoll> {
    return this.call('poll', repository, [], '', () => {
      const preview = this.seed.previews?.[repository]
      const { inProgress = 0, status = 'COMPLETE', expiring = [] } = preview ?? {}
      const text = this.previewed[repository]
      const poll = (this.polls[repository] = (this.polls[repository] ?? 0) + 1)
      const shown = poll <= inProgress ? 'IN_PROGRESS' : status
      return {
        status: shown,
        expiring: shown === 'COMPLETE' ? expiring : [],
        ...(text !== undefined && { text })
      }
    })
  }

  /** Stores a blob, as a push would. */
  blob(bytes: Uint8Array): Descriptor {
    const digest = blobDigest(bytes)
    this.blobs.set(digest, bytes)
    return { digest, size: bytes.length }
  }

  checkLayers(repository: string, digests: readonly string[]) {
    return this.call('check', repository, digests, ` ${digests.map(nameOf).join(',')}`, () => {
      const availability = (digest: string): LayerAvailability =>
        this.blobs.has(digest) ? 'AVAILABLE' : 'UNAVAILABLE'
      return new Map(digests.map((digest) => [digest, availability(digest)]))
    })
  }

  /** A URL `memory:<digest>`: the test's download reads `blobs` by it. */
  downloadUrl(repository: string, digest: string): Promise<string> {
    return this.call('url', repository, [digest], ` ${nameOf(digest)}`, () => {
      if (!this.blobs.has(digest)) throw refusal(`LayersNotFoundException: ${digest}`)
      return `memory:${digest}`
    })
  }

  startUpload(repository: string) {
    return this.call('start', repository, [], '', () => {
      const uploadId = `upload-${++this.started}`
      this.uploads.set(uploadId, [])
      return { uploadId, partSize: this.seed.partSize ?? 10 * 1024 * 1024 }
    })
  }

  /** Takes a turn of the event loop, so that parts sent at once are in flight together. */
  async uploadPart(
    repository: string,
    uploadId: string,
    first: number,
    last: number,
    bytes: Uint8Array
  ): Promise<void> {
    this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight)
    await new Promise(setImmediate)
    this.inFlight -= 1
    await this.call('part', repository, [uploadId], ` ${uploadId} ${first}-${last}`, () => {
      const parts = this.upload(uploadId)
      const received = parts.reduce((sum, part) => sum + part.length, 0)
      const { partSize = 10 * 1024 * 1024 } = this.seed
      if (first !== received || last - first + 1 !== bytes.length || bytes.length > partSize)
        throw refusal(`InvalidLayerPartException: lastValidByteReceived ${received - 1}`)
      // Sent over the wire: the caller may fill its buffer again once this answers.
      parts.push(Uint8Array.from(bytes))
    })
  }

  completeUpload(repository: string, uploadId: string, digest: string): Promise<PutResult> {
    return this.call('complete', repository, [digest], ` ${nameOf(digest)}`, () => {
      const parts = this.upload(uploadId)
      this.uploads.delete(uploadId)
      if (this.blobs.has(digest)) return 'already there'
      if (parts.length === 0) throw refusal('EmptyUploadException')
      if (parts.slice(0, -1).some((part) => part.length < PART_BYTES))
        throw refusal('LayerPartTooSmallException')
      const bytes = Buffer.concat(parts)
      if (blobDigest(bytes) !== digest)
        throw refusal(`InvalidLayerException: ${blobDigest(bytes)} does not match ${digest}`)
      this.blobs.set(digest, bytes)
      return 'written'
    })
  }

  putManifest(repository: string, image: Manifest): Promise<PutResult> {
    return this.call('put-manifest', repository, [image.digest], ` ${nameOf(image.digest)}`, () => {
      if (this.manifests.has(image.digest)) return 'already there'
      const { blobs, children } = contentOf(image)
      const lacking = [
        ...blobs.flatMap(({ digest }) => (this.blobs.has(digest) ? [] : [digest])),
        ...children.filter((digest) => !this.manifests.has(digest))
      ]
      if (lacking.length > 0) throw refusal(`LayersNotFoundException: ${lacking.join(', ')}`)
      this.manifests.set(image.digest, image)
      return 'written'
    })
  }

  listReferrers(repository: string, digest: string): Promise<Referrer[]> {
    return this.call('referrers', repository, [digest], ` ${nameOf(digest)}`, () =>
      [...this.manifests.values()].flatMap((image) => {
        const { subject } = JSON.parse(image.body) as { subject?: { digest?: string } }
        if (subject?.digest !== digest) return []
        return [
          { digest: image.digest, mediaType: image.mediaType, status: this.status(image.digest) }
        ]
      })
    )
  }

  private upload(uploadId: string): Uint8Array[] {
    const parts = this.uploads.get(uploadId)
    if (!parts) throw refusal(`UploadNotFoundException: ${uploadId}`)
    return parts
  }

  private image(repository: string, ref: ImageRef): Manifest | undefined {
    const digest = 'tag' in ref ? this.tags(repository)[ref.tag] : ref.digest
    return digest === undefined ? undefined : this.manifests.get(digest)
  }

  private status(digest: string): string {
    return this.facts[digest]?.status ?? 'ACTIVE'
  }

  private readonly named = (ref: ImageRef): string => ('tag' in ref ? ref.tag : nameOf(ref.digest))

  /**
   * Answers one call: its faults strike (the first left for each ref it names, or for the call);
   * unless one refuses it, the call is logged and `answer` reads or changes the registry, at once
   * when no fault runs first, so that calls sent together see the registry as it was when each was sent.
   */
  private async call<T>(
    operation: Operation,
    repository: string,
    refs: readonly string[],
    /** How the log names what the call is about, after the repository: ` v1.0.0,b`, `:latest=b`. */
    what: string,
    answer: (refused: Map<string, string>) => T
  ): Promise<T> {
    const struck = (refs.length > 0 ? refs : ['']).flatMap((ref) => {
      const found = this.faults.find(
        ({ fault, left }) =>
          left > 0 &&
          fault.operation === operation &&
          (fault.repository === undefined || fault.repository === repository) &&
          (fault.ref === undefined || fault.ref === ref)
      )
      if (!found) return []
      found.left -= 1
      return [{ ...found.fault, ref }]
    })
    for (const { before } of struck) await before?.(this)
    const message = (fault: Fault) => fault.error ?? `ecr:${ECR[operation]} on ${repository} failed`
    const failed = struck.find(({ kind }) => kind === 'failed')
    if (failed) throw refusal(message(failed))
    const refused = new Map(
      struck.flatMap((fault) => (fault.kind === 'refused' ? [[fault.ref, message(fault)]] : []))
    )
    this.log.push(`${operation} ${repository}${what}`)
    const answered = answer(refused)
    const lost = struck.find(({ kind }) => kind === 'lost')
    if (lost) throw new Error(message(lost))
    return answered
  }
}

const blobDigest = (bytes: Uint8Array): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`

export const memoryRegistry = (seed: Seed = {}): MemoryRegistry => new MemoryRegistry(seed)

/** ECR's answer refusing a call, a 4xx, as the SDK's errors carry it: nothing was applied. */
const refusal = (message: string) =>
  new Error(message, { cause: { $metadata: { httpStatusCode: 400 } } })
