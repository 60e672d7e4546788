/**
 * The dispatcher as a worker's agent sees it (SwarmKit's `api/dispatcher.proto`): a session,
 * heartbeats, the stream of assignments and the status updates going back. The dispatcher
 * (`@swarmkit-ts/orchestrator`) implements it; the agent (`@swarmkit-ts/agent`) consumes it; a
 * binding carries it — in process (with faults, for tests) or over gRPC with mutual TLS (core).
 * Neither side imports the other.
 *
 * One `DispatcherApi` value speaks for one node: the binding knows who is calling (the node id
 * of the TLS certificate over gRPC; the identity it was created for in process), so no request
 * carries a node id.
 *
 * @module
 */
import type { Config, EncryptionKey, Node, NodeDescription, Secret, Task, TaskStatus } from './objects.ts'

/** A manager an agent may connect to; a higher weight is preferred. */
export interface WeightedManager {
  readonly nodeId: string
  /** `host:port` of its cluster listener. */
  readonly addr: string
  readonly weight: number
}

/** Opens (or resumes) a session. */
export interface SessionRequest {
  /** What the node reports about itself (hostname, platform, resources, engine). */
  readonly description: NodeDescription
  /** The session to resume; a dispatcher that does not know it starts a new one. */
  readonly sessionId?: string
}

/**
 * What a session stream carries: first at registration, then again whenever any of it changes
 * (the node object, the manager list, the keys, the root CA). The stream ends when the session
 * does; the node is then DISCONNECTED until it registers again.
 */
export interface SessionMessage {
  readonly sessionId: string
  /** The node object as the managers store it. */
  readonly node: Node
  /** Managers to fail over to, the current leader first. */
  readonly managers: readonly WeightedManager[]
  /** Keys for gossip and overlay encryption. */
  readonly networkBootstrapKeys: readonly EncryptionKey[]
  /** The cluster's root CA certificate (PEM). */
  readonly rootCa: Uint8Array
}

/** A heartbeat of the session `sessionId`. */
export interface HeartbeatRequest {
  readonly sessionId: string
}

/** When to send the next heartbeat: the period (5 s by default) with a jitter of ±0.5 s. */
export interface HeartbeatResponse {
  readonly periodMs: number
}

/** The status of one task, as the agent observed it. */
export interface TaskStatusUpdate {
  readonly taskId: string
  readonly status: TaskStatus
}

/** Status updates of the session `sessionId`'s node. */
export interface UpdateTaskStatusRequest {
  readonly sessionId: string
  readonly updates: readonly TaskStatusUpdate[]
}

/** What a node is given: a task of its own, or a secret or config one of its tasks uses. */
export type Assignment = { readonly task: Task } | { readonly secret: Secret } | { readonly config: Config }

/** One change of a node's assignments. A `remove` carries the object as last assigned. */
export interface AssignmentChange {
  readonly action: 'update' | 'remove'
  readonly assignment: Assignment
}

/**
 * A message of the assignments stream. The first one is `complete` (the node's whole set:
 * `appliesTo` is empty); each later one is `incremental` and applies to the set the previous
 * message `resultsIn`. An agent that sees a gap reopens the stream.
 */
export interface AssignmentsMessage {
  readonly type: 'complete' | 'incremental'
  readonly appliesTo: string
  readonly resultsIn: string
  readonly changes: readonly AssignmentChange[]
}

/** Options of a streaming call. */
export interface DispatcherStreamOptions {
  /** Ends the stream (its iteration then finishes without an error). */
  readonly signal?: AbortSignal
}

/**
 * The dispatcher, as one node's agent sees it.
 *
 * Errors every implementation and binding reports the same way:
 * - an unknown or ended session: `FailedPreconditionError` with reason `session-invalid` — the
 *   agent registers again;
 * - a node that registered too often (more than 3 times within 8 s): `UnavailableError` — the
 *   agent backs off;
 * - a status update for a task assigned to another node: `PermissionDeniedError`;
 * - a manager that is not the leader: `NotLeaderError` (with the leader's address when known) —
 *   the agent fails over to another manager of the session's list.
 */
export interface DispatcherApi {
  /** Registers the node and streams its session; ends when the session does. */
  session(request: SessionRequest, options?: DispatcherStreamOptions): AsyncIterable<SessionMessage>
  /** Keeps the session alive; answers when to beat next. */
  heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse>
  /** Streams the node's assignments: complete first, then incremental changes. */
  assignments(request: { readonly sessionId: string }, options?: DispatcherStreamOptions): AsyncIterable<AssignmentsMessage>
  /**
   * Queues status updates; resolves once they are queued (the dispatcher writes them in
   * batches). A state lower than the stored one is ignored, never applied.
   */
  updateTaskStatus(request: UpdateTaskStatusRequest): Promise<void>
}
