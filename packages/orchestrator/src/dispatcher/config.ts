/**
 * The dispatcher's settings and SwarmKit's defaults for them (`manager/dispatcher`).
 *
 * @module
 */
import type { WeightedManager } from '@swarmkit-ts/api'

/** Heartbeat period answered to agents (SwarmKit's `DefaultHeartBeatPeriod`). */
export const DEFAULT_HEARTBEAT_PERIOD_MS = 5_000
/** Each answered period is jittered uniformly within ± this (SwarmKit's `defaultHeartBeatEpsilon`). */
export const HEARTBEAT_EPSILON_MS = 500
/** A node is DOWN after this many periods without a heartbeat (`DefaultGracePeriodMultiplier`). */
export const GRACE_PERIOD_MULTIPLIER = 3
/** After a leader change, a node has this many periods to register again before it is DOWN. */
export const UNKNOWN_GRACE_PERIOD_MULTIPLIER = 6
/** A node DOWN this long gets its ASSIGNED..RUNNING tasks ORPHANED (`defaultNodeDownPeriod`, 24 h). */
export const NODE_DOWN_PERIOD_MS = 24 * 60 * 60 * 1_000
/** Re-registrations of one node allowed while each follows the previous within {@link RATE_LIMIT_PERIOD_MS}. */
export const MAX_REREGISTRATIONS = 3
/** The window of the registration limit. */
export const RATE_LIMIT_PERIOD_MS = 8_000
/** An assignments stream sends once this many modifications are pending (`modificationBatchLimit`). */
export const ASSIGNMENT_BATCH_LIMIT = 100
/** …or once this long passed with no new modification (`batchingWaitTime`). */
export const ASSIGNMENT_BATCH_WAIT_MS = 100
/** Queued status updates are written this long after the first one was queued (`maxBatchInterval`). */
export const STATUS_FLUSH_INTERVAL_MS = 100
/** …or at once when this many are queued (`maxBatchItems`). */
export const STATUS_FLUSH_LIMIT = 10_000
/** Store writes per transaction of a status or node batch (below a change set's 200 actions). */
export const WRITES_PER_TRANSACTION = 100

/** Node status messages, as SwarmKit writes them. */
export const NodeStatusMessage = {
  HEARTBEAT_FAILURE: 'heartbeat failure',
  UNKNOWN_HEARTBEAT_FAILURE: 'heartbeat failure for node in "unknown" state',
  LEADERSHIP_CHANGE: 'Node moved to "unknown" state due to leadership change in cluster',
  DISCONNECTED: 'node is currently trying to find new manager',
} as const

/** Optional settings of a {@link Dispatcher}. */
export interface DispatcherConfig {
  /** Heartbeat period (default {@link DEFAULT_HEARTBEAT_PERIOD_MS}); answers are jittered by ±{@link HEARTBEAT_EPSILON_MS}. */
  readonly heartbeatPeriodMs?: number
  /** The managers sent in session messages, leader first (default: none). Read at every session message. */
  readonly managers?: () => readonly WeightedManager[]
  /** This manager's node id, written as `status.appliedBy` of the status updates it applies (default: not set). */
  readonly nodeId?: string
  /**
   * Queued status updates are written this long after the first one was queued (default
   * {@link STATUS_FLUSH_INTERVAL_MS}, SwarmKit's). 0 writes them at the next turn of the event
   * loop: every update queued in that turn in one write, and no wait added to a task's progress.
   */
  readonly statusFlushMs?: number
  /**
   * An assignments stream sends this long after its latest modification (default
   * {@link ASSIGNMENT_BATCH_WAIT_MS}, SwarmKit's). 0 sends at the next turn of the event loop,
   * with every modification made in that turn.
   */
  readonly assignmentBatchMs?: number
}

/** {@link DispatcherConfig} with its defaults filled in. */
export interface ResolvedDispatcherConfig {
  readonly heartbeatPeriodMs: number
  readonly managers: () => readonly WeightedManager[]
  readonly nodeId: string | undefined
  readonly statusFlushMs: number
  readonly assignmentBatchMs: number
}

/** Fills in the defaults of `config`. */
export function resolveDispatcherConfig(config: DispatcherConfig = {}): ResolvedDispatcherConfig {
  return {
    heartbeatPeriodMs: config.heartbeatPeriodMs ?? DEFAULT_HEARTBEAT_PERIOD_MS,
    managers: config.managers ?? (() => []),
    nodeId: config.nodeId,
    statusFlushMs: config.statusFlushMs ?? STATUS_FLUSH_INTERVAL_MS,
    assignmentBatchMs: config.assignmentBatchMs ?? ASSIGNMENT_BATCH_WAIT_MS,
  }
}
