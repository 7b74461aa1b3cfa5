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
  const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []))
  if (errors.length > 0) throw problemsError(errors)
  return results.map((result) => (result as PromiseFulfilledResult<T>).value)
}
