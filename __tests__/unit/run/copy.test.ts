import { CopyFailed, cosignTags, nothingCopied, type CopyReport } from '../../../src/core/copy.js'
import type { Manifest } from '../../../src/core/model.js'
import { DownloadFailed } from '../../../src/ecr/blobs.js'
import { copyImage, uploadTurns, type CopyOptions } from '../../../src/run/copy.js'
import { nameOf } from '../../support/builders.js'
import { fakeEffects, rejection } from '../../support/harness.js'
import { memoryRegistry, type MemoryRegistry } from '../../support/memory-registry.js'
import { MEDIA_TYPES, digestOf } from '../../support/oci.mjs'
import { describeCopy } from '../../../src/report/result.js'

const MiB = 1024 * 1024
const SOURCE = '123456789012.dkr.ecr.us-east-1.amazonaws.com'
const TARGET = '210987654321.dkr.ecr.eu-west-1.amazonaws.com'

/** An OCI image whose config and layers are real blobs stored in `registry`. */
function image(registry: MemoryRegistry, name: string, layers: Uint8Array[], extra = {}): Manifest {
  const descriptor = (mediaType: string, bytes: Uint8Array) => ({
    mediaType,
    ...registry.blob(bytes)
  })
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: descriptor(MEDIA_TYPES.ociConfig, Buffer.from(`{"name":"${name}"}`)),
    layers: layers.map((layer) => descriptor(MEDIA_TYPES.ociLayerGzip, layer)),
    ...extra
  })
  registry.manifests.set(digestOf(body), {
    digest: digestOf(body),
    mediaType: MEDIA_TYPES.ociManifest,
    body
  })
  return { digest: digestOf(body), mediaType: MEDIA_TYPES.ociManifest, body }
}

/** A source with a multi-arch image whose two platforms share a base layer of 12 MiB, and an empty target. */
function world() {
  const source = memoryRegistry()
  const base = Buffer.alloc(12 * MiB, 'base')
  const amd64 = image(source, 'amd64', [base, Buffer.alloc(1000, 'amd64')])
  const arm64 = image(source, 'arm64', [base, Buffer.alloc(1000, 'arm64')])
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [amd64, arm64].map(({ digest, mediaType, body }) => ({
      mediaType,
      digest,
      size: body.length
    }))
  })
  const root = { digest: digestOf(body), mediaType: MEDIA_TYPES.ociIndex, body }
  source.set('app', { 'sha-a1b2c3d': root })
  return { source, target: memoryRegistry(), root, amd64, arm64, base: source.blob(base) }
}

/** The download of a memory registry's URL, in chunks of 1 MiB; `alter` changes what a blob's download gives. */
const download =
  (registry: MemoryRegistry, alter?: (digest: string, chunks: Uint8Array[]) => Uint8Array[]) =>
  async (url: string): Promise<AsyncIterable<Uint8Array>> => {
    const digest = url.slice('memory:'.length)
    const bytes = registry.blobs.get(digest) ?? new Uint8Array()
    const chunks = Array.from({ length: Math.ceil(bytes.length / MiB) }, (_, i) =>
      bytes.subarray(i * MiB, (i + 1) * MiB)
    )
    return (async function* () {
      yield* alter ? alter(digest, chunks) : chunks
    })()
  }

const copy = (
  { source, target, root }: { source: MemoryRegistry; target: MemoryRegistry; root: Manifest },
  options: Partial<CopyOptions> = {}
) =>
  copyImage(
    source,
    target,
    { repository: 'app', manifest: root, from: `${SOURCE}/app@${root.digest}`, to: TARGET },
    {
      dryRun: false,
      effects: fakeEffects().effects,
      pace: async () => {},
      fetchBlob: download(source),
      uploads: uploadTurns(),
      ...options
    }
  )

/** The calls of a registry's log of one kind: `part`, `complete`, `put-manifest`. */
const calls = (registry: MemoryRegistry, operation: string) =>
  registry.log.filter((entry) => entry.startsWith(`${operation} `))
const WRITES = ['start', 'part', 'complete', 'put-manifest', 'put']
const writes = (registry: MemoryRegistry) =>
  WRITES.flatMap((operation) => calls(registry, operation))
const report = (extra: Partial<CopyReport>): CopyReport => ({
  ...nothingCopied(expect.stringMatching(`^${SOURCE}/app@sha256:`) as unknown as string),
  ...extra
})
/** The bytes of the two images' blobs: the base, two layers of 1000 bytes, two configs. */
const ALL_BYTES = 12 * MiB + 2000 + 2 * '{"name":"amd64"}'.length

