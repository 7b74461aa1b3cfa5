/**
 * End to end, the action as a runner runs it: the bundle with every input as INPUT_*, the event in
 * GITHUB_EVENT_PATH, and GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_STATE as files, against two
 * endpoints that speak ECR's protocol: the stand-in and moto_server (../support/moto.mjs says where
 * moto departs from ECR). What the run decides is proven in __tests__/unit; this shows that the
 * runner's files and variables carry it in and out, and that manifests travel byte for byte.
 */
import { BatchGetImageCommand, type ECRClient } from '@aws-sdk/client-ecr'
import { startStandIn } from '../support/ecr-standin.mjs'
import {
  dockerManifestList,
  dockerV2Image,
  helmChart,
  MEDIA_TYPES,
  multiArchImage,
  seedImage,
  tagsByDigest
} from '../support/images.mjs'
import { clientFor } from '../support/harness.js'
import { runAction } from '../support/run-action.mjs'
import {
  actionsOf,
  createRepository,
  dispatchRun,
  releaseRun,
  rowsOf,
  SHA_B,
  SHA_C,
  withStandIn
} from '../support/e2e.js'

const SHA_A = 'aaaaaaa'.padEnd(40, '1')

interface Endpoint {
  url: string
  close(): Promise<void>
}
const endpoints: [string, () => Promise<Endpoint>][] = [['the ECR stand-in', startStandIn]]
const motoUrl = process.env.MOTO_ENDPOINT
if (motoUrl) endpoints.push(['moto_server', async () => ({ url: motoUrl, close: async () => {} })])

let counter = 0
/** Runs `scenario` against the endpoint with a client and a repository name no other test has. */
async function on<T>(
  start: () => Promise<Endpoint>,
  scenario: (url: string, client: ECRClient, name: () => string) => Promise<T>
) {
  const endpoint = await start()
  const client = clientFor(endpoint.url)
  try {
    return await scenario(endpoint.url, client, () => `team/app-${process.pid}-${++counter}`)
  } finally {
    client.destroy()
    await endpoint.close()
  }
}

async function manifestOf(client: ECRClient, repositoryName: string, tag: string) {
  const { images = [] } = await client.send(
    new BatchGetImageCommand({
      repositoryName,
      imageIds: [{ imageTag: tag }],
      acceptedMediaTypes: Object.values(MEDIA_TYPES)
    })
  )
  const [image] = images
  return {
    body: image?.imageManifest,
    mediaType: image?.imageManifestMediaType,
    digest: image?.imageId?.imageDigest
  }
}

const push = (url: string, repository: string, sha: string) =>
  runAction({
    endpoint: url,
    eventName: 'push',
    payload: { ref: 'refs/heads/main', after: sha, repository: { default_branch: 'main' } },
    inputs: { repository },
    env: { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: sha }
  })

