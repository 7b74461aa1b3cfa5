/**
 * The rules of a digest-exact copy into another registry: what a manifest names (blobs, child
 * manifests, the subject of a referrer), the order the target must receive them in, the cosign tags
 * that travel with an image, and how a blob is cut into upload parts.
 */
import { INDEX_MEDIA_TYPES, isIndex, type Manifest } from './model.js'
import { cosignTag } from './tags.js'

/** What a copy into the target did (or, in a dry run, would do). */
export interface CopyReport {
  /** The source image: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>@<digest>`. */
  readonly from: string
  /**
   * Blobs uploaded (after a failure: every upload completed or sent to be, which may stay), blobs
   * the target had already, and blobs it lacked.
   */
  readonly blobs: { readonly copied: number; readonly present: number; readonly lacking: number }
  /** Bytes uploaded (dry run: would be). */
  readonly bytes: number
  /** Manifests put untagged (platform manifests, the index, referrers); after a failure, every put sent. */
  readonly manifests: number
  /** Cosign tags and OCI referrers copied. */
  readonly referrers: number
  /** Wall time of the copy, ms. */
  readonly ms: number
  /** What the run should warn about (a cosign tag the target has on another digest: kept). */
  readonly warnings: readonly string[]
}

/** What a copy that sent nothing reports. */
export const nothingCopied = (from: string): CopyReport => ({
  from,
  blobs: { copied: 0, present: 0, lacking: 0 },
  bytes: 0,
  manifests: 0,
  referrers: 0,
  ms: 0,
  warnings: []
})

/** A copy that failed: what it had copied by then stays in the target (blobs, untagged manifests). */
export class CopyFailed extends Error {
  constructor(
    message: string,
    readonly report: CopyReport,
    options?: ErrorOptions
  ) {
    super(message, options)
  }
}

/** A blob a manifest names: its config or a layer. */
export interface Descriptor {
  readonly digest: string
  readonly size: number
}

/** What a manifest names: the blobs it is made of, the manifests it holds, the image it refers to. */
export interface Content {
  readonly blobs: readonly Descriptor[]
  readonly children: readonly string[]
  readonly subject?: string
}

/** The image manifests a copy carries (an OCI 1.1 referrer is one, with `artifactType` and `subject`). */
const IMAGE_MEDIA_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
]

/** ECR's smallest part but the last; within every largest part ECR states (10 MiB, 20 MiB). */
export const PART_BYTES = 5 * 1024 * 1024

interface Body {
  config?: unknown
  layers?: unknown
  manifests?: unknown
  subject?: { digest?: unknown }
}

/** What the manifest names; a manifest of another type (Docker schema 1, an OCI artifact manifest) is refused. */
export function contentOf(manifest: Manifest): Content {
  const { digest, mediaType } = manifest
  if (![...INDEX_MEDIA_TYPES, ...IMAGE_MEDIA_TYPES].includes(mediaType))
    throw new Error(`cannot copy ${digest}: its media type ${mediaType} is not one ECR images use`)
  const body = JSON.parse(manifest.body) as Body
  const subject = typeof body.subject?.digest === 'string' ? body.subject.digest : undefined
  const named = isIndex(mediaType) ? [body.manifests] : [[body.config], body.layers]
  const descriptors = named.flatMap((list) => (Array.isArray(list) ? (list as unknown[]) : []))
  if (!descriptors.every(isDescriptor))
    throw new Error(`cannot copy ${digest}: a ${mediaType} whose descriptors lack a digest or size`)
  return {
    blobs: isIndex(mediaType)
      ? []
      : descriptors.map(({ digest: d, size }) => ({ digest: d, size })),
    children: isIndex(mediaType) ? descriptors.map((child) => child.digest) : [],
    ...(subject && { subject })
  }
}

const isDescriptor = (value: unknown): value is Descriptor =>
  typeof (value as Descriptor | undefined)?.digest === 'string' &&
  Number.isSafeInteger((value as Descriptor).size)

/** The manifests in the order the target takes them: each after the manifests it names (children, subject). */
export function putOrder(manifests: readonly Manifest[]): Manifest[] {
  const byDigest = new Map(manifests.map((manifest) => [manifest.digest, manifest]))
  const ordered: Manifest[] = []
  const placed = new Set<string>()
  const place = (manifest: Manifest): void => {
    if (placed.has(manifest.digest)) return
    placed.add(manifest.digest)
    const { children, subject } = contentOf(manifest)
    for (const digest of subject ? [...children, subject] : children) {
      const named = byDigest.get(digest)
      if (named) place(named)
    }
    ordered.push(manifest)
  }
  manifests.forEach(place)
  return ordered
}

/** The blobs the manifests name, each once. */
export function blobsOf(manifests: readonly Manifest[]): Descriptor[] {
  const blobs = new Map<string, Descriptor>()
  for (const manifest of manifests)
    for (const blob of contentOf(manifest).blobs) blobs.set(blob.digest, blob)
  return [...blobs.values()]
}

/** A blob the target has, archived or not, is not sent again. */
export const toSend = (availability: string | undefined): boolean => availability !== 'AVAILABLE'

/** The tags cosign stores an image's signature, attestations and SBOM under. */
export const cosignTags = (digest: string): string[] =>
  (['sig', 'att', 'sbom'] as const).map((kind) => cosignTag(digest, kind))

/**
 * A blob of `size` bytes as contiguous inclusive `[first, last]` ranges of 5 MiB, ECR's least part
 * but for the last; a target asking for smaller parts asks for what ECR refuses at completion.
 */
export function parts(size: number, partSize: number): [number, number][] {
  if (partSize < PART_BYTES)
    throw new Error(
      `the target asks for upload parts of ${partSize} bytes, under ECR's 5 MiB least part: no blob can be uploaded`
    )
  const step = PART_BYTES
  const ranges: [number, number][] = []
  for (let first = 0; first < size; first += step)
    ranges.push([first, Math.min(first + step, size) - 1])
  return ranges
}

/** The bytes of the blobs. */
export const bytesOf = (blobs: readonly Descriptor[]): number =>
  blobs.reduce((sum, { size }) => sum + size, 0)
