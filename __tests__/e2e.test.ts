/**
 * End to end: the bundled dist/index.js, run as a GitHub runner runs it, against two independent
 * HTTP endpoints that speak ECR's protocol: the stand-in in ./support and moto_server. The scenarios
 * are the same on both; where moto departs from ECR (see ./support/moto.mjs) the test says so.
 */
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  ECRClient,
  type ImageTagMutability
} from '@aws-sdk/client-ecr'
import { startStandIn } from './support/ecr-standin.mjs'
import {
  dockerManifestList,
  dockerV2Image,
  helmChart,
  MEDIA_TYPES,
  multiArchImage,
  seedImage,
  tagsByDigest
} from './support/images.mjs'
import { runAction, startAction } from './support/run-action.mjs'

type StandIn = Awaited<ReturnType<typeof startStandIn>>
type ImageFixture = ReturnType<typeof multiArchImage>

interface Endpoint {
  url: string
  /** Only the stand-in can deny an IAM action or fail a write on purpose. */
  standIn?: StandIn
  close(): Promise<void>
}

const endpoints: [string, () => Promise<Endpoint>][] = [
  [
    'the ECR stand-in',
    async () => {
      const standIn = await startStandIn()
      return { url: standIn.url, standIn, close: () => standIn.close() }
    }
  ]
]
const motoUrl = process.env.MOTO_ENDPOINT
if (motoUrl) endpoints.push(['moto_server', async () => ({ url: motoUrl, close: async () => {} })])

const ALL_MEDIA_TYPES = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest
]
const SHA_A = 'aaaaaaa1111111111111111111111111111111111'.slice(0, 40)
// Enough ../ to reach / from any checkout, naming a file that exists nowhere: refused as outside, not as missing.
const CLIMBING_PATH = `${'../'.repeat(process.cwd().split('/').length)}nowhere/convention.yml`
const SHA_B = 'bbbbbbb2222222222222222222222222222222222'.slice(0, 40)
const SHA_C = 'ccccccc3333333333333333333333333333333333'.slice(0, 40)
const SHA_D = 'ddddddd4444444444444444444444444444444444'.slice(0, 40)
const repositoryPayload = { repository: { default_branch: 'main', full_name: 'octo/app' } }

