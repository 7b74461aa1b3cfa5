import type { Registry } from '../ecr/registry.js'
import type { Messages } from '../core/messages.js'
import { cosignTag } from '../core/tags.js'
import {
  judgeCosignSignature,
  judgeManagedSignature,
  judgeScan,
  scanGateOn,
  scannedImages,
  signingPending,
  type GateSettings,
  type GatedMove,
  type ScanVerdict,
  type SignatureVerdict,
  type SigningState
} from '../core/gates.js'
import type { RepositoryPlan } from '../core/plan.js'
import { pollUntil, type Effects } from './effects.js'
import { settleAll } from '../core/problems.js'
import { type Convention } from '../core/convention.js'

export type GateRegistry = Pick<Registry, 'scanFindings' | 'signingStatuses' | 'getManifests'>

/** What the gates found for one repository whose plan moves a guarded or tested pointer. */
export interface GateOutcome extends GatedMove {
  /** Absent when the scan gate is off. */
  readonly scan?: ScanVerdict
  /** Absent when the signature gate is off. */
  readonly signature?: SignatureVerdict
  /** The tag on the image that let each tested pointer move. */
  readonly tested: NonNullable<RepositoryPlan['tested']>
}

/** How long a signature ECR managed signing is still making is waited for. */
const SIGNING_WAIT_MS = 5 * 60_000

/**
 * Reads, for every repository whose plan moves a pointer the convention guards, the scan findings
 * of its image (each platform image of an index) and its signature, and judges them. Nothing is
 * written here; `gateProblems` says whether the run may go on. An image still to be restored from
 * archive is judged once it is restored: only then can ECR tell its platform images and scan.
 */
export async function checkGates(
  registry: GateRegistry,
  convention: Convention,
  plans: readonly RepositoryPlan[],
  settings: GateSettings,
  effects: Effects,
  messages: Messages
): Promise<GateOutcome[]> {
  const moves = plans.flatMap((plan): (GatedMove & { tested: GateOutcome['tested'] })[] => {
    const tags = plan.steps
      .filter(({ write, tag }) => write && convention.gates.guard.includes(tag))
      .map(({ tag }) => tag)
    const tested = plan.tested ?? []
    if ((tags.length === 0 && tested.length === 0) || plan.archived) return []
    return [{ repository: plan.repository, tags, image: plan.source, tested }]
  })
  return settleAll(
    moves.map(async (move) => {
      if (move.tags.length === 0) return move
      const [scan, signature] = await Promise.all([
        scanGateOn(settings) ? scanMove(registry, move, settings, messages) : undefined,
        signMove(registry, move, settings, effects, messages)
      ])
      return { ...move, ...(scan && { scan }), ...(signature && { signature }) }
    })
  )
}

/** Every problem the gates found: any one refuses the whole run, in every repository. */
export const gateProblems = (outcomes: readonly GateOutcome[]): string[] =>
  outcomes.flatMap(({ scan, signature, tested }) => [
    ...tested.flatMap((proof) => ('refused' in proof ? [proof.refused] : [])),
    ...(scan?.problems ?? []),
    ...(signature?.problems ?? [])
  ])

async function scanMove(
  registry: GateRegistry,
  move: GatedMove,
  settings: GateSettings,
  messages: Messages
): Promise<ScanVerdict> {
  const images = scannedImages(move.image)
  const scans = await Promise.all(
    images.map(async (image) => {
      const report = await registry.scanFindings(move.repository, image.digest)
      return { ...image, ...(report && { report }) }
    })
  )
  return judgeScan(move, scans, settings, messages)
}

async function signMove(
  registry: GateRegistry,
  move: GatedMove,
  { requireSignature }: GateSettings,
  effects: Effects,
  messages: Messages
): Promise<SignatureVerdict | undefined> {
  const { repository, image } = move
  if (requireSignature === 'cosign') {
    const tag = cosignTag(image.digest)
    const found = await registry.getManifests(repository, [{ tag }])
    return judgeCosignSignature(move, found.has(tag), messages)
  }
  if (requireSignature !== 'managed') return undefined
  let states: SigningState[] = await registry.signingStatuses(repository, image.digest)
  const started = effects.clock()
  if (signingPending(states)) {
    await pollUntil(
      async () => {
        states = await registry.signingStatuses(repository, image.digest)
        return !signingPending(states)
      },
      SIGNING_WAIT_MS,
      effects,
      (waited) => `${repository}: ECR managed signing is IN_PROGRESS, ${waited} s`
    )
  }
  return judgeManagedSignature(
    move,
    states,
    Math.round((effects.clock() - started) / 1000),
    messages
  )
}
