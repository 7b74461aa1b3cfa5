import type { Registry } from '../ecr/registry.js'
import type { Effects, Writes } from './effects.js'
import {
  pointsAt,
  putBack,
  type Journal,
  type Undo,
  type UndoRegistry,
  type UndoOutcome
} from './journal.js'
import { asError, messageOf, shortDigest, type Manifest } from '../core/model.js'
import { isPointer, type PointerCheck, type RepositoryPlan, type Step } from '../core/plan.js'
import { problemsError } from '../core/problems.js'

export type Action =
  | 'created'
  | 'moved'
  | 'unchanged'
  | 'planned'
  | 'undone'
  | 'failed'
  /** A withdrawn mark taken off by restore-version. */
  | 'removed'

/** What became of one planned step: `now` is where the registry shows the tag when the run ends. */
export interface StepOutcome {
  readonly repository: string
  readonly step: Step
  readonly action: Action
  readonly now: string | null
  /** What became of the tag, when it is not what the plan said; the step's own note otherwise. */
  readonly note?: string
}

export interface Outcome {
  readonly steps: StepOutcome[]
  readonly failure?: Error
}

export type ApplyRegistry = Pick<Registry, 'putTag' | 'removeTag' | 'getManifests'>

/** One repository's plan, and the registry as it is at each moment the writer must decide again. */
export interface RepositoryWork {
  readonly plan: RepositoryPlan
  /** After every write is answered: where each of these forward or highest pointers belongs now. */
  checkPointers(
    steps: readonly Step[]
  ): Promise<(Omit<PointerCheck, 'moveTo'> & { moveTo?: Manifest | undefined })[]>
  /** Where an undo puts each tag back: `before`, unless a release made meanwhile ranks above it. */
  undoTargets(
    steps: readonly { step: Step; before: Manifest | undefined }[],
    registry: Pick<UndoRegistry, 'listTags' | 'getManifests'>
  ): Promise<(Manifest | undefined)[]>
}

/**
 * How the writes go: the run's pace and the undo's registry and time (Writes), and the journal
 * every write is noted in before it is sent. The run's signal (Effects) aborts the writes under way.
 */
export interface ApplyWrites extends Writes<UndoRegistry> {
  /** Every write is noted here before it is sent, and every undo decided and done. */
  readonly journal: Journal
  /** Before an undo starts: what the run wrote, so that a run killed while it undoes still leaves a record. */
  readonly beforeUndo: (outcome: Outcome) => Promise<void>
}

/**
 * How long a pointer must stay put before the run checks it: long enough for a concurrent write that
 * read it before ours landed to land too. One decided after ours landed is caught by that run's own
 * check, made once its version tag is answered: it sees this run's version and hands the pointer on.
 */
const SETTLE_MIN_MS = 100
const SETTLE_MAX_MS = 1_000
/** Of the median write: a write slowed by throttle retries says nothing of how fast another run's lands. */
const SETTLE_PER_TYPICAL_WRITE = 3
/** How long after it ended a write whose outcome is unknown may still land, as the undo sees it. */
const ABANDONED_WRITE_MS = 1_000
/** A pointer that concurrent releases keep taking is put right at most this often. */
const CHECK_ROUNDS = 2

/**
 * Writes every plan: repositories concurrently; in each, version tags and pointers in one wave (in
 * that order of turns), then, once every write is answered, the forward and highest pointers are
 * checked against a fresh listing and put right (docs/concurrency.md). If any write fails or the job
 * is cancelled, the other repositories stop writing and every tag this run moved, and that still
 * points where the run put it, is put back.
 */
export async function applyPlans(
  work: readonly RepositoryWork[],
  registry: ApplyRegistry,
  effects: Effects,
  writes: ApplyWrites
): Promise<Outcome> {
  const options = { ...effects, ...writes }
  const run = new WriteRun(registry, options)
  await Promise.allSettled(work.map((repository) => run.writeRepository(repository)))
  const failures = run.failures()
  if (failures.length === 0) {
    options.journal.note({ note: 'finished' })
    const unchecked = run.unchecked
    return {
      steps: await run.outcomes(),
      ...(unchecked.length > 0 && { failure: problemsError(unchecked) })
    }
  }
  await options.beforeUndo({ steps: run.written(), failure: problemsError(failures) })
  const outcome = await run.undo()
  return { steps: await run.outcomes(), failure: problemsError([...failures, ...outcome]) }
}

