/**
 * End to end under ECR's write quota: the bundled action against the stand-in with PutImage limited
 * to 10 a second in bursts of 10, as ECR's default quota is. One release across many repositories
 * must pace itself and never fail for throttling, and an undo under the quota must finish.
 */
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr'
import { startStandIn } from './support/ecr-standin.mjs'
import { multiArchImage, seedImage, tagsByDigest } from './support/images.mjs'
import { runAction } from './support/run-action.mjs'
import { clientFor } from './support/harness.js'

type StandIn = Awaited<ReturnType<typeof startStandIn>>

const SHA_B = 'bbbbbbb'.padEnd(40, '2')
const CONVENTION = '__tests__/support/four-tags-convention.yml'
/** A release writes v1.1.0, 1.1, 1 and production: four tags a repository. */
const RELEASED = ['v1.1.0', '1.1', '1', 'production']

let standIn: StandIn
let client: ECRClient
beforeEach(async () => {
  standIn = await startStandIn()
  client = clientFor(standIn.url)
})
afterEach(async () => {
  client.destroy()
  await standIn.close()
})

/** `count` repositories on v1.0.0, each with a build of v1.1.0 pushed as sha-bbbbbbb. */
async function seedRepositories(prefix: string, count: number) {
  const repositories = Array.from({ length: count }, (_, index) => `${prefix}/service-${index}`)
  const builds = new Map<string, string>()
  await Promise.all(
    repositories.map(async (name) => {
      await client.send(new CreateRepositoryCommand({ repositoryName: name }))
      await seedImage(client, name, multiArchImage(`${name}-old`), [
        'v1.0.0',
        '1.0',
        '1',
        'production'
      ])
      const build = multiArchImage(`${name}-build`)
      await seedImage(client, name, build, ['sha-bbbbbbb'])
      builds.set(name, build.digest)
    })
  )
  return { repositories, builds }
}

const release = (repositories: string[]) =>
  runAction({
    endpoint: standIn.url,
    eventName: 'release',
    payload: {
      action: 'published',
      release: { tag_name: 'v1.1.0', prerelease: false },
      repository: { default_branch: 'main' }
    },
    inputs: { repository: repositories.join('\n'), convention: CONVENTION },
    env: { GITHUB_REF: 'refs/tags/v1.1.0', GITHUB_SHA: SHA_B }
  })

const putImagesSince = (start: number) =>
  standIn.control.calls.slice(start).filter(({ operation }) => operation === 'PutImage')

it('releases 100 tags across 25 repositories at the quota without a failure', async () => {
  const { repositories, builds } = await seedRepositories('quota', 25)
  const start = standIn.control.calls.length
  standIn.control.quota({ PutImage: { rate: 10, burst: 10 } })
  const result = await release(repositories)
  expect(result.errors).toEqual([])
  expect(result.status).toBe(0)
  for (const name of repositories) {
    const tags = await tagsByDigest(client, name)
    for (const tag of RELEASED)
      expect({ name, tag, digest: tags[tag] }).toEqual({ name, tag, digest: builds.get(name) })
  }
  const changes = JSON.parse(result.outputs.changes ?? '[]') as { action: string }[]
  expect(changes).toHaveLength(100)
  expect(changes.filter(({ action }) => action === 'created' || action === 'moved')).toHaveLength(
    100
  )
  // Paced at the quota: a handful of throttles at most, each retried, none failing the run.
  expect(standIn.control.throttled.length).toBeLessThanOrEqual(10)
  expect(putImagesSince(start).length - standIn.control.throttled.length).toBe(100)
}, 60_000)

it('finishes an undo of a release across 10 repositories under the quota', async () => {
  const { repositories } = await seedRepositories('undo', 10)
  const before = repositories.map((name) => standIn.control.snapshot(name))
  standIn.control.quota({
    PutImage: { rate: 10, burst: 10 },
    BatchDeleteImage: { rate: 10, burst: 10 }
  })
  standIn.control.failPutImage('production')
  const result = await release(repositories)
  expect(result.status).toBe(1)
  expect(result.errors.at(-1)).toBe(
    'every tag this run had written was put back: the registry is as it was before the run'
  )
  expect(repositories.map((name) => standIn.control.snapshot(name))).toEqual(before)
  const undone = (JSON.parse(result.outputs.changes ?? '[]') as { action: string }[]).filter(
    ({ action }) => action === 'undone'
  )
  expect(undone.length).toBeGreaterThan(0)
  const deletes = standIn.control.calls.filter(({ operation }) => operation === 'BatchDeleteImage')
  expect(deletes.length).toBeGreaterThan(0)
}, 60_000)
