/**
 * Where a node learns the cluster networks its tasks attach to. SwarmKit's dispatcher sends each
 * attachment with the whole `Network` object; ours (api's `NetworkAttachment`) carries only the
 * network's id and the task's addresses. A node that holds the replicated store (a manager)
 * reads the network from it ({@link StoreNetworkSource}); a worker derives what its driver needs
 * from the task's allocated addresses ({@link AttachmentNetworkSource}).
 *
 * @module
 */
import { FailedPreconditionError, NotFoundError } from '@swarmkit-ts/api'
import type { NetworkAttachment, Task } from '@swarmkit-ts/api'
import { driverNetworkOf, formatAddress, formatSubnet, parseAttachmentAddress, subnetOf } from '@swarmkit-ts/network'
import type { DriverNetwork } from '@swarmkit-ts/network'
import type { MemoryStore } from '@swarmkit-ts/store'

/** Gives the driver's description of the network a task attaches to. */
export interface TaskNetworkSource {
  /**
   * The network of `attachment` (one of `task.networks`). Throws a typed error when it cannot
   * be known (`NotFoundError` kind `network`, or `FailedPreconditionError`): the task is then
   * rejected with that error's message.
   */
  network(attachment: NetworkAttachment, task: Task): DriverNetwork
}

/** A {@link TaskNetworkSource} reading the (replicated) store: for nodes that hold it, i.e. managers. */
export class StoreNetworkSource implements TaskNetworkSource {
  readonly #store: MemoryStore

  /** @param store - the store holding the cluster's networks. */
  constructor(store: MemoryStore) {
    this.#store = store
  }

  network(attachment: NetworkAttachment): DriverNetwork {
    const network = this.#store.view((tx) => tx.networks.get(attachment.networkId))
    if (network === undefined) throw new NotFoundError('network', attachment.networkId)
    return driverNetworkOf(network)
  }
}

/**
 * A {@link TaskNetworkSource} for a node without the store: the network's IPv4 (and IPv6) subnet
 * is the task's allocated address with its prefix length (`10.0.1.5/24` → `10.0.1.0/24`), its
 * gateway the subnet's first host address (what the allocator gives a network whose gateway the
 * user did not set), its name its id. The first derivation of a network id is kept, so every task
 * on it sees the same description. What it cannot know: a user-set gateway, `internal`,
 * `ingress`, labels (a Docker bridge made from it is therefore neither internal nor an ingress
 * network: its tasks' ingress ports are published on the node instead).
 */
export class AttachmentNetworkSource implements TaskNetworkSource {
  readonly #known = new Map<string, DriverNetwork>()

  network(attachment: NetworkAttachment, task: Task): DriverNetwork {
    const known = this.#known.get(attachment.networkId)
    if (known !== undefined) return known
    const derived = deriveNetwork(attachment, task)
    this.#known.set(attachment.networkId, derived)
    return derived
  }
}

/** The subnet and first host of an attachment address (`10.0.1.5/24` → `10.0.1.0/24`, `10.0.1.1`). */
function subnetAndGateway(text: string, field: string): { family: 'ipv4' | 'ipv6'; subnet: string; gateway: string } {
  const { address, prefix } = parseAttachmentAddress(text, field)
  const subnet = subnetOf(address.family, address.value, prefix)
  return {
    family: address.family,
    subnet: formatSubnet(subnet),
    gateway: formatAddress({ family: subnet.family, value: subnet.base + 1n }),
  }
}

function deriveNetwork(attachment: NetworkAttachment, task: Task): DriverNetwork {
  const index = (task.networks ?? []).findIndex((a) => a.networkId === attachment.networkId)
  const field = `task.networks[${String(index)}].addresses`
  const derived = (attachment.addresses ?? []).map((a, j) => subnetAndGateway(a, `${field}[${String(j)}]`))
  const v4 = derived.find((d) => d.family === 'ipv4')
  if (v4 === undefined) {
    throw new FailedPreconditionError(`network ${attachment.networkId}: task ${task.id} has no IPv4 address on it, and this node has no store to read the network from`, { reason: 'network-unknown' })
  }
  const v6 = derived.find((d) => d.family === 'ipv6')
  return {
    id: attachment.networkId,
    name: attachment.networkId,
    subnet: v4.subnet,
    gateway: v4.gateway,
    ...(v6 === undefined ? {} : { ipv6: { subnet: v6.subnet, gateway: v6.gateway } }),
  }
}
