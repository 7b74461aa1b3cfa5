/**
 * ecr-standin.mjs: an in-memory Amazon ECR stand-in that speaks ECR's real wire protocol.
 *
 * Plain ESM JavaScript, Node built-ins only. The real `@aws-sdk/client-ecr` client (or the bundled
 * action via AWS_ENDPOINT_URL_ECR) talks to it exactly as it would talk to ECR:
 *
 *   POST /   X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>
 *            Content-Type: application/x-amz-json-1.1, JSON body; request signatures are ignored.
 *   Success: HTTP 200, JSON body. Errors: HTTP 400, body {"__type":"<ExceptionName>","message":"..."},
 *   which the SDK maps to its modeled exception classes (RepositoryNotFoundException, ...).
 *   Only injected faults (see "Fault injection and latency" below) and the stand-in's own bugs
 *   answer HTTP 500, always as {"__type":"ServerException",...}.
 *   Timestamps are epoch seconds (the AWS JSON 1.1 default), which the SDK turns into Date objects.
 *
 * Only manifests are modelled: there are no blobs/layers, so PutImage never raises
 * LayersNotFoundException and nothing can be pulled. That is all ecr-promote needs, because it
 * re-points tags with BatchGetImage + PutImage and never touches layers.
 *
 * Rules implemented, next to the ECR API Reference behaviour each follows
 * ------------------------------------------------------------------------
 * Protocol / common
 * - Unknown or missing X-Amz-Target operation (or a request that is not `POST /`) -> HTTP 400
 *   UnknownOperationException (AWS JSON protocol behaviour). Unparseable JSON body -> HTTP 400
 *   SerializationException.
 * - `registryId`, when present in a request, must equal the stand-in's account id, otherwise
 *   RepositoryNotFoundException (API Reference: common `registryId` parameter, "If you do not
 *   specify a registry, the default registry is assumed"; only one registry exists here).
 * - Every repository-scoped operation on a repository that does not exist fails with
 *   RepositoryNotFoundException, message "The repository with name 'x' does not exist in the
 *   registry with id '123456789012'" (API Reference: Errors, RepositoryNotFoundException).
 * - repositoryName must match `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*` and
 *   be 2-256 characters, else InvalidParameterException (API Reference: CreateRepository,
 *   repositoryName Pattern and Length Constraints; applied to every operation).
 * - control.deny(op, repo?) makes later matching calls fail with AccessDeniedException naming
 *   `ecr:<Operation>` and the repository ARN, the way IAM denials surface (AWS JSON protocol
 *   common error AccessDeniedException, HTTP 400; not modeled by the ECR client, so it arrives as
 *   ECRServiceException with name 'AccessDeniedException').
 *
 * CreateRepository (API Reference: CreateRepository)
 * - imageTagMutability defaults to MUTABLE; valid values MUTABLE | IMMUTABLE |
 *   IMMUTABLE_WITH_EXCLUSION | MUTABLE_WITH_EXCLUSION.
 * - imageTagMutabilityExclusionFilters (1-5 items, filterType WILDCARD, filter matching
 *   `^[0-9a-zA-Z._*-]{1,128}$`; API Reference: ImageTagMutabilityExclusionFilter) are required with
 *   the *_WITH_EXCLUSION settings and rejected (InvalidParameterException) with the others.
 * - An existing name -> RepositoryAlreadyExistsException.
 *
 * DescribeRepositories (API Reference: DescribeRepositories, Repository)
 * - Returns repositoryArn, registryId, repositoryName, repositoryUri
 *   (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`), createdAt (epoch seconds),
 *   imageTagMutability, imageTagMutabilityExclusionFilters (only when set),
 *   imageScanningConfiguration and encryptionConfiguration (ECR's defaults).
 * - With repositoryNames, any unknown name fails the whole call with RepositoryNotFoundException.
 *   Without, every repository is listed (by name), paginated like ListImages.
 *
 * PutImage (API Reference: PutImage)
 * - The digest is `sha256:` + hex SHA-256 of the exact UTF-8 bytes of imageManifest as received;
 *   the manifest string is stored untouched and never re-serialised, so BatchGetImage returns it
 *   byte for byte (registry content addressing).
 * - imageDigest, when given, must equal that digest, else ImageDigestDoesNotMatchException
 *   (API Reference: PutImage, ImageDigestDoesNotMatchException).
 * - imageManifest must be a JSON object, else InvalidParameterException.
 * - Media type = imageManifestMediaType, else the manifest's `mediaType` field, else
 *   InvalidParameterException "image manifest mediatype not provided in manifest or parameter"
 *   (API Reference: PutImage, imageManifestMediaType: "If you push an image manifest that does
 *   not contain the mediaType field, you must specify the imageManifestMediaType in the request").
 *   Both given and different -> InvalidParameterException. Only the manifest media types ECR
 *   stores are accepted (Docker v2 schema 1/2, Docker manifest list, OCI manifest, OCI index).
 * - OCI index / Docker manifest list: every manifests[].digest must already be in the
 *   repository, else ReferencedImagesNotFoundException (API Reference: PutImage,
 *   ReferencedImagesNotFoundException "The manifest list is referencing an image that does not
 *   exist"). This is why index children are pushed (untagged) first.
 * - imageTag must match `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`, else InvalidParameterException.
 * - Tag already on this same digest -> ImageAlreadyExistsException ("The specified image has
 *   already been pushed, and there were no changes to the manifest or image tag").
 * - Tag on another digest and the tag is immutable -> ImageTagAlreadyExistsException
 *   (API Reference: PutImage, ImageTagAlreadyExistsException "The repository is configured for
 *   tag immutability").
 * - Otherwise the tag moves: it is removed from the old image and the old image is KEPT even if
 *   it is now untagged (ECR keeps untagged images; lifecycle policies expire them; they show up
 *   in ListImages with tagStatus UNTAGGED).
 * - Mutability (API Reference: PutImageTagMutability / ImageTagMutabilityExclusionFilter):
 *   MUTABLE -> all tags mutable; IMMUTABLE -> all immutable; IMMUTABLE_WITH_EXCLUSION -> immutable
 *   except tags matching a filter; MUTABLE_WITH_EXCLUSION -> mutable except tags matching a
 *   filter. WILDCARD filters: `*` matches any run of characters (including none), every other
 *   character is literal, and the filter must match the whole tag.
 * - No imageTag: an existing digest -> ImageAlreadyExistsException; a new manifest is stored
 *   untagged (how the children of an index are pushed).
 * - Response: { image: { registryId, repositoryName, imageId: { imageDigest, imageTag },
 *   imageManifest, imageManifestMediaType } }. imagePushedAt (epoch seconds) is recorded when a
 *   digest is first stored; re-tagging an existing digest does not change it.
 * - control.failPutImage(tag, { exception, message }) makes the next PutImage for that tag fail
 *   once with that exception (HTTP 400) without changing any state.
 *
 * BatchGetImage (API Reference: BatchGetImage, ImageFailure)
 * - imageIds: 1-100 entries, else InvalidParameterException.
 * - Each found id yields { registryId, repositoryName, imageId: { imageDigest, imageTag (the
 *   requested tag echoed, absent when requested by digest only) }, imageManifest (the exact
 *   stored string), imageManifestMediaType }.
 * - Not found -> failures[] entry { imageId (as requested), failureCode 'ImageNotFound',
 *   failureReason 'Requested image not found' }; tag and digest both given but the tag points
 *   elsewhere -> 'ImageTagDoesNotMatchDigest'; neither given -> 'MissingDigestAndTag';
 *   malformed digest/tag -> 'InvalidImageDigest' / 'InvalidImageTag'.
 * - acceptedMediaTypes (1-100 entries): if the stored media type is not in it -> failures[] entry
 *   with failureCode 'UnsupportedImageType'. When acceptedMediaTypes is omitted the stand-in
 *   accepts only the Docker v2 schema 2 manifest and the OCI image manifest: the API Reference
 *   lists only single-image manifest types as valid values and does not say an index is returned
 *   by default, so this is the conservative reading. A caller that forgets to accept the OCI
 *   index / Docker manifest list types therefore gets a failure for multi-arch images (real ECR
 *   may instead hand back a single-platform manifest, which is just as wrong for a re-tagger).
 *
 * ListImages (API Reference: ListImages, ListImagesFilter)
 * - filter.tagStatus TAGGED | UNTAGGED | ANY (default ANY).
 * - One entry per tag { imageDigest, imageTag }; untagged images appear once as { imageDigest }.
 * - Stable order: by push sequence of the image (the order digests were first stored, which is
 *   push-time order), then by tag. control.setPushedAt changes the reported imagePushedAt only,
 *   never this order (nextTokens carry positions in it).
 * - maxResults 1-1000 (default: the stand-in's pageSize, 100), real pagination with an opaque,
 *   tamper-checked nextToken; nextToken is omitted on the last page; a token that was not issued
 *   for this operation/repository/filter -> InvalidParameterException.
 *
 * DescribeImages (API Reference: DescribeImages, ImageDetail)
 * - imageDetails { registryId, repositoryName, imageDigest, imageTags (sorted, omitted when
 *   empty), imagePushedAt, imageManifestMediaType, artifactMediaType (config.mediaType, when the
 *   manifest has one), imageSizeInBytes }. imageSizeInBytes is the sum of layers[].size; for an
 *   index it is the largest size among its children (API Reference: ImageDetail,
 *   imageSizeInBytes "If the image is a manifest list, this will be the max size of all
 *   manifests in the list").
 * - With imageIds (1-100): one detail per distinct image; an unknown id fails the whole call with
 *   ImageNotFoundException; maxResults/nextToken may not be combined with imageIds
 *   (InvalidParameterException; "This option cannot be used when you specify images with
 *   imageIds").
 * - Without imageIds: filter.tagStatus as in ListImages; one entry per image ordered by push
 *   time; paginated like ListImages.
 *
 * BatchDeleteImage (API Reference: BatchDeleteImage)
 * - imageIds 1-100. By tag: only that tag is removed; the image is deleted only when that was its
 *   last tag ("When you remove the last tag from an image, the image is deleted from your
 *   repository"). By digest: the image and all its tags are deleted.
 * - An image referenced by an index/manifest list in the repository cannot be deleted (by digest,
 *   or by removing its last tag): failures[] entry 'ImageReferencedByManifestList'.
 * - Missing -> 'ImageNotFound'; tag + digest that don't match -> 'ImageTagDoesNotMatchDigest'.
 * - Returns { imageIds: [deleted ids], failures }. A deletion by digest reports one
 *   { imageDigest, imageTag } per removed tag (or { imageDigest } for an untagged image).
 *
 * PutImageTagMutability (API Reference: PutImageTagMutability)
 * - Same validation as CreateRepository (imageTagMutability required); returns registryId,
 *   repositoryName, imageTagMutability, imageTagMutabilityExclusionFilters (when set).
 *
 * Fault injection and latency (control; none of this is active until a test asks for it)
 * ------------------------------------------------------------------------------------------
 * Real ECR calls can be slow, can fail with HTTP 500 ServerException (API Reference: Errors,
 * ServerException "These errors are usually caused by a server-side issue"), and can lose their
 * answer after the change was made: the connection drops or the client's timeout fires. The SDK
 * retries 5xx answers, connection resets and timeouts (standard retry mode), so a retried write
 * can find its own earlier attempt already applied; e.g. the retry of a PutImage whose answer was
 * lost gets ImageAlreadyExistsException, exactly as from real ECR. These controls let tests
 * provoke all of that on purpose:
 * - Where: every request is read in full and recorded in control.calls when it arrives, as
 *   always. Then, for a request naming a known operation with a JSON object body (unknown
 *   operations and SerializationException answers are never faulted), the fault is decided right
 *   away, in arrival order: first a pending control.hang() for that operation, else one draw from
 *   the control.faults() PRNG. Then the latency delay runs (for every request, unknown operations
 *   included); then the request is applied (quota(), registry id, deny(), failPutImage() and the
 *   operation, all as above) and answered, unless its fault says otherwise. With nothing
 *   configured the flow is exactly the one described above.
 * - control.calls: { operation, input, at } per request, in arrival order; `at` is the arrival
 *   time in ms from the stand-in's clock (the `clock` option, default Date.now), taken before any
 *   latency delay, so calls that overlap on the wire have close `at` values.
 * - control.latency(spec, seed = 1): delay every later request before it is applied; the state
 *   changes at the end of the delay and the answer goes out right after. `spec` is ms for every
 *   operation, or { [operation]: ms | [minMs, maxMs], default?: ms | [minMs, maxMs] } (operations
 *   not named use `default`, else no delay). A range draws uniformly from a mulberry32 PRNG seeded
 *   with `seed`, one draw per delayed request in arrival order. latency(0) turns it off. Delays are
 *   timers: concurrent requests each wait their own delay, none blocks another. A request whose
 *   client gave up during the delay is still applied at its end (the server has accepted the
 *   call; only the answer is lost), so latency above the client's timeout is another lost answer.
 * - control.hang(operation, { count = 1, apply = false }): the next `count` requests of that
 *   operation are never answered: the connection stays open and silent until the client gives up
 *   (SDK requestTimeout with throwOnRequestTimeout, or socketTimeout) or close() is called. With
 *   apply: true the request is applied first, then left hanging. Each is recorded in `injected`
 *   with kind 'hang'. Pending hangs take precedence over faults() and draw nothing from its PRNG.
 * - control.faults({ seed = 1, rate, operations?, kinds? }) / control.faults(null) to turn off:
 *   each later request of `operations` (default: every operation) suffers one fault with
 *   probability `rate` (0..1), of a kind drawn uniformly from `kinds` (default all four):
 *     'reset-before'  connection reset (TCP RST) before the request is applied: no state change;
 *     'error-after'   applied, then HTTP 500 {"__type":"ServerException",
 *                     "message":"injected: applied, answer lost"};
 *     'reset-after'   applied, then the connection reset with no answer;
 *     'hang'          not applied and never answered (as control.hang without apply).
 *   Decisions come from a mulberry32 PRNG seeded with `seed` (one draw per eligible request, a
 *   second one to pick the kind when it is faulted), so the same seed gives the same decisions for
 *   the same sequence of requests. Calling faults() again restarts the sequence from its seed.
 *   A faulted request the operation rejects (any ECR error above, e.g. ImageAlreadyExistsException
 *   or deny()) still follows its kind: 'error-after' / 'reset-after' / hang-with-apply change
 *   nothing and just lose the answer ('error-after' then says "injected: rejected, answer lost").
 * - control.injected: { operation, kind } for every fault decided so far (faults() and hang()),
 *   in arrival order.
 * - control.quota({ [operation]: { rate, burst } } | null): API rate quotas, one token bucket per
 *   named operation, shared by every repository (ECR's quotas are per account and Region, per API
 *   action; its documented default for PutImage is 10 requests per second). A bucket holds at most
 *   `burst` tokens, starts full and refills continuously at `rate` tokens per second, measured on
 *   the stand-in's clock. Each request of that operation takes one token when it is about to be
 *   applied, i.e. after its latency delay, so slow requests are counted when they land, as on a
 *   real endpoint; requests then rejected (deny(), any ECR error) have spent their token all the
 *   same. A request that finds its bucket empty is not applied and is answered HTTP 400
 *   {"__type":"ThrottlingException","message":"Rate exceeded"}, which the SDK classifies as a
 *   throttling error and retries with backoff (it arrives as ECRServiceException named
 *   ThrottlingException once the attempts run out). Requests faulted before they are applied
 *   ('reset-before', 'hang' without apply) never reach the bucket; a faulted request that is
 *   throttled follows its fault kind like any other rejected request. Operations not named are
 *   unlimited. Calling quota() again replaces every bucket with full new ones; null (or {}) turns
 *   quotas off.
 * - control.throttled: { operation, at } for every request answered ThrottlingException, in the
 *   order they were throttled; `at` is the stand-in's clock (ms) at that moment.
 * - control.seedTags(repositoryName, digest, tags) (test set-up only, not an ECR operation): point
 *   each tag at an image already in the repository, moving it from any other image as PutImage
 *   would, straight into the state: no request, so nothing in `calls`, no latency, quota, fault,
 *   mutability check or waitFor() count. For filling a repository with thousands of tags fast.
 *   Throws a plain Error for an unknown repository or digest, or a tag outside the tag grammar.
 * - control.setPushedAt(repositoryName, digest, date): set an image's imagePushedAt (a Date or
 *   epoch ms), which DescribeImages then reports, to make an image old. Throws a plain Error for
 *   an unknown repository or digest.
 * - control.waitFor(operation, count = 1): a Promise that resolves once `count` requests of that
 *   operation have been applied since the start or the last reset() (an absolute count; resolved
 *   at once if already reached). Applied means the operation succeeded against the state,
 *   whether or not its answer was then lost to a fault; a request the operation rejected, or one
 *   faulted before it was applied, does not count. The promise is resolved at the state change,
 *   before the answer is sent (callbacks run a moment later). reset() and close() reject the ones
 *   still pending.
 * - control.reset() also turns latency, faults and quotas off and clears pending hangs, `injected`,
 *   `throttled`, the applied counts and the waitFor() promises (rejected). Requests already delayed
 *   or hanging are not cut short by reset(); close() ends them all at once (delays are cancelled
 *   unapplied, hanging connections are destroyed), so it returns promptly.
 *
 * Usage
 * -----
 *   const standIn = await startStandIn()
 *   const ecr = new ECRClient({ endpoint: standIn.url, region: 'us-east-1',
 *     credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
 *   ...; standIn.control.snapshot('app'); await standIn.close()
 *
 * Options: host, port (0: a free one), accountId, region, pageSize (ListImages and DescribeImages
 * default page), clock (a function returning the current time in ms, default Date.now: the quota
 * buckets refill on it and the `at` of calls and throttled come from it, so a test can step time by
 * hand; image push times and latency timers stay on the real clock).
 *
 * CLI: `node __tests__/support/ecr-standin.mjs [--port N] [--host H]` prints the URL on one line
 * and stays up until SIGINT/SIGTERM.
 */