interface Entry {
  readonly repository: string
  readonly work: RepositoryWork
  /** The step as first planned: `first.from` is where the tag was when the run started. */
  readonly first: Step
  /** The step as last planned: for a pointer, `from` is what the registry held just before the write. */
  step: Step
  action: Action
  now: string | null
  note?: string
  /** Whether this run sent a write for the tag (whose answer may have been lost). */
  wrote: boolean
  /**
   * When a write whose outcome is unknown ended (the cancel abandoned it, or it failed without the
   * registry showing it written): ECR may apply it still, after the undo has looked.
   */
  abandonedAt?: number
  /** Whether the undo put the tag on a release another run made meanwhile, not where it was. */
  redirected?: boolean
}

/** Stops a repository's writes: the job was cancelled, or another repository failed. */
class Stopped extends Error {}

class WriteRun {
  private readonly entries: Entry[] = []
  private readonly errors: Error[] = []
  /**
   * Pointers written but not checked afterwards, the check's read having failed: the run cannot say
   * they stay at its version or above, so it fails, and undoes nothing it knows to be right.
   */
  readonly unchecked: Error[] = []
  /** Aborted when the job is cancelled or any repository fails: no further write starts. */
  private readonly stop = new AbortController()
  /** How long each write took, throttle retries included. */
  private readonly writeTimes: number[] = []
  /** Set when an answer was lost or a write failed: the registry is read once more before reporting. */
  private inDoubt = false
  /** Why the undo could not decide in a repository (its tags could not be read). */
  private readonly undecided = new Map<RepositoryWork, string>()

  constructor(
    private readonly registry: ApplyRegistry,
    private readonly options: Effects & ApplyWrites
  ) {
    const cancel = () => this.stop.abort(`the job was cancelled (${String(options.signal.reason)})`)
    if (options.signal.aborted) cancel()
    else options.signal.addEventListener('abort', cancel, { once: true })
  }

  failures(): Error[] {
    const stopped = this.stop.signal.aborted
      ? [new Error(`${this.stop.signal.reason}: no further tag is written`)]
      : []
    const real = this.errors.filter((error) => !(error instanceof Stopped))
    return this.options.signal.aborted || real.length === 0 ? [...stopped, ...real] : real
  }

  async writeRepository(work: RepositoryWork): Promise<void> {
    const { repository, steps } = work.plan
    const entries = steps.map((step): Entry => ({
      repository,
      work,
      first: step,
      step,
      action: 'unchanged',
      now: step.from?.digest ?? null,
      wrote: false
    }))
    this.entries.push(...entries)
    try {
      const fixed = entries.filter(({ step }) => !isPointer(step.kind))
      const pointers = entries.filter(({ step }) => isPointer(step.kind))
      await everyOne([...fixed, ...pointers].map((entry) => this.write(entry)))
      if (!entries.some(({ wrote }) => wrote)) return
      await this.check(
        work,
        pointers.filter(
          ({ step, wrote }) =>
            (wrote && (step.kind === 'forward' || step.kind === 'highest')) || step.unranked
        )
      )
    } catch (error) {
      this.errors.push(asError(error))
      this.stop.abort('another repository failed')
    }
  }

