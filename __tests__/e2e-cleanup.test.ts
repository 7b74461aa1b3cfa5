/**
 * End to end: lifecycle policies and prune, as a runner runs the bundled action, against the
 * stand-in (which evaluates and previews policies with ECR's semantics) and, for the calls moto
 * supports (put and get), against moto_server.
 */
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  CreateRepositoryCommand,
  ECRClient,
  GetLifecyclePolicyCommand,
  GetLifecyclePolicyPreviewCommand,
  PutLifecyclePolicyCommand,
  StartLifecyclePolicyPreviewCommand,
  type LifecyclePolicyPreviewResult
} from '@aws-sdk/client-ecr'
import { builtInConvention } from '../src/core/conventions.js'
import { policyText, renderPolicy } from '../src/core/lifecycle.js'
import { startStandIn } from './support/ecr-standin.mjs'
import { multiArchImage, seedImage, tagsByDigest } from './support/images.mjs'
import { runAction, startAction } from './support/run-action.mjs'

type StandIn = Awaited<ReturnType<typeof startStandIn>>
const DAY_MS = 86_400_000
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS)

/** The `environments` design document's cleanup policy, as written there. */
const SEED_POLICY = readFileSync('__tests__/support/seed-environments-policy.json', 'utf8')

const rendered = (name: string) => {
  const convention = builtInConvention(name)
  return policyText(renderPolicy(convention, convention.cleanup!))
}

function clientOf(url: string): ECRClient {
  return new ECRClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
  })
}

const lifecycleRun = (url: string, repository: string, inputs: Record<string, string>) =>
  runAction({
    endpoint: url,
    eventName: 'workflow_dispatch',
    inputs: { repository, event: 'lifecycle', ...inputs }
  })

const policyOf = async (client: ECRClient, repositoryName: string) =>
  (await client.send(new GetLifecyclePolicyCommand({ repositoryName }))).lifecyclePolicyText

