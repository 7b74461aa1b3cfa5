import {
  LANDED_STATES,
  describeRecord,
  noRecordAt,
  parseMoment,
  recordOf,
  type DeploymentRecord,
  type PointerRecord
} from '../../../src/core/history.js'
import { shortDigest } from '../../../src/core/model.js'
import { fakeDigest, rows } from '../../support/builders.js'

const image = fakeDigest('a')
const URI = '123456789012.dkr.ecr.us-east-1.amazonaws.com/api'

describe('parseMoment reads a date or a date-time with a zone', () => {
  it.each([
    ['a date, as the end of that day in UTC', '2026-11-19', '2026-11-19T23:59:59.999Z'],
    ['the last day of a 30-day month', '2026-04-30', '2026-04-30T23:59:59.999Z'],
    ['the leap day of a leap year', '2028-02-29', '2028-02-29T23:59:59.999Z'],
    ['a date-time in UTC', '2026-11-19T15:00:00Z', '2026-11-19T15:00:00.000Z'],
    ['a date-time without seconds', '2026-11-19T15:07Z', '2026-11-19T15:07:00.000Z'],
    ['a date-time with a fraction', '2026-11-19T15:00:01.25Z', '2026-11-19T15:00:01.250Z'],
    ['a fraction of nine digits', '2026-11-19T15:00:01.123456789Z', '2026-11-19T15:00:01.123Z'],
    ['an offset east of UTC', '2026-11-19T16:00:00+01:00', '2026-11-19T15:00:00.000Z'],
    ['an offset without seconds', '2026-11-19T16:00+01:00', '2026-11-19T15:00:00.000Z'],
    ['a half-hour offset west of UTC', '2026-11-19T09:30:00-05:30', '2026-11-19T15:00:00.000Z'],
    ['an offset that crosses midnight', '2026-11-19T23:30:00-01:00', '2026-11-20T00:30:00.000Z'],
    ['the first moment of a day', '2026-11-19T00:00:00Z', '2026-11-19T00:00:00.000Z'],
    ['the last second of a day', '2026-11-19T23:59:59Z', '2026-11-19T23:59:59.000Z']
  ])('%s: %s', (_name, text, iso) => {
    expect(parseMoment(text)).toEqual({ at: new Date(iso), text })
  })

  it.each([
    ['a date-time without a zone', '2026-11-19T15:00:00'],
    ['a date-time without a zone or seconds', '2026-11-19T15:00'],
    ['a day that does not exist', '2026-02-30'],
    ['a month that does not exist', '2026-13-01'],
    ['month zero', '2026-00-10'],
    ['day zero', '2026-11-00'],
    ['hour 24', '2026-11-19T24:00:00Z'],
    ['minute 60', '2026-11-19T23:60:00Z'],
    ['second 60', '2026-11-19T23:59:60Z'],
    ['the leap day of a year without one', '2025-02-29'],
    ['an offset of more than a day', '2026-11-19T15:00:00+25:00'],
    ['an offset minute that does not exist', '2026-11-19T15:00:00+01:60'],
    ['an offset without a colon', '2026-11-19T15:00:00+0100'],
    ['a lowercase zone', '2026-11-19T15:00:00z'],
    ['a fraction without seconds', '2026-11-19T15:00.5Z'],
    ['a space for the T', '2026-11-19 15:00:00Z'],
    ['a date without leading zeros', '2026-1-9'],
    ['a version', '1.2.0'],
    ['a version with a v', 'v1.2.0'],
    ['previous', 'previous'],
    ['a date with text around it', ' 2026-11-19'],
    ['a date followed by more', '2026-11-19x'],
    ['nothing', '']
  ])('refuses %s: %j', (_name, text) => {
    expect(parseMoment(text)).toBeUndefined()
  })
})

