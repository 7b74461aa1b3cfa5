import type { Registry } from '../ecr/registry.js'
import { messageOf, type Manifest } from '../core/model.js'
import { renderVersion } from '../core/plan.js'
import { problemsError, settleAll } from '../core/problems.js'
import type { Change } from '../report/result.js'
import type { Version } from '../core/version.js'
import { type Convention } from '../core/convention.js'

type WithdrawnRegistry = Pick<Registry, 'getManifests' | 'removeTag' | 'putTag'>

/**
 * `restore-version`: takes the withdrawn mark off the version in every repository that has it, so
 * releases, pointers and `previous` may reach it again. As one: if any removal fails (or the job
 * is cancelled), every mark the registry no longer shows is put back, byte for byte, a removal
 * whose answer was lost included; every row says where the mark is now.
 */
export async function clearWithdrawn(
  registry: WithdrawnRegistry,
  convention: Convention,
  repositories: readonly string[],
  version: Version,
  dryRun: boolean,
  pace: (signal?: AbortSignal) => Promise<void>,
  signal: AbortSignal
): Promise<{ changes: Change[]; failure?: Error }> {
  const tag = renderVersion(convention.withdrawnTag, version)
  const read = () =>
    settleAll(
      repositories.map(async (repository) =>
        (await registry.getManifests(repository, [{ tag }])).get(tag)
      )
    )
  const marks = await read()
  if (marks.every((mark) => mark === undefined))
    throw new Error(
      `${version.text} is not withdrawn in ${repositories.join(', ')}: none has the tag ${tag}; nothing to clear`
    )
  const row = (index: number, action: Change['action'], now: string | null): Change => ({
    repository: repositories[index] as string,
    tag,
    from: marks[index]?.digest ?? null,
    to: null,
    action,
    now,
    ...(!marks[index] && { note: `${version.text} is not withdrawn here` })
  })
  const rows = (
    action: (index: number) => Change['action'],
    now: (index: number) => string | null
  ) =>
    repositories.map((_, index) =>
      row(index, marks[index] ? action(index) : 'unchanged', now(index))
    )
  if (dryRun)
    return {
      changes: rows(
        () => 'planned',
        () => null
      )
    }
  const each = (
    work: (repository: string, mark: Manifest) => Promise<unknown>,
    only: readonly (Manifest | undefined)[],
    turn: () => Promise<void>
  ) =>
    Promise.allSettled(
      repositories.map(async (repository, index) => {
        const mark = only[index]
        if (!mark) return false
        await turn()
        await work(repository, mark)
        return true
      })
    )
  const removals = await each(
    (repository) => registry.removeTag(repository, tag),
    marks,
    () => pace(signal)
  )
  const failed = problemsAt(removals, (repository) => `could not take ${tag} off ${repository}`)
  if (failed.length === 0)
    return {
      changes: rows(
        () => 'removed',
        () => null
      )
    }
  // Put back what is gone, as the registry shows it; a cancelled job's put-backs still take their turn.
  const after = await read()
  const removed = marks.map((mark, index) => (after[index] ? undefined : mark))
  const putBack = await each(
    (repository, mark) => registry.putTag(repository, tag, mark),
    removed,
    () => pace()
  )
  const notPutBack = problemsAt(
    putBack,
    (repository) => `could not put ${tag} back on ${repository}`
  )
  // What the registry shows now, after removals and put-backs whose answers may have been lost.
  const now = await read()
  const changes = rows(
    (index) => {
      const back = putBack[index]
      if (back?.status === 'fulfilled' && back.value) return 'undone'
      return removals[index]?.status === 'rejected' ? 'failed' : 'removed'
    },
    (index) => now[index]?.digest ?? null
  )
  return { changes, failure: problemsError([...failed, ...notPutBack]) }

  function problemsAt(
    results: PromiseSettledResult<unknown>[],
    what: (repository: string) => string
  ) {
    return results.flatMap((result, index) =>
      result.status === 'rejected'
        ? [`${what(repositories[index] as string)}: ${messageOf(result.reason)}`]
        : []
    )
  }
}
