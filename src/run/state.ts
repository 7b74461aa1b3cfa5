import type { Intent } from '../core/derive.js'
import type { Registry, StoredImage } from '../ecr/registry.js'
import { describeRef, shortDigest, type ImageRef, type Manifest } from '../core/model.js'
import type { RepositoryWork } from './apply.js'
import {
  checkPointers,
  describedPointer,
  isFoundInTags,
  renderVersion,
  markTags,
  needsAllTags,
  proofTags,
  pushTimesNeeded,
  resolveSources,
  undoTarget,
  versionsLeft,
  withdrawnInRun,
  type PointerCheck,
  type RepositoryPlan,
  type RepositoryState
} from '../core/plan.js'
import { pollUntil, type Effects } from './effects.js'
import { problemsError, settleAll } from '../core/problems.js'
import type { Version } from '../core/version.js'

export type StateRegistry = Pick<
  Registry,
  'describeRepository' | 'listTags' | 'getManifests' | 'describeImages' | 'storedImage'
>

/** Where a run with a target registry reads its source image: the source registry. */
export type SourceRegistry = Pick<Registry, 'getManifests' | 'storedImage' | 'listTags'>

/**
 * Reads what every intent needs: each repository's settings, its tags where versions decide, and one
 * BatchGetImage for the source and every target tag, all at once. A rollback to `previous` reads its
 * source once the versions of every repository are known; push times are read only where an image
 * without a version must be ranked. With a target registry (`registry`), the source image is read
 * in `from`, the source registry, but for a rollback to a version the target has already.
 */
export async function readStates(
  registry: StateRegistry,
  intents: readonly Intent[],
  from?: SourceRegistry
): Promise<RepositoryState[]> {
  const [first, built] = await Promise.all([
    settleAll(
      intents.map((intent) => readRepository(registry, intent, !(from && readsInSource(intent))))
    ),
    // A build tag pattern is matched in the registry the build was pushed to.
    Promise.all(
      intents.map((intent) =>
        from && 'buildTagMatching' in intent.source
          ? from.listTags(intent.repository)
          : Promise.resolve(undefined)
      )
    )
  ])
  const tagsByIntent = new Map(intents.map((intent, index) => [intent, first[index]?.tags]))
  const tagsOf = (intent: Intent) => tagsByIntent.get(intent)
  const sources = resolveSources(
    intents,
    (intent) => built[intents.indexOf(intent)] ?? tagsOf(intent)
  )
  const runWithdrawn = withdrawnInRun(intents, (intent) => [
    ...(tagsOf(intent) ?? []),
    ...digestsOf(markTags(intent), first[intents.indexOf(intent)]?.manifests ?? new Map())
  ])
  const left = versionsLeft(intents, tagsOf, (intent) => {
    const { ref } = sources[intents.indexOf(intent)] as RepositoryState['source']
    return 'digest' in ref ? ref.digest : tagsOf(intent)?.get(ref.tag)
  })
  return settleAll(
    intents.map(async (intent, index) => {
      const read = first[index] as FirstRead
      const withdrawing = await imagesToMark(registry, intent, read, left)
      const source = sources[index] as RepositoryState['source']
      const key = describeRef(source.ref)
      const readIn = (where: SourceRegistry) =>
        Promise.all([
          where
            .getManifests(intent.repository, [source.ref], [source.ref])
            .then((manifests) => manifests.get(key)),
          where.storedImage(intent.repository, source.ref)
        ])
      const inSource = from && readsInSource(intent) ? from : undefined
      const proofs = proofTags(intent)
      const readImage = async (): Promise<[Manifest | undefined, StoredImage | undefined]> =>
        source.unmatched
          ? [undefined, undefined]
          : isFoundInTags(intent.source) || inSource
            ? readIn(inSource ?? registry)
            : [read.manifests.get(key), read.stored]
      const [image, proven] = await Promise.all([
        readImage(),
        // The tested-image rule is a gate: judged where the image was built and tested.
        inSource && proofs.length > 0
          ? inSource.getManifests(
              intent.repository,
              proofs.map((tag) => ({ tag }))
            )
          : read.manifests
      ])
      let [found, stored] = image
      let copyFrom: RepositoryState['copyFrom'] = inSource && 'source'
      // The target may hold the image already, archived there since: restored and gated there.
      const held = inSource && found && (await registry.storedImage(intent.repository, found))
      if (held && held.status !== 'ACTIVE') [stored, copyFrom] = [held, 'target']
      if (from && !inSource) {
        copyFrom = 'target'
        // A rollback to a version only the source registry has: copied, and its tag created here.
        if (!source.unmatched && !found && !stored) {
          ;[found, stored] = await readIn(from)
          copyFrom = 'source'
        }
      }
      // ECR may serve an archived image's manifest or not (AWS does not say): its status decides.
      const archived = stored && stored.status !== 'ACTIVE' ? stored : undefined
      const sourceManifest =
        found ??
        (archived && { digest: archived.digest, mediaType: archived.mediaType ?? '', body: '' })
      const state: RepositoryState = {
        repository: intent.repository,
        uri: read.uri,
        mutability: read.mutability,
        source,
        current: targetManifests(intent, read.manifests),
        ...(proofs.length > 0 && { proofs: digestsOf(proofs, proven) }),
        ...(sourceManifest && { sourceManifest }),
        ...(archived && { archived: archived.status }),
        ...(copyFrom && { copyFrom }),
        ...(read.tags && { tags: read.tags }),
        ...(runWithdrawn.size > 0 && { withdrawnInRun: runWithdrawn }),
        ...(withdrawing.size > 0 && { withdrawing })
      }
      const digests = pushTimesNeeded(intent, state)
      if (digests.length === 0) return state
      return { ...state, details: await registry.describeImages(intent.repository, digests) }
    })
  )
}

