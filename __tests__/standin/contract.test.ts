/**
 * The contract: one row per ECR rule the stand-in implements and moto implements too, with what
 * ECR answers, run against the stand-in and, when jest's global setup started it, against moto
 * through its proxy (MOTO_ENDPOINT). A row names each endpoint whose answer differs, and why: for
 * moto the deviation of support/moto.mjs, so the table also proves that every deviation still
 * exists; `moto raw` (moto without the proxy) runs only the rows that name it, the deviations the
 * proxy hides.
 */
import {
  DescribeRepositoriesCommand,
  type ECRClient,
  type ImageTagMutability
} from '@aws-sdk/client-ecr'
import { startStandIn } from '../support/ecr-standin.mjs'
import { multiArchImage, type ManifestFixture } from '../support/images.mjs'
import { rewriteBatchGetImage } from '../support/moto.mjs'
import { MANIFEST_MEDIA_TYPES, MEDIA_TYPES, digestOf, sha256Hex } from '../support/oci.mjs'
import {
  ACCOUNT,
  OTHER,
  assumed,
  client,
  details,
  everyPage,
  fixture,
  get,
  id,
  list,
  named,
  op,
  play,
  put,
  remove,
  wildcard,
  urlOf,
  type Output,
  type Row as AnyRow,
  type Step
} from './ecr.js'

type Endpoint = 'stand-in' | 'moto' | 'moto raw'
type Row = AnyRow<Endpoint>

const [A, INDEX] = [fixture('A'), fixture('INDEX')]
const BOGUS = `sha256:${'ab'.repeat(32)}`
const [TAKEN, EXISTS] = ['ImageTagAlreadyExistsException', 'ImageAlreadyExistsException']
const [INVALID, NO_REPO] = ['InvalidParameterException', 'RepositoryNotFoundException']
const MISSING = 'contract/never-created'
const UPLOAD = '6a7f1a8e-0c57-4e1e-9a31-2b1f6c1f0d2e'
const SOME = [':v1']
const EXCLUDED = 'latest dev-7 v1.2 v2-rc v1x2 v2 latest-1 my-dev-1 v2-rc1'.split(' ')

/** The page sizes of a listing with maxResults 2. */
const pages =
  (operation: 'ListImages' | 'DescribeImages'): Step =>
  async (s) =>
    (await everyPage(operation, { maxResults: 2 })(s)).map(
      (p) => (p.imageIds ?? p.imageDetails).length
    )
const mutability = (imageTagMutability: ImageTagMutability, filters?: string[]) =>
  op(
    'PutImageTagMutability',
    { imageTagMutability, imageTagMutabilityExclusionFilters: filters?.map(wildcard) },
    (o) => ({ ...o, $metadata: undefined })
  )
/** DescribeRepositories of the row's repository, as `pick` reads it. */
const repository =
  (pick: (r: Record<string, unknown>) => unknown): Step =>
  (s) =>
    op('DescribeRepositories', { repositoryNames: [s.repo] }, (o) => pick(o.repositories[0]))(s)
const createNamed =
  (name: (repo: string) => string, more = {}): Step =>
  (s) =>
    op('CreateRepository', { repositoryName: name(s.repo), ...more })(s)
const layers = (image: ManifestFixture): { digest: string; size: number }[] =>
  JSON.parse(image.manifest).layers
const size = (image: ManifestFixture) => layers(image).reduce((sum, l) => sum + l.size, 0)
const INDEX_SIZE = Math.max(...INDEX.children.map(size))
const layersDigest = (image: ManifestFixture) =>
  `sha256:${sha256Hex(
    layers(image)
      .map((l) => l.digest)
      .join('')
  )}`
