// Proves that every moto deviation documented in ./support/moto.mjs still
// exists (so we notice when moto fixes one and can drop the workaround), and
// that the proxy in front of moto fixes the BatchGetImage imageTag echo.
//
// The fixture and proxy-mapping tests at the top always run; the moto suites
// are only registered when global setup started moto (MOTO_ENDPOINT set).

import { randomBytes } from 'node:crypto'
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ListImagesCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand
} from '@aws-sdk/client-ecr'
import type { ImageTagMutability } from '@aws-sdk/client-ecr'
import {
  digestOf,
  dockerManifestList,
  dockerV2Image,
  helmChart,
  multiArchImage,
  seedImage,
  tagsByDigest
} from './support/images.mjs'
import { motoClientConfig, rewriteBatchGetImage } from './support/moto.mjs'
import { sha256Hex as sha256 } from './support/oci.mjs'

describe('fixtures (no endpoint needed)', () => {
  const all = {
    multiArchImage: multiArchImage('fx'),
    dockerV2Image: dockerV2Image('fx'),
    dockerManifestList: dockerManifestList('fx'),
    helmChart: helmChart('fx')
  }

  it.each(Object.entries(all))(
    '%s: every digest is the sha256 of the exact manifest bytes',
    (_, image) => {
      for (const m of [image, ...image.children]) {
        expect(m.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
        expect(m.digest).toBe('sha256:' + sha256(m.manifest))
        expect(digestOf(m.manifest)).toBe(m.digest)
      }
    }
  )

  it('is deterministic per seed and different across seeds', () => {
    expect(multiArchImage(7).manifest).toBe(multiArchImage(7).manifest)
    expect(multiArchImage(7).digest).not.toBe(multiArchImage(8).digest)
    expect(multiArchImage(7).children[0]?.digest).not.toBe(multiArchImage(8).children[0]?.digest)
    expect(dockerV2Image('a').digest).not.toBe(dockerV2Image('b').digest)
    expect(dockerManifestList('a').digest).not.toBe(dockerManifestList('b').digest)
    expect(helmChart('a').digest).not.toBe(helmChart('b').digest)
  })

  it('multi-arch image is a compact buildx-style OCI index whose entries match its children', () => {
    const image = all.multiArchImage
    expect(image.mediaType).toBe('application/vnd.oci.image.index.v1+json')
    expect(image.manifest).toBe(JSON.stringify(JSON.parse(image.manifest)))
    const index = JSON.parse(image.manifest)
    expect(index.schemaVersion).toBe(2)
    expect(index.mediaType).toBe(image.mediaType)
    expect(index.manifests).toHaveLength(image.children.length)
    image.children.forEach((child, i) => {
      expect(index.manifests[i].digest).toBe(child.digest)
      expect(index.manifests[i].size).toBe(Buffer.byteLength(child.manifest, 'utf8'))
      expect(index.manifests[i].mediaType).toBe(child.mediaType)
      expect(JSON.parse(child.manifest).mediaType).toBe(
        'application/vnd.oci.image.manifest.v1+json'
      )
    })
    expect(index.manifests.map((m: { platform: unknown }) => m.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux' },
      { architecture: 'unknown', os: 'unknown' }
    ])
    expect(index.manifests[2].annotations).toEqual({
      'vnd.docker.reference.digest': image.children[0]?.digest,
      'vnd.docker.reference.type': 'attestation-manifest'
    })
  })

  it('Docker manifests use the 3-space indentation docker push stores', () => {
    const single = all.dockerV2Image
    expect(single.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json')
    expect(single.children).toEqual([])
    expect(single.manifest).toBe(JSON.stringify(JSON.parse(single.manifest), null, 3))
    expect(single.manifest.split('\n')[1]).toBe('   "schemaVersion": 2,')

    const list = all.dockerManifestList
    expect(list.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json')
    expect(list.children).toHaveLength(2)
    expect(list.manifest).toBe(JSON.stringify(JSON.parse(list.manifest), null, 3))
    for (const child of list.children) {
      expect(child.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json')
      expect(child.manifest).toBe(JSON.stringify(JSON.parse(child.manifest), null, 3))
    }
  })

  it('the Helm chart has no top-level mediaType; its type is given separately', () => {
    const chart = all.helmChart
    const parsed = JSON.parse(chart.manifest)
    expect(parsed).not.toHaveProperty('mediaType')
    expect(chart.mediaType).toBe('application/vnd.oci.image.manifest.v1+json')
    expect(parsed.config.mediaType).toBe('application/vnd.cncf.helm.config.v1+json')
    expect(parsed.layers).toHaveLength(1)
    expect(parsed.layers[0].mediaType).toBe('application/vnd.cncf.helm.chart.content.v1.tar+gzip')
    expect(chart.children).toEqual([])
  })
})

describe('proxy BatchGetImage mapping (no endpoint needed)', () => {
  const d = (c: string): string => 'sha256:' + c.repeat(64)
  const image = (digest: string, tag?: string) => ({
    imageId: tag === undefined ? { imageDigest: digest } : { imageDigest: digest, imageTag: tag },
    imageManifest: '{}'
  })
  const notFound = (tag: string) => ({
    imageId: { imageTag: tag },
    failureCode: 'ImageNotFound',
    failureReason: 'Requested image not found'
  })

  it('puts the requested tag on each found image, drops it for digest requests, keeps failures', () => {
    const body = {
      images: [image(d('a'), 'latest'), image(d('b'), 'other'), image(d('a'), 'latest')],
      failures: [notFound('gone'), notFound('null')]
    }
    const out = rewriteBatchGetImage(
      [
        { imageTag: 'v1' },
        { imageTag: 'gone' },
        { imageDigest: d('b') },
        { imageDigest: d('c') },
        { imageTag: 'v1.0' }
      ],
      body
    )
    expect(out.images?.map((i) => i.imageId)).toEqual([
      { imageDigest: d('a'), imageTag: 'v1' },
      { imageDigest: d('b') },
      { imageDigest: d('a'), imageTag: 'v1.0' }
    ])
    expect(out.failures).toBe(body.failures)
  })

  it('refuses to guess when the response does not line up with the request', () => {
    expect(() =>
      rewriteBatchGetImage([{ imageDigest: d('a') }], {
        images: [image(d('b'), 'x')],
        failures: []
      })
    ).toThrow(/no failure returned/)
    expect(() =>
      rewriteBatchGetImage([{ imageTag: 'x' }], {
        images: [image(d('a'), 'x'), image(d('b'), 'y')],
        failures: []
      })
    ).toThrow(/matched 1 and 0/)
  })
})

const MOTO_ENDPOINT = process.env.MOTO_ENDPOINT
const MOTO_RAW_ENDPOINT = process.env.MOTO_RAW_ENDPOINT

if (MOTO_ENDPOINT && MOTO_RAW_ENDPOINT) {
  const raw = new ECRClient(motoClientConfig(MOTO_RAW_ENDPOINT))
  const proxy = new ECRClient(motoClientConfig(MOTO_ENDPOINT))
  // moto answers some errors with a bare HTTP 500, which the SDK would retry.
  const rawNoRetry = new ECRClient({ ...motoClientConfig(MOTO_RAW_ENDPOINT), maxAttempts: 1 })

  afterAll(() => {
    raw.destroy()
    proxy.destroy()
    rawNoRetry.destroy()
  })

  const uniqueName = (label: string): string =>
    `moto-dev/${label}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`

  const newRepo = async (label: string, imageTagMutability?: ImageTagMutability) => {
    const repositoryName = uniqueName(label)
    await raw.send(new CreateRepositoryCommand({ repositoryName, imageTagMutability }))
    return repositoryName
  }

  const digestsIn = async (repositoryName: string): Promise<string[]> => {
    const { imageIds = [] } = await raw.send(new ListImagesCommand({ repositoryName }))
    return [...new Set(imageIds.map((id) => id.imageDigest))].filter((x): x is string => !!x)
  }

  describe('moto deviations (raw moto endpoint)', () => {
    it('#1 BatchGetImage returns the image’s latest tag, not the requested one', async () => {
      const repositoryName = await newRepo('echo')
      const image = dockerV2Image('echo')
      await seedImage(raw, repositoryName, image, ['v1', 'latest'])

      const byTag = await raw.send(
        new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }] })
      )
      expect(byTag.images?.[0]?.imageId).toEqual({ imageDigest: image.digest, imageTag: 'latest' })

      const byDigest = await raw.send(
        new BatchGetImageCommand({ repositoryName, imageIds: [{ imageDigest: image.digest }] })
      )
      expect(byDigest.images?.[0]?.imageId).toEqual({
        imageDigest: image.digest,
        imageTag: 'latest'
      })
    })

    it('#2 BatchGetImage matches an imageId with tag AND digest if either matches', async () => {
      const repositoryName = await newRepo('tag-and-digest')
      const a = dockerV2Image('tag-and-digest-a')
      const b = dockerV2Image('tag-and-digest-b')
      await seedImage(raw, repositoryName, a, ['a'])
      await seedImage(raw, repositoryName, b, ['b'])

      const out = await raw.send(
        new BatchGetImageCommand({
          repositoryName,
          imageIds: [{ imageTag: 'a', imageDigest: b.digest }]
        })
      )
      // real ECR: no image, failure ImageTagDoesNotMatchDigest
      expect(out.failures).toEqual([])
      expect(out.images?.map((i) => i.imageId?.imageDigest).sort()).toEqual(
        [a.digest, b.digest].sort()
      )
    })

    it('#3 BatchGetImage reports a missing digest as imageTag "null", without the digest', async () => {
      const repositoryName = await newRepo('failure-id')
      const missing = dockerV2Image('failure-id-missing').digest
      const out = await raw.send(
        new BatchGetImageCommand({ repositoryName, imageIds: [{ imageDigest: missing }] })
      )
      expect(out.images).toEqual([])
      expect(out.failures).toEqual([
        {
          imageId: { imageTag: 'null' },
          failureCode: 'ImageNotFound',
          failureReason: 'Requested image not found'
        }
      ])
    })

    it('#4 BatchGetImage ignores acceptedMediaTypes', async () => {
      const repositoryName = await newRepo('accepted-types')
      const image = multiArchImage('accepted-types')
      await seedImage(raw, repositoryName, image, ['multi'])

      const out = await raw.send(
        new BatchGetImageCommand({
          repositoryName,
          imageIds: [{ imageTag: 'multi' }],
          acceptedMediaTypes: ['application/vnd.docker.distribution.manifest.v1+json']
        })
      )
      expect(out.failures).toEqual([])
      expect(out.images?.[0]?.imageManifest).toBe(image.manifest)
      expect(out.images?.[0]?.imageManifestMediaType).toBe(image.mediaType)
    })

    it('#5 PutImage without imageDigest stores a digest that is not the content hash', async () => {
      const repositoryName = await newRepo('fake-digest')
      const single = dockerV2Image('fake-digest')
      const index = multiArchImage('fake-digest')

      const put1 = await raw.send(
        new PutImageCommand({ repositoryName, imageManifest: single.manifest, imageTag: 'single' })
      )
      const layerDigests = JSON.parse(single.manifest).layers.map(
        (l: { digest: string }) => l.digest
      )
      expect(put1.image?.imageId?.imageDigest).not.toBe(single.digest)
      expect(put1.image?.imageId?.imageDigest).toBe('sha256:' + sha256(layerDigests.join('')))

      const put2 = await raw.send(
        new PutImageCommand({ repositoryName, imageManifest: index.manifest, imageTag: 'index' })
      )
      const randomDigests = Array.from({ length: 101 }, (_, i) => 'sha256:' + sha256(String(i)))
      expect(put2.image?.imageId?.imageDigest).not.toBe(index.digest)
      expect(randomDigests).toContain(put2.image?.imageId?.imageDigest)

      // ...whereas seedImage (which passes imageDigest) stores the true digest
      const seeded = dockerV2Image('fake-digest-seeded')
      await seedImage(raw, repositoryName, seeded, ['seeded'])
      expect((await tagsByDigest(raw, repositoryName)).seeded).toBe(seeded.digest)
    })

    it('#6 PutImage stores a passed imageDigest verbatim without verifying it', async () => {
      const repositoryName = await newRepo('unverified-digest')
      const image = dockerV2Image('unverified-digest')
      const bogus = 'sha256:' + 'ab'.repeat(32)
      const put = await raw.send(
        new PutImageCommand({
          repositoryName,
          imageManifest: image.manifest,
          imageManifestMediaType: image.mediaType,
          imageDigest: bogus,
          imageTag: 'bogus'
        })
      )
      expect(put.image?.imageId?.imageDigest).toBe(bogus)
      expect(await tagsByDigest(raw, repositoryName)).toEqual({ bogus })
    })

    it('#7 PutImage deletes an image when it loses its last tag (real ECR keeps it untagged)', async () => {
      const repositoryName = await newRepo('retag-deletes')
      const oldImage = dockerV2Image('retag-old')
      const newImage = dockerV2Image('retag-new')
      await seedImage(raw, repositoryName, oldImage, ['prod'])
      await seedImage(raw, repositoryName, newImage, ['prod'])

      expect(await tagsByDigest(raw, repositoryName)).toEqual({ prod: newImage.digest })
      expect(await digestsIn(repositoryName)).toEqual([newImage.digest])
      await expect(
        raw.send(
          new DescribeImagesCommand({
            repositoryName,
            imageIds: [{ imageDigest: oldImage.digest }]
          })
        )
      ).rejects.toMatchObject({ name: 'ImageNotFoundException' })
    })

    it('#8 immutable tags raise ImageAlreadyExistsException, not ImageTagAlreadyExistsException', async () => {
      const repositoryName = await newRepo('immutable', 'IMMUTABLE')
      await seedImage(raw, repositoryName, dockerV2Image('immutable-a'), ['v1'])
      const b = dockerV2Image('immutable-b')
      await expect(seedImage(raw, repositoryName, b, ['v1'])).rejects.toMatchObject({
        name: 'ImageAlreadyExistsException'
      })
    })

    it('#9 tag-mutability exclusion filters are regex prefix matches, not wildcards', async () => {
      // MUTABLE_WITH_EXCLUSION + 'v*': only tags like v1.2.3 should be immutable,
      // but the regex 'v*' matches the empty prefix of every tag.
      const mutableRepo = uniqueName('excl-mutable')
      await raw.send(
        new CreateRepositoryCommand({
          repositoryName: mutableRepo,
          imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'v*' }]
        })
      )
      await seedImage(raw, mutableRepo, dockerV2Image('excl-a'), ['latest'])
      await expect(
        seedImage(raw, mutableRepo, dockerV2Image('excl-b'), ['latest'])
      ).rejects.toMatchObject({ name: 'ImageAlreadyExistsException' })

      // IMMUTABLE_WITH_EXCLUSION + 'dev-*' (set with PutImageTagMutability): only
      // dev-... tags should be mutable, but 'devel' matches the regex prefix 'dev'.
      const immutableRepo = await newRepo('excl-immutable')
      const set = await raw.send(
        new PutImageTagMutabilityCommand({
          repositoryName: immutableRepo,
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'dev-*' }]
        })
      )
      expect(set.imageTagMutability).toBe('IMMUTABLE_WITH_EXCLUSION')
      await seedImage(raw, immutableRepo, dockerV2Image('excl-c'), ['devel'])
      const d = dockerV2Image('excl-d')
      await seedImage(raw, immutableRepo, d, ['devel'])
      expect(await tagsByDigest(raw, immutableRepo)).toEqual({ devel: d.digest })
    })

    it('#10/#11 PutImage needs neither the index children nor the layer blobs', async () => {
      const repositoryName = await newRepo('no-children')
      const index = multiArchImage('no-children')
      await raw.send(
        new PutImageCommand({
          repositoryName,
          imageManifest: index.manifest,
          imageManifestMediaType: index.mediaType,
          imageDigest: index.digest,
          imageTag: 'orphan-index'
        })
      )
      expect(await digestsIn(repositoryName)).toEqual([index.digest])
      const children = await raw.send(
        new BatchGetImageCommand({
          repositoryName,
          imageIds: index.children.map((c) => ({ imageDigest: c.digest }))
        })
      )
      expect(children.images).toEqual([])
      expect(children.failures).toHaveLength(index.children.length)
      // and no blob referenced by any fixture was ever uploaded anywhere:
      const single = dockerV2Image('no-layers')
      await seedImage(raw, repositoryName, single, ['no-layers'])
      expect((await tagsByDigest(raw, repositoryName))['no-layers']).toBe(single.digest)
    })

    it('#12 PutImage into a missing repository fails with a bare HTTP 500', async () => {
      const image = dockerV2Image('missing-repo')
      const err = await rawNoRetry
        .send(
          new PutImageCommand({
            repositoryName: uniqueName('never-created'),
            imageManifest: image.manifest,
            imageManifestMediaType: image.mediaType,
            imageDigest: image.digest,
            imageTag: 'x'
          })
        )
        .then(
          () => undefined,
          (e: unknown) => e as { name?: string; $metadata?: { httpStatusCode?: number } }
        )
      expect(err).toBeDefined()
      expect(err?.$metadata?.httpStatusCode).toBe(500)
      expect(err?.name).not.toBe('RepositoryNotFoundException')
    })

    it('#13 ListImages ignores maxResults, nextToken and tagStatus', async () => {
      const repositoryName = await newRepo('list-images')
      const image = multiArchImage('list-images') // 3 untagged children + the index
      await seedImage(raw, repositoryName, image, ['a', 'b', 'c'])

      const page = await raw.send(
        new ListImagesCommand({ repositoryName, maxResults: 1, filter: { tagStatus: 'TAGGED' } })
      )
      expect(page.nextToken).toBeUndefined()
      expect(page.imageIds).toHaveLength(6)
      expect(page.imageIds?.filter((id) => id.imageTag === undefined)).toHaveLength(3)
      expect(await tagsByDigest(raw, repositoryName)).toEqual({
        a: image.digest,
        b: image.digest,
        c: image.digest
      })
    })

    it('#14 DescribeImages ignores paging and tagStatus; config size; no artifactMediaType', async () => {
      const repositoryName = await newRepo('describe-images')
      const chart = helmChart('describe-images')
      await seedImage(raw, repositoryName, chart, ['0.1.0'])
      await seedImage(raw, repositoryName, dockerV2Image('describe-images-a'), ['a'])
      await seedImage(raw, repositoryName, multiArchImage('describe-images-b'), ['b'])

      const out = await raw.send(
        new DescribeImagesCommand({
          repositoryName,
          maxResults: 1,
          filter: { tagStatus: 'TAGGED' }
        })
      )
      expect(out.nextToken).toBeUndefined()
      expect(out.imageDetails).toHaveLength(2 + 1 + 3)
      expect(out.imageDetails?.filter((d) => !d.imageTags)).toHaveLength(3)
      const detail = out.imageDetails?.find((d) => d.imageDigest === chart.digest)
      expect(detail?.imageManifestMediaType).toBe(chart.mediaType)
      expect(detail?.imageSizeInBytes).toBe(JSON.parse(chart.manifest).config.size)
      expect(detail?.artifactMediaType).toBeUndefined()
    })

    it('#15 DescribeRepositories ignores maxResults', async () => {
      await newRepo('describe-repos-1')
      await newRepo('describe-repos-2')
      const out = await raw.send(new DescribeRepositoriesCommand({ maxResults: 1 }))
      expect(out.nextToken).toBeUndefined()
      expect(out.repositories?.length).toBeGreaterThanOrEqual(2)
    })

    it('#16 BatchDeleteImage deletes a manifest an index still references', async () => {
      const repositoryName = await newRepo('referenced-child')
      const image = multiArchImage('referenced-child')
      await seedImage(raw, repositoryName, image, ['multi'])
      const child = image.children[0]?.digest ?? ''
      const out = await raw.send(
        new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest: child }] })
      )
      expect(out.failures).toEqual([])
      expect(await digestsIn(repositoryName)).not.toContain(child)
      expect(await digestsIn(repositoryName)).toContain(image.digest)
      // #17: the child was untagged, so moto reports nothing as deleted
      expect(out.imageIds).toEqual([])
    })

    it('#17 BatchDeleteImage by digest of an untagged image deletes it but returns no imageIds', async () => {
      const repositoryName = await newRepo('delete-untagged')
      const image = dockerV2Image('delete-untagged')
      await seedImage(raw, repositoryName, image, [])
      expect(await digestsIn(repositoryName)).toEqual([image.digest])
      const out = await raw.send(
        new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest: image.digest }] })
      )
      // real ECR: imageIds [{ imageDigest }]
      expect(out.imageIds).toEqual([])
      expect(out.failures).toEqual([])
      expect(await digestsIn(repositoryName)).toEqual([])
    })
  })

  describe('moto behaviour that matches real ECR', () => {
    it('BatchDeleteImage of an image’s last tag deletes the image', async () => {
      const repositoryName = await newRepo('delete-last-tag')
      const image = dockerV2Image('delete-last-tag')
      await seedImage(raw, repositoryName, image, ['only'])
      await raw.send(
        new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: 'only' }] })
      )
      expect(await digestsIn(repositoryName)).toEqual([])
    })

    it('PutImage of the same manifest under a tag it already has raises ImageAlreadyExistsException', async () => {
      const repositoryName = await newRepo('same-tag-again')
      const image = dockerV2Image('same-tag-again')
      await seedImage(raw, repositoryName, image, ['t'])
      await expect(seedImage(raw, repositoryName, image, ['t'])).rejects.toMatchObject({
        name: 'ImageAlreadyExistsException'
      })
    })

    it('PutImage of a manifest without mediaType needs imageManifestMediaType', async () => {
      const repositoryName = await newRepo('helm-no-type')
      const chart = helmChart('helm-no-type')
      await expect(
        raw.send(
          new PutImageCommand({ repositoryName, imageManifest: chart.manifest, imageTag: 'x' })
        )
      ).rejects.toMatchObject({ name: 'InvalidParameterException' })
      await seedImage(raw, repositoryName, chart, ['x'])
      expect(await tagsByDigest(raw, repositoryName)).toEqual({ x: chart.digest })
    })

    it('CreateRepository enforces the name pattern; DescribeRepositories rejects unknown names', async () => {
      await expect(
        raw.send(new CreateRepositoryCommand({ repositoryName: 'Not_Valid//Name' }))
      ).rejects.toMatchObject({ name: 'InvalidParameterException' })
      await expect(
        raw.send(new DescribeRepositoriesCommand({ repositoryNames: [uniqueName('missing')] }))
      ).rejects.toMatchObject({ name: 'RepositoryNotFoundException' })
    })
  })

  describe('proxy (MOTO_ENDPOINT) fixes the BatchGetImage imageTag echo', () => {
    it('echoes the requested tag, drops the tag for digest requests, leaves failures alone', async () => {
      const repositoryName = await newRepo('proxy-echo')
      const image = multiArchImage('proxy-echo')
      const other = dockerV2Image('proxy-echo-other')
      await seedImage(proxy, repositoryName, image, ['v1.2.3', 'v1.2', 'latest'])
      await seedImage(proxy, repositoryName, other, ['other'])
      const missing = dockerV2Image('proxy-echo-missing').digest

      const out = await proxy.send(
        new BatchGetImageCommand({
          repositoryName,
          imageIds: [
            { imageTag: 'v1.2.3' },
            { imageTag: 'nope' },
            { imageDigest: image.digest },
            { imageTag: 'v1.2' },
            { imageDigest: missing },
            { imageTag: 'other' },
            { imageDigest: image.children[1]?.digest ?? '' }
          ]
        })
      )
      expect(out.images?.map((i) => i.imageId)).toEqual([
        { imageDigest: image.digest, imageTag: 'v1.2.3' },
        { imageDigest: image.digest },
        { imageDigest: image.digest, imageTag: 'v1.2' },
        { imageDigest: other.digest, imageTag: 'other' },
        { imageDigest: image.children[1]?.digest }
      ])
      expect(out.images?.[0]?.imageManifest).toBe(image.manifest)
      expect(out.images?.[0]?.imageManifestMediaType).toBe(image.mediaType)
      expect(out.images?.[3]?.imageManifest).toBe(other.manifest)
      expect(out.images?.every((i) => i.repositoryName === repositoryName)).toBe(true)
      // failures are passed through exactly as moto produced them (deviation #3)
      expect(out.failures).toEqual([
        {
          imageId: { imageTag: 'nope' },
          failureCode: 'ImageNotFound',
          failureReason: 'Requested image not found'
        },
        {
          imageId: { imageTag: 'null' },
          failureCode: 'ImageNotFound',
          failureReason: 'Requested image not found'
        }
      ])
    })

    it('rejects imageIds that name both a tag and a digest instead of answering wrongly', async () => {
      const repositoryName = await newRepo('proxy-both')
      const image = dockerV2Image('proxy-both')
      await seedImage(proxy, repositoryName, image, ['t'])
      await expect(
        proxy.send(
          new BatchGetImageCommand({
            repositoryName,
            imageIds: [{ imageTag: 't', imageDigest: image.digest }]
          })
        )
      ).rejects.toMatchObject({ name: 'MotoProxyUnsupported' })
    })

    it('passes every other request through unchanged', async () => {
      const repositoryName = await newRepo('proxy-pass')
      const image = dockerManifestList('proxy-pass')
      await seedImage(proxy, repositoryName, image, ['list'])
      expect(await tagsByDigest(proxy, repositoryName)).toEqual(
        await tagsByDigest(raw, repositoryName)
      )
      const viaProxy = await proxy.send(
        new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] })
      )
      expect(viaProxy.repositories?.[0]?.repositoryName).toBe(repositoryName)
      await expect(
        proxy.send(new DescribeRepositoriesCommand({ repositoryNames: [uniqueName('missing')] }))
      ).rejects.toMatchObject({ name: 'RepositoryNotFoundException' })
      await expect(
        proxy.send(
          new BatchGetImageCommand({
            repositoryName: uniqueName('missing'),
            imageIds: [{ imageTag: 'x' }]
          })
        )
      ).rejects.toMatchObject({ name: 'RepositoryNotFoundException' })
    })
  })
}
