/**
 * Typed errors shared by every swarmkit-ts package, and their lossless mapping to gRPC statuses.
 *
 * Callers check `err.name` (not `instanceof`, which fails across duplicate installs, and never
 * the message text). Each class carries typed context and maps to one gRPC status code.
 */

/** gRPC status codes used by swarmkit-ts (values from the gRPC specification). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const
/** A gRPC status code. */
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus]

/** Options accepted by every swarmkit-ts error constructor. */
export interface SwarmkitErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown
}

/** Base class of every swarmkit-ts error. */
export abstract class SwarmkitError extends Error {
  /** The gRPC status code this error maps to. */
  abstract readonly code: GrpcStatus
  constructor(message: string, options?: SwarmkitErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
  }
  /** The typed context of this error, as sent over the wire. */
  abstract context(): Record<string, string | undefined>
}

/** A caller supplied a bad value; `field` is the dotted path of the offending field. */
export class InvalidArgumentError extends SwarmkitError {
  override readonly name = 'InvalidArgumentError'
  readonly code = GrpcStatus.INVALID_ARGUMENT
  /** Dotted path of the offending field, e.g. `task.resources.limits.memoryBytes` ('' when the whole value is wrong). */
  readonly field: string
  constructor(field: string, message: string, options?: SwarmkitErrorOptions) {
    super(field === '' ? message : `${field}: ${message}`, options)
    this.field = field
  }
  context(): Record<string, string | undefined> {
    return { field: this.field }
  }
}

/** The named object does not exist. */
export class NotFoundError extends SwarmkitError {
  override readonly name = 'NotFoundError'
  readonly code = GrpcStatus.NOT_FOUND
  /** Object kind, e.g. `service`. */
  readonly kind: string
  /** The id or name that was looked up. */
  readonly id: string
  constructor(kind: string, id: string, options?: SwarmkitErrorOptions & { message?: string }) {
    super(options?.message ?? `${kind} ${id} not found`, options)
    this.kind = kind
    this.id = id
  }
  context(): Record<string, string | undefined> {
    return { kind: this.kind, id: this.id }
  }
}

/** An object with the same name (or id) already exists. */
export class AlreadyExistsError extends SwarmkitError {
  override readonly name = 'AlreadyExistsError'
  readonly code = GrpcStatus.ALREADY_EXISTS
  /** Object kind, e.g. `service`. */
  readonly kind: string
  /** The conflicting name or id. */
  readonly key: string
  constructor(kind: string, key: string, options?: SwarmkitErrorOptions & { message?: string }) {
    super(options?.message ?? `${kind} ${key} already exists`, options)
    this.kind = kind
    this.key = key
  }
  context(): Record<string, string | undefined> {
    return { kind: this.kind, key: this.key }
  }
}

/** An update was based on a stale `meta.version`; nothing was applied. */
export class SequenceConflictError extends SwarmkitError {
  override readonly name = 'SequenceConflictError'
  readonly code = GrpcStatus.ABORTED
  /** Object kind. */
  readonly kind: string
  /** Object id. */
  readonly id: string
  /** The version the caller based its update on. */
  readonly expected: bigint | undefined
  /** The version currently stored. */
  readonly actual: bigint | undefined
  constructor(
    kind: string,
    id: string,
    options?: SwarmkitErrorOptions & { expected?: bigint | undefined; actual?: bigint | undefined; message?: string },
  ) {
    super(options?.message ?? `update out of sequence for ${kind} ${id}`, options)
    this.kind = kind
    this.id = id
    this.expected = options?.expected
    this.actual = options?.actual
  }
  context(): Record<string, string | undefined> {
    return { kind: this.kind, id: this.id, expected: this.expected?.toString(), actual: this.actual?.toString() }
  }
}

/** This manager is not the Raft leader; retry on `leaderAddr` when known. */
export class NotLeaderError extends SwarmkitError {
  override readonly name = 'NotLeaderError'
  readonly code = GrpcStatus.UNAVAILABLE
  /** Raft member id of the current leader, when known. */
  readonly leaderId: bigint | undefined
  /** Cluster address of the current leader, when known. */
  readonly leaderAddr: string | undefined
  constructor(options?: SwarmkitErrorOptions & { leaderId?: bigint | undefined; leaderAddr?: string | undefined; message?: string }) {
    super(
      options?.message ?? (options?.leaderAddr === undefined ? 'not the leader; leader unknown' : `not the leader; leader is ${options.leaderAddr}`),
      options,
    )
    this.leaderId = options?.leaderId
    this.leaderAddr = options?.leaderAddr
  }
  context(): Record<string, string | undefined> {
    return { leaderId: this.leaderId?.toString(), leaderAddr: this.leaderAddr }
  }
}