const selection = { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 7 }
const POLICY = JSON.stringify({
  rules: [{ rulePriority: 1, selection, action: { type: 'expire' } }]
})
const lifecycle = (lifecyclePolicyText: string) => op('PutLifecyclePolicy', { lifecyclePolicyText })
/** A lifecycle policy of these rules, padded by so many characters. */
const padded = (rules: object[], pad: number) => JSON.stringify({ rules, pad: 'x'.repeat(pad) })
/** Every input field the repository-scoped operations need, on MISSING. */
const ON_MISSING = {
  ...{ repositoryName: MISSING, imageIds: [id(':v1')], imageId: id(':v1'), imageTag: 'v1' },
  ...{ imageManifest: A.manifest, imageManifestMediaType: A.mediaType },
  imageTagMutability: 'MUTABLE'
}
const SCOPED = ['PutImage', 'BatchGetImage', 'ListImages', 'DescribeImages', 'BatchDeleteImage']
SCOPED.push('PutImageTagMutability', 'GetLifecyclePolicy', 'DescribeImageScanFindings')
const ids101 = Array.from({ length: 101 }, () => ':v1')
const SETTING = 'MUTABLE_WITH_EXCLUSION'
const SET = { registryId: ACCOUNT, repositoryName: '<repo>', imageTagMutability: SETTING }

/** PutImage of A as v2, of this media type. */
const typed = (imageManifestMediaType: string) => put('A', 'v2', { imageManifestMediaType })
/** CreateRepository of MUTABLE_WITH_EXCLUSION with this filter. */
const filtered = (filter: object) =>
  createNamed((r) => `${r}/x`, {
    imageTagMutability: SETTING,
    imageTagMutabilityExclusionFilters: [filter]
  })

/** What ECR refuses with InvalidParameterException and moto does not check (deviation #18). */
const UNCHECKED: Record<string, Step> = {
  'PutImage of a tag outside the tag grammar': async (s) => {
    const tags = ['-v1', '.hidden', 'has space', 'ünïcode', 'a:b']
    return [...new Set(await Promise.all(tags.map((tag) => put('A', tag)(s))))].join()
  },
  'PutImage of a tag of 129 characters': put('A', 'x'.repeat(129)),
  'PutImage of a media type the manifest contradicts': typed(MEDIA_TYPES.ociManifest),
  'CreateRepository of a name of 1 character': createNamed(() => 'a'),
  'CreateRepository of a name of 257 characters': createNamed((r) => `${r}/`.padEnd(257, 'x')),
  'BatchGetImage of 101 imageIds': get(ids101),
  'BatchDeleteImage of 101 imageIds': remove(...ids101),
  'DescribeImages of imageIds and maxResults': op('DescribeImages', {
    imageIds: [id(':v1')],
    maxResults: 5
  }),
  'PutImageTagMutability *_WITH_EXCLUSION without filters': mutability(SETTING),
  'PutLifecyclePolicy of a text under 100 characters': lifecycle('{"rules":[]}'),
  'PutLifecyclePolicy of a policy without rules': lifecycle(padded([], 100)),
  'CreateRepository of a filter outside its grammar': filtered(wildcard('a/b')),
  'DescribeRepositories of 101 names': op('DescribeRepositories', {
    repositoryNames: Array(101).fill(MISSING)
  }),
  'PutImage of a media type no tag names': typed(MEDIA_TYPES.ociConfig)
}

/** What ECR refuses with InvalidParameterException, and moto too. */
const REFUSED: Record<string, Step> = {
  'PutLifecyclePolicy of a policy over 30,720 characters': lifecycle(padded([{}], 30_720)),
  'CreateRepository of an unknown setting': createNamed((r) => `${r}/x`, {
    imageTagMutability: 'SOMETIMES'
  }),
  'CreateRepository of a filter that is no WILDCARD': filtered({ filterType: 'REGEX', filter: 'x' })
}

