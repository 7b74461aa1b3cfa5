import { createInterface } from 'node:readline/promises'
import { cli } from './cli.js'

const noColor = (process.env.NO_COLOR ?? '') !== ''
process.exitCode = await cli(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
  live: process.stderr.isTTY === true,
  interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
  color: process.stdout.isTTY === true && !noColor,
  async ask(question) {
    const prompt = createInterface({ input: process.stdin, output: process.stderr })
    try {
      return await prompt.question(question)
    } finally {
      prompt.close()
    }
  }
})
