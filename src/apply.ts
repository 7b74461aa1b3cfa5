import type { Registry } from './ecr.js'
import { shortDigest, type RepositoryPlan, type Step } from './plan.js'
import { problemsError } from './problems.js'

export type Action = 'created' | 'moved' | 'unchanged' | 'planned' | 'undone'

/** One row of the `changes` output: `to` is where this run points (or would point) the tag. */
export interface Change {
  readonly repository: string
  readonly tag: string
  readonly from: string | null
  readonly to: string | null
  readonly action: Action
  /** Why a tag stayed, for the log and summary; not part of the `changes` output. */
  readonly note?: string
}

export interface Outcome {
  readonly changes: Change[]
  readonly failure?: Error
}

type Writer = Pick<Registry, 'putTag' | 'removeTag'>

export function preview(plans: readonly RepositoryPlan[]): Change[] {
  return changes(plans, (step) => (step.write ? 'planned' : 'unchanged'))
}

/**
 * Writes every plan, repositories concurrently and each repository's tags in order. If any write fails,
 * every tag this run already wrote is put back where it was, so the registry is left as it was found.
 */
export async function applyPlans(
  plans: readonly RepositoryPlan[],
  registry: Writer
): Promise<Outcome> {
  const actions = new Map<Step, Action>()
  const written: { repository: string; step: Step }[] = []
  const results = await Promise.allSettled(
    plans.map(async ({ repository, steps }) => {
      for (const step of steps) {
        if (!step.write) continue
        if (await registry.putTag(repository, step.tag, step.to)) {
          written.push({ repository, step })
          actions.set(step, step.from ? 'moved' : 'created')
        }
      }
    })
  )
  const failures = results.flatMap((result) =>
    result.status === 'rejected' ? [asError(result.reason)] : []
  )
  if (failures.length === 0)
    return { changes: changes(plans, (step) => actions.get(step) ?? 'unchanged') }

  const undoFailures: string[] = []
  for (const { repository, step } of written.reverse()) {
    try {
      if (step.from) await registry.putTag(repository, step.tag, step.from)
      else await registry.removeTag(repository, step.tag)
      actions.set(step, 'undone')
    } catch (error) {
      const restore = step.from ? `point it back at ${step.from.digest}` : 'remove it'
      undoFailures.push(
        `could not undo ${repository}:${step.tag}; ${restore} by hand (${asError(error).message})`
      )
    }
  }
  const outcome = undoFailures.length
    ? undoFailures
    : [
        written.length
          ? 'every tag this run had written was put back: the registry is as it was before the run'
          : 'no tag was written: the registry is as it was before the run'
      ]
  return {
    changes: changes(plans, (step) => actions.get(step) ?? 'unchanged'),
    failure: problemsError([...failures, ...outcome])
  }
}

function changes(plans: readonly RepositoryPlan[], actionOf: (step: Step) => Action): Change[] {
  return plans.flatMap(({ repository, steps }) =>
    steps.map((step) => ({
      repository,
      tag: step.tag,
      from: step.from?.digest ?? null,
      to: step.to?.digest ?? null,
      action: actionOf(step),
      ...(step.note && { note: step.note })
    }))
  )
}

/** Where the tag points once the run is over (or would, for a planned change); null when it does not exist. */
export const digestAfter = ({ action, from, to }: Change): string | null =>
  action === 'created' || action === 'moved' || action === 'planned' ? to : from

export const describeChange = (change: Change): string => {
  const after = digestAfter(change)
  const note = change.note ? ` (${change.note})` : ''
  return `${change.repository}:${change.tag} ${change.from ? shortDigest(change.from) : '(none)'} -> ${after ? shortDigest(after) : '(none)'} ${change.action}${note}`
}

const asError = (value: unknown): Error =>
  value instanceof Error ? value : new Error(String(value))