const ROWS: Row[] = [
  // Repositories
  {
    rule: 'CreateRepository: MUTABLE by default; DescribeRepositories: ARN, URI, creation time',
    when: [
      repository((r) => [r.repositoryArn, r.repositoryUri, r.imageTagMutability, r.createdAt])
    ],
    ecr: [
      `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/<repo>`,
      `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/<repo>`,
      'MUTABLE',
      expect.any(Date)
    ]
  },
  {
    rule: 'CreateRepository keeps a *_WITH_EXCLUSION setting and its WILDCARD filters',
    given: { mutability: 'IMMUTABLE_WITH_EXCLUSION', filters: ['prod*'] },
    when: [repository((r) => r.imageTagMutabilityExclusionFilters)],
    ecr: [wildcard('prod*')]
  },
  {
    rule: 'CreateRepository refuses *_WITH_EXCLUSION without filters, filters with another setting',
    when: [
      createNamed((r) => `${r}/a`, { imageTagMutability: 'MUTABLE_WITH_EXCLUSION' }),
      createNamed((r) => `${r}/b`, { imageTagMutabilityExclusionFilters: [wildcard('x*')] })
    ],
    ecr: [INVALID, INVALID]
  },
  {
    rule: 'CreateRepository of a name that exists: RepositoryAlreadyExistsException',
    when: [op('CreateRepository')],
    ecr: 'RepositoryAlreadyExistsException'
  },
  {
    rule: 'CreateRepository checks the name grammar: lower case, one separator at a time',
    when: [
      createNamed((r) => `/${r}`),
      ...['/App', '/', '//x', '--x', '_', '/team.one/app-1_x'].map((end) =>
        createNamed((r) => r + end)
      ),
      createNamed(() => 'ab') // 2 characters
    ],
    ecr: [...Array(6).fill(INVALID), 'ok', 'ok']
  },
  {
    rule: 'DescribeRepositories of an unknown name: RepositoryNotFoundException, in AWS words',
    when: [
      (s) =>
        s.ecr
          .send(new DescribeRepositoriesCommand({ repositoryNames: [MISSING] }))
          .catch((e: Error) => `${e.name}: ${e.message}`)
    ],
    ecr: `${NO_REPO}: The repository with name '${MISSING}' does not exist in the registry with id '${ACCOUNT}'`
  },
  {
    rule: 'every repository-scoped operation on a missing repository: RepositoryNotFoundException',
    when: SCOPED.map((operation) => op(operation, ON_MISSING)),
    ecr: SCOPED.map(() => NO_REPO),
    differs: {
      moto: ['#12 PutImage: a bare HTTP 500', ['HTTP 500', ...SCOPED.slice(1).map(() => NO_REPO)]]
    }
  },
  {
    rule: "STS AssumeRole: another account's registry; Regions apart; each repository's URI its own",
    given: { images: { A: ['v1'] } },
    when: [
      async (s) => {
        const url = await urlOf(s.ecr)
        const [other, west] = [
          client(url, undefined, { credentials: assumed(url) }),
          client(url, undefined, { region: 'eu-west-1' })
        ]
        const uri = (o: Output) => [o.repository.registryId, o.repository.repositoryUri]
        const ends = [
          await op('ListImages')({ ...s, ecr: other }),
          await op('ListImages')({ ...s, ecr: west }),
          await op('CreateRepository', {}, uri)({ ...s, ecr: other }),
          await op('CreateRepository', {}, uri)({ ...s, ecr: west })
        ]
        other.destroy()
        west.destroy()
        return ends
      }
    ],
    ecr: [
      NO_REPO,
      NO_REPO,
      [OTHER, `${OTHER}.dkr.ecr.us-east-1.amazonaws.com/<repo>`],
      [ACCOUNT, `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/<repo>`]
    ]
  },
  {
    rule: 'the layer operations and ListImageReferrers answer (a blob and upload no one has)',
    given: { images: { A: ['v1'] } },
    when: [
      op('BatchCheckLayerAvailability', { layerDigests: [BOGUS] }, (o) =>
        o.failures.map((f: Output) => f.failureCode)
      ),
      op('InitiateLayerUpload', {}, (o) => o.partSize),
      op('UploadLayerPart', {
        ...{ uploadId: UPLOAD, partFirstByte: 0, partLastByte: 0 },
        layerPartBlob: new Uint8Array(1)
      }),
      op('CompleteLayerUpload', { uploadId: UPLOAD, layerDigests: [BOGUS] }),
      op('GetDownloadUrlForLayer', { layerDigest: BOGUS }),
      op('ListImageReferrers', { subjectId: { imageDigest: A.digest } }, (o) => o.referrers)
    ],
    ecr: [
      ['MissingLayerDigest'],
      10 * 1024 * 1024,
      'UploadNotFoundException',
      'UploadNotFoundException',
      'LayersNotFoundException',
      []
    ],
    differs: { moto: ['#22 not implemented', Array(6).fill('HTTP 500')] }
  },
  {
    rule: "registryId: the account's own is the default registry; another has no repository",
    when: [ACCOUNT, '999999999999'].map((registryId) => op('ListImages', { registryId })),
    ecr: ['ok', NO_REPO]
  },
  {
    rule: 'PutImageTagMutability sets the setting and answers it',
    when: [mutability(SETTING, ['release-*']), repository((r) => r.imageTagMutability)],
    ecr: [{ ...SET, imageTagMutabilityExclusionFilters: [wildcard('release-*')] }, SETTING],
    differs: { moto: ['#21 the answer leaves the filters out', [SET, SETTING]] }
  },
  {
    rule: 'PutImageTagMutability governs the next PutImage',
    given: { images: { A: ['v1'] } },
    when: [mutability('IMMUTABLE'), put('B', 'v1'), mutability('MUTABLE'), put('B', 'v1')],
    ecr: [expect.anything(), TAKEN, expect.anything(), 'B'],
    differs: {
      moto: ['#8 ImageAlreadyExistsException', [expect.anything(), EXISTS, expect.anything(), 'B']]
    }
  },
  {
    rule: 'DescribeRepositories pages by maxResults',
    when: [
      createNamed((r) => `${r}/second`),
      op('DescribeRepositories', { maxResults: 1 }, (o) => [o.repositories.length, !!o.nextToken])
    ],
    ecr: ['ok', [1, true]],
    differs: {
      'stand-in': ['reading: one page of every repository', ['ok', [expect.any(Number), false]]],
      moto: ['#15 maxResults ignored', ['ok', [expect.any(Number), false]]]
    }
  },
  ...Object.entries({ ...REFUSED, ...UNCHECKED }).map(([what, step]): Row => ({
    rule: `${what}: InvalidParameterException`,
    given: { images: { A: ['v1'] } },
    when: [step],
    ecr: INVALID,
    ...(what in UNCHECKED && {
      differs: { moto: ['#18 not checked', expect.not.stringMatching(INVALID)] }
    })
  })),

  // PutImage
  {
    rule: 'PutImage digests the exact bytes it gets and answers them back unchanged',
    when: [
      put('A', 'v1', { imageDigest: undefined }),
      put('CAFE', 'v2', { imageDigest: undefined }),
      op('BatchGetImage', { imageIds: [id(':v1'), id(':v2')] }, (o) =>
        o.images.map((i: { imageManifest: string }) => named(digestOf(i.imageManifest)))
      )
    ],
    ecr: ['A', 'CAFE', ['A', 'CAFE']],
    differs: {
      moto: ['#5 sha256 of the layer digests', [layersDigest(A), layersDigest(A), ['A', 'CAFE']]]
    }
  },
  {
    rule: 'PutImage digests an index by its bytes too',
    given: { images: { INDEX0: [], INDEX1: [], INDEX2: [] } },
    when: [
      async (s) => {
        const digest = String(await put('INDEX', 'v1', { imageDigest: undefined })(s))
        const small = Array.from({ length: 101 }, (_, i) => `sha256:${sha256Hex(String(i))}`)
        return small.includes(digest) ? 'the sha256 of a number 0-100' : digest
      }
    ],
    ecr: 'INDEX',
    differs: { moto: ['#5 a random digest', 'the sha256 of a number 0-100'] }
  },
  {
    rule: "PutImage of an imageDigest not the manifest's: ImageDigestDoesNotMatchException",
    when: [put('A', 'v1', { imageDigest: BOGUS }), list()],
    ecr: ['ImageDigestDoesNotMatchException', []],
    differs: { moto: ['#6 stored under that digest', [BOGUS, [`${BOGUS}:v1`]]] }
  },
  {
    rule: "PutImage's media type: imageManifestMediaType, else the manifest's, else refused",
    when: [
      put('HELM', 'chart', { imageManifestMediaType: undefined }),
      put('HELM', 'chart'),
      put('A', 'v1', { imageManifestMediaType: undefined })
    ],
    ecr: [INVALID, 'HELM', 'A']
  },
  {
    rule: 'PutImage of a manifest that is not JSON: InvalidParameterException',
    when: [put('A', 'v1', { imageManifest: '{"schemaVersion": 2,', imageDigest: undefined })],
    ecr: INVALID,
    differs: { moto: ['#12 a bare HTTP 500', 'HTTP 500'] }
  },
  {
    rule: 'PutImage takes a tag of the grammar up to 128 characters',
    when: [put('A', 'v1.2.3_rc-1'), put('A', `_${'x'.repeat(127)}`)],
    ecr: ['A', 'A']
  },
  {
    rule: 'PutImage of a tag already on that digest: ImageAlreadyExistsException',
    given: { images: { A: ['v1'] } },
    when: [put('A', 'v1')],
    ecr: EXISTS
  },
  {
    rule: 'PutImage without a tag of a digest already stored: ImageAlreadyExistsException',
    given: { images: { A: ['v1'] } },
    when: [put('A')],
    ecr: EXISTS,
    differs: { moto: ['#19 stored again', 'A'] }
  },
  {
    rule: 'PutImage moves a mutable tag; the image it leaves stays, untagged',
    given: { images: { A: ['latest', 'v1'] } },
    when: [put('B', 'latest'), put('B', 'v1'), list()],
    ecr: ['B', 'B', ['A', 'B:latest', 'B:v1']],
    differs: { moto: ['#7 the image goes with its last tag', ['B', 'B', ['B:latest', 'B:v1']]] }
  },
  {
    rule: 'PutImage of an index whose children are not stored: ReferencedImagesNotFoundException',
    given: { images: { INDEX0: [] } },
    when: [put('INDEX', 'v1'), put('LIST', 'list')],
    ecr: ['ReferencedImagesNotFoundException', 'ReferencedImagesNotFoundException'],
    differs: { moto: ['#10 stored', ['INDEX', 'LIST']] }
  },
  {
    rule: 'PutImage of a manifest whose blobs were never pushed: LayersNotFoundException',
    when: [put('A', 'v1')],
    ecr: 'LayersNotFoundException',
    differs: {
      'stand-in': ['reading: no blobs, so no blob check', 'A'],
      moto: ['#11 blobs never checked', 'A']
    }
  },
  {
    rule: 'IMMUTABLE: no tag moves; the same tag again and a new tag are as in MUTABLE',
    given: { mutability: 'IMMUTABLE', images: { A: ['v1'] } },
    when: [put('B', 'v1'), put('A', 'v1'), put('B', 'v2')],
    ecr: [TAKEN, EXISTS, 'B'],
    differs: { moto: ['#8 ImageAlreadyExistsException', [EXISTS, EXISTS, 'B']] }
  },
  {
    rule: 'IMMUTABLE_WITH_EXCLUSION: a tag moves if a filter matches it whole (. itself, * any run)',
    given: {
      mutability: 'IMMUTABLE_WITH_EXCLUSION',
      filters: ['latest', 'dev-*', 'v1.*', 'v*-rc'],
      images: { A: EXCLUDED }
    },
    when: EXCLUDED.map((tag) => put('B', tag)),
    ecr: ['B', 'B', 'B', 'B', TAKEN, TAKEN, TAKEN, TAKEN, TAKEN],
    differs: {
      moto: [
        '#9 regex prefix matches, #8',
        ['B', 'B', 'B', EXISTS, 'B', EXISTS, 'B', EXISTS, EXISTS]
      ]
    }
  },
  {
    rule: 'MUTABLE_WITH_EXCLUSION: a tag a filter matches whole stays',
    given: {
      mutability: 'MUTABLE_WITH_EXCLUSION',
      filters: ['prod*', 'v*'],
      images: { A: ['prod', 'production-1', 'preprod', 'latest'] }
    },
    when: ['prod', 'production-1', 'preprod', 'latest'].map((tag) => put('B', tag)),
    ecr: [TAKEN, TAKEN, 'B', 'B'],
    differs: { moto: ["#9 'v*' matches every tag, #8", [EXISTS, EXISTS, EXISTS, EXISTS]] }
  },

  // BatchGetImage
  {
    rule: 'BatchGetImage echoes the requested tag, and no tag for a request by digest',
    given: { images: { A: ['v1', 'stable'] } },
    when: [get([':v1', 'A'])],
    ecr: ['A:v1', 'A'],
    differs: {
      'moto raw': ["#1 the image's last tag (the proxy echoes)", ['A:stable', 'A:stable']]
    }
  },
  {
    rule: 'BatchGetImage failures echo the requested id',
    when: [get([':gone', 'B'])],
    ecr: ['ImageNotFound :gone', 'ImageNotFound B'],
    differs: {
      moto: [
        "#3 a digest's failure says imageTag 'null'",
        ['ImageNotFound :gone', 'ImageNotFound :null']
      ]
    }
  },
  {
    rule: 'BatchGetImage of a tag with the digest of another image: ImageTagDoesNotMatchDigest',
    given: { images: { A: ['a'], B: ['b'] } },
    when: [get(['B:a'])],
    ecr: ['ImageTagDoesNotMatchDigest B:a'],
    differs: {
      moto: ['#2 the proxy refuses what moto answers wrongly', 'MotoProxyUnsupported'],
      'moto raw': ['#2 one of the two matching is enough', ['A:a', 'B:b']]
    }
  },
  {
    rule: 'BatchGetImage with acceptedMediaTypes without the stored type: UnsupportedImageType',
    given: { images: { A: ['v1'] } },
    when: [get(SOME, [MEDIA_TYPES.ociManifest])],
    ecr: ['UnsupportedImageType :v1'],
    differs: { moto: ['#4 acceptedMediaTypes ignored', ['A:v1']] }
  },
  {
    rule: 'BatchGetImage without acceptedMediaTypes takes single-image manifests only (reading)',
    given: { images: { INDEX: ['multi'] } },
    when: [get([':multi', 'INDEX0'])],
    ecr: ['INDEX0', 'UnsupportedImageType :multi'],
    differs: { moto: ['#4 acceptedMediaTypes ignored', ['INDEX:multi', 'INDEX0']] }
  },
  {
    rule: 'BatchGetImage accepting the four manifest types answers an index byte for byte',
    given: { images: { INDEX: ['multi'] } },
    when: [
      op(
        'BatchGetImage',
        { imageIds: [id(':multi')], acceptedMediaTypes: [...MANIFEST_MEDIA_TYPES] },
        (o) => [o.images[0].imageManifestMediaType, o.images[0].imageManifest === INDEX.manifest]
      )
    ],
    ecr: [MEDIA_TYPES.ociIndex, true]
  },

  // ListImages, DescribeImages
  {
    rule: 'ListImages: one entry per tag, an untagged image once; filter.tagStatus',
    given: { images: { A: ['v1', 'alpha'], B: [] } },
    when: [list(), list({ tagStatus: 'TAGGED' }), list({ tagStatus: 'UNTAGGED' })],
    ecr: [['A:alpha', 'A:v1', 'B'], ['A:alpha', 'A:v1'], ['B']],
    differs: { moto: ['#13 tagStatus ignored', Array(3).fill(['A:alpha', 'A:v1', 'B'])] }
  },
  {
    rule: 'ListImages pages by maxResults, with a nextToken until the last page',
    given: { images: { A: ['a', 'b', 'c'] } },
    when: [pages('ListImages')],
    ecr: [2, 1],
    differs: { moto: ['#13 one page', [3]] }
  },
  {
    rule: 'ListImages refuses maxResults outside 1-1000 and a nextToken it did not issue: garbage, one changed or lengthened, or of another filter, operation or repository',
    given: { images: { A: ['v1', 'v2'] } },
    when: [
      createNamed((r) => `${r}/other`),
      async (s) => {
        const nextToken = String(await op('ListImages', { maxResults: 1 }, (o) => o.nextToken)(s))
        const forged = ['garbage', `x${nextToken.slice(1)}`, `${nextToken}x`]
        const refused: object[] = [{ maxResults: 0 }, { maxResults: 1001 }]
        refused.push(...forged.map((token) => ({ nextToken: token })))
        refused.push({ nextToken, filter: { tagStatus: 'TAGGED' } })
        refused.push({ nextToken, repositoryName: `${s.repo}/other` })
        return Promise.all([
          ...refused.map((more) => op('ListImages', more)(s)),
          op('DescribeImages', { nextToken })(s)
        ])
      }
    ],
    ecr: ['ok', Array(8).fill(INVALID)],
    differs: { moto: ['#13 maxResults and nextToken ignored', ['ok', Array(8).fill('ok')]] }
  },
  {
    rule: 'DescribeImages pages and filters by tagStatus as ListImages does',
    given: { images: { A: ['a'], B: [], INDEX: ['multi'] } },
    when: [pages('DescribeImages'), details([], { tagStatus: 'TAGGED' })],
    ecr: [
      [2, 2, 2],
      [`A [a] ${size(A)}`, `INDEX [multi] ${INDEX_SIZE}`]
    ],
    differs: {
      moto: [
        '#14 paging and tagStatus ignored',
        [[6], expect.arrayContaining([expect.stringMatching(/^B \[\]/)])]
      ]
    }
  },
  {
    rule: 'DescribeImages: tags, push time, size (the sum of layers; an index: its largest child)',
    given: { images: { A: ['v1', 'stable'], INDEX: ['multi'] } },
    when: [
      details([':v1', ':multi']),
      op('DescribeImages', { imageIds: SOME.map(id) }, (o) => {
        const { registryId, repositoryName, imageManifestMediaType } = o.imageDetails[0]
        return [registryId, repositoryName, imageManifestMediaType]
      })
    ],
    ecr: [
      [`A [stable,v1] ${size(A)}`, `INDEX [multi] ${INDEX_SIZE}`],
      [ACCOUNT, '<repo>', A.mediaType]
    ],
    differs: {
      moto: [
        '#14 size: the config size, none for an index',
        [
          [`A [stable,v1] ${JSON.parse(A.manifest).config.size}`, 'INDEX [multi] undefined'],
          [ACCOUNT, '<repo>', A.mediaType]
        ]
      ]
    }
  },
  {
    rule: "DescribeImages answers artifactMediaType: the config's media type",
    given: { images: { A: ['v1'] } },
    when: [
      op('DescribeImages', { imageIds: SOME.map(id) }, (o) => o.imageDetails[0].artifactMediaType)
    ],
    ecr: MEDIA_TYPES.dockerConfig,
    differs: {
      'stand-in': ['reading: not modelled', undefined],
      moto: ['#14 never answered', undefined]
    }
  },
  {
    rule: 'DescribeImages of an unknown id: ImageNotFoundException',
    given: { images: { A: ['v1'] } },
    when: [details([':v1', ':gone'])],
    ecr: 'ImageNotFoundException'
  },

  // BatchDeleteImage
  {
    rule: 'BatchDeleteImage by tag removes that tag; the image goes with its last one',
    given: { images: { A: ['v1', 'stable'] } },
    when: [remove(':v1'), list(), remove(':stable'), list()],
    ecr: [['A:v1'], ['A:stable'], ['A:stable'], []]
  },
  {
    rule: 'BatchDeleteImage by digest deletes the image and its tags, one id per tag',
    given: { images: { A: ['v1', 'stable'], B: ['b'] } },
    when: [remove('A'), list()],
    ecr: [['A:stable', 'A:v1'], ['B:b']]
  },
  {
    rule: 'BatchDeleteImage of a missing image: ImageNotFound, with the id as requested',
    when: [remove(':gone')],
    ecr: ['ImageNotFound :gone']
  },
  {
    rule: 'BatchDeleteImage of a tag with the digest of another image: ImageTagDoesNotMatchDigest',
    given: { images: { A: ['a'], B: ['b'] } },
    when: [remove('B:a')],
    ecr: ['ImageTagDoesNotMatchDigest B:a'],
    differs: { moto: ['#20 ImageNotFound', ['ImageNotFound B:a']] }
  },
  {
    rule: 'BatchDeleteImage of an image an index references: ImageReferencedByManifestList',
    given: { images: { INDEX: ['multi'] } },
    when: [remove('INDEX0'), list(), remove('INDEX'), remove('INDEX0')],
    ecr: [
      ['ImageReferencedByManifestList INDEX0'],
      ['INDEX0', 'INDEX1', 'INDEX2', 'INDEX:multi'],
      ['INDEX:multi'],
      ['INDEX0'] // nothing references it any more
    ],
    differs: {
      moto: [
        '#16 deleted',
        [[], ['INDEX1', 'INDEX2', 'INDEX:multi'], ['INDEX:multi'], ['ImageNotFound INDEX0']]
      ]
    }
  },
  {
    rule: 'BatchDeleteImage of an untagged image by digest answers its digest',
    given: { images: { A: [] } },
    when: [remove('A'), list()],
    ecr: [['A'], []],
    differs: { moto: ['#17 answers no ids', [[], []]] }
  },

  // Lifecycle policies
  {
    rule: 'GetLifecyclePolicy: LifecyclePolicyNotFoundException until PutLifecyclePolicy stores one',
    when: [
      op('GetLifecyclePolicy'),
      lifecycle(POLICY),
      op('GetLifecyclePolicy', {}, (o) => o.lifecyclePolicyText === POLICY)
    ],
    ecr: ['LifecyclePolicyNotFoundException', 'ok', true]
  },
  {
    rule: 'PutLifecyclePolicy of a text that is not JSON: InvalidParameterException',
    when: [lifecycle(`{${' '.repeat(120)}`)],
    ecr: INVALID
  }
]

