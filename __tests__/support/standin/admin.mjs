// @ts-check
/**
 * The test control API: what tests see of the requests, and set-up that is no ECR operation.
 *
 * - calls: { operation, input, at } per request in arrival order; `at` is the stand-in's clock
 *   (ms) on arrival, before any latency delay. An UploadLayerPart's layerPartBlob is recorded as
 *   its byte count (a copy's parts would hold every byte uploaded); STS requests are recorded by
 *   their Action (AssumeRole) with their form fields, a download URL's GET as GetBlob { digest }.
 * - deny(operation, repositoryName?): later matching calls fail with AccessDeniedException (HTTP
 *   400) naming `ecr:<Operation>` and the repository ARN, as IAM denials surface (the ECR client
 *   does not model it: an ECRServiceException named AccessDeniedException).
 * - failPutImage(tag, { exception = 'KmsException', message, times = 1 }): the next `times`
 *   PutImages of that tag, in a repository that exists, fail with that exception (HTTP 400; a
 *   ServerException is a 500, which the SDK retries), changing nothing. The default is a failure
 *   no retry gets past; times: Infinity stands for a hard quota (LimitExceededException).
 * - archivedAnswer(answer): what BatchGetImage answers for an ARCHIVED or ACTIVATING image
 *   (./images.mjs): 'ImageNotFound' (default), 'ImageInaccessible' or 'manifest' (as if ACTIVE).
 *   AWS does not say which, so the tests run each.
 * - waitFor(operation, count = 1): resolves once `count` requests of it were applied since the
 *   start or the last reset() (at once if already so): succeeded against the state, whether or not
 *   a fault lost the answer then; resolved at the state change, before the answer is sent. reset()
 *   and close() reject those pending.
 * - snapshot(repositoryName, where?): { images: [{ digest, mediaType, manifest, tags, status }],
 *   blobs: [{ digest, size }] }, every image (untagged ones too) and every blob (./layers.mjs) by
 *   digest, tags sorted, status computed at the call. `where` { account, region } names the
 *   registry (default: 123456789012 in us-east-1), as for createRepository; the other controls
 *   here act on the default registry.
 * Set-up straight into the state (no request: nothing in `calls`, no latency, quota, fault,
 * mutability check or waitFor() count); each throws a plain Error for an unknown repository or
 * digest:
 * - createRepository(repositoryName, where, { imageTagMutability?, ... CreateRepository's }): a
 *   repository in any registry (`where` { account, region }); its answer's `repository`.
 * - seedTags(repositoryName, digest, tags): point each tag at the image, moving it as PutImage
 *   would, to fill a repository with thousands of tags fast (an Error for a tag outside the
 *   grammar).
 * - setPushedAt(repositoryName, digest, date): the image's imagePushedAt (a Date or epoch ms).
 * - setScan(repositoryName, digest, scan | undefined): the image's scan (./scanning.mjs): { status,
 *   shape: 'basic' | 'enhanced', findings?: [{ id, severity, package?, packageVersion?, and for
 *   enhanced fixedInVersion?, fixAvailable?, status? }], description?, completeAfterMs? (reads
 *   IN_PROGRESS until that many ms from now) }; undefined removes it. A TypeError for a scan ECR
 *   could not report (a COMPLETE enhanced scan, findings on a FAILED one, an unknown severity...).
 * - setSigning(repositoryName, digest, statuses): [{ signingProfileArn, status COMPLETE |
 *   IN_PROGRESS | FAILED, failureCode?, failureReason? (FAILED only), completeAfterMs? (an
 *   IN_PROGRESS entry reads COMPLETE that many ms from now) }]; [] is never signed.
 * - archive(repositoryName, digest, { restoreMs = 0 }): the image becomes ARCHIVED (./images.mjs);
 *   a later UpdateImageStorageClass STANDARD takes restoreMs (stand-in's clock) to restore it.
 * reset() empties the registry (scans, signing and archive states go with the images), clears
 * calls, denials, failPutImage()s and the applied counts, rejects the waitFor() promises, and
 * turns faults off (./faults.mjs).
 */

import { TAG_RE } from '../oci.mjs'
import { ARCHIVED_ANSWERS, archiveImage, pointTag, statusOf } from './images.mjs'
import {
  ACCOUNT_ID,
  EcrError,
  REGION,
  checkCount,
  checkRepositoryName,
  compareStrings,
  isObject,
  repositoryArn
} from './protocol.mjs'
import { recordScan, recordSigning } from './scanning.mjs'

