/**
 * End to end, the gates and archived images: the bundle as a runner runs it against the stand-in,
 * which serves scan findings, and archive storage with a timed restore (ECR's semantics,
 * ../support/standin/scanning.mjs). A refused run leaves every repository as it was and names no tag
 * in its outputs; an archived rollback target is restored, waited for, and then written, whichever
 * answer BatchGetImage gives for it. Each verdict and its message is pinned in __tests__/unit (gates,
 * gatekeeper, restore).
 */
import { shortDigest } from '../../src/core/model.js'
import { dockerV2Image, multiArchImage, seedImage } from '../support/images.mjs'
import { runAction } from '../support/run-action.mjs'
import {
  callsOf,
  dispatchRun,
  ON_1_0,
  releases,
  releaseRun,
  SHAS,
  withStandIn,
  type Registry
} from '../support/e2e.js'

/**
 * `releases` as after a release of 1.0.0 (`released`), and the platforms of the build of 1.1.0
 * (`built`); with `next`, production has since moved on to v1.2.0.
 */
async function repository(registry: Registry, name: string, { next = false } = {}) {
  const moved = { '1.0.0': ['v1.0.0'], '1.2.0': ['v1.2.0', 'production'] }
  const digests = await releases(registry, name, next ? moved : ON_1_0)
  const platforms = multiArchImage(`${name}-1.1.0`).children.map(({ digest }) => digest)
  const [amd64, arm64] = platforms as [string, string]
  return { released: digests['1.0.0'], built: digests['1.1.0'], amd64, arm64 }
}

const rollback = ({ standIn }: Registry, names: string[], inputs: Record<string, string> = {}) =>
  runAction(dispatchRun(standIn.url, names, { event: 'rollback', version: '1.0.0', ...inputs }))

describe('gates and archived images', () => {
  it.concurrent(
    'a release refused at the scan gate in one repository writes nothing in any, restores no archived build, and its outputs name no tag',
    () =>
      withStandIn(async (registry) => {
        const { standIn } = registry
        const api = await repository(registry, 'team/api')
        const worker = await repository(registry, 'team/worker')
        const clean = { status: 'COMPLETE', shape: 'basic', findings: [] } as const
        standIn.control.setScan('team/api', api.amd64, clean)
        standIn.control.setScan('team/api', api.arm64, {
          status: 'ACTIVE',
          shape: 'enhanced',
          findings: [
            { id: 'CVE-2024-0001', severity: 'CRITICAL', package: 'openssl', fixAvailable: 'YES' },
            { id: 'CVE-2024-0002', severity: 'MEDIUM', package: 'zlib', fixAvailable: 'NO' }
          ]
        })
        // The gates go first: worker's archived build, judged once restored, is not restored.
        standIn.control.archive('team/worker', worker.built, { restoreMs: 0 })
        const before = ['team/api', 'team/worker'].map((name) => standIn.control.snapshot(name))
        const run = await runAction(
          releaseRun(standIn.url, ['team/api', 'team/worker'], 'v1.1.0', SHAS['1.1.0'], {
            'fail-on-severity': 'HIGH'
          })
        )
        expect(run.status).toBe(1)
        expect(run.errors).toEqual([
          `cannot move team/api:production to ${shortDigest(api.built)}: 1 finding at or above HIGH (CRITICAL 1, MEDIUM 1): CVE-2024-0001 in openssl (CRITICAL, fix available: YES). Fix and rebuild, or name the accepted ones in ignore-findings`
        ])
        expect(['team/api', 'team/worker'].map((name) => standIn.control.snapshot(name))).toEqual(
          before
        )
        expect(callsOf(standIn, 'UpdateImageStorageClass')).toEqual([])
        expect(run.summary).toContain('<h4>Gates</h4>')
        expect(run.summary).toContain('linux/arm64: ACTIVE')
        expect(run.summary).toContain('Nothing was written.')
        // A refused run names no tag as moved: a later step must not deploy the refused image.
        expect([run.outputs.tags, run.outputs.images, run.outputs.changes]).toEqual(['', '', '[]'])
        expect(JSON.parse(run.outputs.json ?? '[]')[0].gates).toMatchObject({
          tags: ['production'],
          digest: api.built,
          scan: { threshold: 'HIGH', passed: false, counts: { CRITICAL: 1, MEDIUM: 1 } }
        })
      })
  )

  it.concurrent.each(['ImageNotFound', 'ImageInaccessible', 'manifest'] as const)(
    // AWS does not say what BatchGetImage answers for an archived image: every answer is run.
    'a rollback to an archived image, BatchGetImage answering %s for it: restores it, waits until it is ACTIVE, then writes',
    (answer) =>
      withStandIn(async (registry) => {
        const { standIn } = registry
        const api = await repository(registry, 'team/archived', { next: true })
        standIn.control.archive('team/archived', api.released, { restoreMs: 1_500 })
        standIn.control.archivedAnswer(answer)
        const run = await rollback(registry, ['team/archived'])
        expect(run.errors).toEqual([])
        expect(run.status).toBe(0)
        expect(run.stdout).toContain(
          `team/archived@${shortDigest(api.released)} is archived: restoring it`
        )
        const image = standIn.control
          .snapshot('team/archived')
          .images.find(({ digest }) => digest === api.released)
        expect(image).toMatchObject({
          status: 'ACTIVE',
          tags: ['production', 'sha-1000000', 'v1.0.0']
        })
        expect(JSON.parse(run.outputs.json ?? '[]')[0].restore).toMatchObject({
          digest: api.released,
          was: 'ARCHIVED',
          action: 'restored'
        })
        expect(callsOf(standIn, 'UpdateImageStorageClass')).toHaveLength(1)
      })
  )

  it.concurrent('prune deletes an archived release like any other', () =>
    withStandIn(async (registry) => {
      const { standIn, client } = registry
      const api = await repository(registry, 'team/pruned', { next: true })
      standIn.control.archive('team/pruned', api.released, { restoreMs: 0 })
      await seedImage(client, 'team/pruned', dockerV2Image('team/pruned-v2'), ['v2.0.0'])
      const run = await runAction(
        dispatchRun(standIn.url, ['team/pruned'], {
          event: 'prune',
          'keep-minor-versions': '2',
          'dry-run': 'false'
        })
      )
      expect(run.errors).toEqual([])
      const pruned = JSON.parse(run.outputs.json ?? '[]')[0].prune
      expect(pruned.images.map(({ digest }: { digest: string }) => digest)).toEqual([api.released])
      expect(
        standIn.control.snapshot('team/pruned').images.map(({ digest }) => digest)
      ).not.toContain(api.released)
    })
  )
})
