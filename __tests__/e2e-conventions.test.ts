/**
 * End to end: convention files as the bundled action loads them, against the ECR stand-in. A build
 * tag with the build's date is found on a later day; a convention whose rules conflict is refused
 * before anything is read or written.
 */
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr'
import { startStandIn } from './support/ecr-standin.mjs'
import { multiArchImage, seedImage, tagsByDigest } from './support/images.mjs'
import { runAction } from './support/run-action.mjs'
import { clientFor } from './support/harness.js'

type StandIn = Awaited<ReturnType<typeof startStandIn>>

const SHA = 'a1b2c3d4e5'.padEnd(40, '6')
const DAY_MS = 24 * 60 * 60 * 1000
const yyyymmdd = (date: Date) => date.toISOString().slice(0, 10).replaceAll('-', '')

let standIn: StandIn
let client: ECRClient
beforeAll(async () => {
  standIn = await startStandIn()
  client = clientFor(standIn.url)
})
afterAll(async () => {
  client.destroy()
  await standIn.close()
})

async function repository(name: string): Promise<string> {
  await client.send(new CreateRepositoryCommand({ repositoryName: name }))
  return name
}

const release = (repositoryName: string, convention: string) =>
  runAction({
    endpoint: standIn.url,
    eventName: 'release',
    payload: {
      action: 'published',
      release: { tag_name: 'v1.0.0', prerelease: false },
      repository: { default_branch: 'main' }
    },
    inputs: { repository: repositoryName, convention },
    env: { GITHUB_REF: 'refs/tags/v1.0.0', GITHUB_SHA: SHA }
  })

it('releases a build tagged with the date of the day before', async () => {
  const repo = await repository('dated/app')
  const image = multiArchImage('dated-build')
  const built = `build-${yyyymmdd(new Date(Date.now() - DAY_MS))}-a1b2c3d4e5`
  await seedImage(client, repo, image, [built])
  const result = await release(repo, '__tests__/support/dated-convention.yml')
  expect(result.errors).toEqual([])
  expect(result.status).toBe(0)
  expect(await tagsByDigest(client, repo)).toEqual({
    [built]: image.digest,
    'v1.0.0': image.digest,
    production: image.digest
  })
}, 30_000)

it('refuses a convention with two rules for one tag, naming both, before any read', async () => {
  const repo = await repository('duplicate/app')
  const image = multiArchImage('duplicate-build')
  await seedImage(client, repo, image, ['sha-a1b2c3d'])
  const calls = standIn.control.calls.length
  const result = await release(repo, '__tests__/support/duplicate-rule-convention.yml')
  expect(result.status).toBe(1)
  expect(result.errors).toEqual([
    "convention __tests__/support/duplicate-rule-convention.yml: release[3]: renders 'production' as release[1] does, which release[1] makes a forward pointer: the plain rule would move it backwards, which only a rollback may; keep one rule"
  ])
  expect(standIn.control.calls.slice(calls)).toEqual([])
  expect(await tagsByDigest(client, repo)).toEqual({ 'sha-a1b2c3d': image.digest })
}, 30_000)
