/**
 * Mutual-TLS credentials for @grpc/grpc-js from a node's TLS material.
 */
import { X509Certificate } from 'node:crypto'
import type { PeerCertificate } from 'node:tls'
import { ServerCredentials, credentials as grpcCredentials, experimental, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js'
import { PermissionDeniedError, type NodeRole } from '@swarmkit-ts/api'
import { RoleOu } from './constants.ts'
import { identityOf } from './identity.ts'
import { TlsMaterialSource, type TlsMaterial } from './tls-material.ts'

/** Options of {@link credentials.forClient}. */
export interface ClientCredentialsOptions {
  /** Role the server's certificate must carry. @default 'manager' */
  serverRole?: NodeRole
  /** Cluster the server's certificate must belong to (its O); unchecked when omitted. */
  clusterId?: string
}

function peerError(cert: PeerCertificate, serverRole: NodeRole, clusterId: string | undefined): Error | undefined {
  try {
    const id = identityOf(new X509Certificate(cert.raw), 'serverCertificate')
    if (id.role !== serverRole) return new PermissionDeniedError(`server certificate has role ${id.role}, expected ${serverRole}`, { role: id.role })
    if (clusterId !== undefined && id.clusterId !== clusterId) {
      return new PermissionDeniedError(`server certificate is for cluster ${id.clusterId}, expected ${clusterId}`, { role: id.role })
    }
    return undefined
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err))
  }
}

/**
 * grpc-js credentials for swarm mutual TLS. The server requires and verifies a client
 * certificate against the trust bundle; the client verifies the server's chain, then checks
 * the server certificate's role (OU) and cluster (O) instead of a host name, as SwarmKit does.
 * Pass a {@link TlsMaterialSource} instead of plain material to follow renewals and rotations.
 */
export const credentials = {
  /** Server credentials that require a client certificate issued under the trust bundle. */
  forServer(material: TlsMaterial | TlsMaterialSource): ServerCredentials {
    if (material instanceof TlsMaterialSource) return experimental.createCertificateProviderServerCredentials(material, material, true)
    return ServerCredentials.createSsl(Buffer.from(material.trustBundlePem), [{ private_key: Buffer.from(material.keyPem), cert_chain: Buffer.from(material.certChainPem) }], true)
  },
  /** Client credentials presenting the node's certificate and checking the server's role and cluster. */
  forClient(material: TlsMaterial | TlsMaterialSource, options?: ClientCredentialsOptions): ChannelCredentials {
    const serverRole = options?.serverRole ?? 'manager'
    const clusterId = options?.clusterId
    const verifyOptions = { checkServerIdentity: (_host: string, cert: PeerCertificate) => peerError(cert, serverRole, clusterId) }
    if (material instanceof TlsMaterialSource) return experimental.createCertificateProviderChannelCredentials(material, material, verifyOptions)
    return grpcCredentials.createSsl(Buffer.from(material.trustBundlePem), Buffer.from(material.keyPem), Buffer.from(material.certChainPem), verifyOptions)
  },
  /**
   * Channel options for dialling a node of `serverRole` by address: the TLS server name is the
   * role (`swarm-manager`), which every manager certificate carries as a DNS SAN.
   */
  channelOptions(serverRole: NodeRole = 'manager'): ChannelOptions {
    // Without channelz: its per-call bookkeeping costs 5–10 % of a call's CPU, and nothing reads it.
    return { 'grpc.ssl_target_name_override': RoleOu[serverRole], 'grpc.default_authority': RoleOu[serverRole], 'grpc.enable_channelz': 0 }
  },
} as const
