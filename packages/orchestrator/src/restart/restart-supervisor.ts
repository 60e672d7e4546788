/**
 * The restart supervisor (SwarmKit's manager/orchestrator/restart): decides whether a task that
 * ended is replaced, creates the replacement, and starts it after the restart delay once its
 * predecessor has stopped.
 *
 * @module
 */
import type { Cluster, Service, Task } from '@swarmkit-ts/api'
import type { Frozen, Tx } from '@swarmkit-ts/store'
import type { Component, OrchestratorContext } from '../common/context.ts'

/** Replaces failed tasks; one per orchestrator run, shared by the replicated, global and jobs orchestrators. */
export class RestartSupervisor implements Component {
  readonly #ctx: OrchestratorContext

  constructor(ctx: OrchestratorContext) {
    this.#ctx = ctx
  }

  /** Starts watching task updates (for delayed starts waiting on their predecessor). */
  start(): void {
    void this.#ctx
  }

  /** Cancels every pending delayed start and stops. */
  async stop(): Promise<void> {}

  /**
   * Inside `tx`: sets `task`'s desired state to SHUTDOWN and, when the restart policy allows
   * (see {@link RestartSupervisor.shouldRestart}), creates its replacement — same slot
   * (replicated, replicated job) or same node (global, global job) — with desired READY, and
   * schedules its delayed start ({@link RestartSupervisor.delayStart}). A task still in its own
   * restart delay is restarted only when that delay ends (no tight restart loops).
   */
  restart(tx: Tx, cluster: Frozen<Cluster> | undefined, service: Frozen<Service>, task: Frozen<Task>): void {
    void tx
    void cluster
    void service
    void task
  }

  /**
   * Whether `task` should be replaced under its restart policy: condition, max attempts within
   * the window, counted per (service, slot) or (service, node), history reset on a new spec
   * version.
   */
  shouldRestart(task: Frozen<Task>, service: Frozen<Service>): boolean {
    void task
    void service
    return false
  }

  /**
   * Moves task `newTaskId` to its run state (desired RUNNING; COMPLETE for job tasks) after
   * `delayMs` and — when `waitStop` — once `oldTask` has stopped (observed > RUNNING), its node
   * is down, or one minute has passed. Resolves when the start was written or cancelled.
   */
  delayStart(oldTask: Frozen<Task> | undefined, newTaskId: string, delayMs: number, waitStop: boolean): Promise<void> {
    void oldTask
    void newTaskId
    void delayMs
    void waitStop
    return Promise.resolve()
  }

  /** Whether task `taskId` has a delayed start pending. */
  isDelayed(taskId: string): boolean {
    void taskId
    return false
  }

  /** Cancels the delayed start of task `taskId`, if any. */
  cancel(taskId: string): void {
    void taskId
  }

  /** Forgets the restart history of service `serviceId` (it was deleted). */
  clearServiceHistory(serviceId: string): void {
    void serviceId
  }
}
