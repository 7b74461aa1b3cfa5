// Placeholder with the agreed signatures (issue 22, W2 replaces this file at merge).

/** What a copy into the target did (or, in a dry run, would do). */
export interface CopyReport {
  /** The source image: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>@<digest>`. */
  readonly from: string
  /** Blobs uploaded, and blobs the target had already. */
  readonly blobs: { readonly copied: number; readonly present: number }
  /** Bytes uploaded (dry run: would be). */
  readonly bytes: number
  /** Manifests put untagged (platform manifests, the index, referrers). */
  readonly manifests: number
  /** Cosign tags and OCI referrers copied. */
  readonly referrers: number
  /** Wall time of the copy, ms. */
  readonly ms: number
  /** What the run should warn about (a cosign tag the target has on another digest: kept). */
  readonly warnings: readonly string[]
}

/** A copy that failed: what it had copied by then stays in the target (blobs, untagged manifests). */
export class CopyFailed extends Error {
  constructor(
    message: string,
    readonly report: CopyReport,
    options?: ErrorOptions
  ) {
    super(message, options)
  }
}
