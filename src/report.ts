import * as core from '@actions/core'
import { describeChange, digestAfter, type Change } from './apply.js'
import { shortDigest, type RepositoryPlan } from './plan.js'

const COLUMNS = ['Repository', 'Tag', 'Before', 'After', 'Action']

/** Sets every output, logs each change and writes the job summary. */
export async function report(
  title: string,
  plans: readonly RepositoryPlan[],
  changes: readonly Change[]
): Promise<void> {
  const onSource = changes.filter((change) => pointsAtSource(change, plans))
  const lines = (values: readonly (string | undefined)[]): string =>
    [...new Set(values.filter(Boolean))].join('\n')

  core.setOutput('digest', lines(plans.map(({ source }) => source.digest)))
  core.setOutput('tags', lines(onSource.map(({ tag }) => tag)))
  core.setOutput(
    'images',
    lines(
      onSource.map(
        ({ repository, tag }) =>
          `${plans.find((plan) => plan.repository === repository)?.uri}:${tag}`
      )
    )
  )
  core.setOutput(
    'changes',
    JSON.stringify(
      changes.map(({ repository, tag, from, to, action }) => ({
        repository,
        tag,
        from,
        to,
        action
      }))
    )
  )
  core.setOutput('previous-digest', lines(plans.map(({ previousDigest }) => previousDigest)))
  core.setOutput('version', lines(plans.map(({ version }) => version?.text)))

  // A tag held back (a lower release, a prerelease) is worth an annotation on the run, not just a log line.
  for (const change of changes) (change.note ? core.notice : core.info)(describeChange(change))
  await core.summary
    .addHeading('ecr-promote', 3)
    .addRaw(title, true)
    .addTable([
      COLUMNS.map((data) => ({ data, header: true })),
      ...changes.map((change) => [
        change.repository,
        `<code>${change.tag}</code>`,
        digestCell(change.from),
        digestCell(digestAfter(change)),
        change.note ? `${change.action}: ${change.note}` : change.action
      ])
    ])
    .write()
}

/** Whether the tag ends the run (or would, in a dry run) on the image the run started from. */
const pointsAtSource = (change: Change, plans: readonly RepositoryPlan[]): boolean =>
  digestAfter(change) ===
  plans.find(({ repository }) => repository === change.repository)?.source.digest

const digestCell = (digest: string | null): string =>
  digest ? `<code>${shortDigest(digest)}</code>` : '—'
