import type { Registry } from './ecr.js'
import { asError, messageOf, shortDigest, type Manifest } from './model.js'
import { isPointer, type RepositoryPlan, type Step } from './plan.js'
import { problemsError } from './problems.js'

export type Action = 'created' | 'moved' | 'unchanged' | 'planned' | 'undone' | 'failed'

/** One row of the `changes` output: `to` is where this run points (or would point) the tag. */
export interface Change {
  readonly repository: string
  readonly tag: string
  readonly from: string | null
  readonly to: string | null
  readonly action: Action
  /** Where the tag points when the run ends, as the registry last showed it; null when it does not exist. */
  readonly now: string | null
  /** Why a tag stayed or what became of it, for the log and summary; not part of the `changes` output. */
  readonly note?: string
}

export interface Outcome {
  readonly changes: Change[]
  readonly failure?: Error
}

export type Writer = Pick<Registry, 'putTag' | 'removeTag' | 'getManifests'>

/** One repository's plan, and how to plan its pointers again against the registry as it is now. */
export interface RepositoryWork {
  readonly plan: RepositoryPlan
  /** `written`: the run has written its pointers, and checks that they stayed. */
  readonly replanPointers: (written: boolean) => Promise<RepositoryPlan>
}

export interface ApplyOptions {
  /** Aborted on SIGINT or SIGTERM: no write starts after it, and what was written is undone. */
  readonly signal: AbortSignal
  readonly log: (message: string) => void
  readonly sleep: (ms: number) => Promise<void>
  readonly clock: () => number
}

/** How long a pointer must stay put before the run trusts it: long enough for a concurrent write read before ours to land. */
const SETTLE_MIN_MS = 100
const SETTLE_MAX_MS = 5_000
const SETTLE_PER_SLOWEST_WRITE = 3
/** A pointer that a concurrent lower release keeps taking is put back at most this often. */
const REPAIR_ROUNDS = 2

export function preview(plans: readonly RepositoryPlan[]): Change[] {
  return plans.flatMap(({ repository, steps }) =>
    steps.map((step) => row(repository, step, step.write ? 'planned' : 'unchanged'))
  )
}

/**
 * Writes every plan: repositories concurrently; in each, version and plain tags first, then the
 * pointers, each read again just before it is written and checked once more after. If any write fails
 * or the job is cancelled, every tag this run wrote and that still points where the run put it is put back.
 */
export async function applyPlans(
  work: readonly RepositoryWork[],
  registry: Writer,
  options: ApplyOptions
): Promise<Outcome> {
  const run = new WriteRun(registry, options)
  const results = await Promise.allSettled(
    work.map((repository) => run.writeRepository(repository))
  )
  const failures = results.flatMap((result) =>
    result.status === 'rejected' ? [asError(result.reason)] : []
  )
  if (failures.length === 0) return { changes: await run.changes() }
  const outcome = await run.undo()
  return { changes: await run.changes(), failure: problemsError([...failures, ...outcome]) }
}

interface Entry {
  readonly repository: string
  /** The step as last planned: for a pointer, `from` is what the registry held just before the write. */
  step: Step
  action: Action
  now: string | null
  note?: string
}

class WriteRun {
  /** Every planned tag, in plan order, per repository. */
  private readonly entries = new Map<string, Entry[]>()
  /** The entries this run wrote (or may have written), in the order it wrote them. */
  private readonly written: Entry[] = []
  private slowestWrite = 0
  /** Set when an answer was lost or a write failed: the registry is read once more before reporting. */
  private inDoubt = false

  constructor(
    private readonly registry: Writer,
    private readonly options: ApplyOptions
  ) {}

  async writeRepository({ plan, replanPointers }: RepositoryWork): Promise<void> {
    const { repository } = plan
    const entries = plan.steps.map((step): Entry => ({
      repository,
      step,
      action: 'unchanged',
      now: digestOf(step, 'unchanged')
    }))
    this.entries.set(repository, entries)
    const fixed = entries.filter(({ step }) => !isPointer(step.kind))
    let pointers = entries.filter(({ step }) => isPointer(step.kind))
    for (const entry of fixed) await this.write(entry)
    if (!pointers.some(({ step }) => step.write)) return

    if (fixed.some(({ step }) => step.write)) {
      // Time has passed since the first read: another run may have moved a pointer meanwhile.
      pointers = this.adopt(pointers, await replanPointers(false))
    }
    for (const entry of pointers) await this.write(entry)
    await this.verify(
      pointers.filter(({ step, action }) => step.kind !== 'rollback' && isWrite(action)),
      replanPointers
    )
  }

