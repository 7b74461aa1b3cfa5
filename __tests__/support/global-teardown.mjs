// @ts-check
// jest globalTeardown: stops what ./global-setup.mjs started (the two share globalThis).

export default async function globalTeardown() {
  const shared = /** @type {import('./global-setup.mjs').SharedGlobal} */ (globalThis)
  const moto = shared.__ECR_PROMOTE_MOTO__
  if (!moto) return
  delete shared.__ECR_PROMOTE_MOTO__
  await moto.close()
}
