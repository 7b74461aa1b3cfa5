import { readFile } from 'node:fs/promises'
import { withActionDocs } from '../scripts/docs.mjs'
import { parseConvention } from '../src/core/conventions.js'

describe('README', () => {
  it('documents exactly the inputs and outputs of action.yml (npm run docs regenerates them)', async () => {
    const [readme, actionYml] = await Promise.all([
      readFile('README.md', 'utf8'),
      readFile('action.yml', 'utf8')
    ])
    expect(readme).toBe(withActionDocs(readme, actionYml))
  })

  it('gives the test command that .ci/run runs', async () => {
    const [readme, ci] = await Promise.all([
      readFile('README.md', 'utf8'),
      readFile('.ci/run', 'utf8')
    ])
    expect(readme).toContain('npm ci && npm test')
    expect(ci).toMatch(/^npm test$/m)
  })

  it('shows a convention file example that loads', async () => {
    const readme = await readFile('README.md', 'utf8')
    const example = /### A convention file[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(parseConvention(example ?? '', 'README example')).toMatchObject({
      name: 'payments',
      promote: {
        qa: [
          { tag: 'qa', kind: 'plain', optional: false },
          { tag: 'qa-{version}', kind: 'version', optional: true }
        ]
      }
    })
  })
})
