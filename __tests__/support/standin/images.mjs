// @ts-check
/**
 * Images and manifests. Images are ACTIVE, ARCHIVED or ACTIVATING and keep their tags in every
 * status. Blobs are ./layers.mjs's: only a strict repository (every account's but the default
 * account's) requires them.
 *
 * PutImage (API Reference: PutImage)
 * - The digest is `sha256:` + the hex SHA-256 of imageManifest's exact UTF-8 bytes; the string is
 *   stored untouched, so BatchGetImage returns it byte for byte. imageDigest, when given, must equal
 *   it (ImageDigestDoesNotMatchException). imageManifest must be a JSON object
 *   (InvalidParameterException).
 * - Media type: imageManifestMediaType, else the manifest's `mediaType`, else
 *   InvalidParameterException ("If you push an image manifest that does not contain the mediaType
 *   field, you must specify the imageManifestMediaType"); both and different, or a type no tag can
 *   name (only Docker v2 schema 2, Docker manifest list, OCI manifest, OCI index):
 *   InvalidParameterException.
 * - In a strict repository, a manifest whose config or layers[] blobs are not all in the
 *   repository: LayersNotFoundException (API Reference: "The specified layers could not be
 *   found"), naming them.
 * - An index or manifest list whose manifests[].digest are not all in the repository:
 *   ReferencedImagesNotFoundException ("The manifest list is referencing an image that does not
 *   exist"); children are pushed first, untagged.
 * - imageTag must match `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}` (InvalidParameterException). A tag
 *   already on this digest: ImageAlreadyExistsException; on another digest and immutable
 *   (./repositories.mjs): ImageTagAlreadyExistsException; else it moves, and the image it leaves
 *   STAYS, untagged or not (ECR keeps untagged images until a lifecycle policy expires them). No
 *   imageTag: a digest stored already is ImageAlreadyExistsException, a new one is stored untagged.
 * - Answers { image: { registryId, repositoryName, imageId { imageDigest, imageTag },
 *   imageManifest, imageManifestMediaType } }. imagePushedAt is set when a digest is first stored.
 * - Re-pushing an ARCHIVED image restores it to ACTIVE at once (User Guide, "Archiving an image":
 *   it "can be restored ... by re-pushing the image"), which is a change, not
 *   ImageAlreadyExistsException; reading: so does an ACTIVATING one. Tag checks still come first.
 *
 * BatchGetImage (API Reference: BatchGetImage, ImageFailure)
 * - imageIds: 1-100 (InvalidParameterException). Each found id yields { registryId,
 *   repositoryName, imageId { imageDigest, imageTag (the requested tag echoed, absent by digest) },
 *   imageManifest (the stored string), imageManifestMediaType }.
 * - failures[] entries { imageId (as requested), failureCode, failureReason }: 'ImageNotFound'
 *   ("Requested image not found"), 'ImageTagDoesNotMatchDigest' (tag and digest given, the tag
 *   elsewhere), 'MissingDigestAndTag', 'InvalidImageDigest', 'InvalidImageTag'.
 * - An ARCHIVED or ACTIVATING image: 'ImageNotFound' by default (User Guide: "Requests to pull the
 *   archived image will fail with a 404 error"; reading: an image being restored too). The API
 *   does not say, and gained 'ImageInaccessible' with archiving: control.archivedAnswer
 *   (./admin.mjs) picks 'ImageNotFound', 'ImageInaccessible' or 'manifest' (as if ACTIVE).
 * - acceptedMediaTypes (1-100): a stored type not in it is 'UnsupportedImageType'. Without it only
 *   the Docker v2 schema 2 and OCI image manifests are accepted: the API Reference lists only
 *   single-image types and does not say an index is returned by default, so a caller that forgets
 *   to accept the index types gets a failure for multi-arch images (real ECR may hand back one
 *   platform's manifest instead, as wrong for a re-tagger).
 *
 * ListImages (API Reference: ListImages, ListImagesFilter)
 * - filter.tagStatus TAGGED | UNTAGGED | ANY (default ANY) and filter.imageStatus ACTIVE |
 *   ARCHIVED | ACTIVATING | ANY (default ACTIVE: "If not specified, only images with ACTIVE status
 *   are returned"), together.
 * - One entry { imageDigest, imageTag } per tag; an untagged image once, { imageDigest }. In push
 *   order (the order digests were first stored), then by tag; control.setPushedAt never changes
 *   it (nextTokens hold positions in it). Paginated (./protocol.mjs).
 *
 * DescribeImages (API Reference: DescribeImages, ImageDetail)
 * - imageDetails { registryId, repositoryName, imageDigest, imageTags (sorted, omitted when none),
 *   imagePushedAt, imageManifestMediaType, imageSizeInBytes, imageStatus, lastArchivedAt and
 *   lastActivatedAt (each once it has happened) }. imageSizeInBytes is the sum of layers[].size;
 *   an index's is its largest child's ("If the image is a manifest list, this will be the max size
 *   of all manifests in the list").
 * - With imageIds (1-100): one detail per distinct image; an unknown id fails the whole call
 *   (ImageNotFoundException); maxResults or nextToken with imageIds: InvalidParameterException
 *   ("This option cannot be used when you specify images with imageIds"). Reading (the API is
 *   silent): filter.imageStatus applies to imageIds (default ACTIVE, so an archived image's id
 *   fails as absent unless the filter is ARCHIVED or ANY); filter.tagStatus is checked only.
 * - Without imageIds: filtered as ListImages, one entry per image in push order, paginated.
 *
 * BatchDeleteImage (API Reference: BatchDeleteImage)
 * - imageIds 1-100. By tag only that tag goes, and the image with its last tag ("When you remove
 *   the last tag from an image, the image is deleted"); by digest the image and all its tags.
 * - An image an index in the repository references cannot go (by digest, or its last tag):
 *   'ImageReferencedByManifestList'. Missing: 'ImageNotFound'; tag and digest that do not match:
 *   'ImageTagDoesNotMatchDigest'.
 * - Answers { imageIds, failures }: by digest, one { imageDigest, imageTag } per tag removed, or
 *   { imageDigest } for an untagged image. Archived and activating images are deleted as active
 *   ones (User Guide, "Archiving an image").
 *
 * ListImageReferrers (API Reference: ListImageReferrers, ImageReferrer)
 * - The images whose manifest names subjectId.imageDigest as its `subject` (OCI 1.1), in push
 *   order: { digest, mediaType, artifactType (the manifest's, else its config's media type, as
 *   the OCI distribution spec's referrers list says), size (of the manifest), annotations (when
 *   any), artifactStatus }. filter.artifactStatus ACTIVE (default) | ARCHIVED | ACTIVATING | ANY;
 *   filter.artifactTypes (0-5) keeps those types. maxResults 1-50, 20 without it; nextToken as
 *   the other listings (./protocol.mjs).
 *
 * UpdateImageStorageClass (API Reference: UpdateImageStorageClass; User Guide, "Archiving an
 * image")
 * - targetStorageClass STANDARD or ARCHIVE (InvalidParameterException); imageId names an image in
 *   any status (ImageNotFoundException; neither tag nor digest: InvalidParameterException).
 * - ARCHIVE on ACTIVE: ARCHIVED (lastArchivedAt now; control.archive does the same). STANDARD on
 *   ARCHIVED: ACTIVATING, then ACTIVE once the image's restore time (control.archive restoreMs,
 *   default 0, on the stand-in's clock) has passed, lastActivatedAt that moment; the answer is the
 *   status right after the call (restore time 0: ACTIVE). STANDARD on ACTIVATING: ACTIVATING, not
 *   restarted. Readings: STANDARD on ACTIVE and ARCHIVE on ARCHIVED change nothing; ARCHIVE on
 *   ACTIVATING is ImageStorageClassUpdateNotSupportedException. Only the named manifest changes,
 *   never an index's children.
 * - Answers { registryId, repositoryName, imageId { imageDigest, imageTag (when requested) },
 *   imageStatus }. Lifecycle previews (./lifecycle.mjs) evaluate every status alike.
 */

