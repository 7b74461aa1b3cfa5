// @ts-check
// `npm run demo`: the main job of the environments convention, end to end, on the embedded ECR stand-in.
// It runs the committed bundle (dist/, bundled first only when missing) exactly as a GitHub runner
// would, and prints what each run did and the repository after it, explaining each tag as it appears.
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr'
import { startStandIn } from '../__tests__/support/ecr-standin.mjs'
import { multiArchImage, seedImage, tagsByDigest } from '../__tests__/support/images.mjs'
import { runAction } from '../__tests__/support/run-action.mjs'
import { bundleIfMissing } from './bundle.mjs'

await bundleIfMissing()

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
 *   inputs?: Record<string, string>, env: Record<string, string>, refused?: true }} Step one run
 *   of the action; `refused`: it is meant to fail, writing nothing
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
/** @type {Step} */
const promoteBack = {
  title: `Someone promotes build ${build1.slice(0, 7)} (1.0.0) to production: refused, production only moves forward`,
  eventName: 'workflow_dispatch',
  payload: { inputs: { environment: 'production', version: '1.0.0' }, ...mainBranch },
  inputs: { event: 'promote', environment: 'production', version: '1.0.0', sha: build1 },
  env: { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: build2 },
  refused: true
}
/** @param {string} title @returns {Step} */
const rollbackPrevious = (title) => ({
  title,
  eventName: 'workflow_dispatch',
  payload: { inputs: { version: 'previous' }, ...mainBranch },
  inputs: { version: 'previous' },
  env: { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: build2 }
})

const steps = [
  pushToMain(build1, multiArchImage('demo-1')),
  releasePublished('v1.0.0', build1),
  pushToMain(build2, multiArchImage('demo-2')),
  releasePublished('v1.1.0', build2),
  promoteBack,
  rollbackPrevious(
    '1.1.0 is bad: someone runs the rollback workflow (version: previous, its default)'
  ),
  rollbackPrevious('Someone runs the rollback again: production is already back, so it stays')
]

/** What each tag means, said the first time a tag of its kind shows. @type {[RegExp, string][]} */
const MEANINGS = [
  [/^sha-/, 'build tag: CI pushes one per commit; releases and promotions start from it'],
  [/^latest$/, 'the newest build of main: every push to main moves it'],
  [/^v\d/, 'version tag: names one release; created once, never moved'],
  [/^production$/, 'what production runs: a release moves it forward only, a rollback back'],
  [
    /^withdrawn-/,
    'a rollback left this version: no release re-run or rollback to previous goes back to it'
  ]
]
/** @type {Set<RegExp>} */
const explained = new Set()
/** The meaning of a tag whose kind has not been explained yet. @param {string} tag */
function explain(tag) {
  const [pattern, meaning] = MEANINGS.find(([pattern]) => pattern.test(tag)) ?? []
  if (!pattern || explained.has(pattern)) return undefined
  explained.add(pattern)
  return meaning
}

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
    for (const line of result.stdout.split('\n').filter((line) => line.startsWith('::notice::')))
      console.log(`   notice: ${line.slice('::notice::'.length).replaceAll('%0A', ' ')}`)
    for (const error of result.errors) console.log(`   refused: ${error}`)
    if ((result.status !== 0) !== Boolean(step.refused)) {
      console.log(`   (exit code ${result.status}, not what the demo expected)`)
      failed = true
      break
    }
    if (step.refused) console.log('   nothing was written')
    const tags = await tagsByDigest(client, repository)
    const byDigest = Object.entries(tags).reduce((groups, [tag, digest]) => {
      groups[digest] = [...(groups[digest] ?? []), tag].sort()
      return groups
    }, /** @type {Record<string, string[]>} */ ({}))
    console.log('   repository now:')
    for (const [digest, names] of Object.entries(byDigest))
      console.log(`     ${digest.slice(0, 19)}  ${names.join(' ')}`)
    for (const tag of Object.keys(tags).sort()) {
      const meaning = explain(tag)
      if (meaning) console.log(`     ${tag}: ${meaning}`)
    }
    console.log('')
  }
} finally {
  client.destroy()
  await standIn.close()
}
process.exitCode = failed ? 1 : 0
