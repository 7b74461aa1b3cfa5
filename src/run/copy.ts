/**
 * The Copy stage: the source image into the repository of the same name in the target registry,
 * digest-exact, before any tag moves. It reads the image's graph in the source (index, children,
 * cosign tags, OCI referrers), asks the target what it has, streams each blob it lacks from the
 * source's download URL into a layer upload (checked against its digest before the upload is
 * completed), then puts the manifests untagged, each after what it names, and the cosign tags.
 */
import { createHash } from 'node:crypto'
import {
  CopyFailed,
  blobsOf,
  bytesOf,
  contentOf,
  cosignTags,
  parts,
  putOrder,
  toSend,
  type CopyReport,
  type Descriptor
} from '../core/copy.js'
import { messageOf, type ImageRef, type Manifest } from '../core/model.js'
import { DownloadFailed } from '../ecr/blobs.js'
import { refused, type Registry } from '../ecr/registry.js'
import type { Effects } from './effects.js'

export type CopySource = Pick<Registry, 'getManifests' | 'downloadUrl' | 'listReferrers'>
export type CopyTarget = Pick<
  Registry,
  | 'getManifests'
  | 'checkLayers'
  | 'startUpload'
  | 'uploadPart'
  | 'completeUpload'
  | 'putManifest'
  | 'putTag'
>

export interface CopyJob {
  /** The same name in both registries. */
  readonly repository: string
  /** The source root, exactly as the source answered it. */
  readonly manifest: Manifest
  /** For CopyReport.from. */
  readonly from: string
  /** The target registry's host, for messages. */
  readonly to: string
}

export interface CopyOptions {
  readonly dryRun: boolean
  readonly effects: Effects
  readonly pace: (signal?: AbortSignal) => Promise<void>
  /** Fetches a download URL's bytes (src/ecr/blobs.ts `fetchBlob` in production). */
  readonly fetchBlob: (
    url: string,
    signal: AbortSignal,
    size?: number
  ) => Promise<AsyncIterable<Uint8Array>>
  readonly uploads: UploadTurns
}

/** The run's turns, shared by every repository's copy: the blobs under way, and the part in flight. */
export interface UploadTurns {
  /** Copies the blob once fewer than BLOBS_AT_ONCE are under way in the run. */
  readonly blob: <T>(copy: () => Promise<T>) => Promise<T>
  /** Sends the part when its turn comes: one at a time in the run. */
  readonly send: <T>(part: () => Promise<T>) => Promise<T>
}

/**
 * Blobs copied at once in a run. Each holds one part (5 MiB) while it waits for its upload turn,
 * and reads no further until then; the second downloads while the first uploads.
 */
const BLOBS_AT_ONCE = 2

/** One part in flight (5 MiB and its 6.7 MiB request) and two blobs under way keep a copy's memory bounded whatever the layers. */
export function uploadTurns(): UploadTurns {
  let queue: Promise<unknown> = Promise.resolve()
  let free = BLOBS_AT_ONCE
  const waiting: (() => void)[] = []
  return {
    blob: async (copy) => {
      if (free > 0) free -= 1
      else await new Promise<void>((resolve) => waiting.push(resolve))
      try {
        return await copy()
      } finally {
        // The slot passes to the next blob waiting, or frees.
        const next = waiting.shift()
        if (next) next()
        else free += 1
      }
    },
    send: (part) => {
      const turn = queue.then(part)
      queue = turn.catch(() => undefined)
      return turn
    }
  }
}

/** What the source holds of the image: every manifest to copy, and the cosign tags that name some. */
interface Graph {
  /** The root, its children and its referrers, each once. */
  readonly manifests: readonly Manifest[]
  readonly referrers: ReadonlySet<string>
  /** Cosign tag → the manifest it names. */
  readonly tags: ReadonlyMap<string, Manifest>
  /** OCI referrers left behind: archived ones cannot be pulled. */
  readonly inactive: number
}

