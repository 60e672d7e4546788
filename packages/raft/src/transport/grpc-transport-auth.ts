/**
 * Authorization of inbound raft calls for {@link GrpcRaftTransport}: who may put messages into
 * this member's state machine.
 *
 * Each call (a message stream or one snapshot) names its sending member in its metadata. The
 * transport asks a {@link RaftAuthorizer} once per call whether the peer — its TLS certificate,
 * when there is one — may speak as that member; a refused call ends with PERMISSION_DENIED and
 * nothing of it is delivered. Then every message of an allowed call must have `from` equal to the
 * authorized member, except the kinds Raft relays with their original sender
 * ({@link RELAYED_MESSAGE_TYPES}); a message that breaks this ends the call with
 * PERMISSION_DENIED before any message of its batch is delivered.
 *
 * This package does not read node identities itself (it does not depend on the pki package): a
 * swarm node certificate carries its node ID as CN, its role as OU (`swarm-manager` or
 * `swarm-worker`) and its cluster ID as O; {@link authorizeClusterManagers} checks role and
 * cluster from those, and the binding of node IDs to raft member ids belongs to the caller (the
 * cluster's member list), in its own authorizer.
 */
import { X509Certificate } from 'node:crypto'
import type { RaftMemberId } from '@swarmkit-ts/api'
import type { MessageType } from '../core/types.ts'

/** The OU of a manager's certificate. */
export const MANAGER_CERTIFICATE_OU = 'swarm-manager'

/** What a {@link RaftAuthorizer} knows of an inbound call. */
export interface RaftCallInfo {
  /** `stream` (a stream of message batches) or `snapshot` (one snapshot message). */
  readonly kind: 'stream' | 'snapshot'
  /** The member the call says it comes from (its request metadata). */
  readonly claimedId: RaftMemberId
  /** The peer's TLS client certificate, verified by the TLS layer; `undefined` without TLS. */
  readonly peerCertificate: X509Certificate | undefined
  /**
   * This server's own certificate, when the transport owns the server and its credentials are
   * TLS (read at each call, so it follows renewals); `undefined` otherwise.
   */
  readonly localCertificate: X509Certificate | undefined
  /** The peer's network address as grpc-js reports it (`ip:port`). */
  readonly peerAddress: string
}

/** The answer of a {@link RaftAuthorizer}. */
export type RaftAuthorization = { readonly allowed: true } | { readonly allowed: false; readonly reason: string }

/**
 * Decides whether an inbound call may speak as `call.claimedId`. Called once per call, before
 * anything of it is delivered; must be synchronous and must not throw (a throw counts as a
 * refusal). A refusal ends the call with PERMISSION_DENIED carrying `reason`.
 */
export type RaftAuthorizer = (call: RaftCallInfo) => RaftAuthorization

/**
 * Message types that Raft relays with their original sender in `from`: a follower forwards a
 * proposal, a ReadIndex request or a leadership transfer request to its leader unchanged, so that
 * the leader answers (or transfers to) the original member. On an authorized call these may carry
 * any non-zero `from`; every other message must come from the authorized member itself.
 */
export const RELAYED_MESSAGE_TYPES: ReadonlySet<MessageType> = new Set<MessageType>(['prop', 'read-index', 'transfer-leader'])

const ALLOWED: RaftAuthorization = Object.freeze({ allowed: true })

/** Refuses with `reason`. */
function deny(reason: string): RaftAuthorization {
  return { allowed: false, reason }
}

/** The values of attribute `key` in a node:crypto subject (one `KEY=value` per line). */
export function subjectValues(subject: string, key: string): string[] {
  const out: string[] = []
  for (const line of subject.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0 && line.slice(0, eq) === key) out.push(line.slice(eq + 1))
  }
  return out
}

/** Options of {@link authorizeClusterManagers}. */
export interface ClusterManagersOptions {
  /**
   * The cluster whose managers are allowed (the O of their certificates). @default the O of the
   * server's own certificate (`call.localCertificate`); every call is refused when neither is known.
   */
  clusterId?: string | undefined
  /**
   * A further check once role and cluster passed, e.g. that the certificate's node ID (CN) is the
   * one bound to `call.claimedId`. @default none
   */
  bind?: ((call: RaftCallInfo & { readonly peerCertificate: X509Certificate }) => RaftAuthorization) | undefined
}

/**
 * An authorizer that allows only peers presenting a manager certificate (OU `swarm-manager`) of
 * this cluster (O), then applies `options.bind`. This is {@link GrpcRaftTransport}'s default when
 * its server credentials are TLS.
 */
export function authorizeClusterManagers(options: ClusterManagersOptions = {}): RaftAuthorizer {
  return (call) => {
    const cert = call.peerCertificate
    if (cert === undefined) return deny('the call carries no TLS client certificate')
    const ou = subjectValues(cert.subject, 'OU')
    if (ou.length !== 1 || ou[0] !== MANAGER_CERTIFICATE_OU) return deny(`the certificate's role (OU ${ou.join(',') || 'none'}) is not ${MANAGER_CERTIFICATE_OU}`)
    const cluster = options.clusterId ?? (call.localCertificate === undefined ? undefined : single(subjectValues(call.localCertificate.subject, 'O')))
    if (cluster === undefined) return deny("this member's cluster is unknown (no clusterId and no server certificate with one O)")
    const o = subjectValues(cert.subject, 'O')
    if (o.length !== 1 || o[0] !== cluster) return deny(`the certificate is for cluster ${o.join(',') || 'none'}, not ${cluster}`)
    return options.bind === undefined ? ALLOWED : options.bind({ ...call, peerCertificate: cert })
  }
}

function single(values: string[]): string | undefined {
  return values.length === 1 ? values[0] : undefined
}

/**
 * An authorizer that allows every call: {@link GrpcRaftTransport}'s default with insecure
 * credentials, where no peer can prove who it is. The transport still requires each message's
 * `from` to match the member the call names. Use only in tests or on a trusted network.
 */
export const allowAnyRaftPeer: RaftAuthorizer = () => ALLOWED

/** Parses the first certificate of a PEM chain or DER buffer; `undefined` when it cannot. */
export function parseCertificate(cert: string | Buffer | ReadonlyArray<string | Buffer> | undefined): X509Certificate | undefined {
  const first = Array.isArray(cert) ? (cert[0] as string | Buffer | undefined) : (cert as string | Buffer | undefined)
  if (first === undefined) return undefined
  try {
    return new X509Certificate(first)
  } catch {
    return undefined
  }
}
