// @ts-check
// jest globalSetup: start moto_server (+ the BatchGetImage-echo proxy, see
// ./moto.mjs) once for the whole run, however many projects ask for it.
//
// On success MOTO_ENDPOINT (proxy) and MOTO_RAW_ENDPOINT (moto itself) are set
// in process.env, which jest hands to every test worker. If moto_server is not
// installed: on CI (CI=true) the run fails; locally a warning is printed and
// MOTO_ENDPOINT stays unset, so test files only exercise the stand-in endpoint.

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
