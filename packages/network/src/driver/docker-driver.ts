/**
 * `DockerNetworkDriver`: the {@link NetworkDriver} for `DockerRuntime`. Each cluster network is a
 * Docker bridge network on this host (named `swk-<network name>-<12 chars of its id>`, with the
 * allocated subnet and gateway — the host's bridge holds the gateway address — `internal`
 * honoured, labelled with the cluster network's id and description), and a task's container
 * joins its networks with its allocated addresses and aliases. Tasks on one network of this host
 * reach each other, and the host reaches them, at those addresses; a task's ingress-mode ports
 * are reached at its address on the ingress network (no port is published for them), its
 * host-mode ports through Docker's userland proxy on every host interface.
 *
 * Single host only (`multiHost` false): what a VXLAN overlay would add is in the package README.
 * One driver per Docker engine: two drivers on one engine cannot both hold a cluster network
 * (Docker names and subnets are per engine).
 *
 * @module
 */
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@swarmkit-ts/api'
import type { ContainerInfo, DockerNetworkInfo, DockerRuntime } from '@swarmkit-ts/engine-adapter'
import { isIP } from 'node:net'
import { DriverBook } from './driver-book.ts'
import type {
  DriverNetwork, DriverNetworkState, NetworkDriver, NetworkDriverCapabilities, NetworkDriverDescription, TaskEndpoint, TaskNetworkConfig, TaskNetworkRequest,
} from './network-driver.ts'
import { checkAttachments, checkDriverNetwork, computeEndpoints, networkChanged, planPorts, type CheckedAttachment } from './task-network.ts'

/** Label carrying the cluster network id on its Docker network. */
export const NETWORK_ID_LABEL = 'swarmkit-ts.network.id'
/** Label carrying the cluster network's description (JSON of a {@link DriverNetwork}) on its Docker network. */
export const NETWORK_SPEC_LABEL = 'swarmkit-ts.network.spec'

/** Options of {@link DockerNetworkDriver}. */
export interface DockerNetworkDriverInit {
  /** The runtime whose engine gets the networks (its containers join them). */
  runtime: DockerRuntime
  /** The node's address other nodes reach it at (`node.status.addr`); host-mode endpoints are on it. @default '127.0.0.1' */
  nodeAddress?: string
  /** Prefix of the Docker network names. @default 'swk' */
  namePrefix?: string
}

/** What {@link DockerNetworkDriver} supports: task addresses on this host. */
export const DOCKER_DRIVER_CAPABILITIES: NetworkDriverCapabilities = { addresses: true, multiHost: false }

function describedNetwork(info: DockerNetworkInfo): DriverNetwork | undefined {
  const raw = info.labels[NETWORK_SPEC_LABEL]
  if (raw === undefined) return undefined
  try {
    return JSON.parse(raw) as DriverNetwork
  } catch {
    return undefined
  }
}

/** The network driver for `DockerRuntime` (a bridge network per cluster network on this host). */
export class DockerNetworkDriver implements NetworkDriver {
  readonly #runtime: DockerRuntime
  readonly #nodeAddress: string
  readonly #prefix: string
  readonly #book = new DriverBook()
  /** One network operation at a time per network id (create/remove must not interleave). */
  readonly #chains = new Map<string, Promise<void>>()

