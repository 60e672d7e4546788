/**
 * The public shape of a simulated cluster ({@link SimulatedCluster}) and its members.
 *
 * @module
 */
import type { Clock, Cluster, ClusterSpec, JoinTokens, NodeRole, RaftMemberId } from '@swarmkit-ts/api'
import type { Frozen, MemoryStore, WatchEvent } from '@swarmkit-ts/store'
import type { ConfigsApi, ControlWatchOptions, ControlWatchSelector, NetworksApi, SecretsApi, TasksApi, VersionOptions } from '../control/index.ts'
import type { ClusterNodes, ClusterServices } from '../cluster/handles.ts'

/** One node of a simulated cluster. */
export interface SimulatedNode {
  /** The node id (of its Node object). */
  readonly id: string
  /** `manager-<i>` or `worker-<i>`. */
  readonly hostname: string
  readonly role: 'manager' | 'worker'
  /** Whether it runs (not crashed). */
  readonly up: boolean
  /** A manager's Raft member id. */
  readonly raftId?: RaftMemberId
}

/** A Raft member as {@link SimulatedCluster.raftStatus} reports it. */
export interface SimulatedRaftMember {
  readonly raftId: RaftMemberId
  readonly nodeId: string
  readonly up: boolean
}

/** One manager's view of Raft. */
export interface SimulatedRaftStatus {
  /** The leader it knows (`0n`: none). */
  readonly leader: RaftMemberId
  readonly term: bigint
  readonly commitIndex: bigint
  readonly appliedIndex: bigint
  /** The voters of its configuration. */
  readonly members: readonly SimulatedRaftMember[]
}

/** Options of {@link SimulatedCluster.runUntil}. */
export interface RunUntilOptions {
  /** Give up (`SimulationDeadlineError`, an `UnavailableError` with reason `deadline`) after this much virtual time. @default 600000 */
  readonly maxVirtualMs?: number
}

/**
 * A whole cluster in one process on a virtual clock (see `Cluster.simulate`). The handles are a
 * manager `Cluster`'s, answered by the current leader; a handle call drives virtual time until
 * it settles (a call made while there is no leader waits for one, up to a bound, then fails with
 * `SimulationDeadlineError`). Virtual time moves only inside these calls.
 */
export interface SimulatedCluster extends AsyncDisposable {
  /** Services, with `progress`, `waitConverged` and `logs` (from the leader's log broker). */
  readonly services: ClusterServices
  /** Tasks (read only). */
  readonly tasks: TasksApi
  /** Nodes, with availability and labels (promotion and demotion: `FailedPreconditionError` reason `not-simulated`). */
  readonly nodes: ClusterNodes
  readonly networks: NetworksApi
  readonly secrets: SecretsApi
  readonly configs: ConfigsApi
  /** The seed everything was drawn from. */
  readonly seed: number
  /** The virtual clock (`now()` in virtual ms since the epoch). */
  readonly clock: Clock
  /** The cluster object (without its keys). */
  getCluster(): Promise<Frozen<Cluster>>
  /** Replaces the cluster spec (`SequenceConflictError` when `options.version` is stale). */
  updateCluster(spec: ClusterSpec, options?: VersionOptions): Promise<Frozen<Cluster>>
  /** The join tokens. */
  joinTokens(): Promise<Frozen<JoinTokens>>
  /** Replaces `role`'s join token. */
  rotateJoinToken(role: NodeRole): Promise<Frozen<JoinTokens>>
  /** Store events from the leader (the one at the time of the call); they arrive as virtual time moves. */
  watch(selector?: ControlWatchSelector, options?: ControlWatchOptions): AsyncIterable<WatchEvent>
  /** Virtual now (ms). */
  now(): number
  /** The managers, then the workers. */
  members(): readonly SimulatedNode[]
  /** The leader: the running manager that leads in the highest term; undefined when none. */
  leader(): SimulatedNode | undefined
  /** A manager's store (default: the leader's, else the first running manager's). */
  store(nodeId?: string): MemoryStore
  /** Moves virtual time by `ms`, running everything due, settling in between. */
  advance(ms: number): Promise<void>
  /** Moves virtual time until `predicate` holds; returns the virtual ms taken. */
  runUntil(predicate: () => boolean | Promise<boolean>, options?: RunUntilOptions): Promise<number>
  /** Runs everything not waiting for virtual time. */
  settle(): Promise<void>
  /** Cuts the nodes of `a` from those of `b` (default: every other node); nodes in neither form a third side. Replaces any partition. */
  partition(a: readonly string[], b?: readonly string[]): void
  /** Removes the partition. */
  heal(): void
  /** Crashes a node: a manager loses its memory (its Raft log stays); a worker loses its agent and containers (its task database stays). */
  crash(nodeId: string): void
  /** Starts a crashed node again on what it kept. */
  restart(nodeId: string): Promise<void>
  /** Makes a running task's container exit with `exitCode` (default 1). */
  failTask(taskId: string, options?: { readonly exitCode?: number }): void
  /** Makes a manager's Raft storage writes take `ms` of virtual time (0: normal). */
  slowDisk(nodeId: string, ms: number): void
  /**
   * A manager's view of Raft (default: the leader's, else — while there is none — the first
   * running manager's, whose `leader` is then `0n`). `FailedPreconditionError` (reason
   * `node-down`) for a crashed manager, (reason `no-manager`) when every manager is down.
   */
  raftStatus(nodeId?: string): SimulatedRaftStatus
  /** The trace so far (same seed and calls ⇒ the same text). */
  trace(): string
  /** Stops every node. Idempotent. */
  close(): Promise<void>
}
