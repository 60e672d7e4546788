/**
 * The types of a node's role change: the `role` event both node classes emit, and the switch
 * between them that `Cluster` gives each node (see role-switch.ts).
 *
 * @module
 */
import type { ManagerCluster } from './manager-cluster.ts'
import type { WorkerCluster } from './worker-cluster.ts'
import type { ManagerKeyStorage } from './key-storage.ts'
import type { ClusterNodeOptions } from './options.ts'
import type { NodeCertificateStore } from '../certs/index.ts'
import type { WorkerHalf } from './worker-half.ts'

/** A running node of a cluster: a manager (control handles) or a worker (none); `role` tells which. */
export type ClusterNode = ManagerCluster | WorkerCluster

/**
 * What a `role` event says: the node changed role, and `node` is the running node object of the
 * new role. The object that emitted the event is closed from then on (its calls reject with
 * `UnavailableError`); use `node`, and listen to its events.
 */
export interface RoleEvent {
  /** The node's new role. */
  readonly role: 'manager' | 'worker'
  /** The node, running in its new role. */
  readonly node: ClusterNode
}

/** Events of a {@link WorkerCluster}. */
export interface WorkerClusterEvents {
  /** The node was promoted and runs as a manager now (see {@link RoleEvent}). */
  role: (event: RoleEvent) => void
}

/** What both roles of one node share across a switch. */
export interface NodeContinuity {
  /** The node's certificate store, the same across switches (its TLS source follows renewals). */
  readonly certificates: NodeCertificateStore
  /** Where its key lives: moved by each switch. */
  readonly keyStorage: ManagerKeyStorage
  /** The options the node was started with. */
  readonly options: ClusterNodeOptions
  /** Switches roles. */
  readonly roles: RoleSwitcher
}

/** A promotion to run: the worker's running half and where to join the Raft group. */
export interface Promotion extends NodeContinuity {
  readonly half: WorkerHalf
  /** A manager to join through (the worker's current one). */
  readonly joinAddress: string
  /** `host:port` the new manager listens on. */
  readonly listenAddr: string
  /** `host:port` other nodes reach it at. @default the bound address */
  readonly advertiseAddr: string | undefined
}

/** A demotion to finish, once the manager parts have stopped: the half to keep, the managers to reach. */
export interface Demotion extends NodeContinuity {
  /** The running half, or `undefined` when the node is opened (`Cluster.open`) mid-demotion. */
  readonly half: WorkerHalf | undefined
  /** The other managers' addresses. */
  readonly managers: readonly string[]
  /** The address the manager listened on (a later promotion listens there again). */
  readonly listenAddr: string | undefined
  /** The address it advertised, when given. */
  readonly advertiseAddr: string | undefined
}

/** Starts a node in its new role (see role-switch.ts). */
export interface RoleSwitcher {
  /** Starts the manager parts of a promoted worker beside its running half, and commits the switch. */
  toManager(promotion: Promotion): Promise<ManagerCluster>
  /** Moves the key to the worker's file, commits the switch, removes the manager state, runs the worker. */
  toWorker(demotion: Demotion): Promise<WorkerCluster>
}
