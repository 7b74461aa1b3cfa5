import { readFile } from 'node:fs/promises'
import { SCHEMA, VALIDATOR, validatorSource } from '../../../scripts/schema.mjs'

it('the convention validator is compiled from convention.schema.json as it is (npm run schema regenerates it)', async () => {
  expect(await readFile(VALIDATOR, 'utf8')).toBe(validatorSource(await readFile(SCHEMA, 'utf8')))
})
