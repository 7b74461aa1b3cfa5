// @ts-check
// moto_server as a second, independent ECR endpoint for the tests.
//
// startMoto() spawns `moto_server` on a free port and puts a thin HTTP proxy in
// front of it. The proxy forwards every request byte-for-byte and only rewrites
// BatchGetImage responses so that each images[i].imageId.imageTag is the tag
// that was requested for it (see deviation 1 below). Tests that want moto's
// unmodified answers use `rawUrl`.
//
// Clients must use region 'us-east-1' and the dummy credentials test/test
// (clientFor in ./harness.ts gives exactly that). moto's default account id
// is 123456789012.
//
// Known moto 5.2.1 deviations from real Amazon ECR (confirmed in
// moto/ecr/models.py and moto/ecr/responses.py; each one is the moto answer of
// a row of __tests__/standin/contract.test.ts, so we notice when moto changes):
//
// | #  | API               | moto 5.2.1                                                       | real ECR                                                      | how the tests handle it                                                         |
// |----|-------------------|------------------------------------------------------------------|---------------------------------------------------------------|---------------------------------------------------------------------------------|
// | 1  | BatchGetImage     | imageId.imageTag is the image's most recently added tag          | echoes the requested imageId (requested tag; no tag when the  | the proxy rewrites imageTag to the requested one (and drops it for digest-only  |
// |    |                   | (Image.image_id), also for digest-only requests                  | image was requested by digest only)                           | requests); tests use MOTO_ENDPOINT (proxy); raw behaviour asserted on rawUrl    |
// | 2  | BatchGetImage     | an imageId with BOTH tag and digest matches an image having the  | both must match the same image, otherwise the id fails        | the proxy rejects such requests with a 400 MotoProxyUnsupported error (never    |
// |    |                   | digest OR the tag (may return 2 images, never fails)             | (ImageTagDoesNotMatchDigest / ImageNotFound)                  | silently wrong); the action must look images up by tag or by digest, never both  |
// | 3  | BatchGetImage     | failures[].imageId is {imageTag: <tag> or 'null'}: a missing     | failure echoes the requested imageId (the digest for digest   | tests identify failures by failureCode only, never by failures[].imageId        |
// |    |                   | digest is reported as imageTag 'null', without imageDigest        | lookups)                                                      | .imageDigest on moto; the proxy does not rewrite failures                       |
// | 4  | BatchGetImage     | acceptedMediaTypes ignored: the stored manifest is always        | negotiates on acceptedMediaTypes (stored type not accepted:   | the action must send all four manifest/index types; media-type negotiation       |
// |    |                   | returned unchanged                                               | converted manifest or a failure)                              | is only asserted on the stand-in endpoint                                       |
// | 5  | PutImage          | digest is NOT a content hash unless imageDigest is passed:       | digest = sha256 of the manifest bytes                         | seedImage() always passes imageDigest (= digestOf(manifest)); the action must    |
// |    |                   | sha256(concatenated layer digests), or for indexes sha256 of a   |                                                               | pass the source digest when re-pointing a tag                                   |
// |    |                   | random int in 0..100 (different indexes can collide)             |                                                               |                                                                                 |
// | 6  | PutImage          | a passed imageDigest is stored verbatim, never verified          | ImageDigestDoesNotMatchException                              | fixtures always pass digestOf(manifest); digest verification is asserted on the |
// |    |                   |                                                                  |                                                               | stand-in only                                                                   |
// | 7  | PutImage          | moving a tag off an image whose only tag it was DELETES that     | the old image stays in the repository, untagged               | tests asserting that untagged images survive run on the stand-in only; the moto |
// |    |                   | image (put_image calls batch_delete_image on the tag)            |                                                               | suite asserts moto's behaviour (image gone) instead                             |
// | 8  | PutImage          | existing tag in an IMMUTABLE repository raises                   | ImageTagAlreadyExistsException                                | the action reads imageTagMutability (DescribeRepositories) before writing and   |
// |    |                   | ImageAlreadyExistsException                                      |                                                               | refuses up front, so neither exception name is relied on                        |
// | 9  | PutImage          | imageTagMutabilityExclusionFilters are applied with Python       | 'WILDCARD' filters ('*' = any run of characters, whole tag)   | exclusion-filter semantics are asserted on the stand-in only                    |
// |    | PutImageTag-      | re.match (a regex prefix match), e.g. filter 'v*' matches every  |                                                               |                                                                                 |
// |    | Mutability        | tag because 'v*' also matches the empty string                   |                                                               |                                                                                 |
// | 10 | PutImage          | an index/manifest list may reference manifests that are not in   | ReferencedImagesNotFoundException                             | seedImage() always pushes children first; "missing child" checks are asserted  |
// |    |                   | the repository                                                   |                                                               | on the stand-in only                                                            |
// | 11 | PutImage          | config/layer blobs are never checked (our fixtures reference     | LayersNotFoundException unless every blob is in the target   | fixtures use fake blobs, so they can only be seeded into emulators; cross-       |
// |    |                   | blobs that do not exist)                                         | repository                                                    | repository promotion on real ECR needs the blobs present in the target          |
// | 12 | PutImage          | missing repository (or invalid JSON) raises a bare Python        | RepositoryNotFoundException / InvalidParameterException (400) | tests never assert the error name for these cases on moto; the action must check|
// |    |                   | Exception: HTTP 500 (the SDK retries it) with no ECR error code  |                                                               | the repository with DescribeRepositories first                                  |
// | 13 | ListImages        | maxResults and nextToken ignored (everything in one page, no     | pages of at most maxResults (default 100) with nextToken      | code always follows nextToken; pagination is asserted on the stand-in           |
// |    |                   | nextToken); filter.tagStatus ignored (untagged entries included) | tagStatus filter honoured                                     | code skips entries without imageTag regardless of the filter                    |
// | 14 | DescribeImages    | maxResults/nextToken and filter.tagStatus ignored;               | paginated, filtered; imageSizeInBytes is the image size;      | code follows nextToken and never relies on artifactMediaType or the size; those |
// |    |                   | imageSizeInBytes = config.size; artifactMediaType never returned | artifactMediaType = config media type                         | are asserted on the stand-in only                                               |
// | 15 | DescribeRepos     | maxResults/nextToken ignored (all repositories, no nextToken)    | paginated                                                     | code follows nextToken; pagination asserted on the stand-in                     |
// | 16 | BatchDeleteImage  | deletes a manifest that an index still references                | failure ImageReferencedByManifestList                         | referenced-child protection is asserted on the stand-in only                    |
// | 17 | BatchDeleteImage  | deleting an UNTAGGED image by digest removes it but returns      | imageIds: [{ imageDigest }]                                   | the action must confirm deletions by re-listing, not by counting the returned   |
// |    |                   | imageIds: [] (one entry is emitted per tag, and it has none)     |                                                               | imageIds; the count is asserted on the stand-in only                            |
// | 18 | (several)         | does not check what ECR refuses with InvalidParameterException:  | InvalidParameterException                                     | the action checks tags itself; the checks are asserted on the stand-in, and     |
// |    |                   | a tag outside the tag grammar or over 128 characters, a          |                                                               | moto's answers in the same rows                                                 |
// |    |                   | repository name of 1 or 257 characters, an exclusion filter      |                                                               |                                                                                 |
// |    |                   | outside its grammar, 101 imageIds or repositoryNames,            |                                                               |                                                                                 |
// |    |                   | DescribeImages imageIds with maxResults, a media type the        |                                                               |                                                                                 |
// |    |                   | manifest contradicts or no tag names, *_WITH_EXCLUSION without   |                                                               |                                                                                 |
// |    |                   | filters (PutImageTagMutability), a lifecycle policy under 100    |                                                               |                                                                                 |
// |    |                   | characters                                                       |                                                               |                                                                                 |
// | 19 | PutImage          | no tag and a digest already stored: stored again                 | ImageAlreadyExistsException                                   | seedImage() ignores ImageAlreadyExistsException for children either way         |
// | 20 | BatchDeleteImage  | a tag with the digest of another image: failure ImageNotFound    | failure ImageTagDoesNotMatchDigest                            | the action deletes by tag, never by tag and digest                              |
// | 21 | PutImageTag-      | the answer leaves imageTagMutabilityExclusionFilters out         | answers the filters set                                       | the action only reads the setting, with DescribeRepositories                    |
// |    | Mutability        |                                                                  |                                                               |                                                                                 |
//
// Rows of the contract without a moto answer are rules moto implements as ECR does.