import {
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  MEDIA_TYPES,
  TAG_PATTERN,
  TAG_RE,
  digestOf
} from '../oci.mjs'
import {
  EcrError,
  checkEnum,
  checkSized,
  compareStrings,
  invalidParameter,
  isObject,
  nowSeconds,
  violated
} from './protocol.mjs'
import { isTagImmutable } from './repositories.mjs'

/**
 * @typedef {import('./repositories.mjs').StoredRepository} StoredRepository
 * @typedef {import('./protocol.mjs').Key} Key
 * @typedef {{ imageDigest?: string, imageTag?: string }} ImageId
 * @typedef {{ failureCode: string, failureReason: string }} Failure
 * @typedef {'ACTIVE' | 'ARCHIVED' | 'ACTIVATING'} ImageStatus
 * @typedef {'ImageNotFound' | 'ImageInaccessible' | 'manifest'} ArchivedAnswer
 * @typedef {{ status: 'ARCHIVED' } | { status: 'ACTIVATING', activeAt: number, clock: () => number }} Storage
 *   where an image not ACTIVE is; activeAt: the time (ms, on the stand-in's clock) at which it
 *   becomes ACTIVE
 * @typedef {{ digest: string, manifest: string, mediaType: string, references: string[],
 *   blobs: string[], subject: string | undefined, artifactType: string | undefined,
 *   annotations: Record<string, string> | undefined, layerBytes: number, pushedAt: number, seq: number, tags: Set<string>,
 *   storage?: Storage, archivedAt?: number, activatedAt?: number, restoreMs?: number,
 *   scan?: import('./scanning.mjs').RecordedScan,
 *   signing?: import('./scanning.mjs').RecordedSigning[] }} StoredImage
 *   archivedAt, activatedAt: epoch seconds; scan, signing: set by control.setScan/setSigning
 */

