/**
 * The bookkeeping both drivers keep in memory: the networks created on this node and which
 * prepared tasks are attached to them (so a network in use is not removed).
 *
 * @module
 */
import { FailedPreconditionError, NotFoundError } from '@swarmkit-ts/api'
import type { DriverNetwork, DriverNetworkState } from './network-driver.ts'

/** Networks and the tasks prepared on them. */
export class DriverBook {
  readonly #networks = new Map<string, { network: DriverNetwork; tasks: Set<string> }>()
  readonly #tasks = new Map<string, readonly string[]>()

  /** The network with this id; `NotFoundError` (kind `network`) when it was not created here. */
  network(networkId: string): DriverNetwork {
    const entry = this.#networks.get(networkId)
    if (entry === undefined) throw new NotFoundError('network', networkId, { message: `network ${networkId} is not created on this node` })
    return entry.network
  }

  /** The network with this id, if any. */
  find(networkId: string): DriverNetwork | undefined {
    return this.#networks.get(networkId)?.network
  }

  /** Records a network (replacing its description, keeping its tasks). */
  putNetwork(network: DriverNetwork): void {
    const entry = this.#networks.get(network.id)
    this.#networks.set(network.id, { network, tasks: entry?.tasks ?? new Set() })
  }

  /** Refuses with `FailedPreconditionError` (reason `network-in-use`) while tasks are prepared on the network. */
  checkUnused(networkId: string): void {
    const tasks = this.#networks.get(networkId)?.tasks
    if (tasks !== undefined && tasks.size > 0) {
      const names = [...tasks].sort().slice(0, 5).join(', ')
      throw new FailedPreconditionError(`network ${networkId} is in use by task(s) ${names}`, { reason: 'network-in-use' })
    }
  }

  /** Forgets a network. */
  dropNetwork(networkId: string): void {
    this.#networks.delete(networkId)
  }

  /** Records a task on its networks (replacing a previous preparation). */
  putTask(taskId: string, networkIds: readonly string[]): void {
    this.dropTask(taskId)
    this.#tasks.set(taskId, networkIds)
    for (const id of networkIds) this.#networks.get(id)?.tasks.add(taskId)
  }

  /** Forgets a task (a no-op for an unknown one). */
  dropTask(taskId: string): void {
    for (const id of this.#tasks.get(taskId) ?? []) this.#networks.get(id)?.tasks.delete(taskId)
    this.#tasks.delete(taskId)
  }

  /** Every network with its tasks (sorted). */
  list(): DriverNetworkState[] {
    return [...this.#networks.values()].map(({ network, tasks }) => ({ ...network, tasks: [...tasks].sort() }))
  }
}
