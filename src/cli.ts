import { commandContext } from './context.js'
import { exitCode, parseCommand, type Command } from './command.js'
import { sdkRegion } from './ecr.js'
import { readInputs } from './inputs.js'
import { execute, onCancel, type Setup } from './main.js'
import { messageOf } from './model.js'
import { problemsOf } from './problems.js'
import { jsonOutput } from './report.js'
import { renderResult, terminalHost, type Terminal } from './terminal.js'

/**
 * The command line: the action's pipeline, with its inputs from flags and its report on the
 * terminal. Returns the exit code.
 */
export async function cli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  terminal: Terminal
): Promise<number> {
  const parsed = parseCommand(argv)
  if ('help' in parsed) {
    terminal.stdout.write(`${parsed.help}\n`)
    return 0
  }
  if ('usage' in parsed) {
    terminal.stderr.write(`error: ${parsed.usage}\n`)
    return 2
  }
  const { command } = parsed
  // The AWS SDK reads both from the environment, as it reads every other setting of its chain.
  if (command.profile) env.AWS_PROFILE = command.profile
  if (command.endpointUrl) env.AWS_ENDPOINT_URL_ECR = command.endpointUrl
  const host = terminalHost(terminal, command)
  const cancel = onCancel(host)
  const result = await execute(host, () => setup(command, env), cancel.signal).finally(() =>
    cancel.dispose()
  )
  host.settle()
  if (command.json) {
    terminal.stdout.write(`${JSON.stringify(jsonOutput(result), null, 2)}\n`)
    if (result.failure !== undefined)
      for (const problem of problemsOf(result.failure))
        terminal.stderr.write(`error: ${messageOf(problem)}\n`)
  } else terminal.stdout.write(renderResult(result, terminal.color))
  return exitCode(result)
}

async function setup(command: Command, env: NodeJS.ProcessEnv): Promise<Setup> {
  const region =
    command.inputs.get('region') || env.AWS_REGION || env.AWS_DEFAULT_REGION || (await sdkRegion())
  const context = commandContext(env, process.cwd(), region)
  const inputs = readInputs(context, {
    get: (name) =>
      command.inputs.get(name) || (name === 'github-token' ? (env.GITHUB_TOKEN ?? '') : ''),
    list: (name) => command.inputs.list(name)
  })
  return { context, inputs }
}
