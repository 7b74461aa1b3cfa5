// @ts-check
// Runs the bundled action (dist/index.js) the way a GitHub runner does: every input as INPUT_<NAME>
// (action.yml defaults included), the event payload in GITHUB_EVENT_PATH, and GITHUB_OUTPUT,
// GITHUB_STEP_SUMMARY and GITHUB_STATE as files that the run writes to. AWS_ENDPOINT_URL_ECR points
// the SDK at a test endpoint. runPost runs the action's post step as the runner does when the job
// ends: the same entry, with the main step's saved state as STATE_<name>, even of a killed step.

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const root = fileURLToPath(new URL('../..', import.meta.url))
const action = parse(await readFile(join(root, 'action.yml'), 'utf8'))

/**
 * @typedef {object} RunOptions
 * @property {string} endpoint ECR endpoint URL
 * @property {string} eventName GITHUB_EVENT_NAME
 * @property {Record<string, unknown>} [payload] the webhook payload
 * @property {Record<string, string>} inputs action inputs by their action.yml names
 * @property {Record<string, string>} [env] more environment, such as GITHUB_REF and GITHUB_SHA
 * @property {string} [node] the node that runs it; the one running this by default
 */

/**
 * @typedef {object} RunResult
 * @property {number | null} status the exit code; null when a signal ended the process
 * @property {NodeJS.Signals | null} signal the signal that ended the process, if one did
 * @property {string} stdout
 * @property {string} stderr
 * @property {Record<string, string>} outputs what the run wrote to GITHUB_OUTPUT
 * @property {string} summary what the run wrote to GITHUB_STEP_SUMMARY
 * @property {string[]} errors the `::error::` lines, unescaped
 * @property {Record<string, string>} state what the run saved for its post step (GITHUB_STATE)
 */

/**
 * Runs the action and waits for it to end.
 * @param {RunOptions} options
 * @returns {Promise<RunResult>}
 */
export const runAction = (options) => startAction(options).result

/**
 * Runs the action's post step after a main step (`runs.post`): its state as STATE_<name>.
 * @param {RunOptions} options the main step's
 * @param {Record<string, string>} state what the main step saved
 * @returns {Promise<RunResult>}
 */
export const runPost = (options, state) => startAction(options, state).result

/**
 * Starts the action (with `state`, its post step) and returns at once: `child` is the running
 * process (to signal it, as a runner cancelling the job does), `result` settles when it has ended.
 * @param {RunOptions} options
 * @param {Record<string, string>} [state]
 * @returns {{ child: import('node:child_process').ChildProcessWithoutNullStreams, result: Promise<RunResult> }}
 */
export function startAction(
  { endpoint, eventName, payload = {}, inputs, env = {}, node },
  state = {}
) {
  const unknown = Object.keys(inputs).filter((name) => !(name in action.inputs))
  if (unknown.length > 0) throw new Error(`action.yml has no input ${unknown.join(', ')}`)
  const dir = mkdtempSync(join(tmpdir(), 'ecr-promote-run-'))
  const files = {
    event: join(dir, 'event.json'),
    output: join(dir, 'output'),
    summary: join(dir, 'summary'),
    state: join(dir, 'state')
  }
  /** @type {import('node:child_process').ChildProcessWithoutNullStreams} */
  let child
  try {
    writeFileSync(files.event, JSON.stringify(payload))
    for (const file of [files.output, files.summary, files.state]) writeFileSync(file, '')
    /** @type {Record<string, string>} */
    const inputEnv = {}
    for (const [name, spec] of Object.entries(action.inputs)) {
      inputEnv[`INPUT_${name.toUpperCase()}`] = inputs[name] ?? spec.default ?? ''
    }
    child = spawn(node ?? process.execPath, [join(root, 'dist/index.js')], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GITHUB_ACTIONS: 'true',
        GITHUB_EVENT_NAME: eventName,
        GITHUB_EVENT_PATH: files.event,
        GITHUB_OUTPUT: files.output,
        GITHUB_STEP_SUMMARY: files.summary,
        GITHUB_STATE: files.state,
        GITHUB_REPOSITORY: 'octo/app',
        GITHUB_WORKSPACE: root,
        RUNNER_TEMP: dir,
        AWS_ENDPOINT_URL_ECR: endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...inputEnv,
        ...Object.fromEntries(
          Object.entries(state).map(([name, value]) => [`STATE_${name}`, value])
        ),
        ...env
      }
    })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  /** @type {Promise<[number | null, NodeJS.Signals | null]>} */
  const ended = new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (status, signal) => resolve([status, signal]))
  })
  const result = (async () => {
    try {
      const [status, signal] = await ended
      return {
        status,
        signal,
        stdout,
        stderr,
        outputs: parseOutputs(await readFile(files.output, 'utf8')),
        state: parseOutputs(await readFile(files.state, 'utf8')),
        summary: await readFile(files.summary, 'utf8'),
        errors: stdout
          .split('\n')
          .filter((line) => line.startsWith('::error::'))
          .map((line) =>
            line.slice('::error::'.length).replaceAll('%0A', '\n').replaceAll('%25', '%')
          )
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })()
  return { child, result }
}

/**
 * GITHUB_OUTPUT and GITHUB_STATE hold `name<<DELIMITER`, the value's lines, then `DELIMITER`; a
 * name set again takes its last value, as the runner reads them.
 * @param {string} text
 */
function parseOutputs(text) {
  /** @type {Record<string, string>} */
  const outputs = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i] ?? '')
    if (!match) continue
    const [, name, delimiter] = match
    const end = lines.indexOf(/** @type {string} */ (delimiter), i + 1)
    outputs[/** @type {string} */ (name)] = lines.slice(i + 1, end).join('\n')
    i = end
  }
  return outputs
}
