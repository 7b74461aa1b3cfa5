import type { Intent } from './derive.js'
import type { Registry } from './ecr.js'
import { describeRef, needsAllTags, resolveSource, type RepositoryState } from './plan.js'

/**
 * Reads what one intent needs: the repository's settings, its tags when versions decide something,
 * and one BatchGetImage for the source and every target tag.
 */
export async function readState(registry: Registry, intent: Intent): Promise<RepositoryState> {
  const { repository } = intent
  const { uri, mutability } = await registry.describeRepository(repository)
  const tags = needsAllTags(intent) ? await registry.listTags(repository) : undefined
  const source = resolveSource(intent, tags)
  const refs = [source.ref, ...intent.targets.map(({ tag }) => ({ tag }))]
  const unique = [...new Map(refs.map((ref) => [describeRef(ref), ref])).values()]
  const manifests = await registry.getManifests(repository, unique)
  const sourceManifest = manifests.get(describeRef(source.ref))
  const current = new Map(
    intent.targets.flatMap(({ tag }) => {
      const manifest = manifests.get(tag)
      return manifest ? [[tag, manifest] as const] : []
    })
  )
  return {
    repository,
    uri,
    mutability,
    source,
    current,
    ...(sourceManifest && { sourceManifest }),
    ...(tags && { tags })
  }
}
