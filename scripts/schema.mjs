// @ts-check
// `npm run schema`: the convention file's validator, compiled ahead of time from
// convention.schema.json into src/core/convention.validate.js (Ajv's standalone code), so a run
// that reads a convention file neither loads Ajv nor compiles the schema (50 to 90 ms of its start
// on a 2-core machine). A test fails when the file disagrees with the schema.
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import standalone from 'ajv/dist/standalone/index.js'

export const SCHEMA = fileURLToPath(new URL('../convention.schema.json', import.meta.url))
export const VALIDATOR = fileURLToPath(
  new URL('../src/core/convention.validate.js', import.meta.url)
)

/**
 * The validator's module for a schema's text, every error reported. Ajv's ES module output still
 * `require`s its one runtime helper here (ajv-validator/ajv#2209), which a bundle cannot follow:
 * the helper counts a string's code points, as `[...text].length` does.
 * @param {string} schemaText
 */
export function validatorSource(schemaText) {
  const ajv = new Ajv({ allErrors: true, code: { source: true, esm: true } })
  const code = standalone
    .default(ajv, ajv.compile(JSON.parse(schemaText)))
    .replaceAll('require("ajv/dist/runtime/ucs2length").default', '(text) => [...text].length')
  if (code.includes('require(')) throw new Error('the validator requires more of Ajv at run time')
  return `// Generated from convention.schema.json by npm run schema: do not edit.\n// @ts-nocheck\n${code}\n`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(VALIDATOR, validatorSource(await readFile(SCHEMA, 'utf8')))
}
