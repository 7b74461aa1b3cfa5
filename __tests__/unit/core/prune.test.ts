import { builtInConvention } from '../../../src/core/conventions.js'
import type { ImageDetails } from '../../../src/core/model.js'
import {
  changeOf,
  nextBatch,
  planPrune,
  stayedBecause,
  tagsByDigest,
  type PruneCandidate,
  type PruneState
} from '../../../src/core/prune.js'
import { rows } from '../../support/builders.js'

const channels = builtInConvention('channels')
const environments = builtInConvention('environments')
const NOW = new Date('2026-12-01T00:00:00Z')
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000)
const digest = (name: string) => `sha256:${Buffer.from(name).toString('hex').padEnd(64, '0')}`

/** A repository from `tag → [image, age in days]`; every image is 10 MiB. */
function repository(images: Record<string, [image: string, ageDays: number]>): PruneState {
  const tags = new Map<string, string>()
  const details = new Map<string, ImageDetails>()
  for (const [tag, [image, age]] of Object.entries(images)) {
    tags.set(tag, digest(image))
    details.set(digest(image), { tags: [], pushedAt: daysAgo(age), sizeBytes: 10 * 1024 ** 2 })
  }
  return { tags, details, keptChildren: new Set() }
}

/** Images written `tag=image@age in days …`. */
const imagesOf = (text: string): Record<string, [string, number]> =>
  Object.fromEntries(
    text.split(' ').map((each) => {
      const [, tag = '', image = '', age] = /^(.+)=(\w+)@(\d+)$/.exec(each) ?? []
      return [tag, [image, Number(age)]]
    })
  )

/** 30 minor versions 1.0 … 1.29, each with patches .0 and .1 on their own images, all 200 days old. */
function thirtyMinors(): Record<string, [string, number]> {
  const images: Record<string, [string, number]> = {}
  for (let minor = 0; minor < 30; minor++)
    for (const patch of [0, 1]) images[`1.${minor}.${patch}`] = [`a${minor}x${patch}`, 200]
  return images
}

const pruned = (state: PruneState, convention = channels, keep = 5, olderThanDays = 90) =>
  planPrune(convention, { keepMinorVersions: keep, olderThanDays }, state, NOW)
const deleted = (...args: Parameters<typeof pruned>) =>
  pruned(...args)
    .delete.flatMap(({ versions }) => versions)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))

describe('planPrune', () => {
  it('keeps the newest five minor versions, every patch of them, and deletes the other 25 minors', () => {
    const plan = pruned(repository(thirtyMinors()))
    expect(plan.keptMinors).toEqual(['1.29', '1.28', '1.27', '1.26', '1.25'])
    expect(plan.delete).toHaveLength(50)
    expect(deleted(repository(thirtyMinors()))).not.toContain('1.25.0')
    expect(deleted(repository(thirtyMinors()))).toContain('1.24.1')
    expect(plan.delete[0]).toMatchObject({ pushedAt: daysAgo(200), sizeBytes: 10 * 1024 ** 2 })
  })

  /** Rows `name | what thirty minors also hold | the version kept`. */
  it.each(
    rows(
      'an old version that stable points at | stable=a3x1@1 | 1.3.1',
      'an old version that carries a protected floating tag (edge) | edge=a0x0@1 | 1.0.0',
      'an old image that also carries a version of a kept minor | 1.29.2=a1x0@1 | 1.1.0',
      'an old version pushed within the age limit | 1.2.0=a2x0@30 | 1.2.0',
      'a prerelease of a kept minor | 1.27.0-rc.2=rckept@200 | 1.27.0-rc.2',
      'a prerelease of a minor newer than any release | 1.30.0-rc.1=rcnext@200 | 1.30.0-rc.1'
    )
  )('never deletes %s', (_name, also, kept) => {
    const gone = deleted(repository({ ...thirtyMinors(), ...imagesOf(also) }))
    expect(gone).not.toContain(kept)
    expect(gone.length).toBeGreaterThan(40)
  })

  it('never deletes an image a protect pattern names, even one that reads as a version', () => {
    const guarded = { ...channels, cleanup: { ...channels.cleanup!, protect: ['1.4.*'] } }
    expect(deleted(repository(thirtyMinors()), guarded)).not.toContain('1.4.1')
    expect(deleted(repository(thirtyMinors()), guarded)).toContain('1.5.1')
  })

  it('never deletes a platform image an index that stays holds', () => {
    const state = repository(thirtyMinors())
    const held = { ...state, keptChildren: new Set([digest('a4x0')]) }
    expect(deleted(held)).not.toContain('1.4.0')
  })

  /** Rows `name | convention | keep | older than | tag=image@age …| deleted`. */
  it.each(
    rows(
      'keeps every prerelease while there is no release yet | channels | 5 | 90 | 1.0.0-rc.1=pre1@500 0.9.0-rc.2=pre2@500 | ',
      'counts minors across majors by version, not by push time | channels | 2 | 0 | 2.0.0=b20@300 1.9.0=b19@100 1.8.0=b18@400 0.9.0=b09@100 | 0.9.0 1.8.0',
      'reads versions through the convention: v-prefixed tags for environments, never a build tag | environments | 1 | 0 | v1.0.0=c1@200 v1.1.0=c2@200 sha-aaaaaaa=c3@200 1.0.0=c4@200 | 1.0.0',
      'prunes the prereleases of older minors | channels | 1 | 90 | 1.0.0-rc.1=r1@200 1.0.0=d1@200 1.1.0=d2@200 | 1.0.0 1.0.0-rc.1',
      'deletes nothing when every release is within the kept minors | channels | 5 | 90 | 1.0.0=d1@500 1.1.0=d2@500 | '
    )
  )('%s', (_name, convention, keep, olderThan, images, expected) => {
    const state = repository(imagesOf(images))
    const named = convention === 'channels' ? channels : environments
    expect(deleted(state, named, Number(keep), Number(olderThan)).join(' ')).toBe(expected)
  })

  it('gives each image to delete every tag it carries, version or not', () => {
    const state = repository({ ...thirtyMinors(), 'sha-aaaaaaa': ['a0x0', 200] })
    expect(pruned(state).delete.find(({ versions }) => versions.includes('1.0.0'))).toMatchObject({
      versions: ['1.0.0'],
      tags: ['1.0.0', 'sha-aaaaaaa']
    })
  })
})