const DIGEST_RE = /^[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+$/
const MAX_MANIFEST_LENGTH = 4194304
/** Conservative reading of BatchGetImage's behaviour when acceptedMediaTypes is omitted. */
const DEFAULT_ACCEPTED_MEDIA_TYPES = [MEDIA_TYPES.dockerManifest, MEDIA_TYPES.ociManifest]
const TAG_STATUSES = ['TAGGED', 'UNTAGGED', 'ANY']
const IMAGE_STATUS_FILTERS = ['ACTIVE', 'ARCHIVED', 'ACTIVATING', 'ANY']
const STORAGE_CLASSES = ['STANDARD', 'ARCHIVE']
/** ListImageReferrers' page without maxResults (API Reference: "up to 20 results"). */
const REFERRER_PAGE = 20
/** @param {string} failureCode @param {string} failureReason @returns {Failure} */
const failed = (failureCode, failureReason) => ({ failureCode, failureReason })
const NOT_FOUND = failed('ImageNotFound', 'Requested image not found')
/** @type {readonly ArchivedAnswer[]} what BatchGetImage may answer for an archived image */
export const ARCHIVED_ANSWERS = ['ImageNotFound', 'ImageInaccessible', 'manifest']

/**
 * Point `tag` at `image`, taking it off the image it was on (which stays, untagged or not).
 * @param {StoredRepository} repository
 * @param {string} tag
 * @param {StoredImage} image
 */
export function pointTag(repository, tag, image) {
  const previous = repository.tags.get(tag)
  if (previous !== undefined) repository.images.get(previous)?.tags.delete(tag)
  repository.tags.set(tag, image.digest)
  image.tags.add(tag)
}

/**
 * The image's status now. An ACTIVATING image whose restore time has passed is settled to ACTIVE
 * here, lastActivatedAt being the moment it became so.
 * @param {StoredImage} image
 * @returns {ImageStatus}
 */
export function statusOf(image) {
  const { storage } = image
  if (storage?.status === 'ACTIVATING' && storage.clock() >= storage.activeAt) {
    delete image.storage
    image.activatedAt = storage.activeAt / 1000
  }
  return image.storage?.status ?? 'ACTIVE'
}

/**
 * Move the image to archive storage; a later restore takes `restoreMs`.
 * @param {StoredImage} image
 * @param {number} [restoreMs]
 */
export function archiveImage(image, restoreMs = image.restoreMs ?? 0) {
  image.storage = { status: 'ARCHIVED' }
  image.archivedAt = nowSeconds()
  image.restoreMs = restoreMs
}

/**
 * Start restoring the image: ACTIVE `afterMs` from now on `clock`.
 * @param {StoredImage} image @param {number} afterMs @param {() => number} clock
 */
function activate(image, afterMs, clock) {
  image.storage = { status: 'ACTIVATING', activeAt: clock() + afterMs, clock }
}

/** @param {unknown} descriptor */
const digestIn = (descriptor) =>
  isObject(descriptor) && typeof descriptor.digest === 'string' ? descriptor.digest : undefined

/**
 * What PutImage stores of its manifest: the string, its media type, the digests it references
 * (an index's manifests), its blobs (config and layers), its subject, artifact type and
 * annotations, and the sum of its layer sizes.
 * @param {Record<string, any>} input
 */
function readManifest({ imageManifest: manifest, imageManifestMediaType: parameter }) {
  if (typeof manifest !== 'string' || manifest.length < 1) {
    throw violated('imageManifest', 'Member must have length greater than or equal to 1')
  }
  if (manifest.length > MAX_MANIFEST_LENGTH) {
    throw violated(
      'imageManifest',
      `Member must have length less than or equal to ${MAX_MANIFEST_LENGTH}`
    )
  }
  /** @type {unknown} */
  let parsed
  try {
    parsed = JSON.parse(manifest)
  } catch {
    // not JSON: refused below
  }
  if (!isObject(parsed)) throw violated('imageManifest', 'Invalid JSON syntax')
  const declared = typeof parsed.mediaType === 'string' ? parsed.mediaType : undefined
  if (parameter !== undefined && typeof parameter !== 'string') {
    throw invalidParameter("Invalid parameter at 'imageManifestMediaType'")
  }
  if (parameter && declared && parameter !== declared) {
    throw violated(
      'imageManifestMediaType',
      `imageManifestMediaType '${parameter}' does not match the mediaType '${declared}' of the image manifest`
    )
  }
  const mediaType = parameter || declared
  if (!mediaType)
    throw invalidParameter('image manifest mediatype not provided in manifest or parameter')
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    throw violated('imageManifestMediaType', `unsupported manifest media type ${mediaType}`)
  }
  const { manifests, layers: listed, config, subject, artifactType, annotations } = parsed
  const index = INDEX_MEDIA_TYPES.includes(mediaType) && Array.isArray(manifests)
  /** @type {string[]} */
  const references = (index ? manifests : []).map((/** @type {unknown} */ c) => digestIn(c) ?? '')
  /** @type {unknown[]} */
  const layers = Array.isArray(listed) ? listed : []
  const blobs = [config, ...layers].map(digestIn).filter((d) => d !== undefined)
  const layerBytes = layers.reduce(
    (/** @type {number} */ sum, layer) =>
      sum + (isObject(layer) && typeof layer.size === 'number' ? layer.size : 0),
    0
  )
  return {
    manifest,
    mediaType,
    references,
    blobs: [...new Set(blobs)],
    subject: digestIn(subject),
    artifactType:
      typeof artifactType === 'string'
        ? artifactType
        : isObject(config) && typeof config.mediaType === 'string'
          ? config.mediaType
          : undefined,
    annotations: isObject(annotations) ? annotations : undefined,
    layerBytes
  }
}

