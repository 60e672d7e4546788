/**
 * How a failed command reports: one line on stderr, `swarmkit: <ErrorName>: <message>`, and an
 * exit code — 2 for a bad command line (commander's errors, or an `InvalidArgumentError` naming a
 * flag `--x` or an argument `<x>`), 1 for everything else (a bad `--format` template too, as Docker's). The stack only with `--debug`.
 *
 * @module
 */
import { InvalidArgumentError, UnavailableError } from '@swarmkit-ts/api'
import { TemplateError } from './template-eval.ts'

/** Exit code of a failed command. */
export const EXIT_FAILURE = 1
/** Exit code of a bad command line. */
export const EXIT_USAGE = 2

/**
 * A bad command line found by the parser (unknown command or flag, missing argument): an
 * `InvalidArgumentError` whose field is the flag or command at fault ('' when none).
 */
export class UsageError extends InvalidArgumentError {}

/** A bad value of flag or argument `field` (`--replicas`, `<image>`): a usage error, exit 2. */
export function flagError(field: string, message: string): InvalidArgumentError {
  return new InvalidArgumentError(field, message)
}

/** Whether `err` is a mistake in the command line rather than a failure of the command. */
export function isUsageError(err: unknown): boolean {
  if (err instanceof UsageError) return true
  if (err instanceof TemplateError) return false
  return err instanceof InvalidArgumentError && /^(?:-|<)/.test(err.field)
}

/** The error's class name: `name`, else its constructor's. */
function errorName(err: Error): string {
  if (err instanceof UsageError) return 'UsageError'
  return err.name === 'Error' && err.constructor.name !== 'Error' ? err.constructor.name : err.name
}

/** The one line printed for `err` (no trailing newline): its class name and the first line of its message. */
export function errorLine(err: unknown): string {
  if (err instanceof Error) {
    const first = err.message.split('\n')[0] ?? ''
    return `swarmkit: ${errorName(err)}: ${first}`
  }
  return `swarmkit: ${String(err)}`
}

/** What `--debug` adds below the line: the stack and the chain of causes. */
export function errorDetail(err: unknown): string {
  const parts: string[] = []
  let current: unknown = err
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    parts.push(depth === 0 ? (current.stack ?? '') : `caused by: ${current.stack ?? current.message}`)
    current = current.cause
  }
  return parts.filter((p) => p !== '').join('\n')
}

/** The exit code for `err`. */
export function exitCodeOf(err: unknown): number {
  return isUsageError(err) ? EXIT_USAGE : EXIT_FAILURE
}

/**
 * A transport failure reaching `host` said plainly: grpc-js's `No connection established. Last
 * error: Error: connect ECONNREFUSED /m1/control.sock. Resolution note: …` becomes
 * `cannot reach the manager at unix:///m1/control.sock: connect ECONNREFUSED …`. Other errors
 * are returned as they are.
 */
export function clarifyUnavailable(err: unknown, host: string | undefined): unknown {
  if (host === undefined || !(err instanceof UnavailableError)) return err
  const m = /^No connection established\. Last error: (?:Error: )?(.*?)\.?(?: Resolution note:.*)?$/s.exec(err.message)
  if (m === null) return err
  return new UnavailableError(`cannot reach the manager at ${host}: ${m[1] ?? ''} (is it running?)`, { cause: err })
}
