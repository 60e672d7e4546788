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
import { Updater } from './updater.ts'

/** Runs at most one rolling update per service; a newer spec replaces the update in progress. */
export class UpdateSupervisor implements Component {
  readonly #ctx: OrchestratorContext
  readonly #restarts: RestartSupervisor
  readonly #updaters = new Map<string, Updater>()
  #stopped = false

  constructor(ctx: OrchestratorContext, restarts: RestartSupervisor) {
    this.#ctx = ctx
    this.#restarts = restarts
  }

  /** Starts the supervisor (updaters start on {@link UpdateSupervisor.update}). */
  start(): void {
    this.#stopped = false
  }

  /** Cancels every updater and resolves once all have stopped. Later `update()` calls are ignored. */
  async stop(): Promise<void> {
    this.#stopped = true
    const all = [...this.#updaters.values()]
    await Promise.all(all.map((u) => u.cancel()))
  }

  /**
   * Brings `slots` (the service's runnable slots: per slot number, or per node for global
   * services) to the service's current spec. Starts an updater unless one already runs for this
   * spec (same spec at the same spec version) and is still dispatching slots; an updater for
   * another spec, or one that is completing, is cancelled first,
   * and the new one starts once it has stopped. Slots that are up to date with more than one
   * task are trimmed to the up-to-date one.
   */
  update(cluster: Frozen<Cluster> | undefined, service: Frozen<Service>, slots: readonly Slot[]): void {
    if (this.#stopped) return
    const id = service.id
    const current = this.#updaters.get(id)
    if (current !== undefined && !current.cancelled && !current.completing && current.targets(service)) return
    const updater = new Updater({ ctx: this.#ctx, restarts: this.#restarts, cluster, service })
    this.#updaters.set(id, updater)
    const previous = current?.cancel() ?? Promise.resolve()
    void updater.run(slots, previous).then(() => {
      if (this.#updaters.get(id) === updater) this.#updaters.delete(id)
    })
  }

  /** Cancels the updater of service `serviceId` (it was deleted); resolves once it stopped. */
  async cancel(serviceId: string): Promise<void> {
    const updater = this.#updaters.get(serviceId)
    if (updater !== undefined) await updater.cancel()
  }

  /** Whether an update of service `serviceId` is running (or waiting for the one it replaces to stop). */
  isUpdating(serviceId: string): boolean {
    const updater = this.#updaters.get(serviceId)
    return updater !== undefined && !updater.cancelled
  }
}
