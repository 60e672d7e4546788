/**
 * The orchestrator runner: every loop of the leader's orchestration, started together on one
 * store and stopped together. In a cluster, core runs it on the Raft leader only and stops it
 * when leadership is lost; each loop reads its state from the store on start, so a new
 * leader's run resumes rolling updates, restart delays and job schedules where the old one
 * stopped.
 *
 * @module
 */
import { FailedPreconditionError, silentLogger } from '@swarmkit-ts/api'
import type { Clock, Logger, Random } from '@swarmkit-ts/api'
import type { MemoryStore } from '@swarmkit-ts/store'
import type { Component, OrchestratorContext } from './common/context.ts'
import { ConstraintEnforcer } from './constraint-enforcer/constraint-enforcer.ts'
import { GlobalOrchestrator } from './global/global-orchestrator.ts'
import { JobsOrchestrator } from './jobs/jobs-orchestrator.ts'
import { TaskReaper } from './reaper/task-reaper.ts'
import { ReplicatedOrchestrator } from './replicated/replicated-orchestrator.ts'
import { RestartSupervisor } from './restart/restart-supervisor.ts'
import { Scheduler } from './scheduler/scheduler.ts'
import { UpdateSupervisor } from './update/update-supervisor.ts'

/** Construction options of {@link Orchestrator}. */
export interface OrchestratorInit {
  /** The store to reconcile. */
  readonly store: MemoryStore
  /** Time for restart delays, update delays and monitors, timestamps and job schedules. */
  readonly clock: Clock
  /** Randomness for task ids. */
  readonly random: Random
  /** Where the loops report; silent by default. */
  readonly logger?: Logger
  /**
   * Also run the {@link Scheduler} (PENDING → ASSIGNED), started last and stopped first. Off by
   * default for now: an embedder (or a test driver) that places tasks itself keeps doing so.
   */
  readonly scheduler?: boolean
}

/** A running orchestrator. */
export interface OrchestratorHandle {
  /**
   * Stops every loop and resolves once all have stopped: no timer is left, no write is in
   * flight (a transaction in progress completes or fails as a whole first). Idempotent.
   */
  stop(): Promise<void>
}

/**
 * Runs the replicated, global and jobs orchestrators with their shared restart and update
 * supervisors, the task reaper and the constraint enforcer on one store.
 */
export class Orchestrator {
  readonly #ctx: OrchestratorContext
  readonly #scheduler: boolean
  #running: OrchestratorHandle | undefined

  constructor(init: OrchestratorInit) {
    this.#ctx = { store: init.store, clock: init.clock, random: init.random, logger: init.logger ?? silentLogger }
    this.#scheduler = init.scheduler ?? false
  }

  /**
   * Starts every loop (`FailedPreconditionError` if this orchestrator is running). After
   * `stop()` it may be started again, as a new leader term would.
   */
  start(): OrchestratorHandle {
    if (this.#running !== undefined) throw new FailedPreconditionError('the orchestrator is already running')
    const ctx = this.#ctx
    const restarts = new RestartSupervisor(ctx)
    const updates = new UpdateSupervisor(ctx, restarts)
    // Started in this order, stopped in the reverse one: the orchestrators stop before the
    // supervisors they call.
    const components: Component[] = [
      restarts,
      updates,
      new ReplicatedOrchestrator(ctx, restarts, updates),
      new GlobalOrchestrator(ctx, restarts, updates),
      new JobsOrchestrator(ctx, restarts),
      new TaskReaper(ctx),
      new ConstraintEnforcer(ctx),
    ]
    if (this.#scheduler) components.push(new Scheduler(ctx))
    const started: Component[] = []
    let stopping: Promise<void> | undefined
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        for (const c of started.reverse()) await c.stop()
        this.#running = undefined
      })())
    try {
      for (const c of components) {
        c.start()
        started.push(c)
      }
    } catch (err) {
      void stop()
      throw err
    }
    const handle: OrchestratorHandle = { stop }
    this.#running = handle
    return handle
  }
}