describe('recordOf keeps only a record ecr-promote wrote for this pointer', () => {
  const payload = {
    repository: 'api',
    tag: 'production',
    digest: image,
    version: '1.2.0',
    image: `${URI}@${image}`
  }
  const record = (given: unknown): DeploymentRecord => ({
    id: 7,
    environment: 'production',
    createdAt: new Date('2026-11-19T15:00:00Z'),
    payload: given
  })

  it.each<[string, object, object]>([
    ['accepts a well-formed payload, with the record around it', {}, {}],
    ['keeps only the payload fields it knows', { extra: 'left out' }, { extra: undefined }],
    ['a version that is not text becomes null', { version: 120 }, { version: null }],
    ['a version left out becomes null', { version: undefined }, { version: null }],
    ['a null version stays null', { version: null }, { version: null }],
    ['an image that is not text becomes empty', { image: ['x'] }, { image: '' }],
    ['an image left out becomes empty', { image: undefined }, { image: '' }]
  ])('%s', (_name, change, normalised) => {
    const kept = recordOf(record({ ...payload, ...change }), 'api', 'production')
    expect(kept).toEqual(record({ ...payload, ...normalised }))
  })

  it.each<[string, unknown]>([
    ['another repository', { ...payload, repository: 'web' }],
    ['another tag', { ...payload, tag: 'staging' }],
    ['no repository', { ...payload, repository: undefined }],
    ['a repository that is not text', { ...payload, repository: ['api'] }],
    ['a digest of another algorithm', { ...payload, digest: `sha512:${'a'.repeat(64)}` }],
    ['a short digest', { ...payload, digest: shortDigest(image) }],
    ['a digest in upper case', { ...payload, digest: `sha256:${'A'.repeat(64)}` }],
    ['a digest with more after it', { ...payload, digest: `${image}0` }],
    ['a digest that is not text', { ...payload, digest: 42 }],
    ['no digest', { ...payload, digest: undefined }],
    ['a payload that is text', JSON.stringify(payload)],
    ['a null payload', null],
    ['no payload', undefined],
    ['an array payload', [payload]],
    ['a number payload', 1]
  ])('refuses %s', (_name, given) => {
    expect(recordOf(record(given), 'api', 'production')).toBeUndefined()
  })
})

describe('LANDED_STATES', () => {
  it('are success and inactive, of all the states a deployment can have', () => {
    expect([...LANDED_STATES].sort()).toEqual(['inactive', 'success'])
  })
})

describe('noRecordAt says why a rollback to a moment has nothing to go to', () => {
  const moment = { at: new Date('2026-11-19T23:59:59.999Z'), text: '2026-11-19' }

  /** Rows `name | pointer | environment | its earliest record (- for none) | why`. */
  it.each(
    rows(
      'names the earliest record when every record is after the moment | api:production | prod | 2026-12-01T08:00:00Z | its earliest deployment record there is from 2026-12-01T08:00:00.000Z',
      'says there is no record when the environment holds none of the pointer | web:stable | production | - | there is no deployment record of it there'
    )
  )('%s', (_name, pointer = '', environment = '', earliest, why) => {
    const [repository = '', tag = ''] = pointer.split(':')
    const first = earliest === '-' ? undefined : new Date(earliest ?? '')
    expect(noRecordAt(repository, tag, environment, moment, first)).toBe(
      `cannot roll back ${pointer} to 2026-11-19 (2026-11-19T23:59:59.999Z): by the GitHub environment ${environment}, ${why}. The history starts when deployments: on was first used; roll back to a version instead`
    )
  })
})

describe('describeRecord', () => {
  const pointerRecord = (version: string | null): PointerRecord => ({
    id: 1234,
    environment: 'production',
    createdAt: new Date('2026-11-19T15:00:00+01:00'),
    payload: { repository: 'api', tag: 'production', digest: image, version, image: URI }
  })

  it.each([
    ['1.2.0', ' (1.2.0)'],
    [null, ''],
    ['', '']
  ])('with version %j', (version, text) => {
    expect(describeRecord(pointerRecord(version))).toBe(
      `deployment 1234 of 2026-11-19T14:00:00.000Z: production on ${shortDigest(image)}${text}`
    )
  })
})