/** The system is not in a state that allows the operation (e.g. removing a secret still in use). */
export class FailedPreconditionError extends SwarmkitError {
  override readonly name = 'FailedPreconditionError'
  readonly code = GrpcStatus.FAILED_PRECONDITION
  /** A short machine-readable reason, e.g. `secret-in-use`. */
  readonly reason: string | undefined
  constructor(message: string, options?: SwarmkitErrorOptions & { reason?: string | undefined }) {
    super(message, options)
    this.reason = options?.reason
  }
  context(): Record<string, string | undefined> {
    return { reason: this.reason }
  }
}

/** The caller's identity (TLS role, cluster) does not allow the operation. */
export class PermissionDeniedError extends SwarmkitError {
  override readonly name = 'PermissionDeniedError'
  readonly code = GrpcStatus.PERMISSION_DENIED
  /** The role the caller presented, when known. */
  readonly role: string | undefined
  constructor(message: string, options?: SwarmkitErrorOptions & { role?: string | undefined }) {
    super(message, options)
    this.role = options?.role
  }
  context(): Record<string, string | undefined> {
    return { role: this.role }
  }
}

/** A dependency is temporarily unreachable; the operation may be retried. */
export class UnavailableError extends SwarmkitError {
  override readonly name = 'UnavailableError'
  readonly code = GrpcStatus.UNAVAILABLE
  constructor(message: string, options?: SwarmkitErrorOptions) {
    super(message, options)
  }
  context(): Record<string, string | undefined> {
    return {}
  }
}

/**
 * A finite resource ran out: addresses of a subnet, subnets of an address pool, dynamic
 * published ports, VXLAN ids. `resource` names what ran out (e.g. `addresses of 10.0.1.0/24`).
 */
export class ResourceExhaustedError extends SwarmkitError {
  override readonly name = 'ResourceExhaustedError'
  readonly code = GrpcStatus.RESOURCE_EXHAUSTED
  /** What ran out, e.g. `addresses of 10.0.1.0/24` or `dynamic ingress ports (30000-32767/tcp)`. */
  readonly resource: string
  constructor(resource: string, options?: SwarmkitErrorOptions & { message?: string }) {
    super(options?.message ?? `${resource}: exhausted`, options)
    this.resource = resource
  }
  context(): Record<string, string | undefined> {
    return { resource: this.resource }
  }
}

/** The manager's state is encrypted and it was started without (or with a wrong) unlock key. */
export class ClusterLockedError extends SwarmkitError {
  override readonly name = 'ClusterLockedError'
  readonly code = GrpcStatus.FAILED_PRECONDITION
  constructor(message = 'the swarm is locked: provide the unlock key', options?: SwarmkitErrorOptions) {
    super(message, options)
  }
  context(): Record<string, string | undefined> {
    return {}
  }
}

/**
 * A broken internal invariant: a bug in swarmkit-ts (or a schema that does not match the code),
 * never a consequence of the caller's input. Packages throw it, or a documented subclass, where
 * an assertion fails. Maps to gRPC INTERNAL.
 */
export class InternalError extends SwarmkitError {
  override readonly name: string = 'InternalError'
  readonly code: GrpcStatus = GrpcStatus.INTERNAL
  constructor(message: string, options?: SwarmkitErrorOptions) {
    super(message, options)
  }
  context(): Record<string, string | undefined> {
    return {}
  }
}

/** Any of the typed errors above. */
export type AnySwarmkitError =
  | InvalidArgumentError
  | NotFoundError
  | AlreadyExistsError
  | SequenceConflictError
  | NotLeaderError
  | FailedPreconditionError
  | PermissionDeniedError
  | UnavailableError
  | ClusterLockedError
  | ResourceExhaustedError
  | InternalError

/** Names of the typed errors, for `err.name` checks. */
export const ErrorName = {
  InvalidArgument: 'InvalidArgumentError',
  NotFound: 'NotFoundError',
  AlreadyExists: 'AlreadyExistsError',
  SequenceConflict: 'SequenceConflictError',
  NotLeader: 'NotLeaderError',
  FailedPrecondition: 'FailedPreconditionError',
  PermissionDenied: 'PermissionDeniedError',
  Unavailable: 'UnavailableError',
  ClusterLocked: 'ClusterLockedError',
  ResourceExhausted: 'ResourceExhaustedError',
  Internal: 'InternalError',
} as const
/** The name of one of the typed errors. */
export type ErrorName = (typeof ErrorName)[keyof typeof ErrorName]

