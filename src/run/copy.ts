// Placeholder with the agreed signatures (issue 22, W2 replaces this file at merge).
import type { Registry } from '../ecr/registry.js'
import type { Manifest } from '../core/model.js'
import type { CopyReport } from '../core/copy.js'
import type { Effects } from './effects.js'

export type CopySource = Pick<Registry, 'getManifests'>
export type CopyTarget = Pick<Registry, 'getManifests' | 'putTag'>
export interface CopyJob {
  readonly repository: string
  readonly manifest: Manifest
  readonly from: string
}
export type UploadTurns = unknown

export function uploadTurns(): UploadTurns {
  return undefined
}

export const copyImage: (
  source: CopySource,
  target: CopyTarget,
  job: CopyJob,
  options: {
    readonly dryRun: boolean
    readonly effects: Effects
    readonly pace: (signal?: AbortSignal) => Promise<void>
    readonly fetchBlob: (url: string, signal: AbortSignal) => Promise<AsyncIterable<Uint8Array>>
    readonly uploads: UploadTurns
  }
) => Promise<CopyReport> = () => Promise.reject(new Error('not built yet'))
