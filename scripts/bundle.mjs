// @ts-check
// `npm run bundle`: dist/index.js (the action) and dist/cli.js (the command line), then a stamp of
// what they were built from. The end-to-end tests call bundleIfStale() first
// (__tests__/e2e/global-setup.mjs), so they never run a dist/ older than src/.
//
// Stale means: no stamp, or the stamp's hash of the inputs (src/, the package and TypeScript
// settings, this script) or of dist/ is not theirs now. Contents are hashed, not times: a checkout,
// a stash or an edit of dist/ by hand all count; touching a file without changing it does not. The
// stamp lives in .cache/, which git ignores, so a fresh clone (CI's) always bundles.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const STAMP = join(root, '.cache/bundle-stamp.json')
const INPUTS = ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts/bundle.mjs']
const NCC = join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js')

/** One hash of the names and contents of every file under `paths` (files or folders). @param {string[]} paths */
function hashOf(paths) {
  const hash = createHash('sha256')
  for (const path of paths) {
    const full = join(root, path)
    if (!existsSync(full)) continue
    const files = statSync(full).isFile()
      ? [full]
      : readdirSync(full, { withFileTypes: true, recursive: true })
          .filter((entry) => entry.isFile())
          .map((entry) => join(entry.parentPath, entry.name))
          .sort()
    for (const file of files) hash.update(`${relative(root, file)}\0`).update(readFileSync(file))
  }
  return hash.digest('hex')
}

const stampNow = () => ({ inputs: hashOf(INPUTS), dist: hashOf(['dist']) })

/**
 * One ncc build; fails with its output. A dynamic import() becomes a chunk of its own (`<id>.index.js`),
 * read only when the import runs. ncc's own licenses file lists only the last chunk's packages, so
 * licenses.txt is written here, from the build's stats: every bundled package, by name.
 * @param {string} entry @param {string} out @returns {Promise<void>}
 */
async function ncc(entry, out) {
  const stats = join(root, out, 'stats.json')
  const args = [NCC, 'build', entry, '-o', out, '--minify', '--stats-out', stats, '-q']
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('error', reject)
    child.on('close', (status) =>
      status === 0 ? resolve(undefined) : reject(new Error(`ncc build ${entry} failed:\n${output}`))
    )
  })
  const { modules } = JSON.parse(readFileSync(stats, 'utf8'))
  rmSync(stats)
  writeFileSync(join(root, out, 'licenses.txt'), licenses(modules))
}

/**
 * The licenses of the packages the stats' modules (concatenated ones included) come from, as ncc's
 * `--license` writes them: name, license, the license file's text.
 * @param {{ name?: string, modules?: { name?: string }[] }[]} modules
 */
function licenses(modules) {
  const directories = new Set(
    modules
      .flatMap((module) => [module, ...(module.modules ?? [])])
      .map(({ name = '' }) => /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(name)?.[1])
      .filter((directory) => directory !== undefined)
      .map((directory) => join(root, directory))
  )
  const entries = new Map()
  for (const directory of directories) {
    const {
      name,
      version,
      license = ''
    } = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'))
    const file = readdirSync(directory).find((file) => /^(licen[cs]e|copying)/i.test(file))
    const text = file ? readFileSync(join(directory, file), 'utf8').trim() : ''
    entries.set(`${name}@${version}`, {
      name,
      text: [name, license, text].filter(Boolean).join('\n')
    })
  }
  const sorted = [...entries.values()].sort((x, y) => x.name.localeCompare(y.name))
  return `${sorted.map(({ text }) => text).join('\n\n')}\n`
}

/** Builds dist/ from src/ and stamps it. */
export async function bundle() {
  // ncc adds to its output folder: a chunk of an earlier build would stay beside the new ones.
  rmSync(join(root, 'dist'), { recursive: true, force: true })
  await ncc('src/action/index.ts', 'dist')
  await ncc('src/cli/bin.ts', 'dist/cli')
  // The command line's entry (package.json `bin`): the bundle in dist/cli, behind a shebang.
  const entry = join(root, 'dist/cli.js')
  writeFileSync(entry, "#!/usr/bin/env node\nimport './cli/index.js'\n")
  chmodSync(entry, 0o755)
  mkdirSync(join(root, '.cache'), { recursive: true })
  writeFileSync(STAMP, `${JSON.stringify(stampNow())}\n`)
}

/** Whether bundle() built dist/ as it is from the inputs as they are. */
export function isFresh() {
  if (!existsSync(STAMP)) return false
  const stamp = JSON.parse(readFileSync(STAMP, 'utf8'))
  const now = stampNow()
  return stamp.inputs === now.inputs && stamp.dist === now.dist
}

/** Bundles unless dist/ is fresh, saying so: it takes a while. */
export async function bundleIfStale() {
  if (isFresh()) return
  process.stderr.write('\n[ecr-promote tests] dist/ was not built from src/ as it is: bundling\n')
  await bundle()
}

/** Bundles only when there is no dist/ to run (the committed one is run as it is). */
export async function bundleIfMissing() {
  if (existsSync(join(root, 'dist/index.js'))) return
  process.stderr.write('dist/ is missing: bundling it first (about a minute)\n')
  await bundle()
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now()
  await bundle()
  process.stdout.write(`bundled dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
}