/** @param {unknown} imageIds @returns {Record<string, any>[]} */
function checkImageIds(imageIds) {
  return checkSized('imageIds', imageIds, 100).map((id) => (isObject(id) ? id : {}))
}

/** The imageId an answer carries: the digest, and the tag when one was requested. @param {StoredImage} image @param {unknown} tag @returns {ImageId} */
const imageIdOf = (image, tag) => ({
  imageDigest: image.digest,
  ...(typeof tag === 'string' && { imageTag: tag })
})

/** @param {StoredRepository} repository @param {Record<string, any>} id */
const imageNotFound = (repository, { imageDigest, imageTag }) =>
  new EcrError(
    'ImageNotFoundException',
    `The image with imageId {imageDigest:'${imageDigest ?? 'null'}', imageTag:'${imageTag ?? 'null'}'} does not exist within the repository with name '${repository.name}' in the registry with id '${repository.registryId}'`
  )

/** @param {Record<string, any>} id @returns {ImageId} */
const requestedId = ({ imageDigest, imageTag }) => ({
  ...(imageDigest !== undefined && { imageDigest }),
  ...(imageTag !== undefined && { imageTag })
})

/**
 * The stored image an ImageIdentifier names, or the ImageFailure that says why none.
 * @param {StoredRepository} repository
 * @param {Record<string, any>} id
 * @returns {StoredImage | Failure}
 */
