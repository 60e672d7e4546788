/**
 * `LeaderForwardingControl`: the control API of any manager. On the leader every call goes to
 * the local API (the leader's `StoreControlApi`); on a follower it goes to the leader over gRPC
 * (one `ControlClient` per leader address, replaced when the leader changes), reads included, so
 * a caller reads its own writes whichever manager it talks to.
 *
 * @module
 */
import { NotLeaderError } from '@swarmkit-ts/api'
import type { ClusterSpec, ConfigSpec, NetworkSpec, NodeRole, NodeSpec, SecretSpec, ServiceSpec } from '@swarmkit-ts/api'
import type { WatchEvent } from '@swarmkit-ts/store'
import type {
  CommonFilters,
  ConfigsApi,
  ControlApi,
  ControlWatchOptions,
  ControlWatchSelector,
  NetworksApi,
  NodeFilters,
  NodeRemoveOptions,
  NodesApi,
  SecretsApi,
  ServiceFilters,
  ServicesApi,
  TaskFilters,
  TasksApi,
  VersionOptions,
} from './control-api.ts'

/** What a control call answers while no leader is known (Docker's message). */
export const NO_LEADER_MESSAGE = "the swarm does not have a leader: it's possible that too few managers are online; make sure more than half of the managers are online"

/** A control API reached over the network, which must be closed when dropped. */
export interface RemoteControl extends ControlApi {
  /** Closes the connection. */
  close(): void
  /**
   * Sends an encoded request envelope of unary `method` unchanged and resolves with the encoded
   * answer (`ControlClient.forwardRaw`). Optional: without it a follower decodes each call and
   * forwards it through the typed methods.
   */
  forwardRaw?(method: string, request: Buffer): Promise<Buffer>
}

/** An encoded unary control call passed on unchanged: the request envelope in, the response envelope out. */
export type RawControlCall = (method: string, request: Buffer) => Promise<Buffer>

/** Construction options of {@link LeaderForwardingControl}. */
export interface LeaderForwardingControlInit {
  /** The local control API while this manager is the leader, else undefined. */
  readonly local: () => ControlApi | undefined
  /** The leader's cluster address (`host:port`), or undefined while no leader is known. */
  readonly leaderAddress: () => string | undefined
  /**
   * A client for the manager at `address`: a `ControlClient` with this node's mTLS credentials
   * and `forwarded: true` (so the leader never forwards the call on).
   */
  readonly connect: (address: string) => RemoteControl
}

/** The control API of a manager, forwarding to the leader while this manager follows. */
export class LeaderForwardingControl implements ControlApi {
  readonly services: ServicesApi
  readonly tasks: TasksApi
  readonly nodes: NodesApi
  readonly networks: NetworksApi
  readonly secrets: SecretsApi
  readonly configs: ConfigsApi
  readonly getCluster: ControlApi['getCluster']
  readonly updateCluster: ControlApi['updateCluster']
  readonly joinTokens: ControlApi['joinTokens']
  readonly rotateJoinToken: ControlApi['rotateJoinToken']
  readonly unlockKey: ControlApi['unlockKey']
  readonly rotateUnlockKey: ControlApi['rotateUnlockKey']
  readonly #init: LeaderForwardingControlInit
  #remote: RemoteControl | undefined
  #remoteAddress: string | undefined
  #closed = false

