/**
 * The action under `@github/local-action`, GitHub's tool for running an action on a workstation: it
 * runs the TypeScript entry src/action/main.ts (its exported `run`) with its own stand-in of
 * `@actions/core`, which has no `ExitCode`, inputs and environment from a dotenv file, against the
 * ECR stand-in. A failing run must fail as an action does there too: its `::error::` lines, exit
 * code 1, no stack trace.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dockerV2Image, seedImage, tagsByDigest } from '../support/images.mjs'
import { AWS_TEST, createRepository, withStandIn } from '../support/e2e.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const LOCAL_ACTION = join(ROOT, 'node_modules/@github/local-action/bin/local-action.js')
const SHA = '1100000bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'

/** `npx local-action run <action-dir> src/action/main.ts <dotenv>`, on a push to main with these inputs. */
function localAction(dir: string, url: string, name: string, inputs: Record<string, string>) {
  const event = join(dir, `${name}.json`)
  writeFileSync(event, JSON.stringify({ repository: { default_branch: 'main' } }))
  const dotenv = join(dir, `${name}.env`)
  const settings = {
    ...Object.fromEntries(
      Object.entries(inputs).map(([input, value]) => [`INPUT_${input.toUpperCase()}`, value])
    ),
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: SHA,
    GITHUB_EVENT_PATH: event,
    GITHUB_WORKSPACE: ROOT,
    GITHUB_STEP_SUMMARY: join(dir, `${name}.md`),
    AWS_ENDPOINT_URL_ECR: url,
    ...AWS_TEST
  }
  writeFileSync(join(dir, `${name}.md`), '')
  writeFileSync(
    dotenv,
    Object.entries(settings)
      .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
      .join('\n')
  )
  const child = spawn(process.execPath, [LOCAL_ACTION, 'run', ROOT, 'src/action/main.ts', dotenv], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  return new Promise<{ status: number | null; output: string; errors: string[] }>(
    (resolve, reject) => {
      child.on('error', reject)
      child.on('close', (status) =>
        resolve({
          status,
          output,
          errors: output
            .split('\n')
            .filter((line) => line.startsWith('::error::'))
            .map((line) => line.slice('::error::'.length))
        })
      )
    }
  )
}

it(
  'runs a push that moves latest, and fails one without a build image as an action does',
  () =>
    withStandIn(async ({ standIn, client }) => {
      const dir = mkdtempSync(join(tmpdir(), 'ecr-promote-local-action-'))
      try {
        const [built, unbuilt] = ['team/local-built', 'team/local-unbuilt']
        for (const name of [built, unbuilt]) await createRepository(client, name)
        const digest = await seedImage(client, built, dockerV2Image(built), [
          `sha-${SHA.slice(0, 7)}`
        ])

        const [moved, failed] = await Promise.all([
          localAction(dir, standIn.url, 'moved', { repository: built }),
          localAction(dir, standIn.url, 'failed', { repository: unbuilt })
        ])

        expect(moved.errors).toEqual([])
        expect(moved.status).toBe(0)
        expect((await tagsByDigest(client, built)).latest).toBe(digest)

        expect(failed.errors).toEqual([
          expect.stringMatching(
            `^source image 'sha-${SHA.slice(0, 7)}' not found in repository ${unbuilt}: it is the build tag`
          )
        ])
        expect(failed.status).toBe(1)
        // run() returned, so local-action goes on to list the outputs; after them it reports exit code 1.
        const ran = /Running Action([\s\S]*)Action Outputs/.exec(failed.output)?.[1]
        expect(ran).toContain('::error::')
        expect(ran).not.toMatch(/TypeError|^\s+at /m)
        expect(await tagsByDigest(client, unbuilt)).toEqual({})
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }),
  60_000
)
