import { readFileSync } from 'node:fs'
import { readFile, realpath } from 'node:fs/promises'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import type { Context, EventPayload } from '../core/context.js'

export function readContext(env: NodeJS.ProcessEnv = process.env): Context {
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    ref: env.GITHUB_REF ?? '',
    headRef: env.GITHUB_HEAD_REF ?? '',
    sha: env.GITHUB_SHA ?? '',
    shaFrom: 'GITHUB_SHA',
    ...(env.GITHUB_RUN_NUMBER && { runNumber: env.GITHUB_RUN_NUMBER }),
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || '',
    payload: readPayload(env.GITHUB_EVENT_PATH),
    github: githubOf(env)
  }
}

const githubOf = (env: NodeJS.ProcessEnv): Context['github'] => ({
  apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
  serverUrl: (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, ''),
  repository: env.GITHUB_REPOSITORY ?? '',
  runId: env.GITHUB_RUN_ID ?? ''
})

/** The first of these variables that is set: what each CI calls the commit, branch and build number. */
const CI_VARIABLES = {
  sha: ['GITHUB_SHA', 'CI_COMMIT_SHA', 'CIRCLE_SHA1', 'BUILDKITE_COMMIT', 'GIT_COMMIT'],
  // Only variables that name a branch on a branch build, never a tag or a pull request; on GitHub
  // Actions, GITHUB_REF says which it is.
  branch: ['CI_COMMIT_BRANCH', 'CIRCLE_BRANCH'],
  runNumber: [
    'GITHUB_RUN_NUMBER',
    'CI_PIPELINE_IID',
    'CIRCLE_BUILD_NUM',
    'BUILDKITE_BUILD_NUMBER',
    'BUILD_NUMBER'
  ]
} as const

/**
 * The context of a command typed at a terminal or run by any CI: no GitHub event; the commit,
 * branch and build number from the CI's own variables (GitHub Actions, GitLab CI, CircleCI; the
 * commit and build number of Buildkite and Jenkins too), the workspace the current directory.
 */
export function commandContext(env: NodeJS.ProcessEnv, workspace: string, region: string): Context {
  const first = (names: readonly string[]) => names.find((name) => env[name])
  const shaFrom = first(CI_VARIABLES.sha)
  const branch = env[first(CI_VARIABLES.branch) ?? ''] ?? ''
  const runNumber = env[first(CI_VARIABLES.runNumber) ?? '']
  return {
    eventName: '',
    // On GitHub Actions the ref itself says whether this is a branch or a tag.
    ref: env.GITHUB_REF || (branch ? `refs/heads/${branch}` : ''),
    // Never a pull request's head branch: without its event, a fork's `main` would read as ours.
    headRef: '',
    sha: shaFrom ? (env[shaFrom] as string) : '',
    shaFrom: shaFrom ?? 'nowhere',
    ...(runNumber && { runNumber }),
    workspace,
    region,
    payload: env.CI_DEFAULT_BRANCH ? { repository: { default_branch: env.CI_DEFAULT_BRANCH } } : {},
    github: githubOf(env)
  }
}

function readPayload(path: string | undefined): EventPayload {
  if (!path) return {}
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new Error(
      `cannot read the event payload GITHUB_EVENT_PATH=${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      { cause: error }
    )
  }
  let payload: unknown
  try {
    payload = JSON.parse(text)
  } catch (error) {
    throw new Error(`the event payload GITHUB_EVENT_PATH=${path} is not valid JSON`, {
      cause: error
    })
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new Error(`the event payload GITHUB_EVENT_PATH=${path} is not a JSON object`)
  }
  return payload
}

/**
 * Reads a file named relative to the workspace, refusing any path that resolves (links included)
 * outside it: a convention decides what reaches production, so it must come from the checkout.
 */
export function workspaceReader(workspace: string): (path: string) => Promise<string> {
  return async (path) => {
    const root = await realpath(workspace)
    // Checked on the path as written first, so a path outside is refused even if nothing is there.
    refuseOutside(root, resolve(root, path))
    const target = await realpath(resolve(root, path))
    refuseOutside(root, target)
    return readFile(target, 'utf8')
  }
}

function refuseOutside(root: string, target: string): void {
  const inside = relative(root, target)
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new Error(`it resolves to ${target}, outside the workspace ${root}`)
  }
}
