/**
 * The stand-in's control API (support/standin/faults.mjs and admin.mjs): what tests see of the
 * requests, the set-up that is no ECR operation, and the faults, latency and quotas they inject.
 * Each test has a stand-in of its own, on a clock only the test moves, with repository `app`.
 */
import type { ECRClient, ECRServiceException } from '@aws-sdk/client-ecr'
import { startStandIn } from '../support/ecr-standin.mjs'
import {
  ACCOUNT,
  OTHER,
  assumed,
  client,
  command,
  fixture,
  named,
  op,
  putImage,
  settlesWithin,
  sleep,
  until
} from './ecr.js'

type StandIn = Awaited<ReturnType<typeof startStandIn>>

const TIMEOUT_MS = 300
const [A, B] = [fixture('A'), fixture('B')]
let standIn: StandIn
let c: StandIn['control']
let ecr: ECRClient
let now: number

beforeEach(async () => {
  now = 1_000_000
  standIn = await startStandIn({ clock: () => now })
  c = standIn.control
  ecr = client(standIn.url, TIMEOUT_MS)
  await send('CreateRepository')
})
afterEach(async () => {
  ecr.destroy()
  await standIn.close()
})

/** An operation on `app` (or input.repositoryName): its answer, or how it ended. */
const send = (operation: string, input = {}, to = ecr) =>
  ending(to.send(command(operation, { repositoryName: 'app', ...input })))
const put = (tag: string, image = A, repositoryName = 'app') =>
  ending(putImage(ecr, repositoryName, image, tag))
/** How a call ended: answered, an error's name and HTTP status, ECONNRESET, or TimeoutError. */
const ending = (call: Promise<unknown>) =>
  call.then(
    () => 'answered',
    (e: ECRServiceException) =>
      /ECONNRESET/.test(e.message)
        ? 'ECONNRESET'
        : `${e.name}${e.$metadata?.httpStatusCode ? ` ${e.$metadata.httpStatusCode}` : ''}`
  )
/** The repository as snapshot() sees it: 'A:v1:v2' per image, an untagged one as 'A'. */
const state = (repositoryName = 'app') =>
  c
    .snapshot(repositoryName)
    .images.map((i) => [named(i.digest), ...i.tags].join(':'))
    .sort()
/** Sends the PutImages at once: how many were answered, how many not. */
async function putAll(prefix: string, count: number) {
  const tags = Array.from({ length: count }, (_, i) => `${prefix}${i}`)
  const answered = (await Promise.all(tags.map((tag) => put(tag)))).filter((e) => e === 'answered')
  return `${answered.length}/${count}`
}
const arrived = (count: number) =>
  until(
    async () => c.calls.length,
    (n) => n >= count
  )

