/**
 * The task reaper (SwarmKit's manager/orchestrator/taskreaper): deletes old task history and removed tasks.
 *
 * @module
 */
import type { Component, OrchestratorContext } from '../common/context.ts'


/** The task reaper (SwarmKit's manager/orchestrator/taskreaper): deletes old task history and removed tasks. */
export class TaskReaper implements Component {
  readonly #ctx: OrchestratorContext

  constructor(ctx: OrchestratorContext) {
    this.#ctx = ctx
  }

  /** Reads its state from the store and starts reacting to changes. */
  start(): void {
    void this.#ctx
  }

  /** Stops; resolves once nothing of it runs any more. */
  async stop(): Promise<void> {}
}
