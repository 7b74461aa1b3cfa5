// @ts-check
/**
 * Accounts, Regions, STS and repository policies.
 *
 * - Every (account, Region) is a registry of its own (./repositories.mjs). A call reaches the
 *   registry of its `registryId` (default: the caller's account; API Reference: "If you do not
 *   specify a registry, the default registry is assumed") in the Region of its credential scope.
 * - The caller's account is its access key's: a key STS AssumeRole issued is the role's account; a
 *   key control.credentials(account) made is that account's; any other key is 123456789012's.
 * - STS AssumeRole (STS API Reference: AssumeRole), Query protocol on the same server (a form body
 *   `Action=AssumeRole&RoleArn=...&RoleSessionName=...`, an XML answer; AWS_ENDPOINT_URL_STS =
 *   the stand-in's URL): RoleArn `arn:aws:iam::<12 digits>:role/<name>` and RoleSessionName
 *   `[\w+=,.@-]{2,64}` else 400 ValidationError; DurationSeconds 900-43200 (default 3600), at most
 *   3600 when the caller is itself a role session ("role chaining" limits a session to one hour).
 *   Answers Credentials { AccessKeyId (ASIA...), SecretAccessKey, SessionToken, Expiration } and
 *   AssumedRoleUser { Arn `arn:aws:sts::<account>:assumed-role/<role>/<session>`, AssumedRoleId }.
 *   control.sessionLifetime(ms) makes later sessions last that long instead. Expiry is on the real
 *   clock (the SDK refreshes by it). A call signed with an expired session key: HTTP 403
 *   ExpiredTokenException "The security token included in the request is expired" (Common Errors),
 *   from ECR and STS alike. Every other Action: 400 InvalidAction.
 * - A call whose registry is another account's than the caller's is judged by the repository's
 *   policy: allowed where control.grant() allowed the caller's account that action on that
 *   repository, else AccessDeniedException "User: <caller> is not authorized to perform:
 *   ecr:<Action> on resource: <repository ARN> because no resource-based policy allows the
 *   ecr:<Action> action". ListImageReferrers is ecr:BatchGetImage (API Reference). Reading (IAM has
 *   no policy to judge): a repository that does not exist there answers
 *   RepositoryNotFoundException, as before; a call naming no repository is denied on
 *   `repository/*`.
 */

import { randomBytes, randomUUID } from 'node:crypto'
import { URLSearchParams } from 'node:url'
import { ACCOUNT_ID, EcrError, repositoryArn } from './protocol.mjs'