describe('what tests see and set up', () => {
  it('calls: each request on arrival, with its input and the clock’s time', async () => {
    await put('v1')
    now += 5
    await send('ListImages', { maxResults: 5 })
    expect(c.calls.map(({ operation, input, at }) => [operation, input, at])).toEqual([
      ['CreateRepository', { repositoryName: 'app' }, 1_000_000],
      [
        'PutImage',
        expect.objectContaining({ imageTag: 'v1', imageManifest: A.manifest }),
        1_000_000
      ],
      ['ListImages', { repositoryName: 'app', maxResults: 5 }, 1_000_005]
    ])
  })

  it('deny(): AccessDeniedException (HTTP 400) for the operation, in one repository or all', async () => {
    await send('CreateRepository', { repositoryName: 'other' })
    c.deny('PutImage', 'app')
    const message = await putImage(ecr, 'app', A, 'v1').catch((e: Error) => e.message)
    expect(message).toBe(
      'User: arn:aws:sts::123456789012:assumed-role/ci/gh is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:us-east-1:123456789012:repository/app because no identity-based policy allows the ecr:PutImage action'
    )
    const seen = [await put('v1'), await put('v1', A, 'other'), await send('ListImages')]
    c.deny('ListImages')
    seen.push(await send('ListImages', { repositoryName: 'other' }))
    expect([...seen, state()]).toEqual([
      'AccessDeniedException 400',
      'answered',
      'answered',
      'AccessDeniedException 400',
      []
    ])
  })

  it('failPutImage(): the next `times` PutImages of a tag in a repository fail, changing nothing', async () => {
    await put('v1')
    c.failPutImage('v2', { times: 2 })
    c.failPutImage('v3', { exception: 'ServerException', times: Infinity })
    const seen = [await put('v2', A, 'nope')] // no repository: not one of the times
    seen.push(
      await putImage(ecr, 'app', A, 'v2').then(String, (e: Error) => `${e.name}: ${e.message}`)
    )
    for (const [tag, image] of [['v2', B], ['v1', B], ['v2', B], ['v3'], ['v3'], ['v3']] as const) {
      seen.push(await put(tag, image))
    }
    expect([seen.join(', '), state()]).toEqual([
      'RepositoryNotFoundException 400, KmsException: injected failure, KmsException 400, ' +
        'answered, answered, ServerException 500, ServerException 500, ServerException 500',
      ['A', 'B:v1:v2']
    ])
  })

  it('rewrite(): every later successful answer of an operation, changed; another replaces it; null stops it', async () => {
    await put('v1')
    const ids = op('ListImages', {}, (out) => out.imageIds?.length ?? 'no imageIds')
    const read = () => ids({ ecr, repo: 'app' })
    c.rewrite('ListImages', (body: object) => ({ ...body, imageIds: [] }))
    const seen = [await send('ListImages', { repositoryName: 'none' }), await read(), await read()]
    c.rewrite('ListImages', () => ({}))
    seen.push(await read())
    c.rewrite('ListImages', null)
    seen.push(await read())
    // A failure is not rewritten.
    expect(seen).toEqual(['RepositoryNotFoundException 400', 0, 0, 'no imageIds', 1])
  })

  it('seedTags(), setPushedAt() and snapshot() work on the state directly, not by a request', async () => {
    await put('base')
    await put('moves', B)
    const calls = c.calls.length
    c.quota({ PutImage: { rate: 1, burst: 1 } })
    const many = Array.from({ length: 2000 }, (_, i) => `t${i}`)
    c.seedTags('app', A.digest, [...many, 'moves'])
    c.setPushedAt('app', A.digest, new Date('2020-01-02T03:04:05Z'))
    c.setPushedAt('app', B.digest, Date.UTC(2024, 5, 1))
    expect([c.calls.length - calls, c.throttled]).toEqual([0, []])
    await put('again') // a new tag keeps imagePushedAt
    const details = op('DescribeImages', {}, (out) =>
      out.imageDetails.map(
        (d: { imageDigest: string; imageTags?: string[]; imagePushedAt: Date }) =>
          `${named(d.imageDigest)} ${d.imageTags?.length} ${d.imagePushedAt.toISOString()}`
      )
    )
    expect(await details({ ecr, repo: 'app' })).toEqual([
      'A 2003 2020-01-02T03:04:05.000Z',
      'B undefined 2024-06-01T00:00:00.000Z'
    ])
    const snapshot = c.snapshot('app').images
    expect(snapshot.map((i) => i.digest)).toEqual([A.digest, B.digest].sort())
    expect(snapshot.find((i) => i.digest === B.digest)).toEqual({
      ...{ digest: B.digest, mediaType: B.mediaType, manifest: B.manifest },
      ...{ tags: [], status: 'ACTIVE' }
    })
    expect(() => c.seedTags('app', A.digest, ['-bad'])).toThrow(/not a valid image tag/)
  })

  it.each<[string, (repo: string, digest: string) => void]>([
    ['seedTags', (r, d) => c.seedTags(r, d, ['x'])],
    ['setPushedAt', (r, d) => c.setPushedAt(r, d, 0)],
    ['setScan', (r, d) => c.setScan(r, d, undefined)],
    ['setSigning', (r, d) => c.setSigning(r, d, [])],
    ['archive', (r, d) => c.archive(r, d)],
    ['snapshot', (r) => c.snapshot(r)]
  ])('%s() of an unknown repository or image throws', async (name, act) => {
    await put('v1')
    expect(() => act('nope', A.digest)).toThrow(/no repository named 'nope'/)
    if (name !== 'snapshot') expect(() => act('app', B.digest)).toThrow(/no image/)
  })

  it.each<[string, () => unknown, ErrorConstructor]>([
    ['hang() of an unknown operation', () => c.hang('LaunchRockets'), TypeError],
    ['hang() count 0', () => c.hang('PutImage', { count: 0 }), RangeError],
    ['faults() rate 1.5', () => c.faults({ rate: 1.5 }), RangeError],
    ['faults() of an unknown operation', () => c.faults({ rate: 1, operations: ['P'] }), TypeError],
    ['faults() no kinds', () => c.faults({ rate: 0.5, kinds: [] }), RangeError],
    ['faults() seed 1.5', () => c.faults({ rate: 0.5, seed: 1.5 }), TypeError],
    ['latency() -1', () => c.latency(-1), RangeError],
    ['latency() [50, 10]', () => c.latency({ PutImage: [50, 10] }), RangeError],
    ['latency() of an unknown operation', () => c.latency({ Nope: 10 }), TypeError],
    ['waitFor() count 0', () => c.waitFor('PutImage', 0), RangeError],
    ['quota() of an unknown operation', () => c.quota({ L: { rate: 1, burst: 1 } }), TypeError],
    ['quota() rate 0', () => c.quota({ PutImage: { rate: 0, burst: 1 } }), RangeError],
    ['quota() burst 0.5', () => c.quota({ PutImage: { rate: 1, burst: 0.5 } }), RangeError],
    ['quota() Infinity', () => c.quota({ PutImage: { rate: Infinity, burst: 1 } }), RangeError],
    ['quota() of no object', () => c.quota('fast' as never), TypeError],
    ['throttle() count 0', () => c.throttle('BatchGetImage', { count: 0 }), RangeError],
    ['rewrite() of no function', () => c.rewrite('ListImages', 'x' as never), TypeError],
    ['failPutImage() times 0', () => c.failPutImage('v1', { times: 0 }), RangeError],
    ['archivedAnswer() served', () => c.archivedAnswer('served' as never), RangeError],
    ['archive() restoreMs -1', () => c.archive('app', A.digest, { restoreMs: -1 }), RangeError],
    ['setPushedAt() no date', () => c.setPushedAt('app', A.digest, new Date('x')), TypeError],
    ['a clock that is no function', () => startStandIn({ clock: 5 as never }), TypeError]
  ])('refuses %s', async (_, act, type) => {
    await put('v1')
    await expect(async () => act()).rejects.toThrow(type)
  })

  it('reset(): the registry emptied; calls, denials, failures, faults, latency, quotas cleared', async () => {
    c.quota({ PutImage: { rate: 1, burst: 1 } })
    expect([await put('v1'), await put('v2')]).toEqual(['answered', 'ThrottlingException 400'])
    c.setScan('app', A.digest, { status: 'COMPLETE', shape: 'basic' })
    c.setSigning('app', A.digest, [{ signingProfileArn: 'arn:p', status: 'COMPLETE' }])
    c.archive('app', A.digest)
    c.deny('ListImages')
    c.failPutImage('v1')
    c.faults({ rate: 1, operations: ['DescribeRepositories'], kinds: ['error-after'] })
    await send('DescribeRepositories')
    c.latency(60_000)
    c.hang('CreateRepository')
    c.throttle('PutImage')
    c.rewrite('ListImages', () => ({}))
    const waiter = c.waitFor('PutImage', 2)
    c.reset()
    await expect(waiter).rejects.toThrow(/reset\(\)/)
    expect([c.calls, c.injected, c.throttled]).toEqual([[], [], []]) // none were empty
    const seen = [await send('CreateRepository'), await putAll('v', 3)]
    seen.push(await send('ListImages'), await send('DescribeRepositories'))
    seen.push(await send('DescribeImageScanFindings', { imageId: { imageTag: 'v1' } }))
    const signed = op('DescribeImageSigningStatus', { imageId: { imageTag: 'v1' } }, (o) =>
      JSON.stringify(o.signingStatuses)
    )
    seen.push(String(await signed({ ecr, repo: 'app' })))
    expect([...seen, c.snapshot('app').images.map((i) => i.status)]).toEqual([
      ...['answered', '3/3', 'answered', 'answered', 'ScanNotFoundException 400', '[]'],
      ['ACTIVE']
    ])
    await c.waitFor('PutImage', 3) // counted again from the reset
  })

  it('the layer operations take faults and holds as any; reset() also clears grants, the part size and the session lifetime, not the keys', async () => {
    const B = { account: OTHER, region: 'us-east-1' }
    c.faults({ rate: 1, operations: ['InitiateLayerUpload'], kinds: ['error-after'] })
    const seen = [await send('InitiateLayerUpload')]
    const hold = c.hold('BatchCheckLayerAvailability')
    const held = send('BatchCheckLayerAvailability', { layerDigests: [A.digest] })
    await hold.arrived()
    expect(await settlesWithin(held, 50)).toBe(false)
    hold.release()
    c.createRepository('app', B)
    c.grant(B, 'app', ACCOUNT, ['ecr:ListImages'])
    const keys = c.credentials(OTHER)
    seen.push(await held, await send('ListImages', { registryId: OTHER }))
    c.partSize(6 * 1024 * 1024)
    c.sessionLifetime(1)
    c.reset()
    const other = client(standIn.url, TIMEOUT_MS, { credentials: keys })
    seen.push(await send('CreateRepository', {}, other), await send('CreateRepository'))
    seen.push(await send('ListImages', { registryId: OTHER }))
    const started = await ecr.send(command('InitiateLayerUpload', { repositoryName: 'app' }))
    expect([...seen, (started as { partSize: number }).partSize]).toEqual([
      'ServerException 500',
      'answered',
      'answered',
      'answered',
      'answered',
      'AccessDeniedException 400',
      10 * 1024 * 1024
    ])
    // A session lasts its default hour again, not the millisecond set before the reset.
    const { expiration } = await assumed(standIn.url)()
    expect((expiration?.getTime() ?? 0) - Date.now()).toBeGreaterThan(3_500_000)
    other.destroy()
  })
})

