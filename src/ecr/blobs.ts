import { messageOf } from '../core/model.js'

/**
 * A blob's bytes from the URL GetDownloadUrlForLayer hands over: an S3 URL presigned in its query
 * string, so the GET carries no credentials of its own (S3 refuses a second way to authenticate).
 */

/**
 * How long the source's storage may take to start answering. The body then streams for as long as
 * bytes keep coming: Node's fetch ends a body that sends nothing for 300 s, and the run's signal
 * ends it at once.
 */
const ANSWER_MS = 30_000

/** A download that failed; `retry`: worth one more try with a new URL (an expired URL, a reset). */
export class DownloadFailed extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
    options?: ErrorOptions
  ) {
    super(message, options)
  }
}

/**
 * The bytes at `url`, as they arrive (never buffered whole). `size`, when given, is checked against
 * the length the answer announces. Fails with DownloadFailed; `signal` ends the wait and the stream.
 */
export async function fetchBlob(
  url: string,
  signal: AbortSignal,
  size?: number
): Promise<AsyncIterable<Uint8Array>> {
  const answer = new AbortController()
  const timer = setTimeout(
    () => answer.abort(new Error(`no answer within ${ANSWER_MS / 1000} s`)),
    ANSWER_MS
  )
  const where = new URL(url).host
  let response: Response
  try {
    response = await fetch(url, { signal: AbortSignal.any([signal, answer.signal]) })
  } catch (error) {
    throw failed(`the download from ${where} failed`, error, signal)
  } finally {
    clearTimeout(timer)
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel()
    throw new DownloadFailed(
      `the download from ${where} was answered ${response.status} ${response.statusText}`,
      response.status === 403
    )
  }
  const length = response.headers.get('content-length')
  if (size !== undefined && length !== null && Number(length) !== size) {
    await response.body.cancel()
    throw new DownloadFailed(
      `the download from ${where} announced ${length} bytes, not the blob's ${size}`,
      false
    )
  }
  return streamed(response.body, where, signal)
}

async function* streamed(
  body: ReadableStream<Uint8Array>,
  where: string,
  signal: AbortSignal
): AsyncGenerator<Uint8Array> {
  try {
    yield* body
  } catch (error) {
    throw failed(`the download from ${where} broke off`, error, signal)
  }
}

/** A network failure is worth a retry; the run's own cancel is not. */
const failed = (what: string, error: unknown, signal: AbortSignal): DownloadFailed =>
  new DownloadFailed(
    `${what}: ${signal.aborted ? 'cancelled' : messageOf(error)}${causeOf(error)}`,
    !signal.aborted,
    { cause: error }
  )

const causeOf = (error: unknown): string =>
  error instanceof Error && error.cause !== undefined ? ` (${messageOf(error.cause)})` : ''
