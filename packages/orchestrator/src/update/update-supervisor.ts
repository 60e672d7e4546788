/**
 * The update supervisor (SwarmKit's manager/orchestrator/update): one rolling updater per
 * service, replacing out-of-date tasks with the service's update (or rollback) config.
 *
 * @module
 */
import type { Cluster, Service } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import type { Component, OrchestratorContext } from '../common/context.ts'
import type { Slot } from '../common/task.ts'
import type { RestartSupervisor } from '../restart/restart-supervisor.ts'

/** Runs at most one rolling update per service; a newer spec replaces the update in progress. */
export class UpdateSupervisor implements Component {
  readonly #ctx: OrchestratorContext
  readonly #restarts: RestartSupervisor

  constructor(ctx: OrchestratorContext, restarts: RestartSupervisor) {
    this.#ctx = ctx
    this.#restarts = restarts
  }

  /** Starts the supervisor. */
  start(): void {
    void this.#ctx
    void this.#restarts
  }

  /** Cancels every updater and resolves once all have stopped. */
  async stop(): Promise<void> {}

  /**
   * Brings `slots` (the service's runnable slots: per slot number, or per node for global
   * services) to the service's current spec. Starts an updater unless one already runs for this
   * spec version; an updater for an older spec is cancelled first. Slots that are up to date
   * with more than one task are trimmed to the up-to-date one.
   */
  update(cluster: Frozen<Cluster> | undefined, service: Frozen<Service>, slots: readonly Slot[]): void {
    void cluster
    void service
    void slots
  }

  /** Cancels the updater of service `serviceId` (it was deleted); resolves once it stopped. */
  cancel(serviceId: string): Promise<void> {
    void serviceId
    return Promise.resolve()
  }
}