describe('faults', () => {
  it.each([
    ['reset-before', 'the connection reset before it is applied', 'ECONNRESET', []],
    ['error-after', 'applied, then HTTP 500 ServerException', 'ServerException 500', ['A:v1']],
    ['reset-after', 'applied, then the connection reset', 'ECONNRESET', ['A:v1']],
    ['hang', 'never applied, never answered', 'TimeoutError', []]
  ] as const)('%s: %s', async (kind, _, ended, after) => {
    c.faults({ rate: 1, operations: ['PutImage'], kinds: [kind] })
    const seen = [await put('v1'), c.injected, state()]
    expect(seen).toEqual([ended, [{ operation: 'PutImage', kind }], after])
  })

  it('a faulted request the operation rejects loses its answer; a retry meets the write', async () => {
    await put('v1')
    c.faults({ rate: 1, operations: ['PutImage'], kinds: ['error-after'] })
    const lost = await putImage(ecr, 'app', A, 'v1').catch((e: Error) => e.message)
    c.faults(null)
    expect([lost, await put('v1'), state()]).toEqual([
      'injected: rejected, answer lost',
      'ImageAlreadyExistsException 400',
      ['A:v1']
    ])
  })

  it('faults() draw from a seeded PRNG: the same seed, the same faults; only where named', async () => {
    const run = async (seed: number) => {
      const kinds = ['reset-before', 'error-after'] as const
      c.faults({ seed, rate: 0.5, operations: ['DescribeRepositories'], kinds: [...kinds] })
      const endings: string[] = []
      for (let i = 0; i < 24; i++) {
        endings.push(await send('DescribeRepositories'))
        await send('ListImages') // never faulted
      }
      const injected = c.injected.splice(0).map((f) => `${f.operation} ${f.kind}`)
      return { endings, injected }
    }
    const [first, again, other] = [await run(42), await run(42), await run(7)]
    expect(again).toEqual(first)
    expect(other.endings).not.toEqual(first.endings)
    const kind = (e: string) =>
      `DescribeRepositories ${e === 'ECONNRESET' ? 'reset-before' : 'error-after'}`
    for (const { endings, injected } of [first, other]) {
      expect(new Set(endings)).toEqual(new Set(['answered', 'ServerException 500', 'ECONNRESET']))
      expect(injected).toEqual(endings.filter((e) => e !== 'answered').map(kind))
    }
  })

  it('hang(): the next `count` requests unanswered; with apply, applied first; before faults()', async () => {
    c.faults({ rate: 1, operations: ['PutImage'], kinds: ['error-after'] })
    c.hang('PutImage', { count: 2, apply: true })
    const seen = [await put('v1'), await put('v1'), await put('v2')] // the second: rejected
    c.faults(null)
    c.hang('PutImage')
    seen.push(await put('v3'), await put('v3'))
    expect([seen.join(', '), c.injected.map((f) => f.kind).join(' '), state()]).toEqual([
      'TimeoutError, TimeoutError, ServerException 500, TimeoutError, answered',
      'hang hang error-after hang',
      ['A:v1:v2:v3']
    ])
  })
})

