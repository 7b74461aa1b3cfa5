// @ts-check
// moto_server as a second, independent ECR endpoint for the tests. startMoto() spawns it on a free
// port behind a thin HTTP proxy that forwards every request byte for byte and only rewrites
// BatchGetImage answers so that each image carries the tag requested for it (#1); `rawUrl` is
// moto itself. Clients use region us-east-1 and the credentials test/test; account 123456789012.
//
// moto 5.2.1's deviations from ECR (moto/ecr/models.py, responses.py), "moto → ECR: how the tests
// cope". Each is moto's answer in a row of __tests__/standin/contract.test.ts, so a change shows.
// 1  BatchGetImage: imageTag is the image's latest tag, by digest too → the requested one: the
//    proxy echoes the requested tag (none by digest); raw moto is asserted on rawUrl.
// 2  BatchGetImage: an id with tag AND digest matches either → both must match: the proxy refuses
//    it (400 MotoProxyUnsupported); the action looks up by tag or by digest, never both.
// 3  BatchGetImage: failures[].imageId is {imageTag: tag or 'null'} → the requested id: tests tell
//    failures by failureCode on moto.
// 4  BatchGetImage: acceptedMediaTypes ignored → UnsupportedImageType: the action sends all four.
// 5  PutImage: the digest is sha256 of the layer digests (an index's: of a random number 0-100) →
//    of the manifest bytes: seedImage() and the action always pass imageDigest.
// 6  PutImage: imageDigest stored verbatim → ImageDigestDoesNotMatchException.
// 7  PutImage: a tag moved off its image's last tag deletes that image → it stays, untagged.
// 8  PutImage: IMMUTABLE answers ImageAlreadyExistsException → ImageTagAlreadyExistsException: the
//    action reads the setting (DescribeRepositories) first and relies on neither name.
// 9  Exclusion filters as Python re.match ('v*' matches every tag) → WILDCARD over the whole tag.
// 10 PutImage: an index's children need not exist → ReferencedImagesNotFoundException:
//    seedImage() pushes children first.
// 11 PutImage: blobs never checked → LayersNotFoundException unless every blob is in the
//    repository: the fixtures' fake blobs seed emulators only; a promotion across repositories on
//    real ECR needs the blobs in the target.
// 12 PutImage: a missing repository or invalid JSON is a bare HTTP 500 (the SDK retries it) → 400:
//    the action checks the repository with DescribeRepositories first.
// 13 ListImages: maxResults, nextToken and filter.tagStatus ignored → code follows nextToken and
//    skips untagged entries itself.
// 14 DescribeImages: paging and tagStatus ignored, imageSizeInBytes the config's size, no
//    artifactMediaType → code follows nextToken and relies on neither.
// 15 DescribeRepositories: maxResults and nextToken ignored → code follows nextToken.
// 16 BatchDeleteImage: deletes a manifest an index references → ImageReferencedByManifestList.
// 17 BatchDeleteImage: an untagged image by digest answers imageIds [] → the action confirms
//    deletions by listing again.
// 18 No InvalidParameterException for a tag outside the grammar or over 128 characters, a
//    repository name of 1 or 257, a filter outside its grammar, 101 imageIds or names, imageIds
//    with maxResults, a media type the manifest contradicts or no tag names, *_WITH_EXCLUSION
//    without filters, a lifecycle policy under 100 characters: the action checks tags itself.
// 19 PutImage of no tag and a digest already stored: stored again → ImageAlreadyExistsException.
// 20 BatchDeleteImage of a tag with another image's digest: ImageNotFound →
//    ImageTagDoesNotMatchDigest: the action deletes by tag only.
// 21 PutImageTagMutability: the answer leaves the filters out: the action reads the setting with
//    DescribeRepositories.
// 22 BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload,
//    GetDownloadUrlForLayer and ListImageReferrers: HTTP 500 (not implemented), so no blob can be
//    copied → the ECR API's rules: a copy across registries runs on the stand-in only; on moto only
//    what needs no blob (STS AssumeRole into another account and Regions kept apart, which moto
//    has, a re-run whose manifests the target has, the errors before any copy). With #11, moto's
//    PutImage takes a manifest whose blobs the target lacks.
// What is asserted on the stand-in only (6, 7, 9, 10, 16, and negotiation) is the stand-in's row.

import { spawn } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'

export const MOTO_INSTALL_HINT =
  "moto_server not found on PATH; install it with: pip install 'moto[server]'"

const STARTUP_TIMEOUT_MS = 30_000
const BATCH_GET_IMAGE_TARGET = 'AmazonEC2ContainerRegistry_V20150921.BatchGetImage'
const DECODERS = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync
}

