/**
 * Writes of networks as SwarmKit's control API does them (manager/controlapi/network.go): a
 * spec is validated and its IPAM allocated inside the transaction that creates it, so two
 * concurrent creates can never take overlapping subnets or one VXLAN id; a network is removed
 * only while nothing uses it. Also the `ingress` network of a new cluster.
 *
 * @module
 */
import { AlreadyExistsError, FailedPreconditionError, NotFoundError, PermissionDeniedError, TaskState, generateId, validateNetworkSpec } from '@swarmkit-ts/api'
import type { Clock, Network, NetworkSpec, Random } from '@swarmkit-ts/api'
import type { Frozen, MemoryStore, ReadTx, Tx } from '@swarmkit-ts/store'
import { allocateNetworkIpam } from '../ipam/network-allocation.ts'

/** Name of the cluster's ingress network. */
export const INGRESS_NETWORK_NAME = 'ingress'
/**
 * The label SwarmKit reserves for the networks it predefines on every node (`bridge`, `host`):
 * users may not apply it, and a network carrying it (value `'true'`) cannot be removed.
 */
export const PREDEFINED_NETWORK_LABEL = 'com.docker.swarm.predefined'

/** The spec of the ingress network created at cluster bootstrap (as SwarmKit's `newIngressNetwork`): subnet from the pools. */
export function defaultIngressNetworkSpec(): NetworkSpec {
  return { annotations: { name: INGRESS_NETWORK_NAME }, ingress: true }
}

/** Construction options of {@link NetworkControl}. */
export interface NetworkControlInit {
  readonly store: MemoryStore
  /** Unused by the decisions today; kept for the control-class contract. */
  readonly clock: Clock
  /** Source of network ids. */
  readonly random: Random
}

/** The network `idOrName` names in `tx`: by id first, then by (case-insensitive) name. */
export function lookupNetwork(tx: ReadTx, idOrName: string): Frozen<Network> | undefined {
  return tx.networks.get(idOrName) ?? tx.networks.find({ name: idOrName })[0]
}

/**
 * Creates the network described by `spec` in `tx` (validated, name unique, at most one ingress
 * network, IPAM and driver state allocated against every network in `tx` and the cluster's
 * pools). Throws with nothing written: `InvalidArgumentError` (field named),
 * `PermissionDeniedError` for the {@link PREDEFINED_NETWORK_LABEL} label,
 * `AlreadyExistsError('network', name)`, `FailedPreconditionError` reason `ingress-exists`,
 * `ResourceExhaustedError`.
 */
export function createNetworkInTx(tx: Tx, spec: NetworkSpec, random: Random): Frozen<Network> {
  validateNetworkSpec(spec)
  if (spec.annotations.labels?.[PREDEFINED_NETWORK_LABEL] !== undefined) {
    throw new PermissionDeniedError(`label ${PREDEFINED_NETWORK_LABEL} is for internally created predefined networks and cannot be applied by users`)
  }
  const name = spec.annotations.name
  if (tx.networks.find({ name }).length > 0) throw new AlreadyExistsError('network', name)
  const networks = tx.networks.find()
  if (spec.ingress === true) {
    const ingress = networks.find((n) => n.spec.ingress === true)
    if (ingress !== undefined) {
      throw new FailedPreconditionError(`ingress network ${ingress.spec.annotations.name} (${ingress.id}) is already present`, { reason: 'ingress-exists' })
    }
  }
  const sorted = [...networks].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const { ipam, driverState } = allocateNetworkIpam(spec, sorted, tx.clusters.find()[0])
  return tx.networks.create({ id: generateId(random), spec, ipam, driverState })
}

/**
 * Creates the `ingress` network in `tx` when the cluster has no ingress network yet, and returns
 * the ingress network (new or existing). Used at cluster bootstrap (the allocator calls it when
 * started with `bootstrapIngress: true`).
 */
export function createIngressNetwork(tx: Tx, random: Random): Frozen<Network> {
  const existing = tx.networks.find().find((n) => n.spec.ingress === true)
  return existing ?? createNetworkInTx(tx, defaultIngressNetworkSpec(), random)
}