import { spawn } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import { gunzipSync, inflateSync, brotliDecompressSync } from 'node:zlib'

export const MOTO_INSTALL_HINT =
  "moto_server not found on PATH; install it with: pip install 'moto[server]'"

const MOTO_REGION = 'us-east-1'
const STARTUP_TIMEOUT_MS = 30_000
const BATCH_GET_IMAGE_TARGET = 'AmazonEC2ContainerRegistry_V20150921.BatchGetImage'

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => (port ? resolve(port) : reject(new Error('could not allocate a port'))))
    })
  })
}

/**
 * Resolves true once the URL answers HTTP at all (any status).
 * @param {string} url
 */
function answersHttp(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 1_000 }, (res) => {
      res.resume()
      resolve(true)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
  })
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * @typedef {{ imageTag?: string, imageDigest?: string }} ImageId
 * @typedef {{ imageId?: ImageId, [k: string]: unknown }} ImageEntry
 * @typedef {{ imageId?: ImageId, failureCode?: string, failureReason?: string }} Failure
 */

class ProxyMappingError extends Error {}

/**
 * Rewrite a moto BatchGetImage response body so every returned image carries
 * the imageId.imageTag that was requested for it.
 *
 * moto (ECRBackend.batch_get_image) walks the requested imageIds in order and,
 * per id, appends every image that matches it to `images`, or, if none
 * matches, appends one failure {imageId: {imageTag: <requested tag> or
 * 'null'}} to `failures`. With ids that name a tag only or a digest only
 * (tags and content digests are unique within a repository) that is exactly
 * one image per found id, in request order, which is what this walks. Any
 * inconsistency raises instead of guessing.
 *
 * Exported for unit tests.
 * @param {ImageId[]} requestedIds
 * @param {{ images?: ImageEntry[], failures?: Failure[], [k: string]: unknown }} body
 */
