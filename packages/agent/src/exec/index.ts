/**
 * The task executor: task spec → runtime spec, a controller per task over a `ContainerRuntime`,
 * and `doStep`, the task state machine (SwarmKit's `exec.Do`).
 *
 * @module
 */
export type { TaskController, TaskDependencies } from './controller.ts'
export type { TaskNetworking } from './networking.ts'
export { RuntimeExecutor } from './executor.ts'
export type { RuntimeExecutorInit } from './executor.ts'
export { RuntimeTaskController } from './runtime-controller.ts'
export type { RuntimeTaskControllerInit } from './runtime-controller.ts'
export { ContainerIndex } from './container-index.ts'
export { doStep, DEFAULT_RETRY_BACKOFF } from './do-step.ts'
export type { DoStepContext, RetryBackoff } from './do-step.ts'
export { TaskExitError, TemporaryError, ContainerUnhealthyError, ControllerClosedError, isTemporaryError } from './errors.ts'
export {
  taskRuntimeSpec,
  taskLabels,
  taskName,
  stopGracePeriodMs,
  genericResourceEnv,
  TASK_ID_LABEL,
  SYSTEM_LABEL_PREFIX,
  DEFAULT_STOP_GRACE_PERIOD_MS,
  SECRETS_DIR,
  GENERIC_RESOURCE_ENV_PREFIX,
} from './task-spec.ts'