/** A gRPC status as carried by a call: code, details text and string metadata. */
export interface GrpcStatusObject {
  code: number
  details: string
  metadata: Record<string, string>
}

/** Metadata key carrying the error class name. */
export const ERROR_NAME_METADATA_KEY = 'swarmkit-error-name'
/** Metadata key carrying the error's typed context as JSON. */
export const ERROR_CONTEXT_METADATA_KEY = 'swarmkit-error-context'

/**
 * Maps an error to a gRPC status. Typed errors keep their name, message and context in
 * metadata so that {@link fromGrpcStatus} restores an equal error; anything else becomes
 * `UNKNOWN` with its message.
 */
export function toGrpcStatus(err: unknown): GrpcStatusObject {
  if (err instanceof SwarmkitError) {
    const ctx: Record<string, string> = {}
    for (const [k, v] of Object.entries(err.context())) if (v !== undefined) ctx[k] = v
    return {
      code: err.code,
      details: err.message,
      metadata: { [ERROR_NAME_METADATA_KEY]: err.name, [ERROR_CONTEXT_METADATA_KEY]: JSON.stringify(ctx) },
    }
  }
  const message = err instanceof Error ? err.message : String(err)
  return { code: GrpcStatus.UNKNOWN, details: message, metadata: {} }
}

function parseContext(raw: string | undefined): Record<string, string> {
  if (raw === undefined) return {}
  try {
    const v: unknown = JSON.parse(raw)
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return {}
    const out: Record<string, string> = {}
    for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x
    return out
  } catch {
    return {}
  }
}

function parseBig(s: string | undefined): bigint | undefined {
  if (s === undefined || !/^-?\d+$/.test(s)) return undefined
  return BigInt(s)
}

/**
 * Restores a typed error from a gRPC status. When the metadata names a known class the error is
 * rebuilt with its exact message and context; otherwise the class is chosen by status code
 * (a code no class maps to, such as UNKNOWN or DEADLINE_EXCEEDED, gives a plain `Error`).
 */
export function fromGrpcStatus(status: GrpcStatusObject): Error {
  const name = status.metadata[ERROR_NAME_METADATA_KEY]
  const c = parseContext(status.metadata[ERROR_CONTEXT_METADATA_KEY])
  const message = status.details
  switch (name) {
    case ErrorName.InvalidArgument: {
      const field = c['field'] ?? ''
      const prefix = field === '' ? '' : `${field}: `
      const e = new InvalidArgumentError(field, message.startsWith(prefix) ? message.slice(prefix.length) : message)
      return e
    }
    case ErrorName.NotFound:
      return new NotFoundError(c['kind'] ?? 'object', c['id'] ?? '', { message })
    case ErrorName.AlreadyExists:
      return new AlreadyExistsError(c['kind'] ?? 'object', c['key'] ?? '', { message })
    case ErrorName.SequenceConflict:
      return new SequenceConflictError(c['kind'] ?? 'object', c['id'] ?? '', {
        message,
        expected: parseBig(c['expected']),
        actual: parseBig(c['actual']),
      })
    case ErrorName.NotLeader:
      return new NotLeaderError({ message, leaderId: parseBig(c['leaderId']), leaderAddr: c['leaderAddr'] })
    case ErrorName.FailedPrecondition:
      return new FailedPreconditionError(message, { reason: c['reason'] })
    case ErrorName.PermissionDenied:
      return new PermissionDeniedError(message, { role: c['role'] })
    case ErrorName.Unavailable:
      return new UnavailableError(message)
    case ErrorName.ClusterLocked:
      return new ClusterLockedError(message)
    case ErrorName.ResourceExhausted:
      return new ResourceExhaustedError(c['resource'] ?? '', { message })
    case ErrorName.Internal:
      return new InternalError(message)
    default:
      break
  }
  switch (status.code) {
    case GrpcStatus.INVALID_ARGUMENT:
      return new InvalidArgumentError('', message)
    case GrpcStatus.NOT_FOUND:
      return new NotFoundError('object', '', { message })
    case GrpcStatus.ALREADY_EXISTS:
      return new AlreadyExistsError('object', '', { message })
    case GrpcStatus.ABORTED:
      return new SequenceConflictError('object', '', { message })
    case GrpcStatus.FAILED_PRECONDITION:
      return new FailedPreconditionError(message)
    case GrpcStatus.PERMISSION_DENIED:
    case GrpcStatus.UNAUTHENTICATED:
      return new PermissionDeniedError(message)
    case GrpcStatus.UNAVAILABLE:
      return new UnavailableError(message)
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return new ResourceExhaustedError('', { message })
    case GrpcStatus.INTERNAL:
      return new InternalError(message)
    default:
      return new Error(message)
  }
}
