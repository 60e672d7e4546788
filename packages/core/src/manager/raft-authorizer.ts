/**
 * Who may send Raft messages to a manager: manager certificates of its cluster (raft's
 * `authorizeClusterManagers`) whose node the cluster has not removed (the deny list of the
 * cluster object, read at each call), so a removed manager's certificate is refused here too.
 *
 * @module
 */
import type { X509Certificate } from 'node:crypto'
import type { Clock } from '@swarmkit-ts/api'
import { identityOf } from '@swarmkit-ts/pki'
import { authorizeClusterManagers, type RaftAuthorization, type RaftAuthorizer } from '@swarmkit-ts/raft/grpc'
import type { MemoryStore } from '@swarmkit-ts/store'
import { denyListOf } from '../ca/index.ts'

/** The authorizer of inbound Raft calls of the manager of `clusterId` whose store `store()` returns. */
export function raftPeerAuthorizer(store: () => MemoryStore, clusterId: string, clock: Clock): RaftAuthorizer {
  return authorizeClusterManagers({ clusterId, bind: (call) => refuseDenied(store(), clock, call.peerCertificate) })
}

/** Refuses a Raft peer whose node the cluster removed (its certificate is on the deny list). */
function refuseDenied(store: MemoryStore, clock: Clock, cert: X509Certificate): RaftAuthorization {
  const cluster = store.view((tx) => tx.clusters.find()[0])
  if (cluster === undefined) return { allowed: true }
  let nodeId: string
  try {
    nodeId = identityOf(cert, 'peerCertificate').nodeId
  } catch {
    return { allowed: false, reason: 'the certificate carries no node identity' }
  }
  return denyListOf(cluster).denies(nodeId, clock.now()) ? { allowed: false, reason: `node ${nodeId} has been removed from the cluster` } : { allowed: true }
}

