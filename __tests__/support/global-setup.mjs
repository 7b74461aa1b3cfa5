// @ts-check
// jest globalSetup: starts moto_server and its proxy (./moto.mjs) once for the whole run, however
// many projects ask, and sets MOTO_ENDPOINT (the proxy) and MOTO_RAW_ENDPOINT for every worker.
// Without moto_server, CI (CI=true) fails; locally a warning says only the stand-in runs.

import { MOTO_INSTALL_HINT, startMoto } from './moto.mjs'

/** @typedef {typeof globalThis & { __ECR_PROMOTE_MOTO__?: Awaited<ReturnType<typeof startMoto>> }} SharedGlobal */

export default async function globalSetup() {
  const shared = /** @type {SharedGlobal} */ (globalThis)
  if (shared.__ECR_PROMOTE_MOTO__) return
  delete process.env.MOTO_ENDPOINT
  delete process.env.MOTO_RAW_ENDPOINT
  let moto
  try {
    moto = await startMoto()
  } catch (err) {
    const notFound = /** @type {{ code?: unknown }} */ (err)?.code === 'MOTO_NOT_FOUND'
    if (!notFound) throw err
    if (process.env.CI === 'true') throw new Error(MOTO_INSTALL_HINT, { cause: err })
    process.stderr.write(
      `\n[ecr-promote tests] WARNING: ${MOTO_INSTALL_HINT}\n` +
        '[ecr-promote tests] Skipping every moto-backed test; only the stand-in endpoint runs.\n\n'
    )
    return
  }
  shared.__ECR_PROMOTE_MOTO__ = moto
  process.env.MOTO_ENDPOINT = moto.url
  process.env.MOTO_RAW_ENDPOINT = moto.rawUrl
}
