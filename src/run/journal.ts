import { appendFileSync, readFileSync, rmSync } from 'node:fs'
import type { Registry } from '../ecr/registry.js'
import { asError, messageOf, shortDigest, type Manifest } from '../core/model.js'

/**
 * The journal of a run's writes, kept outside the process before each write is sent (an aborted
 * PutImage may still land): GitHub kills a cancelled job 10 s after its first signal, so whatever
 * the run could not put back by then is finished from the journal by another process (the action's
 * post step, the command line's `undo`), with the same never-clobber rule. It is a file, one entry a
 * line, written from the run's first write on and removed once nothing is left to put back.
 */
export type JournalEntry =
  /** Where the run writes: the account and region of its registry, and with a target registry its host and the role assumed there. */
  | ({ readonly note: 'registry' } & WrittenRegistry)
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

/**
 * The journal in the file at `path`, appended to synchronously (the entry is on disk before the write
 * it notes is sent); created at the first write, which `opened` tells the host, so a run that writes
 * nothing leaves no file; removed at `finished`. `existing`: the file is there already (an `undo`).
 */
export function fileJournal(
  path: string,
  resume: string,
  { existing = false, opened }: { existing?: boolean; opened?: (path: string) => void } = {}
): Journal {
  const waiting: JournalEntry[] = []
  let open = existing
  return {
    note(entry) {
      if (!open && entry.note !== 'write') {
        waiting.push(entry)
        return
      }
      if (entry.note === 'finished') return rmSync(path, { force: true })
      if (!open) opened?.(path)
      open = true
      for (const line of [...waiting.splice(0), entry])
        appendFileSync(path, `${JSON.stringify(line)}\n`)
    },
    resume
  }
}

/** The entries of the journal at `path`; none when there is no such file (nothing was left). */
export function readJournal(path: string): JournalEntry[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  // A line cut short by a kill is the entry of a write that was never sent.
  return text.split('\n').flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as JournalEntry] : []
    } catch {
      return []
    }
  })
}

/** The registry a run writes its tags in. */
export interface WrittenRegistry {
  readonly registryId: string
  readonly region: string
  /** A target registry's host, as target-registry named it. */
  readonly host?: string
  /** The role the run assumed for the target registry: an undo assumes it too. */
  readonly roleArn?: string
  /** The run's own region, where STS was asked for that role (the target's may not be enabled for the run's account). */
  readonly roleRegion?: string
}

/** What a journal leaves to put back (pure), pointers first; nothing once the run finished. */
export function leftToUndo(entries: readonly JournalEntry[]): {
  registry?: WrittenRegistry
  undos: Undo[]
} {
  const registry = entries.find((entry) => entry.note === 'registry')
  const base = registry
    ? {
        registry: {
          registryId: registry.registryId,
          region: registry.region,
          ...(registry.host && { host: registry.host }),
          ...(registry.roleArn && { roleArn: registry.roleArn }),
          ...(registry.roleRegion && { roleRegion: registry.roleRegion })
        }
      }
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

/** What an undo reads and writes with: the tags it puts back, and the listing its targets need. */
export type UndoRegistry = Pick<Registry, 'putTag' | 'removeTag' | 'getManifests' | 'listTags'>

/** What became of one tag to put back: `now` is where the registry shows it afterwards. */
export interface UndoOutcome {
  readonly undo: Undo
  /** `already back`: it was where the undo wanted it, with nothing to write. */
  readonly result: 'put back' | 'already back' | 'moved by another writer' | 'failed'
  readonly now: string | null
  readonly error?: Error
}

/**
 * Puts each tag back where its undo says, each write paced, pointers first in every repository,
 * then the others (none of a repository whose pointer could not be put back: a pointer is never left
 * on an image whose version tag is gone). Each tag is read again just before it is written, after
 * its turn came: only one still where the run put it goes back; one another writer has moved since
 * is theirs.
 */
export async function putBack(
  registry: UndoRegistry,
  undos: readonly Undo[],
  pace: () => Promise<void>,
  journal: Journal,
  /** The manifests of the targets, by digest, where the caller has them. */
  manifests: ReadonlyMap<string, Manifest> = new Map()
): Promise<UndoOutcome[]> {
  const one = async (undo: Undo): Promise<UndoOutcome> => {
    const { repository, tag, placed, target } = undo
    const settled = (outcome: Omit<UndoOutcome, 'undo'>): UndoOutcome => {
      journal.note({ note: 'settled', repository, tag })
      return { undo, ...outcome }
    }
    try {
      await pace()
      const there = (await registry.getManifests(repository, [{ tag }])).get(tag)?.digest ?? null
      if (there === target) return settled({ result: 'already back', now: target })
      if (there !== placed) return settled({ result: 'moved by another writer', now: there })
      if (target === null) await registry.removeTag(repository, tag)
      else
        await registry.putTag(
          repository,
          tag,
          manifests.get(target) ?? (await manifestOf(registry, repository, target))
        )
    } catch (error) {
      // ECR may have applied it and lost the answer: the registry says what happened.
      const after = await pointsAt(registry, repository, tag)
      if (after !== target)
        return { undo, result: 'failed', now: after ?? placed, error: asError(error) }
    }
    return settled({ result: 'put back', now: target })
  }
  const pointers = await Promise.all(undos.filter(({ pointer }) => pointer).map(one))
  const held = new Map(
    pointers.flatMap(({ undo, result }) =>
      result === 'failed' ? [[undo.repository, undo.tag] as const] : []
    )
  )
  const others = await Promise.all(
    undos
      .filter(({ pointer }) => !pointer)
      .map((undo) => {
        const pointer = held.get(undo.repository)
        return pointer === undefined
          ? one(undo)
          : Promise.resolve<UndoOutcome>({
              undo,
              result: 'failed',
              now: undo.placed,
              error: new Error(`left on its image while ${pointer} is not put back`)
            })
      })
  )
  return [...pointers, ...others]
}

/** One line for a person: what became of a tag to put back. */
export const describeUndo = ({ undo, result, now, error }: UndoOutcome): string =>
  `${undo.repository}:${undo.tag} ${result}: ${now ? `on ${shortDigest(now)}` : 'removed'}${error ? ` (${messageOf(error)})` : ''}`

async function manifestOf(
  registry: UndoRegistry,
  repository: string,
  digest: string
): Promise<Manifest> {
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