/** @returns {Promise<number>} */
const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = net.createServer().unref().on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => (port ? resolve(port) : reject(new Error('could not allocate a port'))))
    })
  })

/** Whether the URL answers HTTP at all (any status). @param {string} url @returns {Promise<boolean>} */
const answersHttp = (url) =>
  new Promise((resolve) => {
    const req = http.get(url, { timeout: 1_000 }, (res) => resolve(Boolean(res.resume())))
    req.on('timeout', () => req.destroy()).on('error', () => resolve(false))
  })

/**
 * @typedef {{ imageTag?: string, imageDigest?: string }} ImageId
 * @typedef {{ imageId?: ImageId, [k: string]: unknown }} ImageEntry
 * @typedef {{ imageId?: ImageId, failureCode?: string, failureReason?: string }} Failure
 */

/**
 * A moto BatchGetImage answer with the requested imageId.imageTag on every image. moto walks the
 * requested ids in order and, per id, appends every image that matches it, or one failure
 * {imageId: {imageTag: <requested tag> or 'null'}}. With ids that name a tag or a digest (never
 * both, #2) that is one image per found id, in request order, which is what this walks; any
 * inconsistency throws instead of guessing.
 * @param {ImageId[]} requestedIds
 * @param {{ images?: ImageEntry[], failures?: Failure[], [k: string]: unknown }} body
 */
export function rewriteBatchGetImage(requestedIds, body) {
  const { images = [], failures = [] } = body
  /** @type {ImageEntry[]} */
  const out = []
  let [ip, fp] = [0, 0]
  for (const id of requestedIds) {
    const { imageTag: tag, imageDigest: digest } = id
    const [nextImage, nextFailure] = [images[ip], failures[fp]]
    const failedHere = nextFailure?.imageId?.imageTag === (tag ?? 'null')
    const found = digest !== undefined ? nextImage?.imageId?.imageDigest === digest : !failedHere
    if (found && nextImage === undefined) {
      throw new Error(`no image returned for requested ${JSON.stringify(id)}`)
    }
    if (!found && !failedHere) {
      throw new Error(`no failure returned for requested ${JSON.stringify(id)}`)
    }
    if (found && nextImage) {
      /** @type {ImageId} */
      const imageId = { ...nextImage.imageId }
      if (tag === undefined) delete imageId.imageTag
      else imageId.imageTag = tag
      out.push({ ...nextImage, imageId })
      ip++
    } else fp++
  }
  if (ip !== images.length || fp !== failures.length) {
    throw new Error(
      `moto returned ${images.length} image(s) and ${failures.length} failure(s); ` +
        `matched ${ip} and ${fp} to the ${requestedIds.length} requested id(s)`
    )
  }
  return { ...body, images: out }
}

/** @param {http.IncomingMessage} stream */
async function readAll(stream) {
  /** @type {Buffer[]} */
  const chunks = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** @param {http.ServerResponse} res @param {number} status @param {string} type @param {string} message */
function sendError(res, status, type, message) {
  const body = JSON.stringify({ __type: type, message })
  const length = Buffer.byteLength(body)
  const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type }
  res.writeHead(status, { ...headers, 'content-length': length }).end(body)
}

/** @param {string} body the BatchGetImage request @returns {ImageId[] | undefined} */
function requestedIdsOf(body) {
  try {
    const parsed = JSON.parse(body)
    return Array.isArray(parsed?.imageIds) ? parsed.imageIds : undefined
  } catch {
    return undefined // not JSON: moto answers it unchanged
  }
}

/**
 * Rewrites moto's 200 answer to a BatchGetImage of `ids` (#1), or pipes any other answer through.
 * @param {http.IncomingMessage} motoRes @param {http.ServerResponse} res @param {ImageId[] | undefined} ids
 */
async function relay(motoRes, res, ids) {
  const status = motoRes.statusCode ?? 502
  if (!ids || status !== 200) {
    res.writeHead(status, motoRes.rawHeaders)
    motoRes.pipe(res)
    return
  }
  const encoding = /** @type {keyof DECODERS} */ (motoRes.headers['content-encoding'] ?? '')
  const raw = await readAll(motoRes)
  const text = (DECODERS[encoding]?.(raw) ?? raw).toString('utf8')
  let rewritten
  try {
    rewritten = JSON.stringify(rewriteBatchGetImage(ids, JSON.parse(text)))
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    sendError(res, 400, 'MotoProxyMappingError', `moto proxy: ${message}; moto said ${text}`)
    return
  }
  /** @type {Record<string, string | string[]>} */
  const headers = {}
  for (const [name, value] of Object.entries(motoRes.headers)) {
    if (value === undefined) continue
    if (['content-length', 'content-encoding', 'transfer-encoding'].includes(name)) continue
    headers[name] = value
  }
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(rewritten)) })
  res.end(rewritten)
}