describe('copyImage', () => {
  it('copies a multi-arch image byte for byte: each blob once, in 5 MiB parts, children before the index', async () => {
    const copied = world()
    const { source, target, root, amd64, arm64, base } = copied
    expect(await copy(copied)).toEqual(
      report({ blobs: { copied: 5, present: 0, lacking: 5 }, bytes: ALL_BYTES, manifests: 3 })
    )
    for (const { digest } of [root, amd64, arm64])
      expect(target.manifests.get(digest)).toEqual(source.manifests.get(digest))
    // Compared as bytes: a deep equality of 12 MiB takes a minute.
    expect([...target.blobs.keys()].sort()).toEqual([...source.blobs.keys()].sort())
    for (const [digest, bytes] of source.blobs)
      expect(Buffer.compare(bytes, target.blobs.get(digest) as Uint8Array)).toBe(0)
    expect(calls(target, 'start')).toHaveLength(5)
    const baseUpload = calls(target, 'part')
      .filter((entry) => entry.endsWith(`-${base.size - 1}`))[0]
      ?.split(' ')[2]
    expect(calls(target, 'part').filter((entry) => entry.includes(` ${baseUpload} `))).toEqual(
      ['0-5242879', '5242880-10485759', '10485760-12582911'].map(
        (range) => `part app ${baseUpload} ${range}`
      )
    )
    expect(calls(target, 'put-manifest')).toEqual(
      [amd64, arm64, root].map(({ digest }) => `put-manifest app ${nameOf(digest)}`)
    )
    expect(target.tags('app')).toEqual({})
  })

  it.each<
    [string, (copied: ReturnType<typeof world>) => Promise<unknown>, Partial<CopyReport>, number]
  >([
    ['a re-run: everything is there', (copied) => copy(copied), {}, 0],
    [
      'the shared base layer there',
      async ({ target, base, source }) => target.blob(source.blobs.get(base.digest) as Uint8Array),
      { blobs: { copied: 4, present: 1, lacking: 4 }, bytes: ALL_BYTES - 12 * MiB, manifests: 3 },
      4
    ],
    [
      'the shared base layer completed by another writer while this one uploaded it',
      async ({ target, base, source }) =>
        target.fault({
          operation: 'complete',
          ref: base.digest,
          before: (into) => void into.blob(source.blobs.get(base.digest) as Uint8Array)
        }),
      { blobs: { copied: 4, present: 1, lacking: 5 }, bytes: ALL_BYTES - 12 * MiB, manifests: 3 },
      5
    ],
    [
      'one platform image there: its blobs are not checked, the other image only sends its own',
      async ({ source, target, amd64 }) => {
        for (const [digest, bytes] of source.blobs)
          if (amd64.body.includes(digest)) target.blob(bytes)
        target.manifests.set(amd64.digest, amd64)
      },
      {
        blobs: { copied: 2, present: 1, lacking: 2 },
        bytes: 1000 + '{"name":"arm64"}'.length,
        manifests: 2
      },
      2
    ]
  ])('sends only what the target lacks: %s', async (_, before, expected, uploads) => {
    const copied = world()
    await before(copied)
    copied.target.log.length = 0
    expect(await copy(copied)).toEqual(report(expected))
    expect(calls(copied.target, 'start')).toHaveLength(uploads)
    if (uploads === 0) expect(copied.target.log).toEqual([expect.stringMatching(/^read app /)])
  })

  it('reads both sides only in a dry run, and says what it would copy', async () => {
    const copied = world()
    copied.target.blob(copied.source.blobs.get(copied.base.digest) as Uint8Array)
    expect(await copy(copied, { dryRun: true })).toEqual(
      report({
        blobs: { copied: 4, present: 1, lacking: 4 },
        bytes: ALL_BYTES - 12 * MiB,
        manifests: 3
      })
    )
    expect(copied.target.log.map((entry) => entry.split(' ')[0])).toEqual(['read', 'check'])
    expect(calls(copied.source, 'url')).toEqual([])
  })

  const flip = (chunks: Uint8Array[]) => [
    ...chunks.slice(0, -1),
    Buffer.from((chunks.at(-1) as Uint8Array).map((byte, i) => (i === 0 ? byte ^ 1 : byte)))
  ]
  it.each([
    ['a changed byte', flip, 12 * MiB],
    [
      'a byte short',
      (chunks: Uint8Array[]) => [...chunks.slice(0, -1), (chunks.at(-1) as Uint8Array).subarray(1)],
      12 * MiB - 1
    ],
    ['a byte more', (chunks: Uint8Array[]) => [...chunks, Buffer.from('x')], 12 * MiB + 1]
  ])(
    'refuses a blob whose download has %s before completing its upload',
    async (_, alter, received) => {
      const copied = world()
      const { target, base } = copied
      const fetchBlob = download(copied.source, (digest, chunks) =>
        digest === base.digest ? alter(chunks) : chunks
      )
      const error = await rejection(copy(copied, { fetchBlob }))
      expect(error).toBeInstanceOf(CopyFailed)
      expect(error.message).toMatch(
        new RegExp(
          `^blob ${base.digest} \\(12582912 bytes\\) from ${SOURCE} arrived as ${received} bytes hashing to sha256:[0-9a-f]{64}: its upload to ${TARGET} was not completed; none of the run's tags was written; \\d+ blobs, 0 untagged manifests copied stay in ${TARGET}$`
        )
      )
      expect(target.blobs.has(base.digest)).toBe(false)
      expect(calls(target, 'put-manifest')).toEqual([])
      expect((error as CopyFailed).report.blobs.copied).toBe(calls(target, 'complete').length)
      // Part of the image was copied: the line must not read as a whole copy.
      expect(describeCopy({ repository: 'app', ...(error as CopyFailed).report })).not.toMatch(
        /copied (\d+) of \1 blobs/
      )
    }
  )

  it('fails before any tag when a blob the target had at the check is gone at PutImage', async () => {
    const copied = world()
    copied.target.blob(copied.source.blobs.get(copied.base.digest) as Uint8Array)
    copied.target.fault({
      operation: 'put-manifest',
      before: (target) => target.blobs.delete(copied.base.digest)
    })
    await expect(copy(copied)).rejects.toThrow(
      `LayersNotFoundException: ${copied.base.digest}; none of the run's tags was written; 4 blobs, 0 untagged manifests copied stay in ${TARGET}`
    )
    expect(copied.target.tags('app')).toEqual({})
  })

  it('stops when the run is cancelled mid-copy, and says what stays', async () => {
    const cancel = new AbortController()
    const copied = world()
    const fetchBlob = download(copied.source, (digest, chunks) =>
      digest === copied.base.digest
        ? ((function* () {
            yield* chunks.slice(0, 5)
            cancel.abort()
            yield* chunks.slice(5)
          })() as unknown as Uint8Array[])
        : chunks
    )
    const error = await rejection(
      copy(copied, { fetchBlob, effects: fakeEffects(cancel.signal).effects })
    )
    expect(error.message).toMatch(
      new RegExp(
        `^the copy was cancelled; none of the run's tags was written; (nothing was copied into|\\d+ blobs, 0 untagged manifests copied stay in) ${TARGET}$`
      )
    )
    expect(calls(copied.target, 'put-manifest')).toEqual([])
    expect((error as CopyFailed).report.blobs.copied).toBe(calls(copied.target, 'complete').length)
  })

  it.each([
    [
      'a download failing before the first part (an expired URL): one new URL, then the copy',
      0,
      2,
      undefined
    ],
    [
      'a download failing after the first part went out: no retry',
      5,
      1,
      /the download from s3 failed/
    ]
  ])('%s', async (_, after, urls, refused) => {
    const copied = world()
    let failures = 1
    const fetchBlob = download(copied.source, (digest, chunks) => {
      if (digest !== copied.base.digest || failures-- <= 0) return chunks
      return (function* () {
        yield* chunks.slice(0, after)
        throw new DownloadFailed('the download from s3 failed', true)
      })() as unknown as Uint8Array[]
    })
    const copying = copy(copied, { fetchBlob })
    if (refused) await expect(copying).rejects.toThrow(refused)
    else expect((await copying).blobs.copied).toBe(5)
    expect(
      calls(copied.source, 'url').filter((entry) => entry.endsWith(nameOf(copied.base.digest)))
    ).toHaveLength(urls)
  })

  it('carries cosign tags and OCI referrers, each after its subject, and keeps a cosign tag the target has elsewhere', async () => {
    const source = memoryRegistry()
    const target = memoryRegistry()
    const root = image(source, 'app', [Buffer.from('layer')])
    const subject = { mediaType: root.mediaType, digest: root.digest, size: root.body.length }
    const [sig, att, sbom, archived] = ['sig', 'att', 'sbom', 'old'].map((name) =>
      image(
        source,
        name,
        [Buffer.from(name)],
        name === 'sig' || name === 'att' ? {} : { artifactType: 'application/spdx+json', subject }
      )
    ) as [Manifest, Manifest, Manifest, Manifest]
    source.facts[archived.digest] = { status: 'ARCHIVED' }
    const [sigTag, attTag] = cosignTags(root.digest)
    source.set('app', { 'sha-a1b2c3d': root, [sigTag as string]: sig, [attTag as string]: att })
    const other = image(target, 'theirs', [])
    target.set('app', { [attTag as string]: other })

    expect(await copy({ source, target, root })).toEqual(
      report({
        blobs: { copied: 8, present: 0, lacking: 8 },
        bytes: expect.any(Number) as unknown as number,
        manifests: 4,
        referrers: 2,
        warnings: [
          `1 referrers of ${SOURCE}/app@${root.digest} are archived and were not copied: archived images cannot be pulled`,
          `app:${attTag} in ${TARGET} names ${other.digest}, not ${att.digest} as in ${SOURCE}/app@${root.digest}: kept`
        ]
      })
    )
    expect(target.tags('app')).toEqual({
      [sigTag as string]: sig.digest,
      [attTag as string]: other.digest
    })
    expect([...writes(target)].filter((entry) => !/^(start|part|complete) /.test(entry))).toEqual([
      ...[root, sbom, sig, att].map(({ digest }) => `put-manifest app ${nameOf(digest)}`),
      `put app:${sigTag}=${nameOf(sig.digest)}`
    ])
    expect(target.manifests.has(archived.digest)).toBe(false)
  })

  it('keeps one part in flight in the run, across two copies at once', async () => {
    const copied = world()
    const other = image(copied.source, 'other', [
      Buffer.alloc(6 * MiB, 'one'),
      Buffer.alloc(6 * MiB, 'two')
    ])
    const uploads = uploadTurns()
    await Promise.all([copy(copied, { uploads }), copy({ ...copied, root: other }, { uploads })])
    expect(calls(copied.target, 'part')).toHaveLength(7 + 5)
    expect(copied.target.mostInFlight).toBe(1)
  })
})