const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/'
const ROLE_ARN_RE = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/
const SESSION_NAME_RE = /^[\w+=,.@-]{2,64}$/
const DEFAULT_CALLER = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/ci/gh`
const EXPIRED = 'The security token included in the request is expired'

/**
 * @typedef {import('./protocol.mjs').Signer} Signer
 * @typedef {{ account: string, region: string, arn: string, expired: boolean, session: boolean }} Caller
 * @typedef {{ account: string, arn: string, expiresAt: number | undefined }} Key
 */

/** @param {string} text */
const xml = (text) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)

/** An access key id as AWS shapes them: a prefix and 16 upper-case letters and digits. @param {string} prefix */
const keyId = (prefix) =>
  prefix + [...randomBytes(16)].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32]).join('')

/** The keys the stand-in issued, and the grants of repository policies. */
export function createAccounts() {
  /** @type {Map<string, Key>} */
  const keys = new Map()
  /** Grants by `<account>/<region>/<repository>` → principal account → actions. @type {Map<string, Map<string, Set<string>>>} */
  const grants = new Map()
  /** @type {number | undefined} ms; undefined: DurationSeconds */
  let lifetime

  /** @param {Signer} signer @returns {Caller} */
  function callerOf({ accessKeyId, region }) {
    const key = accessKeyId === undefined ? undefined : keys.get(accessKeyId)
    const { account = ACCOUNT_ID, arn = DEFAULT_CALLER, expiresAt } = key ?? {}
    const expired = expiresAt !== undefined && Date.now() >= expiresAt
    return { account, region, arn, expired, session: expiresAt !== undefined }
  }

  /** @param {Caller} caller */
  function checkExpiry(caller) {
    if (caller.expired) throw new EcrError('ExpiredTokenException', EXPIRED)
  }

  /**
   * Refuse a call the repository policy of another account does not allow.
   * @param {string} operation
   * @param {Record<string, any>} input
   * @param {Caller} caller
   * @param {(name: string) => boolean} exists whether the called registry has that repository
   */
  function authorize(operation, input, caller, exists) {
    checkExpiry(caller)
    const owner = input.registryId ?? caller.account
    if (owner === caller.account) return
    const action = `ecr:${operation === 'ListImageReferrers' ? 'BatchGetImage' : operation}`
    const named = [
      ...(typeof input.repositoryName === 'string' ? [input.repositoryName] : []),
      ...(Array.isArray(input.repositoryNames) ? input.repositoryNames : [])
    ]
    const denied = (named.length > 0 ? named : ['*']).find((name) => {
      if (name !== '*' && !exists(name)) return false // the operation answers RepositoryNotFound
      const allowed = grants.get(`${owner}/${caller.region}/${name}`)?.get(caller.account)
      return !(allowed?.has(action) || allowed?.has('ecr:*'))
    })
    if (denied === undefined) return
    const resource = repositoryArn(denied, owner, caller.region)
    throw new EcrError(
      'AccessDeniedException',
      `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${resource} because no resource-based policy allows the ${action} action`
    )
  }

  /**
   * Answer an STS Query request (a form body, no X-Amz-Target); false for any other request.
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   * @param {Buffer} raw
   * @param {Signer} signer
   * @param {(operation: string, input: unknown) => void} record
   */
  function sts(req, res, raw, signer, record) {
    const form = String(req.headers['content-type'] ?? '').startsWith(
      'application/x-www-form-urlencoded'
    )
    if (req.method !== 'POST' || req.headers['x-amz-target'] || !form) return false
    const params = Object.fromEntries(new URLSearchParams(raw.toString('utf8')))
    record(params.Action ?? '', params)
    /** @param {number} status @param {string} body */
    const reply = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': randomUUID() })
      res.end(body)
      return true
    }
    /** @param {number} status @param {string} code @param {string} message */
    const error = (status, code, message) =>
      reply(
        status,
        `<ErrorResponse xmlns="${STS_XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`
      )
    const caller = callerOf(signer)
    if (caller.expired) return error(403, 'ExpiredToken', EXPIRED)
    if (params.Action !== 'AssumeRole')
      return error(400, 'InvalidAction', `Could not find operation ${params.Action}`)
    const role = ROLE_ARN_RE.exec(params.RoleArn ?? '')
    const duration = Number(params.DurationSeconds ?? 3600)
    const most = caller.session ? 3600 : 43200
    const invalid = !role
      ? `Value '${params.RoleArn}' at 'roleArn' failed to satisfy constraint: Member must be a role ARN`
      : !SESSION_NAME_RE.test(params.RoleSessionName ?? '')
        ? `Value '${params.RoleSessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`
        : !(Number.isInteger(duration) && duration >= 900 && duration <= most)
          ? `The requested DurationSeconds exceeds the ${most === 3600 ? '1 hour session limit for roles assumed by role chaining' : 'MaxSessionDuration set for this role'}.`
          : undefined
    if (invalid !== undefined || !role) return error(400, 'ValidationError', invalid ?? '')
    const [, account = '', name] = role
    const arn = `arn:aws:sts::${account}:assumed-role/${name}/${params.RoleSessionName}`
    const accessKeyId = keyId('ASIA')
    const expiresAt = Date.now() + (lifetime ?? duration * 1000)
    keys.set(accessKeyId, { account, arn, expiresAt })
    const secret = randomBytes(30).toString('base64')
    const token = randomBytes(48).toString('base64')
    return reply(
      200,
      `<AssumeRoleResponse xmlns="${STS_XMLNS}"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>${keyId('AROA')}:${xml(params.RoleSessionName ?? '')}</AssumedRoleId><Arn>${xml(arn)}</Arn></AssumedRoleUser><Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${secret}</SecretAccessKey><SessionToken>${token}</SessionToken><Expiration>${new Date(expiresAt).toISOString()}</Expiration></Credentials><PackedPolicySize>0</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`
    )
  }

  const control = {
    /**
     * Long-lived keys of `account` (an IAM user's): { accessKeyId, secretAccessKey }.
     * @param {string} account
     */
    credentials(account) {
      checkAccount(account, 'credentials')
      const accessKeyId = keyId('AKIA')
      keys.set(accessKeyId, {
        account,
        arn: `arn:aws:iam::${account}:user/ci`,
        expiresAt: undefined
      })
      return { accessKeyId, secretAccessKey: randomBytes(30).toString('base64') }
    },
    /**
     * A statement of the repository's policy: `principalAccount` may call `actions` ('ecr:PutImage',
     * 'ecr:*', ...) on `repositoryName` of `account`'s registry in `region`.
     * @param {{ account: string, region: string }} where
     * @param {string} repositoryName
     * @param {string} principalAccount
     * @param {readonly string[]} actions
     */
    grant({ account, region }, repositoryName, principalAccount, actions) {
      checkAccount(account, 'grant')
      checkAccount(principalAccount, 'grant')
      const bad = actions.find((a) => !/^ecr:(\*|[A-Z][A-Za-z]+)$/.test(a))
      if (bad !== undefined) throw new TypeError(`grant: '${bad}' is no ECR action (ecr:PutImage)`)
      const key = `${account}/${region}/${repositoryName}`
      const statements = grants.get(key) ?? new Map()
      grants.set(key, statements)
      const granted = statements.get(principalAccount) ?? new Set()
      statements.set(principalAccount, granted)
      for (const action of actions) granted.add(action)
    },
    /**
     * How long later STS sessions last, in ms (undefined: their DurationSeconds), so a test sees
     * credentials expire and the SDK refresh them.
     * @param {number | undefined} ms
     */
    sessionLifetime(ms) {
      if (ms !== undefined && !(Number.isFinite(ms) && ms > 0))
        throw new RangeError(`sessionLifetime: ms must be positive, got ${ms}`)
      lifetime = ms
    }
  }

  return {
    control,
    callerOf,
    authorize,
    sts,
    /** Keys stay valid (a client may hold them); grants and the session lifetime go. */
    reset() {
      grants.clear()
      lifetime = undefined
    }
  }
}

/** @param {unknown} account @param {string} what */
function checkAccount(account, what) {
  if (typeof account !== 'string' || !/^\d{12}$/.test(account))
    throw new TypeError(`${what}: an account is 12 digits, got ${String(account)}`)
}
