/**
 * End to end, answers that are legal in form but not all of it, and waits that must end: the bundle,
 * run as a runner runs it, against the stand-in, whose control.rewrite changes answers on their way
 * as a proxy would. A partial answer refuses the run before any write, naming the call; a signal in
 * any phase before the writes ends the run at once, with nothing written.
 */
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr'
import { startStandIn } from './support/ecr-standin.mjs'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { multiArchImage, seedImage } from './support/images.mjs'
import { runAction, startAction } from './support/run-action.mjs'
import { clientFor } from './support/harness.js'

type StandIn = Awaited<ReturnType<typeof startStandIn>>

const SHA_B = 'bbbbbbb'.padEnd(40, '2')

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

/** environments: production on `version`, and the build of v1.2.5 pushed as sha-bbbbbbb. */
async function seedEnvironments(name: string, version = 'v1.3.0') {
  await client.send(new CreateRepositoryCommand({ repositoryName: name }))
  await seedImage(client, name, multiArchImage(`${name}-old`), [version, 'production'])
  await seedImage(client, name, multiArchImage(`${name}-build`), ['sha-bbbbbbb'])
}

/** channels: stable and latest on 1.3.0, and the build of a hotfix 1.2.5. */
async function seedChannels(name: string) {
  await client.send(new CreateRepositoryCommand({ repositoryName: name }))
  await seedImage(client, name, multiArchImage(`${name}-130`), ['1.3.0', 'stable', 'latest'])
  await seedImage(client, name, multiArchImage(`${name}-build`), ['app-main-bbbbbbb'])
}

const release = (
  name: string,
  convention = 'environments',
  inputs: Record<string, string> = {}
) => ({
  endpoint: standIn.url,
  eventName: 'release',
  payload: {
    action: 'published',
    release: { tag_name: 'v1.2.5', prerelease: false },
    repository: { default_branch: 'main' }
  },
  inputs: { repository: name, convention, service: 'app', ...inputs },
  env: { GITHUB_REF: 'refs/tags/v1.2.5', GITHUB_SHA: SHA_B }
})

const snapshot = (name: string) => standIn.control.snapshot(name)

type Body = {
  imageIds?: unknown[]
  images?: { imageId: { imageTag?: string } }[]
  nextToken?: string
}

describe('a partial answer is never an absence', () => {
  const empty = (body: Body) => ({ ...body, imageIds: [] })
  /** A listing of more than one page that then gives its first nextToken again, for ever. */
  function repeating(name: string) {
    const old = snapshot(name).images.find(({ tags }) => tags.includes('production'))
    const extra = Array.from({ length: 1_001 }, (_, index) => `extra-${index}`)
    standIn.control.seedTags(name, old?.digest as string, extra)
    let first: string | undefined
    return (body: Body) => ({ ...body, nextToken: (first ??= body.nextToken) })
  }

  it.each<[string, string, string, (name: string) => (body: Body) => unknown, RegExp]>([
    [
      'ListImages answering 200 with no entries',
      'environments',
      'ListImages',
      () => empty,
      /^ECR's ListImages answer for partial\/\d+ contradicts the tags read by name \(.*production: listed nowhere, read by name on sha256:/
    ],
    [
      'BatchGetImage leaving production out (neither an image nor a failure)',
      'environments',
      'BatchGetImage',
      () => (body) => ({
        ...body,
        images: body.images?.filter(({ imageId }) => imageId.imageTag !== 'production')
      }),
      /^ECR answered BatchGetImage on partial\/\d+ in part \(production: asked for, returned neither as an image nor as a failure\)/
    ],
    [
      'channels: ListImages answering 200 with no entries',
      'channels',
      'ListImages',
      () => empty,
      /^ECR's ListImages answer for partial\/\d+ contradicts the tags read by name \(.*stable: listed nowhere, .*latest: listed nowhere/
    ],
    [
      'ListImages without imageIds at all',
      'channels',
      'ListImages',
      () => () => ({}),
      /^ECR answered ListImages on partial\/\d+ in part \(a page without imageIds\)/
    ],
    [
      'ListImages giving its first nextToken again and again',
      'environments',
      'ListImages',
      repeating,
      /^ECR answered ListImages on partial\/\d+ in part \(a nextToken it had given before\)/
    ]
  ])(
    '%s: a release of a lower version refuses before any write, naming the call',
    async (_name, convention, operation, change, error) => {
      const name = `partial/${standIn.control.calls.length}`
      await (convention === 'channels' ? seedChannels(name) : seedEnvironments(name))
      standIn.control.rewrite(operation, change(name))
      const before = snapshot(name)
      const from = standIn.control.calls.length
      const run = await runAction(release(name, convention))
      expect(run.status).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toMatch(error)
      expect(snapshot(name)).toEqual(before)
      const calls = standIn.control.calls.slice(from).map(({ operation: called }) => called)
      expect(calls).not.toContain('PutImage')
      // A repeated token ends the listing at once, not after thousands of pages.
      expect(calls.filter((called) => called === 'ListImages').length).toBeLessThanOrEqual(4)
    }
  )
})

