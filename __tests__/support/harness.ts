/** Small pieces many tests share: a client for a test endpoint, a rejection catcher, a clock that only sleeping moves. */
import { ECRClient } from '@aws-sdk/client-ecr'
import type { Manifest } from '../../src/core/model.js'
import type { Effects } from '../../src/run/effects.js'
import { MEDIA_TYPES } from './oci.mjs'

/** An ECR client for a test endpoint (the stand-in or moto_server), with dummy credentials. */
export const clientFor = (url: string): ECRClient =>
  new ECRClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
  })

/** A well-formed digest made of one repeated name, such as sha256:aaaa…, for tests that need no content. */
export const fakeDigest = (name: string): string => `sha256:${name.repeat(64 / name.length)}`

/** Awaits a promise that must reject and returns the rejection reason. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the call to fail, but it succeeded')
}

/**
 * Effects whose clock only sleep moves, so a long wait takes no time; `logs` keeps the progress shown,
 * `events` the progress and the sleeps in order.
 */
export function fakeEffects(signal: AbortSignal = new AbortController().signal) {
  let now = 0
  const sleeps: number[] = []
  const logs: string[] = []
  const events: string[] = []
  const effects: Effects = {
    signal,
    sleep: async (ms) => {
      sleeps.push(ms)
      events.push(`sleep ${ms}`)
      now += ms
    },
    clock: () => now,
    log: () => {},
    progress: (message) => {
      logs.push(message)
      events.push(`log ${message}`)
    }
  }
  return { effects, sleeps, logs, events, now: () => now }
}

/** An OCI index as BuildKit pushes it: two platform images and an attestation manifest, by digest. */
export const buildKitIndex = (digests: {
  index: string
  amd64: string
  arm64: string
  attestation: string
}): Manifest => ({
  digest: digests.index,
  mediaType: MEDIA_TYPES.ociIndex,
  body: JSON.stringify({
    schemaVersion: 2,
    manifests: [
      { digest: digests.amd64, platform: { os: 'linux', architecture: 'amd64' } },
      { digest: digests.arm64, platform: { os: 'linux', architecture: 'arm64' } },
      {
        digest: digests.attestation,
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest' }
      }
    ]
  })
})
