/**
 * The ECR module: the only code that speaks AWS. This file builds the one SDK client (region, user
 * agent, timeouts, a retry strategy bounded in time, the run's abort signal); registry.ts is one
 * method per ECR call, each naming the IAM action it needs, and refusing any partial answer.
 */
import { ECRClient, type ECRClientConfig } from '@aws-sdk/client-ecr'
import { Registry, type RegistryNames } from './registry.js'
import type { Messages } from '../core/messages.js'

/** ECR answers in well under a second: these bound a connection that never opens and an attempt never answered. */
const CONNECTION_TIMEOUT_MS = 3_000
const REQUEST_TIMEOUT_MS = 5_000
/**
 * No retry starts later than this after a call's first attempt, so an error that keeps coming back
 * (a hard quota, a 5xx on every attempt, attempts that time out) ends the call within 15 s, and the
 * run's undo follows, rather than after minutes of backoff; one lost answer is still retried.
 */
const RETRY_WINDOW_MS = 10_000
/**
 * Full jitter over a pause that doubles from 100 ms to 1 s: two throttled reads (ECR allows
 * thousands a second) cost a fraction of a second; writes are kept to ECR's quota by the run's own
 * pace, which a throttle slows.
 */
const FIRST_PAUSE_MS = 100
const LAST_PAUSE_MS = 1_000
/**
 * Reads have quotas of a thousand and more a second, so a throttle is a moment's burst: the first
 * few retries of a throttled read wait 20 to 100 ms (spread, so that reads sent together do not
 * come back together), then the schedule above.
 */
const QUICK_RETRIES = 3
const QUICK_PAUSE_MS = [20, 100] as const
/** The reads that retry a throttle at once (their SDK command names). */
const QUICK_READS = new Set(['BatchGetImageCommand', 'DescribeImagesCommand', 'ListImagesCommand'])
/** ECR answers LimitExceededException for hard quotas (tags per image) as well as rates: one more try, not a schedule. */
const LIMIT_EXCEEDED_ATTEMPTS = 2

export interface RegistryOptions {
  readonly region: string
  /** The registry's account id; default the registry of the credentials. */
  readonly registryId?: string
  /** Told of every write attempt that ECR throttled, so the run's write pace can slow down. */
  readonly onThrottle?: () => void
  /** Aborts every request under way, retries included, and every later one: the job was cancelled. */
  readonly signal?: AbortSignal
  /** The host's words for what went wrong. */
  readonly messages: Messages
  /** The credentials of every call; default the SDK's chain (the run's). */
  readonly credentials?: ECRClientConfig['credentials']
  /** How errors name the registry: its host, and whether it is the target of a run that copies. */
  readonly names?: RegistryNames
}

/** What the SDK asks for credentials, again before they expire. */
type CredentialsProvider = Extract<
  NonNullable<ECRClientConfig['credentials']>,
  (...args: never[]) => unknown
>

/**
 * The credentials of a role assumed from the run's own (the SDK's default chain). The client asks
 * for them again within 5 minutes of their expiry, so a run longer than the session (a chained
 * role's lasts at most an hour) goes on with fresh ones.
 */
export function assumedRole(
  roleArn: string,
  sessionName: string,
  region: string
): CredentialsProvider {
  // Loaded on the first call: a run without a target role never parses the STS provider.
  let provider: Promise<CredentialsProvider> | undefined
  return async (options) => {
    provider ??= import('@aws-sdk/credential-providers').then(({ fromTemporaryCredentials }) =>
      fromTemporaryCredentials({
        params: { RoleArn: roleArn, RoleSessionName: sessionName },
        clientConfig: { region }
      })
    )
    return (await provider)(options)
  }
}

/** The one place that builds the SDK client: region, user agent, retries and timeouts. */
export function createRegistry({
  region,
  registryId,
  onThrottle,
  signal,
  messages,
  credentials,
  names = {}
}: RegistryOptions): Registry {
  // The errors of read attempts, as the watch below the retries sees them: the strategy is not told the command.
  const reads = new WeakSet<object>()
  const client = new ECRClient({
    region,
    customUserAgent: 'ecr-promote',
    ...(credentials && { credentials }),
    retryStrategy: boundedRetries(Date.now, Math.random, (error) => reads.has(error)),
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true
    }
  })
  // Below the retry middleware, so it sees each attempt, not only the last.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args)
      } catch (error) {
        if (QUICK_READS.has(context.commandName ?? '')) {
          if (error instanceof Object) reads.add(error)
        } else if (isThrottle(error)) onThrottle?.()
        throw error
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'ecrPromoteAttemptWatch' }
  )
  return new Registry(client, messages, { ...names, ...(registryId && { registryId }) }, signal)
}

const isThrottle = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === 'ThrottlingException' ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 429)

/** One attempt of a call: how many came before, the pause before it, and when the first started. */
class Attempt {
  constructor(
    private readonly retries: number,
    private readonly pause: number,
    readonly started: number
  ) {}
  getRetryCount = (): number => this.retries
  getRetryDelay = (): number => this.pause
}

/**
 * The SDK's retry strategy, bounded in time: throttles, timeouts, resets and 5xx answers are tried
 * again after a short jittered pause while the call is younger than RETRY_WINDOW_MS; anything else
 * (an abort included) fails at once. `isRead`: whether an error is a read's, whose throttles are
 * retried sooner.
 */
export function boundedRetries(
  clock: () => number = Date.now,
  random: () => number = Math.random,
  isRead: (error: Error) => boolean = () => false
) {
  return {
    acquireInitialRetryToken: (): Promise<Attempt> => Promise.resolve(new Attempt(0, 0, clock())),
    refreshRetryTokenForRetry: (
      attempt: Attempt,
      { errorType, error }: { errorType: string; error?: Error }
    ): Promise<Attempt> => {
      const retries = attempt.getRetryCount() + 1
      const [least, most] = QUICK_PAUSE_MS
      const quick = errorType === 'THROTTLING' && error && isRead(error) && retries <= QUICK_RETRIES
      const pause = Math.round(
        quick
          ? least + random() * (most - least)
          : random() * Math.min(LAST_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (retries - 1))
      )
      const limited = error?.name === 'LimitExceededException' && retries >= LIMIT_EXCEEDED_ATTEMPTS
      const late = clock() + pause - attempt.started > RETRY_WINDOW_MS
      return errorType === 'CLIENT_ERROR' || limited || late
        ? Promise.reject(error ?? new Error(errorType))
        : Promise.resolve(new Attempt(retries, pause, attempt.started))
    },
    recordSuccess: (): void => undefined
  }
}

/** The region the AWS SDK's own chain finds (the environment, then the profile's config); empty if none. */
export async function sdkRegion(): Promise<string> {
  const client = new ECRClient({})
  try {
    return await client.config.region()
  } catch {
    return ''
  } finally {
    client.destroy()
  }
}
