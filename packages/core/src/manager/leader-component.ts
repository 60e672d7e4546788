/**
 * The seam through which parts of a manager run on the Raft leader only: a {@link LeaderComponent}
 * is started when this manager wins an election and its handle stopped when leadership is lost
 * (or the manager closes). Parts other than the manager's own loops (the CA signer, root
 * rotation, the log broker) plug in here.
 *
 * @module
 */
import type { Clock, Logger, RaftMemberId, Random } from '@swarmkit-ts/api'
import type { MemoryStore } from '@swarmkit-ts/store'

/** What a leader component gets for one leader term. */
export interface LeaderContext {
  /** The replicated store; writes succeed while this manager leads. */
  readonly store: MemoryStore
  /** Time for the component's timers. */
  readonly clock: Clock
  /** Randomness (ids, jitter). */
  readonly random: Random
  /** A logger already scoped to the component (`component: <name>`). */
  readonly logger: Logger
  /** This manager's node id (its certificate's CN). */
  readonly nodeId: string
  /** This manager's Raft member id. */
  readonly raftId: RaftMemberId
  /** Aborted when this term ends (leadership lost or the manager closing), before `stop()` is called. */
  readonly signal: AbortSignal
}

/** A running leader component (one per leader term). */
export interface LeaderComponentHandle {
  /**
   * Stops the component: resolves once no timer, stream or write of it is left. Called once per
   * term, in the reverse order of the starts. It should not throw; a rejection is logged.
   */
  stop(): Promise<void>
}

/**
 * A part that runs on the leader only. `start` is called once per leader term, after the
 * manager's own loops (allocator, orchestrator with scheduler, dispatcher) have started, in the
 * order the components were given; it may be called again after the handle was stopped (a
 * later term). A `start` that throws (or rejects) is logged and that component is skipped for
 * the term: the other components still run.
 */
export interface LeaderComponent {
  /** A short name for logs (`ca-signer`, `root-rotation`, `log-broker`). */
  readonly name: string
  /** Starts the component for a term. */
  start(ctx: LeaderContext): LeaderComponentHandle | Promise<LeaderComponentHandle>
}
