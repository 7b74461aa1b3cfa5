// @ts-check
// Usage docs generated from action.yml: `npm run docs` rewrites the inputs and outputs tables in README.md,
// and a test fails when the README and action.yml disagree.
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const START = '<!-- action-docs:start (generated from action.yml by npm run docs) -->'
const END = '<!-- action-docs:end -->'

/** @param {unknown} text */
const cell = (text) => String(text).replaceAll('|', '\\|').replaceAll('\n', ' ').trim()

/** The inputs and outputs tables for an action.yml text. @param {string} actionYml */
export function renderActionDocs(actionYml) {
  const action = parse(actionYml)
  const inputs = Object.entries(action.inputs).map(
    ([name, spec]) =>
      `| \`${name}\` | ${spec.required ? 'required' : spec.default === '' ? "`''`" : `\`${spec.default}\``} | ${cell(spec.description)} |`
  )
  const outputs = Object.entries(action.outputs).map(
    ([name, spec]) => `| \`${name}\` | ${cell(spec.description)} |`
  )
  return [
    '### Inputs',
    '',
    '| input | default | meaning |',
    '|---|---|---|',
    ...inputs,
    '',
    '### Outputs',
    '',
    '| output | meaning |',
    '|---|---|',
    ...outputs
  ].join('\n')
}

/** README text with the generated section replaced. @param {string} readme @param {string} actionYml */
export function withActionDocs(readme, actionYml) {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start < 0 || end < start) throw new Error(`README.md needs the markers ${START} and ${END}`)
  return `${readme.slice(0, start + START.length)}\n\n${renderActionDocs(actionYml)}\n\n${readme.slice(end)}`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = new URL('..', import.meta.url)
  const readmePath = new URL('README.md', root)
  const [readme, actionYml] = await Promise.all([
    readFile(readmePath, 'utf8'),
    readFile(new URL('action.yml', root), 'utf8')
  ])
  await writeFile(readmePath, withActionDocs(readme, actionYml))
}
