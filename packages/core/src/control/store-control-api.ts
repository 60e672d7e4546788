/**
 * {@link StoreControlApi}: the control API on a store — the leader's replicated store in a
 * cluster, a plain `MemoryStore` in tests. Every write is one store transaction, validated before
 * anything is written, so a refused call changes nothing.
 *
 * @module
 */
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, NodeRole, OBJECT_KINDS, SequenceConflictError, validateClusterSpec } from '@swarmkit-ts/api'
import type { Clock, Cluster, ClusterSpec, JoinTokens, Network, NetworkSpec, Random } from '@swarmkit-ts/api'
import { NetworkControl } from '@swarmkit-ts/network'
import { ServiceControl } from '@swarmkit-ts/orchestrator'
import { generateJoinToken } from '@swarmkit-ts/pki'
import type { Frozen, MemoryStore, WatchEvent, WatchSelector } from '@swarmkit-ts/store'
import type { CommonFilters, ControlApi, ControlWatchOptions, ControlWatchSelector, NetworksApi, VersionOptions } from './control-api.ts'
import { rootCaForClusterSpec } from '../ca/root-rotation.ts'
import type { KeyHooks, MembershipHooks } from './control-hooks.ts'
import { readBack, settle } from './settle.ts'
import { byName, matchesCommon, validateCommonFilters } from './filters.ts'
import { redactCluster, redactEvent } from './redact.ts'
import { StoreNodes } from './store-nodes.ts'
import { StoreConfigs, StoreSecrets } from './store-payloads.ts'
import { StoreServices, StoreTasks, requireId, versionOf } from './store-services.ts'

/** Construction options of {@link StoreControlApi}. */
export interface StoreControlApiInit {
  /** The store written to (the leader's). */
  readonly store: MemoryStore
  /** Time of job schedules and rollbacks. */
  readonly clock: Clock
  /** Source of ids and join-token secrets. */
  readonly random: Random
  /** Raft membership checks of promotions, demotions and removals; without it only the last-manager rule applies. */
  readonly membership?: MembershipHooks
  /** The unlock key; without it `unlockKey` answers undefined while autolock is off and refuses otherwise. */
  readonly keys?: KeyHooks
}

const ACTIONS = ['create', 'update', 'delete', 'commit'] as const

/** Checks a wire-safe watch selector and turns it into the store's. */
export function toStoreSelector(selector: ControlWatchSelector | undefined): WatchSelector {
  if (selector === undefined) return {}
  if (typeof selector !== 'object' || selector === null) throw new InvalidArgumentError('selector', 'must be an object')
  const out: { -readonly [P in keyof WatchSelector]: WatchSelector[P] } = {}
  if (selector.kinds !== undefined) {
    const kinds: unknown = selector.kinds
    if (!Array.isArray(kinds)) throw new InvalidArgumentError('selector.kinds', 'must be an array')
    kinds.forEach((k: unknown, i) => {
      if (!(OBJECT_KINDS as readonly unknown[]).includes(k)) throw new InvalidArgumentError(`selector.kinds[${i}]`, `unknown kind ${String(k)}`)
    })
    out.kinds = selector.kinds
  }
  if (selector.actions !== undefined) {
    const actions: unknown = selector.actions
    if (!Array.isArray(actions)) throw new InvalidArgumentError('selector.actions', 'must be an array')
    actions.forEach((a: unknown, i) => {
      if (!(ACTIONS as readonly unknown[]).includes(a)) throw new InvalidArgumentError(`selector.actions[${i}]`, `unknown action ${String(a)}`)
    })
    out.actions = selector.actions
  }
  for (const key of ['id', 'idPrefix', 'name', 'namePrefix'] as const) {
    const v = selector[key]
    if (v === undefined) continue
    if (typeof v !== 'string') throw new InvalidArgumentError(`selector.${key}`, 'must be a string')
    out[key] = v
  }
  return out
}

/** The control API over a store. */
export class StoreControlApi implements ControlApi {
  readonly services: StoreServices
  readonly tasks: StoreTasks
  readonly nodes: StoreNodes
  readonly networks: NetworksApi
  readonly secrets: StoreSecrets
  readonly configs: StoreConfigs
  readonly #store: MemoryStore
  readonly #random: Random
  readonly #clock: Clock
  readonly #keys: KeyHooks | undefined

  constructor(init: StoreControlApiInit) {
    this.#store = init.store
    this.#random = init.random
    this.#clock = init.clock
    this.#keys = init.keys
    this.services = new StoreServices(init.store, new ServiceControl({ store: init.store, clock: init.clock, random: init.random }))
    this.tasks = new StoreTasks(init.store)
    this.nodes = new StoreNodes(init.store, init.membership)
    this.networks = new StoreNetworks(init.store, new NetworkControl({ store: init.store, clock: init.clock, random: init.random }))
    this.secrets = new StoreSecrets(init.store, init.random)
    this.configs = new StoreConfigs(init.store, init.random)
  }