describe.each(endpoints)('ecr-promote against %s', (endpointName, start) => {
  let endpoint: Endpoint
  let client: ECRClient
  let counter = 0

  beforeAll(async () => {
    endpoint = await start()
    client = new ECRClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
    })
  })
  afterAll(async () => {
    client.destroy()
    await endpoint.close()
  })

  async function repository(mutability: ImageTagMutability = 'MUTABLE'): Promise<string> {
    const name = `team/app-${process.pid}-${++counter}`
    await client.send(
      new CreateRepositoryCommand({ repositoryName: name, imageTagMutability: mutability })
    )
    return name
  }

  const tags = (repositoryName: string) => tagsByDigest(client, repositoryName)

  async function manifestOf(repositoryName: string, tag: string) {
    const { images = [] } = await client.send(
      new BatchGetImageCommand({
        repositoryName,
        imageIds: [{ imageTag: tag }],
        acceptedMediaTypes: ALL_MEDIA_TYPES
      })
    )
    const [image] = images
    return {
      body: image?.imageManifest,
      mediaType: image?.imageManifestMediaType,
      digest: image?.imageId?.imageDigest
    }
  }

  const run = (
    eventName: string,
    payload: Record<string, unknown>,
    inputs: Record<string, string>,
    env: Record<string, string>
  ) =>
    runAction({
      endpoint: endpoint.url,
      eventName,
      payload: { ...repositoryPayload, ...payload },
      inputs,
      env
    })

  const push = (
    repositoryName: string,
    sha: string,
    branch = 'main',
    inputs: Record<string, string> = {}
  ) =>
    run(
      'push',
      { ref: `refs/heads/${branch}`, after: sha },
      { repository: repositoryName, ...inputs },
      {
        GITHUB_REF: `refs/heads/${branch}`,
        GITHUB_SHA: sha
      }
    )

  const release = (
    repositoryName: string,
    tag: string,
    sha: string,
    inputs: Record<string, string> = {}
  ) =>
    run(
      'release',
      { action: 'published', release: { tag_name: tag, prerelease: false } },
      { repository: repositoryName, ...inputs },
      {
        GITHUB_REF: `refs/tags/${tag}`,
        GITHUB_SHA: sha
      }
    )

  /** A workflow_dispatch whose workflow passes its own inputs on, as the README's usage does. */
  const dispatch = (
    repositoryName: string,
    inputs: Record<string, string>,
    sha = SHA_C,
    env: Record<string, string> = {}
  ) =>
    run(
      'workflow_dispatch',
      { inputs },
      { repository: repositoryName, ...inputs },
      { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: sha, ...env }
    )

  const pushWithEventFile = (repositoryName: string, eventPath: string) =>
    runAction({
      endpoint: endpoint.url,
      eventName: 'push',
      inputs: { repository: repositoryName },
      env: { GITHUB_EVENT_PATH: eventPath, GITHUB_REF: 'refs/heads/main' }
    })

  const changes = (outputs: Record<string, string>) =>
    (JSON.parse(outputs.changes ?? '[]') as { tag: string; action: string }[]).map(
      ({ tag, action }) => `${tag} ${action}`
    )

  it('runs the main job: push to main, two releases, a rollback, digest-exact throughout', async () => {
    const repo = await repository()
    const first = multiArchImage(`${endpointName}-first`)
    const second = multiArchImage(`${endpointName}-second`)
    await seedImage(client, repo, first, ['sha-aaaaaaa'])

    const pushed = await push(repo, SHA_A)
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
    expect(changes(pushed.outputs)).toEqual(['latest created'])
    expect(await manifestOf(repo, 'latest')).toEqual({
      body: first.manifest,
      mediaType: first.mediaType,
      digest: first.digest
    })

    const again = await push(repo, SHA_A)
    expect(again.status).toBe(0)
    expect(changes(again.outputs)).toEqual(['latest unchanged'])

    const v1 = await release(repo, 'v1.0.0', SHA_A)
    expect(v1.status).toBe(0)
    expect(changes(v1.outputs)).toEqual(['v1.0.0 created', 'production created'])
    expect(v1.outputs).toMatchObject({
      version: '1.0.0',
      tags: 'v1.0.0\nproduction',
      digest: first.digest
    })

    await seedImage(client, repo, second, ['sha-bbbbbbb'])
    expect((await push(repo, SHA_B)).status).toBe(0)
    const v11 = await release(repo, 'v1.1.0', SHA_B)
    expect(changes(v11.outputs)).toEqual(['v1.1.0 created', 'production moved'])
    expect(v11.outputs['previous-digest']).toBe(first.digest)

    const rollback = await dispatch(repo, { version: '1.0.0' })
    expect(rollback.errors).toEqual([])
    expect(changes(rollback.outputs)).toEqual(['withdrawn-1.1.0 created', 'production moved'])
    expect(rollback.outputs).toMatchObject({
      digest: first.digest,
      'previous-digest': second.digest,
      version: '1.0.0'
    })
    expect(rollback.summary).toContain('rollback to 1.0.0')
    expect(rollback.summary).toMatch(
      /<th>Repository<\/th><th>Tag<\/th><th>Before<\/th><th>After<\/th><th>Action<\/th>/
    )

    expect(await tags(repo)).toEqual({
      'sha-aaaaaaa': first.digest,
      'sha-bbbbbbb': second.digest,
      'v1.0.0': first.digest,
      'v1.1.0': second.digest,
      latest: second.digest,
      production: first.digest,
      'withdrawn-1.1.0': second.digest
    })
    expect(await manifestOf(repo, 'withdrawn-1.1.0')).toMatchObject({ digest: second.digest })
    expect(await manifestOf(repo, 'production')).toEqual({
      body: first.manifest,
      mediaType: first.mediaType,
      digest: first.digest
    })
  })

  it('follows the channels convention: edge, releases with stable and latest, branch builds, rc promotions, rollback', async () => {
    const repo = await repository()
    const channels = { convention: 'channels', service: 'app' }
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((seed) =>
      multiArchImage(`${endpointName}-channels-${seed}`)
    ) as [ImageFixture, ImageFixture, ImageFixture, ImageFixture]
    await seedImage(client, repo, a, ['app-main-aaaaaaa'])

    const edge = await push(repo, SHA_A, 'main', channels)
    expect(edge.errors).toEqual([])
    expect(changes(edge.outputs)).toEqual(['edge created'])

    const v210 = await release(repo, 'v2.1.0', SHA_A, channels)
    expect(v210.errors).toEqual([])
    expect(changes(v210.outputs)).toEqual(['2.1.0 created', 'stable created', 'latest created'])
    expect(v210.outputs).toMatchObject({ version: '2.1.0', tags: '2.1.0\nstable\nlatest' })

    await seedImage(client, repo, b, ['app-main-bbbbbbb'])
    const v203 = await release(repo, '2.0.3', SHA_B, channels)
    expect(v203.errors).toEqual([])
    expect(changes(v203.outputs)).toEqual(['2.0.3 created', 'stable unchanged', 'latest unchanged'])
    expect(v203.outputs.tags).toBe('2.0.3')

    await seedImage(client, repo, c, ['app-Feature-Login_Page-42-ccccccc'])
    const feature = await push(repo, SHA_C, 'Feature/Login_Page#42', channels)
    expect(feature.errors).toEqual([])
    expect(feature.outputs).toMatchObject({ digest: c.digest, changes: '[]' })

    await seedImage(client, repo, d, ['app-main-ddddddd'])
    const staging = await dispatch(
      repo,
      { ...channels, event: 'promote', environment: 'staging', version: '2.2.0' },
      SHA_D,
      { GITHUB_RUN_NUMBER: '41' }
    )
    expect(staging.errors).toEqual([])
    expect(changes(staging.outputs)).toEqual(['2.2.0-rc.41 created'])

    const rollback = await dispatch(repo, { ...channels, version: 'previous' })
    expect(rollback.errors).toEqual([])
    expect(rollback.outputs).toMatchObject({
      version: '2.0.3',
      digest: b.digest,
      'previous-digest': a.digest
    })

    expect(await tags(repo)).toEqual({
      'app-main-aaaaaaa': a.digest,
      'app-main-bbbbbbb': b.digest,
      'app-Feature-Login_Page-42-ccccccc': c.digest,
      'app-main-ddddddd': d.digest,
      edge: a.digest,
      '2.1.0': a.digest,
      '2.0.3': b.digest,
      '2.2.0-rc.41': d.digest,
      latest: a.digest,
      stable: b.digest,
      'withdrawn-2.1.0': a.digest
    })
  })

  it('moves several repositories as one plan, each with its own {service}', async () => {
    const [api, worker] = [await repository(), await repository()]
    const apiImage = dockerV2Image(`${endpointName}-multi-api`)
    const workerImage = multiArchImage(`${endpointName}-multi-worker`)
    await seedImage(client, api, apiImage, [`${api.split('/')[1]}-main-aaaaaaa`])
    await seedImage(client, worker, workerImage, [`${worker.split('/')[1]}-main-aaaaaaa`])
    const result = await push(`${api}\n${worker}`, SHA_A, 'main', { convention: 'channels' })
    expect(result.errors).toEqual([])
    expect(JSON.parse(result.outputs.changes ?? '')).toEqual([
      {
        repository: api,
        tag: 'edge',
        from: null,
        to: apiImage.digest,
        action: 'created',
        now: apiImage.digest
      },
      {
        repository: worker,
        tag: 'edge',
        from: null,
        to: workerImage.digest,
        action: 'created',
        now: workerImage.digest
      }
    ])
    expect(result.outputs.digest).toBe(`${apiImage.digest}\n${workerImage.digest}`)
    expect(result.summary.match(/<code>edge<\/code>/g)).toHaveLength(2)
  })

  it('runs a team convention file from the workspace', async () => {
    const repo = await repository()
    const image = helmChart(`${endpointName}-custom`)
    await seedImage(client, repo, image, ['build-aaaaaaa'])
    const result = await release(repo, 'v3.0.0', SHA_A, {
      convention: '__tests__/support/team-convention.yml'
    })
    expect(result.errors).toEqual([])
    expect(changes(result.outputs)).toEqual(['release-3.0.0 created', '3 created', 'live created'])
  })

  it('names the field of a convention file with a mistake, before any write', async () => {
    const repo = await repository()
    await seedImage(client, repo, helmChart(`${endpointName}-broken`), ['sha-aaaaaaa'])
    const result = await push(repo, SHA_A, 'main', {
      convention: '__tests__/support/broken-convention.yml'
    })
    expect(result.status).toBe(1)
    expect(result.errors).toEqual([
      'convention __tests__/support/broken-convention.yml: release[1].kind: must be one of plain, version, forward, highest'
    ])
    expect(Object.keys(await tags(repo))).toEqual(['sha-aaaaaaa'])
  })

  it('leaves production alone for a hotfix release below it, and rolls back to previous', async () => {
    const repo = await repository()
    const [a, b, c] = ['a', 'b', 'c'].map((seed) =>
      multiArchImage(`${endpointName}-hotfix-${seed}`)
    ) as [
      ReturnType<typeof multiArchImage>,
      ReturnType<typeof multiArchImage>,
      ReturnType<typeof multiArchImage>
    ]
    await seedImage(client, repo, a, ['sha-aaaaaaa', 'v1.1.0'])
    await seedImage(client, repo, b, ['sha-bbbbbbb', 'v1.2.0', 'production'])
    await seedImage(client, repo, c, ['sha-ccccccc'])

    const hotfix = await release(repo, 'v1.1.5', SHA_C)
    expect(hotfix.status).toBe(0)
    expect(changes(hotfix.outputs)).toEqual(['v1.1.5 created', 'production unchanged'])
    expect(hotfix.outputs.tags).toBe('v1.1.5')
    expect(hotfix.summary).toContain(
      'stays on 1.2.0: 1.1.5 is lower, and only a rollback moves it back'
    )
    expect(hotfix.stdout).toMatch(
      /^::notice::team\/app-\S+:production sha256:\w{12} -> sha256:\w{12} unchanged \(stays on 1\.2\.0: 1\.1\.5 is lower, and only a rollback moves it back\)$/m
    )

    const previous = await dispatch(repo, { version: 'previous' })
    expect(previous.errors).toEqual([])
    expect(previous.outputs).toMatchObject({
      version: '1.1.5',
      digest: c.digest,
      'previous-digest': b.digest
    })
    expect((await tags(repo)).production).toBe(c.digest)
  })

  it('finds the previous version across two pages of 1,000 tags', async () => {
    const repo = await repository()
    const old = dockerV2Image(`${endpointName}-paged-old`)
    const current = dockerV2Image(`${endpointName}-paged-current`)
    const noise = dockerV2Image(`${endpointName}-paged-noise`)
    await seedImage(
      client,
      repo,
      noise,
      Array.from({ length: 1010 }, (_, i) => `build-${i}`)
    )
    await seedImage(client, repo, old, ['v3.9.9'])
    await seedImage(client, repo, current, ['v4.0.0', 'production'])

    const callsBefore = endpoint.standIn?.control.calls.length ?? 0
    const rollback = await dispatch(repo, { version: 'previous' })
    expect(rollback.errors).toEqual([])
    expect(rollback.outputs.version).toBe('3.9.9')
    // moto ignores maxResults and answers in one page; the stand-in pages as ECR does.
    const listCalls = endpoint.standIn?.control.calls
      .slice(callsBefore)
      .filter(({ operation }: { operation: string }) => operation === 'ListImages')
    if (endpoint.standIn) expect(listCalls).toHaveLength(2)
    expect(await manifestOf(repo, 'production')).toEqual({
      body: old.manifest,
      mediaType: old.mediaType,
      digest: old.digest
    })
  })

  it.each([
    ['a Docker v2 manifest, pretty-printed as docker pushes it', dockerV2Image],
    ['a Docker manifest list', dockerManifestList],
    ['a Helm chart whose manifest has no mediaType field', helmChart]
  ])('promotes %s byte for byte', async (_name, fixture) => {
    const repo = await repository()
    const image = fixture(`${endpointName}-${_name}`)
    await seedImage(client, repo, image, ['sha-ccccccc'])
    const promoted = await dispatch(repo, { environment: 'staging' })
    expect(promoted.errors).toEqual([])
    expect(changes(promoted.outputs)).toEqual(['staging created'])
    expect(await manifestOf(repo, 'staging')).toEqual({
      body: image.manifest,
      mediaType: image.mediaType,
      digest: image.digest
    })
  })

  it('writes nothing in a dry run', async () => {
    const repo = await repository()
    await seedImage(client, repo, multiArchImage(`${endpointName}-dry`), ['sha-aaaaaaa'])
    const planned = await push(repo, SHA_A, 'main', { 'dry-run': 'true' })
    expect(planned.status).toBe(0)
    expect(changes(planned.outputs)).toEqual(['latest planned'])
    expect(planned.outputs.tags).toBe('latest')
    expect(planned.summary).toContain('dry run: nothing was written')
    expect(Object.keys(await tags(repo))).toEqual(['sha-aaaaaaa'])
  })

  it('takes a full image URI as the repository, with its registry and region', async () => {
    const repo = await repository()
    const image = multiArchImage(`${endpointName}-uri`)
    await seedImage(client, repo, image, ['sha-aaaaaaa'])
    const result = await push(
      `123456789012.dkr.ecr.us-east-1.amazonaws.com/${repo}`,
      SHA_A,
      'main',
      {
        region: ''
      }
    )
    expect(result.errors).toEqual([])
    expect(changes(result.outputs)).toEqual(['latest created'])
    expect(result.outputs.images).toMatch(new RegExp(`/${repo}:latest$`))
    expect((await tags(repo)).latest).toBe(image.digest)
  })

  it('checks the build image of a feature branch and writes nothing', async () => {
    const repo = await repository()
    const image = multiArchImage(`${endpointName}-feature`)
    await seedImage(client, repo, image, ['sha-aaaaaaa'])
    const feature = await push(repo, SHA_A, 'feature/login')
    expect(feature.status).toBe(0)
    expect(feature.outputs).toMatchObject({ digest: image.digest, tags: '', changes: '[]' })
    expect(Object.keys(await tags(repo))).toEqual(['sha-aaaaaaa'])
  })

  describe('events that publish nothing write nothing', () => {
    it.each([['created'], ['edited'], ['deleted'], ['unpublished']])(
      'a release %s',
      async (action) => {
        const repo = await repository()
        await seedImage(client, repo, multiArchImage(`${endpointName}-quiet-${action}`), [
          'sha-aaaaaaa'
        ])
        const before = await tags(repo)
        const result = await run(
          'release',
          { action, release: { tag_name: 'v1.0.0', prerelease: false } },
          { repository: repo },
          { GITHUB_REF: 'refs/tags/v1.0.0', GITHUB_SHA: SHA_A }
        )
        expect(result.status).toBe(0)
        expect(result.stdout).toContain(
          `::notice::nothing to do: release action '${action}' publishes nothing`
        )
        expect(result.summary).toContain(`release action '${action}' publishes nothing`)
        expect(await tags(repo)).toEqual(before)
      }
    )

    it('a draft release', async () => {
      const repo = await repository()
      await seedImage(client, repo, multiArchImage(`${endpointName}-draft`), ['sha-aaaaaaa'])
      const result = await run(
        'release',
        { action: 'published', release: { tag_name: 'v1.0.0', draft: true } },
        { repository: repo },
        { GITHUB_REF: 'refs/tags/v1.0.0', GITHUB_SHA: SHA_A }
      )
      expect(result.status).toBe(0)
      expect(result.stdout).toContain('::notice::nothing to do: the release is a draft')
      expect(Object.keys(await tags(repo))).toEqual(['sha-aaaaaaa'])
    })

    it.each([['pull_request'], ['pull_request_target']])(
      "a %s from a fork's main never moves latest",
      async (eventName) => {
        const repo = await repository()
        const image = multiArchImage(`${endpointName}-fork-${eventName}`)
        await seedImage(client, repo, image, ['sha-aaaaaaa'])
        const result = await run(
          eventName,
          { pull_request: { head: { ref: 'main' } } },
          { repository: repo },
          { GITHUB_REF: 'refs/pull/7/merge', GITHUB_HEAD_REF: 'main', GITHUB_SHA: SHA_A }
        )
        expect(result.errors).toEqual([])
        expect(result.outputs).toMatchObject({ digest: image.digest, tags: '', changes: '[]' })
        expect(Object.keys(await tags(repo))).toEqual(['sha-aaaaaaa'])
      }
    )
  })

  it('rolls a half-finished release back to one version across repositories', async () => {
    const [api, worker] = [await repository(), await repository()]
    const [v1, v2] = ['v1', 'v2'].map((seed) => multiArchImage(`${endpointName}-half-${seed}`)) as [
      ImageFixture,
      ImageFixture
    ]
    // api reached 1.2.0; worker was never promoted and still runs 1.1.0.
    await seedImage(client, api, v1, ['v1.1.0'])
    await seedImage(client, api, v2, ['v1.2.0', 'production'])
    await seedImage(client, worker, v1, ['v1.1.0', 'production'])
    await seedImage(client, worker, v2, ['v1.2.0'])
    const result = await dispatch(`${api}\n${worker}`, { version: 'previous' })
    expect(result.errors).toEqual([])
    expect(JSON.parse(result.outputs.changes ?? '')).toEqual([
      // api leaves 1.2.0, so it is marked withdrawn; worker's production does not move.
      {
        repository: api,
        tag: 'withdrawn-1.2.0',
        from: null,
        to: v2.digest,
        action: 'created',
        now: v2.digest
      },
      {
        repository: api,
        tag: 'production',
        from: v2.digest,
        to: v1.digest,
        action: 'moved',
        now: v1.digest
      },
      // 1.2.0 is withdrawn in the whole run: worker has it too, though its pointer never got there.
      {
        repository: worker,
        tag: 'withdrawn-1.2.0',
        from: null,
        to: v2.digest,
        action: 'created',
        now: v2.digest
      },
      {
        repository: worker,
        tag: 'production',
        from: v1.digest,
        to: v1.digest,
        action: 'unchanged',
        now: v1.digest
      }
    ])
    expect(result.outputs.version).toBe('1.1.0\n1.1.0')
    expect((await tags(api)).production).toBe(v1.digest)
    expect((await tags(worker)).production).toBe(v1.digest)
  })

  it('gives one output line per repository, blanks included, and the whole picture as json', async () => {
    const [api, worker] = [await repository(), await repository()]
    const image = multiArchImage(`${endpointName}-lines`)
    const older = multiArchImage(`${endpointName}-lines-older`)
    await seedImage(client, api, image, ['sha-aaaaaaa'])
    await seedImage(client, worker, older, ['v0.9.0', 'production'])
    await seedImage(client, worker, image, ['sha-aaaaaaa'])
    const result = await release(`${api}\n${worker}`, 'v1.0.0', SHA_A)
    expect(result.errors).toEqual([])
    expect(result.outputs['previous-digest']).toBe(`\n${older.digest}`)
    expect(result.outputs.digest).toBe(`${image.digest}\n${image.digest}`)
    expect(result.outputs.version).toBe('1.0.0\n1.0.0')
    const json = JSON.parse(result.outputs.json ?? '')
    expect(json).toEqual([
      expect.objectContaining({
        repository: api,
        uri: expect.stringMatching(new RegExp(`/${api}$`)),
        digest: image.digest,
        version: '1.0.0',
        'previous-digest': '',
        tags: ['v1.0.0', 'production']
      }),
      expect.objectContaining({
        repository: worker,
        'previous-digest': older.digest,
        tags: ['v1.0.0', 'production'],
        changes: [
          expect.objectContaining({ tag: 'v1.0.0', action: 'created' }),
          expect.objectContaining({ tag: 'production', from: older.digest, action: 'moved' })
        ]
      })
    ])
  })

  it('refuses to promote production backwards and points at rollback, writing nothing', async () => {
    const repo = await repository()
    const [older, newer] = ['older', 'newer'].map((seed) =>
      multiArchImage(`${endpointName}-backwards-${seed}`)
    ) as [ImageFixture, ImageFixture]
    await seedImage(client, repo, older, ['sha-ccccccc', 'v1.0.0'])
    await seedImage(client, repo, newer, ['v1.1.0', 'production'])
    const before = await tags(repo)
    const result = await dispatch(repo, { event: 'promote', environment: 'production' })
    expect(result.status).toBe(1)
    expect(result.errors).toEqual([
      expect.stringMatching(
        /^cannot promote team\/app-\S+:production: it stays on 1\.1\.0: 1\.0\.0 is lower, and only a rollback moves it back; to move it back, run event: rollback$/
      )
    ])
    expect(result.summary).toContain('Nothing was written.')
    expect(await tags(repo)).toEqual(before)
  })

  describe('refuses bad input with one ::error:: line per problem, before any write', () => {
    it.each<[string, (repo: string) => ReturnType<typeof runAction>, RegExp]>([
      [
        'an invalid release tag',
        (repo) => release(repo, 'release-2024', SHA_A),
        /^release tag 'release-2024' is not a semantic version/
      ],
      [
        'a missing build image, saying where its tag came from',
        (repo) => push(repo, SHA_B),
        new RegExp(
          `^source image 'sha-bbbbbbb' not found in repository team/app-\\S+: it is the build tag sha-\\{sha7\\} of commit ${SHA_B} \\(sha from GITHUB_SHA\\); if the build pushes it later, set wait-for-source \\(such as 10m\\) or run this step after the build$`
        )
      ],
      [
        'a malformed digest',
        (repo) => push(repo, SHA_A, 'main', { source: 'sha256:deadbeef' }),
        /^source 'sha256:deadbeef' is not a digest: a digest is sha256: followed by 64 lowercase hexadecimal characters$/
      ],
      [
        'a sha shorter than the convention takes',
        (repo) =>
          push(repo, SHA_A, 'main', {
            convention: '__tests__/support/long-sha-convention.yml',
            sha: 'aaaaaaa'
          }),
        /^sha 'aaaaaaa' has 7 characters, but the tag template 'build-\{sha:12\}' takes 12: pass the full commit hash as sha$/
      ],
      [
        'an image URI in another region than the region input',
        (repo) =>
          push(`123456789012.dkr.ecr.us-east-1.amazonaws.com/${repo}`, SHA_A, 'main', {
            region: 'eu-west-1'
          }),
        /^repository '123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/team\/app-\S+' is in region us-east-1, but the region input is eu-west-1: drop one or make them agree$/
      ],
      [
        'an image URI in another registry than the registry-id input',
        (repo) =>
          push(`123456789012.dkr.ecr.us-east-1.amazonaws.com/${repo}`, SHA_A, 'main', {
            'registry-id': '210987654321'
          }),
        /^repository '123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/team\/app-\S+' is in registry 123456789012, but the registry-id input is 210987654321: drop one or make them agree$/
      ],
      [
        'a wait-for-source that is not a duration',
        (repo) => push(repo, SHA_A, 'main', { 'wait-for-source': 'a while' }),
        /^wait-for-source 'a while' is not a duration: use a number with s, m or h, such as 90s, 10m or 1h \(0 waits not at all\)$/
      ],
      [
        'a missing rollback version',
        (repo) => dispatch(repo, { version: '0.9.0' }),
        /^source image 'v0.9.0' not found/
      ],
      [
        'a repository that does not exist',
        () => push('team/nowhere', SHA_A),
        /^repository team\/nowhere not found in the default registry of these credentials: check the repository, registry-id and region inputs$/
      ],
      [
        'a repository name outside ECR grammar',
        () => push('Team/App', SHA_A),
        /^repository 'Team\/App' is not a valid ECR repository name/
      ],
      [
        'an unknown convention',
        (repo) => push(repo, SHA_A, 'main', { convention: 'gitflow' }),
        /^unknown convention 'gitflow'/
      ],
      [
        'an environment named like an Object property',
        (repo) => dispatch(repo, { environment: 'constructor' }),
        /^the environments convention has no promotion to 'constructor': it knows staging, canary, production$/
      ],
      [
        'a convention file outside the workspace',
        (repo) => push(repo, SHA_A, 'main', { convention: '/etc/hostname' }),
        /^cannot read convention file \/etc\/hostname: it resolves to \/etc\/hostname, outside the workspace /
      ],
      [
        'a convention path that climbs out of the workspace',
        (repo) => push(repo, SHA_A, 'main', { convention: CLIMBING_PATH }),
        /^cannot read convention file (\.\.\/)+nowhere\/convention\.yml: it resolves to \/nowhere\/convention\.yml, outside the workspace /
      ],
      [
        'an event payload that is not JSON',
        (repo) => pushWithEventFile(repo, 'README.md'),
        /^the event payload GITHUB_EVENT_PATH=README\.md is not valid JSON$/
      ],
      [
        'an event payload that cannot be read',
        (repo) => pushWithEventFile(repo, '/nonexistent/event.json'),
        /^cannot read the event payload GITHUB_EVENT_PATH=\/nonexistent\/event\.json: ENOENT$/
      ]
    ])('%s', async (_name, act, message) => {
      const repo = await repository()
      await seedImage(client, repo, multiArchImage(`${endpointName}-refuse`), [
        'sha-aaaaaaa',
        'latest'
      ])
      const before = await tags(repo)
      const result = await act(repo)
      expect(result.status).toBe(1)
      expect(result.errors).toEqual([expect.stringMatching(message)])
      expect(result.stderr).not.toMatch(/\n\s+at /)
      expect(result.summary).toContain('Nothing was written.')
      expect(await tags(repo)).toEqual(before)
    })

    it('an immutable tag, naming IMMUTABLE_WITH_EXCLUSION', async () => {
      const repo = await repository('IMMUTABLE')
      await seedImage(client, repo, multiArchImage(`${endpointName}-immutable-old`), ['latest'])
      await seedImage(client, repo, multiArchImage(`${endpointName}-immutable-new`), [
        'sha-aaaaaaa'
      ])
      const before = await tags(repo)
      const result = await push(repo, SHA_A)
      expect(result.status).toBe(1)
      expect(result.errors).toEqual([
        expect.stringMatching(
          /^tag 'latest' in team\/app-\S+ is immutable \(imageTagMutability IMMUTABLE\).*IMMUTABLE_WITH_EXCLUSION with an exclusion filter matching 'latest'/
        )
      ])
      expect(await tags(repo)).toEqual(before)
    })
  })
})

