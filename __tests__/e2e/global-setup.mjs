// @ts-check
// jest globalSetup of the e2e project: bundle dist/ if it was not built from src/ as it is (the suites
// run the bundle, never src/), then start moto_server as the standin project does.
import { bundleIfStale } from '../../scripts/bundle.mjs'
import startMoto from '../support/global-setup.mjs'

export default async function globalSetup() {
  await bundleIfStale()
  await startMoto()
}