export function rewriteBatchGetImage(requestedIds, body) {
  const images = body.images ?? []
  const failures = body.failures ?? []
  /** @type {ImageEntry[]} */
  const out = []
  let ip = 0
  let fp = 0
  for (const id of requestedIds) {
    const tag = id.imageTag
    const digest = id.imageDigest
    const failureKey = tag ?? 'null'
    const nextImage = images[ip]
    const nextFailure = failures[fp]
    let found
    if (digest !== undefined) {
      found = nextImage !== undefined && nextImage.imageId?.imageDigest === digest
    } else {
      found = !(nextFailure !== undefined && nextFailure.imageId?.imageTag === failureKey)
    }
    if (found) {
      if (nextImage === undefined) {
        throw new ProxyMappingError(`no image returned for requested ${JSON.stringify(id)}`)
      }
      /** @type {ImageId} */
      const imageId = { ...nextImage.imageId }
      if (tag === undefined) delete imageId.imageTag
      else imageId.imageTag = tag
      out.push({ ...nextImage, imageId })
      ip++
    } else {
      if (nextFailure === undefined || nextFailure.imageId?.imageTag !== failureKey) {
        throw new ProxyMappingError(`no failure returned for requested ${JSON.stringify(id)}`)
      }
      fp++
    }
  }
  if (ip !== images.length || fp !== failures.length) {
    throw new ProxyMappingError(
      `moto returned ${images.length} image(s) and ${failures.length} failure(s); ` +
        `matched ${ip} and ${fp} to the ${requestedIds.length} requested id(s)`
    )
  }
  return { ...body, images: out }
}

/**
 * @param {http.IncomingMessage} stream
 * @returns {Promise<Buffer>}
 */
async function readAll(stream) {
  /** @type {Buffer[]} */
  const chunks = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/**
 * @param {Buffer} buf
 * @param {string | undefined} encoding
 */
function decode(buf, encoding) {
  switch ((encoding ?? 'identity').toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(buf)
    case 'deflate':
      return inflateSync(buf)
    case 'br':
      return brotliDecompressSync(buf)
    default:
      return buf
  }
}

/**
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {string} type
 * @param {string} message
 */
function sendError(res, status, type, message) {
  const body = JSON.stringify({ __type: type, message })
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(body),
    'x-amzn-errortype': type
  })
  res.end(body)
}

/**
 * Start the rewriting proxy in front of moto.
 * @param {string} motoHost
 * @param {number} motoPort
 * @returns {Promise<http.Server>}
 */
