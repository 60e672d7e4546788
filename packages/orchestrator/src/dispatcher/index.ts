/**
 * The dispatcher: node sessions, heartbeats, assignments and status intake, pure on the store (issue 17).
 *
 * @module
 */
export { Dispatcher } from './dispatcher.ts'
export type { DispatcherInit, DispatcherHandle, NodeApiOptions } from './dispatcher.ts'
export {
  DEFAULT_HEARTBEAT_PERIOD_MS,
  HEARTBEAT_EPSILON_MS,
  GRACE_PERIOD_MULTIPLIER,
  UNKNOWN_GRACE_PERIOD_MULTIPLIER,
  NODE_DOWN_PERIOD_MS,
  MAX_REREGISTRATIONS,
  RATE_LIMIT_PERIOD_MS,
  ASSIGNMENT_BATCH_LIMIT,
  ASSIGNMENT_BATCH_WAIT_MS,
  STATUS_FLUSH_INTERVAL_MS,
  STATUS_FLUSH_LIMIT,
  NodeStatusMessage,
} from './config.ts'
export type { DispatcherConfig } from './config.ts'
export { AssignmentSet, tasksEqualStable, taskDependencies } from './assignment-set.ts'
export type { DependencyLookup } from './assignment-set.ts'
export { chooseHeartbeatPeriod, checkRegistration } from './heartbeat.ts'
export type { RegistrationRecord, RegistrationDecision } from './heartbeat.ts'
export { decideStatusUpdate } from './status-intake.ts'
export type { AppliedStamp } from './status-intake.ts'
