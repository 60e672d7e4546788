/**
 * The `NetworkDriver` contract: what a worker needs on its node to give a task its networks —
 * the node's data plane for each cluster network, the container spec fields that attach a task
 * with its allocated addresses and publish its ports, and where each of its ports is then
 * reachable (for the task's `status.portStatus` and the routing mesh).
 *
 * The control plane (IPAM, the allocator) decides every address; a driver only applies them. The
 * compliance suite in `@swarmkit-ts/network/compliance` checks every obligation written here; a
 * driver is conforming when it passes that suite with its paired runtime.
 */
import type { NetworkAttachment, PortConfig } from '@swarmkit-ts/api'
import type { ContainerInfo, PortMapping, RuntimeNetworkAttachment } from '@swarmkit-ts/engine-adapter'

/** What a driver can do; callers adapt (e.g. the mesh reaches tasks by node port when `addresses` is false). */
export interface NetworkDriverCapabilities {
  /**
   * Tasks get their allocated addresses (a task's `NetworkAttachment.addresses`), and tasks on one
   * network of this node reach each other, and the node reaches them, at those addresses. When
   * false, networks are bookkeeping only: tasks share the node's network and are reached through
   * ports published on the node.
   */
  addresses: boolean
  /** Tasks on different nodes reach each other at their allocated addresses (an overlay). */
  multiHost: boolean
}

/** What a driver says about itself. */
export interface NetworkDriverDescription {
  /** Implementation name, e.g. `docker-bridge`, `process`. */
  name: string
  /** Its capabilities. */
  capabilities: NetworkDriverCapabilities
}

/** A cluster network as a node's driver needs it (from the store's `Network`, allocated). */
export interface DriverNetwork {
  /** The cluster network's id (the store's `Network.id`). */
  id: string
  /** The cluster network's name. */
  name: string
  /** Its IPv4 subnet, e.g. `10.0.1.0/24`. */
  subnet: string
  /** Its IPv4 gateway, a plain address inside `subnet`, e.g. `10.0.1.1`. */
  gateway: string
  /** An IPv6 subnet as well. */
  ipv6?: { subnet: string; gateway: string }
  /** No traffic leaves the network (Docker's `--internal`). @default false */
  internal?: boolean
  /** The routing mesh's network: a task's ingress-mode ports are reached at its address here. @default false */
  ingress?: boolean
  /** The overlay's VXLAN id (≥ 4096), for drivers with a multi-host data plane. */
  vxlanId?: number
  /** Labels to put on the node's data plane objects. */
  labels?: Readonly<Record<string, string>>
}

/** A network as a driver holds it on this node ({@link NetworkDriver.listNetworks}). */
export interface DriverNetworkState extends DriverNetwork {
  /** The ids of the tasks prepared on it and not released. */
  tasks: readonly string[]
}

/** One task's networking, as the agent knows it from the task (`task.networks`, `task.endpoint`). */
export interface TaskNetworkRequest {
  /** The task's id. */
  taskId: string
  /**
   * One attachment per network (`task.networks`): addresses in CIDR form as the allocator wrote
   * them (`10.0.1.5/24`, at most one per family), aliases as extra DNS names.
   */
  attachments: readonly NetworkAttachment[]
  /** The ports of the task's endpoint (`task.endpoint.ports`; the allocator filled `publishedPort` for ingress ports). */
  ports: readonly PortConfig[]
}

/**
 * What {@link NetworkDriver.prepareTask} gives the caller to merge into the task's
 * `RuntimeContainerSpec` (see {@link withTaskNetwork}).
 */
export interface TaskNetworkConfig {
  /** The runtime networks to join, with the task's addresses and aliases (drivers with `addresses`). */
  networks: readonly RuntimeNetworkAttachment[]
  /** Runtime port mappings to publish on the node (published 0 = ephemeral, known from `inspect` once running). */
  ports: readonly PortMapping[]
  /** Environment to add. */
  env: Readonly<Record<string, string>>
}