describe('against the stand-in', () => {
  let standIn: StandIn
  let client: ECRClient
  let counter = 0
  beforeEach(async () => {
    standIn = await startStandIn()
    client = clientOf(standIn.url)
  })
  afterEach(async () => {
    client.destroy()
    await standIn.close()
  })

  async function repository(): Promise<string> {
    const name = `team/cleanup-${++counter}`
    await client.send(new CreateRepositoryCommand({ repositoryName: name }))
    return name
  }

  /** Seeds an image with tags and a push date; returns its digest. */
  async function image(repositoryName: string, seed: string, tags: string[], ageDays: number) {
    const built = multiArchImage(seed)
    await seedImage(client, repositoryName, built, tags)
    standIn.control.setPushedAt(repositoryName, built.digest, daysAgo(ageDays))
    return built.digest
  }

  /** ECR's preview of a policy on the repository: every image it expires. */
  async function preview(repositoryName: string, lifecyclePolicyText: string) {
    await client.send(
      new StartLifecyclePolicyPreviewCommand({ repositoryName, lifecyclePolicyText })
    )
    const results: LifecyclePolicyPreviewResult[] = []
    let nextToken: string | undefined
    for (let polls = 0; polls < 20; polls++) {
      const page = await client.send(
        new GetLifecyclePolicyPreviewCommand({ repositoryName, nextToken })
      )
      if (page.status !== 'COMPLETE') continue
      results.push(...(page.previewResults ?? []))
      nextToken = page.nextToken
      if (!nextToken) return results
    }
    throw new Error('the preview never completed')
  }

  /** 21 builds a day apart; production and v1.0.0 on the oldest, as after a release three weeks ago. */
  async function twentyOneBuilds(repositoryName: string) {
    const digests: string[] = []
    for (let build = 1; build <= 21; build++) {
      const tags = [`sha-${String(build).padStart(7, '0')}`]
      if (build === 1) tags.push('production', 'v1.0.0')
      digests.push(await image(repositoryName, `build-${build}`, tags, 30 - build))
    }
    return digests
  }

  it("the seed's environments policy expires production's image once 21 builds exist; the rendered one does not, and apply writes it", async () => {
    const repo = await repository()
    const [productionImage] = await twentyOneBuilds(repo)
    const seedExpires = await preview(repo, SEED_POLICY)
    expect(seedExpires.map(({ imageDigest }) => imageDigest)).toEqual([productionImage])

    const result = await lifecycleRun(standIn.url, repo, { lifecycle: 'apply' })
    expect(result.errors).toEqual([])
    expect(result.status).toBe(0)
    expect(await policyOf(client, repo)).toBe(rendered('environments'))
    expect(await preview(repo, rendered('environments'))).toEqual([])
    const [entry] = JSON.parse(result.outputs.json ?? '[]') as {
      lifecycle: { action: string; expiring: unknown[] }
    }[]
    expect(entry?.lifecycle).toMatchObject({ action: 'written', expiring: [] })
    expect(result.summary).toContain('Lifecycle policy')
  })

  it('keeps the newest 20 builds and expires the 21st with the rendered environments policy', async () => {
    const repo = await repository()
    const digests = await twentyOneBuilds(repo)
    await image(repo, 'build-22', ['sha-0000022'], 0)
    const expiring = await preview(repo, rendered('environments'))
    // Build 1 is production's: the oldest unprotected build, build 2, goes instead.
    expect(expiring.map(({ imageDigest }) => imageDigest)).toEqual([digests[1]])
  })

  it('a production image built 200 days ago and promoted yesterday survives the rendered channels policy', async () => {
    const repo = await repository()
    const stableImage = await image(repo, 'old-release', ['1.4.0', 'stable'], 200)
    const oldBuild = await image(repo, 'old-build', ['app-main-abc1234'], 200)
    await image(repo, 'new-build', ['app-main-def5678'], 10)
    const expiring = await preview(repo, rendered('channels'))
    expect(expiring.map(({ imageDigest }) => imageDigest)).toEqual([oldBuild])
    expect(expiring.map(({ imageDigest }) => imageDigest)).not.toContain(stableImage)

    const result = await lifecycleRun(standIn.url, repo, {
      lifecycle: 'apply',
      convention: 'channels'
    })
    expect(result.status).toBe(0)
    expect(result.summary).toMatch(/rule 6: 1/)
  })

  it('apply refuses a policy whose preview expires a release, and writes nothing in any repository', async () => {
    const [safe, unsafe] = [await repository(), await repository()]
    await image(safe, 'safe-build', ['build-aaaaaaa'], 0)
    await image(unsafe, 'release', ['release-1.0.0'], 30)
    const result = await lifecycleRun(standIn.url, `${safe}\n${unsafe}`, {
      lifecycle: 'apply',
      convention: '__tests__/support/unsafe-cleanup-convention.yml'
    })
    expect(result.status).toBe(1)
    expect(result.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^the lifecycle policy would expire ${unsafe}@sha256:[0-9a-f]{12} \\(release-1\\.0\\.0\\): it carries release-1\\.0\\.0, which the convention keeps$`
        )
      ),
      'no lifecycle policy was written'
    ])
    await expect(policyOf(client, safe)).rejects.toThrow(/LifecyclePolicyNotFound|does not exist/)
    await expect(policyOf(client, unsafe)).rejects.toThrow(/LifecyclePolicyNotFound|does not exist/)
  })

  it('check reports drift as a warning, with the rules that differ, and writes nothing', async () => {
    const repo = await repository()
    await client.send(
      new PutLifecyclePolicyCommand({ repositoryName: repo, lifecyclePolicyText: SEED_POLICY })
    )
    const result = await lifecycleRun(standIn.url, repo, { lifecycle: 'check' })
    expect(result.status).toBe(0)
    const warnings = result.stdout.split('\n').filter((line) => line.startsWith('::warning::'))
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^::warning::${repo}: the lifecycle policy differs from the one the convention renders .*rule 1 is `
        )
      )
    ])
    expect(await policyOf(client, repo)).toBe(SEED_POLICY)
    expect(standIn.control.calls.map(({ operation }) => operation)).not.toContain(
      'StartLifecyclePolicyPreview'
    )
  })

  it('a job cancelled during the lifecycle preview after a release says so: no policy written, the tags stay as reported', async () => {
    const repo = await repository()
    await image(repo, 'old', ['v1.0.0', 'production'], 30)
    const build = await image(repo, 'build', ['sha-bbbbbbb'], 1)
    const { child, result } = startAction({
      endpoint: standIn.url,
      eventName: 'release',
      payload: {
        action: 'published',
        release: { tag_name: 'v1.1.0', prerelease: false },
        repository: { default_branch: 'main', full_name: 'octo/app' }
      },
      inputs: { repository: repo, lifecycle: 'apply' },
      env: { GITHUB_REF: 'refs/tags/v1.1.0', GITHUB_SHA: 'bbbbbbb'.padEnd(40, '0') }
    })
    // The first poll answers IN_PROGRESS; the run then waits 2 s before the next.
    await standIn.control.waitFor('GetLifecyclePolicyPreview', 1)
    child.kill('SIGINT')
    const run = await result
    expect(run.status).toBe(1)
    expect(run.errors).toEqual([
      `the job was cancelled during the lifecycle preview of ${repo}: no lifecycle policy was written; the tags stay written as reported`
    ])
    await expect(policyOf(client, repo)).rejects.toThrow(/LifecyclePolicyNotFound|does not exist/)
    const tags = await tagsByDigest(client, repo)
    expect([tags['v1.1.0'], tags.production]).toEqual([build, build])
  })

  it('prune keeps exactly the newest five minors, every patch of them, pointers and recent images; it only plans unless dry-run: false', async () => {
    const repo = await repository()
    const kept: string[] = []
    const gone: string[] = []
    for (let minor = 0; minor < 30; minor++) {
      for (const patch of [0, 1]) {
        const version = `1.${minor}.${patch}`
        const tags = [version, ...(version === '1.3.1' ? ['stable'] : [])]
        const digest = await image(repo, `v${version}`, tags, minor === 7 ? 20 : 200)
        ;(minor >= 25 || version === '1.3.1' || minor === 7 ? kept : gone).push(digest)
      }
    }
    kept.push(await image(repo, 'rc-next', ['1.30.0-rc.1'], 200))
    gone.push(await image(repo, 'rc-old', ['1.2.0-rc.1'], 200))

    const planned = await runAction({
      endpoint: standIn.url,
      eventName: 'schedule',
      inputs: { repository: repo, convention: 'channels', event: 'prune' }
    })
    expect(planned.status).toBe(0)
    const [plan] = JSON.parse(planned.outputs.json ?? '[]') as {
      prune: { deleted: boolean; images: { digest: string }[] }
    }[]
    expect(plan?.prune.deleted).toBe(false)
    expect(plan?.prune.images.map(({ digest }) => digest).sort()).toEqual([...gone].sort())
    expect(standIn.control.calls.map(({ operation }) => operation)).not.toContain(
      'BatchDeleteImage'
    )

    const pruned = await runAction({
      endpoint: standIn.url,
      eventName: 'schedule',
      inputs: { repository: repo, convention: 'channels', event: 'prune', 'dry-run': 'false' }
    })
    expect(pruned.errors).toEqual([])
    const remaining = new Set(Object.values(await tagsByDigest(client, repo)))
    expect([...remaining].sort()).toEqual([...kept].sort())
    expect(pruned.summary).toContain(`deleted ${gone.length} release images`)
  }, 60_000)
})

