/**
 * End to end, lifecycle policies: the bundle as a runner runs it, against the stand-in (which
 * previews a policy with ECR's rules, ../support/standin/lifecycle.mjs). The convention's rendered
 * policy, previewed by the stand-in, keeps what a release needs; apply previews, waits for the
 * preview, and writes it; a cancel during the preview writes no policy. What a preview refuses,
 * drift and in sync are pinned in __tests__/unit (cleanup, lifecycle; no policy read as none in
 * ecr/registry), and that moto answers GetLifecyclePolicy as ECR does in the contract table.
 */
import { readFileSync } from 'node:fs'
import {
  GetLifecyclePolicyCommand,
  GetLifecyclePolicyPreviewCommand,
  StartLifecyclePolicyPreviewCommand,
  type ECRClient,
  type LifecyclePolicyPreviewResult
} from '@aws-sdk/client-ecr'
import { builtInConvention } from '../../src/core/conventions.js'
import { policyText, renderPolicy } from '../../src/core/lifecycle.js'
import { multiArchImage, seedImage } from '../support/images.mjs'
import { runAction, startAction } from '../support/run-action.mjs'
import {
  createRepository,
  dispatchRun,
  releaseRun,
  SHA_B,
  tagsOf,
  withStandIn,
  type Registry
} from '../support/e2e.js'

const DAY_MS = 86_400_000
/** The `environments` design document's cleanup policy, as written there. */
const SEED_POLICY = readFileSync('__tests__/support/seed-environments-policy.json', 'utf8')

const rendered = (name: string) => {
  const convention = builtInConvention(name)
  return policyText(renderPolicy(convention, convention.cleanup!))
}

const lifecycleRun = (url: string, repository: string, inputs: Record<string, string>) =>
  runAction(dispatchRun(url, [repository], { event: 'lifecycle', ...inputs }))

const policyOf = async (client: ECRClient, repositoryName: string) =>
  (await client.send(new GetLifecyclePolicyCommand({ repositoryName }))).lifecyclePolicyText

/** Seeds an image with tags, pushed `ageDays` ago; returns its digest. */
async function image(
  { standIn, client }: Registry,
  repository: string,
  seed: string,
  tags: string[],
  ageDays: number
) {
  const built = multiArchImage(`${repository}-${seed}`)
  await seedImage(client, repository, built, tags)
  standIn.control.setPushedAt(repository, built.digest, new Date(Date.now() - ageDays * DAY_MS))
  return built.digest
}

/** The stand-in's preview of a policy on the repository: every image it expires. */
async function preview({ client }: Registry, repositoryName: string, lifecyclePolicyText: string) {
  await client.send(new StartLifecyclePolicyPreviewCommand({ repositoryName, lifecyclePolicyText }))
  const results: LifecyclePolicyPreviewResult[] = []
  let nextToken: string | undefined
  for (let polls = 0; polls < 20; polls++) {
    const page = await client.send(
      new GetLifecyclePolicyPreviewCommand({ repositoryName, nextToken })
    )
    if (page.status !== 'COMPLETE') continue
    results.push(...(page.previewResults ?? []))
    nextToken = page.nextToken
    if (!nextToken) return results.map(({ imageDigest }) => imageDigest)
  }
  throw new Error('the preview never completed')
}

/** 21 builds a day apart; production and v1.0.0 on the oldest, as after a release three weeks ago. */
async function twentyOneBuilds(registry: Registry, repository: string) {
  await createRepository(registry.client, repository)
  const digests: string[] = []
  for (let build = 1; build <= 21; build++) {
    const tags = [
      `sha-${String(build).padStart(7, '0')}`,
      ...(build === 1 ? ['production', 'v1.0.0'] : [])
    ]
    digests.push(await image(registry, repository, `build-${build}`, tags, 30 - build))
  }
  return digests
}

describe('against the stand-in', () => {
  it.concurrent(
    "the seed's environments policy expires production's image once 21 builds exist; the rendered one does not, and apply writes it; it keeps the newest 20 builds and expires the 21st",
    () =>
      withStandIn(async (registry) => {
        const digests = await twentyOneBuilds(registry, 'team/seeded')
        const [productionImage] = digests
        expect(await preview(registry, 'team/seeded', SEED_POLICY)).toEqual([productionImage])

        const result = await lifecycleRun(registry.standIn.url, 'team/seeded', {
          lifecycle: 'apply'
        })
        expect(result.errors).toEqual([])
        expect(result.status).toBe(0)
        expect(await policyOf(registry.client, 'team/seeded')).toBe(rendered('environments'))
        expect(await preview(registry, 'team/seeded', rendered('environments'))).toEqual([])
        expect(JSON.parse(result.outputs.json ?? '[]')[0].lifecycle).toMatchObject({
          action: 'written',
          expiring: []
        })
        expect(result.summary).toContain('Lifecycle policy')

        await image(registry, 'team/seeded', 'build-22', ['sha-0000022'], 0)
        // Build 1 is production's: the oldest unprotected build, build 2, goes instead.
        expect(await preview(registry, 'team/seeded', rendered('environments'))).toEqual([
          digests[1]
        ])
      })
  )

  it.concurrent(
    'a production image built 200 days ago and promoted yesterday survives the rendered channels policy',
    () =>
      withStandIn(async (registry) => {
        await createRepository(registry.client, 'team/old')
        const stable = await image(registry, 'team/old', 'old-release', ['1.4.0', 'stable'], 200)
        const oldBuild = await image(registry, 'team/old', 'old-build', ['app-main-abc1234'], 200)
        await image(registry, 'team/old', 'new-build', ['app-main-def5678'], 10)
        const expiring = await preview(registry, 'team/old', rendered('channels'))
        expect(expiring).toEqual([oldBuild])
        expect(expiring).not.toContain(stable)
      })
  )

  it.concurrent(
    'a job cancelled during the lifecycle preview after a release says so: no policy written, the tags stay as reported',
    () =>
      withStandIn(async (registry) => {
        const { standIn, client } = registry
        await createRepository(client, 'team/cancelled')
        await image(registry, 'team/cancelled', 'old', ['v1.0.0', 'production'], 30)
        const build = await image(registry, 'team/cancelled', 'build', ['sha-bbbbbbb'], 1)
        const { child, result } = startAction(
          releaseRun(standIn.url, ['team/cancelled'], 'v1.1.0', SHA_B, { lifecycle: 'apply' })
        )
        // The first poll answers IN_PROGRESS; the run then waits 2 s before the next.
        await standIn.control.waitFor('GetLifecyclePolicyPreview', 1)
        child.kill('SIGINT')
        const run = await result
        expect(run.status).toBe(1)
        expect(run.errors).toEqual([
          'the job was cancelled during the lifecycle preview of team/cancelled: no lifecycle policy was written; the tags stay written as reported'
        ])
        await expect(policyOf(client, 'team/cancelled')).rejects.toThrow(
          /Lifecycle policy does not exist/
        )
        expect(tagsOf(standIn.control.snapshot('team/cancelled'))).toMatchObject({
          'v1.1.0': build,
          production: build
        })
      })
  )
})