  /**
   * After a settle time, lists the tags once more: a concurrent run that read a pointer before this
   * run wrote it may have written it since, a release made meanwhile may rank higher, and an image a
   * pointer was held on may show its version now. A pointer put right is checked once more.
   */
  private async check(work: RepositoryWork, pointers: Entry[]): Promise<void> {
    for (let round = 0; round < CHECK_ROUNDS && pointers.length > 0; round++) {
      try {
        await this.options.sleep(this.settleTime(), this.stop.signal)
      } catch {
        throw new Stopped(String(this.stop.signal.reason))
      }
      let checks: Awaited<ReturnType<RepositoryWork['checkPointers']>>
      try {
        checks = await work.checkPointers(pointers.map(({ step }) => step))
      } catch (error) {
        // The writes landed; only the check could not be made, which is no reason to undo them.
        this.inDoubt = true
        this.unchecked.push(
          new Error(
            `${work.plan.repository}: could not read ${pointers.map(({ step }) => step.tag).join(', ')} again after writing, so another run may have moved one below this release unseen; the tags stay written: run again to check and put them right (${messageOf(error)})`,
            { cause: error }
          )
        )
        return
      }
      const moved: Entry[] = []
      for (const [index, check] of checks.entries()) {
        const entry = pointers[index] as Entry
        entry.now = check.now
        if (check.note) entry.note = check.note
        if (!check.moveTo) continue
        this.options.log(`${entry.repository}:${entry.step.tag}: ${check.note}`)
        // Put right as any write (a pointer the plan held too): noted in the journal, and the undo
        // judges it where it now is, on a release that ranks above where the run found it.
        entry.step = { ...entry.step, write: true, to: check.moveTo }
        await this.write(entry)
        moved.push(entry)
      }
      pointers = moved
    }
  }

  private settleTime(): number {
    return Math.min(
      SETTLE_MAX_MS,
      Math.max(SETTLE_MIN_MS, SETTLE_PER_TYPICAL_WRITE * median(this.writeTimes))
    )
  }

  /** Waits for a write's turn; a stopped run takes none. */
  private async turn(): Promise<void> {
    try {
      await this.options.pace(this.stop.signal)
    } catch {
      throw new Stopped(String(this.stop.signal.reason))
    }
    if (this.stop.signal.aborted) throw new Stopped(String(this.stop.signal.reason))
  }

  private async write(entry: Entry): Promise<void> {
    const { step } = entry
    if (!step.write) return
    await this.turn()
    entry.wrote = true
    entry.action = 'failed'
    this.options.journal.note({
      note: 'write',
      repository: entry.repository,
      tag: step.tag,
      pointer: isPointer(step.kind),
      before: before(entry, entry.work.plan.source.digest)?.digest ?? null,
      placed: placed(entry)
    })
    if ((await this.put(entry, step.to)) === 'already there') {
      // ECR had it on the first attempt: another writer put it there after this run read it.
      entry.wrote = false
      entry.action = 'unchanged'
      entry.note = 'another writer had put it there since this run read it'
      this.options.journal.note({ note: 'settled', repository: entry.repository, tag: step.tag })
    } else {
      entry.action = step.from ? 'moved' : 'created'
    }
    entry.now = step.to.digest
  }

  /**
   * Points the entry's tag at `to`. Whatever answer arrives, the write counts as done when the tag
   * points at `to` afterwards: ECR may apply a write and lose its answer, and a retry then finds it
   * done. A write the cancel abandoned may land too: the undo reads where the tag is before it decides.
   */
  private async put(entry: Entry, to: Manifest): Promise<'written' | 'already there'> {
    const { repository, step } = entry
    const started = this.options.clock()
    try {
      return await this.registry.putTag(repository, step.tag, to)
    } catch (error) {
      this.inDoubt = true
      entry.abandonedAt = this.options.clock()
      if (this.options.signal.aborted) throw new Stopped(String(this.stop.signal.reason))
      if ((await pointsAt(this.registry, repository, step.tag)) !== to.digest) throw error
      delete entry.abandonedAt
      this.options.log(
        `${repository}:${step.tag}: the answer to PutImage was lost (${messageOf(error)}), but the registry shows the tag written`
      )
      return 'written'
    } finally {
      this.writeTimes.push(this.options.clock() - started)
    }
  }

  /** Every tag as the run last knew it, without reading the registry: the record kept before an undo. */
  written(): StepOutcome[] {
    return this.entries.map(outcomeOf)
  }

