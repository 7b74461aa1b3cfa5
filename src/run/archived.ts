import type { Registry } from '../ecr/registry.js'
import { shortDigest } from '../core/model.js'
import type { RepositoryPlan } from '../core/plan.js'
import { pollUntil, type Effects } from './effects.js'
import { settleAll } from '../core/problems.js'

export type ArchivedRegistry = Pick<Registry, 'restoreImage' | 'storedImage'>

/** An archived image a run points tags at: restored before anything is written, or (dry run) not. */
export interface RestoreOutcome {
  readonly repository: string
  readonly digest: string
  /** ARCHIVED, or ACTIVATING when a restore was already under way. */
  readonly was: string
  readonly action: 'restored' | 'would restore' | 'timed out'
  readonly seconds?: number
}

/**
 * Restores every archived image the plans point tags at (ECR cannot serve an archived image's
 * manifest, nor anyone pull it) and waits, within the timeout, until each is ACTIVE. A dry run only
 * says which would be restored.
 */
export async function restoreArchived(
  registry: ArchivedRegistry,
  plans: readonly RepositoryPlan[],
  dryRun: boolean,
  timeout: { readonly text: string; readonly ms: number },
  effects: Effects
): Promise<RestoreOutcome[]> {
  const archived = plans.flatMap(({ repository, source, archived: was }) =>
    was ? [{ repository, digest: source.digest, was }] : []
  )
  if (dryRun) return archived.map((image) => ({ ...image, action: 'would restore' }))
  const started = effects.clock()
  return settleAll(
    archived.map(async (image): Promise<RestoreOutcome> => {
      const name = `${image.repository}@${shortDigest(image.digest)}`
      const status =
        image.was === 'ARCHIVED'
          ? await registry.restoreImage(image.repository, image.digest)
          : image.was
      effects.progress(`${name} is archived: restoring it to standard storage (${status})`)
      const active = async () => {
        const stored = await registry.storedImage(image.repository, { digest: image.digest })
        if (!stored) throw new Error(`${name} was deleted while it was being restored`)
        return stored.status === 'ACTIVE'
      }
      const restored =
        status === 'ACTIVE' ||
        (await pollUntil(
          active,
          timeout.ms,
          effects,
          (waited) => `${name}: restoring, ${waited} s`
        ))
      const seconds = Math.round((effects.clock() - started) / 1000)
      return { ...image, action: restored ? 'restored' : 'timed out', seconds }
    })
  )
}

/** A restore that did not finish in time fails the run before any write; ECR goes on restoring. */
export const restoreProblems = (outcomes: readonly RestoreOutcome[], timeout: string): string[] =>
  outcomes
    .filter(({ action }) => action === 'timed out')
    .map(
      ({ repository, digest }) =>
        `${repository}@${shortDigest(digest)} is still being restored from archive after restore-timeout (${timeout}): no tag was written; ECR goes on restoring it, so run this step again later (it waits again), or raise restore-timeout`
    )