function resolveImageId(repository, { imageTag: tag, imageDigest: digest }) {
  const invalid = 'Invalid request parameters:'
  if (tag === undefined && digest === undefined) {
    return failed('MissingDigestAndTag', `${invalid} both tag and digest cannot be null`)
  }
  if (digest !== undefined && (typeof digest !== 'string' || !DIGEST_RE.test(digest))) {
    const rule = `image digest should satisfy the regex '${DIGEST_RE.source}'`
    return failed('InvalidImageDigest', `${invalid} ${rule}`)
  }
  if (tag !== undefined && (typeof tag !== 'string' || tag.length < 1 || tag.length > 300)) {
    return failed('InvalidImageTag', `${invalid} tag`)
  }
  const named = tag === undefined ? digest : repository.tags.get(tag)
  if (named === undefined) return NOT_FOUND
  if (digest !== undefined && digest !== named) {
    return failed(
      'ImageTagDoesNotMatchDigest',
      `${invalid} given tag does not map to the given digest`
    )
  }
  return repository.images.get(named) ?? NOT_FOUND
}

/**
 * The image an id names, in any status: ImageNotFoundException when none, InvalidParameterException
 * when the id has neither tag nor digest.
 * @param {StoredRepository} repository
 * @param {Record<string, any>} id
 */
function requireImage(repository, id) {
  const resolved = resolveImageId(repository, id)
  if (!('failureCode' in resolved)) return resolved
  if (resolved.failureCode === 'MissingDigestAndTag') throw invalidParameter(resolved.failureReason)
  throw imageNotFound(repository, id)
}

/**
 * The image a single-image request's `imageId` names, in any status, and the fields its answer
 * starts with: { registryId, repositoryName, imageId { imageDigest, imageTag (when requested) } }.
 * @param {StoredRepository} repository
 * @param {Record<string, any>} input
 */
export function namedImage(repository, { imageId }) {
  if (!isObject(imageId)) throw violated('imageId', 'Member must not be null')
  const image = requireImage(repository, imageId)
  const answer = {
    registryId: repository.registryId,
    repositoryName: repository.name,
    imageId: imageIdOf(image, imageId.imageTag)
  }
  return { image, answer }
}

/**
 * Run `each` on the image each id names, in order. An id that names none, or whose image `each`
 * refuses (it returns a Failure), becomes a failures[] entry with the id as requested.
 * @param {StoredRepository} repository
 * @param {Record<string, any>[]} ids
 * @param {(image: StoredImage, id: Record<string, any>) => Failure | undefined} each
 */
function eachImage(repository, ids, each) {
  const failures = []
  for (const id of ids) {
    const resolved = resolveImageId(repository, id)
    const failure = 'failureCode' in resolved ? resolved : each(resolved, id)
    if (failure) failures.push({ imageId: requestedId(id), ...failure })
  }
  return failures
}

/**
 * The image as PutImage and BatchGetImage return it.
 * @param {StoredRepository} repository
 * @param {StoredImage} image
 * @param {string | undefined} tag
 */
const imageOf = (repository, image, tag) => ({
  registryId: repository.registryId,
  repositoryName: repository.name,
  imageId: imageIdOf(image, tag),
  imageManifest: image.manifest,
  imageManifestMediaType: image.mediaType
})

/**
 * @param {StoredRepository} repository
 * @param {StoredImage} image
 * @param {number} [depth]
 * @returns {number}
 */
function imageSize(repository, image, depth = 0) {
  if (!INDEX_MEDIA_TYPES.includes(image.mediaType)) return image.layerBytes
  if (depth > 8) return 0
  const children = image.references.flatMap((digest) => repository.images.get(digest) ?? [])
  return Math.max(0, ...children.map((child) => imageSize(repository, child, depth + 1)))
}