describe('ecr-promote against the ECR stand-in only', () => {
  // moto has no IAM, cannot fail a write on purpose, and deletes images that lose their last tag.
  let standIn: StandIn
  let client: ECRClient
  beforeAll(async () => {
    standIn = await startStandIn()
    client = new ECRClient({
      endpoint: standIn.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
    })
  })
  afterAll(async () => {
    client.destroy()
    await standIn.close()
  })

  const release = (repository: string, tag: string) =>
    runAction({
      endpoint: standIn.url,
      eventName: 'release',
      payload: { release: { tag_name: tag, prerelease: false } },
      inputs: { repository },
      env: { GITHUB_REF: `refs/tags/${tag}`, GITHUB_SHA: SHA_B }
    })

  async function seeded(name: string) {
    await client.send(new CreateRepositoryCommand({ repositoryName: name }))
    const old = multiArchImage(`${name}-old`)
    const build = multiArchImage(`${name}-new`)
    await seedImage(client, name, old, ['v1.0.0', 'production'])
    await seedImage(client, name, build, ['sha-bbbbbbb'])
    return { old, build }
  }

  describe('ranks images without a version by push time', () => {
    /** production on an unversioned image pushed on `productionDay`; the build pushed on `buildDay` (January 2026). */
    async function unversioned(name: string, buildDay: number, productionDay: number) {
      await client.send(new CreateRepositoryCommand({ repositoryName: name }))
      const [current, build] = [multiArchImage(`${name}-current`), multiArchImage(`${name}-build`)]
      await seedImage(client, name, current, ['production'])
      await seedImage(client, name, build, ['sha-bbbbbbb'])
      standIn.control.setPushedAt(name, current.digest, Date.UTC(2026, 0, productionDay))
      standIn.control.setPushedAt(name, build.digest, Date.UTC(2026, 0, buildDay))
      return { current, build }
    }
    const promote = (repository: string) =>
      runAction({
        endpoint: standIn.url,
        eventName: 'workflow_dispatch',
        payload: { inputs: { environment: 'production' } },
        inputs: { repository, environment: 'production' },
        env: { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: SHA_B }
      })

    it('refuses to promote an older build over production, writing nothing', async () => {
      const { current } = await unversioned('older-build', 1, 2)
      const from = standIn.control.calls.length
      const result = await promote('older-build')
      expect(result.status).toBe(1)
      expect(result.errors).toEqual([
        'cannot promote older-build:production: it stays on the image pushed 2026-01-02T00:00:00.000Z: this image was pushed earlier (2026-01-01T00:00:00.000Z), and only a rollback moves it back; to move it back, run event: rollback'
      ])
      expect((await tagsByDigest(client, 'older-build')).production).toBe(current.digest)
      const operations = standIn.control.calls.slice(from).map(({ operation }) => operation)
      // One with the first read (how the source is stored), one for the push times.
      expect(operations.filter((operation) => operation === 'DescribeImages')).toHaveLength(2)
      expect(operations).not.toContain('PutImage')
    })

    it('promotes a newer build', async () => {
      const { build } = await unversioned('newer-build', 3, 2)
      const result = await promote('newer-build')
      expect(result.errors).toEqual([])
      expect((await tagsByDigest(client, 'newer-build')).production).toBe(build.digest)
    })

    it('holds production with a notice on a release of an older build', async () => {
      const { current } = await unversioned('older-release', 1, 2)
      const result = await release('older-release', 'v1.1.0')
      expect(result.status).toBe(0)
      expect(result.stdout).toMatch(
        /::notice::older-release:production .* unchanged \(stays on the image pushed 2026-01-02/
      )
      expect(await tagsByDigest(client, 'older-release')).toMatchObject({
        production: current.digest
      })
    })
  })

  describe('waits for a source image that is not there yet', () => {
    const releaseWaiting = (repository: string, wait: string) =>
      startAction({
        endpoint: standIn.url,
        eventName: 'release',
        payload: { action: 'published', release: { tag_name: 'v1.1.0', prerelease: false } },
        inputs: { repository, 'wait-for-source': wait },
        env: { GITHUB_REF: 'refs/tags/v1.1.0', GITHUB_SHA: SHA_B }
      })

    it('releases once the build pushes its image, a few seconds later', async () => {
      await client.send(new CreateRepositoryCommand({ repositoryName: 'late-build' }))
      await seedImage(client, 'late-build', multiArchImage('late-build-old'), [
        'v1.0.0',
        'production'
      ])
      const build = multiArchImage('late-build-new')
      const run = releaseWaiting('late-build', '30s')
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      await seedImage(client, 'late-build', build, ['sha-bbbbbbb'])
      const result = await run.result
      expect(result.errors).toEqual([])
      expect(result.stdout).toMatch(/waiting for late-build:sha-bbbbbbb: 0 s of 30 s/)
      expect(await tagsByDigest(client, 'late-build')).toMatchObject({
        'v1.1.0': build.digest,
        production: build.digest
      })
    }, 30_000)

    it('gives up when the time runs out, writing nothing and saying so', async () => {
      await client.send(new CreateRepositoryCommand({ repositoryName: 'no-build' }))
      await seedImage(client, 'no-build', multiArchImage('no-build-old'), ['v1.0.0', 'production'])
      const started = Date.now()
      const result = await releaseWaiting('no-build', '3s').result
      expect(Date.now() - started).toBeLessThan(15_000)
      expect(result.status).toBe(1)
      expect(result.errors).toEqual([
        `source image 'sha-bbbbbbb' not found in repository no-build: it is the build tag sha-{sha7} of commit ${SHA_B} (sha from GITHUB_SHA); it did not appear within wait-for-source (3s): check that the build pushed it`
      ])
      expect(Object.keys(await tagsByDigest(client, 'no-build')).sort()).toEqual([
        'production',
        'v1.0.0'
      ])
    }, 30_000)
  })

  it('escapes a branch name in the job summary', async () => {
    await seeded('html-branch')
    const result = await runAction({
      endpoint: standIn.url,
      eventName: 'push',
      payload: { repository: { default_branch: 'main' } },
      inputs: { repository: 'html-branch', sha: SHA_B },
      env: { GITHUB_REF: 'refs/heads/feat/<img src=x onerror=alert(1)>*bold*' }
    })
    expect(result.errors).toEqual([])
    expect(result.summary).toContain(
      'push to feat/&#60;img src=x onerror=alert(1)&#62;&#42;bold&#42;'
    )
    expect(result.summary).not.toMatch(/<img|\*bold/)
  })

  it('takes the release tag from the payload alone, without GITHUB_REF', async () => {
    const { build } = await seeded('payload-only')
    const result = await runAction({
      endpoint: standIn.url,
      eventName: 'release',
      payload: { release: { tag_name: 'v1.1.0', prerelease: false } },
      inputs: { repository: 'payload-only' },
      env: { GITHUB_SHA: SHA_B }
    })
    expect(result.errors).toEqual([])
    expect(result.outputs).toMatchObject({ version: '1.1.0', digest: build.digest })
  })

  it('names the IAM action that is missing', async () => {
    await seeded('denied')
    standIn.control.deny('PutImage', 'denied')
    const result = await release('denied', 'v1.1.0')
    expect(result.status).toBe(1)
    expect(result.errors).toEqual([
      expect.stringMatching(
        /^access denied: the credentials lack the IAM permission ecr:PutImage on repository denied \(User: arn:aws:sts::/
      ),
      'no tag was written: the registry is as it was before the run'
    ])
  })

  it('puts back the tags it wrote when a later write fails', async () => {
    const { old } = await seeded('undo')
    const before = standIn.control.snapshot('undo')
    standIn.control.failPutImage('production', {
      exception: 'KmsException',
      message: 'injected failure'
    })
    const result = await release('undo', 'v1.1.0')
    expect(result.status).toBe(1)
    expect(result.errors).toEqual([
      'ecr:PutImage on undo failed: KmsException: injected failure',
      'every tag this run had written was put back: the registry is as it was before the run'
    ])
    expect(JSON.parse(result.outputs.changes ?? '')).toEqual([
      expect.objectContaining({ tag: 'v1.1.0', from: null, action: 'undone' }),
      expect.objectContaining({ tag: 'production', from: old.digest, action: 'failed' })
    ])
    expect(result.summary).toMatch(/<code>production<\/code>.*failed/s)
    expect(standIn.control.snapshot('undo')).toEqual(before)
  })

  it('keeps the image a tag moved away from, untagged (moto deletes it instead)', async () => {
    await client.send(new CreateRepositoryCommand({ repositoryName: 'untagged' }))
    const previous = multiArchImage('only-latest')
    await seedImage(client, 'untagged', previous, ['latest'])
    await seedImage(client, 'untagged', multiArchImage('untagged-build'), ['sha-bbbbbbb'])
    const result = await runAction({
      endpoint: standIn.url,
      eventName: 'push',
      payload: { ref: 'refs/heads/main', repository: { default_branch: 'main' } },
      inputs: { repository: 'untagged' },
      env: { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: SHA_B }
    })
    expect(result.status).toBe(0)
    const images = standIn.control.snapshot('untagged').images
    expect(
      images.find(({ digest }: { digest: string }) => digest === previous.digest)
    ).toMatchObject({ tags: [] })
  })

  it('reads everything at once, writes versions before the pointer, reads the pointer just before writing it and the tags after', async () => {
    await seeded('calls')
    const from = standIn.control.calls.length
    expect((await release('calls', 'v1.1.0')).status).toBe(0)
    const calls = standIn.control.calls
      .slice(from)
      .filter(({ input }: { input: { repositoryName?: string; repositoryNames?: string[] } }) =>
        [input.repositoryName, ...(input.repositoryNames ?? [])].includes('calls')
      )
    const operations = calls.map((call: { operation: string }) => call.operation)
    expect(operations.slice(0, 4).sort()).toEqual([
      'BatchGetImage',
      'DescribeImages',
      'DescribeRepositories',
      'ListImages'
    ])
    expect(operations.slice(4)).toEqual([
      'PutImage',
      'BatchGetImage',
      'PutImage',
      'ListImages',
      'BatchGetImage'
    ])
    const firstRead = calls.find(
      ({ operation }: { operation: string }) => operation === 'BatchGetImage'
    )
    expect(firstRead?.input).toMatchObject({
      imageIds: [{ imageTag: 'sha-bbbbbbb' }, { imageTag: 'v1.1.0' }, { imageTag: 'production' }],
      acceptedMediaTypes: expect.arrayContaining(ALL_MEDIA_TYPES)
    })
    expect(calls[5]?.input).toMatchObject({ imageIds: [{ imageTag: 'production' }] })
    expect(calls[6]?.input).toMatchObject({ imageTag: 'production' })
    expect(calls[4]?.input).toMatchObject({
      imageTag: 'v1.1.0',
      imageDigest: expect.stringMatching(/^sha256:/),
      imageManifestMediaType: 'application/vnd.oci.image.index.v1+json'
    })
  })
})
