// @ts-check
/**
 * The stand-in's wire protocol (AWS JSON 1.1) and the request rules every ECR operation shares.
 *
 * - `POST /`, X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>, a JSON body;
 *   signatures are ignored. Success: HTTP 200, JSON. Errors: HTTP 400 {"__type":
 *   "<ExceptionName>", "message"}, which the SDK maps to its exception classes; only injected
 *   faults (./faults.mjs) and the stand-in's own bugs answer HTTP 500 ServerException. Timestamps
 *   are epoch seconds, which the SDK turns into Dates.
 * - An unknown or missing operation, or a request that is not `POST /`: HTTP 400
 *   UnknownOperationException; a body that is no JSON object: SerializationException.
 * - The caller: the access key and Region of the SigV4 credential scope (`Authorization:
 *   AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request`); no header, the
 *   default account's key in us-east-1 (./accounts.mjs says which account a key is).
 * - A repository-scoped operation on a missing repository: RepositoryNotFoundException "The
 *   repository with name 'x' does not exist in the registry with id '123456789012'".
 * - repositoryName must match `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*` and
 *   be 2-256 characters, else InvalidParameterException (API Reference: CreateRepository; applied
 *   to every operation).
 * - Listings page by maxResults (1-1000, default 100) with an opaque, tamper-checked nextToken,
 *   omitted on the last page; a token not issued for this operation, repository and filter:
 *   InvalidParameterException.
 */

import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'

export const ACCOUNT_ID = '123456789012'
export const REGION = 'us-east-1'
const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.'
const REPOSITORY_NAME_PATTERN = '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*'
const REPOSITORY_NAME_RE = new RegExp(`^${REPOSITORY_NAME_PATTERN}$`)
const PAGE_SIZE = 100

/**
 * @typedef {(input: Record<string, any>) => unknown} Operation
 * @typedef {{ accessKeyId: string | undefined, region: string }} Signer who signed a request, and where
 * @typedef {{ operation: string, input: unknown, handler: Operation | undefined, signer: Signer }} Request
 *   handler: the operation's, when the request is a `POST /` naming a known one
 * @typedef {{ status: number, body: unknown, applied: boolean }} Outcome
 * @typedef {Outcome | 'reset' | 'silent'} Answer an outcome to send, a TCP RST, or no answer ever
 */

/**
 * An ECR error that becomes an HTTP 400 `{"__type": type, "message": message, ...fields}` response
 * (ExpiredTokenException a 403, Common Errors).
 */
export class EcrError extends Error {
  /** @param {string} type @param {string} message @param {Record<string, unknown>} [fields] */
  constructor(type, message, fields = {}) {
    super(message)
    this.type = type
    this.fields = fields
  }
}

/** @param {string} message */
export const invalidParameter = (message) => new EcrError('InvalidParameterException', message)

/** @param {string} field @param {string} rule */
export const violated = (field, rule) =>
  invalidParameter(`Invalid parameter at '${field}' failed to satisfy constraint: '${rule}'`)

/** Whether `value` is a list of 1 to `max` items. @param {unknown} value @param {number} max @returns {value is unknown[]} */
export const sized = (value, max) =>
  Array.isArray(value) && value.length >= 1 && value.length <= max

/** `value`, a list of 1 to `max` items, else InvalidParameterException. @param {string} field @param {unknown} value @param {number} max */
export function checkSized(field, value, max) {
  if (sized(value, max)) return value
  const rule = `Member must have length less than or equal to ${max} and greater than or equal to 1`
  throw violated(field, rule)
}

/** `value`, one of `values`, else InvalidParameterException. @template T @param {string} field @param {unknown} value @param {readonly T[]} values @returns {T} */
export function checkEnum(field, value, values) {
  if (values.includes(/** @type {T} */ (value))) return /** @type {T} */ (value)
  throw violated(field, `Member must satisfy enum value set: [${values.join(', ')}]`)
}

/** @param {unknown} value @returns {value is Record<string, any>} */
export const isObject = (value) =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** @param {string} a @param {string} b */
export const compareStrings = (a, b) => (a < b ? -1 : a > b ? 1 : 0)

export const nowSeconds = () => Date.now() / 1000