/**
 * The images this repository holds of the versions a rollback withdraws, by the mark each gets; a
 * version already marked here is left as it is. The pointer's own image was read with the targets.
 * Without a listing, a version on neither image described is read by name, with its mark.
 */
async function imagesToMark(
  registry: StateRegistry,
  intent: Intent,
  read: FirstRead,
  left: readonly Version[]
): Promise<Map<string, { image: Manifest; version: string }>> {
  const tags = read.tags ?? new Map<string, string>()
  const marks = left.map((version) => ({
    tag: renderVersion(intent.versionTag, version),
    mark: renderVersion(intent.withdrawnTag, version),
    version: version.text
  }))
  const unseen = needsAllTags(intent) ? [] : marks.filter(({ tag }) => !tags.has(tag))
  const onPointer = (tag: string) =>
    intent.pointer !== undefined && tags.has(tag) && tags.get(tag) === tags.get(intent.pointer)
  const seen = marks.filter(({ tag, mark }) => tags.has(tag) && !tags.has(mark))
  const unread = [
    ...seen.filter(({ tag }) => !onPointer(tag)).map(({ tag }) => tag),
    ...unseen.flatMap(({ tag, mark }) => [tag, mark])
  ].map((tag) => ({ tag }))
  const manifests =
    unread.length > 0
      ? await registry.getManifests(intent.repository, unread)
      : new Map<string, Manifest>()
  const wanted = [...seen, ...unseen.filter(({ mark }) => !manifests.has(mark))]
  return new Map(
    wanted.flatMap(({ tag, mark, version }) => {
      const image = onPointer(tag)
        ? read.manifests.get(intent.pointer as string)
        : manifests.get(tag)
      return image ? [[mark, { image, version }] as const] : []
    })
  )
}

/**
 * Reads the states, and while a source image is missing and `wait` has not run out, polls for it
 * with growing pauses: a release published before its build finished then finds its image. Once it
 * is there, everything is read again, so nothing the run decides on is older than its source.
 */
export async function readStatesWaiting(
  registry: StateRegistry,
  intents: readonly Intent[],
  waitMs: number,
  effects: Effects,
  from?: SourceRegistry
): Promise<RepositoryState[]> {
  let states = await readStates(registry, intents, from)
  // A rollback's version was released long ago: it does not appear by waiting.
  const missing = () =>
    states.filter(
      ({ sourceManifest }, index) => !sourceManifest && intents[index]?.event !== 'rollback'
    )
  if (missing().length === 0) return states
  await pollUntil(
    async () => {
      // Only the missing images are polled; once they are all there, everything is read afresh.
      // A build tag pattern is matched against the tag list, which reading afresh lists.
      const found = await Promise.all(
        missing().map(
          async ({ repository, source }) =>
            source.unmatched ||
            (await (from ?? registry).getManifests(repository, [source.ref])).has(
              describeRef(source.ref)
            )
        )
      )
      if (!found.every(Boolean)) return false
      states = await readStates(registry, intents, from)
      return missing().length === 0
    },
    waitMs,
    effects,
    (waited) =>
      `waiting for ${missing()
        .map(({ repository, source }) => `${repository}:${describeRef(source.ref)}`)
        .join(', ')}: ${waited} s of ${Math.round(waitMs / 1000)} s`
  )
  return states
}

