// @ts-check
// Preloaded into the action's process by scripts/bench.mjs (NODE_OPTIONS=--import=...) to measure
// the action's peak memory while run-action.mjs runs it exactly as a runner does. With
// /usr/bin/time present, it runs the same command once more under `/usr/bin/time -f %M` (that child,
// without this preload, is the process measured) and exits with its status; otherwise this process
// records its own process.resourceUsage().maxRSS at exit. Either way BENCH_RSS_FILE receives
// `time <KiB>` or `self <KiB>`.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const TIME = '/usr/bin/time'
const out = process.env.BENCH_RSS_FILE

if (out) {
  if (existsSync(TIME)) {
    const env = { ...process.env }
    delete env.NODE_OPTIONS
    delete env.BENCH_RSS_FILE
    const { status } = spawnSync(
      TIME,
      ['-f', '%M', '-o', `${out}.time`, process.execPath, ...process.argv.slice(1)],
      { stdio: 'inherit', env }
    )
    // GNU time puts "Command exited with non-zero status N" before the figure when the run failed.
    const kib = readFileSync(`${out}.time`, 'utf8').trim().split('\n').pop()
    writeFileSync(out, `time ${kib}`)
    process.exit(status ?? 1)
  }
  process.on('exit', () => writeFileSync(out, `self ${process.resourceUsage().maxRSS}`))
}