/** @param {StoredRepository} repository @param {StoredImage} image */
function imageDetail(repository, image) {
  const imageStatus = statusOf(image) // first: it settles lastActivatedAt
  return {
    registryId: repository.registryId,
    repositoryName: repository.name,
    imageDigest: image.digest,
    ...(image.tags.size > 0 && { imageTags: [...image.tags].sort(compareStrings) }),
    imageSizeInBytes: imageSize(repository, image),
    imagePushedAt: image.pushedAt,
    imageManifestMediaType: image.mediaType,
    imageStatus,
    ...(image.archivedAt !== undefined && { lastArchivedAt: image.archivedAt }),
    ...(image.activatedAt !== undefined && { lastActivatedAt: image.activatedAt })
  }
}

/**
 * filter.tagStatus (default ANY) and filter.imageStatus (default ACTIVE), checked.
 * @param {unknown} filter
 */
function readFilter(filter) {
  if (filter !== undefined && !isObject(filter))
    throw violated('filter', 'Member must be a structure')
  const tagStatus = checkEnum('filter.tagStatus', filter?.tagStatus ?? 'ANY', TAG_STATUSES)
  const imageStatus = checkEnum(
    'filter.imageStatus',
    filter?.imageStatus ?? 'ACTIVE',
    IMAGE_STATUS_FILTERS
  )
  /** Whether filter.imageStatus lets the image through. @param {StoredImage} image */
  const statusPasses = (image) => imageStatus === 'ANY' || statusOf(image) === imageStatus
  return { tagStatus, imageStatus, statusPasses }
}

/**
 * The repository's images in push order that the filter lists, and its two statuses.
 * @param {StoredRepository} repository
 * @param {unknown} filter
 */
function listed(repository, filter) {
  const { tagStatus, imageStatus, statusPasses } = readFilter(filter)
  const images = [...repository.images.values()]
    .sort((a, b) => a.seq - b.seq)
    .filter((image) => tagStatus === 'ANY' || (tagStatus === 'TAGGED') === image.tags.size > 0)
    .filter(statusPasses)
  return { tagStatus, imageStatus, images }
}

/**
 * @param {(input: Record<string, any>) => StoredRepository} repositoryFor
 * @param {ReturnType<typeof import('./protocol.mjs').createPager>} paginate
 * @param {{ archivedAnswer: ArchivedAnswer }} readings where AWS is silent (control.archivedAnswer)
 * @param {() => number} clock ms; restores end on it
 */