interface FirstRead {
  readonly uri: string
  readonly mutability: RepositoryState['mutability']
  readonly tags?: ReadonlyMap<string, string>
  readonly manifests: ReadonlyMap<string, Manifest>
  /** How the source image is stored, read in the same round; undefined when there is no such image. */
  readonly stored?: StoredImage
}

/**
 * One round: the repository's settings, its tags where versions decide, every tag the intent names
 * by name, and how the source is stored (an archived one is restored before anything points at it,
 * whatever BatchGetImage answers for it). The listing must agree with the tags read by name: one that
 * leaves out or contradicts them is a partial answer. A writer may move a tag between the two, so
 * they are read once more before the run refuses. An archived source is listed, but ECR may not
 * serve it by name. A rollback to a named version lists nothing: the tags of its image and of its
 * pointer's, described in the same round, stand in for the listing, and must agree with them.
 */
/** With a target registry, the image a release or promotion starts from is in the source registry; a rollback's, in the target first. */
const readsInSource = (intent: Intent): boolean => intent.event !== 'rollback'

/** `withSource`: the source image is read here too (not when it lives in another registry). */
async function readRepository(
  registry: StateRegistry,
  intent: Intent,
  withSource: boolean
): Promise<FirstRead> {
  const { repository } = intent
  const source = isFoundInTags(intent.source) || !withSource ? undefined : intent.source
  const pointer = describedPointer(intent)
  const refs: ImageRef[] = [
    ...(source ? [source] : []),
    ...[...intent.targets.map(({ tag }) => tag), ...proofTags(intent), ...markTags(intent)].map(
      (tag) => ({ tag })
    )
  ]
  const unique = [...new Map(refs.map((ref) => [describeRef(ref), ref])).values()]
  const checked = needsAllTags(intent) || pointer !== undefined
  const read = async () => {
    const [stored, onPointer, listed, manifests] = await Promise.all([
      source && registry.storedImage(repository, source),
      pointer === undefined ? undefined : registry.storedImage(repository, { tag: pointer }),
      needsAllTags(intent) ? registry.listTags(repository) : undefined,
      // With a listing, a tag it has that is not served is caught below, archived or not.
      registry.getManifests(repository, unique, checked ? unique : source && [source])
    ])
    const archived = stored !== undefined && stored.status !== 'ACTIVE'
    const described = [stored, onPointer].flatMap((image) =>
      image ? image.tags.map((tag) => [tag, image.digest] as const) : []
    )
    const tags = listed ?? (pointer === undefined ? undefined : new Map(described))
    // The tags of the images described are all they tell: a mark elsewhere is read by name alone.
    const named = unique.flatMap((ref) =>
      'tag' in ref &&
      !(archived && ref === source) &&
      (listed !== undefined || ref === source || ref.tag === pointer)
        ? [ref.tag]
        : []
    )
    const differ = tags ? disagreements(tags, manifests, named) : []
    return { stored, tags, manifests, differ }
  }
  const [info, first] = await Promise.all([registry.describeRepository(repository), read()])
  const { stored, tags, manifests, differ } = first.differ.length > 0 ? await read() : first
  if (differ.length > 0 && tags) {
    await refuseArchivedTargets(registry, repository, tags, manifests, unique)
    throw new Error(
      `ECR's ${pointer === undefined ? 'ListImages' : 'DescribeImages'} answer for ${repository} contradicts the tags read by name (${differ.join('; ')}): refusing to decide from a partial answer; run again`
    )
  }
  return { ...info, manifests, ...(tags && { tags }), ...(stored && { stored }) }
}

/**
 * A tag the listing has but BatchGetImage does not serve may be on an archived image (listings
 * include them): that is no partial answer, and running again does not help, so it is said as it is.
 */
async function refuseArchivedTargets(
  registry: StateRegistry,
  repository: string,
  tags: ReadonlyMap<string, string>,
  manifests: ReadonlyMap<string, Manifest>,
  refs: readonly ImageRef[]
): Promise<void> {
  const unserved = refs.flatMap((ref) => {
    const digest = 'tag' in ref && !manifests.has(ref.tag) ? tags.get(ref.tag) : undefined
    return digest ? [{ tag: (ref as { tag: string }).tag, digest }] : []
  })
  const stored = await Promise.all(
    unserved.map(({ digest }) => registry.storedImage(repository, { digest }))
  )
  const archived = unserved.filter((_, index) => (stored[index]?.status ?? 'ACTIVE') !== 'ACTIVE')
  if (archived.length > 0)
    throw problemsError(
      archived.map(
        ({ tag, digest }) =>
          `${repository}:${tag} is on ${shortDigest(digest)}, an archived image, which ECR does not serve: restore it to standard storage (UpdateImageStorageClass STANDARD) or move ${tag} off it, then run again; no tag was written`
      )
    )
}

