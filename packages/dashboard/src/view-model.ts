/**
 * The dashboard's wire model: what the server sends the page over Server-Sent Events. Plain JSON
 * (no bigint: Raft ids travel as decimal strings), trimmed to what the page shows, so 10,000
 * tasks fit in one snapshot of a few megabytes. This file is shared with the browser code
 * (`client/`), so it imports nothing.
 *
 * @module
 */

/** A node as the page shows it: one column. */
export interface NodeView {
  /** Node id. */
  readonly id: string
  /** Hostname (the node's name in Docker's CLI). */
  readonly hostname: string
  /** `manager` or `worker`. */
  readonly role: string
  /** Whether this manager leads the Raft group (as the store records it). */
  readonly leader: boolean
  /** A manager's reachability from the leader (`reachable`, `unreachable`, `unknown`); '' for workers. */
  readonly reachability: string
  /** `active`, `pause` or `drain`. */
  readonly availability: string
  /** `ready`, `down`, `disconnected` or `unknown`. */
  readonly state: string
  /** The node's address, when known. */
  readonly addr: string
  /** Node labels (`spec.annotations.labels`). */
  readonly labels: Readonly<Record<string, string>>
  /** CPU the node has, in 1e-9 CPUs (0 when it has not reported). */
  readonly nanoCpus: number
  /** Memory the node has, in bytes (0 when it has not reported). */
  readonly memoryBytes: number
}

/** A task as the page shows it: one card in its node's column. */
export interface TaskView {
  /** Task id. */
  readonly id: string
  /** Its service's id. */
  readonly serviceId: string
  /** Its service's name. */
  readonly serviceName: string
  /** Slot (replicated; 0 for global tasks). */
  readonly slot: number
  /** Node id, '' until scheduled. */
  readonly nodeId: string
  /** Observed state name (`RUNNING`, …). */
  readonly state: string
  /** Desired state name. */
  readonly desiredState: string
  /** Container image, '' when none. */
  readonly image: string
  /** Created at, in the cluster clock's milliseconds. */
  readonly createdAt: number
  /** Status message or error, '' when none. */
  readonly message: string
  /** Reserved CPU, in 1e-9 CPUs. */
  readonly nanoCpus: number
  /** Reserved memory, in bytes. */
  readonly memoryBytes: number
}

/** A service's rollout, as the orchestrator's progress computes it. */
export interface UpdateView {
  /** The update state (`updating`, `paused`, `completed`, `rollback_started`, …). */
  readonly state: string
  /** The updater's message, '' when none. */
  readonly message: string
  /** Slots whose current task runs the current spec. */
  readonly upToDate: number
  /** Slots in all. */
  readonly total: number
}

/** A service as the page shows it: one row of the services table. */
export interface ServiceView {
  /** Service id. */
  readonly id: string
  /** Service name. */
  readonly name: string
  /** `replicated`, `global`, `replicatedJob` or `globalJob`. */
  readonly mode: string
  /** Container image, '' when none. */
  readonly image: string
  /** Service labels. */
  readonly labels: Readonly<Record<string, string>>
  /** How many slots should run (replicas for replicated services). */
  readonly desired: number
  /** How many slots run now (observed RUNNING, desired RUNNING; jobs: COMPLETE). */
  readonly running: number
  /** The update or rollback, when one ran since the last spec change. */
  readonly update?: UpdateView
}

/** One Raft member in the Raft panel. */
export interface RaftMemberView {
  /** Raft member id, decimal. */
  readonly raftId: string
  /** Its node id ('' when unknown). */
  readonly nodeId: string
  /** Its address ('' when unknown). */
  readonly addr: string
  /** Whether it is up (reachable from the reporting manager). */
  readonly up: boolean
  /** Whether it leads. */
  readonly leader: boolean
}

/** The Raft panel. */
export interface RaftView {
  /** Leader's Raft id, decimal ('0' while none). */
  readonly leader: string
  /** Current term, decimal. */
  readonly term: string
  /** Commit index, decimal. */
  readonly commitIndex: string
  /** Applied index, decimal. */
  readonly appliedIndex: string
  /** Members of the group. */
  readonly members: readonly RaftMemberView[]
}

/** The whole picture: the first message of a stream, and after any gap. */
export interface SnapshotMessage {
  /** The cluster clock's time of the snapshot (virtual for a simulated cluster). */
  readonly now: number
  /** Whether POST actions are enabled on this server. */
  readonly actions: boolean
  /** Every node. */
  readonly nodes: readonly NodeView[]
  /** Every shown task (desired or observed state up to RUNNING). */
  readonly tasks: readonly TaskView[]
  /** Every service. */
  readonly services: readonly ServiceView[]
  /** The Raft panel. */
  readonly raft: RaftView
}

/** What changed since the previous message (applied in order: upserts, then removals). */
export interface DeltaMessage {
  /** The cluster clock's time. */
  readonly now: number
  /** Nodes created or changed. */
  readonly nodes?: readonly NodeView[]
  /** Node ids removed. */
  readonly removedNodes?: readonly string[]
  /** Tasks created, changed, or shown again. */
  readonly tasks?: readonly TaskView[]
  /** Task ids removed or no longer shown. */
  readonly removedTasks?: readonly string[]
  /** Services created or changed (their counts included). */
  readonly services?: readonly ServiceView[]
  /** Service ids removed. */
  readonly removedServices?: readonly string[]
  /** The Raft panel, when it changed. */
  readonly raft?: RaftView
}

/** SSE event names: `snapshot` carries a {@link SnapshotMessage}, `delta` a {@link DeltaMessage}. */
export const DashboardEvent = { SNAPSHOT: 'snapshot', DELTA: 'delta' } as const
/** An SSE event name of the dashboard stream. */
export type DashboardEvent = (typeof DashboardEvent)[keyof typeof DashboardEvent]
