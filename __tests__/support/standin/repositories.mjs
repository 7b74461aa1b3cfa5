// @ts-check
/**
 * Repositories and their settings.
 *
 * CreateRepository (API Reference: CreateRepository)
 * - imageTagMutability MUTABLE (default) | IMMUTABLE | IMMUTABLE_WITH_EXCLUSION |
 *   MUTABLE_WITH_EXCLUSION. imageTagMutabilityExclusionFilters (1-5, filterType WILDCARD, filter
 *   `^[0-9a-zA-Z._*-]{1,128}$`; API Reference: ImageTagMutabilityExclusionFilter) are required
 *   with the *_WITH_EXCLUSION settings and refused with the others (InvalidParameterException).
 *   An existing name: RepositoryAlreadyExistsException.
 * DescribeRepositories (API Reference: DescribeRepositories, Repository)
 * - repositoryArn, registryId, repositoryName, repositoryUri (`<account>.dkr.ecr.<region>.
 *   amazonaws.com/<name>`), createdAt, imageTagMutability and its filters (when set). With
 *   repositoryNames (1-100) an unknown name fails the whole call (RepositoryNotFoundException);
 *   without, every repository by name, on one page.
 * PutImageTagMutability (API Reference: PutImageTagMutability)
 * - Checked as in CreateRepository (imageTagMutability required); answers registryId,
 *   repositoryName, imageTagMutability and its filters (when set).
 * Tag mutability, which PutImage (./images.mjs) asks of a tag already on another image
 * - MUTABLE lets tags be overwritten, IMMUTABLE none. A filter "specifies which image tags should
 *   be excluded from the repository's image tag mutability setting": IMMUTABLE_WITH_EXCLUSION
 *   lets the tags a filter matches be overwritten, MUTABLE_WITH_EXCLUSION keeps them.
 * - A WILDCARD filter matches a tag when the whole tag fits it: `*` any run of characters (none
 *   included), every other character itself.
 */

import {
  ACCOUNT_ID,
  EcrError,
  REGION,
  checkEnum,
  checkRepositoryName,
  checkSized,
  compareStrings,
  invalidParameter,
  isObject,
  nowSeconds,
  repositoryArn,
  repositoryNotFound,
  sized,
  violated
} from './protocol.mjs'

/**
 * @typedef {{ filterType: string, filter: string }} ExclusionFilter
 * @typedef {{ name: string, registryId: string, region: string, strict: boolean, createdAt: number,
 *   imageTagMutability: string, exclusionFilters: ExclusionFilter[] | undefined,
 *   images: Map<string, import('./images.mjs').StoredImage>, tags: Map<string, string>,
 *   blobs: Map<string, Buffer>, uploads: Map<string, import('./layers.mjs').Upload> }} StoredRepository
 *   strict: PutImage requires the manifest's blobs (./layers.mjs)
 * @typedef {{ account: string, region: string }} Where a registry: an account in a Region
 */

/** Each setting's rule for the tags no filter matches: may they be overwritten? */
const BASE_OVERWRITABLE = Object.freeze({
  MUTABLE: true,
  IMMUTABLE: false,
  IMMUTABLE_WITH_EXCLUSION: false,
  MUTABLE_WITH_EXCLUSION: true
})
const SETTINGS = Object.keys(BASE_OVERWRITABLE)
const FILTER_RE = /^[0-9a-zA-Z._*-]{1,128}$/

/**
 * Whether a WILDCARD filter matches the whole tag. The filter, cut at each `*`, is a run of
 * literal pieces: the first must open the tag, the last must close it, and each one between must
 * occur after the one before, leaving room for the last.
 * @param {string} filter
 * @param {string} tag
 */
export function wildcardMatch(filter, tag) {
  const [head = '', ...pieces] = filter.split('*')
  const tail = pieces.pop()
  if (tail === undefined) return filter === tag
  if (!tag.startsWith(head)) return false
  let from = head.length
  for (const piece of pieces) {
    const at = tag.indexOf(piece, from)
    if (at === -1) return false
    from = at + piece.length
  }
  return tag.length - tail.length >= from && tag.endsWith(tail)
}

/**
 * Whether PutImage may not move `tag` off the image it is on: the setting's base rule, reversed
 * for a tag an exclusion filter matches.
 * @param {StoredRepository} repository
 * @param {string} tag
 */
export function isTagImmutable(repository, tag) {
  const setting = /** @type {keyof BASE_OVERWRITABLE} */ (repository.imageTagMutability)
  const filters = repository.exclusionFilters ?? []
  const excluded = filters.some(({ filter }) => wildcardMatch(filter, tag))
  const overwritable = excluded ? !BASE_OVERWRITABLE[setting] : BASE_OVERWRITABLE[setting]
  return !overwritable
}

/**
 * @param {Record<string, any>} input
 * @param {boolean} required
 * @returns {{ imageTagMutability: string, exclusionFilters: ExclusionFilter[] | undefined }}
 */
