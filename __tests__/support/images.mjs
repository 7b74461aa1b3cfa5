// @ts-check
// Image manifests as the tools push them, and seeding helpers, for ECR tests (Node built-ins and
// @aws-sdk/client-ecr only). The same seed gives the same bytes, another seed another digest;
// digests are content digests (digestOf in ./oci.mjs), as ECR computes them.

import { createCipheriv, createHash } from 'node:crypto'
import {
  BatchCheckLayerAvailabilityCommand,
  CompleteLayerUploadCommand,
  InitiateLayerUploadCommand,
  ListImagesCommand,
  PutImageCommand,
  UploadLayerPartCommand
} from '@aws-sdk/client-ecr'
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

// Images with real blobs, for the layer operations (copies across registries): the same seed gives
// the same bytes. Blobs of every manifest of the image are in `blobs`.

/** @typedef {ImageFixture & { blobs: Map<string, Buffer> }} BlobImage */

const MIB = 1024 * 1024

/** `size` bytes that look random, the same for the same seed and label. @param {unknown} seed @param {string} label @param {number} size */
function bytesOf(seed, label, size) {
  const key = createHash('sha256').update(`ecr-promote-blob\u0000${String(seed)}\u0000${label}`)
  const cipher = createCipheriv('aes-256-ctr', key.digest(), Buffer.alloc(16))
  return cipher.update(Buffer.alloc(size))
}

/** @param {Map<string, Buffer>} blobs @param {string} mediaType @param {Buffer} bytes @returns {Descriptor} */
function stored(blobs, mediaType, bytes) {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  blobs.set(digest, bytes)
  return { mediaType, digest, size: bytes.length }
}

/**
 * An OCI image manifest for one platform, as buildx pushes it, with real blobs: its config, a base
 * layer every image of the same `base` shares (`baseSize` bytes), and a layer of its own
 * (`layerSize` bytes: several MiB makes an upload of several parts).
 * @param {unknown} seed
 * @param {{ arch?: string, base?: string, baseSize?: number, layerSize?: number }} [options]
 * @returns {BlobImage}
 */
export function blobImage(
  seed,
  { arch = 'amd64', base = 'base', baseSize = 64 * 1024, layerSize = 4096 } = {}
) {
  const blobs = new Map()
  const baseLayer = stored(blobs, OCI.layer, bytesOf(base, `base/${arch}`, baseSize))
  const own = stored(blobs, OCI.layer, bytesOf(seed, `app/${arch}`, layerSize))
  const diffIds = [baseLayer.digest, own.digest]
  const configText = JSON.stringify({
    architecture: arch,
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: diffIds }
  })
  const config = stored(blobs, OCI.config, Buffer.from(configText))
  const image = fixture(OCI.manifest, {
    schemaVersion: 2,
    mediaType: OCI.manifest,
    config,
    layers: [baseLayer, own]
  })
  return { ...image, children: [], blobs }
}

/**
 * A multi-arch OCI index of two blobImage()s (amd64, arm64) with the same options.
 * @param {unknown} seed
 * @param {Parameters<typeof blobImage>[1]} [options]
 * @returns {BlobImage}
 */
export function blobMultiArchImage(seed, options = {}) {
  const platforms = ['amd64', 'arm64'].map((arch) => blobImage(seed, { ...options, arch }))
  const index = indexImage(
    OCI,
    platforms.map((child, i) => [
      child,
      { platform: { architecture: ['amd64', 'arm64'][i], os: 'linux' } }
    ])
  )
  return { ...index, blobs: new Map(platforms.flatMap((p) => [...p.blobs])) }
}

/** @param {ManifestFixture} subject */
const descriptorOf = ({ mediaType, digest, manifest }) => ({
  mediaType,
  digest,
  size: Buffer.byteLength(manifest, 'utf8')
})

/**
 * The signature `cosign sign` stores for `subject` under the tag `sha256-<hex>.sig`: an OCI
 * manifest whose layer is the simple-signing payload, the signature in its annotations.
 * @param {ManifestFixture} subject
 * @returns {BlobImage & { tag: string }}
 */
export function cosignSignature(subject) {
  const blobs = new Map()
  const payload = JSON.stringify({
    critical: {
      identity: { 'docker-reference': 'registry/app' },
      image: { 'docker-manifest-digest': subject.digest },
      type: 'cosign container image signature'
    },
    optional: null
  })
  const layer = stored(blobs, MEDIA_TYPES.cosignSignature, Buffer.from(payload))
  const signature = bytesOf(subject.digest, 'cosign', 70).toString('base64')
  const annotations = { 'dev.cosignproject.cosign/signature': signature }
  const config = stored(
    blobs,
    OCI.config,
    Buffer.from(JSON.stringify({ architecture: '', os: '' }))
  )
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI.manifest,
    config,
    layers: [{ ...layer, annotations }]
  }
  const tag = `${subject.digest.replace(':', '-')}.sig`
  return { ...fixture(OCI.manifest, manifest), children: [], blobs, tag }
}

/**
 * An OCI 1.1 referrer of `subject` (a Sigstore bundle as `cosign attest` with the new bundle format
 * stores it): artifactType, the empty config, and `subject`.
 * @param {ManifestFixture} subject
 * @param {string} [artifactType]
 * @returns {BlobImage}
 */
export function referrerOf(subject, artifactType = MEDIA_TYPES.sigstoreBundle) {
  const blobs = new Map()
  const config = stored(blobs, MEDIA_TYPES.ociEmpty, Buffer.from('{}'))
  const bundle = stored(blobs, artifactType, bytesOf(subject.digest, artifactType, 2_000))
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI.manifest,
    artifactType,
    config,
    layers: [bundle],
    subject: descriptorOf(subject),
    annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' }
  }
  return { ...fixture(OCI.manifest, manifest), children: [], blobs }
}

/**
 * Pushes an image with its blobs as a registry client does, through the layer operations: the
 * blobs the repository lacks (BatchCheckLayerAvailability), each in 5 MiB parts (or the partSize
 * the repository names, when smaller), then seedImage(). The client's account and Region are the
 * registry's.
 * @param {import('@aws-sdk/client-ecr').ECRClient} client
 * @param {string} repositoryName
 * @param {BlobImage} image
 * @param {string[]} [tags]
 * @returns {Promise<string>} image.digest
 */
export async function pushImage(client, repositoryName, image, tags = []) {
  const digests = [...image.blobs.keys()]
  for (let at = 0; at < digests.length; at += 100) {
    const layerDigests = digests.slice(at, at + 100)
    const check = new BatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests })
    const { failures = [] } = await client.send(check)
    for (const { layerDigest = '' } of failures) {
      const bytes = /** @type {Buffer} */ (image.blobs.get(layerDigest))
      const started = await client.send(new InitiateLayerUploadCommand({ repositoryName }))
      const { uploadId, partSize = 5 * MIB } = started
      const part = Math.min(5 * MIB, partSize)
      for (let first = 0; first < bytes.length; first += part) {
        const layerPartBlob = bytes.subarray(first, first + part)
        const partLastByte = first + layerPartBlob.length - 1
        const upload = {
          repositoryName,
          uploadId,
          partFirstByte: first,
          partLastByte,
          layerPartBlob
        }
        await client.send(new UploadLayerPartCommand(upload))
      }
      const complete = { repositoryName, uploadId, layerDigests: [layerDigest] }
      await client.send(new CompleteLayerUploadCommand(complete))
    }
  }
  return seedImage(client, repositoryName, image, tags)
}
