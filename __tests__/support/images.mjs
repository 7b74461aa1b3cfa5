// @ts-check
// Image manifests as the tools push them, and seeding helpers, for ECR tests (Node built-ins and
// @aws-sdk/client-ecr only). The same seed gives the same bytes, another seed another digest;
// digests are content digests (digestOf in ./oci.mjs), as ECR computes them.

import { ListImagesCommand, PutImageCommand } from '@aws-sdk/client-ecr'
import { MEDIA_TYPES, digestOf, sha256Hex } from './oci.mjs'

export { MEDIA_TYPES, digestOf }

/**
 * @typedef {{ mediaType: string, manifest: string, digest: string }} ManifestFixture
 * @typedef {ManifestFixture & { children: ManifestFixture[] }} ImageFixture
 * @typedef {{ mediaType: string, digest: string, size: number }} Descriptor
 * @typedef {{ manifest: string, index: string, config: string, layer: string,
 *   indent: number | undefined, descriptor: (d: Descriptor) => Descriptor }} Format
 */

/** buildx: compact JSON, a descriptor's digest before its size. @type {Format} */
const OCI = {
  manifest: MEDIA_TYPES.ociManifest,
  index: MEDIA_TYPES.ociIndex,
  config: MEDIA_TYPES.ociConfig,
  layer: MEDIA_TYPES.ociLayerGzip,
  indent: undefined,
  descriptor: ({ mediaType, digest, size }) => ({ mediaType, digest, size })
}
/** The Docker tooling: 3-space indentation, a descriptor's size before its digest. @type {Format} */
const DOCKER = {
  manifest: MEDIA_TYPES.dockerManifest,
  index: MEDIA_TYPES.dockerManifestList,
  config: MEDIA_TYPES.dockerConfig,
  layer: MEDIA_TYPES.dockerLayerGzip,
  indent: 3,
  descriptor: ({ mediaType, digest, size }) => ({ mediaType, size, digest })
}

/**
 * A fake blob (config or layer): digest and size derived from the seed and a label.
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
 * @param {unknown} object serialized as the format's tooling does
 * @param {Format} [format]
 * @returns {ManifestFixture}
 */
function fixture(mediaType, object, format = OCI) {
  const manifest = JSON.stringify(object, null, format.indent)
  return { mediaType, manifest, digest: digestOf(manifest) }
}

/**
 * An image manifest fixture with one blob per entry of `sizes` (label: [min, max] size), `config`
 * the config and the rest the layers, in order; `extra` fields replace or add to its own.
 * @param {Format} format
 * @param {unknown} seed
 * @param {string} prefix of every blob's label
 * @param {{ config: [number, number] } & Record<string, [number, number]>} sizes
 * @param {Record<string, unknown>} [extra]
 */
function imageFixture(format, seed, prefix, { config, ...layers }, extra = {}) {
  /** @param {string} mediaType @param {string} label @param {[number, number]} sizes */
  const descriptor = (mediaType, label, [min, max]) =>
    format.descriptor({ mediaType, ...blob(seed, `${prefix}${label}`, min, max) })
  const manifest = {
    schemaVersion: 2,
    mediaType: format.manifest,
    config: descriptor(format.config, 'config', config),
    layers: Object.entries(layers).map(([label, range]) => descriptor(format.layer, label, range)),
    ...extra
  }
  return fixture(format.manifest, manifest, format)
}

/**
 * An index over the children, one entry each (with its extra fields), in that order.
 * @param {Format} format
 * @param {[ManifestFixture, Record<string, unknown>][]} entries
 * @returns {ImageFixture}
 */
function indexImage(format, entries) {
  const manifests = entries.map(([{ mediaType, digest, manifest }, fields]) => ({
    ...format.descriptor({ mediaType, digest, size: Buffer.byteLength(manifest, 'utf8') }),
    ...fields
  }))
  const index = { schemaVersion: 2, mediaType: format.index, manifests }
  return { ...fixture(format.index, index, format), children: entries.map(([child]) => child) }
}

/** An OCI image manifest for one platform, as buildx pushes it. @param {unknown} seed @param {string} arch */
const ociPlatformManifest = (seed, arch) =>
  imageFixture(OCI, seed, `${arch}/`, {
    config: [1_200, 9_000],
    layer0: [2_500_000, 31_000_000],
    layer1: [90, 4_000_000],
    layer2: [32, 600_000]
  })

