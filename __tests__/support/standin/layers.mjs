// @ts-check
/**
 * Blobs (configs and layers) with their bytes, per repository, and the five layer operations.
 *
 * BatchCheckLayerAvailability (API Reference; Layer, LayerFailure)
 * - layerDigests: 1-100 (InvalidParameterException). A blob the repository has: { layerDigest,
 *   layerAvailability, layerSize }, ARCHIVED when every image that references it is archived or
 *   being restored, else AVAILABLE (reading: an uploaded blob no image references yet is
 *   AVAILABLE; UNAVAILABLE is never answered). failures[]: InvalidLayerDigest (not
 *   `<algorithm>:<hex>`), MissingLayerDigest (not there).
 * InitiateLayerUpload: { uploadId (a UUID), partSize (control.partSize, default 10 MiB) }.
 * UploadLayerPart (API Reference; InvalidLayerPartException)
 * - layerPartBlob (base64 in JSON) holds bytes partFirstByte..partLastByte, inclusive; parts come in
 *   order from byte 0, each starting right after the last byte received. A part that does not, whose
 *   length is not partLastByte - partFirstByte + 1, or that is longer than partSize:
 *   InvalidLayerPartException with registryId, repositoryName, uploadId and
 *   lastValidByteReceived (reading: 0 when nothing was received; the model's minimum is 0).
 *   Unknown uploadId: UploadNotFoundException. Answers { registryId, repositoryName, uploadId,
 *   lastByteReceived }.
 * CompleteLayerUpload (API Reference)
 * - In this order: unknown uploadId: UploadNotFoundException; no part: EmptyUploadException; a part
 *   but the last under 5 MiB: LayerPartTooSmallException (User Guide, service quotas: "Minimum
 *   layer part size 5 MiB"); the bytes' sha256 not among layerDigests (1-100):
 *   InvalidLayerException; a blob the repository has: LayerAlreadyExistsException. Reading: the
 *   upload ends with the call whatever it answers. Answers { registryId, repositoryName, uploadId,
 *   layerDigest }.
 * GetDownloadUrlForLayer (API Reference)
 * - A blob the repository lacks: LayersNotFoundException; one no image of it references:
 *   LayerInaccessibleException ("You can only get URLs for image layers that are referenced in an
 *   image"). Answers { downloadUrl, layerDigest }: `<stand-in>/_blobs/<token>?X-Amz-Algorithm=
 *   AWS4-HMAC-SHA256&X-Amz-Expires=600&X-Amz-Signature=<hmac>`, a presigned URL it serves itself:
 *   GET with no Authorization header: 200, Content-Length, the bytes; with one: 400 InvalidArgument
 *   "Only one auth mechanism allowed" (S3's answer to a second authentication); a URL expired
 *   (control.expireDownloadUrls) or unknown: 403 AccessDenied "Request has expired" (S3 XML).
 *   Controls: corruptDownload(digest) serves that blob with its first byte changed (same length),
 *   resetDownload(digest, { count = 1 }) sends the next `count` downloads' first half and then a TCP
 *   reset. Each GET is recorded in control.calls as { operation: 'GetBlob', input: { digest } }.
 */

import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto'
import { EcrError, checkSized } from './protocol.mjs'
import { statusOf } from './images.mjs'

export const MIB = 1024 * 1024
const MIN_PART = 5 * MIB
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/
const EXPIRES_SECONDS = 600

/**
 * @typedef {import('./repositories.mjs').StoredRepository} StoredRepository
 * @typedef {{ parts: Buffer[] }} Upload
 * @typedef {{ repository: StoredRepository, digest: string, expired: boolean }} Download
 */

/** @param {Buffer} bytes */
const sha256 = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

/** The images of the repository that reference the blob. @param {StoredRepository} repository @param {string} digest */
const referencing = (repository, digest) =>
  [...repository.images.values()].filter((image) => image.blobs.includes(digest))

/**
 * @param {(input: Record<string, any>) => StoredRepository} repositoryFor
 * @param {(operation: string, input: unknown) => void} record
 */