/**
 * @typedef {import('./repositories.mjs').StoredRepository} StoredRepository
 * @typedef {{ operation: string, input: any, at: number }} RecordedCall
 * @typedef {{ exception?: string, message?: string, times?: number }} FailureOptions
 * @typedef {{ digest: string, mediaType: string, manifest: string, tags: string[],
 *   status: import('./images.mjs').ImageStatus }} SnapshotImage
 * @typedef {{ images: SnapshotImage[], blobs: { digest: string, size: number }[] }} RepositorySnapshot
 * @typedef {import('./repositories.mjs').Where} Where
 * @typedef {{
 *   calls: RecordedCall[],
 *   deny(operation: string, repositoryName?: string): void,
 *   failPutImage(tag: string, options?: FailureOptions): void,
 *   archivedAnswer(answer: import('./images.mjs').ArchivedAnswer): void,
 *   setPushedAt(repositoryName: string, digest: string, date: Date | number): void,
 *   waitFor(operation: string, count?: number): Promise<void>,
 *   snapshot(repositoryName: string, where?: Where): RepositorySnapshot,
 *   createRepository(repositoryName: string, where: Where, settings?: Record<string, unknown>): unknown,
 *   seedTags(repositoryName: string, digest: string, tags: readonly string[]): void,
 *   setScan(repositoryName: string, digest: string, scan: ScanSpec | undefined): void,
 *   setSigning(repositoryName: string, digest: string, statuses: readonly SigningSpec[]): void,
 *   archive(repositoryName: string, digest: string, options?: { restoreMs?: number }): void
 * }} AdminControl
 * @typedef {import('./scanning.mjs').ScanSpec} ScanSpec
 * @typedef {import('./scanning.mjs').SigningSpec} SigningSpec
 */

/**
 * @param {ReturnType<typeof import('./repositories.mjs').createRepositories>} registry
 * @param {() => number} clock
 * @param {(operation: unknown, what: string) => string} checkOperation
 * @param {{ archivedAnswer: import('./images.mjs').ArchivedAnswer }} readings where AWS is silent
 */