describe('copyImage under the adversary (issue 22)', () => {
  it('counts a manifest ECR stored before its answer was lost among what stays in the target', async () => {
    const copied = world()
    copied.target.fault({ operation: 'put-manifest', ref: copied.arm64.digest, kind: 'lost' })
    const error = await rejection(copy(copied))
    expect(copied.target.manifests.has(copied.amd64.digest)).toBe(true)
    expect(copied.target.manifests.has(copied.arm64.digest)).toBe(true)
    // Two untagged manifests stay in the target: the report must not say fewer.
    expect((error as CopyFailed).report.manifests).toBe(2)
  })

  it('counts a blob ECR completed before the run was cancelled among what stays in the target', async () => {
    const cancel = new AbortController()
    const copied = world()
    copied.target.fault({
      operation: 'complete',
      ref: copied.base.digest,
      kind: 'lost',
      before: () => cancel.abort()
    })
    const error = await rejection(copy(copied, { effects: fakeEffects(cancel.signal).effects }))
    expect(error.message).toMatch(/^the copy was cancelled; /)
    expect(copied.target.blobs.has(copied.base.digest)).toBe(true)
    expect((error as CopyFailed).report.blobs.copied).toBe(copied.target.blobs.size)
  })

  it('keeps the downloads held open at once within the run bound, however many repositories copy', async () => {
    const copied = world()
    const others = ['one', 'two', 'three'].map((name) =>
      image(
        copied.source,
        name,
        [6, 7, 8].map((n) => Buffer.alloc(n * MiB, `${name}${n}`))
      )
    )
    let open = 0
    let mostOpen = 0
    const inner = download(copied.source)
    const fetchBlob = async (url: string) => {
      const stream = await inner(url)
      return (async function* () {
        mostOpen = Math.max(mostOpen, ++open)
        try {
          yield* stream
        } finally {
          open -= 1
        }
      })()
    }
    const uploads = uploadTurns()
    await Promise.all(others.map((root) => copy({ ...copied, root }, { uploads, fetchBlob })))
    // Each open download holds a 5 MiB part waiting for the run's one upload turn: the run's
    // memory bound (BLOBS_AT_ONCE = 2) holds across repositories, not per repository.
    expect(mostOpen).toBe(2)
  })
})