export function createLayers(repositoryFor, record) {
  const key = randomBytes(32)
  /** @type {Map<string, Download>} */
  const downloads = new Map()
  const settings = { partSize: 10 * MIB, base: '' }
  /** @type {Set<string>} */
  const corrupt = new Set()
  /** @type {Map<string, number>} */
  const resets = new Map()

  /** @param {string} token */
  const sign = (token) => createHmac('sha256', key).update(token).digest('hex')

  /** @param {StoredRepository} repository @param {Record<string, any>} input */
  function uploadOf(repository, { uploadId }) {
    const upload = repository.uploads.get(uploadId)
    if (upload) return upload
    throw new EcrError(
      'UploadNotFoundException',
      `Upload with id '${uploadId}' was not found in the repository with name '${repository.name}' in registry with id '${repository.registryId}'`
    )
  }

  /** @satisfies {Record<string, import('./protocol.mjs').Operation>} */
  const operations = {
    BatchCheckLayerAvailability(input) {
      const repository = repositoryFor(input)
      const layers = []
      const failures = []
      for (const digest of checkSized('layerDigests', input.layerDigests, 100)) {
        const bytes = repository.blobs.get(String(digest))
        if (typeof digest !== 'string' || !DIGEST_RE.test(digest)) {
          const failureReason = 'Invalid layer digest'
          failures.push({ layerDigest: digest, failureCode: 'InvalidLayerDigest', failureReason })
        } else if (!bytes) {
          const failureReason = 'Could not find layer'
          failures.push({ layerDigest: digest, failureCode: 'MissingLayerDigest', failureReason })
        } else {
          const images = referencing(repository, digest)
          const archived =
            images.length > 0 && images.every((image) => statusOf(image) !== 'ACTIVE')
          const layerAvailability = archived ? 'ARCHIVED' : 'AVAILABLE'
          layers.push({ layerDigest: digest, layerAvailability, layerSize: bytes.length })
        }
      }
      return { layers, failures }
    },

    InitiateLayerUpload(input) {
      const repository = repositoryFor(input)
      const uploadId = randomUUID()
      repository.uploads.set(uploadId, { parts: [] })
      return { uploadId, partSize: settings.partSize }
    },

    UploadLayerPart(input) {
      const repository = repositoryFor(input)
      const upload = uploadOf(repository, input)
      const { uploadId, partFirstByte: first, partLastByte: last, layerPartBlob } = input
      const bytes = Buffer.from(typeof layerPartBlob === 'string' ? layerPartBlob : '', 'base64')
      const received = upload.parts.reduce((sum, part) => sum + part.length, 0)
      const why =
        first !== received
          ? `The part with first byte ${first} is not consecutive to the last byte of a previous layer part upload`
          : last - first + 1 !== bytes.length
            ? `The part's range ${first}-${last} does not match its ${bytes.length} bytes`
            : bytes.length > settings.partSize
              ? `The part of ${bytes.length} bytes is larger than the part size ${settings.partSize}`
              : undefined
      if (why !== undefined) {
        throw new EcrError('InvalidLayerPartException', why, {
          registryId: repository.registryId,
          repositoryName: repository.name,
          uploadId,
          lastValidByteReceived: Math.max(0, received - 1)
        })
      }
      upload.parts.push(bytes)
      const { registryId, name: repositoryName } = repository
      return { registryId, repositoryName, uploadId, lastByteReceived: last }
    },

    CompleteLayerUpload(input) {
      const repository = repositoryFor(input)
      const upload = uploadOf(repository, input)
      const digests = checkSized('layerDigests', input.layerDigests, 100)
      repository.uploads.delete(input.uploadId)
      const where = `in the repository with name '${repository.name}' in registry with id '${repository.registryId}'`
      if (upload.parts.length === 0)
        throw new EcrError('EmptyUploadException', `The upload ${input.uploadId} has no parts`)
      if (upload.parts.slice(0, -1).some((part) => part.length < MIN_PART)) {
        throw new EcrError(
          'LayerPartTooSmallException',
          'Each layer part but the last must be at least 5 MiB in size'
        )
      }
      const bytes = Buffer.concat(upload.parts)
      const digest = sha256(bytes)
      if (!digests.includes(digest)) {
        throw new EcrError(
          'InvalidLayerException',
          `The layer digest calculated for the upload, '${digest}', does not match the digest specified: ${digests.join(', ')}`
        )
      }
      if (repository.blobs.has(digest)) {
        throw new EcrError(
          'LayerAlreadyExistsException',
          `The layer '${digest}' already exists ${where}`
        )
      }
      repository.blobs.set(digest, bytes)
      const { registryId, name: repositoryName } = repository
      return { registryId, repositoryName, uploadId: input.uploadId, layerDigest: digest }
    },

    GetDownloadUrlForLayer(input) {
      const repository = repositoryFor(input)
      const digest = input.layerDigest
      const where = `in the repository with name '${repository.name}' in registry with id '${repository.registryId}'`
      if (!repository.blobs.has(digest))
        throw new EcrError(
          'LayersNotFoundException',
          `The layer '${digest}' was not found ${where}`
        )
      if (referencing(repository, digest).length === 0) {
        throw new EcrError(
          'LayerInaccessibleException',
          `The layer '${digest}' is not referenced by an image ${where}`
        )
      }
      const token = randomUUID()
      downloads.set(token, { repository, digest, expired: false })
      const query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=${EXPIRES_SECONDS}&X-Amz-Signature=${sign(token)}`
      return { downloadUrl: `${settings.base}/_blobs/${token}?${query}`, layerDigest: digest }
    }
  }

  /**
   * Serve a download URL; false for any other request.
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   */
  function serveDownload(req, res) {
    const url = new URL(req.url ?? '/', 'http://stand-in')
    const token = /^\/_blobs\/([0-9a-f-]+)$/.exec(url.pathname)?.[1]
    if (req.method !== 'GET' || token === undefined) return false
    const download = downloads.get(token)
    record('GetBlob', { digest: download?.digest })
    /** @param {number} status @param {string} code @param {string} message */
    const refuse = (status, code, message) => {
      res.writeHead(status, { 'Content-Type': 'application/xml' })
      res.end(`<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${randomUUID()}</RequestId></Error>`)
    }
    if (req.headers.authorization !== undefined) {
      refuse(
        400,
        'InvalidArgument',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified'
      )
    } else if (
      !download ||
      download.expired ||
      url.searchParams.get('X-Amz-Signature') !== sign(token)
    ) {
      refuse(403, 'AccessDenied', 'Request has expired')
    } else {
      const stored = download.repository.blobs.get(download.digest) ?? Buffer.alloc(0)
      const bytes = Buffer.from(stored)
      if (corrupt.has(download.digest) && bytes.length > 0) bytes[0] = (bytes[0] ?? 0) ^ 0xff
      res.writeHead(200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': bytes.length
      })
      const resetsLeft = resets.get(download.digest) ?? 0
      if (resetsLeft > 0) {
        resets.set(download.digest, resetsLeft - 1)
        res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () =>
          req.socket.resetAndDestroy()
        )
      } else res.end(bytes)
    }
    return true
  }

  const control = {
    /** The partSize InitiateLayerUpload answers and UploadLayerPart enforces, in bytes. @param {number} bytes */
    partSize(bytes) {
      if (!Number.isInteger(bytes) || bytes < 1)
        throw new RangeError(`partSize: bytes must be a positive integer, got ${bytes}`)
      settings.partSize = bytes
    },
    /** Downloads of the blob serve its first byte changed. @param {string} digest */
    corruptDownload(digest) {
      corrupt.add(digest)
    },
    /** The next `count` downloads of the blob stop halfway with a TCP reset. @param {string} digest @param {{ count?: number }} [options] */
    resetDownload(digest, { count = 1 } = {}) {
      resets.set(digest, (resets.get(digest) ?? 0) + count)
    },
    /** Every download URL issued so far answers 403 from now on. */
    expireDownloadUrls() {
      for (const download of downloads.values()) download.expired = true
    }
  }

  return {
    operations,
    control,
    serveDownload,
    /** @param {string} url the stand-in's, which download URLs start with */
    setBase(url) {
      settings.base = url
    },
    reset() {
      downloads.clear()
      corrupt.clear()
      resets.clear()
      settings.partSize = 10 * MIB
    }
  }
}