  /** Takes the fresh plan's decision for each pointer, keeping the entries (and their places in the report). */
  private adopt(pointers: Entry[], fresh: RepositoryPlan): Entry[] {
    for (const entry of pointers) {
      const step = fresh.steps.find(({ tag }) => tag === entry.step.tag) as Step
      entry.step = step
      entry.now = digestOf(step, 'unchanged')
    }
    return pointers
  }

  /**
   * After a settle time, reads the pointers once more. A concurrent run that read a pointer before this
   * run wrote it may write it after: a lower version that took the pointer is put back to this run's image.
   */
  private async verify(pointers: Entry[], replanPointers: RepositoryWork['replanPointers']) {
    for (let round = 0; round < REPAIR_ROUNDS && pointers.length > 0; round++) {
      await this.options.sleep(
        Math.min(
          SETTLE_MAX_MS,
          Math.max(SETTLE_MIN_MS, SETTLE_PER_SLOWEST_WRITE * this.slowestWrite)
        )
      )
      const fresh = await replanPointers(true)
      const repairs: Entry[] = []
      for (const entry of pointers) {
        const step = fresh.steps.find(({ tag }) => tag === entry.step.tag) as Step
        if (step.write) {
          this.options.log(
            `${entry.repository}:${step.tag} was moved to ${describeDigest(step.from)} by another writer after this run wrote it; ${step.to.digest} ranks higher, so it is written again`
          )
          repairs.push(entry)
          await this.put(entry, step.to)
          entry.now = step.to.digest
        } else if (step.from?.digest !== entry.step.to?.digest) {
          entry.now = step.from?.digest ?? null
          entry.note = `another run has since moved it to ${describeDigest(step.from)}${step.note ? ` (${step.note})` : ''}`
        }
      }
      pointers = repairs
    }
  }

  private async write(entry: Entry): Promise<void> {
    const { step } = entry
    if (!step.write) return
    if (this.options.signal.aborted) throw cancellation(this.options.signal)
    this.written.push(entry)
    entry.action = 'failed'
    await this.put(entry, step.to)
    entry.action = step.from ? 'moved' : 'created'
    entry.now = step.to.digest
  }

  /**
   * Points the entry's tag at `to`. Whatever answer arrives, the write counts as done when the tag
   * points at `to` afterwards: ECR may apply a write and lose its answer, and the retry then finds it done.
   */
  private async put(entry: Entry, to: Manifest): Promise<void> {
    const { repository, step } = entry
    const started = this.options.clock()
    try {
      await this.registry.putTag(repository, step.tag, to)
    } catch (error) {
      this.inDoubt = true
      if ((await this.pointsAt(repository, step.tag)) !== to.digest) throw error
      this.options.log(
        `${repository}:${step.tag}: the answer to PutImage was lost (${messageOf(error)}), but the registry shows the tag written`
      )
    } finally {
      this.slowestWrite = Math.max(this.slowestWrite, this.options.clock() - started)
    }
  }

  /** Where a tag points now; undefined when the registry could not be asked. */
  private async pointsAt(repository: string, tag: string): Promise<string | null | undefined> {
    try {
      return (await this.registry.getManifests(repository, [{ tag }])).get(tag)?.digest ?? null
    } catch {
      return undefined
    }
  }