/** Polls until `condition` holds: for requests that arrive, which waitFor() does not count. */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(2)
  }
}

describe('a prune overlapping a rollback, with slow deletes (the stand-in)', () => {
  type Run = Awaited<ReturnType<typeof runAction>>
  interface Pruned {
    images: { digest: string }[]
    kept: { digest: string; versions: string[]; reason: string }[]
  }
  const REPOSITORY = 'race/app'
  /** Every other request takes 0-40 ms, drawn from the trial's seed; a delete takes 1.5 s. */
  const latency = { BatchDeleteImage: 1_500, default: [0, 40] as [number, number] }

  /**
   * Where the second run starts: the rollback once the prune has listed the tags, once its read of
   * the images is held (2.5 s) before it lists them again, once it has listed them again, or once
   * its delete is on its way; or the prune once the rollback has listed them.
   */
  type Start = 'rollback first' | 'listed' | 'held before the re-read' | 'listed again' | 'deleting'
  const trials: [Start, string][] = [
    ['rollback first', '1.0.0'],
    ['listed', '1.1.0'],
    ['held before the re-read', '1.0.0'],
    ['listed again', '1.1.0'],
    ['deleting', '1.0.0'],
    ['deleting', '1.1.0']
  ]

  it.each(trials.map(([start, version], index) => [index + 1, start, version] as const))(
    "trial %d (%s, rollback to %s): production stays on the rollback's image, which keeps its version, and the prune reports what the registry shows",
    async (seed, start, version) => {
      const standIn = await startStandIn()
      const client = clientOf(standIn.url)
      try {
        await client.send(new CreateRepositoryCommand({ repositoryName: REPOSITORY }))
        // 1.0 and 1.1 are outside the two minors kept; production is on 1.3.0.
        const images: Record<string, string> = {}
        for (const minor of [0, 1, 2, 3]) {
          const built = multiArchImage(`race-${seed}-${minor}`)
          const tags = [
            `v1.${minor}.0`,
            `sha-${minor}000000`,
            ...(minor === 3 ? ['production'] : [])
          ]
          await seedImage(client, REPOSITORY, built, tags)
          standIn.control.setPushedAt(REPOSITORY, built.digest, daysAgo(200))
          images[`1.${minor}.0`] = built.digest
        }
        standIn.control.latency(latency, seed)
        const prune = () =>
          startAction({
            endpoint: standIn.url,
            eventName: 'schedule',
            inputs: {
              repository: REPOSITORY,
              event: 'prune',
              'dry-run': 'false',
              'keep-minor-versions': '2'
            }
          }).result
        const rollback = () =>
          startAction({
            endpoint: standIn.url,
            eventName: 'workflow_dispatch',
            payload: { inputs: {}, repository: { default_branch: 'main', full_name: 'octo/app' } },
            inputs: { repository: REPOSITORY, event: 'rollback', version },
            env: { GITHUB_REF: 'refs/heads/main' }
          }).result
        const { calls } = standIn.control
        const arrived = (operation: string) => calls.some((call) => call.operation === operation)
        let runs: [Promise<Run>, Promise<Run>]
        if (start === 'rollback first') {
          const rolled = rollback()
          await standIn.control.waitFor('ListImages', 1)
          runs = [prune(), rolled]
        } else {
          const pruned = prune()
          await standIn.control.waitFor('ListImages', start === 'listed again' ? 2 : 1)
          if (start === 'held before the re-read') {
            // The prune's next request, its read of the images, arrives now and is held.
            standIn.control.latency({ ...latency, DescribeImages: 2_500 }, seed)
            await until(() => arrived('DescribeImages'), "the prune's DescribeImages")
            standIn.control.latency(latency, seed)
          }
          if (start === 'deleting') await until(() => arrived('BatchDeleteImage'), 'the delete')
          runs = [pruned, rollback()]
        }
        const [pruned, rolled] = await Promise.all(runs)
        expect({ prune: pruned.errors, rollback: rolled.errors }).toEqual({
          prune: [],
          rollback: []
        })
        expect([pruned.status, rolled.status]).toEqual([0, 0])

        const target = images[version]!
        const other = images[version === '1.0.0' ? '1.1.0' : '1.0.0']!
        const snapshot = standIn.control.snapshot(REPOSITORY).images
        const tagsOf = (digest: string) => snapshot.find((image) => image.digest === digest)?.tags
        expect(tagsOf(target)).toEqual(
          [`sha-${version.split('.')[1]}000000`, 'production', `v${version}`].sort()
        )
        const [entry] = JSON.parse(pruned.outputs.json ?? '[]') as { prune: Pruned }[]
        // What the prune reported is what the registry shows: the other old release is gone, the
        // rollback's image is either kept with the tag it gained or was never planned.
        expect(entry?.prune.images.map(({ digest }) => digest)).toEqual([other])
        expect(tagsOf(other)).toBeUndefined()
        expect(entry?.prune.kept).toEqual(
          entry?.prune.kept.length
            ? [{ digest: target, versions: [version], reason: 'it gained production' }]
            : []
        )
        const path = pruned.stdout.includes(`put back on`)
          ? 'put back after its delete'
          : entry?.prune.kept.length
            ? 'dropped at the re-read'
            : 'never planned'
        console.log(`prune and rollback, trial ${seed} (${start}, ${version}): ${path}`)
      } finally {
        client.destroy()
        await standIn.close()
      }
    },
    20_000
  )
})

