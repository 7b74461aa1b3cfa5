// @ts-check
/**
 * ecr-standin.mjs: an in-memory Amazon ECR stand-in that speaks ECR's wire protocol, Node built-ins
 * only; the real `@aws-sdk/client-ecr` (or the bundled action, by AWS_ENDPOINT_URL_ECR) talks to it
 * as to ECR. Its rules, each with the API Reference behaviour it follows, are in standin/: the
 * protocol (protocol.mjs), accounts, Regions, STS and repository policies (accounts.mjs),
 * repositories, images, blobs and the layer operations (layers.mjs), lifecycle, scanning, and the
 * control API (faults.mjs, admin.mjs, accounts.mjs, layers.mjs). The default registry is account
 * 123456789012 in us-east-1: a client's keys are that account's unless the stand-in issued them
 * (STS AssumeRole at the same URL, AWS_ENDPOINT_URL_STS, or control.credentials), and its Region is
 * its request signature's.
 *
 * The control API beyond one registry (the other controls act on the default one):
 * - credentials(account) → { accessKeyId, secretAccessKey }: keys of that account, to seed it.
 * - createRepository(repositoryName, { account, region }, settings?): a repository anywhere.
 * - grant({ account, region }, repositoryName, principalAccount, ['ecr:BatchGetImage', ...]):
 *   a repository policy statement letting another account call those actions ('ecr:*': all).
 * - sessionLifetime(ms | undefined): how long later STS sessions last (an expired key:
 *   ExpiredTokenException).
 * - partSize(bytes): what InitiateLayerUpload answers and UploadLayerPart enforces (10 MiB).
 * - corruptDownload(digest), resetDownload(digest, { count }), expireDownloadUrls(): download URL
 *   faults (layers.mjs).
 * - snapshot(repositoryName, { account, region }?): images (untagged too) and blobs by digest.
 * reset() also clears grants, the session lifetime, part size and download faults; keys stay.
 *
 * startStandIn({ host, port (0: a free one), clock (ms, default Date.now) }): quota buckets refill,
 * archive restores end and the `at` of calls and throttled are read on `clock`, so a test can step
 * time by hand; push and archive times, latency timers and the completeAfterMs of scans and signing
 * stay on the real clock.
 *
 * CLI: `node __tests__/support/ecr-standin.mjs [--port N] [--host H]` prints the URL on one line
 * and stays up until SIGINT/SIGTERM.
 */

import { realpathSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { createAdmin } from './standin/admin.mjs'
import { createFaults } from './standin/faults.mjs'
import { createImageOperations } from './standin/images.mjs'
import { createLifecycleOperations } from './standin/lifecycle.mjs'
import { createAccounts } from './standin/accounts.mjs'
import { createLayers } from './standin/layers.mjs'
import { createPager, dispatch, isObject, operationChecker, serve } from './standin/protocol.mjs'
import { createRepositories } from './standin/repositories.mjs'
import { createScanningOperations } from './standin/scanning.mjs'

/**
 * @typedef {import('./standin/faults.mjs').FaultControl & import('./standin/admin.mjs').AdminControl
 *   & ReturnType<typeof createAccounts>['control'] & ReturnType<typeof createLayers>['control']
 *   & { reset(): void }} StandInControl
 * @typedef {{ url: string, control: StandInControl, close(): Promise<void> }} StandIn
 * @typedef {{ host?: string, port?: number, clock?: () => number }} StandInOptions
 */

/**
 * Start a stand-in listening on host:port (port 0 picks a free port).
 * @param {StandInOptions} [options]
 * @returns {Promise<StandIn>}
 */
export async function startStandIn({ host = '127.0.0.1', port = 0, clock = Date.now } = {}) {
  if (typeof clock !== 'function') throw new TypeError('clock must be a function returning ms')
  const registry = createRepositories()
  const paginate = createPager()
  /** Readings where AWS does not document the answer; control.archivedAnswer changes this one. */
  const readings = { archivedAnswer: /** @type {const} */ ('ImageNotFound') }
  const accounts = createAccounts()
  /** @type {(operation: string, input: unknown) => void} */
  const record = (operation, input) => admin.record(operation, input)
  const layers = createLayers(registry.repositoryFor, record)
  const operations = {
    ...registry.operations,
    ...layers.operations,
    ...createImageOperations(registry.repositoryFor, paginate, readings, clock),
    ...createLifecycleOperations(registry.repositoryFor, clock),
    ...createScanningOperations(registry.repositoryFor, paginate)
  }
  const checkOperation = operationChecker(operations)
  const faults = createFaults(clock, checkOperation)
  const admin = createAdmin(registry, clock, checkOperation, readings)

  const server = await serve(
    host,
    port,
    operations,
    async (request) => {
      const { operation, input, handler } = request
      admin.record(operation, input)
      const caller = accounts.callerOf(request.signer)
      const registryId = isObject(input) ? input.registryId : undefined
      const where = { account: String(registryId ?? caller.account), region: caller.region }
      /** @param {string} operation @param {Record<string, any>} input */
      const admit = (operation, input) => {
        faults.checkQuota(operation)
        accounts.authorize(operation, input, caller, (name) => registry.repositoriesOf().has(name))
        admin.admit(operation, input)
      }
      return faults.through(operation, input, handler !== undefined && isObject(input), () => {
        const outcome = registry.within(where, () => dispatch(request, admit))
        if (outcome.applied) admin.applied(operation)
        return outcome
      })
    },
    (req, res, raw, signer) =>
      layers.serveDownload(req, res) || accounts.sts(req, res, raw, signer, record)
  )
  layers.setBase(server.url)

  /** @type {Promise<void> | undefined} */
  let closing
  const close = () => {
    closing ??= (() => {
      faults.close()
      admin.close()
      return server.close()
    })()
    return closing
  }
  const reset = () => {
    faults.reset()
    admin.reset()
    accounts.reset()
    layers.reset()
  }
  const control = {
    ...faults.control,
    ...admin.control,
    ...accounts.control,
    ...layers.control,
    reset
  }
  return { url: server.url, control, close }
}

/** @param {string[]} args */
async function main(args) {
  const usage = 'usage: ecr-standin.mjs [--port N] [--host H]'
  const options = /** @type {const} */ ({ port: { type: 'string' }, host: { type: 'string' } })
  const { values } = parseArgs({ args, options, strict: true })
  const port = Number(values.port ?? 0)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port needs a port number; ${usage}`)
  const standIn = await startStandIn({
    port,
    ...(values.host !== undefined && { host: values.host })
  })
  process.stdout.write(`${standIn.url}\n`)
  const stop = () =>
    standIn.close().then(
      () => process.exit(0),
      () => process.exit(1)
    )
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

const script = process.argv[1]
if (script !== undefined && import.meta.url === pathToFileURL(realpathSync(script)).href) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`ecr-standin: ${error instanceof Error ? error.message : error}\n`)
    process.exit(1)
  })
}
