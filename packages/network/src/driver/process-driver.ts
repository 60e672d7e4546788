/**
 * `ProcessNetworkDriver`: the {@link NetworkDriver} for `ProcessRuntime`, whose workloads share
 * the host's network. Cluster networks are bookkeeping only (`capabilities.addresses` false):
 * a task does not get its allocated address, and every port of it — ingress or host mode — is
 * published on the node (a host-mode port at its published port, others at an ephemeral one the
 * runtime hands to the workload as `PORT`), so it is reached at the node's address and that port.
 *
 * @module
 */
import { FailedPreconditionError, InvalidArgumentError } from '@swarmkit-ts/api'
import type { ContainerInfo } from '@swarmkit-ts/engine-adapter'
import { isIP } from 'node:net'
import { DriverBook } from './driver-book.ts'
import type {
  DriverNetwork, DriverNetworkState, NetworkDriver, NetworkDriverCapabilities, NetworkDriverDescription, TaskEndpoint, TaskNetworkConfig, TaskNetworkRequest,
} from './network-driver.ts'
import { checkAttachments, checkDriverNetwork, computeEndpoints, networkChanged, planPorts } from './task-network.ts'

/** Options of {@link ProcessNetworkDriver}. */
export interface ProcessNetworkDriverInit {
  /** The node's address other nodes reach it at (`node.status.addr`); endpoints are on it. @default '127.0.0.1' */
  nodeAddress?: string
}

/** What {@link ProcessNetworkDriver} supports: no task addresses, one host. */
export const PROCESS_DRIVER_CAPABILITIES: NetworkDriverCapabilities = { addresses: false, multiHost: false }

/** The network driver for `ProcessRuntime` (host networking). */
export class ProcessNetworkDriver implements NetworkDriver {
  readonly #nodeAddress: string
  readonly #book = new DriverBook()

  constructor(init: ProcessNetworkDriverInit = {}) {
    this.#nodeAddress = init.nodeAddress ?? '127.0.0.1'
    if (isIP(this.#nodeAddress) === 0) throw new InvalidArgumentError('nodeAddress', `${this.#nodeAddress} is not an IP address`)
  }

  describe(): Promise<NetworkDriverDescription> {
    return Promise.resolve({ name: 'process', capabilities: { ...PROCESS_DRIVER_CAPABILITIES } })
  }

  createNetwork(network: DriverNetwork): Promise<void> {
    return Promise.resolve().then(() => {
      checkDriverNetwork(network)
      const known = this.#book.find(network.id)
      if (known !== undefined && networkChanged(known, network)) {
        throw new FailedPreconditionError(`network ${network.id} exists here with subnet ${known.subnet}`, { reason: 'network-changed' })
      }
      this.#book.putNetwork({ ...network })
    })
  }

  removeNetwork(networkId: string): Promise<void> {
    return Promise.resolve().then(() => {
      this.#book.checkUnused(networkId)
      this.#book.dropNetwork(networkId)
    })
  }

  listNetworks(): Promise<DriverNetworkState[]> {
    return Promise.resolve(this.#book.list())
  }

  prepareTask(task: TaskNetworkRequest): Promise<TaskNetworkConfig> {
    return Promise.resolve().then(() => {
      const attachments = checkAttachments(task, (id) => this.#book.network(id))
      const ports = planPorts(task.ports, false)
      this.#book.putTask(task.taskId, attachments.map((a) => a.network.id))
      return { networks: [], ports, env: {} }
    })
  }

  taskEndpoints(task: TaskNetworkRequest, container: ContainerInfo): Promise<TaskEndpoint[]> {
    return Promise.resolve().then(() => computeEndpoints(task.ports, container, this.#nodeAddress, undefined))
  }

  releaseTask(taskId: string): Promise<void> {
    this.#book.dropTask(taskId)
    return Promise.resolve()
  }
}