/** A candidate on image `name` that carried these tags when it was read. */
const candidate = (name: string, tags: string[]): PruneCandidate => ({
  digest: digest(name),
  versions: tags.filter((tag) => /^\d/.test(tag)),
  tags
})

describe('nextBatch', () => {
  const sized = (...counts: number[]) =>
    counts.map((count, index) =>
      candidate(
        `n${index}`,
        Array.from({ length: count }, (_, tag) => `${index}.${tag}.0`)
      )
    )
  it.each<[string, number[], number[]]>([
    ['nothing left', [], []],
    [
      '120 one-tag images: the first 100',
      Array(120).fill(1),
      Array.from({ length: 100 }, (_, i) => i)
    ],
    ['images that fit together: all of them', [40, 60], [0, 1]],
    ['one that does not fit waits; a later one that fits joins', [60, 50, 40], [0, 2]],
    ['an image with more than 100 tags: alone', [150, 1], [0]],
    ['an image with more than 100 tags after a small one: it waits', [1, 150, 2], [0, 2]],
    ['exactly 100 tags: nothing more', [100, 1], [0]]
  ])('%s', (_name, counts, expected) => {
    const candidates = sized(...counts)
    expect(nextBatch(candidates).map((each) => candidates.indexOf(each))).toEqual(expected)
  })
})

describe('changeOf', () => {
  const planned = candidate('p1', ['1.0.0', 'sha-aaaaaaa'])
  const plan = { keptMinors: ['1.5'], delete: [planned] }
  /** Rows `name | tag=image … now | still planned | why it changed`; `-` is no change. */
  it.each(
    rows(
      'the same tags, still planned | 1.0.0=p1 sha-aaaaaaa=p1 | yes | -',
      'a pointer gained (and so no longer planned) | 1.0.0=p1 sha-aaaaaaa=p1 production=p1 | no | it gained production',
      'a tag lost | 1.0.0=p1 | yes | it lost sha-aaaaaaa',
      'a tag gained and one lost: the gain says why | 1.0.0=p1 stable=p1 | no | it gained stable',
      'the same tags, but no longer planned | 1.0.0=p1 sha-aaaaaaa=p1 | no | it is no longer one to delete'
    )
  )('%s', (_name, listing, stillPlanned, expected) => {
    const tags = tagsByDigest(
      new Map(listing.split(' ').map((pair) => [pair.split('=')[0]!, digest(pair.split('=')[1]!)]))
    )
    const now = { ...plan, delete: stillPlanned === 'yes' ? [planned] : [] }
    expect(changeOf(planned, tags, now)).toBe(expected === '-' ? undefined : expected)
  })
})

describe('stayedBecause', () => {
  const sent = candidate('s1', ['1.0.0', 'sha-aaaaaaa'])
  it.each<[string, string[], string]>([
    ['a pointer arrived before its last tag went', ['production'], 'it gained production'],
    ['ECR kept one of its own tags', ['1.0.0'], 'ECR did not remove 1.0.0'],
    ['both', ['1.0.0', 'production'], 'it gained production']
  ])('%s', (_name, now, expected) => {
    expect(stayedBecause(sent, now)).toBe(expected)
  })
})