  constructor(init: DockerNetworkDriverInit) {
    this.#runtime = init.runtime
    this.#nodeAddress = init.nodeAddress ?? '127.0.0.1'
    this.#prefix = init.namePrefix ?? 'swk'
    if (isIP(this.#nodeAddress) === 0) throw new InvalidArgumentError('nodeAddress', `${this.#nodeAddress} is not an IP address`)
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(this.#prefix)) throw new InvalidArgumentError('namePrefix', 'must match [A-Za-z0-9][A-Za-z0-9_.-]*')
  }

  /** The Docker network name of a cluster network. */
  dockerNetworkName(network: Pick<DriverNetwork, 'id' | 'name'>): string {
    return `${this.#prefix}-${network.name}-${network.id.slice(0, 12)}`
  }

  describe(): Promise<NetworkDriverDescription> {
    return Promise.resolve({ name: 'docker-bridge', capabilities: { ...DOCKER_DRIVER_CAPABILITIES } })
  }

  #serial<T>(networkId: string, op: () => Promise<T>): Promise<T> {
    const prev = this.#chains.get(networkId) ?? Promise.resolve()
    const result = prev.then(op)
    const tail = result.then(() => undefined, () => undefined)
    this.#chains.set(networkId, tail)
    void tail.then(() => {
      if (this.#chains.get(networkId) === tail) this.#chains.delete(networkId)
    })
    return result
  }

  async #existing(networkId: string): Promise<DockerNetworkInfo[]> {
    return this.#runtime.listNetworks({ labels: { [NETWORK_ID_LABEL]: networkId } })
  }

  createNetwork(network: DriverNetwork): Promise<void> {
    return this.#serial(network.id, async () => {
      checkDriverNetwork(network)
      const description: DriverNetwork = { ...network }
      for (let attempt = 0; ; attempt++) {
        const [found] = await this.#existing(network.id)
        if (found !== undefined) {
          const known = describedNetwork(found) ?? this.#book.find(network.id)
          if (known === undefined || networkChanged(known, network)) {
            throw new FailedPreconditionError(`network ${network.id} exists on this engine with subnet ${known?.subnet ?? found.subnets[0]?.subnet ?? '?'}`, { reason: 'network-changed' })
          }
          this.#book.putNetwork(description)
          return
        }
        try {
          await this.#runtime.createNetwork({
            name: this.dockerNetworkName(network),
            ipv4: { subnet: network.subnet, gateway: network.gateway },
            ...(network.ipv6 !== undefined ? { ipv6: { subnet: network.ipv6.subnet, gateway: network.ipv6.gateway } } : {}),
            internal: network.internal === true,
            labels: { ...(network.labels ?? {}), [NETWORK_ID_LABEL]: network.id, [NETWORK_SPEC_LABEL]: JSON.stringify({ ...description, labels: undefined }) },
          })
          this.#book.putNetwork(description)
          return
        } catch (err) {
          // Another driver instance on this engine created it meanwhile: look again (once).
          if (!(err instanceof AlreadyExistsError) || attempt > 0) throw err
        }
      }
    })
  }

  removeNetwork(networkId: string): Promise<void> {
    return this.#serial(networkId, async () => {
      this.#book.checkUnused(networkId)
      // Forgotten first, so no task is prepared on it while the engine removes it; put back if that fails.
      const known = this.#book.find(networkId)
      this.#book.dropNetwork(networkId)
      try {
        for (const found of await this.#existing(networkId)) {
          try {
            await this.#runtime.removeNetwork(found.id)
          } catch (err) {
            if (!(err instanceof NotFoundError)) throw err
          }
        }
      } catch (err) {
        if (known !== undefined) this.#book.putNetwork(known)
        throw err
      }
    })
  }

  async listNetworks(): Promise<DriverNetworkState[]> {
    const tasks = new Map(this.#book.list().map((n) => [n.id, n.tasks]))
    const out: DriverNetworkState[] = []
    for (const info of await this.#runtime.listNetworks()) {
      const network = describedNetwork(info)
      if (network === undefined || info.labels[NETWORK_ID_LABEL] !== network.id) continue
      const labels = { ...info.labels }
      delete labels[NETWORK_ID_LABEL]
      delete labels[NETWORK_SPEC_LABEL]
      out.push({ ...network, ...(Object.keys(labels).length > 0 ? { labels } : {}), tasks: tasks.get(network.id) ?? [] })
    }
    return out
  }

  #ingressOf(attachments: readonly CheckedAttachment[]): { networkId: string; address: string } | undefined {
    const a = attachments.find((x) => x.network.ingress === true && x.ipv4 !== undefined)
    return a?.ipv4 === undefined ? undefined : { networkId: a.network.id, address: a.ipv4 }
  }

  prepareTask(task: TaskNetworkRequest): Promise<TaskNetworkConfig> {
    return Promise.resolve().then(() => {
      const attachments = checkAttachments(task, (id) => this.#book.network(id))
      const ports = planPorts(task.ports, this.#ingressOf(attachments) !== undefined)
      this.#book.putTask(task.taskId, attachments.map((a) => a.network.id))
      const networks = attachments.map((a) => ({
        network: this.dockerNetworkName(a.network),
        ...(a.ipv4 !== undefined ? { ipv4Address: a.ipv4 } : {}),
        ...(a.ipv6 !== undefined ? { ipv6Address: a.ipv6 } : {}),
        ...(a.aliases.length > 0 ? { aliases: [...a.aliases] } : {}),
      }))
      return { networks, ports, env: {} }
    })
  }

  taskEndpoints(task: TaskNetworkRequest, container: ContainerInfo): Promise<TaskEndpoint[]> {
    return Promise.resolve().then(() => {
      const attachments = checkAttachments(task, (id) => this.#book.network(id))
      return computeEndpoints(task.ports, container, this.#nodeAddress, this.#ingressOf(attachments))
    })
  }

  releaseTask(taskId: string): Promise<void> {
    this.#book.dropTask(taskId)
    return Promise.resolve()
  }
}
