// @ts-check
/**
 * ecr-standin.mjs: an in-memory Amazon ECR stand-in that speaks ECR's wire protocol, Node built-ins
 * only; the real `@aws-sdk/client-ecr` (or the bundled action, by AWS_ENDPOINT_URL_ECR) talks to it
 * as to ECR. Its rules, each with the API Reference behaviour it follows, are in standin/: the
 * protocol (protocol.mjs), repositories, images, lifecycle, scanning, and the control API
 * (faults.mjs, admin.mjs). Account 123456789012 in us-east-1.
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