/** {@link createIngressNetwork} in a transaction of its own; resolves with the ingress network. */
export async function ensureIngressNetwork(store: MemoryStore, random: Random): Promise<Frozen<Network>> {
  const present = store.view((tx) => tx.networks.find().find((n) => n.spec.ingress === true))
  if (present !== undefined) return present
  return store.update((tx) => createIngressNetwork(tx, random))
}

/**
 * What keeps network `network` from being removed, or undefined: a service whose spec attaches
 * to it (`spec.task.networks` or `spec.networks`, by id or by name), a task not yet shut down
 * that lists it (desired and observed state both at most RUNNING, as SwarmKit checks), and for
 * the ingress network a service publishing a port in ingress mode.
 */
export function networkInUse(tx: ReadTx, network: Frozen<Network>): string | undefined {
  const name = network.spec.annotations.name
  const byRef = new Map([...tx.services.find({ network: network.id }), ...tx.services.find({ network: name })].map((s) => [s.id, s]))
  const service = [...byRef.values()].sort((a, b) => (a.id < b.id ? -1 : 1))[0]
  if (service !== undefined) return `network ${name} is in use by service ${service.spec.annotations.name}`
  const tasks = [...tx.tasks.find({ network: network.id }), ...tx.tasks.find({ network: name })]
  const task = tasks
    .filter((t) => t.desiredState <= TaskState.RUNNING && t.status.state <= TaskState.RUNNING)
    .sort((a, b) => (a.id < b.id ? -1 : 1))[0]
  if (task !== undefined) return `network ${name} is in use by task ${task.id}`
  if (network.spec.ingress === true) {
    const publisher = tx.services
      .find()
      .filter((s) => (s.spec.endpoint?.ports ?? []).some((p) => (p.publishMode ?? 'ingress') === 'ingress'))
      .sort((a, b) => (a.id < b.id ? -1 : 1))[0]
    if (publisher !== undefined) return `ingress network ${name} is in use by service ${publisher.spec.annotations.name}, which publishes a port through the routing mesh`
  }
  return undefined
}

/** Creates, removes, gets and lists networks on a store. */
export class NetworkControl {
  readonly #store: MemoryStore
  readonly #random: Random

  constructor(init: NetworkControlInit) {
    this.#store = init.store
    this.#random = init.random
  }

  /**
   * Creates a network: see {@link createNetworkInTx} for the checks and errors. The subnets
   * are taken in the same transaction as the write, so concurrent creates never overlap.
   */
  async create(spec: NetworkSpec): Promise<Frozen<Network>> {
    validateNetworkSpec(spec)
    return this.#store.update((tx) => createNetworkInTx(tx, spec, this.#random))
  }

  /**
   * Removes the network named by id or name. `NotFoundError('network')` when there is none;
   * `FailedPreconditionError` reason `predefined-network` for a predefined one, reason `network-in-use` ("network web-net is in use by service
   * web") while something uses it (see {@link networkInUse}). The allocator releases its
   * subnets when it sees the deletion.
   */
  async remove(idOrName: string): Promise<void> {
    await this.#store.update((tx) => {
      const network = lookupNetwork(tx, idOrName)
      if (network === undefined) throw new NotFoundError('network', idOrName)
      if (network.spec.annotations.labels?.[PREDEFINED_NETWORK_LABEL] === 'true') {
        throw new FailedPreconditionError(`network ${network.spec.annotations.name} (${network.id}) is a swarm predefined network and cannot be removed`, {
          reason: 'predefined-network',
        })
      }
      const reason = networkInUse(tx, network)
      if (reason !== undefined) throw new FailedPreconditionError(reason, { reason: 'network-in-use' })
      tx.networks.delete(network.id)
    })
  }

  /** The network named by id or name; `NotFoundError('network')` when there is none. */
  get(idOrName: string): Frozen<Network> {
    const network = this.#store.view((tx) => lookupNetwork(tx, idOrName))
    if (network === undefined) throw new NotFoundError('network', idOrName)
    return network
  }

  /** Every network, sorted by name. */
  list(): Frozen<Network>[] {
    return this.#store.view((tx) => tx.networks.find()).sort((a, b) => (a.spec.annotations.name < b.spec.annotations.name ? -1 : 1))
  }
}
