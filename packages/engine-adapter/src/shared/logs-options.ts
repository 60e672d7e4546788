/**
 * Checks of `logs()` options shared by the runtimes.
 * @internal
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { LogsOptions } from '../runtime.ts'

/** Rejects a `tail` that is not a whole number ≥ 0 and a `since` that is not a finite number, naming the field. */
export function validateLogsOptions(options: LogsOptions): void {
  const { tail, since } = options
  if (tail !== undefined && (!Number.isSafeInteger(tail) || tail < 0)) throw new InvalidArgumentError('tail', `must be a whole number ≥ 0, got ${tail}`)
  if (since !== undefined && !Number.isFinite(since)) throw new InvalidArgumentError('since', `must be a finite number of ms since the epoch, got ${since}`)
}

/** The error {@link validateLogsOptions} would throw, or undefined (for `logs()` calls that report it from the first `next()`). */
export function logsOptionsError(options: LogsOptions): InvalidArgumentError | undefined {
  try {
    validateLogsOptions(options)
    return undefined
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err
    throw err
  }
}