describe('a signal in any phase before the writes ends the run at once, writing nothing', () => {
  /** Resolves once the run's log shows `marker`: the run is in that phase. */
  const reached = (child: ChildProcessWithoutNullStreams, marker: string) =>
    new Promise<void>((resolve, reject) => {
      let log = ''
      child.stdout.on('data', (chunk: Buffer) => {
        log += chunk.toString()
        if (log.includes(marker)) resolve()
      })
      child.on('close', () => reject(new Error(`the run ended without "${marker}": ${log}`)))
    })

  it.each<[string, (name: string) => void, Record<string, string>, string]>([
    [
      'reading the registry (ListImages never answered)',
      () => standIn.control.hang('ListImages', { count: 5 }),
      {},
      '::group::Read the registry'
    ],
    [
      'waiting for a source that is not pushed yet (wait-for-source)',
      () => undefined,
      { 'wait-for-source': '10m', sha: 'ccccccc'.padEnd(40, '3') },
      'waiting for'
    ],
    [
      'waiting for a signature ECR managed signing is still making',
      (name) => {
        const build = snapshot(name).images.find(({ tags }) => tags.includes('sha-bbbbbbb'))
        standIn.control.setSigning(name, build?.digest as string, [
          {
            signingProfileArn: 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/ci',
            status: 'IN_PROGRESS'
          }
        ])
      },
      { 'require-signature': 'managed' },
      'ECR managed signing is IN_PROGRESS'
    ],
    [
      'waiting for an archived image to be restored',
      (name) => {
        const build = snapshot(name).images.find(({ tags }) => tags.includes('sha-bbbbbbb'))
        standIn.control.archive(name, build?.digest as string, { restoreMs: 60_000 })
      },
      {},
      'is archived: restoring it'
    ]
  ])('while %s', async (phase, arrange, inputs, marker) => {
    const name = `signal/${phase.split(' ')[0]}-${Object.keys(inputs).length}`
    // production on v1.0.0: the release moves it, so its gates run too.
    await seedEnvironments(name, 'v1.0.0')
    arrange(name)
    const before = snapshot(name)
    const { child, result } = startAction(release(name, 'environments', inputs))
    await reached(child, marker)
    const signalled = Date.now()
    child.kill('SIGINT')
    const run = await result
    const seconds = (Date.now() - signalled) / 1000
    expect(seconds).toBeLessThan(2)
    expect(run.status).toBe(1)
    expect(run.errors).toEqual(['the job was cancelled (SIGINT): no tag was written'])
    expect(snapshot(name).images.map(({ tags }) => tags)).toEqual(
      before.images.map(({ tags }) => tags)
    )
    expect(run.summary).toContain('Nothing was written.')
    console.log(`SIGINT while ${phase}: ended in ${seconds.toFixed(2)} s, nothing written`)
  })
})
