// @ts-check
// The registry facts all test support shares: content digests, media types, ECR's tag grammar.
// Node built-ins only, so TS tests, the stand-in and the scripts can all import it.

import { createHash } from 'node:crypto'

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
  helmChart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  cosignSignature: 'application/vnd.dev.cosign.simplesigning.v1+json',
  sigstoreBundle: 'application/vnd.dev.sigstore.bundle.v0.3+json'
})

/** The media types of a manifest that lists other manifests (a multi-arch image). @type {readonly string[]} */
export const INDEX_MEDIA_TYPES = Object.freeze([
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifestList
])
/** Every manifest media type an image tag can point at: the two indexes and the two image manifests. @type {readonly string[]} */
export const MANIFEST_MEDIA_TYPES = Object.freeze([
  ...INDEX_MEDIA_TYPES,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest
])

/** Hex SHA-256 of the UTF-8 bytes of `text`. @param {string} text */
export const sha256Hex = (text) => createHash('sha256').update(text, 'utf8').digest('hex')

/**
 * 'sha256:' + hex sha256 of the exact UTF-8 bytes of the manifest string: the content digest a
 * registry computes and stores.
 * @param {string} manifestString
 * @returns {string}
 */
export const digestOf = (manifestString) => `sha256:${sha256Hex(manifestString)}`

/** An image tag: a letter, digit or `_`, then up to 127 letters, digits, `.`, `_` or `-`. */
export const TAG_PATTERN = '[A-Za-z0-9_][A-Za-z0-9._-]{0,127}'
export const TAG_RE = new RegExp(`^${TAG_PATTERN}$`)
