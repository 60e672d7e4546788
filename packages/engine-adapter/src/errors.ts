/**
 * Errors specific to container runtimes. Runtimes also use the shared classes of
 * `@swarmkit-ts/api` (`InvalidArgumentError`, `NotFoundError`, `AlreadyExistsError`,
 * `FailedPreconditionError`). Check errors by `err.name` and their typed fields.
 */
import { GrpcStatus, SwarmkitError, type SwarmkitErrorOptions } from '@swarmkit-ts/api'

/** The image reference is not available locally and could not be fetched. */
export class ImageNotFoundError extends SwarmkitError {
  override readonly name = 'ImageNotFoundError'
  readonly code = GrpcStatus.NOT_FOUND
  /** The image reference that was asked for. */
  readonly ref: string
  constructor(ref: string, options?: SwarmkitErrorOptions & { message?: string }) {
    super(options?.message ?? `image ${ref} not found`, options)
    this.ref = ref
  }
  context(): Record<string, string | undefined> {
    return { ref: this.ref }
  }
}

/** A container's process could not be started (for example, its executable does not exist). */
export class ContainerStartError extends SwarmkitError {
  override readonly name = 'ContainerStartError'
  readonly code = GrpcStatus.FAILED_PRECONDITION
  /** The container id. */
  readonly id: string
  /** The exit code recorded for the container: 127 when the executable was not found, else 126. */
  readonly exitCode: number
  constructor(id: string, message: string, options?: SwarmkitErrorOptions & { exitCode?: number }) {
    super(`container ${id} could not start: ${message}`, options)
    this.id = id
    this.exitCode = options?.exitCode ?? 126
  }
  context(): Record<string, string | undefined> {
    return { id: this.id, exitCode: String(this.exitCode) }
  }
}

/** Names of the errors defined here, for `err.name` checks. */
export const RuntimeErrorName = {
  ImageNotFound: 'ImageNotFoundError',
  ContainerStart: 'ContainerStartError',
} as const
/** The name of a runtime-specific error. */
export type RuntimeErrorName = (typeof RuntimeErrorName)[keyof typeof RuntimeErrorName]
