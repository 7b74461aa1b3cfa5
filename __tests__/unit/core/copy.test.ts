import {
  PART_BYTES,
  blobsOf,
  contentOf,
  cosignTags,
  parts,
  putOrder,
  toSend
} from '../../../src/core/copy.js'
import type { Manifest } from '../../../src/core/model.js'
import { fakeDigest } from '../../support/builders.js'
import { MEDIA_TYPES } from '../../support/oci.mjs'

/** A manifest named `name` whose body is `body`. */
const made = (
  name: string,
  body: object,
  mediaType: string = MEDIA_TYPES.ociManifest
): Manifest => ({
  digest: fakeDigest(name),
  mediaType,
  body: JSON.stringify({ schemaVersion: 2, ...body })
})
const blob = (name: string, size = 10) => ({ digest: fakeDigest(name), size })
const image = (name: string, config: string, layers: string[], extra: object = {}) =>
  made(name, { config: blob(config), layers: layers.map((layer) => blob(layer)), ...extra })
const index = (name: string, children: string[], mediaType: string = MEDIA_TYPES.ociIndex) =>
  made(
    name,
    { manifests: children.map((child) => ({ digest: fakeDigest(child), size: 1 })) },
    mediaType
  )
const referrer = (name: string, subject: string) =>
  image(name, 'e', ['s'], { artifactType: 'application/spdx+json', subject: blob(subject) })

describe('contentOf', () => {
  it.each<[string, Manifest, string[], string[], string?]>([
    ['an OCI image: its config and layers', image('m', 'c', ['l1', 'l2']), ['c', 'l1', 'l2'], []],
    [
      'a Docker image',
      made('m', { config: blob('c'), layers: [blob('l')] }, MEDIA_TYPES.dockerManifest),
      ['c', 'l'],
      []
    ],
    ['an OCI index: its children, no blob', index('i', ['a', 'b']), [], ['a', 'b']],
    ['a Docker manifest list', index('i', ['a'], MEDIA_TYPES.dockerManifestList), [], ['a']],
    ['an OCI 1.1 referrer: its blobs and subject', referrer('r', 'm'), ['e', 's'], [], 'm']
  ])('reads %s', (...[, manifest, blobs, children, subject]) => {
    expect(contentOf(manifest)).toEqual({
      blobs: blobs.map((name) => blob(name)),
      children: children.map((name) => fakeDigest(name)),
      ...(subject && { subject: fakeDigest(subject) })
    })
  })

  it.each([
    [
      'Docker schema 1',
      made('x', {}, 'application/vnd.docker.distribution.manifest.v1+prettyjws'),
      'its media type application/vnd.docker.distribution.manifest.v1+prettyjws is not one ECR images use'
    ],
    [
      'the withdrawn OCI artifact manifest',
      made('x', {}, 'application/vnd.oci.artifact.manifest.v1+json'),
      'its media type application/vnd.oci.artifact.manifest.v1+json is not one ECR images use'
    ],
    [
      'a layer without a size',
      made('x', { config: blob('c'), layers: [{ digest: fakeDigest('l') }] }),
      `a ${MEDIA_TYPES.ociManifest} whose descriptors lack a digest or size`
    ]
  ])('refuses %s, naming its digest', (_, manifest, message) => {
    expect(() => contentOf(manifest)).toThrow(`cannot copy ${fakeDigest('x')}: ${message}`)
  })
})

describe('the copy order', () => {
  const [amd64, arm64] = [image('a', 'c', ['base', 'la']), image('b', 'd', ['base', 'lb'])]
  const root = index('i', ['a', 'b'])
  const sbom = referrer('r', 'i')
  const signedSbom = referrer('s', 'r')

  it.each([
    ['children before the index', [root, amd64, arm64], ['a', 'b', 'i']],
    ['a referrer after its subject', [sbom, root, amd64, arm64], ['a', 'b', 'i', 'r']],
    [
      'a referrer of a referrer after both',
      [signedSbom, sbom, root, arm64, amd64],
      ['a', 'b', 'i', 'r', 's']
    ]
  ])('puts %s', (_, manifests, expected) => {
    expect(putOrder(manifests).map(({ digest }) => digest)).toEqual(expected.map(fakeDigest))
  })

  it('names each blob once, however many images share it', () => {
    expect(blobsOf([amd64, arm64, root]).map(({ digest }) => digest)).toEqual(
      ['c', 'base', 'la', 'd', 'lb'].map(fakeDigest)
    )
  })

  it.each([
    ['AVAILABLE', false],
    // What an image on an archived layer does is not documented: it is sent again.
    ['ARCHIVED', true],
    ['UNAVAILABLE', true],
    [undefined, true]
  ])('sends a blob the target answers %s: %s', (availability, expected) => {
    expect(toSend(availability)).toBe(expected)
  })

  it('names the cosign tags of a digest', () => {
    expect(cosignTags(fakeDigest('a'))).toEqual(
      ['sig', 'att', 'sbom'].map((kind) => `sha256-${'a'.repeat(64)}.${kind}`)
    )
  })
})

describe('parts', () => {
  const MiB = 1024 * 1024
  it.each([
    ['one byte', 1, 10 * MiB, [[0, 0]]],
    ['exactly 5 MiB', PART_BYTES, 10 * MiB, [[0, PART_BYTES - 1]]],
    [
      '5 MiB and a byte: a last part of one byte',
      PART_BYTES + 1,
      10 * MiB,
      [
        [0, PART_BYTES - 1],
        [PART_BYTES, PART_BYTES]
      ]
    ],
    [
      '12 MiB in 5 MiB parts, though the target takes 20',
      12 * MiB,
      20 * MiB,
      [
        [0, 5 * MiB - 1],
        [5 * MiB, 10 * MiB - 1],
        [10 * MiB, 12 * MiB - 1]
      ]
    ],
    ['nothing', 0, 10 * MiB, []]
  ])('cuts %s', (_, size, partSize, expected) => {
    expect(parts(size, partSize)).toEqual(expected)
  })

  it('refuses a target that asks for parts under ECR’s 5 MiB least part', () => {
    expect(() => parts(5 * MiB, 2 * MiB)).toThrow(
      `the target asks for upload parts of ${2 * MiB} bytes, under ECR's 5 MiB least part`
    )
  })
})