  getCluster(): Promise<Frozen<Cluster>> {
    return settle(() => {
      return redactCluster(this.#cluster())
    })
  }

  async updateCluster(spec: ClusterSpec, options?: VersionOptions): Promise<Frozen<Cluster>> {
    const version = versionOf(options)
    validateClusterSpec(spec)
    // A changed caConfig.forceRotate starts a root rotation (SwarmKit's UpdateCluster); its new root is made before the write.
    const rotation = await rootCaForClusterSpec(this.#cluster(), spec, { clock: this.#clock })
    const updated = await this.#store.update((tx) => {
      const cur = tx.clusters.find()[0]
      if (cur === undefined) throw new NotFoundError('cluster', 'default')
      if (version !== undefined && version !== cur.meta.version.index) {
        throw new SequenceConflictError('cluster', cur.id, { expected: version, actual: cur.meta.version.index })
      }
      return tx.clusters.update({ ...cur, spec, ...(rotation === undefined ? {} : { rootCa: rotation(cur) }) })
    })
    return redactCluster(readBack(() => this.#store.view((tx) => tx.clusters.get(updated.id)), updated))
  }

  joinTokens(): Promise<Frozen<JoinTokens>> {
    return settle(() => {
      return this.#cluster().rootCa.joinTokens
    })
  }

  async rotateJoinToken(role: NodeRole): Promise<Frozen<JoinTokens>> {
    if (role !== NodeRole.WORKER && role !== NodeRole.MANAGER) throw new InvalidArgumentError('role', 'must be worker or manager')
    const updated = await this.#store.update((tx) => {
      const cur = tx.clusters.find()[0]
      if (cur === undefined) throw new NotFoundError('cluster', 'default')
      // The root CA certificate is stored as PEM bytes (as SwarmKit's RootCA.CACert).
      const token = generateJoinToken(Buffer.from(cur.rootCa.caCert).toString('utf8'), this.#random)
      const joinTokens = role === NodeRole.MANAGER ? { ...cur.rootCa.joinTokens, manager: token } : { ...cur.rootCa.joinTokens, worker: token }
      return tx.clusters.update({ ...cur, rootCa: { ...cur.rootCa, joinTokens } })
    })
    return updated.rootCa.joinTokens
  }

  async unlockKey(): Promise<string | undefined> {
    if (this.#keys !== undefined) return this.#keys.unlockKey()
    if (this.#cluster().spec.encryptionConfig?.autoLockManagers !== true) return undefined
    throw new FailedPreconditionError('this manager holds no key store: the unlock key is unavailable', { reason: 'no-key-store' })
  }

  async rotateUnlockKey(): Promise<string> {
    if (this.#keys !== undefined) return this.#keys.rotateUnlockKey()
    if (this.#cluster().spec.encryptionConfig?.autoLockManagers !== true) {
      throw new FailedPreconditionError('autolock is off: there is no unlock key to rotate', { reason: 'autolock-off' })
    }
    throw new FailedPreconditionError('this manager holds no key store: the unlock key cannot be rotated', { reason: 'no-key-store' })
  }

  watch(selector?: ControlWatchSelector, options?: ControlWatchOptions): AsyncIterable<WatchEvent> {
    const storeSelector = toStoreSelector(selector)
    const since = options?.since
    if (since !== undefined && (typeof since !== 'bigint' || since < 0n)) throw new InvalidArgumentError('since', 'must be a non-negative bigint')
    const watch = this.#store.watch(storeSelector, {
      ...(options?.signal === undefined ? {} : { signal: options.signal }),
      ...(since === undefined ? {} : { since }),
    })
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for await (const ev of watch) yield redactEvent(ev)
        } finally {
          watch.close()
        }
      },
    }
  }

  #cluster(): Frozen<Cluster> {
    const c = this.#store.view((tx) => tx.clusters.find()[0])
    if (c === undefined) throw new NotFoundError('cluster', 'default')
    return c
  }
}

/** The networks of a store-backed control API, over network's `NetworkControl`. */
class StoreNetworks implements NetworksApi {
  readonly #store: MemoryStore
  readonly #control: NetworkControl

  constructor(store: MemoryStore, control: NetworkControl) {
    this.#store = store
    this.#control = control
  }

  async create(spec: NetworkSpec): Promise<Frozen<Network>> {
    const written = await this.#control.create(spec)
    return readBack(() => this.#store.view((tx) => tx.networks.get(written.id)), written)
  }

  get(idOrName: string): Promise<Frozen<Network>> {
    return settle(() => {
      return this.#control.get(requireId(idOrName, 'id'))
    })
  }

  list(filters?: CommonFilters): Promise<readonly Frozen<Network>[]> {
    return settle(() => {
      validateCommonFilters(filters)
      return byName(this.#store.view((tx) => tx.networks.find()).filter((n) => matchesCommon(filters, n.id, n.spec.annotations.name, n.spec.annotations)))
    })
  }

  async remove(idOrName: string): Promise<void> {
    await this.#control.remove(requireId(idOrName, 'id'))
  }
}
