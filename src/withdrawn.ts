import type { Convention } from './conventions.js'
import type { Registry } from './ecr.js'
import { messageOf } from './model.js'
import { markTag } from './plan.js'
import { problemsError, settleAll } from './problems.js'
import type { Change } from './report.js'
import type { Version } from './version.js'

type MarkRegistry = Pick<Registry, 'getManifests' | 'removeTag' | 'putTag'>

/**
 * `restore-version`: takes the withdrawn mark off the version in every repository that has it, so
 * releases, pointers and `previous` may reach it again. As one: if any removal fails, the marks
 * already taken off are put back, byte for byte, and every row says where the mark is now.
 */
export async function restoreVersion(
  registry: MarkRegistry,
  convention: Convention,
  repositories: readonly string[],
  version: Version,
  dryRun: boolean,
  pace: () => Promise<void>
): Promise<{ changes: Change[]; failure?: Error }> {
  const tag = markTag(convention.withdrawnTag, version)
  const read = () =>
    settleAll(
      repositories.map(async (repository) =>
        (await registry.getManifests(repository, [{ tag }])).get(tag)
      )
    )
  const marks = await read()
  if (marks.every((mark) => mark === undefined))
    throw new Error(
      `${version.text} is not withdrawn in ${repositories.join(', ')}: none has the tag ${tag}; nothing to restore`
    )
  const row = (index: number, action: Change['action'], now: string | null, note?: string) => ({
    repository: repositories[index] as string,
    tag,
    from: marks[index]?.digest ?? null,
    to: null,
    action,
    now,
    ...(note && { note })
  })
  const marked = marks.flatMap((mark, index) => (mark ? [{ mark, index }] : []))
  const unmarked = marks.flatMap((mark, index) =>
    mark ? [] : [row(index, 'unchanged', null, `${version.text} is not withdrawn here`)]
  )
  if (dryRun)
    return { changes: [...marked.map(({ index }) => row(index, 'planned', null)), ...unmarked] }
  const removals = await Promise.allSettled(
    marked.map(async ({ index }) => {
      await pace()
      await registry.removeTag(repositories[index] as string, tag)
    })
  )
  const failed = removals.flatMap((result, at) =>
    result.status === 'rejected'
      ? [
          `could not take ${tag} off ${repositories[marked[at]!.index]}: ${messageOf(result.reason)}`
        ]
      : []
  )
  if (failed.length === 0)
    return { changes: [...marked.map(({ index }) => row(index, 'removed', null)), ...unmarked] }
  const putBack = await Promise.allSettled(
    marked.map(async ({ mark, index }, at) => {
      if (removals[at]?.status !== 'fulfilled') return
      await pace()
      await registry.putTag(repositories[index] as string, tag, mark)
    })
  )
  const notPutBack = putBack.flatMap((result, at) =>
    result.status === 'rejected'
      ? [
          `could not put ${tag} back on ${repositories[marked[at]!.index]}: ${messageOf(result.reason)}`
        ]
      : []
  )
  // What the registry shows now, after removals and put-backs whose answers may have been lost.
  const now = await read()
  const changes = marked.map(({ index }, at) =>
    row(
      index,
      removals[at]?.status === 'rejected'
        ? 'failed'
        : putBack[at]?.status === 'fulfilled'
          ? 'undone'
          : 'removed',
      now[index]?.digest ?? null
    )
  )
  return { changes: [...changes, ...unmarked], failure: problemsError([...failed, ...notPutBack]) }
}
