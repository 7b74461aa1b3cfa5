/**
 * What the stand-in's suites share: a client, the calls they repeat, and rows: a rule, the
 * repository it starts from, the calls it makes (steps) and what they answer, as plain data. An
 * answer names images by fixture ('A:v1' is image A by tag v1, ':v1' the tag alone, 'A' the digest
 * alone) and the row's repository as <repo>.
 */
import * as ECR from '@aws-sdk/client-ecr'
import type { ImageFailure, ImageIdentifier, ListImagesFilter } from '@aws-sdk/client-ecr'
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr'
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types'
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import { digestOf } from '../support/oci.mjs'
import {
  dockerManifestList,
  dockerV2Image,
  helmChart,
  multiArchImage,
  seedImage,
  type ImageFixture,
  type ManifestFixture
} from '../support/images.mjs'

export const ACCOUNT = '123456789012'

export const OTHER = '210987654321'
export const BASE_KEYS = { accessKeyId: 'test', secretAccessKey: 'test' }

/** An ECR client for a test endpoint that tries once, so every answer arrives as it was sent. */
export const client = (
  endpoint: string,
  requestTimeout?: number,
  { region = 'us-east-1', credentials = BASE_KEYS as Credentials } = {}
): ECRClient =>
  new ECRClient({
    endpoint,
    region,
    credentials,
    maxAttempts: 1,
    ...(requestTimeout !== undefined && {
      requestHandler: { requestTimeout, throwOnRequestTimeout: true }
    })
  })

type Credentials = typeof BASE_KEYS | AwsCredentialIdentityProvider

/** A role of OTHER's, assumed by STS AssumeRole at `endpoint` (else AWS_ENDPOINT_URL_STS's). */
export const assumed = (
  endpoint?: string,
  params = {},
  masterCredentials: Credentials = BASE_KEYS
) =>
  fromTemporaryCredentials({
    masterCredentials,
    params: { RoleArn: `arn:aws:iam::${OTHER}:role/promote`, RoleSessionName: 'tests', ...params },
    clientConfig: { ...(endpoint && { endpoint }), region: 'us-east-1' }
  })

/** The URL of a client's endpoint. */
export async function urlOf(ecr: ECRClient): Promise<string> {
  const { protocol, hostname, port } = await (
    ecr.config.endpoint as unknown as () => Promise<URL>
  )()
  return `${protocol}//${hostname}:${port}`
}

export const createRepo = (
  ecr: ECRClient,
  repositoryName: string,
  more: Omit<ECR.CreateRepositoryCommandInput, 'repositoryName'> = {}
) => ecr.send(new CreateRepositoryCommand({ repositoryName, ...more }))

/** PutImage of a fixture as a registry client writes it: its media type and digest given. */
export const putImage = (
  ecr: ECRClient,
  repositoryName: string,
  image: ManifestFixture,
  imageTag?: string,
  more: Partial<ECR.PutImageCommandInput> = {}
) =>
  ecr.send(
    new PutImageCommand({
      repositoryName,
      imageManifest: image.manifest,
      imageManifestMediaType: image.mediaType,
      imageDigest: image.digest,
      imageTag,
      ...more
    })
  )

