import { readdir, readFile } from 'node:fs/promises'
import { withActionDocs } from '../scripts/docs.mjs'

describe('README', () => {
  it('documents exactly the inputs and outputs of action.yml (npm run docs regenerates them)', async () => {
    const [readme, actionYml] = await Promise.all([
      readFile('README.md', 'utf8'),
      readFile('action.yml', 'utf8')
    ])
    expect(readme).toBe(withActionDocs(readme, actionYml))
  })

  it('gives the demo, and the test command that .ci/run runs', async () => {
    const [readme, ci] = await Promise.all([
      readFile('README.md', 'utf8'),
      readFile('.ci/run', 'utf8')
    ])
    expect(readme).toContain('npm ci && npm run demo')
    expect(readme).toContain('npm ci && npm test')
    expect(ci).toMatch(/^npm test$/m)
  })

  it('links to every page of docs/', async () => {
    const [readme, pages] = await Promise.all([readFile('README.md', 'utf8'), readdir('docs')])
    const markdown = pages.filter((page) => page.endsWith('.md'))
    expect(markdown.length).toBeGreaterThan(0)
    for (const page of markdown) expect(readme).toContain(`](docs/${page})`)
  })

  it('is a front page: at most 450 lines', async () => {
    const readme = await readFile('README.md', 'utf8')
    expect(readme.split('\n').length - 1).toBeLessThanOrEqual(450)
  })
})
