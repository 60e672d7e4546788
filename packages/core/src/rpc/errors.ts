/**
 * The one mapping between swarmkit-ts's typed errors and grpc-js statuses, shared by every gRPC
 * service of core (raft, dispatcher, CA, control, logs).
 *
 * A typed error travels as its gRPC status code, its message as the status details, and its class
 * name and typed context (field, kind, id, reason, …) in the metadata keys of api's
 * `toGrpcStatus` (`swarmkit-error-name`, `swarmkit-error-context`), so {@link fromGrpcError}
 * rebuilds an error of the same class with the same fields on the client.
 */
import { Metadata, status as GrpcCode, type ServerErrorResponse, type ServiceError } from '@grpc/grpc-js'
import {
  ERROR_NAME_METADATA_KEY,
  InternalError,
  SwarmkitError,
  UnavailableError,
  fromGrpcStatus,
  toGrpcStatus,
} from '@swarmkit-ts/api'

/**
 * An error as a grpc-js server answers it (pass it to a unary callback or `call.destroy`/`emit`).
 *
 * A typed swarmkit error keeps its code, message, name and context. Any other thrown value is a
 * bug on the server: it becomes an `InternalError` (gRPC INTERNAL) carrying its message.
 */
export function toGrpcError(err: unknown): ServerErrorResponse & { code: number; details: string; metadata: Metadata } {
  const typed =
    err instanceof SwarmkitError ? err : new InternalError(err instanceof Error ? err.message : String(err), { cause: err })
  const s = toGrpcStatus(typed)
  const metadata = new Metadata()
  for (const [k, v] of Object.entries(s.metadata)) metadata.set(k, v)
  return Object.assign(new Error(s.details), { code: s.code, details: s.details, metadata })
}

/** The part of a grpc-js client error (`ServiceError`) that {@link fromGrpcError} reads. */
export type GrpcErrorLike = Pick<ServiceError, 'code' | 'details'> & { metadata?: Metadata | undefined }

function isGrpcErrorLike(err: unknown): err is GrpcErrorLike {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'number' &&
    typeof (err as { details?: unknown }).details === 'string'
  )
}

/**
 * The typed error a failed grpc-js call carries.
 *
 * When the status names a swarmkit error class (metadata), that class is rebuilt with the same
 * message and fields. Otherwise: UNAVAILABLE, DEADLINE_EXCEEDED and CANCELLED (transport trouble,
 * a server going away) give `UnavailableError`, so callers may retry; a status code one of api's
 * classes maps to gives that class; anything else (UNKNOWN, UNIMPLEMENTED, a value that is not a
 * gRPC error at all) gives `InternalError`. The grpc-js error is kept as `cause` where the class
 * is built here.
 */
export function fromGrpcError(err: unknown): Error {
  if (err instanceof SwarmkitError) return err
  if (!isGrpcErrorLike(err)) {
    return new InternalError(err instanceof Error ? err.message : String(err), { cause: err })
  }
  const metadata: Record<string, string> = {}
  const map = err.metadata?.getMap() ?? {}
  for (const [k, v] of Object.entries(map)) if (typeof v === 'string') metadata[k] = v
  if (metadata[ERROR_NAME_METADATA_KEY] === undefined) {
    switch (err.code) {
      case GrpcCode.UNAVAILABLE:
      case GrpcCode.DEADLINE_EXCEEDED:
      case GrpcCode.CANCELLED:
        return new UnavailableError(err.details === '' ? `gRPC status ${err.code}` : err.details, { cause: err })
      default:
        break
    }
  }
  const rebuilt = fromGrpcStatus({ code: err.code, details: err.details, metadata })
  if (rebuilt instanceof SwarmkitError) return rebuilt
  return new InternalError(err.details === '' ? `gRPC status ${err.code}` : err.details, { cause: err })
}
