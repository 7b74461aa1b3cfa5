import { createInterface } from 'node:readline/promises'
import { cli } from './cli.js'
import { openSync } from 'node:fs'
import { WriteStream } from 'node:tty'

/** The controlling terminal itself, or stderr where there is none. */
function terminalOutput(): NodeJS.WriteStream {
  try {
    return new WriteStream(openSync('/dev/tty', 'w'))
  } catch {
    return process.stderr
  }
}

const noColor = (process.env.NO_COLOR ?? '') !== ''
process.exitCode = await cli(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
  live: process.stderr.isTTY === true,
  // A person types the answer: stdin is theirs, whether or not stderr is redirected.
  interactive: process.stdin.isTTY === true,
  color: process.stdout.isTTY === true && !noColor,
  async ask(question) {
    // On the terminal, even when stderr is not (2>/dev/null hides the SDK's noise, not this).
    const output = process.stderr.isTTY ? process.stderr : terminalOutput()
    const prompt = createInterface({ input: process.stdin, output })
    try {
      return await prompt.question(question)
    } finally {
      prompt.close()
      if (output !== process.stderr) output.destroy()
    }
  }
})
