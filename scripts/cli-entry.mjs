// Writes dist/cli.js, the command line's entry (package.json `bin`): the bundle in dist/cli, behind
// the line that lets a shell run it. A file of its own, so `npm run bundle` writes it every time.
import { chmodSync, writeFileSync } from 'node:fs'

const entry = new URL('../dist/cli.js', import.meta.url)
writeFileSync(entry, "#!/usr/bin/env node\nimport './cli/index.js'\n")
chmodSync(entry, 0o755)
