/**
 * A stand-in for `@actions/core`'s job summary: the same chain of calls, each part kept as text
 * (`# ` before a heading, `- ` before a list item, `> ` before details, a table as JSON), and every
 * written summary kept.
 */
export function fakeSummary() {
  const written: string[] = []
  const summary = {
    parts: [] as string[],
    addHeading(text: string) {
      this.parts.push(`# ${text}`)
      return this
    },
    addRaw(text: string) {
      this.parts.push(text)
      return this
    },
    addTable(rows: unknown[][]) {
      this.parts.push(JSON.stringify(rows))
      return this
    },
    addDetails(label: string, html: string) {
      this.parts.push(`> ${label}: ${html}`)
      return this
    },
    addList(items: string[]) {
      this.parts.push(...items.map((item) => `- ${item}`))
      return this
    },
    write() {
      written.push(this.parts.join('\n'))
      this.parts = []
      return Promise.resolve(this)
    }
  }
  return { summary, written }
}
