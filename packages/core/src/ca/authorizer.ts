/**
 * Authorization of a manager's gRPC callers against the cluster's state: the caller's role, its
 * cluster, and the deny list of removed nodes (`Cluster.blacklistedCertificates`, read from the
 * store on every call, so a removed node is refused everywhere as soon as its removal applies).
 *
 * @module
 */
import { X509Certificate } from 'node:crypto'
import { NotFoundError, systemClock, type Clock, type Cluster, type Node, type NodeRole } from '@swarmkit-ts/api'
import { authorize, CertificateDenyList, type CallWithAuthContext, type NodeIdentity } from '@swarmkit-ts/pki'
import type { Frozen, MemoryStore, Tx } from '@swarmkit-ts/store'
import { clusterOf, pemText } from './cluster-ca.ts'

/** Authorizes a gRPC call for `roles`; returns the caller's identity or throws `PermissionDeniedError`. */
export type Authorizer = (call: CallWithAuthContext, roles: readonly NodeRole[]) => NodeIdentity

/** Options of {@link clusterAuthorizer}. */
export interface ClusterAuthorizerOptions {
  /**
   * This node's cluster ID (its own certificate's O): callers must belong to it. Used while the
   * store holds no Cluster object yet (a manager that just joined and has not caught up).
   */
  clusterId: string
  /** Time for the deny list's expiries. @default systemClock */
  clock?: Clock
}

const denyLists = new WeakMap<object, CertificateDenyList>()

/** The deny list of a Cluster object (cached per object: stored objects are immutable). */
export function denyListOf(cluster: Frozen<Cluster>): CertificateDenyList {
  let list = denyLists.get(cluster)
  if (list === undefined) {
    list = new CertificateDenyList(
      Object.entries(cluster.blacklistedCertificates ?? {}).map(([nodeId, v]) => (v.expiry === undefined ? { nodeId } : { nodeId, expiresAt: v.expiry })),
    )
    denyLists.set(cluster, list)
  }
  return list
}

/**
 * An {@link Authorizer} for every service of a manager (raft, dispatcher, control, logs, the CA's
 * renewal): pki's `authorize` with the cluster ID and the deny list of the store's Cluster object.
 */
export function clusterAuthorizer(store: MemoryStore, options: ClusterAuthorizerOptions): Authorizer {
  const clock = options.clock ?? systemClock
  return (call, roles) => {
    const cluster = store.view((tx) => tx.clusters.find()[0])
    if (cluster === undefined) return authorize(call, roles, { clusterId: options.clusterId })
    return authorize(call, roles, { clusterId: cluster.id, denyList: denyListOf(cluster), clock })
  }
}

/** When a node's stored certificate expires (ms since the epoch), or `undefined` when unknown. */
export function certificateExpiry(node: Frozen<Node>): number | undefined {
  const der = node.certificate?.certificate
  if (der === undefined || der.length === 0) return undefined
  try {
    return Date.parse(new X509Certificate(pemText(der)).validTo)
  } catch {
    return undefined
  }
}

/**
 * Inside a store transaction: denies the certificates of `nodeId` (a removed node) until
 * `expiresAt` (its certificate's end; forever when omitted), as SwarmKit's node removal does.
 * Call it in the same transaction that deletes the node, so the removal and the denial apply
 * together.
 *
 * @throws FailedPreconditionError (reason `no-cluster`) when the store has no Cluster object.
 */
export function denyNodeCertificates(tx: Tx, nodeId: string, expiresAt?: number): void {
  const cluster = clusterOf(tx)
  tx.clusters.update(cluster.id, (d) => {
    d.blacklistedCertificates = { ...d.blacklistedCertificates, [nodeId]: expiresAt === undefined ? {} : { expiry: expiresAt } }
  })
}

/**
 * Inside a store transaction: deletes node `nodeId` and denies its certificate until it expires.
 *
 * @throws NotFoundError when the node does not exist.
 */
export function removeNodeAndDenyCertificate(tx: Tx, nodeId: string): void {
  const node = tx.nodes.get(nodeId)
  if (node === undefined) throw new NotFoundError('node', nodeId)
  denyNodeCertificates(tx, nodeId, certificateExpiry(node))
  tx.nodes.delete(nodeId)
}