const motoUrl = process.env.MOTO_ENDPOINT
// moto runs wherever CI runs (global-setup fails CI without it); locally the stand-in tests still run.
if (motoUrl)
  describe('against moto_server (GetLifecyclePolicy and PutLifecyclePolicy)', () => {
    let client: ECRClient
    beforeAll(() => {
      client = clientOf(motoUrl!)
    })
    afterAll(() => client.destroy())

    it('check reports a repository without a policy, and a matching policy as in sync', async () => {
      const repo = `team/cleanup-moto-${process.pid}`
      await client.send(new CreateRepositoryCommand({ repositoryName: repo }))
      const missing = await lifecycleRun(motoUrl!, repo, { lifecycle: 'check' })
      expect(missing.status).toBe(0)
      expect(missing.stdout).toContain(`::warning::${repo}: the lifecycle policy differs`)
      expect(missing.stdout).toContain('the repository has no lifecycle policy')

      await client.send(
        new PutLifecyclePolicyCommand({
          repositoryName: repo,
          lifecyclePolicyText: rendered('environments')
        })
      )
      const synced = await lifecycleRun(motoUrl!, repo, { lifecycle: 'check' })
      expect(synced.status).toBe(0)
      expect(synced.stdout).not.toContain('::warning::')
      const [entry] = JSON.parse(synced.outputs.json ?? '[]') as { lifecycle: { action: string } }[]
      expect(entry?.lifecycle.action).toBe('in sync')
    })
  })
