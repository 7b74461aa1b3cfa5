import { readFile } from 'node:fs/promises'
import { SCHEMA, VALIDATOR, validatorSource } from '../../../scripts/schema.mjs'
import { validate } from '../../../src/core/convention.validate.js'

describe('the convention validator, compiled ahead of time', () => {
  it('is compiled from convention.schema.json as it is (npm run schema regenerates it)', async () => {
    expect(await readFile(VALIDATOR, 'utf8')).toBe(validatorSource(await readFile(SCHEMA, 'utf8')))
  })

  it.each([
    [255, true],
    [256, false]
  ])(
    'counts a length in characters, as Ajv does: a GitHub environment of %d emoji is valid: %s',
    (count, valid) => {
      const document = {
        name: 'n',
        'build-tag': 'sha-{sha7}',
        'version-tag': 'v{version}',
        deployments: { production: '🚀'.repeat(count) }
      }
      expect(validate(document)).toBe(valid)
    }
  )
})
