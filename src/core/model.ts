/**
 * The core: the rules, and only the rules. Nothing here reads the registry, the runner, GitHub or
 * the clock: given what a run was asked and what the registry holds, the modules here decide which
 * tags move where and why another stays, and they are tested as tables. This file is the vocabulary
 * every layer shares: images as the registry stores them, and how they are named in messages.
 */

/** A manifest exactly as the registry stores it; `body` is never re-serialised. */
export interface Manifest {
  readonly digest: string
  readonly mediaType: string
  readonly body: string
}

/** An image to read, by tag or digest. */
export type ImageRef = { readonly tag: string } | { readonly digest: string }

export interface TagMutability {
  readonly mode: string
  /** WILDCARD exclusion filters, such as `prod*`. */
  readonly exclusions: readonly string[]
}

/** What DescribeImages tells about one image. */
export interface ImageDetails {
  readonly tags: readonly string[]
  readonly pushedAt?: Date
  readonly sizeBytes?: number
  readonly mediaType?: string
}

export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** ECR's wildcard filters (exclusion filters, lifecycle tag patterns): `*` matches any run of characters. */
export const matchesWildcard = (pattern: string, tag: string): boolean =>
  new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`).test(tag)

export const INDEX_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json'
]

export const isIndex = (mediaType: string | undefined): boolean =>
  INDEX_MEDIA_TYPES.includes(mediaType ?? '')

/** One manifest an index names, with its platform and annotations as the index gives them. */
export interface IndexEntry {
  readonly digest: string
  readonly platform?: {
    readonly os?: string
    readonly architecture?: string
    readonly variant?: string
  }
  readonly annotations?: Readonly<Record<string, string>>
}

/** The manifests an index (OCI image index, Docker manifest list) holds; none for any other manifest. */
export function indexEntries(manifest: Manifest): IndexEntry[] {
  if (!isIndex(manifest.mediaType)) return []
  const { manifests } = JSON.parse(manifest.body) as { manifests?: { digest?: unknown }[] }
  return (manifests ?? []).flatMap((entry) =>
    typeof entry.digest === 'string' ? [entry as IndexEntry] : []
  )
}

/** The platform images (and attestations) an index holds. */
export const childDigests = (manifest: Manifest): string[] =>
  indexEntries(manifest).map(({ digest }) => digest)

export const describeRef = (ref: ImageRef): string => ('tag' in ref ? ref.tag : ref.digest)

/** A moment to the second, as people read it: `2026-11-19T15:00:02Z`. */
export const toSeconds = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z')

export const shortDigest = (digest: string): string => digest.slice(0, 'sha256:'.length + 12)

/** The job was cancelled: the message says in which stage, and what that leaves. */
export class Cancelled extends Error {}

/** An error's message; also an error from another realm (Node's own, under a test's VM), which is no `instanceof Error`. */
export const messageOf = (error: unknown): string =>
  typeof error === 'object' && error !== null && typeof (error as Error).message === 'string'
    ? (error as Error).message
    : String(error)

export const asError = (value: unknown): Error =>
  value instanceof Error ? value : new Error(String(value))

/** What to do about an immutable tag that must move; one text wherever the problem is found. */
export const immutableRemedy = (tag: string): string =>
  `set imageTagMutability to IMMUTABLE_WITH_EXCLUSION with an exclusion filter matching '${tag}', so floating tags can move while every other tag stays immutable`
