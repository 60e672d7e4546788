/**
 * What the dashboard reads and acts on: a small {@link DashboardSource} seam with two adapters —
 * a running manager (`ManagerCluster` from `Cluster.init/join/open`) and a simulated cluster
 * (`Cluster.simulate`). The server never checks classes: it only talks to the seam.
 *
 * @module
 */
import type { PeerCertificate } from 'node:tls'
import { InvalidArgumentError, systemClock } from '@swarmkit-ts/api'
import type { NodeAvailability } from '@swarmkit-ts/api'
import { SigningCACache, clusterAuthorizer, issueServingCertificate, type ManagerCluster } from '@swarmkit-ts/core'
import type { MemoryStore } from '@swarmkit-ts/store'
import type { RaftMemberView, RaftView } from './view-model.ts'

/**
 * The dashboard's view of a cluster. `store()` may return another store over time (a simulated
 * cluster answers with its current leader's): the server re-reads it and sends the page a fresh
 * snapshot when it changed.
 */
export interface DashboardSource {
  /** The store to show now (a manager's replicated store). */
  store(): MemoryStore
  /** The cluster clock's time in milliseconds (virtual for a simulated cluster). */
  now(): number
  /** The Raft panel as the source's manager sees it now. */
  raft(): RaftView
  /** Calls `listener` when the leader may have changed; returns the unsubscribe function. */
  onLeaderChange(listener: () => void): () => void
  /** Sets a replicated service's replica count. */
  scale(serviceId: string, replicas: number): Promise<void>
  /** Sets a node's availability. */
  setAvailability(nodeId: string, availability: NodeAvailability): Promise<void>
  /** Rolls a service back to its previous spec. */
  rollback(serviceId: string): Promise<void>
  /** The cluster's certificates, when the source has them (a manager; a simulated cluster has none). */
  readonly tls?: DashboardTls
}

/** HTTPS with the cluster's certificates: the serving certificate, and who may act by certificate. */
export interface DashboardTls {
  /** A serving certificate with the manager's identity, from the cluster's CA, valid for `hosts`. */
  issue(hosts: readonly string[]): ReturnType<typeof issueServingCertificate>
  /**
   * Calls `apply` with a new serving certificate for `hosts` whenever the node's own material
   * changes (a renewal, a root rotation); returns the function that stops following.
   */
  follow(hosts: readonly string[], apply: (material: Awaited<ReturnType<typeof issueServingCertificate>>) => void): () => void
  /** Throws `PermissionDeniedError` unless `peer` is a manager certificate of this cluster, not removed (the control API's rule). */
  authorizeManager(peer: PeerCertificate): void
}

/**
 * The part of a simulated cluster (`Cluster.simulate`, `@swarmkit-ts/core/testing`) the dashboard
 * uses: its current store, its Raft view, its virtual clock and its handles.
 */
export interface SimulatedClusterLike {
  /** A manager's replicated store (default: the leader's). */
  store(nodeId?: string): MemoryStore
  /** The Raft view of the leader (or of `nodeId`). */
  raftStatus(nodeId?: string): {
    readonly leader: bigint
    readonly term: bigint
    readonly commitIndex: bigint
    readonly appliedIndex: bigint
    readonly members: readonly { readonly raftId: bigint; readonly nodeId: string; readonly up: boolean }[]
  }
  /** Virtual time in milliseconds. */
  now(): number
  /** Service handles (answered by the leader). */
  readonly services: Pick<ManagerCluster['services'], 'scale' | 'rollback'>
  /** Node handles (answered by the leader). */
  readonly nodes: Pick<ManagerCluster['nodes'], 'setAvailability'>
}

/** What `serveDashboard` accepts: a running manager or a simulated cluster. */
export type DashboardTarget = ManagerCluster | SimulatedClusterLike

