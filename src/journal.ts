import type { Registry } from './ecr.js'
import { messageOf, shortDigest, type Manifest } from './model.js'

/**
 * The journal of a run's writes, kept outside the process before each write is sent (an aborted
 * PutImage may still land): GitHub kills a cancelled job 10 s after its first signal, so whatever
 * the run could not put back by then is finished from the journal by another process (the action's
 * post step, the command line's `undo`), with the same never-clobber rule.
 */
export type JournalEntry =
  /** Where the run writes: the account and region of its registry. */
  | { readonly note: 'registry'; readonly registryId: string; readonly region: string }
  /** About to be sent: `tag` moves from `before` (null: absent) to `placed`. */
  | {
      readonly note: 'write'
      readonly repository: string
      readonly tag: string
      /** Pointers are put back first: none is left on an image whose version tag is gone. */
      readonly pointer: boolean
      readonly before: string | null
      readonly placed: string
    }
  /**
   * The undo decided where the tag goes back to (a release made meanwhile may rank above `before`);
   * it may be a pointer another run moved onto this run's image, which goes back with it.
   */
  | ({ readonly note: 'target' } & Undo)
  /** The tag is back where the undo wanted it, or another writer's now: nothing is left to do. */
  | { readonly note: 'settled'; readonly repository: string; readonly tag: string }
  /** The run ended with nothing left to put back. */
  | { readonly note: 'finished' }

export interface Journal {
  note(entry: JournalEntry): void
  /** How whatever is left gets put back, in the host's words: the post step, or a command. */
  readonly resume: string
}

/** One tag left to put back: it goes from `placed` to `target` (null: removed), if it is still on `placed`. */
export interface Undo {
  readonly repository: string
  readonly tag: string
  readonly pointer: boolean
  readonly placed: string
  readonly target: string | null
}

/** What a journal leaves to put back (pure), pointers first; nothing once the run finished. */
export function leftToUndo(entries: readonly JournalEntry[]): {
  registry?: { readonly registryId: string; readonly region: string }
  undos: Undo[]
} {
  const registry = entries.find((entry) => entry.note === 'registry')
  const base = registry
    ? { registry: { registryId: registry.registryId, region: registry.region } }
    : {}
  if (entries.some(({ note }) => note === 'finished')) return { ...base, undos: [] }
  const undos = new Map<string, Undo>()
  const key = ({ repository, tag }: { repository: string; tag: string }) => `${repository}:${tag}`
  for (const entry of entries) {
    if (entry.note === 'write' && !undos.has(key(entry))) {
      const { repository, tag, pointer, placed, before } = entry
      undos.set(key(entry), { repository, tag, pointer, placed, target: before })
    }
    if (entry.note === 'target') {
      const { repository, tag, pointer, placed, target } = entry
      undos.set(key(entry), { repository, tag, pointer, placed, target })
    }
    if (entry.note === 'settled') undos.delete(key(entry))
  }
  const all = [...undos.values()]
  return {
    ...base,
    undos: [...all.filter((undo) => undo.pointer), ...all.filter((undo) => !undo.pointer)]
  }
}

export type Undoer = Pick<Registry, 'putTag' | 'removeTag' | 'getManifests'>

/** What became of one tag to put back: `now` is where the registry shows it afterwards. */
export interface UndoOutcome {
  readonly undo: Undo
  readonly result: 'put back' | 'moved by another writer' | 'failed'
  readonly now: string | null
  readonly error?: string
}

/**
 * Puts each tag back where its undo says, pointers first, each write paced, but only a tag that still
 * points where the run put it: one another writer has moved since is theirs. `current` is where each
 * tag points now, by repository, when the caller has just read it; otherwise it is read here.
 */
export async function putBack(
  registry: Undoer,
  undos: readonly Undo[],
  pace: () => Promise<void>,
  journal: Journal,
  known: {
    /** Where each tag points, by repository, where the caller has just read it. */
    readonly current?: ReadonlyMap<string, ReadonlyMap<string, Manifest>>
    /** The manifests of the targets, by digest, where the caller has them. */
    readonly manifests?: ReadonlyMap<string, Manifest>
  } = {}
): Promise<UndoOutcome[]> {
  const now = new Map(known.current)
  const unread = [...new Set(undos.map(({ repository }) => repository))].filter(
    (repository) => !now.has(repository)
  )
  const failedReads = new Map<string, string>()
  await Promise.all(
    unread.map(async (repository) => {
      const tags = undos
        .filter((undo) => undo.repository === repository)
        .map(({ tag }) => ({ tag }))
      try {
        now.set(repository, await registry.getManifests(repository, tags))
      } catch (error) {
        failedReads.set(repository, messageOf(error))
      }
    })
  )
  const one = async (undo: Undo): Promise<UndoOutcome> => {
    const { repository, tag, placed, target } = undo
    const failed = failedReads.get(repository)
    if (failed !== undefined) return { undo, result: 'failed', now: placed, error: failed }
    const there = now.get(repository)?.get(tag)?.digest ?? null
    if (there === target) {
      journal.note({ note: 'settled', repository, tag })
      return { undo, result: 'put back', now: target }
    }
    if (there !== placed) {
      journal.note({ note: 'settled', repository, tag })
      return { undo, result: 'moved by another writer', now: there }
    }
    try {
      await pace()
      if (target === null) await registry.removeTag(repository, tag)
      else
        await registry.putTag(
          repository,
          tag,
          known.manifests?.get(target) ?? (await manifestOf(registry, repository, target))
        )
    } catch (error) {
      // ECR may have applied it and lost the answer: the registry says what happened.
      const after = await pointsAt(registry, repository, tag)
      if (after !== target)
        return { undo, result: 'failed', now: after ?? placed, error: messageOf(error) }
    }
    journal.note({ note: 'settled', repository, tag })
    return { undo, result: 'put back', now: target }
  }
  const pointers = await Promise.all(undos.filter(({ pointer }) => pointer).map(one))
  const others = await Promise.all(undos.filter(({ pointer }) => !pointer).map(one))
  return [...pointers, ...others]
}

/** One line for a person: what became of a tag to put back. */
export const describeUndo = ({ undo, result, now, error }: UndoOutcome): string =>
  `${undo.repository}:${undo.tag} ${result}: ${now ? `on ${shortDigest(now)}` : 'removed'}${error ? ` (${error})` : ''}`

async function manifestOf(registry: Undoer, repository: string, digest: string): Promise<Manifest> {
  const manifest = (await registry.getManifests(repository, [{ digest }])).get(digest)
  if (!manifest) throw new Error(`the image ${shortDigest(digest)} is no longer in ${repository}`)
  return manifest
}

/** Where a tag points now; undefined when the registry could not be asked. */
export async function pointsAt(
  registry: Pick<Registry, 'getManifests'>,
  repository: string,
  tag: string
): Promise<string | null | undefined> {
  try {
    return (await registry.getManifests(repository, [{ tag }])).get(tag)?.digest ?? null
  } catch {
    return undefined
  }
}