/** Copies the image into the target (a dry run only reads both sides); throws CopyFailed. */
export async function copyImage(
  source: CopySource,
  target: CopyTarget,
  job: CopyJob,
  options: CopyOptions
): Promise<CopyReport> {
  const { effects, pace } = options
  const { repository } = job
  const started = effects.clock()
  // Each write is counted once sent: one whose answer is lost may have been applied, and stays.
  const done = { copied: 0, present: 0, lacking: 0, bytes: 0, manifests: 0, referrers: 0, tags: 0 }
  const warnings: string[] = []
  const report = (): CopyReport => ({
    from: job.from,
    blobs: { copied: done.copied, present: done.present, lacking: done.lacking },
    bytes: done.bytes,
    manifests: done.manifests,
    referrers: done.referrers,
    ms: effects.clock() - started,
    warnings
  })
  const stop = new AbortController()
  const signal = AbortSignal.any([effects.signal, stop.signal])
  try {
    const graph = await readGraph(source, job)
    if (graph.inactive > 0)
      warnings.push(
        `${graph.inactive} referrers of ${job.from} are archived and were not copied: archived images cannot be pulled`
      )
    const held = await read(target, repository, [
      ...graph.manifests.map(({ digest }) => ({ digest })),
      ...[...graph.tags.keys()].map((tag) => ({ tag }))
    ])
    const manifests = putOrder(graph.manifests).filter(({ digest }) => !held.has(digest))
    const tags = [...graph.tags].filter(([tag, manifest]) => {
      const there = held.get(tag)
      if (there && there.digest !== manifest.digest)
        warnings.push(
          `${repository}:${tag} in ${job.to} names ${there.digest}, not ${manifest.digest} as in ${job.from}: kept`
        )
      return !there
    })
    const blobs = blobsOf(manifests)
    const availability =
      blobs.length > 0
        ? await target.checkLayers(
            repository,
            blobs.map(({ digest }) => digest)
          )
        : new Map<string, string>()
    const missing = blobs.filter(({ digest }) => toSend(availability.get(digest)))
    done.present = blobs.length - missing.length
    done.lacking = missing.length
    if (options.dryRun)
      return {
        ...report(),
        blobs: { copied: missing.length, present: done.present, lacking: missing.length },
        bytes: bytesOf(missing),
        manifests: manifests.length,
        referrers:
          manifests.filter(({ digest }) => graph.referrers.has(digest)).length + tags.length
      }
    const completing = (blob: Descriptor, n: number, there = false) => {
      done.copied += n
      done.bytes += blob.size * n
      if (there) done.present += 1
      if (n > 0) effects.progress(`${repository}: copied ${done.copied} of ${missing.length} blobs`)
    }
    // The run's blob turns bound how many go at once; the first failure stops the rest, and is
    // thrown once those under way have ended.
    await Promise.all(
      missing.map((blob) =>
        options.uploads
          .blob(() => {
            signal.throwIfAborted()
            return copyBlob(source, target, job, blob, { ...options, signal }, completing)
          })
          .catch((error: unknown) => {
            if (!stop.signal.aborted) stop.abort(error)
          })
      )
    )
    if (stop.signal.aborted) throw stop.signal.reason
    for (const manifest of manifests) {
      await pace(signal)
      const referrer = graph.referrers.has(manifest.digest) ? 1 : 0
      const count = (n: number) => {
        done.manifests += n
        done.referrers += referrer * n
      }
      const put = await counted(count, () => target.putManifest(repository, manifest))
      if (put === 'already there') count(-1)
    }
    for (const [tag, manifest] of tags) {
      await pace(signal)
      const count = (n: number) => {
        done.tags += n
        done.referrers += n
      }
      await counted(count, () => target.putTag(repository, tag, manifest))
    }
    return report()
  } catch (error) {
    const why = effects.signal.aborted ? 'the copy was cancelled' : messageOf(error)
    throw new CopyFailed(
      `${why}; none of the run's tags was written; ${stays(done, job)}`,
      report(),
      {
        cause: error
      }
    )
  }
}

/** What a failed copy leaves in the target. */
function stays(
  { copied, manifests, tags }: { copied: number; manifests: number; tags: number },
  job: CopyJob
): string {
  const { to } = job
  if (copied + manifests + tags === 0) return `nothing was copied into ${to}`
  const cosign = tags > 0 ? ` and ${tags} cosign tags` : ''
  return `${copied} blobs, ${manifests} untagged manifests${cosign} copied stay in ${to}`
}

/** Reads the graph level by level: each manifest's children, cosign tags and OCI referrers, each once. */
async function readGraph(source: CopySource, { repository, manifest }: CopyJob): Promise<Graph> {
  const found = new Map([[manifest.digest, manifest]])
  const referrers = new Set<string>()
  const tags = new Map<string, Manifest>()
  let inactive = 0
  for (let level = [manifest]; level.length > 0;) {
    const listed = await Promise.all(
      level.map(({ digest }) => source.listReferrers(repository, digest))
    )
    const active = listed.flat().filter(({ status }) => status === 'ACTIVE')
    inactive += listed.flat().length - active.length
    for (const { digest } of active) referrers.add(digest)
    const named = [
      ...new Set([
        ...level.flatMap((each) => contentOf(each).children),
        ...active.map(({ digest }) => digest)
      ])
    ].filter((digest) => !found.has(digest))
    const cosign = level.flatMap(({ digest }) => cosignTags(digest))
    const answered = await read(source, repository, [
      ...named.map((digest) => ({ digest })),
      ...cosign.map((tag) => ({ tag }))
    ])
    const absent = named.filter((digest) => !answered.has(digest))
    if (absent.length > 0)
      throw new Error(
        `${repository} in the source lacks ${absent.join(', ')}, which its image names`
      )
    const next = [
      ...named.map((digest) => answered.get(digest)),
      ...cosign.map((tag) => {
        const tagged = answered.get(tag)
        if (tagged) tags.set(tag, tagged)
        return tagged
      })
    ]
    level = []
    for (const each of next)
      if (each && !found.has(each.digest)) {
        found.set(each.digest, each)
        level.push(each)
      }
  }
  return { manifests: [...found.values()], referrers, tags, inactive }
}