/** A call's answer as `pick` reads it, or how it failed: the error's name, or the HTTP status of a 5xx. */
export async function answer<T>(
  call: Promise<T>,
  pick: (out: T) => unknown = () => 'ok'
): Promise<unknown> {
  try {
    return pick(await call)
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
    return status !== undefined && status >= 500 ? `HTTP ${status}` : (error as Error).name
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Reads until `done` holds or 5 s pass, and returns the last read (the test asserts on it). */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000
  for (;;) {
    const value = await read()
    if (done(value) || Date.now() > deadline) return value
    await sleep(20)
  }
}

/** Whether `promise` settles within `ms`. */
export const settlesWithin = (promise: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([
    promise.then(
      () => true,
      () => true
    ),
    sleep(ms).then(() => false)
  ])

const INDEX = multiArchImage('contract')
const A = dockerV2Image('contract-a')
/** A with a description that is not ASCII: its digest is of its UTF-8 bytes. */
const CAFE = JSON.stringify({ ...JSON.parse(A.manifest), annotations: { d: 'café ☕' } }, null, 3)
/**
 * The images rows name: A and B (Docker), INDEX (buildx) and its children INDEX0-2, LIST, HELM,
 * and CAFE.
 */
export const FIXTURES: Record<string, ImageFixture> = {
  A,
  B: dockerV2Image('contract-b'),
  INDEX,
  LIST: dockerManifestList('contract'),
  HELM: helmChart('contract'),
  CAFE: { mediaType: A.mediaType, manifest: CAFE, digest: digestOf(CAFE), children: [] },
  ...Object.fromEntries(INDEX.children.map((child, i) => [`INDEX${i}`, { ...child, children: [] }]))
}
export const fixture = (name: string) => FIXTURES[name] as ImageFixture
const NAMES = new Map(Object.entries(FIXTURES).map(([name, { digest }]) => [digest, name]))
export const named = (digest = '') => NAMES.get(digest) ?? digest

/** 'A:v1' → { imageDigest: A's, imageTag: 'v1' }; ':v1' → { imageTag }; 'A' → { imageDigest }. */
export function id(text: string): { imageDigest?: string; imageTag?: string } {
  const [name = '', tag] = text.split(':')
  return {
    ...(name && { imageDigest: FIXTURES[name]?.digest ?? name }),
    ...(tag !== undefined && { imageTag: tag })
  }
}
export const text = (i?: ImageIdentifier) =>
  `${named(i?.imageDigest)}${i?.imageTag === undefined ? '' : `:${i.imageTag}`}`
const failed = (failures: ImageFailure[] = []) =>
  failures.map((f) => `${f.failureCode} ${text(f.imageId)}`)

export interface Scene {
  ecr: ECRClient
  repo: string
}
/** One call of a row, its answer as data. */
export type Step = (s: Scene) => Promise<unknown>
export interface Row<Endpoint extends string = never> {
  rule: string
  given?: {
    mutability?: ECR.ImageTagMutability
    filters?: string[]
    images?: Record<string, string[]>
  }
  /** Set-up beyond ECR's operations (the stand-in's control), after the images are seeded. */
  set?: (repo: string) => void
  /** The calls, in turn; the answer is theirs (one call: its own). */
  when: Step[]
  /** What ECR answers. */
  ecr: unknown
  /** The endpoints that answer otherwise: why, and what they answer. */
  differs?: Partial<Record<Endpoint, [string, unknown]>>
}

export const wildcard = (filter: string) => ({ filterType: 'WILDCARD' as const, filter })

/** Creates the row's repository as `given` says, and sets up what `set` does. */
export async function prepare(
  ecr: ECRClient,
  repo: string,
  { given = {}, set }: Pick<Row, 'given' | 'set'>
) {
  const { mutability, filters, images = {} } = given
  const exclusions = filters?.map(wildcard)
  await createRepo(ecr, repo, {
    imageTagMutability: mutability,
    imageTagMutabilityExclusionFilters: exclusions
  })
  for (const [name, tags] of Object.entries(images)) {
    await seedImage(ecr, repo, fixture(name), tags)
  }
  set?.(repo)
  return { ecr, repo }
}

/** Prepares the row's repository, plays its steps, and returns their answer. */
export async function play(ecr: ECRClient, repo: string, row: Row<string>): Promise<unknown> {
  const scene = await prepare(ecr, repo, row)
  const answers: unknown[] = []
  for (const step of row.when) answers.push(await step(scene))
  return relative(answers.length === 1 ? answers[0] : answers, repo)
}

/** The answer with the row's repository named <repo>. */
const relative = (value: unknown, repo: string): unknown =>
  typeof value === 'string'
    ? value.replaceAll(repo, '<repo>')
    : Array.isArray(value)
      ? value.map((v) => relative(v, repo))
      : value !== null && typeof value === 'object' && !(value instanceof Date)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relative(v, repo)]))
        : value

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- what an operation named at run time answers
export type Output = any
const COMMANDS = ECR as unknown as Record<string, new (input: object) => never>
/** The ECR command of an operation named at run time. */
export const command = (operation: string, input: object) =>
  new (COMMANDS[`${operation}Command`] as new (input: object) => never)(input)
/** An ECR operation by name, on the row's repository unless `input` names another. */
export const op =
  (operation: string, input: object = {}, pick?: (out: Output) => unknown): Step =>
  (s) =>
    answer(
      s.ecr.send(command(operation, { repositoryName: s.repo, ...input })) as Promise<Output>,
      pick
    )
/** PutImage of a fixture; answers the digest stored. */
export const put =
  (name: string, tag?: string, more: Partial<ECR.PutImageCommandInput> = {}): Step =>
  (s) =>
    answer(putImage(s.ecr, s.repo, fixture(name), tag, more), (out) =>
      named(out.image?.imageId?.imageDigest)
    )
/** BatchGetImage; answers the images, then the failures ('ImageNotFound :v1'). */
export const get = (ids: string[], acceptedMediaTypes?: string[]): Step =>
  op('BatchGetImage', { imageIds: ids.map(id), acceptedMediaTypes }, (out) => [
    ...(out.images ?? []).map((image: ECR.Image) => text(image.imageId)),
    ...failed(out.failures)
  ])
/** BatchDeleteImage; answers the ids deleted, then the failures. */
export const remove = (...ids: string[]): Step =>
  op('BatchDeleteImage', { imageIds: ids.map(id) }, (out) => [
    ...(out.imageIds ?? []).map(text).sort(),
    ...failed(out.failures)
  ])
/** Every page of an operation's answer, following nextToken (ten at most). */
export const everyPage =
  (operation: string, input: object = {}) =>
  async (s: Scene): Promise<Output[]> => {
    const pages: Output[] = []
    let nextToken: string | undefined
    do {
      const sent = command(operation, { repositoryName: s.repo, ...input, nextToken })
      pages.push(await s.ecr.send(sent))
      nextToken = pages.at(-1).nextToken
    } while (nextToken && pages.length < 10)
    return pages
  }
/** Every ListImages entry, sorted. */
export const list =
  (filter?: ListImagesFilter): Step =>
  async (s) =>
    (await everyPage('ListImages', { filter })(s)).flatMap((p) => p.imageIds.map(text)).sort()
/** DescribeImages of the ids (none: every image), each as 'A [tags] size', sorted. */
export const details = (ids: string[] = [], filter?: ListImagesFilter) =>
  op('DescribeImages', { imageIds: ids.length > 0 ? ids.map(id) : undefined, filter }, (out) =>
    out.imageDetails
      .map(
        (d: ECR.ImageDetail) =>
          `${named(d.imageDigest)} [${d.imageTags?.slice().sort() ?? ''}] ${d.imageSizeInBytes}` +
          (d.imagePushedAt instanceof Date ? '' : ' without imagePushedAt')
      )
      .sort()
  )