  /**
   * Puts back every tag this run moved, pointers first in every repository, then the others, but
   * only where it still points at this run's image: a tag another writer has moved since is theirs
   * now. A pointer that reached this run's image while it ran, whoever moved it there, goes back too,
   * since the release it names is being undone. Returns what the registry looks like.
   */
  async undo(): Promise<string[]> {
    const byRepository = new Map<RepositoryWork, Entry[]>()
    for (const entry of [...this.entries].reverse()) {
      if (!(entry.wrote || (isPointer(entry.step.kind) && entry.first.write))) continue
      byRepository.set(entry.work, [...(byRepository.get(entry.work) ?? []), entry])
    }
    const undecided = new Set<RepositoryWork>()
    const outcomes = await this.putBackAll(byRepository, undecided, false)
    // A write whose outcome is unknown may land after the undo read its tag: once each has had
    // ABANDONED_WRITE_MS since it ended, those tags are read again, and one that landed goes back too.
    // A repository the first look could not read is looked at again whole.
    const lastLook = new Map(
      [...byRepository].flatMap(([work, entries]) => {
        const late = entries.filter(
          (entry) =>
            entry.action !== 'undone' && (entry.abandonedAt !== undefined || undecided.has(work))
        )
        return late.length > 0 ? [[work, late] as const] : []
      })
    )
    if (lastLook.size > 0) {
      const ended = Math.max(
        ...[...lastLook.values()].flat().map((entry) => entry.abandonedAt ?? 0)
      )
      const wait = Math.max(0, ended + ABANDONED_WRITE_MS - this.options.clock())
      await this.options.sleep(wait, this.options.undo.signal).catch(() => undefined)
      outcomes.push(...(await this.putBackAll(lastLook, undecided, true)))
    }
    await this.readFinalState()
    const problems = [...undecided].map(
      (work) => `could not undo in ${work.plan.repository}: ${this.undecided.get(work)}`
    )
    for (const entries of byRepository.values()) {
      for (const entry of entries) {
        const problem = leftOver(entry)
        if (problem) problems.push(problem)
      }
    }
    // What is not settled in the journal, another process may still put back.
    const unsettled = undecided.size > 0 || outcomes.some(({ result }) => result === 'failed')
    if (!unsettled) this.options.journal.note({ note: 'finished' })
    if (problems.length > 0)
      return unsettled ? [...problems, this.options.journal.resume] : problems
    const undone = this.entries.filter(({ action }) => action === 'undone')
    const redirected = undone.filter((entry) => entry.redirected)
    if (undone.length === 0) return ['no tag was written: the registry is as it was before the run']
    if (redirected.length === 0)
      return [
        'every tag this run had written was put back: the registry is as it was before the run'
      ]
    return [
      'every tag this run had written was put back',
      ...redirected.map(({ repository, step, note }) => `${repository}:${step.tag} was ${note}`)
    ]
  }

  /** Decides in every repository at once, then puts back pointers first, then the other tags. */
  private async putBackAll(
    byRepository: ReadonlyMap<RepositoryWork, Entry[]>,
    undecided: Set<RepositoryWork>,
    last: boolean
  ): Promise<UndoOutcome[]> {
    const decided = await Promise.all(
      [...byRepository].map(async ([work, entries]) => {
        try {
          const undos = await this.decide(work, entries, last)
          undecided.delete(work)
          return undos
        } catch (error) {
          this.inDoubt = true
          undecided.add(work)
          this.undecided.set(work, messageOf(error))
          return []
        }
      })
    )
    const undos = decided.flat()
    const { registry, signal } = this.options.undo
    const outcomes = await putBack(
      registry,
      undos.map(({ undo }) => undo),
      () => this.options.pace(signal),
      this.options.journal,
      new Map(undos.flatMap(({ target }) => (target ? [[target.digest, target]] : [])))
    )
    for (const [index, { result, now, error }] of outcomes.entries()) {
      const { entry, target } = undos[index] as (typeof undos)[number]
      entry.now = now
      if (result === 'put back' || result === 'already back') this.undone(entry, target)
      else {
        this.inDoubt = true
        entry.note =
          result === 'failed'
            ? `could not undo: ${messageOf(error)}`
            : `moved since by another writer to ${describeDigest(now)}; left alone`
      }
    }
    return outcomes
  }