  /**
   * Puts back every tag this run wrote, newest first, but only where it still points where this run
   * put it: a tag another writer has moved since is theirs now. Returns what the registry looks like.
   */
  async undo(): Promise<string[]> {
    const problems: string[] = []
    const byRepository = new Map<string, Entry[]>()
    for (const entry of [...this.written].reverse()) {
      byRepository.set(entry.repository, [...(byRepository.get(entry.repository) ?? []), entry])
    }
    await Promise.all(
      [...byRepository].map(async ([repository, entries]) => {
        let current: Map<string, Manifest>
        try {
          current = await this.registry.getManifests(
            repository,
            entries.map(({ step }) => ({ tag: step.tag }))
          )
        } catch (error) {
          this.inDoubt = true
          problems.push(
            `could not read ${repository} to undo this run's writes (${messageOf(error)}); ${entries.map(restoreByHand).join('; ')}`
          )
          return
        }
        for (const entry of entries) await this.undoEntry(entry, current.get(entry.step.tag))
      })
    )
    if (this.inDoubt) await this.readFinalState()
    for (const entry of this.written) {
      const { step, now } = entry
      if (now === (step.from?.digest ?? null)) continue
      problems.push(
        now === step.to?.digest
          ? restoreByHand(entry)
          : `${entry.repository}:${step.tag} now points at ${describeDigest(now)}, written by another writer after this run; left alone`
      )
    }
    if (problems.length === 0) {
      problems.push(
        this.written.some(({ action }) => action === 'undone')
          ? 'every tag this run had written was put back: the registry is as it was before the run'
          : 'no tag was written: the registry is as it was before the run'
      )
    }
    return problems
  }

  private async undoEntry(entry: Entry, current: Manifest | undefined): Promise<void> {
    const { repository, step } = entry
    const ours = step.to?.digest
    if (current?.digest !== ours) {
      // A write that failed and did not land leaves nothing to undo; one another writer moved is theirs.
      entry.now = current?.digest ?? null
      if (entry.action !== 'failed')
        entry.note = `moved since by another writer to ${describeDigest(entry.now)}; left alone`
      return
    }
    const before = step.from
    try {
      if (before) await this.registry.putTag(repository, step.tag, before)
      else await this.registry.removeTag(repository, step.tag)
      entry.action = 'undone'
      entry.now = before?.digest ?? null
    } catch (error) {
      this.inDoubt = true
      const now = await this.pointsAt(repository, step.tag)
      if (now !== undefined) entry.now = now
      if (now === (before?.digest ?? null)) entry.action = 'undone'
      else entry.note = `could not undo: ${messageOf(error)}`
    }
  }

  /** Reads every planned tag once more, so the report says what the registry holds, not what the run expects. */
  private async readFinalState(): Promise<void> {
    await Promise.all(
      [...this.entries].map(async ([repository, entries]) => {
        try {
          const current = await this.registry.getManifests(
            repository,
            entries.map(({ step }) => ({ tag: step.tag }))
          )
          for (const entry of entries) entry.now = current.get(entry.step.tag)?.digest ?? null
        } catch (error) {
          this.options.log(`could not read ${repository} once more to report: ${messageOf(error)}`)
        }
      })
    )
  }

  async changes(): Promise<Change[]> {
    if (this.inDoubt) await this.readFinalState()
    this.inDoubt = false
    return [...this.entries.values()].flat().map(({ repository, step, action, now, note }) => ({
      ...row(repository, step, action),
      now,
      ...(note && { note })
    }))
  }
}

const isWrite = (action: Action): boolean => action === 'created' || action === 'moved'

function row(repository: string, step: Step, action: Action): Change {
  return {
    repository,
    tag: step.tag,
    from: step.from?.digest ?? null,
    to: step.to?.digest ?? null,
    action,
    now: digestOf(step, action),
    ...(step.note && { note: step.note })
  }
}

/** Where a step leaves its tag after an action. */
const digestOf = (step: Step, action: Action): string | null =>
  (action === 'created' || action === 'moved' || action === 'planned' ? step.to : step.from)
    ?.digest ?? null

const describeDigest = (target: Manifest | string | null | undefined): string => {
  const digest = typeof target === 'string' ? target : target?.digest
  return digest ? shortDigest(digest) : '(no image: the tag is gone)'
}

function restoreByHand({ repository, step, now }: Entry): string {
  const where = `${repository}:${step.tag} points at ${describeDigest(now)}`
  return step.from
    ? `${where}; point it back at ${step.from.digest} by hand`
    : `${where}; it did not exist before this run: remove it by hand`
}

function cancellation(signal: AbortSignal): Error {
  return new Error(`the job was cancelled (${String(signal.reason)}): no further tag is written`)
}

export const describeChange = (change: Change): string => {
  const note = change.note ? ` (${change.note})` : ''
  return `${change.repository}:${change.tag} ${change.from ? shortDigest(change.from) : '(none)'} -> ${change.now ? shortDigest(change.now) : '(none)'} ${change.action}${note}`
}
