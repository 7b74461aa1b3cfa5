// Realistic image-manifest fixtures and seeding helpers for ECR tests.
//
// Every fixture is deterministic: the same seed always yields byte-identical
// manifests (and therefore identical digests); different seeds yield different
// digests. Digests are true content digests: 'sha256:' + hex(sha256(utf8 bytes
// of the exact manifest string)), which is what real ECR computes and stores.
//
// Only Node built-ins and @aws-sdk/client-ecr are used, so any test (TS or JS)
// can import this file.

import { createHash } from 'node:crypto'
import { ListImagesCommand, PutImageCommand } from '@aws-sdk/client-ecr'

export const MEDIA_TYPES = Object.freeze({
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  inToto: 'application/vnd.in-toto+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  helmConfig: 'application/vnd.cncf.helm.config.v1+json',
  helmChart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip'
})

/**
 * @typedef {{ mediaType: string, manifest: string, digest: string }} ManifestFixture
 * @typedef {ManifestFixture & { children: ManifestFixture[] }} ImageFixture
 */

/**
 * 'sha256:' + hex sha256 of the exact UTF-8 bytes of the manifest string.
 * @param {string} manifestString
 * @returns {string}
 */
export function digestOf(manifestString) {
  return 'sha256:' + createHash('sha256').update(manifestString, 'utf8').digest('hex')
}

/** @param {string} text */
function sha256Hex(text) {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/**
 * A fake blob descriptor (config or layer) whose digest and size are derived
 * deterministically from the seed and a label.
 * @param {unknown} seed
 * @param {string} label
 * @param {number} minSize
 * @param {number} maxSize
 */
function blob(seed, label, minSize, maxSize) {
  const hex = sha256Hex(`ecr-promote-fixture\u0000${String(seed)}\u0000${label}`)
  const n = parseInt(hex.slice(0, 8), 16)
  return { digest: `sha256:${hex}`, size: minSize + (n % (maxSize - minSize)) }
}

/**
 * @param {string} mediaType
 * @param {string} manifest
 * @returns {ManifestFixture}
 */
function fixture(mediaType, manifest) {
  return { mediaType, manifest, digest: digestOf(manifest) }
}

/**
 * An OCI image manifest for one platform, compact JSON as buildx pushes it.
 * @param {unknown} seed
 * @param {string} arch
 */
function ociPlatformManifest(seed, arch) {
  const config = blob(seed, `${arch}/config`, 1_200, 9_000)
  const layers = [
    blob(seed, `${arch}/layer0`, 2_500_000, 31_000_000),
    blob(seed, `${arch}/layer1`, 90, 4_000_000),
    blob(seed, `${arch}/layer2`, 32, 600_000)
  ]
  const obj = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({
      mediaType: MEDIA_TYPES.ociLayerGzip,
      digest: l.digest,
      size: l.size
    }))
  }
  return fixture(MEDIA_TYPES.ociManifest, JSON.stringify(obj))
}

/**
 * The buildx provenance attestation manifest (an OCI image manifest whose
 * layers are in-toto statements).
 * @param {unknown} seed
 */
function attestationManifest(seed) {
  const config = blob(seed, 'attestation/config', 160, 260)
  const statement = blob(seed, 'attestation/provenance', 1_400, 12_000)
  const obj = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: config.digest, size: config.size },
    layers: [
      {
        mediaType: MEDIA_TYPES.inToto,
        digest: statement.digest,
        size: statement.size,
        annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' }
      }
    ]
  }
  return fixture(MEDIA_TYPES.ociManifest, JSON.stringify(obj))
}

/**
 * A multi-arch OCI image index as `docker buildx build --platform
 * linux/amd64,linux/arm64 --push` stores it: linux/amd64, linux/arm64 and one
 * attestation manifest (platform unknown/unknown) that references the amd64
 * manifest. Children are the three referenced manifests, in index order.
 * @param {unknown} seed
 * @returns {ImageFixture}
 */
export function multiArchImage(seed) {
  const amd64 = ociPlatformManifest(seed, 'amd64')
  const arm64 = ociPlatformManifest(seed, 'arm64')
  const attestation = attestationManifest(seed)
  const size = (/** @type {ManifestFixture} */ m) => Buffer.byteLength(m.manifest, 'utf8')
  const obj = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [
      {
        mediaType: amd64.mediaType,
        digest: amd64.digest,
        size: size(amd64),
        platform: { architecture: 'amd64', os: 'linux' }
      },
      {
        mediaType: arm64.mediaType,
        digest: arm64.digest,
        size: size(arm64),
        platform: { architecture: 'arm64', os: 'linux' }
      },
      {
        mediaType: attestation.mediaType,
        digest: attestation.digest,
        size: size(attestation),
        annotations: {
          'vnd.docker.reference.digest': amd64.digest,
          'vnd.docker.reference.type': 'attestation-manifest'
        },
        platform: { architecture: 'unknown', os: 'unknown' }
      }
    ]
  }
  return {
    ...fixture(MEDIA_TYPES.ociIndex, JSON.stringify(obj)),
    children: [amd64, arm64, attestation]
  }
}

/**
 * A Docker v2 schema 2 manifest object (not yet serialized).
 * @param {unknown} seed
 * @param {string} label
 */
function dockerV2Object(seed, label) {
  const config = blob(seed, `${label}/docker-config`, 1_500, 12_000)
  const layers = [
    blob(seed, `${label}/docker-layer0`, 2_000_000, 30_000_000),
    blob(seed, `${label}/docker-layer1`, 200, 8_000_000),
    blob(seed, `${label}/docker-layer2`, 100, 300_000),
    blob(seed, `${label}/docker-layer3`, 32, 20_000)
  ]
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.dockerManifest,
    config: { mediaType: MEDIA_TYPES.dockerConfig, size: config.size, digest: config.digest },
    layers: layers.map((l) => ({
      mediaType: MEDIA_TYPES.dockerLayerGzip,
      size: l.size,
      digest: l.digest
    }))
  }
}