const { MOTO_ENDPOINT, MOTO_RAW_ENDPOINT } = process.env
let standIn: Awaited<ReturnType<typeof startStandIn>>
const URLS: Partial<Record<Endpoint, () => string>> = {
  'stand-in': () => standIn.url,
  ...(MOTO_ENDPOINT && { moto: () => MOTO_ENDPOINT }),
  ...(MOTO_RAW_ENDPOINT && { 'moto raw': () => MOTO_RAW_ENDPOINT })
}

beforeAll(async () => {
  standIn = await startStandIn()
})
afterAll(() => standIn.close())

describe.each(Object.keys(URLS) as Endpoint[])('%s', (endpoint) => {
  let ecr: ECRClient
  beforeAll(() => {
    ecr = client((URLS[endpoint] as () => string)())
  })
  afterAll(() => ecr.destroy())

  const rows = ROWS.filter((row) => endpoint !== 'moto raw' || row.differs?.['moto raw'])
  const titled = rows.map((row) => {
    const why = row.differs?.[endpoint]?.[0]
    return [why ? `${row.rule} (${why})` : row.rule, row] as const
  })
  it.each(titled)('%s', async (_, row) => {
    const repo = `contract/${endpoint.replace(' ', '-')}/${ROWS.indexOf(row)}`
    const differs = row.differs?.[endpoint]
    expect(await play(ecr, repo, row)).toEqual(differs ? differs[1] : row.ecr)
  })
})

