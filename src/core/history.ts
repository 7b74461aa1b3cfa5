import { shortDigest } from './model.js'
import { parseVersion } from './version.js'

/** A moment a rollback goes back to: where the pointer was then, by the deployment records. */
export interface Moment {
  readonly at: Date
  /** As the user wrote it, for messages. */
  readonly text: string
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/

/**
 * An ISO 8601 date (`2026-11-19`, the end of that day in UTC) or date-time with a zone
 * (`2026-11-19T15:00:00Z`, `2026-11-19T16:00+01:00`); undefined for anything else, including a
 * date-time without a zone, which would mean a different moment on every runner.
 */
export function parseMoment(text: string): Moment | undefined {
  const date = DATE.exec(text)
  const match = date ?? DATE_TIME.exec(text)
  if (!match) return undefined
  // A date alone ends at 23:59:59.999 UTC; the defaults only check a date-time's fields otherwise.
  const [, year, month, day, hour = '23', minute = '59', second = '59'] = match
  const fields = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number
  ]
  const [y, mo, d, h, mi, s] = fields
  const typed = new Date(Date.UTC(y, mo - 1, d, h, mi, s))
  // Date.UTC rolls 2026-02-30 into March: a moment that was never typed is refused.
  const read = [
    typed.getUTCFullYear(),
    typed.getUTCMonth() + 1,
    typed.getUTCDate(),
    typed.getUTCHours(),
    typed.getUTCMinutes(),
    typed.getUTCSeconds()
  ]
  if (read.some((value, index) => value !== fields[index])) return undefined
  const at = date ? new Date(typed.getTime() + 999) : new Date(text)
  // An offset that is none (+25:00, +01:60) reads as an invalid date: no moment at all.
  return Number.isNaN(at.getTime()) ? undefined : { at, text }
}

/** What a run records with each GitHub deployment, and reads back for a rollback to a moment. */
export interface DeploymentPayload {
  readonly repository: string
  readonly tag: string
  readonly digest: string
  readonly version: string | null
  /** The image by digest: `<registry>/<repository>@sha256:…`. */
  readonly image: string
}

/** One GitHub deployment as the history reads it; the payload is whatever was stored, so unchecked. */
export interface DeploymentRecord {
  readonly id: number
  readonly environment: string
  readonly createdAt: Date
  readonly payload: unknown
}

/** A record that moved a pointer, with the payload checked. */
export interface PointerRecord {
  readonly id: number
  readonly environment: string
  readonly createdAt: Date
  readonly payload: DeploymentPayload
}

/** The payload when it is one a run of ecr-promote recorded for this repository's pointer. */
export function recordOf(
  record: DeploymentRecord,
  repository: string,
  tag: string
): PointerRecord | undefined {
  const payload = record.payload as Partial<Record<keyof DeploymentPayload, unknown>> | null
  if (typeof payload !== 'object' || payload === null) return undefined
  const { digest, version, image } = payload
  if (payload.repository !== repository || payload.tag !== tag) return undefined
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) return undefined
  return {
    id: record.id,
    environment: record.environment,
    createdAt: record.createdAt,
    payload: {
      repository,
      tag,
      digest,
      // Shown to people: only a version that is one, never whatever text a record holds.
      version: typeof version === 'string' && parseVersion(version) ? version : null,
      image: typeof image === 'string' ? image : ''
    }
  }
}

/** The deployment states that mean the pointer did move there: `inactive` is a success since superseded. */
export const LANDED_STATES: readonly string[] = ['success', 'inactive']

/**
 * Why there is no record of the pointer at a moment: the history holds nothing before it, or
 * nothing at all, because records start when `deployments: on` was first used.
 */
export function noRecordAt(
  repository: string,
  tag: string,
  environment: string,
  moment: Moment,
  earliest: Date | undefined
): string {
  const since = earliest
    ? `its earliest deployment record there is from ${earliest.toISOString()}`
    : 'there is no deployment record of it there'
  return `cannot roll back ${repository}:${tag} to ${moment.text} (${moment.at.toISOString()}): by the GitHub environment ${environment}, ${since}. The history starts when deployments: on was first used; roll back to a version instead`
}

export const describeRecord = ({ id, createdAt, payload }: PointerRecord): string =>
  `deployment ${id} of ${createdAt.toISOString()}: ${payload.tag} on ${shortDigest(payload.digest)}${payload.version ? ` (${payload.version})` : ''}`