/**
 * Where one port of a task is reachable. `via: 'node'` — published on the node at
 * `address:port` (`address` the node's); these are the entries of the task's
 * `status.portStatus` (see {@link toPortStatus}). `via: 'task'` — at the task's own address on
 * network `networkId`, port = the target port.
 */
export interface TaskEndpoint {
  /** The target port (inside the task). */
  targetPort: number
  /** Transport protocol. */
  protocol: 'tcp' | 'udp'
  /** The port config's publish mode. */
  publishMode: 'ingress' | 'host'
  /** How the port is reached. */
  via: 'node' | 'task'
  /** A plain address (no prefix length). */
  address: string
  /** The port at `address`. */
  port: number
  /** With `via: 'task'`: the cluster network whose address this is. */
  networkId?: string
}

/**
 * A node's network data plane, used by the agent.
 *
 * Obligations of every implementation (checked by `describeNetworkDriverCompliance`):
 *
 * - **Networks.** `createNetwork` is idempotent: the same id again is a no-op (also after a new
 *   driver instance took over the node's state); the same id with a different subnet rejects with
 *   `FailedPreconditionError` (reason `network-changed`). Bad input rejects with
 *   `InvalidArgumentError` naming the field. `removeNetwork` of an unknown id is a no-op; while a
 *   task prepared on the network is not released it rejects with `FailedPreconditionError`
 *   (reason `network-in-use`).
 * - **Tasks.** `prepareTask` rejects with `NotFoundError` (kind `network`) when an attachment names
 *   a network not created here, and with `InvalidArgumentError` (field
 *   `attachments[i].addresses[j]`) for an address outside its network's subnet or equal to its
 *   network address, gateway or (IPv4) broadcast address. Preparing a task again replaces its
 *   previous preparation. The returned config, merged into the runtime spec of a container run by
 *   the paired runtime, makes the container join its networks with exactly its allocated
 *   addresses (with `capabilities.addresses`) and publish: every host-mode port on the node at its
 *   `publishedPort` (0: ephemeral); every ingress-mode port at an ephemeral node port unless the
 *   task is reachable at its address on an ingress network of this driver.
 * - **Endpoints.** `taskEndpoints`, given the running container's `inspect()`, lists one endpoint
 *   per port of the request, in the request's order, and a TCP server the task runs on a target
 *   port answers at the endpoint from this node. With `capabilities.addresses`, two tasks on one
 *   network reach each other at their allocated addresses.
 * - **Release.** `releaseTask` forgets a task (idempotent; unknown ids are fine); the caller
 *   releases only after the task's container is removed.
 *
 * Callers must: create a network before preparing a task on it; prepare a task before creating
 * its container; call `taskEndpoints` only once the container runs (published ports are known);
 * remove the container before `releaseTask`, and release every task of a network before removing
 * it. Methods may be called concurrently for different tasks and networks.
 */
export interface NetworkDriver {
  /** Name and capabilities. */
  describe(): Promise<NetworkDriverDescription>
  /** Makes `network` exist on this node (idempotent, see above); resolves once tasks can join it. */
  createNetwork(network: DriverNetwork): Promise<void>
  /** Tears down this node's part of a network (idempotent; refused while tasks are prepared on it). */
  removeNetwork(networkId: string): Promise<void>
  /** The networks this driver holds on this node, in no particular order. */
  listNetworks(): Promise<DriverNetworkState[]>
  /** Validates a task's attachments and returns what to merge into its container spec. */
  prepareTask(task: TaskNetworkRequest): Promise<TaskNetworkConfig>
  /** Where each port of the task is reachable, from its running container's `inspect()`. */
  taskEndpoints(task: TaskNetworkRequest, container: ContainerInfo): Promise<TaskEndpoint[]>
  /** Forgets a task (idempotent). */
  releaseTask(taskId: string): Promise<void>
}