  /**
   * Reads where the repository's tags are and decides, for those still on this run's image, where
   * each goes back to; the others are another writer's now (or never landed), and settled as such
   * in the journal, but for an abandoned write, until the `last` look.
   */
  private async decide(work: RepositoryWork, entries: Entry[], last: boolean) {
    const { repository } = work.plan
    const { registry } = this.options.undo
    const tags = await registry.getManifests(
      repository,
      entries.map(({ step }) => ({ tag: step.tag }))
    )
    const ours = entries.filter((entry) => tags.get(entry.step.tag)?.digest === placed(entry))
    for (const entry of entries) {
      if (ours.includes(entry)) continue
      entry.now = tags.get(entry.step.tag)?.digest ?? null
      if (entry.wrote && entry.action !== 'failed')
        entry.note = `moved since by another writer to ${describeDigest(entry.now)}; left alone`
      if (last || entry.abandonedAt === undefined)
        this.options.journal.note({ note: 'settled', repository, tag: entry.step.tag })
    }
    const source = work.plan.source.digest
    const targets = await work.undoTargets(
      ours.map((entry) => ({ step: entry.step, before: before(entry, source) })),
      registry
    )
    return ours.map((entry, index) => {
      const target = targets[index]
      const undo: Undo = {
        repository,
        tag: entry.step.tag,
        pointer: isPointer(entry.step.kind),
        placed: placed(entry),
        target: target?.digest ?? null
      }
      this.options.journal.note({ note: 'target', ...undo })
      return { entry, undo, target }
    })
  }

  private undone(entry: Entry, target: Manifest | undefined): void {
    const back = before(entry, entry.work.plan.source.digest)
    entry.action = 'undone'
    entry.now = target?.digest ?? null
    if (target?.digest !== back?.digest) {
      entry.redirected = true
      entry.note = `put back on ${describeDigest(target?.digest)}, which another run released meanwhile, rather than on ${describeDigest(back?.digest)}`
    }
  }

  /** Reads every planned tag once more, so the report says what the registry holds, not what the run expects. */
  private async readFinalState(): Promise<void> {
    if (!this.inDoubt) return
    this.inDoubt = false
    const byRepository = new Map<string, Entry[]>()
    for (const entry of this.entries)
      byRepository.set(entry.repository, [...(byRepository.get(entry.repository) ?? []), entry])
    await Promise.all(
      [...byRepository].map(async ([repository, entries]) => {
        try {
          const current = await this.options.undo.registry.getManifests(
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

  async outcomes(): Promise<StepOutcome[]> {
    await this.readFinalState()
    return this.written()
  }
}

const outcomeOf = ({ repository, step, action, now, note }: Entry): StepOutcome => ({
  repository,
  step,
  action,
  now,
  ...(note && { note })
})

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

/**
 * Waits for every write of a wave, so that none is still under way when the run undoes, then fails
 * with the first real failure, if any.
 */
async function everyOne(writes: readonly Promise<void>[]): Promise<void> {
  const failures = (await Promise.allSettled(writes)).flatMap((result) =>
    result.status === 'rejected' ? [result.reason as unknown] : []
  )
  const real = failures.filter((failure) => !(failure instanceof Stopped))
  if (real.length > 1) throw problemsError(real.map(asError))
  if (failures.length > 0) throw real[0] ?? failures[0]
}

/** Where the tag was before this run: just before the run wrote it, or, if it was on the run's image by then, when the run started. */
const before = (entry: Entry, source: string): Manifest | undefined =>
  entry.step.from && entry.step.from.digest !== source ? entry.step.from : entry.first.from

/** Where this run points the tag: the run's image, or, for a withdrawn mark, the image the pointer left. */
const placed = (entry: Entry): string => entry.step.to?.digest ?? entry.work.plan.source.digest

/** What an undo left different from before the run, if anything: the tag, where it points, what to do. */
function leftOver(entry: Entry): string | undefined {
  const { repository, step, now, action } = entry
  const back = before(entry, entry.work.plan.source.digest)
  if (now === (back?.digest ?? null) || action === 'undone') return undefined
  if (now !== placed(entry)) {
    return entry.wrote
      ? `${repository}:${step.tag} now points at ${describeDigest(now)}, written by another writer after this run; left alone`
      : undefined
  }
  const where = `${repository}:${step.tag} points at ${describeDigest(now)}`
  return back
    ? `${where}; point it back at ${back.digest} by hand`
    : `${where}; it did not exist before this run: remove it by hand`
}

const describeDigest = (digest: string | null | undefined): string =>
  digest ? shortDigest(digest) : '(no image: the tag is gone)'