/** The adapter of a running manager: its own store (followers show what they replicated), its Raft member. */
export function managerSource(manager: ManagerCluster): DashboardSource {
  const store = manager.manager.store
  const authorize = clusterAuthorizer(store, { clusterId: manager.clusterId })
  const signingCA = new SigningCACache()
  return {
    tls: {
      issue: (hosts) => issueServingCertificate({ store, tls: manager.tls, hosts, signingCA }),
      follow: (hosts, apply) => {
        let basedOn = manager.tls.current
        let chain = Promise.resolve()
        // The listener also fires once at subscription: only a different material re-issues.
        const onChange = (): void => {
          chain = chain.then(async () => {
            const now = manager.tls.current
            if (now === basedOn) return
            basedOn = now
            apply(await issueServingCertificate({ store, tls: manager.tls, hosts, signingCA }))
          }).catch(() => undefined) // keep serving the previous certificate; the next change tries again
        }
        manager.tls.addIdentityCertificateListener(onChange)
        return () => manager.tls.removeIdentityCertificateListener(onChange)
      },
      authorizeManager: (peer) => authorize({ getAuthContext: () => ({ transportSecurityType: 'ssl', sslPeerCertificate: peer }) }, ['manager']),
    },
    store: () => manager.manager.store,
    now: () => systemClock.now(),
    raft: () => managerRaftView(manager),
    onLeaderChange: (listener) => {
      manager.on('leader', listener)
      return () => void manager.off('leader', listener)
    },
    scale: async (id, replicas) => void (await manager.services.scale(id, replicas)),
    setAvailability: async (id, availability) => void (await manager.nodes.setAvailability(id, availability)),
    rollback: async (id) => void (await manager.services.rollback(id)),
  }
}

function managerRaftView(manager: ManagerCluster): RaftView {
  const status = manager.manager.replicated.raft.status()
  const members: RaftMemberView[] = manager.manager.members().map((m) => ({
    raftId: m.raftId.toString(),
    nodeId: m.nodeId ?? '',
    addr: m.addr,
    up: m.reachable,
    leader: m.raftId === status.softState.lead,
  }))
  return {
    leader: status.softState.lead.toString(),
    term: String(status.hardState.term),
    commitIndex: String(status.hardState.commit),
    appliedIndex: String(status.applied),
    members,
  }
}

/** The adapter of a simulated cluster: the current leader's store, the leader's Raft view, virtual time. */
export function simulatedSource(sim: SimulatedClusterLike): DashboardSource {
  return {
    store: () => sim.store(),
    now: () => sim.now(),
    raft: () => simulatedRaftView(sim),
    onLeaderChange: () => () => undefined,
    scale: async (id, replicas) => void (await sim.services.scale(id, replicas)),
    setAvailability: async (id, availability) => void (await sim.nodes.setAvailability(id, availability)),
    rollback: async (id) => void (await sim.services.rollback(id)),
  }
}

function simulatedRaftView(sim: SimulatedClusterLike): RaftView {
  const s = sim.raftStatus()
  return {
    leader: s.leader.toString(),
    term: s.term.toString(),
    commitIndex: s.commitIndex.toString(),
    appliedIndex: s.appliedIndex.toString(),
    members: s.members.map((m) => ({ raftId: m.raftId.toString(), nodeId: m.nodeId, addr: '', up: m.up, leader: m.raftId === s.leader && s.leader !== 0n })),
  }
}

/** Picks the adapter by shape: a manager has `manager` and `role`; a simulated cluster has `raftStatus`. */
export function toDashboardSource(target: DashboardTarget): DashboardSource {
  if (typeof target !== 'object' || target === null) throw new InvalidArgumentError('source', 'must be a ManagerCluster or a simulated cluster')
  if ('role' in target && 'manager' in target) {
    if (target.role !== 'manager') throw new InvalidArgumentError('source', 'must be a manager (a worker has no store to show)')
    return managerSource(target)
  }
  if ('raftStatus' in target && typeof target.raftStatus === 'function' && typeof target.store === 'function') return simulatedSource(target)
  throw new InvalidArgumentError('source', 'must be a ManagerCluster or a simulated cluster')
}

/** A Raft view with no leader, for a moment when the source cannot tell. */
export const NO_RAFT: RaftView = Object.freeze({ leader: '0', term: '0', commitIndex: '0', appliedIndex: '0', members: Object.freeze([]) })