/** buildx's provenance attestation: an OCI manifest of in-toto statements. @param {unknown} seed */
function attestationManifest(seed) {
  const statement = blob(seed, 'attestation/provenance', 1_400, 12_000)
  const annotations = { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' }
  const layers = [{ mediaType: MEDIA_TYPES.inToto, ...statement, annotations }]
  return imageFixture(OCI, seed, 'attestation/', { config: [160, 260] }, { layers })
}

/**
 * A multi-arch OCI index as `docker buildx build --platform linux/amd64,linux/arm64 --push`
 * stores it: amd64, arm64 and an attestation (platform unknown/unknown) of the amd64 manifest;
 * its children are the three, in index order.
 * @param {unknown} seed
 * @returns {ImageFixture}
 */
export function multiArchImage(seed) {
  const amd64 = ociPlatformManifest(seed, 'amd64')
  const annotations = {
    'vnd.docker.reference.digest': amd64.digest,
    'vnd.docker.reference.type': 'attestation-manifest'
  }
  return indexImage(OCI, [
    [amd64, { platform: { architecture: 'amd64', os: 'linux' } }],
    [ociPlatformManifest(seed, 'arm64'), { platform: { architecture: 'arm64', os: 'linux' } }],
    [
      attestationManifest(seed),
      { annotations, platform: { architecture: 'unknown', os: 'unknown' } }
    ]
  ])
}

/** A Docker v2 schema 2 manifest, 3-space indented as `docker push` stores it. @param {unknown} seed @param {string} label */
const dockerV2Manifest = (seed, label) =>
  imageFixture(DOCKER, seed, `${label}/docker-`, {
    config: [1_500, 12_000],
    layer0: [2_000_000, 30_000_000],
    layer1: [200, 8_000_000],
    layer2: [100, 300_000],
    layer3: [32, 20_000]
  })

/** A single-platform Docker image (dockerV2Manifest). @param {unknown} seed @returns {ImageFixture} */
export const dockerV2Image = (seed) => ({ ...dockerV2Manifest(seed, 'single'), children: [] })

/** A Docker manifest list of two Docker v2 children (amd64, arm64/v8). @param {unknown} seed @returns {ImageFixture} */
export const dockerManifestList = (seed) =>
  indexImage(DOCKER, [
    [dockerV2Manifest(seed, 'list/amd64'), { platform: { architecture: 'amd64', os: 'linux' } }],
    [
      dockerV2Manifest(seed, 'list/arm64'),
      { platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } }
    ]
  ])

/**
 * A Helm chart as `helm push` stores it: an OCI manifest without a top-level mediaType, so
 * writing it takes imageManifestMediaType.
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
  return { ...fixture(MEDIA_TYPES.ociManifest, obj), children: [] }
}

/**
 * Writes an image the way a registry client does: every child first (untagged; an
 * ImageAlreadyExistsException is ignored), then the image once per tag (once untagged if `tags` is
 * empty), always with imageDigest, which ECR verifies and which makes moto store a content digest.
 * @param {import('@aws-sdk/client-ecr').ECRClient} client
 * @param {string} repositoryName
 * @param {ImageFixture} image
 * @param {string[]} [tags]
 * @returns {Promise<string>} image.digest
 */
export async function seedImage(client, repositoryName, image, tags = []) {
  /** @param {ManifestFixture} fixture @param {string} [imageTag] */
  const put = ({ manifest, mediaType, digest }, imageTag) =>
    client.send(
      new PutImageCommand({
        repositoryName,
        imageManifest: manifest,
        imageManifestMediaType: mediaType,
        imageDigest: digest,
        ...(imageTag !== undefined && { imageTag })
      })
    )
  for (const child of image.children) {
    await put(child).catch((/** @type {{ name?: unknown }} */ err) => {
      if (err?.name !== 'ImageAlreadyExistsException') throw err
    })
  }
  for (const tag of tags.length > 0 ? tags : [undefined]) await put(image, tag)
  return image.digest
}

/**
 * Every tag of the repository → the digest it points at (ListImages, every page).
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