describe('latency', () => {
  it('beyond the client’s timeout it still applies the write: only the answer is lost', async () => {
    c.latency({ PutImage: TIMEOUT_MS + 100 })
    const applied = c.waitFor('PutImage')
    expect([await put('v1'), state()]).toEqual(['TimeoutError', []])
    expect(await settlesWithin(applied, 1000)).toBe(true)
    expect([state(), c.injected]).toEqual([['A:v1'], []])
  })

  it('delays each request on its own: per operation, a default, a seeded range', async () => {
    const patient = client(standIn.url)
    c.latency({ ListImages: 60_000, default: [60, 90] }, 7)
    const slow = send('ListImages', {}, patient)
    const start = performance.now()
    await send('DescribeRepositories') // not held up by the slow ListImages
    const took = performance.now() - start
    expect([took >= 60, took < 90 + 1000]).toEqual([true, true])
    expect(await settlesWithin(slow, 0)).toBe(false)
    patient.destroy()
  })

  it('close() returns promptly with a hung and a delayed request open, applying neither', async () => {
    const patient = client(standIn.url) // never gives up by itself
    c.hang('ListImages')
    c.latency({ PutImage: 300 })
    const open = [send('ListImages', {}, patient), ending(putImage(patient, 'app', A, 'v1'))]
    await arrived(3)
    expect(await settlesWithin(standIn.close(), 1000)).toBe(true)
    expect(await Promise.all(open)).not.toContain('answered')
    await sleep(400) // past the delay: cancelled, not applied late
    expect(state()).toEqual([])
    patient.destroy()
  })

  it('hold(): matching requests wait unapplied until release(), then go on; others pass', async () => {
    await send('CreateRepository', { repositoryName: 'other' })
    const hold = c.hold('PutImage', { repositoryName: 'app', tag: 'v1', count: 2 })
    const held = [put('v1'), put('v1', B)]
    const passed = [await put('v2'), await put('v1', A, 'other')]
    await hold.arrived(2)
    expect([await settlesWithin(Promise.race(held), 50), state(), passed]).toEqual([
      false,
      ['A:v2'],
      ['answered', 'answered']
    ])
    hold.release()
    expect([await Promise.all(held), await put('v1')]).toEqual([
      ['answered', 'answered'],
      'answered'
    ])
    expect(state()).toEqual(['A:v1:v2', 'B']) // the third v1 was not held: count 2
  })

  it('delays a request, applied at the end of its delay; waitFor() resolves when that many are applied, not rejected ones; latency(0) turns it off', async () => {
    c.latency({ PutImage: 200 })
    const first = c.waitFor('PutImage')
    const start = performance.now()
    const pending = put('v1')
    await arrived(2)
    expect([await settlesWithin(first, 80), state()]).toEqual([false, []]) // received, in its delay
    await first
    expect([performance.now() - start >= 200, state()]).toEqual([true, ['A:v1']]) // applied
    await pending
    c.latency({ PutImage: 60_000 })
    c.latency(0)
    const second = c.waitFor('PutImage', 2)
    expect(await put('v1')).toBe('ImageAlreadyExistsException 400') // at once, and not counted
    expect(await settlesWithin(second, 50)).toBe(false)
    c.faults({ rate: 1, operations: ['PutImage'], kinds: ['reset-after'] })
    await put('v2') // applied, then its answer lost: counted
    await expect(second).resolves.toBeUndefined()
    await c.waitFor('PutImage', 1) // reached already
  })
})

