import type { Registry } from '../ecr/registry.js'
import { describeCounts, scannedImages, tallyScans, type SigningState } from '../core/gates.js'
import { pointerTags } from '../core/lifecycle.js'
import { messageOf, type ImageDetails, type Manifest } from '../core/model.js'
import { renderVersion, withdrawnVersions } from '../core/plan.js'
import { settleAll } from '../core/problems.js'
import { commitOfBuildTag, cosignTag, versionTagMatcher } from '../core/tags.js'
import { compareVersions, parseVersion, type Version } from '../core/version.js'
import { type Context } from '../core/context.js'
import { type Convention } from '../core/convention.js'

/** Where one pointer is, and what is on its image. */
export interface PointerStatus {
  readonly tag: string
  /** Null when the repository has no such tag. */
  readonly digest: string | null
  /** The versions the image carries, highest first. */
  readonly versions: readonly string[]
  readonly buildTag: string | null
  /** As much of the commit as the build tag keeps. */
  readonly commit: string | null
  readonly commitUrl: string | null
  readonly pushedAt: Date | null
  readonly sizeBytes: number | null
  /** Such as `COMPLETE: CRITICAL 1, HIGH 2`, `NOT SCANNED`, or why it could not be read. */
  readonly scan: string | null
  /** Such as `managed COMPLETE`, `cosign signed`, `unsigned`, or why it could not be read. */
  readonly signature: string | null
  /** The image carries a version a rollback withdrew. */
  readonly withdrawn: boolean
}

export interface WithdrawnVersion {
  readonly version: string
  readonly tag: string
  readonly digest: string
}

export interface RepositoryStatus {
  readonly repository: string
  readonly uri: string
  readonly pointers: readonly PointerStatus[]
  readonly withdrawn: readonly WithdrawnVersion[]
}

/** What is known of one image, read once however many pointers name it. */
export interface ImageFacts {
  readonly details?: ImageDetails
  readonly scan: string
  readonly signature: string
}

/** Assembles one repository's status from what was read (pure). */
export function repositoryStatus(
  convention: Convention,
  repository: string,
  uri: string,
  tags: ReadonlyMap<string, string>,
  facts: ReadonlyMap<string, ImageFacts>,
  github: Context['github']
): RepositoryStatus {
  const versionOf = versionTagMatcher(convention.versionTag)
  const withdrawn = withdrawnVersions(tags, convention.withdrawnTag)
  const tagsOn = (digest: string) => [...tags].filter(([, on]) => on === digest).map(([tag]) => tag)
  const pointers = pointerTags(convention).map((tag): PointerStatus => {
    const digest = tags.get(tag) ?? null
    const on = digest ? tagsOn(digest) : []
    const versions = on
      .flatMap((name) => {
        const version = parseVersion(versionOf(name) ?? '')
        return version ? [version] : []
      })
      .sort((a, b) => compareVersions(b, a))
    const build = on
      .map((name) => ({ name, commit: commitOfBuildTag(convention.buildTag, name) }))
      .find(({ commit }) => commit !== undefined)
    const fact = digest ? facts.get(digest) : undefined
    return {
      tag,
      digest,
      versions: versions.map(({ text }) => text),
      buildTag: build?.name ?? null,
      commit: build?.commit ?? null,
      commitUrl:
        build?.commit && github.repository
          ? `${github.serverUrl}/${github.repository}/commit/${build.commit}`
          : null,
      pushedAt: fact?.details?.pushedAt ?? null,
      sizeBytes: fact?.details?.sizeBytes ?? null,
      scan: fact?.scan ?? null,
      signature: fact?.signature ?? null,
      withdrawn: versions.some(({ text }) => withdrawn.has(text))
    }
  })
  const marks = [...withdrawn]
    .map((text) => parseVersion(text) as Version)
    .sort((a, b) => compareVersions(b, a))
    .map((version) => {
      const tag = renderVersion(convention.withdrawnTag, version)
      return { version: version.text, tag, digest: tags.get(tag) as string }
    })
  return { repository, uri, pointers, withdrawn: marks }
}

type StatusRegistry = Pick<
  Registry,
  | 'describeRepository'
  | 'listTags'
  | 'getManifests'
  | 'describeImages'
  | 'scanFindings'
  | 'signingStatuses'
>

/**
 * Reads, for each repository, its tags and, for each image a pointer names, its push time, size,
 * scan findings and signature. Nothing is written. A scan or signature ECR will not show (no
 * permission, a region without managed signing) is shown as such, not a failure.
 */
export async function readStatus(
  registry: StatusRegistry,
  convention: Convention,
  repositories: readonly string[],
  github: Context['github']
): Promise<RepositoryStatus[]> {
  const pointers = pointerTags(convention)
  return settleAll(
    repositories.map(async (repository) => {
      const [{ uri }, tags] = await Promise.all([
        registry.describeRepository(repository),
        registry.listTags(repository)
      ])
      const present = pointers.filter((tag) => tags.has(tag))
      const digests = [...new Set(present.map((tag) => tags.get(tag) as string))]
      const [manifests, details] = await Promise.all([
        registry.getManifests(
          repository,
          digests.map((digest) => ({ digest }))
        ),
        registry.describeImages(repository, digests)
      ])
      const facts = new Map(
        await Promise.all(
          digests.map(async (digest): Promise<[string, ImageFacts]> => {
            const image = manifests.get(digest)
            const [scan, signature] = await Promise.all([
              image ? scanStatus(registry, repository, image) : 'archived: not read',
              signatureStatus(registry, repository, digest, tags)
            ])
            const described = details.get(digest)
            return [digest, { ...(described && { details: described }), scan, signature }]
          })
        )
      )
      return repositoryStatus(convention, repository, uri, tags, facts, github)
    })
  )
}

async function scanStatus(
  registry: Pick<Registry, 'scanFindings'>,
  repository: string,
  image: Manifest
): Promise<string> {
  try {
    const images = scannedImages(image)
    const scans = await Promise.all(
      images.map(async (scanned) => {
        const report = await registry.scanFindings(repository, scanned.digest)
        return { ...scanned, ...(report && { report }) }
      })
    )
    const tally = tallyScans(scans, [])
    const statuses = [...new Set(tally.images.map(({ status }) => status))].join(', ')
    return `${statuses || 'no platform image'}: ${describeCounts(tally.counts)}`
  } catch (error) {
    return `unavailable: ${messageOf(error)}`
  }
}

async function signatureStatus(
  registry: Pick<Registry, 'signingStatuses'>,
  repository: string,
  digest: string,
  tags: ReadonlyMap<string, string>
): Promise<string> {
  const cosign = tags.has(cosignTag(digest)) ? ['cosign signed'] : []
  let managed: SigningState[]
  try {
    managed = await registry.signingStatuses(repository, digest)
  } catch (error) {
    return [...cosign, `managed signing unavailable: ${messageOf(error)}`].join('; ')
  }
  const described = [
    ...managed.map(({ status, profile }) => `managed ${status}${profile ? ` (${profile})` : ''}`),
    ...cosign
  ]
  return described.join('; ') || 'unsigned'
}