import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { realpathSync } from 'node:fs'
import { createServer } from 'node:http'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'

const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.'
const CONTENT_TYPE = 'application/x-amz-json-1.1'

const REPOSITORY_NAME_PATTERN = '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*'
const REPOSITORY_NAME_RE = new RegExp(`^${REPOSITORY_NAME_PATTERN}$`)
const TAG_PATTERN = '[A-Za-z0-9_][A-Za-z0-9._-]{0,127}'
const TAG_RE = new RegExp(`^${TAG_PATTERN}$`)
const DIGEST_RE = /^[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+$/
const FILTER_RE = /^[0-9a-zA-Z._*-]{1,128}$/
const MAX_MANIFEST_LENGTH = 4194304

const MEDIA_TYPES = Object.freeze({
  DOCKER_SCHEMA1: 'application/vnd.docker.distribution.manifest.v1+json',
  DOCKER_SCHEMA1_SIGNED: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  DOCKER_MANIFEST: 'application/vnd.docker.distribution.manifest.v2+json',
  DOCKER_MANIFEST_LIST: 'application/vnd.docker.distribution.manifest.list.v2+json',
  OCI_MANIFEST: 'application/vnd.oci.image.manifest.v1+json',
  OCI_INDEX: 'application/vnd.oci.image.index.v1+json'
})

const SUPPORTED_MEDIA_TYPES = new Set(Object.values(MEDIA_TYPES))
const INDEX_MEDIA_TYPES = new Set([MEDIA_TYPES.OCI_INDEX, MEDIA_TYPES.DOCKER_MANIFEST_LIST])
/** Conservative reading of BatchGetImage's behaviour when acceptedMediaTypes is omitted. */
const DEFAULT_ACCEPTED_MEDIA_TYPES = [MEDIA_TYPES.DOCKER_MANIFEST, MEDIA_TYPES.OCI_MANIFEST]

const MUTABILITY_SETTINGS = [
  'MUTABLE',
  'IMMUTABLE',
  'IMMUTABLE_WITH_EXCLUSION',
  'MUTABLE_WITH_EXCLUSION'
]
const TAG_STATUSES = ['TAGGED', 'UNTAGGED', 'ANY']

/** @type {readonly FaultKind[]} */
const FAULT_KINDS = Object.freeze(['reset-before', 'error-after', 'reset-after', 'hang'])
const DEFAULT_SEED = 1
/** setTimeout's largest delay; anything longer would fire at once. */
const MAX_DELAY_MS = 2147483647

/**
 * @typedef {{ filterType: string, filter: string }} ExclusionFilter
 * @typedef {{ imageDigest?: string, imageTag?: string }} ImageId
 * @typedef {{
 *   digest: string,
 *   manifest: string,
 *   mediaType: string,
 *   artifactMediaType: string | undefined,
 *   references: string[],
 *   layerBytes: number,
 *   pushedAt: number,
 *   seq: number,
 *   tags: Set<string>
 * }} StoredImage
 * @typedef {{
 *   name: string,
 *   createdAt: number,
 *   imageTagMutability: string,
 *   exclusionFilters: ExclusionFilter[] | undefined,
 *   images: Map<string, StoredImage>,
 *   tags: Map<string, string>
 * }} StoredRepository
 * @typedef {{ operation: string, input: any, at: number }} RecordedCall
 * @typedef {{ rate: number, burst: number }} QuotaSpec tokens per second, and the bucket's size
 * @typedef {{ operation: string, at: number }} ThrottledCall
 * @typedef {{ digest: string, mediaType: string, manifest: string, tags: string[] }} SnapshotImage
 * @typedef {{ images: SnapshotImage[] }} RepositorySnapshot
 * @typedef {{ exception?: string, message?: string }} FailureOptions
 * @typedef {'reset-before' | 'error-after' | 'reset-after' | 'hang'} FaultKind
 * @typedef {{ operation: string, kind: FaultKind }} InjectedFault
 * @typedef {number | [number, number]} LatencyValue ms, or a [minMs, maxMs] range drawn uniformly
 * @typedef {number | ({ default?: LatencyValue } & { [operation: string]: LatencyValue | undefined })} LatencySpec
 * @typedef {{ count?: number, apply?: boolean }} HangOptions
 * @typedef {{ seed?: number, rate: number, operations?: string[], kinds?: FaultKind[] }} FaultOptions
 * @typedef {{ kind: FaultKind, apply: boolean }} Fault a decided fault; apply: run the operation first
 * @typedef {{
 *   calls: RecordedCall[],
 *   injected: InjectedFault[],
 *   deny(operation: string, repositoryName?: string): void,
 *   failPutImage(tag: string, options?: FailureOptions): void,
 *   latency(spec: LatencySpec, seed?: number): void,
 *   hang(operation: string, options?: HangOptions): void,
 *   faults(options: FaultOptions | null): void,
 *   setPushedAt(repositoryName: string, digest: string, date: Date | number): void,
 *   waitFor(operation: string, count?: number): Promise<void>,
 *   snapshot(repositoryName: string): RepositorySnapshot,
 *   quota(spec: { [operation: string]: QuotaSpec | undefined } | null): void,
 *   throttled: ThrottledCall[],
 *   seedTags(repositoryName: string, digest: string, tags: readonly string[]): void,
 *   reset(): void
 * }} StandInControl
 * @typedef {{
 *   url: string,
 *   registryId: string,
 *   control: StandInControl,
 *   close(): Promise<void>
 * }} StandIn
 * @typedef {{
 *   host?: string,
 *   port?: number,
 *   accountId?: string,
 *   region?: string,
 *   pageSize?: number,
 *   clock?: () => number
 * }} StandInOptions
 */

/** An ECR error that becomes an HTTP 400 `{"__type": type, "message": message}` response. */
class EcrError extends Error {
  /**
   * @param {string} type
   * @param {string} message
   */
  constructor(type, message) {
    super(message)
    this.type = type
  }
}

/** @param {string} message */
const invalidParameter = (message) => new EcrError('InvalidParameterException', message)

/** @param {unknown} value @returns {value is Record<string, any>} */
const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value)