describe('quota', () => {
  beforeEach(() => {
    ecr.destroy()
    ecr = client(standIn.url) // no timeout: a burst answered late still counts as answered
  })

  it('refills continuously at its rate up to its burst, on the stand-in’s clock', async () => {
    c.quota({ PutImage: { rate: 10, burst: 10 } })
    const seen = [await putAll('a', 15)]
    now += 300 // three tokens, not a whole second's worth
    seen.push(await putAll('b', 4))
    now += 60_000 // a long pause fills the bucket to its burst, no further
    seen.push(await putAll('c', 12))
    expect([...seen, c.throttled.length]).toEqual(['10/15', '3/4', '10/12', 8])
  })

  it('keeps a bucket per operation, shared by the repositories; an empty one answers HTTP 400 ThrottlingException, unapplied; other operations unlimited', async () => {
    await send('CreateRepository', { repositoryName: 'other' })
    c.quota({ PutImage: { rate: 1, burst: 2 }, ListImages: { rate: 1, burst: 1 } })
    const seen = [await put('v1'), await put('v1', A, 'other'), await put('v2')]
    seen.push(await send('ListImages'), await send('ListImages', { repositoryName: 'other' }))
    const reads = Array.from({ length: 20 }, () => send('DescribeImages'))
    expect([...seen, new Set(await Promise.all(reads)), state(), c.throttled]).toEqual([
      ...['answered', 'answered', 'ThrottlingException 400'],
      ...['answered', 'ThrottlingException 400'],
      new Set(['answered']),
      ['A:v1'],
      ['PutImage', 'ListImages'].map((operation) => ({ operation, at: now }))
    ])
  })

  it('takes the token when the request is applied, after its latency', async () => {
    c.quota({ PutImage: { rate: 10, burst: 1 } })
    await put('first') // the bucket is empty now
    c.latency({ PutImage: 150 })
    const pending = put('second')
    await arrived(3)
    now += 100 // during the delay: one token back by the time the request lands
    expect([await pending, c.throttled]).toEqual(['answered', []])
  })

  it('throttle(): the next `count` requests throttled, unapplied, spending no quota token', async () => {
    c.quota({ PutImage: { rate: 1, burst: 1 } })
    c.throttle('PutImage', { count: 2 })
    const seen = [await put('v1'), await put('v1'), await put('v1'), await put('v2')]
    expect([seen.join(', '), state(), c.throttled.length]).toEqual([
      'ThrottlingException 400, ThrottlingException 400, answered, ThrottlingException 400',
      ['A:v1'],
      3
    ])
  })

  it('quota() again refills every bucket; quota(null) turns quotas off', async () => {
    c.quota({ PutImage: { rate: 10, burst: 3 } })
    const seen = [await putAll('a', 4)]
    c.quota({ PutImage: { rate: 10, burst: 3 } })
    seen.push(await putAll('b', 4))
    c.quota(null)
    expect([...seen, await putAll('c', 15)]).toEqual(['3/4', '3/4', '15/15'])
  })

  it('counts on the real clock by default, which also times the calls', async () => {
    const real = await startStandIn()
    const realClient = client(real.url)
    const before = Date.now()
    await send('CreateRepository', {}, realClient)
    real.control.quota({ PutImage: { rate: 0.001, burst: 1 } }) // one token in 1,000 s
    const put = (tag: string) => ending(putImage(realClient, 'app', A, tag))
    expect([await put('v1'), await put('v2')]).toEqual(['answered', 'ThrottlingException 400'])
    for (const { at } of [...real.control.calls, ...real.control.throttled]) {
      expect(at).toBeGreaterThanOrEqual(before)
      expect(at).toBeLessThanOrEqual(Date.now())
    }
    realClient.destroy()
    await real.close()
  })
})