function readMutability(input, required) {
  const asked = input.imageTagMutability ?? (required ? undefined : 'MUTABLE')
  const setting = checkEnum('imageTagMutability', asked, SETTINGS)
  const filters = input.imageTagMutabilityExclusionFilters
  if (!setting.endsWith('_WITH_EXCLUSION')) {
    if (filters !== undefined && !(Array.isArray(filters) && filters.length === 0)) {
      throw invalidParameter(
        `Invalid parameter: imageTagMutabilityExclusionFilters can only be used with IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION, not ${setting}`
      )
    }
    return { imageTagMutability: setting, exclusionFilters: undefined }
  }
  if (!sized(filters, 5)) {
    throw invalidParameter(
      `Invalid parameter: ${setting} requires between 1 and 5 imageTagMutabilityExclusionFilters`
    )
  }
  const field = 'imageTagMutabilityExclusionFilters'
  const exclusionFilters = filters.map((f) => {
    const { filterType, filter } = isObject(f) ? f : {}
    checkEnum(`${field}.filterType`, filterType, ['WILDCARD'])
    if (typeof filter !== 'string' || !FILTER_RE.test(filter)) {
      throw violated(`${field}.filter`, `must satisfy regular expression '${FILTER_RE.source}'`)
    }
    return { filterType: 'WILDCARD', filter }
  })
  return { imageTagMutability: setting, exclusionFilters }
}

/** @param {StoredRepository} repository */
const mutabilityOf = ({ imageTagMutability, exclusionFilters }) => ({
  imageTagMutability,
  ...(exclusionFilters && {
    imageTagMutabilityExclusionFilters: exclusionFilters.map((f) => ({ ...f }))
  })
})

/** @param {StoredRepository} repository */
const describeRepository = (repository) => ({
  repositoryArn: repositoryArn(repository.name, repository.registryId, repository.region),
  registryId: repository.registryId,
  repositoryName: repository.name,
  repositoryUri: `${repository.registryId}.dkr.ecr.${repository.region}.amazonaws.com/${repository.name}`,
  createdAt: repository.createdAt,
  ...mutabilityOf(repository)
})

/**
 * The stand-in's registries and their repositories, the operations on them, and the lookup other
 * operations share. An operation acts on the registry `within()` names (the call's). Every
 * account's registries but the default account's are strict (./layers.mjs).
 */
export function createRepositories() {
  /** Repositories by `<account>/<region>` and name. @type {Map<string, Map<string, StoredRepository>>} */
  const registries = new Map()
  /** @type {Where} */
  let current = { account: ACCOUNT_ID, region: REGION }

  /** The repositories of a registry (made on first use). @param {Where} [where] */
  function repositoriesOf({ account, region } = current) {
    const key = `${account}/${region}`
    const repositories = registries.get(key) ?? new Map()
    registries.set(key, repositories)
    return repositories
  }

  /** @param {Record<string, any>} input @returns {StoredRepository} */
  function repositoryFor(input) {
    const name = checkRepositoryName(input.repositoryName)
    const repository = repositoriesOf().get(name)
    if (!repository) throw repositoryNotFound(name, current.account)
    return repository
  }

  /**
   * A new repository in a registry; RepositoryAlreadyExistsException for a name it has.
   * @param {string} name
   * @param {Where} where
   * @param {Record<string, any>} input CreateRepository's
   */
  function create(name, where, input) {
    const { imageTagMutability, exclusionFilters } = readMutability(input, false)
    const repositories = repositoriesOf(where)
    if (repositories.has(name)) {
      throw new EcrError(
        'RepositoryAlreadyExistsException',
        `The repository with name '${name}' already exists in the registry with id '${where.account}'`
      )
    }
    /** @type {StoredRepository} */
    const repository = {
      name,
      registryId: where.account,
      region: where.region,
      strict: where.account !== ACCOUNT_ID,
      createdAt: nowSeconds(),
      imageTagMutability,
      exclusionFilters,
      images: new Map(),
      tags: new Map(),
      blobs: new Map(),
      uploads: new Map()
    }
    repositories.set(name, repository)
    return repository
  }

  /** @satisfies {Record<string, import('./protocol.mjs').Operation>} */
  const operations = {
    CreateRepository(input) {
      const name = checkRepositoryName(input.repositoryName)
      return { repository: describeRepository(create(name, current, input)) }
    },

    DescribeRepositories({ repositoryNames: names }) {
      if (names === undefined) {
        const all = [...repositoriesOf().values()].sort((a, b) => compareStrings(a.name, b.name))
        return { repositories: all.map(describeRepository) }
      }
      const named = checkSized('repositoryNames', names, 100)
      const each = (/** @type {unknown} */ name) => repositoryFor({ repositoryName: name })
      return { repositories: named.map(each).map(describeRepository) }
    },

    PutImageTagMutability(input) {
      const repository = repositoryFor(input)
      Object.assign(repository, readMutability(input, true))
      return {
        registryId: repository.registryId,
        repositoryName: repository.name,
        ...mutabilityOf(repository)
      }
    }
  }

  return {
    repositoryFor,
    repositoriesOf,
    create,
    operations,
    /**
     * Run `act` on the registry `where` names.
     * @template T @param {Where} where @param {() => T} act @returns {T}
     */
    within(where, act) {
      const before = current
      current = where
      try {
        return act()
      } finally {
        current = before
      }
    },
    clear: () => registries.clear()
  }
}