/** @param {string} name @param {string} [account] @param {string} [region] */
export const repositoryArn = (name, account = ACCOUNT_ID, region = REGION) =>
  `arn:aws:ecr:${region}:${account}:repository/${name}`

/** @param {string} name @param {string} [registry] */
export const repositoryNotFound = (name, registry = ACCOUNT_ID) =>
  new EcrError(
    'RepositoryNotFoundException',
    `The repository with name '${name}' does not exist in the registry with id '${registry}'`
  )

/** @param {unknown} name @returns {string} */
export function checkRepositoryName(name) {
  if (typeof name !== 'string') throw violated('repositoryName', 'Member must not be null')
  if (name.length < 2 || name.length > 256) {
    throw violated('repositoryName', 'Member must have length between 2 and 256')
  }
  if (!REPOSITORY_NAME_RE.test(name)) {
    throw violated('repositoryName', `must satisfy regular expression '${REPOSITORY_NAME_PATTERN}'`)
  }
  return name
}

/**
 * A checker of operation names for the control API: TypeError for one the stand-in lacks.
 * @param {Record<string, Operation>} operations
 */
export const operationChecker =
  (operations) => (/** @type {unknown} */ operation, /** @type {string} */ what) => {
    if (typeof operation === 'string' && Object.hasOwn(operations, operation)) return operation
    const known = Object.keys(operations).join(', ')
    throw new TypeError(`${what}: unknown operation '${String(operation)}'; known: ${known}`)
  }

/** A RangeError unless `count` is a positive integer. @param {string} what @param {unknown} count */
export function checkCount(what, count) {
  if (Number.isInteger(count) && Number(count) >= 1) return
  throw new RangeError(`${what}: count must be a positive integer, got ${count}`)
}

/** A listing's sort key: a number, then a string. @typedef {[number, string]} Key */
/** @param {Key} a @param {Key} b */
const compareKeys = ([n, s], [m, t]) => n - m || compareStrings(s, t)

/**
 * Cursor pagination over entries sorted by key, the page size and cursor read from the request's
 * maxResults and nextToken; a token carries the last key returned and the scope it was issued for,
 * signed with a key of this stand-in.
 */
export function createPager() {
  const tokenKey = randomBytes(32)
  /** @param {string} body */
  const sign = (body) => createHmac('sha256', tokenKey).update(body).digest()

  /** @param {unknown} token @param {Record<string, unknown>} scope @returns {unknown} */
  function decodeToken(token, scope) {
    if (token === undefined || token === null) return undefined
    const invalid = violated('nextToken', 'Invalid NextToken')
    const [body, mac, extra] = typeof token === 'string' ? token.split('.') : []
    if (!body || !mac || extra !== undefined) throw invalid
    const [want, got] = [sign(body), Buffer.from(mac, 'base64url')]
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw invalid
    /** @type {Record<string, any>} */
    let payload
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
    } catch {
      throw invalid
    }
    if (Object.entries(scope).some(([key, value]) => payload[key] !== value)) throw invalid
    return payload.after
  }

  /**
   * @template T
   * @param {Record<string, any>} input
   * @param {Record<string, unknown>} scope fields bound into the token
   * @param {{ key: Key, value: T }[]} entries sorted ascending by key
   * @returns {{ page: T[], nextToken?: string }}
   */
  return (input, scope, entries) => {
    const { maxResults = PAGE_SIZE } = input
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 1000) {
      throw violated(
        'maxResults',
        'Member must have value less than or equal to 1000 and greater than or equal to 1'
      )
    }
    const after = decodeToken(input.nextToken, scope)
    const start = Array.isArray(after)
      ? entries.findIndex((entry) => compareKeys(entry.key, /** @type {Key} */ (after)) > 0)
      : 0
    const remaining = start === -1 ? [] : entries.slice(start)
    const page = remaining.slice(0, maxResults)
    const last = page[page.length - 1]
    if (remaining.length <= maxResults || !last) return { page: page.map(({ value }) => value) }
    const body = Buffer.from(JSON.stringify({ ...scope, after: last.key })).toString('base64url')
    const nextToken = `${body}.${sign(body).toString('base64url')}`
    return { page: page.map(({ value }) => value), nextToken }
  }
}