describe.each(endpoints)('against %s', (endpointName, start) => {
  it.concurrent(
    'push, two releases, a hotfix below production, a rollback: outputs, annotations and the summary, digest-exact',
    () =>
      on(start, async (url, client, name) => {
        const repo = name()
        await createRepository(client, repo)
        const image = (seed: string) => multiArchImage(`${endpointName}-${repo}-${seed}`)
        const [first, second, hotfix] = [image('first'), image('second'), image('hotfix')]
        await seedImage(client, repo, first, ['sha-aaaaaaa'])
        await seedImage(client, repo, second, ['sha-bbbbbbb'])
        await seedImage(client, repo, hotfix, ['sha-ccccccc'])

        const pushed = await push(url, repo, SHA_A)
        expect(pushed.errors).toEqual([])
        expect(pushed.status).toBe(0)
        expect(pushed.outputs).toMatchObject({
          digest: first.digest,
          tags: 'latest',
          version: '',
          'previous-digest': ''
        })
        expect(pushed.outputs.images).toMatch(
          new RegExp(`^\\d{12}\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/${repo}:latest$`)
        )
        expect(actionsOf(pushed)).toEqual(['latest created'])

        const v1 = await runAction(releaseRun(url, [repo], 'v1.0.0', SHA_A))
        expect(actionsOf(v1)).toEqual(['v1.0.0 created', 'production created'])
        expect(v1.outputs).toMatchObject({ version: '1.0.0', tags: 'v1.0.0\nproduction' })
        const v11 = await runAction(releaseRun(url, [repo], 'v1.1.0', SHA_B))
        expect(actionsOf(v11)).toEqual(['v1.1.0 created', 'production moved'])
        expect(v11.outputs['previous-digest']).toBe(first.digest)

        const held = await runAction(releaseRun(url, [repo], 'v1.0.5', SHA_C))
        expect(held.status).toBe(0)
        expect(actionsOf(held)).toEqual(['v1.0.5 created', 'production unchanged'])
        expect(held.outputs.tags).toBe('v1.0.5')
        expect(held.stdout).toMatch(
          /^::notice::team\/app-\S+:production sha256:\w{12} -> sha256:\w{12} unchanged \(stays on 1\.1\.0: 1\.0\.5 is lower, and only a rollback moves it back\)$/m
        )

        const rollback = await runAction(dispatchRun(url, [repo], { version: '1.0.0' }))
        expect(rollback.errors).toEqual([])
        expect(actionsOf(rollback)).toEqual(['withdrawn-1.1.0 created', 'production moved'])
        expect(rollback.outputs).toMatchObject({
          digest: first.digest,
          'previous-digest': second.digest,
          version: '1.0.0'
        })
        expect(rollback.summary).toContain('rollback to 1.0.0')
        expect(rollback.summary).toMatch(
          /<th>Repository<\/th><th>Tag<\/th><th>Before<\/th><th>After<\/th><th>Action<\/th>/
        )
        expect(await tagsByDigest(client, repo)).toEqual({
          'sha-aaaaaaa': first.digest,
          'sha-bbbbbbb': second.digest,
          'sha-ccccccc': hotfix.digest,
          'v1.0.0': first.digest,
          'v1.0.5': hotfix.digest,
          'v1.1.0': second.digest,
          latest: first.digest,
          production: first.digest,
          'withdrawn-1.1.0': second.digest
        })
        expect(await manifestOf(client, repo, 'production')).toEqual({
          body: first.manifest,
          mediaType: first.mediaType,
          digest: first.digest
        })
      })
  )

  it.concurrent(
    'promotes a Docker v2 manifest, a manifest list and a Helm chart in three repositories as one plan, byte for byte, one output line each, blanks included',
    () =>
      on(start, async (url, client, name) => {
        const fixtures = [dockerV2Image, dockerManifestList, helmChart]
        const repos = fixtures.map(() => name())
        const images = fixtures.map((fixture, index) => fixture(`${endpointName}-${repos[index]}`))
        const staged = dockerV2Image(`${endpointName}-${repos[1]}-staged`)
        for (const [index, repo] of repos.entries()) {
          await createRepository(client, repo)
          await seedImage(client, repo, images[index]!, ['sha-ccccccc'])
        }
        // Only the middle repository has staging already: previous-digest is blank around it.
        await seedImage(client, repos[1]!, staged, ['staging'])

        const promoted = await runAction(
          dispatchRun(url, repos, { environment: 'staging' }, { GITHUB_SHA: SHA_C })
        )
        expect(promoted.errors).toEqual([])
        expect(rowsOf(promoted).map(({ repository, action }) => [repository, action])).toEqual(
          repos.map((repo, index) => [repo, index === 1 ? 'moved' : 'created'])
        )
        expect(promoted.outputs.digest).toBe(images.map(({ digest }) => digest).join('\n'))
        expect(promoted.outputs['previous-digest']).toBe(`\n${staged.digest}\n`)
        expect(JSON.parse(promoted.outputs.json ?? '')).toEqual(
          repos.map((repository, index) =>
            expect.objectContaining({
              repository,
              uri: expect.stringMatching(new RegExp(`/${repository}$`)),
              digest: images[index]!.digest,
              tags: ['staging']
            })
          )
        )
        for (const [index, repo] of repos.entries()) {
          const { manifest, mediaType, digest } = images[index]!
          expect(await manifestOf(client, repo, 'staging')).toEqual({
            body: manifest,
            mediaType,
            digest
          })
        }
      })
  )
})

