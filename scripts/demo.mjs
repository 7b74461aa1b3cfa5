// @ts-check
// `npm run demo`: the main job of the environments convention, end to end, on the embedded ECR stand-in.
// It runs the bundled action exactly as a GitHub runner would and prints the repository after each step.
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr'
import { startStandIn } from '../__tests__/support/ecr-standin.mjs'
import { multiArchImage, seedImage, tagsByDigest } from '../__tests__/support/images.mjs'
import { runAction } from '../__tests__/support/run-action.mjs'

const repository = 'demo/app'
const standIn = await startStandIn()
const client = new ECRClient({
  endpoint: standIn.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' }
})
const mainBranch = { repository: { default_branch: 'main' } }
const build1 = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const build2 = '0f1e2d3c4b5a69788796a5b4c3d2e1f012345678'

/**
 * @typedef {{ sha: string, image: ReturnType<typeof multiArchImage> }} Build an image CI pushes first
 * @typedef {{ title: string, build?: Build, eventName: string, payload: Record<string, unknown>,
 *   inputs?: Record<string, string>, env: Record<string, string> }} Step one run of the action
 */

/** @param {string} sha @param {Build['image']} image @returns {Step} */
const pushToMain = (sha, image) => ({
  title: `CI pushes build ${sha.slice(0, 7)} (a multi-arch OCI index), then the action runs on the push to main`,
  build: { sha, image },
  eventName: 'push',
  payload: { ref: 'refs/heads/main', ...mainBranch },
  env: { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: sha }
})
/** @param {string} tag @param {string} sha @returns {Step} */
const releasePublished = (tag, sha) => ({
  title: `Release ${tag} is published`,
  eventName: 'release',
  payload: { action: 'published', release: { tag_name: tag, prerelease: false }, ...mainBranch },
  env: { GITHUB_REF: `refs/tags/${tag}`, GITHUB_SHA: sha }
})
/** @param {string} version @returns {Step} */
const rollback = (version) => ({
  title: `Someone runs the rollback workflow with version ${version}`,
  eventName: 'workflow_dispatch',
  payload: { inputs: { version }, ...mainBranch },
  inputs: { version },
  env: { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: build2 }
})

const steps = [
  pushToMain(build1, multiArchImage('demo-1')),
  releasePublished('v1.0.0', build1),
  pushToMain(build2, multiArchImage('demo-2')),
  releasePublished('v1.1.0', build2),
  rollback('1.0.0')
]

let failed = false
try {
  await client.send(new CreateRepositoryCommand({ repositoryName: repository }))
  console.log(`ECR stand-in at ${standIn.url}, repository ${repository}\n`)
  for (const [index, step] of steps.entries()) {
    console.log(`${index + 1}. ${step.title}`)
    if (step.build)
      await seedImage(client, repository, step.build.image, [`sha-${step.build.sha.slice(0, 7)}`])
    const result = await runAction({
      endpoint: standIn.url,
      eventName: step.eventName,
      payload: step.payload,
      inputs: { repository, ...step.inputs },
      env: step.env
    })
    for (const change of JSON.parse(result.outputs.changes || '[]')) {
      console.log(`   ${change.action.padEnd(9)} ${change.tag}`)
    }
    for (const error of result.errors) console.log(`   error: ${error}`)
    if (result.status !== 0) {
      failed = true
      break
    }
    const tags = await tagsByDigest(client, repository)
    const byDigest = Object.entries(tags).reduce((groups, [tag, digest]) => {
      groups[digest] = [...(groups[digest] ?? []), tag].sort()
      return groups
    }, /** @type {Record<string, string[]>} */ ({}))
    console.log('   repository now:')
    for (const [digest, names] of Object.entries(byDigest))
      console.log(`     ${digest.slice(0, 19)}  ${names.join(' ')}`)
    console.log('')
  }
} finally {
  client.destroy()
  await standIn.close()
}
process.exitCode = failed ? 1 : 0