const read = async (
  registry: Pick<Registry, 'getManifests'>,
  repository: string,
  refs: readonly ImageRef[]
): Promise<Map<string, Manifest>> =>
  refs.length > 0 ? registry.getManifests(repository, refs) : new Map()

/**
 * Streams one blob from the source into an upload in the target, part after part in the run's
 * upload turn, and completes the upload only once the bytes hash to the blob's digest. A download
 * that fails before the first part went out (an expired URL, a reset) is tried once more.
 */
async function copyBlob(
  source: CopySource,
  target: CopyTarget,
  job: CopyJob,
  blob: Descriptor,
  { fetchBlob, uploads, signal }: CopyOptions & { readonly signal: AbortSignal },
  completing: (blob: Descriptor, n: number, there?: boolean) => void
): Promise<void> {
  const { repository } = job
  const { uploadId, partSize } = await target.startUpload(repository)
  const ranges = parts(blob.size, partSize)
  let sent = 0
  for (let attempt = 1; ; attempt += 1) {
    try {
      const url = await source.downloadUrl(repository, blob.digest)
      for await (const [[first, last], bytes] of cut(
        await fetchBlob(url, signal, blob.size),
        blob,
        ranges,
        job
      )) {
        await uploads.send(() => {
          signal.throwIfAborted()
          return target.uploadPart(repository, uploadId, first, last, bytes)
        })
        sent += 1
      }
      break
    } catch (error) {
      const again = error instanceof DownloadFailed && error.retry && !signal.aborted
      if (!again || sent > 0 || attempt > 1) throw error
    }
  }
  const completed = await counted(
    (n) => completing(blob, n),
    () => target.completeUpload(repository, uploadId, blob.digest)
  )
  // Another writer completed the same blob first: it was there, not copied.
  if (completed === 'already there') completing(blob, -1, true)
}

/**
 * A write, counted as it is sent (`count(1)`): one whose answer is lost may have been applied, and
 * a report must not say less stays than does; uncounted (`count(-1)`) when ECR refused it.
 */
async function counted<T>(count: (n: number) => void, write: () => Promise<T>): Promise<T> {
  count(1)
  try {
    return await write()
  } catch (error) {
    if (refused(error)) count(-1)
    throw error
  }
}

/**
 * The stream cut into the ranges' parts, hashed and counted as the bytes come; the last part is
 * given only once the whole stream hashes to the blob's digest and has its size.
 */
async function* cut(
  stream: AsyncIterable<Uint8Array>,
  blob: Descriptor,
  ranges: readonly [number, number][],
  job: CopyJob
): AsyncGenerator<[[number, number], Uint8Array]> {
  const hash = createHash('sha256')
  let received = 0
  let index = 0
  // One buffer for every part of the blob: a part is sent before the next is read into it.
  const whole = ranges[0] && Buffer.allocUnsafe(ranges[0][1] - ranges[0][0] + 1)
  const allocate = () => {
    const range = ranges[index]
    return range && whole?.subarray(0, range[1] - range[0] + 1)
  }
  let part = allocate()
  let filled = 0
  for await (const chunk of stream) {
    hash.update(chunk)
    received += chunk.length
    for (let offset = 0; part && offset < chunk.length && filled < part.length;) {
      const taken = Math.min(part.length - filled, chunk.length - offset)
      part.set(chunk.subarray(offset, offset + taken), filled)
      filled += taken
      offset += taken
      if (filled === part.length && index < ranges.length - 1) {
        yield [ranges[index] as [number, number], part]
        index += 1
        part = allocate()
        filled = 0
      }
    }
  }
  const digest = `sha256:${hash.digest('hex')}`
  if (received !== blob.size || digest !== blob.digest)
    throw new Error(
      `blob ${blob.digest} (${blob.size} bytes) from ${job.from.split('/')[0]} arrived as ${received} bytes hashing to ${digest}: its upload to ${job.to} was not completed`
    )
  if (part) yield [ranges[index] as [number, number], part]
}
