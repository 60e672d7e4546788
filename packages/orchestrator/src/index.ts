/**
 * The reconciliation loops of swarmkit-ts — the leader's orchestration, pure on the store with
 * an injected `Clock` and `Random`: replicated, global and job services (with cron schedules),
 * the restart supervisor, rolling updates with rollback, the task reaper and the constraint
 * enforcer, run together by {@link Orchestrator}; plus {@link ServiceControl} for service
 * writes as SwarmKit's control API does them.
 *
 * @packageDocumentation
 */
export { Orchestrator } from './orchestrator.ts'
export type { OrchestratorInit, OrchestratorHandle } from './orchestrator.ts'
export type { OrchestratorContext, Component } from './common/context.ts'
export { ServiceControl } from './control/service-control.ts'
export type { ServiceControlInit, ServiceUpdateOptions } from './control/service-control.ts'
export { RestartSupervisor, TASK_TIMEOUT_MS } from './restart/restart-supervisor.ts'
export { UpdateSupervisor } from './update/update-supervisor.ts'
export { ReplicatedOrchestrator } from './replicated/replicated-orchestrator.ts'
export { GlobalOrchestrator } from './global/global-orchestrator.ts'
export { planGlobalService, planGlobalNode, decideGlobalRestart, runnableTasks } from './global/global-reconcile.ts'
export type { GlobalServicePlan, GlobalNodePlan, GlobalRestartDecision, UpdatableTasks } from './global/global-reconcile.ts'
export { JobsOrchestrator } from './jobs/jobs-orchestrator.ts'
export { planReplicatedJob, planGlobalJob } from './jobs/job-reconcile.ts'
export type { ReplicatedJobPlan, GlobalJobPlan } from './jobs/job-reconcile.ts'
export { nextDueTime, decideDue, isIterationRunning } from './jobs/job-schedule.ts'
export type { DueOutcome } from './jobs/job-schedule.ts'
export { TaskReaper } from './reaper/task-reaper.ts'
export { REAPER_BATCH_INTERVAL_MS, REAPER_MAX_DIRTY } from './reaper/reaper-plan.ts'
export { ConstraintEnforcer } from './constraint-enforcer/constraint-enforcer.ts'
export { CONSTRAINT_REJECT_MESSAGE, CONSTRAINT_REJECT_ERR } from './constraint-enforcer/node-compliance.ts'
export { Scheduler, SCHEDULER_DEBOUNCE_MS, SCHEDULER_MAX_LATENCY_MS } from './scheduler/scheduler.ts'
export { ASSIGNED_MESSAGE, PREASSIGNED_MESSAGE, SHUTDOWN_MESSAGE } from './scheduler/scheduler-writes.ts'
export { placeGroup } from './scheduler/placement.ts'
export type { PlacementGroup, PlaceOptions, TaskPlacement, PlacementResult } from './scheduler/placement.ts'
export { NodeSet, NodeInfo, FAILURE_WINDOW_MS, MAX_FAILURES } from './scheduler/node-info.ts'
export type { NodeScope } from './scheduler/node-info.ts'
export { FilterKind, TaskFilter, explainFilter, explainFailures, normalizeArch } from './scheduler/filters.ts'
export type { TaskFilterOptions } from './scheduler/filters.ts'
export { StoreLoop, LOOP_QUEUE_LIMIT } from './common/store-loop.ts'
export type { StoreLoopHandlers } from './common/store-loop.ts'
export {
  newTask,
  taskName,
  isTaskDirty,
  isInvalidNode,
  nodeMatchesConstraints,
  restartPolicy,
  updateConfig,
  modeKind,
  isJob,
  isGlobalMode,
  runState,
} from './common/task.ts'
export type { Slot } from './common/task.ts'
export { specEqual } from './common/equality.ts'
export { serviceProgress, PROGRESS_QUEUE_LIMIT } from './progress/service-progress.ts'
export type { ServiceProgressOptions } from './progress/service-progress.ts'
export { computeProgress, globalServiceNodes, progressEqual } from './progress/progress-snapshot.ts'
export type { ServiceProgress, SlotProgress, UpdateProgress } from './progress/progress-snapshot.ts'
export * from './dispatcher/index.ts'