export function createImageOperations(repositoryFor, paginate, readings, clock) {
  let pushSequence = 0

  /** @satisfies {Record<string, import('./protocol.mjs').Operation>} */
  const operations = {
    PutImage(input) {
      const repository = repositoryFor(input)
      const stored = readManifest(input)
      const tag = input.imageTag
      if (tag !== undefined && (typeof tag !== 'string' || !TAG_RE.test(tag))) {
        throw violated('imageTag', `must satisfy regular expression '${TAG_PATTERN}'`)
      }
      const digest = digestOf(stored.manifest)
      if (input.imageDigest !== undefined && input.imageDigest !== digest) {
        throw new EcrError(
          'ImageDigestDoesNotMatchException',
          `Provided digest '${input.imageDigest}' does not match the digest '${digest}' calculated for the image manifest`
        )
      }
      const where = `in the repository with name '${repository.name}' in registry with id '${repository.registryId}'`
      const lacking = repository.strict
        ? stored.blobs.filter((blob) => !repository.blobs.has(blob))
        : []
      if (lacking.length > 0) {
        throw new EcrError(
          'LayersNotFoundException',
          `The following layers were not found ${where}: [${lacking.join(', ')}]`
        )
      }
      const missing = stored.references.filter((child) => !repository.images.has(child))
      if (missing.length > 0) {
        throw new EcrError(
          'ReferencedImagesNotFoundException',
          `Some of the images referenced by the manifest list do not exist ${where}: [${missing.join(', ')}]`
        )
      }
      const existing = repository.images.get(digest)
      const current = tag === undefined ? undefined : repository.tags.get(tag)
      const restoring = existing !== undefined && statusOf(existing) !== 'ACTIVE'
      if (!restoring && (tag === undefined ? existing : current === digest)) {
        const named = tag === undefined ? '' : ` and tag '${tag}'`
        throw new EcrError(
          'ImageAlreadyExistsException',
          `Image with digest '${digest}'${named} already exists ${where}`
        )
      }
      if (current !== undefined && isTagImmutable(repository, tag)) {
        throw new EcrError(
          'ImageTagAlreadyExistsException',
          `The image tag '${tag}' already exists in the '${repository.name}' repository and cannot be overwritten because the tag is immutable.`
        )
      }

      // All checks passed: commit.
      let image = existing
      if (!image) {
        image = { digest, ...stored, pushedAt: nowSeconds(), seq: ++pushSequence, tags: new Set() }
        repository.images.set(digest, image)
      }
      if (restoring) activate(image, 0, clock)
      if (tag !== undefined) pointTag(repository, tag, image)
      return { image: imageOf(repository, image, tag) }
    },

    BatchGetImage(input) {
      const repository = repositoryFor(input)
      const ids = checkImageIds(input.imageIds)
      const { acceptedMediaTypes: wanted = DEFAULT_ACCEPTED_MEDIA_TYPES } = input
      const strings = Array.isArray(wanted) && wanted.every((t) => typeof t === 'string')
      const accepted = new Set(checkSized('acceptedMediaTypes', strings ? wanted : undefined, 100))
      /** @type {ReturnType<typeof imageOf>[]} */
      const images = []
      const failures = eachImage(repository, ids, (image, id) => {
        const answer = statusOf(image) === 'ACTIVE' ? 'manifest' : readings.archivedAnswer
        if (answer === 'ImageNotFound') return NOT_FOUND
        if (answer === 'ImageInaccessible')
          return failed('ImageInaccessible', 'The image is archived and cannot be pulled')
        if (accepted.has(image.mediaType)) {
          images.push(imageOf(repository, image, id.imageTag))
          return undefined
        }
        const types = [...accepted].join(', ')
        const reason = `The image's manifest media type '${image.mediaType}' is not one of the accepted media types [${types}]`
        return failed('UnsupportedImageType', reason)
      })
      return { images, failures }
    },

    ListImages(input) {
      const repository = repositoryFor(input)
      const { tagStatus, imageStatus, images } = listed(repository, input.filter)
      /** @type {{ key: Key, value: ImageId }[]} */
      const entries = images.flatMap(({ seq, digest, tags }) =>
        tags.size === 0
          ? [{ key: [seq, ''], value: { imageDigest: digest } }]
          : [...tags].sort(compareStrings).map((tag) => ({
              key: [seq, tag],
              value: { imageDigest: digest, imageTag: tag }
            }))
      )
      const scope = { op: 'ListImages', repo: repository.name, tagStatus, imageStatus }
      const { page, ...more } = paginate(input, scope, entries)
      return { imageIds: page, ...more }
    },

    DescribeImages(input) {
      const repository = repositoryFor(input)
      if (input.imageIds === undefined) {
        const { tagStatus, imageStatus, images } = listed(repository, input.filter)
        /** @type {{ key: Key, value: StoredImage }[]} */
        const entries = images.map((image) => ({ key: [image.seq, ''], value: image }))
        const scope = { op: 'DescribeImages', repo: repository.name, tagStatus, imageStatus }
        const { page, ...more } = paginate(input, scope, entries)
        return { imageDetails: page.map((image) => imageDetail(repository, image)), ...more }
      }
      if (input.maxResults !== undefined || input.nextToken !== undefined) {
        throw invalidParameter(
          'Invalid parameter: maxResults and nextToken cannot be used when you specify images with imageIds'
        )
      }
      const { statusPasses } = readFilter(input.filter)
      /** @type {Map<string, StoredImage>} */
      const found = new Map()
      for (const id of checkImageIds(input.imageIds)) {
        const image = requireImage(repository, id)
        if (!statusPasses(image)) throw imageNotFound(repository, id)
        found.set(image.digest, image)
      }
      return { imageDetails: [...found.values()].map((image) => imageDetail(repository, image)) }
    },

    BatchDeleteImage(input) {
      const repository = repositoryFor(input)
      const ids = checkImageIds(input.imageIds)
      /** @type {ImageId[]} */
      const deleted = []
      const failures = eachImage(repository, ids, (image, { imageTag }) => {
        // By tag, the image goes only with its last tag; by digest, with all of them.
        const goes = imageTag === undefined || image.tags.size === 1
        const indexes = [...repository.images.values()].filter((i) =>
          i.references.includes(image.digest)
        )
        if (goes && indexes.length > 0) {
          const reason = `Requested image referenced by manifest list: [${indexes.map((i) => i.digest).join(', ')}]`
          return failed('ImageReferencedByManifestList', reason)
        }
        /** @type {string[]} */
        const tags = imageTag === undefined ? [...image.tags].sort(compareStrings) : [imageTag]
        for (const tag of tags) {
          image.tags.delete(tag)
          repository.tags.delete(tag)
          deleted.push({ imageDigest: image.digest, imageTag: tag })
        }
        if (tags.length === 0) deleted.push({ imageDigest: image.digest })
        if (goes) repository.images.delete(image.digest)
        return undefined
      })
      return { imageIds: deleted, failures }
    },

    ListImageReferrers(input) {
      const repository = repositoryFor(input)
      const { subjectId, filter = {}, maxResults = REFERRER_PAGE } = input
      const subject = isObject(subjectId) ? subjectId.imageDigest : undefined
      if (typeof subject !== 'string')
        throw violated('subjectId.imageDigest', 'Member must not be null')
      if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 50) {
        const rule =
          'Member must have value less than or equal to 50 and greater than or equal to 1'
        throw violated('maxResults', rule)
      }
      if (!isObject(filter)) throw violated('filter', 'Member must be a structure')
      const status = checkEnum(
        'filter.artifactStatus',
        filter.artifactStatus ?? 'ACTIVE',
        IMAGE_STATUS_FILTERS
      )
      const types = filter.artifactTypes ?? []
      if (!Array.isArray(types) || types.length > 5) {
        throw violated('filter.artifactTypes', 'Member must have length less than or equal to 5')
      }
      /** @type {{ key: Key, value: StoredImage }[]} */
      const entries = [...repository.images.values()]
        .filter((image) => image.subject === subject)
        .filter((image) => status === 'ANY' || statusOf(image) === status)
        .filter((image) => types.length === 0 || types.includes(image.artifactType))
        .sort((a, b) => a.seq - b.seq)
        .map((image) => ({ key: [image.seq, ''], value: image }))
      const scope = {
        ...{ op: 'ListImageReferrers', repo: repository.name },
        ...{ subject, status, types: types.join() }
      }
      const { page, ...more } = paginate({ ...input, maxResults }, scope, entries)
      const referrers = page.map((image) => ({
        digest: image.digest,
        mediaType: image.mediaType,
        ...(image.artifactType !== undefined && { artifactType: image.artifactType }),
        size: Buffer.byteLength(image.manifest, 'utf8'),
        ...(image.annotations !== undefined && { annotations: image.annotations }),
        artifactStatus: statusOf(image)
      }))
      return { referrers, ...more }
    },

    UpdateImageStorageClass(input) {
      const repository = repositoryFor(input)
      const target = checkEnum('targetStorageClass', input.targetStorageClass, STORAGE_CLASSES)
      const { image, answer } = namedImage(repository, input)
      const status = statusOf(image)
      if (target === 'ARCHIVE' && status === 'ACTIVATING') {
        throw new EcrError(
          'ImageStorageClassUpdateNotSupportedException',
          `The image '${image.digest}' is being restored to STANDARD and cannot be archived until it is ACTIVE`
        )
      }
      if (target === 'ARCHIVE' && status === 'ACTIVE') archiveImage(image)
      if (target === 'STANDARD' && status === 'ARCHIVED')
        activate(image, image.restoreMs ?? 0, clock)
      return { ...answer, imageStatus: statusOf(image) }
    }
  }
  return operations
}
