/**
 * Errors of the executor: how a controller tells `doStep` that a task's process exited badly,
 * that an operation may succeed if retried, or that it was closed.
 */
import { GrpcStatus, SwarmkitError, type SwarmkitErrorOptions } from '@swarmkit-ts/api'

/**
 * The task's container exited with a non-zero code (SwarmKit's `exec.ExitError`). `doStep` turns
 * it into FAILED with `exitCode` in the status's `containerStatus`.
 */
export class TaskExitError extends SwarmkitError {
  override readonly name = 'TaskExitError'
  readonly code = GrpcStatus.FAILED_PRECONDITION
  /** The container's exit code (128 + N when killed by signal N). */
  readonly exitCode: number
  constructor(exitCode: number, options?: SwarmkitErrorOptions) {
    const cause = options?.cause
    const why = cause instanceof Error ? `: ${cause.message}` : ''
    super(`task: non-zero exit (${exitCode})${why}`, options)
    this.exitCode = exitCode
  }
  context(): Record<string, string | undefined> {
    return { exitCode: String(this.exitCode) }
  }
}

/**
 * The operation failed for a reason that may go away (the engine restarting, a socket reset):
 * `doStep` retries it with backoff instead of failing the task. Wrap an error in it to make it
 * temporary; see {@link isTemporaryError} for the errors that are temporary by themselves.
 */
export class TemporaryError extends SwarmkitError {
  override readonly name = 'TemporaryError'
  readonly code = GrpcStatus.UNAVAILABLE
  constructor(message: string, options?: SwarmkitErrorOptions) {
    super(message, options)
  }
  context(): Record<string, string | undefined> {
    return {}
  }
}

/** A health check reported the container unhealthy (SwarmKit's `ErrContainerUnhealthy`); the cause of a {@link TaskExitError}. */
export class ContainerUnhealthyError extends SwarmkitError {
  override readonly name = 'ContainerUnhealthyError'
  readonly code = GrpcStatus.FAILED_PRECONDITION
  /** The container id. */
  readonly containerId: string
  constructor(containerId: string, options?: SwarmkitErrorOptions) {
    super('container unhealthy', options)
    this.containerId = containerId
  }
  context(): Record<string, string | undefined> {
    return { containerId: this.containerId }
  }
}

/** The controller was closed (SwarmKit's `ErrControllerClosed`); every later call rejects with it. */
export class ControllerClosedError extends SwarmkitError {
  override readonly name = 'ControllerClosedError'
  readonly code = GrpcStatus.FAILED_PRECONDITION
  /** The task the controller was for. */
  readonly taskId: string
  constructor(taskId: string, options?: SwarmkitErrorOptions) {
    super(`controller of task ${taskId} is closed`, options)
    this.taskId = taskId
  }
  context(): Record<string, string | undefined> {
    return { taskId: this.taskId }
  }
}

/** Socket errors of a engine connection that a retry may get past. */
const TEMPORARY_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN'])

/**
 * Whether `doStep` retries an error instead of failing the task. Temporary are: a
 * {@link TemporaryError}; the api's `UnavailableError` (an engine that is down or restarting, as
 * `ContainerdRuntime` reports it); a Node socket error with code `ECONNREFUSED`, `ECONNRESET`,
 * `EPIPE`, `ETIMEDOUT` or `EAI_AGAIN` (a Docker socket going away); and any error whose `cause`
 * chain holds one of those. Everything else (a bad spec, a missing image or secret, a start
 * failure, a non-zero exit) is fatal to the task.
 */
export function isTemporaryError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e.name === 'TemporaryError' || e.name === 'UnavailableError') return true
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && TEMPORARY_CODES.has(code)) return true
  }
  return false
}
