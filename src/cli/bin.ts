import { createInterface } from 'node:readline/promises'
import { cli } from './cli.js'

const noColor = (process.env.NO_COLOR ?? '') !== ''
process.exitCode = await cli(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
  live: process.stderr.isTTY === true,
  // A person types the answer: stdin is theirs, whether or not stderr is redirected.
  interactive: process.stdin.isTTY === true,
  color: process.stdout.isTTY === true && !noColor,
  async ask(question) {
    const output = process.stderr.isTTY ? process.stderr : process.stdout
    const prompt = createInterface({ input: process.stdin, output })
    try {
      return await prompt.question(question)
    } finally {
      prompt.close()
    }
  }
})
