/**
 * The replicated orchestrator (SwarmKit's manager/orchestrator/replicated): N tasks in slots 1..N per replicated service.
 *
 * @module
 */
import type { Component, OrchestratorContext } from '../common/context.ts'
import type { RestartSupervisor } from '../restart/restart-supervisor.ts'
import type { UpdateSupervisor } from '../update/update-supervisor.ts'

/** The replicated orchestrator (SwarmKit's manager/orchestrator/replicated): N tasks in slots 1..N per replicated service. */
export class ReplicatedOrchestrator implements Component {
  readonly #ctx: OrchestratorContext

  constructor(ctx: OrchestratorContext, restarts: RestartSupervisor, updates: UpdateSupervisor) {
    void restarts
    void updates
    this.#ctx = ctx
  }

  /** Reads its state from the store and starts reacting to changes. */
  start(): void {
    void this.#ctx
  }

  /** Stops; resolves once nothing of it runs any more. */
  async stop(): Promise<void> {}
}