  constructor(init: LeaderForwardingControlInit) {
    this.#init = init
    const run = <T>(fn: (api: ControlApi) => Promise<T>): Promise<T> => {
      try {
        return fn(this.target())
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)))
      }
    }
    this.services = {
      create: (s: ServiceSpec) => run((a) => a.services.create(s)),
      get: (id: string) => run((a) => a.services.get(id)),
      list: (f?: ServiceFilters) => run((a) => a.services.list(f)),
      update: (id: string, s: ServiceSpec, o?: VersionOptions) => run((a) => a.services.update(id, s, o)),
      scale: (id: string, n: number, o?: VersionOptions) => run((a) => a.services.scale(id, n, o)),
      rollback: (id: string, o?: VersionOptions) => run((a) => a.services.rollback(id, o)),
      remove: (id: string) => run((a) => a.services.remove(id)),
    }
    this.tasks = {
      get: (id: string) => run((a) => a.tasks.get(id)),
      list: (f?: TaskFilters) => run((a) => a.tasks.list(f)),
    }
    this.nodes = {
      get: (id: string) => run((a) => a.nodes.get(id)),
      list: (f?: NodeFilters) => run((a) => a.nodes.list(f)),
      update: (id: string, s: NodeSpec, o?: VersionOptions) => run((a) => a.nodes.update(id, s, o)),
      remove: (id: string, o?: NodeRemoveOptions) => run((a) => a.nodes.remove(id, o)),
    }
    this.networks = {
      create: (s: NetworkSpec) => run((a) => a.networks.create(s)),
      get: (id: string) => run((a) => a.networks.get(id)),
      list: (f?: CommonFilters) => run((a) => a.networks.list(f)),
      remove: (id: string) => run((a) => a.networks.remove(id)),
    }
    this.secrets = {
      create: (s: SecretSpec) => run((a) => a.secrets.create(s)),
      get: (id: string) => run((a) => a.secrets.get(id)),
      list: (f?: CommonFilters) => run((a) => a.secrets.list(f)),
      update: (id: string, s: SecretSpec, o?: VersionOptions) => run((a) => a.secrets.update(id, s, o)),
      remove: (id: string) => run((a) => a.secrets.remove(id)),
    }
    this.configs = {
      create: (s: ConfigSpec) => run((a) => a.configs.create(s)),
      get: (id: string) => run((a) => a.configs.get(id)),
      list: (f?: CommonFilters) => run((a) => a.configs.list(f)),
      update: (id: string, s: ConfigSpec, o?: VersionOptions) => run((a) => a.configs.update(id, s, o)),
      remove: (id: string) => run((a) => a.configs.remove(id)),
    }
    this.getCluster = () => run((a) => a.getCluster())
    this.updateCluster = (s: ClusterSpec, o?: VersionOptions) => run((a) => a.updateCluster(s, o))
    this.joinTokens = () => run((a) => a.joinTokens())
    this.rotateJoinToken = (role: NodeRole) => run((a) => a.rotateJoinToken(role))
    this.unlockKey = () => run((a) => a.unlockKey())
    this.rotateUnlockKey = () => run((a) => a.rotateUnlockKey())
  }

  /** Store events, from the leader (a forwarded watch ends with `UnavailableError` when the leader goes). */
  watch(selector?: ControlWatchSelector, options?: ControlWatchOptions): AsyncIterable<WatchEvent> {
    return this.target().watch(selector, options)
  }

  /**
   * The local API while this manager leads; otherwise `NotLeaderError` naming the leader's
   * address. What the server answers a call forwarded by another manager with.
   */
  direct(): ControlApi {
    const local = this.#init.local()
    if (local !== undefined) return local
    throw new NotLeaderError({ leaderAddr: this.#init.leaderAddress() })
  }

  /**
   * The API a call goes to now: the local one on the leader, else a client of the current
   * leader (a new one when the leader's address changed). `NotLeaderError` while no leader is
   * known or after `close()`.
   */
  target(): ControlApi {
    const local = this.#init.local()
    if (local !== undefined) return local
    const address = this.#init.leaderAddress()
    if (this.#closed) throw new NotLeaderError({ leaderAddr: address })
    // Docker's words: an election, or a quorum lost (then only a forced new cluster helps).
    if (address === undefined || address === '') throw new NotLeaderError({ message: NO_LEADER_MESSAGE })
    if (this.#remote === undefined || this.#remoteAddress !== address) {
      this.#remote?.close()
      this.#remote = this.#init.connect(address)
      this.#remoteAddress = address
    }
    return this.#remote
  }

  /**
   * How a follower's server passes an encoded unary call on to the leader without decoding the
   * request or re-encoding the answer (one decode and encode less of each, and no copy of the
   * objects), or undefined while this manager leads (answer locally) or when the leader's client
   * cannot pass bytes through. `NotLeaderError` as {@link LeaderForwardingControl.target}.
   */
  passThrough(): RawControlCall | undefined {
    const target = this.target()
    const remote = this.#remote
    if (remote === undefined || target !== remote || remote.forwardRaw === undefined) return undefined
    return remote.forwardRaw.bind(remote)
  }

  /** Closes the client of the leader, if any; later calls on a follower fail with `NotLeaderError`. */
  close(): void {
    this.#closed = true
    this.#remote?.close()
    this.#remote = undefined
    this.#remoteAddress = undefined
  }
}
