// @ts-check
// Node 24, the runtime the action declares (`runs.using: node24`), whatever node this machine has:
// the npm registry's node-<platform>-<arch> package at the 24 line, a tarball with bin/node. It is
// fetched once into .cache/ (about 50 MB) and unpacked into a temporary folder for each use.
//
// `node scripts/node24.mjs <command> [args…]` runs the command with that node first on PATH (.ci/run
// runs the end-to-end suites so); `npm run bench` times cold start with it too.
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const CACHE = join(root, '.cache')
const PACKAGE = `node-${process.platform}-${process.arch}`

/** The package's tarball in .cache/, fetched by `npm pack` unless one of the 24 line is there. */
function tarball() {
  mkdirSync(CACHE, { recursive: true })
  const cached = readdirSync(CACHE).find((name) => name.startsWith(`${PACKAGE}-24.`))
  if (cached) return join(CACHE, cached)
  process.stderr.write(`[node24] fetching ${PACKAGE}@24 from the npm registry into .cache/\n`)
  const pack = ['pack', `${PACKAGE}@24`, '--pack-destination', CACHE, '--loglevel', 'warn']
  const name = execFileSync('npm', pack, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit']
  })
  return join(CACHE, name.trim().split('\n').at(-1) ?? '')
}

/**
 * Runs `use` with the path of a Node 24 binary, removed after it.
 * @template T
 * @param {(node: string) => Promise<T>} use
 * @returns {Promise<T>}
 */
export async function withNode24(use) {
  const dir = mkdtempSync(join(os.tmpdir(), 'ecr-promote-node24-'))
  try {
    execFileSync('tar', ['xzf', tarball(), '-C', dir, 'package/bin/node'])
    const node = join(dir, 'package/bin/node')
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
    if (!version.startsWith('v24.')) throw new Error(`${PACKAGE}@24 holds node ${version}`)
    process.stderr.write(`[node24] node ${version}\n`)
    return await use(node)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, ...args] = process.argv.slice(2)
  if (!command) {
    process.stderr.write('usage: node scripts/node24.mjs <command> [args…]\n')
    process.exit(2)
  }
  process.exitCode = await withNode24(
    (node) =>
      new Promise((resolve, reject) => {
        const PATH = `${dirname(node)}:${process.env.PATH ?? ''}`
        process.stderr.write(`[node24] ${[command, ...args].join(' ')} with ${node}\n`)
        const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, PATH } })
        child.on('error', reject)
        child.on('close', (status, signal) => resolve(status ?? (signal ? 1 : 0)))
      })
  )
}
