/**
 * The property-test harness of simulated clusters: SwarmKit's guarantees as checks, schedules of
 * operations and faults with their fast-check arbitraries, the runner that records a history of
 * control calls, and the one-call property an embedder adds an invariant to.
 *
 * @module
 */
export { ClusterInvariant, formatViolations } from './violations.ts'
export type { ClusterViolation } from './violations.ts'
export { checkStoreInvariants } from './store-invariants.ts'
export type { StoreSnapshot, StoreInvariantOptions } from './store-invariants.ts'
export { serviceModel } from './service-model.ts'
export type { ServiceValue, ServiceOpInput, ServiceOpOutput, ServiceOpError, ServiceModelState } from './service-model.ts'
export { ClusterHistory, HARNESS_TOKEN_LABEL } from './history.ts'
export type { ServiceCall, AvailabilityCall } from './history.ts'
export { checkClusterInvariants, assertClusterInvariants, ClusterInvariantError } from './check.ts'
export type { ClusterInvariantOptions } from './check.ts'
export type { ClusterOperation, ClusterFault, ClusterStep, ClusterSchedule } from './schedule.ts'
export { arbClusterOperation, arbClusterFault, arbClusterSchedule } from './arbitraries.ts'
export type { ClusterOperationArbitraryOptions, ClusterFaultArbitraryOptions, ClusterScheduleArbitraryOptions } from './arbitraries.ts'
export { runClusterSchedule, convergeCluster } from './run-schedule.ts'
export type { RunScheduleOptions, ScheduleRun, ConvergeOptions } from './run-schedule.ts'
export { runClusterCase, arbClusterCase, clusterProperty, runClusterProperty } from './property.ts'
export type { ClusterCase, ClusterCheck, ClusterCaseOptions, ClusterCaseResult, ClusterPropertyOptions, RunClusterPropertyOptions } from './property.ts'