export function createAdmin(registry, clock, checkOperation, readings) {
  /** @type {RecordedCall[]} */
  const calls = []
  /** @type {{ operation: string, repositoryName: string | undefined }[]} */
  const denials = []
  /** @type {{ tag: string, exception: string, message: string, times: number }[]} */
  const failures = []
  /** Requests applied per operation since start or the last reset(). @type {Map<string, number>} */
  const applied = new Map()
  /** @type {{ operation: string, count: number, resolve: () => void, reject: (error: Error) => void }[]} */
  const waiters = []

  /** @param {string} why */
  const rejectWaiters = (why) => {
    const error = new Error(`stand-in: ${why} before the awaited requests were applied`)
    for (const waiter of waiters.splice(0)) waiter.reject(error)
  }

  /** @param {string} name @param {Where} [where] */
  function repositoryNamed(name, where = { account: ACCOUNT_ID, region: REGION }) {
    const repository = registry.repositoriesOf(where).get(name)
    if (!repository) throw new Error(`stand-in: no repository named '${name}'`)
    return repository
  }

  /** @param {string} repositoryName @param {string} digest */
  function imageIn(repositoryName, digest) {
    const repository = repositoryNamed(repositoryName)
    const image = repository.images.get(digest)
    if (!image) throw new Error(`stand-in: no image '${digest}' in repository '${repositoryName}'`)
    return { repository, image }
  }

  /** @type {AdminControl} */
  const control = {
    calls,
    deny(operation, repositoryName) {
      denials.push({ operation, repositoryName })
    },
    failPutImage(
      tag,
      { exception = 'KmsException', message = 'injected failure', times = 1 } = {}
    ) {
      if (!(times >= 1))
        throw new RangeError(`failPutImage: times must be at least 1, got ${times}`)
      failures.push({ tag, exception, message, times })
    },
    archivedAnswer(answer) {
      if (!ARCHIVED_ANSWERS.includes(answer))
        throw new RangeError(`archivedAnswer: one of ${ARCHIVED_ANSWERS.join(', ')}, got ${answer}`)
      readings.archivedAnswer = answer
    },
    setPushedAt(repositoryName, digest, date) {
      const { image } = imageIn(repositoryName, digest)
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
      checkCount('waitFor', count)
      if ((applied.get(operation) ?? 0) >= count) return Promise.resolve()
      /** @type {Promise<void>} */
      const promise = new Promise((resolve, reject) => {
        waiters.push({ operation, count, resolve, reject })
      })
      promise.catch(() => {}) // a dropped waiter must not become an unhandled rejection
      return promise
    },
    createRepository(repositoryName, where, settings = {}) {
      const repository = registry.create(checkRepositoryName(repositoryName), where, settings)
      return { repositoryName: repository.name, registryId: repository.registryId }
    },
    snapshot(repositoryName, where) {
      const repository = repositoryNamed(repositoryName, where)
      const blobs = [...repository.blobs]
        .map(([digest, bytes]) => ({ digest, size: bytes.length }))
        .sort((a, b) => compareStrings(a.digest, b.digest))
      const images = [...repository.images.values()]
        .sort((a, b) => compareStrings(a.digest, b.digest))
        .map((image) => {
          const { digest, mediaType, manifest, tags } = image
          return {
            digest,
            mediaType,
            manifest,
            tags: [...tags].sort(compareStrings),
            status: statusOf(image)
          }
        })
      return { images, blobs }
    },
    seedTags(repositoryName, digest, tags) {
      const { repository, image } = imageIn(repositoryName, digest)
      const invalid = tags.find((tag) => typeof tag !== 'string' || !TAG_RE.test(tag))
      if (invalid !== undefined) {
        throw new Error(`stand-in: seedTags: '${String(invalid)}' is not a valid image tag`)
      }
      for (const tag of tags) pointTag(repository, tag, image)
    },
    setScan(repositoryName, digest, scan) {
      const { image } = imageIn(repositoryName, digest)
      if (scan === undefined) delete image.scan
      else image.scan = recordScan(repositoryName, digest, scan)
    },
    setSigning(repositoryName, digest, statuses) {
      imageIn(repositoryName, digest).image.signing = recordSigning(statuses)
    },
    archive(repositoryName, digest, { restoreMs = 0 } = {}) {
      const { image } = imageIn(repositoryName, digest)
      if (typeof restoreMs !== 'number' || !Number.isFinite(restoreMs) || restoreMs < 0) {
        throw new RangeError(`archive: restoreMs must be ms >= 0, got ${String(restoreMs)}`)
      }
      archiveImage(image, restoreMs)
    }
  }

  return {
    control,

    /** Record a request as it arrives. @param {string} operation @param {unknown} input */
    record(operation, input) {
      const blob = isObject(input) ? input.layerPartBlob : undefined
      const bytes = (/** @type {string} */ text) =>
        Math.floor((text.replace(/=+$/, '').length * 3) / 4)
      const recorded =
        isObject(input) && typeof blob === 'string'
          ? { ...input, layerPartBlob: bytes(blob) }
          : input
      calls.push({ operation, input: recorded, at: clock() })
    },

    /**
     * Refuse a request that deny() or failPutImage() names, as ECR would.
     * @param {string} operation
     * @param {Record<string, any>} input
     */
    admit(operation, input) {
      const names = [
        ...(typeof input.repositoryName === 'string' ? [input.repositoryName] : []),
        ...(Array.isArray(input.repositoryNames) ? input.repositoryNames : [])
      ]
      const denial = denials.find(
        (d) =>
          d.operation === operation &&
          (d.repositoryName === undefined || names.includes(d.repositoryName))
      )
      if (denial) {
        const resource = repositoryArn(denial.repositoryName ?? names[0] ?? '*')
        throw new EcrError(
          'AccessDeniedException',
          `User: arn:aws:sts::${ACCOUNT_ID}:assumed-role/ci/gh is not authorized to perform: ecr:${operation} on resource: ${resource} because no identity-based policy allows the ecr:${operation} action`
        )
      }
      const { imageTag: tag, repositoryName } = input
      const failing = failures.findIndex((failure) => failure.tag === tag)
      if (operation !== 'PutImage' || tag === undefined || failing === -1) return
      if (!registry.repositoriesOf().has(repositoryName)) return // the operation answers RepositoryNotFound
      const failure = /** @type {(typeof failures)[number]} */ (failures[failing])
      failure.times -= 1
      if (failure.times <= 0) failures.splice(failing, 1)
      throw new EcrError(failure.exception, failure.message)
    },

    /** Count an applied request and settle the waitFor() promises it satisfies. @param {string} operation */
    applied(operation) {
      const count = (applied.get(operation) ?? 0) + 1
      applied.set(operation, count)
      for (const waiter of waiters.filter((w) => w.operation === operation && w.count <= count)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    },

    reset() {
      registry.clear()
      calls.length = 0
      denials.length = 0
      failures.length = 0
      readings.archivedAnswer = 'ImageNotFound'
      applied.clear()
      rejectWaiters('reset()')
    },

    close: () => rejectWaiters('closed')
  }
}
