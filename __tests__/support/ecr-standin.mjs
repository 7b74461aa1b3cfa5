// @ts-check
/**
 * ecr-standin.mjs: an in-memory Amazon ECR stand-in that speaks ECR's real wire protocol.
 *
 * Plain ESM JavaScript, Node built-ins only. The real `@aws-sdk/client-ecr` client (or the bundled
 * action via AWS_ENDPOINT_URL_ECR) talks to it exactly as it would talk to ECR. Its rules, each
 * with the ECR API Reference behaviour it follows, are in the modules that implement them:
 *   standin/protocol.mjs      AWS JSON 1.1, errors, registryId, repository names, pagination
 *   standin/repositories.mjs  CreateRepository, DescribeRepositories, PutImageTagMutability
 *   standin/images.mjs        PutImage, BatchGetImage, ListImages, DescribeImages, BatchDeleteImage,
 *                             UpdateImageStorageClass; image status ACTIVE / ARCHIVED / ACTIVATING
 *   standin/lifecycle.mjs     PutLifecyclePolicy, GetLifecyclePolicy, StartLifecyclePolicyPreview,
 *                             GetLifecyclePolicyPreview
 *   standin/scanning.mjs      DescribeImageScanFindings, DescribeImageSigningStatus
 *   standin/faults.mjs        control.latency, hang, hold, faults (mulberry32), quota, throttle,
 *                             rewrite
 *   standin/admin.mjs         control.calls, deny, failPutImage, seedTags, setPushedAt, waitFor,
 *                             snapshot, setScan, setSigning, archive, archivedAnswer
 *
 * startStandIn() options: host, port (0: a free one), clock (a function returning the current time in ms, default
 * Date.now: the quota buckets refill on it, archive restores end on it, and the `at` of calls and
 * throttled come from it, so a test can step time by hand; image push and archive times, latency
 * timers and the completeAfterMs of scans and signing stay on the real clock). The registry is account
 * 123456789012 in us-east-1.
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
import {
  checkRegistryId,
  createPager,
  dispatch,
  isObject,
  operationChecker,
  serve
} from './standin/protocol.mjs'
import { createRepositories } from './standin/repositories.mjs'
import { createScanningOperations } from './standin/scanning.mjs'

/**
 * @typedef {import('./standin/faults.mjs').FaultControl & import('./standin/admin.mjs').AdminControl
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
  const operations = {
    ...registry.operations,
    ...createImageOperations(registry.repositoryFor, paginate, readings, clock),
    ...createLifecycleOperations(registry.repositoryFor, clock),
    ...createScanningOperations(registry.repositoryFor, paginate)
  }
  const checkOperation = operationChecker(operations)
  const faults = createFaults(clock, checkOperation)
  const admin = createAdmin(registry.repositories, clock, checkOperation, readings)

  /** @param {string} operation @param {Record<string, any>} input */
  const admit = (operation, input) => {
    faults.checkQuota(operation)
    checkRegistryId(input)
    admin.admit(operation, input)
  }
  const server = await serve(host, port, operations, async (request) => {
    const { operation, input, handler } = request
    admin.record(operation, input)
    return faults.through(operation, input, handler !== undefined && isObject(input), () => {
      const outcome = dispatch(request, admit)
      if (outcome.applied) admin.applied(operation)
      return outcome
    })
  })

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
  }
  return { url: server.url, control: { ...faults.control, ...admin.control, reset }, close }
}

/** @param {string[]} args */
async function main(args) {
  const usage = 'usage: ecr-standin.mjs [--port N] [--host H]'
  const flags = {
    port: { type: /** @type {const} */ ('string') },
    host: { type: /** @type {const} */ ('string') }
  }
  const { values } = parseArgs({ args, options: flags, strict: true })
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
const invokedDirectly = (() => {
  try {
    return script !== undefined && import.meta.url === pathToFileURL(realpathSync(script)).href
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
