/**
 * Errors as the Docker Engine API sends them: an HTTP status and a JSON body `{"message": …}`,
 * which the `docker` CLI prints as `Error response from daemon: <message>`.
 *
 * Handlers throw the api's typed errors (or a {@link DockerApiError} for a status of their own);
 * the server maps every error to its status here, so nothing else writes error bodies.
 *
 * @module
 */
import { ErrorName } from '@swarmkit-ts/api'

/** An error with the HTTP status the Docker API answers it with. */
export class DockerApiError extends Error {
  override readonly name = 'DockerApiError'
  /** The HTTP status code. */
  readonly status: number
  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.status = status
  }
}

/** A request for something the cluster cannot do through the Docker API (exec, attach, build …): 501. */
export function notSupported(what: string, why: string): DockerApiError {
  return new DockerApiError(501, `${what} is not supported by swarmkit-ts: ${why}`)
}

/** HTTP status of each error of the api's family (by `err.name`, which survives duplicate installs). */
const STATUS_BY_NAME: Readonly<Record<string, number>> = {
  [ErrorName.InvalidArgument]: 400,
  [ErrorName.NotFound]: 404,
  [ErrorName.AlreadyExists]: 409,
  [ErrorName.SequenceConflict]: 409,
  [ErrorName.FailedPrecondition]: 409,
  [ErrorName.PermissionDenied]: 403,
  [ErrorName.NotLeader]: 503,
  [ErrorName.Unavailable]: 503,
  [ErrorName.ResourceExhausted]: 429,
  [ErrorName.ClusterLocked]: 503,
  [ErrorName.Internal]: 500,
}

/** The Docker API answer of `err`: its status and message. */
export function toDockerError(err: unknown): { readonly status: number; readonly message: string } {
  if (err instanceof DockerApiError) return { status: err.status, message: err.message }
  if (err instanceof Error) {
    if (err.name === ErrorName.ClusterLocked) {
      return { status: 503, message: 'Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker swarm unlock" to unlock it.' }
    }
    const byName = STATUS_BY_NAME[err.name]
    if (byName !== undefined) return { status: byName, message: err.message }
    // fastify's own errors (bad JSON, body too large, unsupported media type) carry a statusCode.
    const statusCode = (err as { statusCode?: unknown }).statusCode
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 600) return { status: statusCode, message: err.message }
    if (err.name === 'AbortError') return { status: 503, message: 'the manager is shutting down' }
    return { status: 500, message: err.message }
  }
  return { status: 500, message: String(err) }
}
