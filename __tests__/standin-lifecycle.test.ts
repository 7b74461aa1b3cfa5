/** The stand-in's lifecycle evaluation against ECR's documented rules, one rule per row. */
import { evaluatePolicy } from './support/standin/lifecycle.mjs'

const NOW = Date.UTC(2026, 11, 1)
const DAY_MS = 86_400_000
const image = (digest: string, tags: string[], ageDays: number, children: string[] = []) => ({
  digest,
  tags,
  pushedAt: NOW - ageDays * DAY_MS,
  children
})
const rule = (
  rulePriority: number,
  tagStatus: string,
  count: { countType: string; countNumber: number },
  lists: { tagPrefixList?: string[]; tagPatternList?: string[] } = {}
) => ({ rulePriority, selection: { tagStatus, ...lists, ...count } })
const olderThan = (days: number) => ({ countType: 'sinceImagePushed', countNumber: days })
const moreThan = (images: number) => ({ countType: 'imageCountMoreThan', countNumber: images })

describe('evaluatePolicy', () => {
  it.each<[string, ReturnType<typeof rule>[], ReturnType<typeof image>[], string[]]>([
    [
      'a multi-entry prefix list selects only images carrying every entry',
      [rule(1, 'tagged', olderThan(1), { tagPrefixList: ['production', 'v'] })],
      [image('a', ['production'], 5), image('b', ['production', 'v1.0.0'], 5)],
      ['b 1']
    ],
    [
      'a pattern matches the whole tag, * any run of characters',
      [rule(1, 'tagged', olderThan(1), { tagPatternList: ['v*.*.*'] })],
      [image('a', ['v1.2.3'], 5), image('b', ['v1.2'], 5), image('c', ['xv1.2.3'], 5)],
      ['a 1']
    ],
    [
      'imageCountMoreThan keeps the newest by push time',
      [rule(1, 'tagged', moreThan(2), { tagPrefixList: ['sha-'] })],
      [image('a', ['sha-1'], 3), image('b', ['sha-2'], 1), image('c', ['sha-3'], 2)],
      ['a 1']
    ],
    [
      'an image a higher rule selected is never expired by a lower one, but still counted',
      [
        rule(1, 'tagged', olderThan(9999), { tagPatternList: ['production'] }),
        rule(2, 'tagged', moreThan(1), { tagPrefixList: ['sha-'] })
      ],
      [image('a', ['sha-1', 'production'], 3), image('b', ['sha-2'], 2), image('c', ['sha-3'], 1)],
      ['b 2']
    ],
    [
      'untagged selects images without tags; any selects every image',
      [rule(1, 'untagged', olderThan(7)), rule(2, 'any', olderThan(30))],
      [image('a', [], 8), image('b', ['x'], 31), image('c', [], 3), image('d', ['y'], 3)],
      ['a 1', 'b 2']
    ],
    [
      'a platform image of an index that stays is not expired',
      [rule(1, 'untagged', olderThan(7))],
      [image('index', ['v1'], 100, ['child']), image('child', [], 100), image('loose', [], 100)],
      ['loose 1']
    ]
  ])('%s', (_name, rules, images, expired) => {
    expect(
      evaluatePolicy({ rules }, images, NOW).map(
        ({ image: { digest }, rulePriority }) => `${digest} ${rulePriority}`
      )
    ).toEqual(expired)
  })
})