function startProxy(motoHost, motoPort) {
  const server = http.createServer(async (req, res) => {
    try {
      const requestBody = await readAll(req)
      const isBatchGet = String(req.headers['x-amz-target'] ?? '') === BATCH_GET_IMAGE_TARGET
      /** @type {ImageId[] | undefined} */
      let requestedIds
      if (isBatchGet) {
        try {
          const parsed = JSON.parse(requestBody.toString('utf8'))
          if (Array.isArray(parsed?.imageIds)) requestedIds = parsed.imageIds
        } catch {
          requestedIds = undefined // not JSON: let moto answer it unchanged
        }
        const both = requestedIds?.find((id) => id.imageTag !== undefined && id.imageDigest)
        if (both) {
          sendError(
            res,
            400,
            'MotoProxyUnsupported',
            `moto proxy: imageId ${JSON.stringify(both)} names both imageTag and imageDigest; ` +
              'moto matches such ids with OR semantics (real ECR requires both to match), ' +
              'so the proxy cannot emulate ECR for it'
          )
          return
        }
      }

      const upstream = http.request({
        host: motoHost,
        port: motoPort,
        method: req.method,
        path: req.url,
        headers: req.headers
      })
      upstream.on('response', async (motoRes) => {
        try {
          const status = motoRes.statusCode ?? 502
          if (!requestedIds || status !== 200) {
            res.writeHead(status, motoRes.rawHeaders)
            motoRes.pipe(res)
            return
          }
          const raw = await readAll(motoRes)
          const text = decode(raw, motoRes.headers['content-encoding']).toString('utf8')
          let rewritten
          try {
            rewritten = JSON.stringify(rewriteBatchGetImage(requestedIds, JSON.parse(text)))
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err)
            sendError(
              res,
              400,
              'MotoProxyMappingError',
              `moto proxy: ${message}; moto said ${text}`
            )
            return
          }
          /** @type {Record<string, string | string[]>} */
          const headers = {}
          for (const [name, value] of Object.entries(motoRes.headers)) {
            if (value === undefined) continue
            if (['content-length', 'content-encoding', 'transfer-encoding'].includes(name)) continue
            headers[name] = value
          }
          headers['content-length'] = String(Buffer.byteLength(rewritten))
          res.writeHead(status, headers)
          res.end(rewritten)
        } catch (err) {
          res.destroy(err instanceof Error ? err : new Error(String(err)))
        }
      })
      upstream.on('error', (err) => {
        if (res.headersSent) res.destroy(err)
        else sendError(res, 502, 'MotoProxyUpstreamError', `moto proxy: ${err.message}`)
      })
      upstream.end(requestBody)
    } catch (err) {
      res.destroy(err instanceof Error ? err : new Error(String(err)))
    }
  })
  return new Promise((resolve, reject) => {
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

/**
 * Spawn moto_server on a free port, wait until it answers HTTP, and start the
 * BatchGetImage-echo proxy in front of it.
 * @returns {Promise<{ url: string, rawUrl: string, close: () => Promise<void> }>}
 */
export async function startMoto() {
  const host = '127.0.0.1'
  const port = await freePort()
  const child = spawn('moto_server', ['-H', host, '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_DEFAULT_REGION: MOTO_REGION }
  })

  let output = ''
  /** @param {Buffer} chunk */
  const keepTail = (chunk) => {
    output = (output + chunk.toString('utf8')).slice(-4_000)
  }
  child.stdout?.on('data', keepTail)
  child.stderr?.on('data', keepTail)

  /** @type {Promise<void>} */
  const exited = new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  /** @type {Error | undefined} */
  let spawnError
  child.once('error', (err) => {
    spawnError = err
  })
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)

  const stop = async () => {
    process.removeListener('exit', killOnExit)
    const running = child.pid !== undefined && child.exitCode === null && child.signalCode === null
    if (running) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }
  }

  const rawUrl = `http://${host}:${port}`
  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  for (;;) {
    if (spawnError) {
      await stop()
      const code = /** @type {NodeJS.ErrnoException} */ (spawnError).code
      if (code === 'ENOENT')
        throw Object.assign(new Error(MOTO_INSTALL_HINT), { code: 'MOTO_NOT_FOUND' })
      throw new Error(`could not start moto_server: ${spawnError.message}`)
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      const notFound = child.exitCode === 127 || /command not found|No module named/i.test(output)
      const detail = `moto_server exited (code ${child.exitCode}, signal ${child.signalCode}) before answering:\n${output}`
      if (notFound) {
        throw Object.assign(new Error(`${MOTO_INSTALL_HINT}\n${detail}`), {
          code: 'MOTO_NOT_FOUND'
        })
      }
      throw new Error(detail)
    }
    if (await answersHttp(`${rawUrl}/moto-api/`)) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(
        `moto_server did not answer on ${rawUrl} within ${STARTUP_TIMEOUT_MS / 1000} s:\n${output}`
      )
    }
    await sleep(100)
  }

  let proxy
  try {
    proxy = await startProxy(host, port)
  } catch (err) {
    await stop()
    throw err
  }
  const addr = proxy.address()
  const proxyPort = typeof addr === 'object' && addr ? addr.port : 0
  const proxyServer = proxy

  return {
    url: `http://${host}:${proxyPort}`,
    rawUrl,
    async close() {
      await new Promise((resolve) => {
        proxyServer.close(() => resolve(undefined))
        proxyServer.closeAllConnections()
      })
      await stop()
    }
  }
}
