import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import * as core from '@actions/core'
import * as github from '@actions/github'
import { ECRClient } from '@aws-sdk/client-ecr'
import { applyPlans, preview, type Outcome } from './apply.js'
import { loadConvention } from './conventions.js'
import { derive } from './derive.js'
import { Registry } from './ecr.js'
import { readInputs } from './inputs.js'
import { planRepository } from './plan.js'
import { problemsError, problemsOf } from './problems.js'
import { report } from './report.js'
import { readState } from './state.js'
import { describeTrigger, resolveTrigger } from './trigger.js'

/** inputs → derive (pure) → read registry state → plan (pure) → apply → report. */
export async function run(): Promise<void> {
  try {
    const inputs = readInputs()
    const convention = await loadConvention(inputs.convention, (path) =>
      readFile(resolve(process.env.GITHUB_WORKSPACE ?? '.', path), 'utf8')
    )
    const trigger = resolveTrigger(inputs.trigger, {
      eventName: process.env.GITHUB_EVENT_NAME ?? '',
      ref: process.env.GITHUB_REF ?? '',
      headRef: process.env.GITHUB_HEAD_REF ?? '',
      payload: github.context.payload
    })
    const intents = inputs.repositories.map((repository) =>
      derive(convention, trigger, {
        repository,
        sha: inputs.sha || undefined,
        service: inputs.service || repository.split('/').pop() || repository,
        source: inputs.source,
        runNumber: process.env.GITHUB_RUN_NUMBER || undefined,
        date: new Date()
      })
    )
    const registry = new Registry(
      new ECRClient({ region: inputs.region, customUserAgent: 'ecr-promote' }),
      inputs.registryId || undefined
    )
    const plans = await core.group('Read registry and plan', () =>
      settleAll(
        intents.map(async (intent) => planRepository(intent, await readState(registry, intent)))
      )
    )
    const outcome: Outcome = inputs.dryRun
      ? { changes: preview(plans) }
      : await core.group('Write tags', () => applyPlans(plans, registry))
    const title =
      describeTrigger(trigger) + (inputs.dryRun ? ' (dry run: nothing was written)' : '')
    await report(title, plans, outcome.changes)
    if (outcome.failure) throw outcome.failure
  } catch (error) {
    fail(error)
  }
}

/** Like Promise.all, but waits for every promise and reports every failure, not just the first. */
async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises)
  const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []))
  if (errors.length > 0) throw problemsError(errors)
  return results.map((result) => (result as PromiseFulfilledResult<T>).value)
}

/** One `::error::` line per problem. */
function fail(error: unknown): void {
  for (const problem of problemsOf(error)) core.error(messageOf(problem))
  process.exitCode = core.ExitCode.Failure
}

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error)