/**
 * The rewriting proxy in front of moto.
 * @param {string} motoHost @param {number} motoPort @returns {Promise<http.Server>}
 */
function startProxy(motoHost, motoPort) {
  /** @param {http.ServerResponse} res @param {unknown} err */
  const destroy = (res, err) => res.destroy(err instanceof Error ? err : new Error(String(err)))
  const server = http.createServer(async (req, res) => {
    try {
      const requestBody = await readAll(req)
      const isBatchGet = String(req.headers['x-amz-target'] ?? '') === BATCH_GET_IMAGE_TARGET
      const ids = isBatchGet ? requestedIdsOf(requestBody.toString('utf8')) : undefined
      const both = ids?.find((id) => id.imageTag !== undefined && id.imageDigest)
      if (both) {
        const why =
          `moto proxy: imageId ${JSON.stringify(both)} names both imageTag and imageDigest; ` +
          'moto matches such ids with OR semantics (real ECR requires both to match), ' +
          'so the proxy cannot emulate ECR for it'
        return sendError(res, 400, 'MotoProxyUnsupported', why)
      }
      const { method, url: path, headers } = req
      const upstream = http.request({ host: motoHost, port: motoPort, method, path, headers })
      upstream.on('response', (motoRes) =>
        relay(motoRes, res, ids).catch((err) => destroy(res, err))
      )
      upstream.on('error', (err) => {
        if (res.headersSent) res.destroy(err)
        else sendError(res, 502, 'MotoProxyUpstreamError', `moto proxy: ${err.message}`)
      })
      upstream.end(requestBody)
    } catch (err) {
      destroy(res, err)
    }
  })
  return new Promise((resolve, reject) => {
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

/** @param {string} message */
const notFound = (message) => Object.assign(new Error(message), { code: 'MOTO_NOT_FOUND' })

/**
 * Spawns moto_server on a free port, waits until it answers HTTP, and starts the proxy before it.
 * @returns {Promise<{ url: string, rawUrl: string, close: () => Promise<void> }>}
 */
export async function startMoto() {
  const host = '127.0.0.1'
  const port = await freePort()
  const child = spawn('moto_server', ['-H', host, '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_DEFAULT_REGION: 'us-east-1' }
  })
  let output = ''
  /** @param {Buffer} chunk */
  const keepTail = (chunk) => {
    output = (output + chunk.toString('utf8')).slice(-4_000)
  }
  child.stdout?.on('data', keepTail)
  child.stderr?.on('data', keepTail)
  const ended = () => child.exitCode !== null || child.signalCode !== null
  /** @type {Promise<void>} */
  const exited = new Promise((resolve) =>
    ended() ? resolve() : child.once('exit', () => resolve())
  )
  /** @type {Error | undefined} */
  let spawnError
  child.once('error', (err) => {
    spawnError = err
  })
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const stop = async () => {
    process.removeListener('exit', killOnExit)
    if (child.pid === undefined || ended()) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }

  const rawUrl = `http://${host}:${port}`
  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  for (;;) {
    if (spawnError) {
      await stop()
      const code = /** @type {NodeJS.ErrnoException} */ (spawnError).code
      if (code === 'ENOENT') throw notFound(MOTO_INSTALL_HINT)
      throw new Error(`could not start moto_server: ${spawnError.message}`)
    }
    if (ended()) {
      const detail = `moto_server exited (code ${child.exitCode}, signal ${child.signalCode}) before answering:\n${output}`
      const missing = child.exitCode === 127 || /command not found|No module named/i.test(output)
      throw missing ? notFound(`${MOTO_INSTALL_HINT}\n${detail}`) : new Error(detail)
    }
    if (await answersHttp(`${rawUrl}/moto-api/`)) break
    if (Date.now() > deadline) {
      await stop()
      const limit = STARTUP_TIMEOUT_MS / 1000
      throw new Error(`moto_server did not answer on ${rawUrl} within ${limit} s:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }

  const proxy = await startProxy(host, port).catch(async (err) => {
    await stop()
    throw err
  })
  const addr = proxy.address()
  const proxyPort = typeof addr === 'object' && addr ? addr.port : 0
  return {
    url: `http://${host}:${proxyPort}`,
    rawUrl,
    async close() {
      await new Promise((resolve) => {
        proxy.close(() => resolve(undefined))
        proxy.closeAllConnections()
      })
      await stop()
    }
  }
}
