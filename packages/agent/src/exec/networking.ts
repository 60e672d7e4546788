/**
 * The executor's optional networking seam: how a task's networks and published ports reach its
 * container. The network package's `NetworkDriver` fits it through a few lines of glue
 * (`taskNetworkRequestOf` → `prepareTask` + `withTaskNetwork`; `taskEndpoints` + `toPortStatus`;
 * `releaseTask`), kept out of the agent so that it depends on api and engine-adapter only.
 */
import type { PortStatus, Task } from '@swarmkit-ts/api'
import type { ContainerInfo, RuntimeContainerSpec } from '@swarmkit-ts/engine-adapter'

/**
 * Networking of a {@link RuntimeExecutor}'s tasks. Without it, a task's `networks` and
 * `endpoint` are not applied: its container uses the runtime's default network.
 */
export interface TaskNetworking {
  /**
   * Returns `spec` with the task's networks, ports and environment merged in (creating on this
   * node what the task needs). Called by `prepare` before the container is created; an error
   * rejects the task (REJECTED).
   */
  prepareTask(task: Task, spec: RuntimeContainerSpec, signal: AbortSignal): Promise<RuntimeContainerSpec>
  /** Where the task's ports are reachable once its container runs (the status's `portStatus`). */
  portStatus(task: Task, container: ContainerInfo): Promise<PortStatus | undefined>
  /** Forgets the task once its container is removed (idempotent). */
  releaseTask(taskId: string): Promise<void>
}