/** @param {string} text */
const sha256Hex = (text) => createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex')

const nowSeconds = () => Date.now() / 1000

/** @param {string} a @param {string} b */
const compareStrings = (a, b) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * mulberry32: a small seeded PRNG with uniform output in [0, 1). The same seed always yields the
 * same sequence, which is what makes injected faults and latency ranges reproducible.
 * @param {number} seed an integer
 * @returns {() => number}
 */
export function mulberry32(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** @param {unknown} seed @param {string} what */
function checkSeed(seed, what) {
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new TypeError(`${what}: seed must be an integer, got ${String(seed)}`)
  }
  return seed
}

/**
 * WILDCARD filter: `*` matches any run of characters, everything else is literal, whole-tag match.
 * @param {string} filter
 * @param {string} tag
 */
function wildcardMatches(filter, tag) {
  const source = filter
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${source}$`, 's').test(tag)
}

/**
 * Start a stand-in listening on host:port (port 0 picks a free port).
 * @param {StandInOptions} [options]
 * @returns {Promise<StandIn>}
 */
export async function startStandIn({
  host = '127.0.0.1',
  port = 0,
  accountId = '123456789012',
  region = 'us-east-1',
  pageSize = 100,
  clock = Date.now
} = {}) {
  if (typeof clock !== 'function') throw new TypeError('clock must be a function returning ms')
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new RangeError(`pageSize must be an integer between 1 and 1000, got ${pageSize}`)
  }

  /** @type {Map<string, StoredRepository>} */
  const repositories = new Map()
  /** @type {RecordedCall[]} */
  const calls = []
  /** @type {{ operation: string, repositoryName: string | undefined }[]} */
  const denials = []
  /** @type {{ tag: string, exception: string, message: string }[]} */
  const injectedFailures = []
  const tokenKey = randomBytes(32)
  let pushSequence = 0

  // fault injection and latency (see the header: "Fault injection and latency")
  /** @type {InjectedFault[]} */
  const injected = []
  /** @type {{ byOperation: Map<string, LatencyValue>, fallback: LatencyValue | undefined, random: () => number } | undefined} */
  let latencyConfig
  /** @type {{ rate: number, operations: Set<string> | undefined, kinds: FaultKind[], random: () => number } | undefined} */
  let faultConfig
  /** @type {{ operation: string, remaining: number, apply: boolean }[]} */
  const pendingHangs = []
  /** Requests applied per operation since start or the last reset(). @type {Map<string, number>} */
  const applied = new Map()
  /** @type {{ operation: string, count: number, resolve: () => void, reject: (error: Error) => void }[]} */
  const waiters = []
  /** Latency timers in progress; close() cuts them short. @type {Set<{ timer: ReturnType<typeof setTimeout> | undefined, done: (ran: boolean) => void }>} */
  const sleepers = new Set()
  let closed = false
  /** quota() token buckets by operation. @type {Map<string, { rate: number, burst: number, tokens: number, last: number }>} */
  const buckets = new Map()
  /** @type {ThrottledCall[]} */
  const throttled = []

  // ---------------------------------------------------------------------------------------------
  // helpers bound to this instance
  // ---------------------------------------------------------------------------------------------

  /** @param {string} name */
  const repositoryArn = (name) => `arn:aws:ecr:${region}:${accountId}:repository/${name}`

  /** @param {string} name @param {string} [registry] */
  const repositoryNotFound = (name, registry = accountId) =>
    new EcrError(
      'RepositoryNotFoundException',
      `The repository with name '${name}' does not exist in the registry with id '${registry}'`
    )

  /** @param {unknown} name @returns {string} */
  function checkRepositoryName(name) {
    if (typeof name !== 'string') {
      throw invalidParameter(
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must not be null'"
      )
    }
    if (name.length < 2 || name.length > 256) {
      throw invalidParameter(
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must have length between 2 and 256'"
      )
    }
    if (!REPOSITORY_NAME_RE.test(name)) {
      throw invalidParameter(
        `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${REPOSITORY_NAME_PATTERN}''`
      )
    }
    return name
  }

  /** @param {Record<string, any>} input */
  function checkRegistryId(input) {
    if (input.registryId !== undefined && input.registryId !== accountId) {
      const name =
        typeof input.repositoryName === 'string'
          ? input.repositoryName
          : Array.isArray(input.repositoryNames) && typeof input.repositoryNames[0] === 'string'
            ? input.repositoryNames[0]
            : '*'
      throw repositoryNotFound(name, String(input.registryId))
    }
  }

  /** @param {Record<string, any>} input @returns {StoredRepository} */
  function repositoryFor(input) {
    const name = checkRepositoryName(input.repositoryName)
    const repository = repositories.get(name)
    if (!repository) throw repositoryNotFound(name)
    return repository
  }

  /**
   * @param {StoredRepository} repository
   * @param {string} tag
   */
  function isTagImmutable(repository, tag) {
    const excluded = (repository.exclusionFilters ?? []).some((f) => wildcardMatches(f.filter, tag))
    switch (repository.imageTagMutability) {
      case 'IMMUTABLE':
        return true
      case 'IMMUTABLE_WITH_EXCLUSION':
        return !excluded
      case 'MUTABLE_WITH_EXCLUSION':
        return excluded
      default:
        return false
    }
  }

  /**
   * @param {Record<string, any>} input
   * @param {boolean} required
   * @returns {{ imageTagMutability: string, exclusionFilters: ExclusionFilter[] | undefined }}
   */
  function readMutability(input, required) {
    const setting = input.imageTagMutability ?? (required ? undefined : 'MUTABLE')
    if (!MUTABILITY_SETTINGS.includes(setting)) {
      throw invalidParameter(
        `Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [${MUTABILITY_SETTINGS.join(', ')}]'`
      )
    }
    const filters = input.imageTagMutabilityExclusionFilters
    const withExclusion = setting.endsWith('_WITH_EXCLUSION')
    if (!withExclusion) {
      if (filters !== undefined && !(Array.isArray(filters) && filters.length === 0)) {
        throw invalidParameter(
          `Invalid parameter: imageTagMutabilityExclusionFilters can only be used with IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION, not ${setting}`
        )
      }
      return { imageTagMutability: setting, exclusionFilters: undefined }
    }
    if (!Array.isArray(filters) || filters.length < 1 || filters.length > 5) {
      throw invalidParameter(
        `Invalid parameter: ${setting} requires between 1 and 5 imageTagMutabilityExclusionFilters`
      )
    }
    const exclusionFilters = filters.map((f) => {
      if (!isObject(f) || f.filterType !== 'WILDCARD') {
        throw invalidParameter(
          "Invalid parameter at 'imageTagMutabilityExclusionFilters.filterType' failed to satisfy constraint: 'Member must satisfy enum value set: [WILDCARD]'"
        )
      }
      if (typeof f.filter !== 'string' || !FILTER_RE.test(f.filter)) {
        throw invalidParameter(
          `Invalid parameter at 'imageTagMutabilityExclusionFilters.filter' failed to satisfy constraint: 'must satisfy regular expression '${FILTER_RE.source}''`
        )
      }
      return { filterType: 'WILDCARD', filter: f.filter }
    })
    return { imageTagMutability: setting, exclusionFilters }
  }

  /** @param {StoredRepository} repository */
  function describeRepository(repository) {
    return {
      repositoryArn: repositoryArn(repository.name),
      registryId: accountId,
      repositoryName: repository.name,
      repositoryUri: `${accountId}.dkr.ecr.${region}.amazonaws.com/${repository.name}`,
      createdAt: repository.createdAt,
      imageTagMutability: repository.imageTagMutability,
      ...(repository.exclusionFilters
        ? { imageTagMutabilityExclusionFilters: repository.exclusionFilters.map((f) => ({ ...f })) }
        : {}),
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: { encryptionType: 'AES256' }
    }
  }

  /**
   * @param {unknown} imageIds
   * @returns {Record<string, any>[]}
   */
  function checkImageIds(imageIds) {
    if (!Array.isArray(imageIds) || imageIds.length < 1 || imageIds.length > 100) {
      throw invalidParameter(
        "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length less than or equal to 100 and greater than or equal to 1'"
      )
    }
    return imageIds.map((id) => (isObject(id) ? id : {}))
  }

  /** @param {Record<string, any>} id @returns {ImageId} */
  const requestedId = (id) => ({
    ...(id.imageDigest !== undefined ? { imageDigest: id.imageDigest } : {}),
    ...(id.imageTag !== undefined ? { imageTag: id.imageTag } : {})
  })

  /**
   * Resolve an ImageIdentifier to a stored image, or to an ImageFailure code and reason.
   * @param {StoredRepository} repository
   * @param {Record<string, any>} id
   * @returns {{ image: StoredImage } | { failureCode: string, failureReason: string }}
   */
  function resolveImageId(repository, id) {
    const { imageTag: tag, imageDigest: digest } = id
    if (tag === undefined && digest === undefined) {
      return {
        failureCode: 'MissingDigestAndTag',
        failureReason: 'Invalid request parameters: both tag and digest cannot be null'
      }
    }
    if (digest !== undefined && (typeof digest !== 'string' || !DIGEST_RE.test(digest))) {
      return {
        failureCode: 'InvalidImageDigest',
        failureReason: `Invalid request parameters: image digest should satisfy the regex '${DIGEST_RE.source}'`
      }
    }
    if (tag !== undefined && (typeof tag !== 'string' || tag.length < 1 || tag.length > 300)) {
      return { failureCode: 'InvalidImageTag', failureReason: 'Invalid request parameters: tag' }
    }
    const notFound = { failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }
    if (tag !== undefined) {
      const tagged = repository.tags.get(tag)
      if (tagged === undefined) return notFound
      if (digest !== undefined && digest !== tagged) {
        return {
          failureCode: 'ImageTagDoesNotMatchDigest',
          failureReason: 'Invalid request parameters: given tag does not map to the given digest'
        }
      }
      const image = repository.images.get(tagged)
      return image ? { image } : notFound
    }
    const image = repository.images.get(digest)
    return image ? { image } : notFound
  }

  /**
   * Digests of the indexes in the repository that reference `digest`.
   * @param {StoredRepository} repository
   * @param {string} digest
   */
  const referencingIndexes = (repository, digest) =>
    [...repository.images.values()]
      .filter((image) => image.references.includes(digest))
      .map((image) => image.digest)

  /**
   * @param {StoredRepository} repository
   * @param {StoredImage} image
   * @param {number} [depth]
   * @returns {number}
   */
  function imageSize(repository, image, depth = 0) {
    if (!INDEX_MEDIA_TYPES.has(image.mediaType)) return image.layerBytes
    if (depth > 8) return 0
    let max = 0
    for (const child of image.references) {
      const childImage = repository.images.get(child)
      if (childImage) max = Math.max(max, imageSize(repository, childImage, depth + 1))
    }
    return max
  }

  /** @param {StoredRepository} repository @param {StoredImage} image */
  const imageDetail = (repository, image) => ({
    registryId: accountId,
    repositoryName: repository.name,
    imageDigest: image.digest,
    ...(image.tags.size > 0 ? { imageTags: [...image.tags].sort(compareStrings) } : {}),
    imageSizeInBytes: imageSize(repository, image),
    imagePushedAt: image.pushedAt,
    imageManifestMediaType: image.mediaType,
    ...(image.artifactMediaType ? { artifactMediaType: image.artifactMediaType } : {})
  })

  /** @param {unknown} filter */
  function readTagStatus(filter) {
    if (filter === undefined) return 'ANY'
    const status = isObject(filter) ? (filter.tagStatus ?? 'ANY') : undefined
    if (!TAG_STATUSES.includes(status)) {
      throw invalidParameter(
        "Invalid parameter at 'filter.tagStatus' failed to satisfy constraint: 'Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]'"
      )
    }
    return status
  }

  /** @param {unknown} value */
  function readMaxResults(value) {
    if (value === undefined) return pageSize
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1000) {
      throw invalidParameter(
        "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000 and greater than or equal to 1'"
      )
    }
    return value
  }

  /** @param {Record<string, unknown>} payload */
  function encodeToken(payload) {
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')
    const mac = createHmac('sha256', tokenKey).update(body).digest('base64url')
    return `${body}.${mac}`
  }

  /**
   * @param {unknown} token
   * @param {Record<string, unknown>} expected fields the token must have been issued for
   * @returns {Record<string, any> | undefined}
   */
  function decodeToken(token, expected) {
    if (token === undefined || token === null) return undefined
    const invalid = invalidParameter(
      "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'"
    )
    if (typeof token !== 'string') throw invalid
    const [body, mac, extra] = token.split('.')
    if (!body || !mac || extra !== undefined) throw invalid
    const want = createHmac('sha256', tokenKey).update(body).digest()
    const got = Buffer.from(mac, 'base64url')
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw invalid
    /** @type {Record<string, any>} */
    let payload
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
    } catch {
      throw invalid
    }
    for (const [key, value] of Object.entries(expected)) {
      if (payload[key] !== value) throw invalid
    }
    return payload
  }

  /**
   * Cursor pagination over entries sorted by `key`; the token carries the last key returned.
   * @template T
   * @param {{ key: (string | number)[], value: T }[]} entries sorted ascending by key
   * @param {Record<string, any> | undefined} cursor decoded token
   * @param {number} maxResults
   * @param {Record<string, unknown>} scope fields bound into the token
   * @returns {{ page: T[], nextToken: string | undefined }}
   */
  function paginate(entries, cursor, maxResults, scope) {
    const after = cursor?.after
    const start = Array.isArray(after)
      ? entries.findIndex((entry) => compareKeys(entry.key, after) > 0)
      : 0
    const remaining = start === -1 ? [] : entries.slice(start)
    const page = remaining.slice(0, maxResults)
    const last = page[page.length - 1]
    const nextToken =
      remaining.length > maxResults && last ? encodeToken({ ...scope, after: last.key }) : undefined
    return { page: page.map((entry) => entry.value), nextToken }
  }

  /** @param {StoredRepository} repository */
  const imagesInPushOrder = (repository) =>
    [...repository.images.values()].sort((a, b) => a.seq - b.seq)

  // ---------------------------------------------------------------------------------------------
  // operations
  // ---------------------------------------------------------------------------------------------

  /** @type {Record<string, (input: Record<string, any>) => unknown>} */
  const operations = {
    CreateRepository(input) {
      const name = checkRepositoryName(input.repositoryName)
      const mutability = readMutability(input, false)
      if (repositories.has(name)) {
        throw new EcrError(
          'RepositoryAlreadyExistsException',
          `The repository with name '${name}' already exists in the registry with id '${accountId}'`
        )
      }
      /** @type {StoredRepository} */
      const repository = {
        name,
        createdAt: nowSeconds(),
        imageTagMutability: mutability.imageTagMutability,
        exclusionFilters: mutability.exclusionFilters,
        images: new Map(),
        tags: new Map()
      }
      repositories.set(name, repository)
      return { repository: describeRepository(repository) }
    },

    DescribeRepositories(input) {
      const names = input.repositoryNames
      if (names !== undefined) {
        if (!Array.isArray(names) || names.length < 1 || names.length > 100) {
          throw invalidParameter(
            "Invalid parameter at 'repositoryNames' failed to satisfy constraint: 'Member must have length less than or equal to 100 and greater than or equal to 1'"
          )
        }
        const found = names.map((name) => {
          const repository = repositories.get(checkRepositoryName(name))
          if (!repository) throw repositoryNotFound(name)
          return repository
        })
        return { repositories: found.map(describeRepository) }
      }
      const maxResults = readMaxResults(input.maxResults)
      const scope = { op: 'DescribeRepositories' }
      const cursor = decodeToken(input.nextToken, scope)
      const entries = [...repositories.values()]
        .sort((a, b) => compareStrings(a.name, b.name))
        .map((repository) => ({ key: [repository.name], value: repository }))
      const { page, nextToken } = paginate(entries, cursor, maxResults, scope)
      return { repositories: page.map(describeRepository), ...(nextToken ? { nextToken } : {}) }
    },

    PutImage(input) {
      const repository = repositoryFor(input)
      const tag = input.imageTag

      const injected = injectedFailures.findIndex((failure) => failure.tag === tag)
      if (tag !== undefined && injected !== -1) {
        const [failure] = injectedFailures.splice(injected, 1)
        if (failure) throw new EcrError(failure.exception, failure.message)
      }

      const manifest = input.imageManifest
      if (typeof manifest !== 'string' || manifest.length < 1) {
        throw invalidParameter(
          "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Member must have length greater than or equal to 1'"
        )
      }
      if (manifest.length > MAX_MANIFEST_LENGTH) {
        throw invalidParameter(
          `Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Member must have length less than or equal to ${MAX_MANIFEST_LENGTH}'`
        )
      }
      /** @type {unknown} */
      let parsed
      try {
        parsed = JSON.parse(manifest)
      } catch {
        parsed = undefined
      }
      if (!isObject(parsed)) {
        throw invalidParameter(
          "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Invalid JSON syntax'"
        )
      }

      const declared = typeof parsed.mediaType === 'string' ? parsed.mediaType : undefined
      const parameter = input.imageManifestMediaType
      if (parameter !== undefined && typeof parameter !== 'string') {
        throw invalidParameter("Invalid parameter at 'imageManifestMediaType'")
      }
      if (parameter && declared && parameter !== declared) {
        throw invalidParameter(
          `Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: 'imageManifestMediaType '${parameter}' does not match the mediaType '${declared}' of the image manifest'`
        )
      }
      const mediaType = parameter || declared
      if (!mediaType) {
        throw invalidParameter('image manifest mediatype not provided in manifest or parameter')
      }
      if (!SUPPORTED_MEDIA_TYPES.has(mediaType)) {
        throw invalidParameter(
          `Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: 'unsupported manifest media type ${mediaType}'`
        )
      }

      if (tag !== undefined && (typeof tag !== 'string' || !TAG_RE.test(tag))) {
        throw invalidParameter(
          `Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy regular expression '${TAG_PATTERN}''`
        )
      }

      const digest = `sha256:${sha256Hex(manifest)}`
      if (input.imageDigest !== undefined && input.imageDigest !== digest) {
        throw new EcrError(
          'ImageDigestDoesNotMatchException',
          `Provided digest '${input.imageDigest}' does not match the digest '${digest}' calculated for the image manifest`
        )
      }

      /** @type {string[]} */
      let references = []
      if (INDEX_MEDIA_TYPES.has(mediaType)) {
        const children = Array.isArray(parsed.manifests) ? parsed.manifests : []
        references = children.map((/** @type {any} */ child) =>
          isObject(child) && typeof child.digest === 'string' ? child.digest : ''
        )
        const missing = references.filter((child) => !repository.images.has(child))
        if (missing.length > 0) {
          throw new EcrError(
            'ReferencedImagesNotFoundException',
            `Some of the images referenced by the manifest list do not exist in the repository with name '${repository.name}' in registry with id '${accountId}': [${missing.join(', ')}]`
          )
        }
      }

      const existing = repository.images.get(digest)
      if (tag === undefined) {
        if (existing) {
          throw new EcrError(
            'ImageAlreadyExistsException',
            `Image with digest '${digest}' already exists in the repository with name '${repository.name}' in registry with id '${accountId}'`
          )
        }
      } else {
        const current = repository.tags.get(tag)
        if (current === digest) {
          throw new EcrError(
            'ImageAlreadyExistsException',
            `Image with digest '${digest}' and tag '${tag}' already exists in the repository with name '${repository.name}' in registry with id '${accountId}'`
          )
        }
        if (current !== undefined && isTagImmutable(repository, tag)) {
          throw new EcrError(
            'ImageTagAlreadyExistsException',
            `The image tag '${tag}' already exists in the '${repository.name}' repository and cannot be overwritten because the tag is immutable.`
          )
        }
      }

      // All checks passed: commit.
      let image = existing
      if (!image) {
        const layers = Array.isArray(parsed.layers) ? parsed.layers : []
        image = {
          digest,
          manifest,
          mediaType,
          artifactMediaType:
            isObject(parsed.config) && typeof parsed.config.mediaType === 'string'
              ? parsed.config.mediaType
              : undefined,
          references,
          layerBytes: layers.reduce(
            (/** @type {number} */ sum, /** @type {any} */ layer) =>
              sum + (isObject(layer) && typeof layer.size === 'number' ? layer.size : 0),
            0
          ),
          pushedAt: nowSeconds(),
          seq: ++pushSequence,
          tags: new Set()
        }
        repository.images.set(digest, image)
      }
      if (tag !== undefined) {
        const previous = repository.tags.get(tag)
        if (previous !== undefined) repository.images.get(previous)?.tags.delete(tag)
        repository.tags.set(tag, digest)
        image.tags.add(tag)
      }
      return {
        image: {
          registryId: accountId,
          repositoryName: repository.name,
          imageId: { imageDigest: digest, ...(tag !== undefined ? { imageTag: tag } : {}) },
          imageManifest: image.manifest,
          imageManifestMediaType: image.mediaType
        }
      }
    },

    BatchGetImage(input) {
      const repository = repositoryFor(input)
      const ids = checkImageIds(input.imageIds)
      const acceptedInput = input.acceptedMediaTypes
      if (
        acceptedInput !== undefined &&
        (!Array.isArray(acceptedInput) ||
          acceptedInput.length < 1 ||
          acceptedInput.length > 100 ||
          acceptedInput.some((type) => typeof type !== 'string'))
      ) {
        throw invalidParameter(
          "Invalid parameter at 'acceptedMediaTypes' failed to satisfy constraint: 'Member must have length less than or equal to 100 and greater than or equal to 1'"
        )
      }
      const accepted = new Set(acceptedInput ?? DEFAULT_ACCEPTED_MEDIA_TYPES)
      const images = []
      const failures = []
      for (const id of ids) {
        const resolved = resolveImageId(repository, id)
        if (!('image' in resolved)) {
          failures.push({ imageId: requestedId(id), ...resolved })
          continue
        }
        const { image } = resolved
        if (!accepted.has(image.mediaType)) {
          failures.push({
            imageId: requestedId(id),
            failureCode: 'UnsupportedImageType',
            failureReason: `The image's manifest media type '${image.mediaType}' is not one of the accepted media types [${[...accepted].join(', ')}]`
          })
          continue
        }
        images.push({
          registryId: accountId,
          repositoryName: repository.name,
          imageId: {
            imageDigest: image.digest,
            ...(id.imageTag !== undefined ? { imageTag: id.imageTag } : {})
          },
          imageManifest: image.manifest,
          imageManifestMediaType: image.mediaType
        })
      }
      return { images, failures }
    },

    ListImages(input) {
      const repository = repositoryFor(input)
      const tagStatus = readTagStatus(input.filter)
      const maxResults = readMaxResults(input.maxResults)
      const scope = { op: 'ListImages', repo: repository.name, tagStatus }
      const cursor = decodeToken(input.nextToken, scope)
      /** @type {{ key: (string | number)[], value: ImageId }[]} */
      const entries = []
      for (const image of imagesInPushOrder(repository)) {
        if (image.tags.size === 0) {
          if (tagStatus !== 'TAGGED') {
            entries.push({ key: [image.seq, ''], value: { imageDigest: image.digest } })
          }
        } else if (tagStatus !== 'UNTAGGED') {
          for (const tag of [...image.tags].sort(compareStrings)) {
            entries.push({
              key: [image.seq, tag],
              value: { imageDigest: image.digest, imageTag: tag }
            })
          }
        }
      }
      const { page, nextToken } = paginate(entries, cursor, maxResults, scope)
      return { imageIds: page, ...(nextToken ? { nextToken } : {}) }
    },

    DescribeImages(input) {
      const repository = repositoryFor(input)
      if (input.imageIds !== undefined) {
        if (input.maxResults !== undefined || input.nextToken !== undefined) {
          throw invalidParameter(
            'Invalid parameter: maxResults and nextToken cannot be used when you specify images with imageIds'
          )
        }
        const ids = checkImageIds(input.imageIds)
        /** @type {Map<string, StoredImage>} */
        const found = new Map()
        for (const id of ids) {
          const resolved = resolveImageId(repository, id)
          if (!('image' in resolved)) {
            if (resolved.failureCode === 'MissingDigestAndTag') {
              throw invalidParameter(resolved.failureReason)
            }
            throw new EcrError(
              'ImageNotFoundException',
              `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repository.name}' in the registry with id '${accountId}'`
            )
          }
          found.set(resolved.image.digest, resolved.image)
        }
        return { imageDetails: [...found.values()].map((image) => imageDetail(repository, image)) }
      }
      const tagStatus = readTagStatus(input.filter)
      const maxResults = readMaxResults(input.maxResults)
      const scope = { op: 'DescribeImages', repo: repository.name, tagStatus }
      const cursor = decodeToken(input.nextToken, scope)
      const entries = imagesInPushOrder(repository)
        .filter((image) =>
          tagStatus === 'TAGGED'
            ? image.tags.size > 0
            : tagStatus === 'UNTAGGED'
              ? image.tags.size === 0
              : true
        )
        .map((image) => ({ key: [image.seq], value: image }))
      const { page, nextToken } = paginate(entries, cursor, maxResults, scope)
      return {
        imageDetails: page.map((image) => imageDetail(repository, image)),
        ...(nextToken ? { nextToken } : {})
      }
    },

    BatchDeleteImage(input) {
      const repository = repositoryFor(input)
      const ids = checkImageIds(input.imageIds)
      /** @type {ImageId[]} */
      const deleted = []
      const failures = []

      /** @param {StoredImage} image */
      const removeImage = (image) => {
        for (const tag of image.tags) repository.tags.delete(tag)
        repository.images.delete(image.digest)
      }
      /** @param {StoredImage} image */
      const referencedFailure = (image) => ({
        failureCode: 'ImageReferencedByManifestList',
        failureReason: `Requested image referenced by manifest list: [${referencingIndexes(repository, image.digest).join(', ')}]`
      })

      for (const id of ids) {
        const resolved = resolveImageId(repository, id)
        if (!('image' in resolved)) {
          failures.push({ imageId: requestedId(id), ...resolved })
          continue
        }
        const { image } = resolved
        const referenced = referencingIndexes(repository, image.digest).length > 0
        if (id.imageTag !== undefined) {
          const tag = String(id.imageTag)
          const lastTag = image.tags.size === 1
          if (lastTag && referenced) {
            failures.push({ imageId: requestedId(id), ...referencedFailure(image) })
            continue
          }
          image.tags.delete(tag)
          repository.tags.delete(tag)
          if (lastTag) repository.images.delete(image.digest)
          deleted.push({ imageDigest: image.digest, imageTag: tag })
          continue
        }
        if (referenced) {
          failures.push({ imageId: requestedId(id), ...referencedFailure(image) })
          continue
        }
        const tags = [...image.tags].sort(compareStrings)
        removeImage(image)
        if (tags.length === 0) deleted.push({ imageDigest: image.digest })
        for (const tag of tags) deleted.push({ imageDigest: image.digest, imageTag: tag })
      }
      return { imageIds: deleted, failures }
    },

    PutImageTagMutability(input) {
      const repository = repositoryFor(input)
      const mutability = readMutability(input, true)
      repository.imageTagMutability = mutability.imageTagMutability
      repository.exclusionFilters = mutability.exclusionFilters
      return {
        registryId: accountId,
        repositoryName: repository.name,
        imageTagMutability: repository.imageTagMutability,
        ...(repository.exclusionFilters
          ? {
              imageTagMutabilityExclusionFilters: repository.exclusionFilters.map((f) => ({
                ...f
              }))
            }
          : {})
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP
  // ---------------------------------------------------------------------------------------------

  /**
   * @param {import('node:http').ServerResponse} res
   * @param {number} status
   * @param {unknown} body
   */
  function send(res, status, body) {
    const text = JSON.stringify(body)
    res.writeHead(status, {
      'Content-Type': CONTENT_TYPE,
      'Content-Length': Buffer.byteLength(text, 'utf8'),
      'x-amzn-RequestId': randomUUID()
    })
    res.end(text)
  }

  /**
   * @param {string} operation
   * @param {Record<string, any>} input
   */
  function checkDenied(operation, input) {
    const names = [
      ...(typeof input.repositoryName === 'string' ? [input.repositoryName] : []),
      ...(Array.isArray(input.repositoryNames) ? input.repositoryNames : [])
    ]
    const denial = denials.find(
      (d) =>
        d.operation === operation &&
        (d.repositoryName === undefined || names.includes(d.repositoryName))
    )
    if (!denial) return
    const resource = denial.repositoryName ?? names[0] ?? '*'
    throw new EcrError(
      'AccessDeniedException',
      `User: arn:aws:sts::${accountId}:assumed-role/ci/gh is not authorized to perform: ecr:${operation} on resource: ${repositoryArn(resource)} because no identity-based policy allows the ecr:${operation} action`
    )
  }

  // ---------------------------------------------------------------------------------------------
  // fault injection and latency
  // ---------------------------------------------------------------------------------------------

  /**
   * Wait at least `ms` (re-arming if a timer fires early) without blocking other requests.
   * @param {number} ms
   * @returns {Promise<boolean>} true when the delay ran out, false when close() cut it short
   */
  function sleep(ms) {
    if (closed) return Promise.resolve(false)
    const start = performance.now()
    return new Promise((resolve) => {
      /** @type {{ timer: ReturnType<typeof setTimeout> | undefined, done: (ran: boolean) => void }} */
      const sleeper = {
        timer: undefined,
        done: (ran) => {
          sleepers.delete(sleeper)
          resolve(ran)
        }
      }
      /** @param {number} wait */
      const arm = (wait) => {
        sleeper.timer = setTimeout(() => {
          const left = ms - (performance.now() - start)
          if (left > 0) arm(left)
          else sleeper.done(true)
        }, wait)
      }
      sleepers.add(sleeper)
      arm(ms)
    })
  }

  /** @param {string} operation @returns {number} the delay for one request, in ms */
  function latencyFor(operation) {
    if (!latencyConfig) return 0
    const value = latencyConfig.byOperation.get(operation) ?? latencyConfig.fallback
    if (value === undefined) return 0
    if (typeof value === 'number') return value
    const [min, max] = value
    return min + latencyConfig.random() * (max - min)
  }

  /**
   * Decide, when the request arrives, whether it suffers a fault: a pending hang() first, else a
   * draw from the faults() PRNG. Every decided fault is recorded in `injected`.
   * @param {string} operation
   * @returns {Fault | undefined}
   */
  function decideFault(operation) {
    /** @type {Fault | undefined} */
    let fault
    const hang = pendingHangs.find((h) => h.operation === operation)
    if (hang) {
      hang.remaining -= 1
      if (hang.remaining === 0) pendingHangs.splice(pendingHangs.indexOf(hang), 1)
      fault = { kind: 'hang', apply: hang.apply }
    } else if (
      faultConfig &&
      (faultConfig.operations === undefined || faultConfig.operations.has(operation)) &&
      faultConfig.random() < faultConfig.rate
    ) {
      const { kinds, random } = faultConfig
      const kind = kinds[Math.floor(random() * kinds.length)] ?? 'reset-before'
      fault = { kind, apply: kind === 'error-after' || kind === 'reset-after' }
    }
    if (fault) injected.push({ operation, kind: fault.kind })
    return fault
  }

  /**
   * Take one token from the operation's quota() bucket, refilled for the time since it was last
   * used; without a token the request is throttled (recorded, and rejected as ECR does).
   * @param {string} operation
   */
  function checkQuota(operation) {
    const bucket = buckets.get(operation)
    if (!bucket) return
    const now = clock()
    if (now > bucket.last) {
      bucket.tokens = Math.min(
        bucket.burst,
        bucket.tokens + ((now - bucket.last) * bucket.rate) / 1000
      )
      bucket.last = now
    }
    // The epsilon absorbs float error in the refill, so 300 ms at 10/s gives exactly 3 tokens.
    if (bucket.tokens >= 1 - 1e-9) {
      bucket.tokens = Math.max(0, bucket.tokens - 1)
      return
    }
    throttled.push({ operation, at: now })
    throw new EcrError('ThrottlingException', 'Rate exceeded')
  }

  /** Count an applied request and settle the waitFor() promises it satisfies. @param {string} operation */
  function markApplied(operation) {
    const count = (applied.get(operation) ?? 0) + 1
    applied.set(operation, count)
    for (const waiter of [...waiters]) {
      if (waiter.operation === operation && waiter.count <= count) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    }
  }

  /** @param {Error} error */
  function rejectWaiters(error) {
    for (const waiter of waiters.splice(0)) waiter.reject(error)
  }

  /** Drop the connection without an answer (TCP RST). @param {import('node:http').IncomingMessage} req */
  const resetConnection = (req) => req.socket.resetAndDestroy()

  /** @param {string} operation @param {string} what */
  function checkOperation(operation, what) {
    if (typeof operation !== 'string' || !Object.hasOwn(operations, operation)) {
      throw new TypeError(
        `${what}: unknown operation '${String(operation)}'; known: ${Object.keys(operations).join(', ')}`
      )
    }
    return operation
  }

  /** @param {unknown} value @param {string} what @returns {LatencyValue} */
  function checkLatencyValue(value, what) {
    const ms = (/** @type {unknown} */ v) =>
      typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_DELAY_MS
    if (ms(value)) return /** @type {number} */ (value)
    if (Array.isArray(value) && value.length === 2 && ms(value[0]) && ms(value[1])) {
      const [min, max] = /** @type {[number, number]} */ (value)
      if (min <= max) return [min, max]
    }
    throw new RangeError(
      `${what}: latency must be ms (0-${MAX_DELAY_MS}) or [minMs, maxMs] with minMs <= maxMs, got ${JSON.stringify(value)}`
    )
  }

  // ---------------------------------------------------------------------------------------------
  // request flow
  // ---------------------------------------------------------------------------------------------

  /**
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   */
  async function handle(req, res) {
    /** @type {Buffer[]} */
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const raw = Buffer.concat(chunks).toString('utf8')

    const target = String(req.headers['x-amz-target'] ?? '')
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target
    /** @type {unknown} */
    let input
    let parsedOk = true
    try {
      input = raw.trim() === '' ? {} : JSON.parse(raw)
    } catch {
      input = raw
      parsedOk = false
    }
    calls.push({ operation, input, at: clock() })

    const path = (req.url ?? '/').split('?')[0]
    const handler =
      req.method === 'POST' &&
      path === '/' &&
      target.startsWith(TARGET_PREFIX) &&
      Object.hasOwn(operations, operation)
        ? operations[operation]
        : undefined
    const routed = handler !== undefined && parsedOk && isObject(input)
    // Decided on arrival, in arrival order, so a seed reproduces the same decisions.
    const fault = routed ? decideFault(operation) : undefined
    const delay = latencyFor(operation)
    if (delay > 0 && !(await sleep(delay))) return // close() cut the delay short

    if (!handler) {
      send(res, 400, {
        __type: 'UnknownOperationException',
        message: `Unknown operation ${operation || '(missing X-Amz-Target)'}`
      })
      return
    }
    if (!parsedOk || !isObject(input)) {
      send(res, 400, {
        __type: 'SerializationException',
        message: 'Start of structure or map found where not expected.'
      })
      return
    }
    if (fault && !fault.apply) {
      if (fault.kind === 'reset-before') resetConnection(req)
      return // 'hang': not applied, never answered
    }

    /** @type {{ status: number, body: unknown, applied: boolean }} */
    let outcome
    try {
      checkQuota(operation)
      checkRegistryId(input)
      checkDenied(operation, input)
      outcome = { status: 200, body: handler(input), applied: true }
      markApplied(operation)
    } catch (error) {
      if (!(error instanceof EcrError)) throw error
      outcome = {
        status: 400,
        body: { __type: error.type, message: error.message },
        applied: false
      }
    }

    switch (fault?.kind) {
      case 'error-after':
        send(res, 500, {
          __type: 'ServerException',
          message: outcome.applied
            ? 'injected: applied, answer lost'
            : 'injected: rejected, answer lost'
        })
        return
      case 'reset-after':
        resetConnection(req)
        return
      case 'hang':
        return // applied (or rejected), never answered
      default:
        send(res, outcome.status, outcome.body)
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((/** @type {unknown} */ error) => {
      if (res.headersSent) {
        res.destroy()
        return
      }
      send(res, 500, {
        __type: 'ServerException',
        message: `stand-in internal error: ${error instanceof Error ? error.stack : String(error)}`
      })
    })
  })

  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(undefined)
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') {
    throw new Error('stand-in: unexpected server address')
  }
  const urlHost = host.includes(':') ? `[${host}]` : host
  const url = `http://${urlHost}:${address.port}`

  /** @type {Promise<void> | undefined} */
  let closing
  const close = () => {
    closing ??= new Promise((resolve, reject) => {
      closed = true
      for (const sleeper of [...sleepers]) {
        clearTimeout(sleeper.timer)
        sleeper.done(false)
      }
      rejectWaiters(new Error('stand-in: closed before the awaited requests were applied'))
      server.close((error) => (error ? reject(error) : resolve()))
      server.closeAllConnections() // hung and delayed requests included
    })
    return closing
  }

  /** @type {StandInControl} */
  const control = {
    calls,
    deny(operation, repositoryName) {
      denials.push({ operation, repositoryName })
    },
    failPutImage(tag, { exception = 'ServerException', message = 'injected failure' } = {}) {
      injectedFailures.push({ tag, exception, message })
    },
    injected,
    latency(spec, seed = DEFAULT_SEED) {
      checkSeed(seed, 'latency')
      if (typeof spec === 'number') {
        const ms = checkLatencyValue(spec, 'latency')
        latencyConfig =
          ms === 0 ? undefined : { byOperation: new Map(), fallback: ms, random: mulberry32(seed) }
        return
      }
      if (!isObject(spec)) {
        throw new TypeError('latency: spec must be ms or { [operation]: ms | [min, max] }')
      }
      /** @type {Map<string, LatencyValue>} */
      const byOperation = new Map()
      /** @type {LatencyValue | undefined} */
      let fallback
      for (const [key, value] of Object.entries(spec)) {
        if (value === undefined) continue
        if (key === 'default') fallback = checkLatencyValue(value, 'latency.default')
        else byOperation.set(checkOperation(key, 'latency'), checkLatencyValue(value, key))
      }
      latencyConfig = { byOperation, fallback, random: mulberry32(seed) }
    },
    hang(operation, { count = 1, apply = false } = {}) {
      checkOperation(operation, 'hang')
      if (!Number.isInteger(count) || count < 1) {
        throw new RangeError(`hang: count must be a positive integer, got ${count}`)
      }
      pendingHangs.push({ operation, remaining: count, apply: apply === true })
    },
    faults(options) {
      if (options === null) {
        faultConfig = undefined
        return
      }
      if (!isObject(options))
        throw new TypeError('faults: pass { rate, seed?, operations?, kinds? } or null')
      const { seed = DEFAULT_SEED, rate, operations: only, kinds = [...FAULT_KINDS] } = options
      checkSeed(seed, 'faults')
      if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
        throw new RangeError(`faults: rate must be a number from 0 to 1, got ${String(rate)}`)
      }
      if (
        !Array.isArray(kinds) ||
        kinds.length === 0 ||
        kinds.some((k) => !FAULT_KINDS.includes(k))
      ) {
        throw new RangeError(`faults: kinds must be a non-empty list of ${FAULT_KINDS.join(', ')}`)
      }
      if (only !== undefined && !Array.isArray(only)) {
        throw new TypeError('faults: operations must be a list of operation names')
      }
      faultConfig = {
        rate,
        operations: only && new Set(only.map((op) => checkOperation(op, 'faults'))),
        kinds: [...kinds],
        random: mulberry32(seed)
      }
    },
    setPushedAt(repositoryName, digest, date) {
      const repository = repositories.get(repositoryName)
      if (!repository) throw new Error(`stand-in: no repository named '${repositoryName}'`)
      const image = repository.images.get(digest)
      if (!image) {
        throw new Error(`stand-in: no image '${digest}' in repository '${repositoryName}'`)
      }
      const ms = Object.prototype.toString.call(date) === '[object Date]' ? Number(date) : date
      if (typeof ms !== 'number' || !Number.isFinite(ms)) {
        throw new TypeError(
          `setPushedAt: date must be a valid Date or epoch ms, got ${String(date)}`
        )
      }
      image.pushedAt = ms / 1000
    },
    waitFor(operation, count = 1) {
      checkOperation(operation, 'waitFor')
      if (!Number.isInteger(count) || count < 1) {
        throw new RangeError(`waitFor: count must be a positive integer, got ${count}`)
      }
      if ((applied.get(operation) ?? 0) >= count) return Promise.resolve()
      /** @type {Promise<void>} */
      const promise = new Promise((resolve, reject) => {
        waiters.push({ operation, count, resolve, reject })
      })
      promise.catch(() => {}) // a dropped waiter must not become an unhandled rejection
      return promise
    },
    snapshot(repositoryName) {
      const repository = repositories.get(repositoryName)
      if (!repository) throw new Error(`stand-in: no repository named '${repositoryName}'`)
      const images = [...repository.images.values()]
        .sort((a, b) => compareStrings(a.digest, b.digest))
        .map((image) => ({
          digest: image.digest,
          mediaType: image.mediaType,
          manifest: image.manifest,
          tags: [...image.tags].sort(compareStrings)
        }))
      return { images }
    },
    quota(spec) {
      if (spec === null) {
        buckets.clear()
        return
      }
      if (!isObject(spec)) {
        throw new TypeError('quota: pass { [operation]: { rate, burst } } or null')
      }
      /** @type {[string, { rate: number, burst: number }][]} */
      const entries = []
      for (const [operation, value] of Object.entries(spec)) {
        if (value === undefined) continue
        checkOperation(operation, 'quota')
        const { rate, burst } = isObject(value) ? value : {}
        if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) {
          throw new RangeError(`quota: ${operation}.rate must be a positive number, got ${rate}`)
        }
        if (typeof burst !== 'number' || !Number.isFinite(burst) || burst < 1) {
          throw new RangeError(`quota: ${operation}.burst must be a number >= 1, got ${burst}`)
        }
        entries.push([operation, { rate, burst }])
      }
      buckets.clear()
      const now = clock()
      for (const [operation, { rate, burst }] of entries) {
        buckets.set(operation, { rate, burst, tokens: burst, last: now })
      }
    },
    throttled,
    seedTags(repositoryName, digest, tags) {
      const repository = repositories.get(repositoryName)
      if (!repository) throw new Error(`stand-in: no repository named '${repositoryName}'`)
      const image = repository.images.get(digest)
      if (!image) {
        throw new Error(`stand-in: no image '${digest}' in repository '${repositoryName}'`)
      }
      const invalid = tags.find((tag) => typeof tag !== 'string' || !TAG_RE.test(tag))
      if (invalid !== undefined) {
        throw new Error(`stand-in: seedTags: '${String(invalid)}' is not a valid image tag`)
      }
      for (const tag of tags) {
        const previous = repository.tags.get(tag)
        if (previous !== undefined) repository.images.get(previous)?.tags.delete(tag)
        repository.tags.set(tag, digest)
        image.tags.add(tag)
      }
    },
    reset() {
      buckets.clear()
      throttled.length = 0
      repositories.clear()
      calls.length = 0
      denials.length = 0
      injectedFailures.length = 0
      latencyConfig = undefined
      faultConfig = undefined
      pendingHangs.length = 0
      injected.length = 0
      applied.clear()
      rejectWaiters(new Error('stand-in: reset() before the awaited requests were applied'))
    }
  }

  return { url, registryId: accountId, control, close }
}