/**
 * The outcome of a request no fault intercepts: UnknownOperationException or
 * SerializationException when no operation takes it, else `admit` (which may reject it as an
 * operation would) and the operation: its result, or the ECR error it threw.
 * @param {Request} request
 * @param {(operation: string, input: Record<string, any>) => void} admit
 * @returns {Outcome}
 */
export function dispatch({ operation, input, handler }, admit) {
  /** @param {string} type @param {string} message @param {object} [fields] @returns {Outcome} */
  const refused = (type, message, fields = {}) => ({
    // API Reference, Errors: ServerException is HTTP 500; every other ECR error is a 400.
    status: type === 'ServerException' ? 500 : type === 'ExpiredTokenException' ? 403 : 400,
    body: { __type: type, message, ...fields },
    applied: false
  })
  if (!handler) {
    const named = operation || '(missing X-Amz-Target)'
    return refused('UnknownOperationException', `Unknown operation ${named}`)
  }
  if (!isObject(input)) {
    return refused('SerializationException', 'Start of structure or map found where not expected.')
  }
  try {
    admit(operation, input)
    return { status: 200, body: handler(input), applied: true }
  } catch (error) {
    if (!(error instanceof EcrError)) throw error
    return refused(error.type, error.message, error.fields)
  }
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 */
function send(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(text, 'utf8'),
    'x-amzn-RequestId': randomUUID()
  })
  res.end(text)
}

/** @param {import('node:http').IncomingMessage} req */
async function readBody(req) {
  /** @type {Buffer[]} */
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** @param {import('node:http').IncomingMessage} req @returns {Signer} */
function signerOf(req) {
  const scope = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\//.exec(req.headers.authorization ?? '')
  return { accessKeyId: scope?.[1], region: scope?.[2] ?? REGION }
}

/**
 * Read a whole request and name its operation.
 * @param {import('node:http').IncomingMessage} req
 * @param {string} raw the body
 * @param {Record<string, Operation>} operations
 * @returns {Request}
 */
function readRequest(req, raw, operations) {
  const target = String(req.headers['x-amz-target'] ?? '')
  const targeted = target.startsWith(TARGET_PREFIX)
  const operation = targeted ? target.slice(TARGET_PREFIX.length) : target
  /** @type {unknown} */
  let input = raw
  try {
    input = raw.trim() === '' ? {} : JSON.parse(raw)
  } catch {
    // not JSON: SerializationException
  }
  const routed = req.method === 'POST' && (req.url ?? '/').split('?')[0] === '/' && targeted
  const handler = routed && Object.hasOwn(operations, operation) ? operations[operation] : undefined
  return { operation, input, handler, signer: signerOf(req) }
}

/**
 * What answers a request that is no ECR call (STS, a download URL) itself, or false.
 * @typedef {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse,
 *   raw: Buffer, signer: Signer) => boolean} Direct
 */

/**
 * Serve the operations on host:port (0: a free port); `answer` decides how each request is
 * answered.
 * @param {string} host
 * @param {number} port
 * @param {Record<string, Operation>} operations
 * @param {(request: Request) => Promise<Answer>} answer
 * @param {Direct} direct
 */
export async function serve(host, port, operations, answer, direct) {
  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) =>
        direct(req, res, raw, signerOf(req))
          ? 'silent'
          : answer(readRequest(req, raw.toString('utf8'), operations))
      )
      .then((reply) => {
        if (reply === 'reset') req.socket.resetAndDestroy()
        else if (reply !== 'silent') send(res, reply.status, reply.body)
      })
      .catch((/** @type {unknown} */ error) => {
        if (res.headersSent) {
          res.destroy()
          return
        }
        const message = error instanceof Error ? error.stack : String(error)
        send(res, 500, {
          __type: 'ServerException',
          message: `stand-in internal error: ${message}`
        })
      })
  })
  server.listen(port, host)
  await once(server, 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') {
    throw new Error('stand-in: unexpected server address')
  }
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    /** Close the server and every connection, hung and delayed requests included. */
    close: () =>
      /** @type {Promise<void>} */ (
        new Promise((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()))
          server.closeAllConnections()
        })
      )
  }
}