describe('the moto proxy', () => {
  const image = (text: string) => ({ imageId: id(text) })
  // What it answers when moto's answer fits: the BatchGetImage rows above, on moto.
  it.each([
    ['an image where it failed', ['A'], { images: [image('B:x')] }, /no failure returned/],
    ['more images than ids', [':x'], { images: [image('A:x'), image('B:y')] }, /matched 1 and 0/]
  ])('refuses to guess when moto answers %s', (_, ids, answered, message) => {
    expect(() => rewriteBatchGetImage(ids.map(id), answered)).toThrow(message)
  })
})

it.each([
  ['buildx: a compact OCI index (amd64, arm64, attestation)', 'INDEX', 0, 'amd64 arm64 unknown'],
  ['docker: a manifest list of 3-space JSON', 'LIST', 3, 'amd64 arm64'],
  ['docker: an image manifest of 3-space JSON', 'A', 3, ''],
  ['helm: a compact OCI manifest without mediaType', 'HELM', 0, '']
])('the fixture is what the tool pushes: %s', (_, name, indent, platforms) => {
  const image = fixture(name)
  const parsed = JSON.parse(image.manifest)
  expect(image.manifest).toBe(JSON.stringify(parsed, null, indent || undefined))
  expect(parsed.mediaType).toBe(name === 'HELM' ? undefined : image.mediaType)
  const listed: { digest: string; platform: { architecture: string } }[] = parsed.manifests ?? []
  expect(image.children.map((c) => c.digest)).toEqual(listed.map((m) => m.digest))
  expect(listed.map((m) => m.platform.architecture).join(' ')).toBe(platforms)
  expect(multiArchImage('contract').manifest).toBe(INDEX.manifest) // a seed gives the same bytes
})