/**
 * @param {(string | number)[]} a
 * @param {(string | number)[]} b
 */
function compareKeys(a, b) {
  const length = Math.max(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a[i]
    const y = b[i]
    if (x === y) continue
    if (x === undefined) return -1
    if (y === undefined) return 1
    if (typeof x === 'number' && typeof y === 'number') return x - y
    return compareStrings(String(x), String(y))
  }
  return 0
}

/** @param {string[]} argv */
async function main(argv) {
  /** @type {StandInOptions} */
  const options = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined]
    const value = () => inline ?? argv[++i]
    if (flag === '--port') {
      const port = Number(value())
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new Error(`--port needs a port number`)
      }
      options.port = port
    } else if (flag === '--host') {
      options.host = value()
    } else {
      throw new Error(`unknown argument ${arg}; usage: ecr-standin.mjs [--port N] [--host H]`)
    }
  }
  const standIn = await startStandIn(options)
  process.stdout.write(`${standIn.url}\n`)
  const stop = () => {
    standIn.close().then(
      () => process.exit(0),
      () => process.exit(1)
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

const invokedDirectly = (() => {
  const script = process.argv[1]
  if (!script) return false
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href
  } catch {
    return false
  }
})()

if (invokedDirectly) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`ecr-standin: ${error instanceof Error ? error.message : error}\n`)
    process.exit(1)
  })
}