describe('against the ECR stand-in', () => {
  it.concurrent(
    'refuses bad input with one ::error:: line per problem, reading nothing, and says so in the summary',
    () =>
      withStandIn(async ({ standIn }) => {
        const result = await runAction({
          endpoint: standIn.url,
          eventName: 'push',
          payload: { ref: 'refs/heads/main', repository: { default_branch: 'main' } },
          inputs: {
            repository: 'Team/App',
            source: 'sha256:deadbeef',
            'wait-for-source': 'a while',
            'fail-on-severity': 'severe'
          },
          env: { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: SHA_A }
        })
        expect(result.status).toBe(1)
        expect(result.errors).toEqual([
          "repository 'Team/App' is not a valid ECR repository name (lowercase letters, digits, and . _ - / between them)",
          "source 'sha256:deadbeef' is not a digest: a digest is sha256: followed by 64 lowercase hexadecimal characters",
          "wait-for-source 'a while' is not a duration: use a number with s, m or h, such as 90s, 10m or 1h (0 waits not at all)",
          "fail-on-severity 'severe' is not one of off, CRITICAL, HIGH, MEDIUM, LOW"
        ])
        expect(result.stderr).not.toMatch(/\n\s+at /)
        expect(result.summary).toContain('Nothing was written.')
        expect(standIn.control.calls).toEqual([])
      })
  )

  it.concurrent('reads a convention file from the workspace (GITHUB_WORKSPACE)', () =>
    withStandIn(async ({ standIn, client }) => {
      await createRepository(client, 'team/custom')
      await seedImage(client, 'team/custom', helmChart('custom'), ['build-aaaaaaa'])
      const result = await runAction(
        releaseRun(standIn.url, ['team/custom'], 'v3.0.0', SHA_A, {
          convention: '__tests__/support/team-convention.yml'
        })
      )
      expect(result.errors).toEqual([])
      expect(actionsOf(result)).toEqual(['release-3.0.0 created', '3 created', 'live created'])
    })
  )

  it.concurrent(
    'names the account and region searched, and the inputs to check, for a repository that does not exist in the default registry',
    () =>
      withStandIn(async ({ standIn }) => {
        const result = await push(standIn.url, 'team/nowhere', SHA_A)
        expect(result.status).toBe(1)
        expect(result.errors).toEqual([
          'repository team/nowhere not found in registry 123456789012 (us-east-1): check the repository, registry-id and region inputs'
        ])
      })
  )

  it.concurrent(
    'writes nothing for a release event that publishes nothing, with a notice and a summary',
    () =>
      withStandIn(async ({ standIn, client }) => {
        await createRepository(client, 'team/quiet')
        await seedImage(client, 'team/quiet', multiArchImage('quiet'), ['sha-aaaaaaa'])
        const before = standIn.control.snapshot('team/quiet')
        const options = releaseRun(standIn.url, ['team/quiet'], 'v1.0.0', SHA_A)
        const result = await runAction({
          ...options,
          payload: { ...options.payload, action: 'edited' }
        })
        expect(result.status).toBe(0)
        expect(result.stdout).toContain(
          "::notice::nothing to do: release action 'edited' publishes nothing"
        )
        expect(result.summary).toContain("release action 'edited' publishes nothing")
        expect(standIn.control.snapshot('team/quiet')).toEqual(before)
      })
  )
})
