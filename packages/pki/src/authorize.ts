/**
 * Authorization of gRPC calls by the caller's certificate: role (OU), cluster (O), deny list.
 */
import { X509Certificate } from 'node:crypto'
import { TLSSocket, type PeerCertificate } from 'node:tls'
import { Metadata, type ServerErrorResponse } from '@grpc/grpc-js'
import { PermissionDeniedError, systemClock, toGrpcStatus, type Clock, type NodeRole } from '@swarmkit-ts/api'
import type { CertificateDenyList } from './deny-list.ts'
import { identityOf, type NodeIdentity } from './identity.ts'

/** The part of a grpc-js server call that carries the TLS peer (every server call type has it). */
export interface CallWithAuthContext {
  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: PeerCertificate }
}

/** Options of {@link authorize}. */
export interface AuthorizeOptions {
  /** The caller's certificate must name this cluster (its O). Unchecked when omitted. */
  clusterId?: string
  /** Node IDs whose certificates are refused. */
  denyList?: CertificateDenyList
  /** Time for the deny list. @default systemClock */
  clock?: Clock
}

/**
 * The identity in the caller's TLS certificate.
 *
 * @throws PermissionDeniedError when the call is not over TLS with a client certificate, or the
 *   certificate carries no valid node identity.
 */
export function peerIdentity(call: CallWithAuthContext): NodeIdentity {
  // One identity per TLS connection: its peer certificate cannot change (HTTP/2 forbids TLS
  // renegotiation and Node disables it on HTTP/2 sockets), and getAuthContext() costs a full
  // getPeerCertificate() object with three fingerprints on every call.
  const socket = tlsSocketOf(call)
  const known = socket === undefined ? undefined : connectionIdentities.get(socket)
  if (known !== undefined) return known
  const identity = certificateIdentity(call)
  if (socket !== undefined) connectionIdentities.set(socket, identity)
  return identity
}

const connectionIdentities = new WeakMap<TLSSocket, NodeIdentity>()

/**
 * The authorized TLS socket under a grpc-js server call, found through grpc-js's internal fields
 * (the call's `call`, then `nextCall` through any interceptors, to the HTTP/2 stream's session), or
 * undefined — then every call reads the certificate through `getAuthContext()`.
 */
function tlsSocketOf(call: CallWithAuthContext): TLSSocket | undefined {
  let c: unknown = (call as { call?: unknown }).call
  for (let depth = 0; depth < 8 && typeof c === 'object' && c !== null; depth++) {
    const stream = (c as { stream?: { session?: { socket?: unknown } } }).stream
    if (stream !== undefined) {
      const socket = stream?.session?.socket
      return socket instanceof TLSSocket && socket.authorized ? socket : undefined
    }
    c = (c as { nextCall?: unknown }).nextCall
  }
  return undefined
}

/** The identity in the call's peer certificate, read through `getAuthContext()`. */
function certificateIdentity(call: CallWithAuthContext): NodeIdentity {
  const ctx = call.getAuthContext()
  const cert = ctx.sslPeerCertificate
  if (ctx.transportSecurityType !== 'ssl' || cert?.raw === undefined) {
    throw new PermissionDeniedError('the call carries no TLS client certificate')
  }
  // Parsing the certificate costs more than the rest of a small call: the identity of each
  // certificate seen is kept (it is a function of the certificate's bytes alone), looked up by
  // the fingerprint Node computed for getPeerCertificate and checked against the bytes.
  const known = cert.fingerprint256 === undefined ? undefined : identities.get(cert.fingerprint256)
  if (known !== undefined && known.raw.equals(cert.raw)) return known.identity
  let identity: NodeIdentity
  try {
    identity = identityOf(new X509Certificate(cert.raw), 'peerCertificate')
  } catch (err) {
    throw new PermissionDeniedError('the client certificate carries no valid swarm node identity', { cause: err })
  }
  if (cert.fingerprint256 !== undefined) {
    if (identities.size >= IDENTITY_CACHE_SIZE) identities.clear()
    identities.set(cert.fingerprint256, { raw: Buffer.from(cert.raw), identity: Object.freeze(identity) })
  }
  return identity
}

/** How many peer certificates' identities {@link peerIdentity} keeps (all dropped when full). */
const IDENTITY_CACHE_SIZE = 1024
const identities = new Map<string, { readonly raw: Buffer; readonly identity: NodeIdentity }>()

/**
 * Lets the call through when the caller's certificate has one of `roles`, belongs to
 * `options.clusterId` and its node is not denied, and returns the caller's identity.
 *
 * @throws PermissionDeniedError (with the caller's `role` when known) otherwise.
 */
export function authorize(call: CallWithAuthContext, roles: readonly NodeRole[], options?: AuthorizeOptions): NodeIdentity {
  const id = peerIdentity(call)
  if (options?.clusterId !== undefined && id.clusterId !== options.clusterId) {
    throw new PermissionDeniedError(`certificate is for cluster ${id.clusterId}, not ${options.clusterId}`, { role: id.role })
  }
  if (!roles.includes(id.role)) {
    throw new PermissionDeniedError(`role ${id.role} may not call this method (allowed: ${roles.join(', ')})`, { role: id.role })
  }
  if (options?.denyList?.denies(id.nodeId, (options.clock ?? systemClock).now()) === true) {
    throw new PermissionDeniedError(`node ${id.nodeId} has been removed from the cluster`, { role: id.role })
  }
  return id
}

/**
 * An error as a grpc-js server error response: typed swarmkit errors keep their status code,
 * name and context (in metadata), so a client's `fromGrpcStatus` restores them.
 */
export function toServiceError(err: unknown): ServerErrorResponse {
  const s = toGrpcStatus(err)
  const metadata = new Metadata()
  for (const [k, v] of Object.entries(s.metadata)) metadata.set(k, v)
  return Object.assign(new Error(s.details), { code: s.code, details: s.details, metadata })
}