/** Tags the listing has elsewhere than the reads by name, or not at all, or only the listing has. */
export const disagreements = (
  listed: ReadonlyMap<string, string>,
  named: ReadonlyMap<string, Manifest>,
  tags: readonly string[]
): string[] =>
  tags.flatMap((tag) => {
    const [inListing, byName] = [listed.get(tag), named.get(tag)?.digest]
    return inListing === byName
      ? []
      : [
          `${tag}: listed ${inListing ? `on ${shortDigest(inListing)}` : 'nowhere'}, read by name ${byName ? `on ${shortDigest(byName)}` : 'as absent'}`
        ]
  })

const targetManifests = (
  intent: Intent,
  manifests: ReadonlyMap<string, Manifest>
): Map<string, Manifest> =>
  new Map(
    intent.targets.flatMap(({ tag }) => {
      const manifest = manifests.get(tag)
      return manifest ? [[tag, manifest] as const] : []
    })
  )

/** Where each of these tags, read with the targets, points: the ones the registry has. */
const digestsOf = (
  tags: readonly string[],
  manifests: ReadonlyMap<string, Manifest>
): Map<string, string> =>
  new Map(
    tags.flatMap((tag) => {
      const digest = manifests.get(tag)?.digest
      return digest ? [[tag, digest] as const] : []
    })
  )

/**
 * What the writer needs to know of one repository while it writes: the plan, and the registry as it
 * is at each moment that matters (after the writes, and for an undo).
 */
export function repositoryWork(
  registry: StateRegistry,
  intent: Intent,
  initial: RepositoryState,
  plan: RepositoryPlan
): RepositoryWork {
  const { repository } = intent
  const manifestOf = async (
    digest: string | null,
    reader: Pick<StateRegistry, 'getManifests'> = registry
  ): Promise<Manifest | undefined> =>
    digest === null
      ? undefined
      : digest === plan.source.digest
        ? plan.source
        : (await reader.getManifests(repository, [{ digest }])).get(digest)
  return {
    plan,
    async checkPointers(steps) {
      const tags = steps.map(({ tag }) => tag)
      const decide = (listed: ReadonlyMap<string, string>) =>
        checkPointers(intent, plan, initial.tags, listed, steps)
      const resolve = (checks: readonly PointerCheck[]) =>
        Promise.all(
          checks.map(async ({ moveTo, ...check }) => ({
            ...check,
            ...(moveTo !== undefined && { moveTo: await manifestOf(moveTo) })
          }))
        )
      const checks = decide(await registry.listTags(repository))
      const moves = checks.filter(({ moveTo }) => moveTo !== undefined)
      if (moves.length === 0) return resolve(checks)
      // A pointer is written again only on what a second look confirms: the pointers read by name,
      // and the tags of every image involved (the run's own, each one a pointer would leave or go
      // to), which a partial listing may leave out, a rollback's withdrawn mark among them.
      const involved = [
        ...new Set([
          plan.source.digest,
          ...moves.flatMap(({ now, moveTo }) => [now, moveTo].filter((digest) => digest != null))
        ])
      ]
      const read = async () => {
        const [listed, named, described] = await Promise.all([
          registry.listTags(repository),
          registry.getManifests(
            repository,
            tags.map((tag) => ({ tag }))
          ),
          registry.describeImages(repository, involved)
        ])
        for (const [digest, { tags: names }] of described) {
          for (const name of names) if (!listed.has(name)) listed.set(name, digest)
        }
        return { listed, named, differ: disagreements(listed, named, tags) }
      }
      // A writer may move a pointer between the two reads, just when the check matters: once more.
      const first = await read()
      const { listed: fresh, named, differ } = first.differ.length > 0 ? await read() : first
      // Still moving: another writer is at it, and its own check, which comes later, decides.
      if (differ.length > 0)
        return tags.map((tag) => ({
          tag,
          now: named.get(tag)?.digest ?? null,
          note: `another writer moved it while this run checked it (${differ.join('; ')}); left to that writer's check`
        }))
      return resolve(decide(fresh))
    },
    async undoTargets(steps, reader) {
      const guarded = steps.some(({ step }) => step.kind === 'forward' || step.kind === 'highest')
      const fresh = guarded ? await reader.listTags(repository) : new Map<string, string>()
      return Promise.all(
        steps.map(async ({ step, before }) => {
          const digest = undoTarget(intent, plan, step, before, initial.tags, fresh)
          return digest === (before?.digest ?? null) ? before : await manifestOf(digest, reader)
        })
      )
    }
  }
}