/**
 * A single-platform Docker v2 schema 2 manifest, pretty-printed with 3-space
 * indentation exactly as `docker push` stores it.
 * @param {unknown} seed
 * @returns {ImageFixture}
 */
export function dockerV2Image(seed) {
  const manifest = JSON.stringify(dockerV2Object(seed, 'single'), null, 3)
  return { ...fixture(MEDIA_TYPES.dockerManifest, manifest), children: [] }
}

/**
 * A Docker manifest list (linux/amd64 + linux/arm64) with two Docker v2
 * children. Like the Docker tooling, everything is 3-space indented.
 * @param {unknown} seed
 * @returns {ImageFixture}
 */
export function dockerManifestList(seed) {
  const amd64 = fixture(
    MEDIA_TYPES.dockerManifest,
    JSON.stringify(dockerV2Object(seed, 'list/amd64'), null, 3)
  )
  const arm64 = fixture(
    MEDIA_TYPES.dockerManifest,
    JSON.stringify(dockerV2Object(seed, 'list/arm64'), null, 3)
  )
  const obj = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.dockerManifestList,
    manifests: [
      {
        mediaType: amd64.mediaType,
        size: Buffer.byteLength(amd64.manifest, 'utf8'),
        digest: amd64.digest,
        platform: { architecture: 'amd64', os: 'linux' }
      },
      {
        mediaType: arm64.mediaType,
        size: Buffer.byteLength(arm64.manifest, 'utf8'),
        digest: arm64.digest,
        platform: { architecture: 'arm64', os: 'linux', variant: 'v8' }
      }
    ]
  }
  return {
    ...fixture(MEDIA_TYPES.dockerManifestList, JSON.stringify(obj, null, 3)),
    children: [amd64, arm64]
  }
}

/**
 * A Helm chart as `helm push` stores it: an OCI manifest WITHOUT a top-level
 * mediaType field, so its media type must be passed separately
 * (imageManifestMediaType) when writing it.
 * @param {unknown} seed
 * @returns {ImageFixture}
 */
export function helmChart(seed) {
  const config = blob(seed, 'helm/config', 120, 900)
  const chart = blob(seed, 'helm/chart', 3_000, 90_000)
  const minor = parseInt(sha256Hex(`helm-version\u0000${String(seed)}`).slice(0, 4), 16) % 50
  const obj = {
    schemaVersion: 2,
    config: { mediaType: MEDIA_TYPES.helmConfig, digest: config.digest, size: config.size },
    layers: [{ mediaType: MEDIA_TYPES.helmChart, digest: chart.digest, size: chart.size }],
    annotations: {
      'org.opencontainers.image.created': '2024-05-14T09:26:53Z',
      'org.opencontainers.image.description': 'A Helm chart for Kubernetes',
      'org.opencontainers.image.title': 'app',
      'org.opencontainers.image.version': `0.${minor}.0`
    }
  }
  return { ...fixture(MEDIA_TYPES.ociManifest, JSON.stringify(obj)), children: [] }
}

/** @param {unknown} err */
function isImageAlreadyExists(err) {
  return (
    typeof err === 'object' &&
    err !== null &&
    /** @type {{ name?: unknown }} */ (err).name === 'ImageAlreadyExistsException'
  )
}

/**
 * Write an image into a repository the way a registry client would: every
 * child manifest first (untagged; ImageAlreadyExistsException is ignored),
 * then the top-level manifest once per tag (once untagged if `tags` is empty).
 * imageDigest is always passed, which real ECR accepts (and verifies) and which
 * makes moto store a true content digest.
 * @param {import('@aws-sdk/client-ecr').ECRClient} client
 * @param {string} repositoryName
 * @param {ImageFixture} image
 * @param {string[]} [tags]
 * @returns {Promise<string>} image.digest
 */
export async function seedImage(client, repositoryName, image, tags = []) {
  for (const child of image.children) {
    try {
      await client.send(
        new PutImageCommand({
          repositoryName,
          imageManifest: child.manifest,
          imageManifestMediaType: child.mediaType,
          imageDigest: child.digest
        })
      )
    } catch (err) {
      if (!isImageAlreadyExists(err)) throw err
    }
  }
  const tagList = tags.length > 0 ? tags : [undefined]
  for (const imageTag of tagList) {
    await client.send(
      new PutImageCommand({
        repositoryName,
        imageManifest: image.manifest,
        imageManifestMediaType: image.mediaType,
        imageDigest: image.digest,
        ...(imageTag === undefined ? {} : { imageTag })
      })
    )
  }
  return image.digest
}

/**
 * Map of every tag in the repository to the digest it points at, following
 * ListImages nextToken to the end. Untagged entries are skipped.
 * @param {import('@aws-sdk/client-ecr').ECRClient} client
 * @param {string} repositoryName
 * @returns {Promise<Record<string, string>>}
 */
export async function tagsByDigest(client, repositoryName) {
  /** @type {Record<string, string>} */
  const result = {}
  /** @type {string | undefined} */
  let nextToken
  do {
    const page = await client.send(new ListImagesCommand({ repositoryName, nextToken }))
    for (const id of page.imageIds ?? []) {
      if (id.imageTag && id.imageDigest) result[id.imageTag] = id.imageDigest
    }
    nextToken = page.nextToken
  } while (nextToken)
  return result
}
