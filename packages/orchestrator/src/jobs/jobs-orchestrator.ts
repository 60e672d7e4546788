/**
 * The jobs orchestrator (SwarmKit's manager/orchestrator/jobs): replicated and global jobs, iterations, and cron schedules.
 *
 * @module
 */
import type { Component, OrchestratorContext } from '../common/context.ts'
import type { RestartSupervisor } from '../restart/restart-supervisor.ts'

/** The jobs orchestrator (SwarmKit's manager/orchestrator/jobs): replicated and global jobs, iterations, and cron schedules. */
export class JobsOrchestrator implements Component {
  readonly #ctx: OrchestratorContext

  constructor(ctx: OrchestratorContext, restarts: RestartSupervisor) {
    void restarts
    this.#ctx = ctx
  }

  /** Reads its state from the store and starts reacting to changes. */
  start(): void {
    void this.#ctx
  }

  /** Stops; resolves once nothing of it runs any more. */
  async stop(): Promise<void> {}
}
