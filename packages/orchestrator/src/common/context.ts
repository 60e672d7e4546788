/**
 * What every loop of the orchestrator is given: the store it reconciles and the effects it may
 * use. Nothing else reaches real time, randomness or I/O.
 *
 * @module
 */
import type { Clock, Logger, Random } from '@swarmkit-ts/api'
import type { MemoryStore } from '@swarmkit-ts/store'

/** The store and the injected effects shared by the loops of one {@link Orchestrator} run. */
export interface OrchestratorContext {
  /** The store to reconcile (the Raft leader's, in a cluster). */
  readonly store: MemoryStore
  /** Time for delays, monitors, timestamps and schedules. */
  readonly clock: Clock
  /** Randomness for task ids. */
  readonly random: Random
  /** Where the loops report what they do and what failed. */
  readonly logger: Logger
}

/**
 * A loop with a lifecycle. `start()` reads its state from the store and begins to react; `stop()`
 * cancels its timers and resolves once nothing of it runs any more (a write in flight completes
 * or fails as a whole first: transactions are atomic).
 */
export interface Component {
  /** Starts the loop. Calling it twice throws `FailedPreconditionError`. */
  start(): void
  /** Stops the loop; resolves when it has stopped. Idempotent. */
  stop(): Promise<void>
}
