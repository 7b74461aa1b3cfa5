import { asError } from './model.js'

/** Several problems as one error, so that every one is reported, each as its own `::error::` line. */
export function problemsError(problems: readonly (string | Error)[]): AggregateError {
  const errors = problems.map((problem) =>
    problem instanceof Error ? problem : new Error(problem)
  )
  return new AggregateError(errors, errors.map(({ message }) => message).join('\n'))
}

/** The single problems inside an error, however deeply grouped. */
export const problemsOf = (error: unknown): unknown[] =>
  error instanceof AggregateError ? error.errors.flatMap(problemsOf) : [error]

/** Like Promise.all, but waits for every promise and reports every failure, not just the first. */
export async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises)
  const errors = results.flatMap((result) =>
    result.status === 'rejected' ? [asError(result.reason)] : []
  )
  if (errors.length > 0) throw problemsError(errors)
  return results.map((result) => (result as PromiseFulfilledResult<T>).value)
}

/** Like `settleAll`, for work that is not asynchronous: every item is tried, every failure reported. */
export function tryEach<T, R>(items: readonly T[], work: (item: T, index: number) => R): R[] {
  const errors: Error[] = []
  const results = items.flatMap((item, index) => {
    try {
      return [work(item, index)]
    } catch (error) {
      errors.push(asError(error))
      return []
    }
  })
  if (errors.length > 0) throw problemsError(errors)
  return results
}
