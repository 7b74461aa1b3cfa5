/**
 * End to end, the package as npm ships it: `npm pack`, the tarball installed globally into a
 * temporary prefix with no network (`--offline`, an empty npm cache), and the installed
 * `ecr-promote` run as a shell runs it, on the node that runs the tests.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { dockerV2Image, seedImage } from '../support/images.mjs'
import { AWS_TEST, createRepository, withStandIn } from '../support/e2e.js'

const exec = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string
}

it(
  'installs from its tarball with no network and no other package; the installed command runs',
  () =>
    withStandIn(async ({ standIn, client }) => {
      const dir = mkdtempSync(join(os.tmpdir(), 'ecr-promote-install-'))
      try {
        const env = {
          PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
          HOME: dir,
          npm_config_cache: join(dir, 'npm-cache')
        }
        const packed = await exec('npm', ['pack', '--silent', '--pack-destination', dir], {
          cwd: root,
          env
        })
        const prefix = join(dir, 'prefix')
        await exec(
          'npm',
          [
            ...['install', '--global', '--offline', '--no-audit', '--no-fund', '--prefix', prefix],
            join(dir, packed.stdout.trim())
          ],
          { env }
        )
        const installed = join(prefix, 'lib/node_modules/ecr-promote')
        // Only what the command line runs, and no node_modules: the install pulled nothing else.
        // The chunks (the GitHub client; a convention file's checks, and the YAML parser and schema
        // validator they use; the STS provider of a target role) are named by module ids, which
        // depend on where the bundle was built.
        const files = readdirSync(installed, { recursive: true }).map((file) =>
          String(file).replace(/^dist\/cli\/\d+\.index\.js$/, 'dist/cli/<chunk>.index.js')
        )
        expect(files.sort()).toEqual([
          'LICENSE',
          'README.md',
          'dist',
          'dist/cli',
          'dist/cli.js',
          ...Array(4).fill('dist/cli/<chunk>.index.js'),
          'dist/cli/index.js',
          'dist/cli/licenses.txt',
          'dist/cli/package.json',
          'package.json'
        ])

        const bin = join(prefix, 'bin/ecr-promote')
        expect((await exec(bin, ['--version'], { env })).stdout).toBe(`ecr-promote ${version}\n`)

        await createRepository(client, 'team/app')
        await seedImage(client, 'team/app', dockerV2Image('team/app-1.0.0'), [
          'v1.0.0',
          'production'
        ])
        // A convention file loads the chunk that parses and validates it: nothing of it is left
        // to find in a node_modules the install does not have.
        const convention = join(root, '__tests__/support/four-tags-convention.yml')
        const status = await exec(
          bin,
          [
            ...['status', '--repository', 'team/app', '--convention', convention],
            ...['--endpoint-url', standIn.url]
          ],
          {
            env: { ...env, ...AWS_TEST }
          }
        )
        expect(status.stdout).toMatch(/^production\s+sha256:[0-9a-f]{12}\s+1\.0\.0\s/m)
        // The AWS SDK warns on every call under a node it is dropping (20): never under one we support.
        const major = Number(process.versions.node.split('.')[0])
        expect(status.stderr.includes('NodeVersionSupportWarning')).toBe(major < 22)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }),
  60_000
)
