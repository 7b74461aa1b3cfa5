// jest globalTeardown: stop the proxy and moto_server started by
// ./global-setup.mjs (globalSetup and globalTeardown share globalThis).

export default async function globalTeardown() {
  const moto = globalThis.__ECR_PROMOTE_MOTO__
  if (!moto) return
  delete globalThis.__ECR_PROMOTE_MOTO__
  await moto.close()
}
