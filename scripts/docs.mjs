// @ts-check
// Usage docs generated from action.yml and the command line's flag table (src/cli/flags.json):
// `npm run docs` rewrites the inputs and outputs tables in README.md and the flags table in
// docs/command-line.md, and a test fails when either disagrees with its source.
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const START = '<!-- action-docs:start (generated from action.yml by npm run docs) -->'
const END = '<!-- action-docs:end -->'
const FLAGS_START = '<!-- flags:start (generated from src/cli/flags.json by npm run docs) -->'
const FLAGS_END = '<!-- flags:end -->'

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

/**
 * The text with what lies between two markers replaced.
 * @param {string} text @param {string} start @param {string} end @param {string} generated
 */
function between(text, start, end, generated) {
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from < 0 || to < from) throw new Error(`the page needs the markers ${start} and ${end}`)
  return `${text.slice(0, from + start.length)}\n\n${generated}\n\n${text.slice(to)}`
}

/** README text with the generated section replaced. @param {string} readme @param {string} actionYml */
export const withActionDocs = (readme, actionYml) =>
  between(readme, START, END, renderActionDocs(actionYml))

/**
 * The command line's flags, and the commands that take each, as one table.
 * @param {{ name: string, argument?: string, negatable?: boolean, short?: string, repeat?: boolean, commands: string[], description: string }[]} flags
 */
export function renderFlags(flags) {
  const every = new Set(flags.flatMap(({ commands }) => commands))
  const rows = flags.map(({ name, argument, negatable, short, repeat, commands, description }) => {
    const label = [
      `\`--${name}${argument ? ` ${argument}` : ''}\``,
      ...(negatable ? [`\`--no-${name}\``] : []),
      ...(short ? [`\`-${short}\``] : [])
    ].join(', ')
    const missing = [...every].filter((command) => !commands.includes(command))
    const taken =
      missing.length === 0
        ? 'all'
        : missing.length === 1
          ? `all but \`${missing[0]}\``
          : commands.map((command) => `\`${command}\``).join(', ')
    return `| ${label.replaceAll('|', '\\|')}${repeat ? ' (repeats)' : ''} | ${taken} | ${cell(description)} |`
  })
  return ['| flag | commands | meaning |', '|---|---|---|', ...rows].join('\n')
}

/** docs/command-line.md with its flags table replaced. @param {string} page @param {string} flagsJson */
export const withFlagDocs = (page, flagsJson) =>
  between(page, FLAGS_START, FLAGS_END, renderFlags(JSON.parse(flagsJson)))

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = new URL('..', import.meta.url)
  const at = (/** @type {string} */ path) => new URL(path, root)
  const read = (/** @type {string} */ path) => readFile(at(path), 'utf8')
  await writeFile(
    at('README.md'),
    withActionDocs(await read('README.md'), await read('action.yml'))
  )
  await writeFile(
    at('docs/command-line.md'),
    withFlagDocs(await read('docs/command-line.md'), await read('src/cli/flags.json'))
  )
}
