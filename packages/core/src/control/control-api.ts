/**
 * The control API: every operation a manager's `Cluster` handles expose (SwarmKit's
 * api/control.proto, manager/controlapi), as one TypeScript contract with three implementations —
 * `StoreControlApi` on the leader's store, `ControlClient` over gRPC, and
 * `LeaderForwardingControl` (a follower forwarding to the leader).
 *
 * Every method validates its input and rejects with api's typed errors (the field named); a
 * rejected write changes nothing. Objects are returned deeply readonly.
 *
 * @module
 */
import type {
  Cluster,
  ClusterSpec,
  Config,
  ConfigSpec,
  JoinTokens,
  Network,
  NetworkSpec,
  Node,
  NodeAvailability,
  NodeMembership,
  NodeRole,
  ObjectKind,
  Secret,
  SecretSpec,
  Service,
  ServiceSpec,
  StoreEvent,
  Task,
  TaskState,
} from '@swarmkit-ts/api'
import type { Frozen, WatchEvent } from '@swarmkit-ts/store'

/** Optimistic concurrency of an update: the `meta.version.index` the caller read. */
export interface VersionOptions {
  /** The update fails with `SequenceConflictError` when the object changed since this version. */
  readonly version?: bigint
}

/** Filters shared by every list: each given filter must hold (AND); within one filter, any value (OR). */
export interface CommonFilters {
  /** Exact names (case-insensitive). */
  readonly names?: readonly string[]
  /** Name prefixes (case-insensitive). */
  readonly namePrefixes?: readonly string[]
  /** Id prefixes. */
  readonly idPrefixes?: readonly string[]
  /** Labels of the object's annotations: a key with `''` matches any value, otherwise the exact value. */
  readonly labels?: Readonly<Record<string, string>>
}

/** Filters of {@link ServicesApi.list}. */
export interface ServiceFilters extends CommonFilters {
  /** Only services of these modes. */
  readonly modes?: readonly ('replicated' | 'global' | 'replicatedJob' | 'globalJob')[]
}

/** Filters of {@link TasksApi.list}. */
export interface TaskFilters extends CommonFilters {
  /** Only tasks of these services (ids). */
  readonly serviceIds?: readonly string[]
  /** Only tasks on these nodes (ids). */
  readonly nodeIds?: readonly string[]
  /** Only tasks with one of these desired states. */
  readonly desiredStates?: readonly TaskState[]
}

/** Filters of {@link NodesApi.list}. */
export interface NodeFilters extends CommonFilters {
  /** Only nodes with these current roles. */
  readonly roles?: readonly NodeRole[]
  /** Only nodes with these memberships. */
  readonly memberships?: readonly NodeMembership[]
  /** Only nodes with these availabilities (spec). */
  readonly availabilities?: readonly NodeAvailability[]
}

/** Options of {@link NodesApi.remove}. */
export interface NodeRemoveOptions {
  /** Remove the node even while it is up (status READY), as `docker node rm --force`. */
  readonly force?: boolean
}

/** Services: create, read, update, scale, roll back, remove. */
export interface ServicesApi {
  /** Creates a service (`InvalidArgumentError` naming the field; `AlreadyExistsError` when the name is taken). */
  create(spec: ServiceSpec): Promise<Frozen<Service>>
  /** The service with this id, or else this exact name (`NotFoundError`). */
  get(idOrName: string): Promise<Frozen<Service>>
  /** The services matching `filters`, sorted by name. */
  list(filters?: ServiceFilters): Promise<readonly Frozen<Service>[]>
  /**
   * Replaces the spec of service `id` (SwarmKit's UpdateService): the old spec becomes
   * `previousSpec`; `SequenceConflictError` when `options.version` is stale.
   */
  update(id: string, spec: ServiceSpec, options?: VersionOptions): Promise<Frozen<Service>>
  /**
   * Sets the replica count of a replicated service (an update of its spec);
   * `FailedPreconditionError` reason `not-replicated` for other modes.
   */
  scale(id: string, replicas: number, options?: VersionOptions): Promise<Frozen<Service>>
  /** Rolls back to `previousSpec` (`FailedPreconditionError` when there is none). */
  rollback(id: string, options?: VersionOptions): Promise<Frozen<Service>>
  /** Removes the service; its tasks are shut down by the orchestrators. */
  remove(id: string): Promise<void>
}

/** Tasks: read only (the orchestrators own their writes). */
export interface TasksApi {
  /** The task with this id (`NotFoundError`). */
  get(id: string): Promise<Frozen<Task>>
  /** The tasks matching `filters`, sorted by service, slot, then id. */
  list(filters?: TaskFilters): Promise<readonly Frozen<Task>[]>
}

/** Nodes: read, update the spec (availability, labels, desired role), remove. */
export interface NodesApi {
  /** The node with this id, or else this hostname (`NotFoundError`). */
  get(idOrName: string): Promise<Frozen<Node>>
  /** The nodes matching `filters`, sorted by id. */
  list(filters?: NodeFilters): Promise<readonly Frozen<Node>[]>
  /**
   * Replaces the node's spec (SwarmKit's UpdateNode). A change of `desiredRole` is a promotion or
   * demotion: it goes through the `membership` hooks first (a demotion that would lose quorum is
   * refused with `FailedPreconditionError` reason `quorum`), then the desired role is committed
   * and the manager's role reconciler changes Raft membership and `node.role`.
   */
  update(id: string, spec: Node['spec'], options?: VersionOptions): Promise<Frozen<Node>>
  /**
   * Removes the node and denies its certificate. Refused with `FailedPreconditionError`: reason
   * `node-up` while it is READY unless `force`; reason `manager` while it is a manager and a
   * member of the Raft group (demote first), whatever `force`. A manager whose Raft member is gone
   * (a forced new cluster removed it) is removed like a worker, as in SwarmKit.
   */
  remove(id: string, options?: NodeRemoveOptions): Promise<void>
}

/** Networks: create, read, remove (SwarmKit has no network update). */
export interface NetworksApi {
  /** Creates a network (subnets allocated in the same write). */
  create(spec: NetworkSpec): Promise<Frozen<Network>>
  /** The network with this id, or else this name (`NotFoundError`). */
  get(idOrName: string): Promise<Frozen<Network>>
  /** The networks matching `filters`, sorted by name. */
  list(filters?: CommonFilters): Promise<readonly Frozen<Network>[]>
  /** Removes the network; `FailedPreconditionError` reason `network-in-use` naming the user. */
  remove(idOrName: string): Promise<void>
}

/**
 * Secrets or configs: create, read, update (labels only, as SwarmKit), remove (refused while a
 * service uses it). Secrets are returned without their data (`spec.data` empty), as SwarmKit does.
 */
export interface SecretsApi<T extends Secret | Config = Secret, S extends SecretSpec | ConfigSpec = SecretSpec> {
  /** Creates one (`InvalidArgumentError`; `AlreadyExistsError` when the name is taken). */
  create(spec: S): Promise<Frozen<T>>
  /** The one with this id, or else this name (`NotFoundError`). */
  get(idOrName: string): Promise<Frozen<T>>
  /** Those matching `filters`, sorted by name. */
  list(filters?: CommonFilters): Promise<readonly Frozen<T>[]>
  /** Replaces the spec; only the labels may change (`InvalidArgumentError` naming the field otherwise). */
  update(id: string, spec: S, options?: VersionOptions): Promise<Frozen<T>>
  /** Removes it; `FailedPreconditionError` reason `in-use` naming the service while one uses it. */
  remove(id: string): Promise<void>
}

/** Configs: as secrets, with their data. */
export type ConfigsApi = SecretsApi<Config, ConfigSpec>

/**
 * Which store events {@link ControlApi.watch} yields: every given criterion must hold. Plain data
 * (it crosses the wire), unlike the store's selector.
 */
export interface ControlWatchSelector {
  /** Only these kinds (default: all). */
  readonly kinds?: readonly ObjectKind[]
  /** Only these actions (default: all, including `'commit'`). */
  readonly actions?: readonly StoreEvent['action'][]
  /** Only the object with this id. */
  readonly id?: string
  /** Only objects whose id starts with this. */
  readonly idPrefix?: string
  /** Only objects with this name (case-insensitive). */
  readonly name?: string
  /** Only objects whose name starts with this (case-insensitive). */
  readonly namePrefix?: string
}

/** Options of {@link ControlApi.watch}. */
export interface ControlWatchOptions {
  /** Ends the iteration (normally) when aborted. */
  readonly signal?: AbortSignal
  /** First replay the changes committed after this store version. */
  readonly since?: bigint
}

/** The control API of a manager. */
export interface ControlApi {
  /** Services. */
  readonly services: ServicesApi
  /** Tasks. */
  readonly tasks: TasksApi
  /** Nodes. */
  readonly nodes: NodesApi
  /** Networks. */
  readonly networks: NetworksApi
  /** Secrets (returned without data). */
  readonly secrets: SecretsApi
  /** Configs. */
  readonly configs: ConfigsApi
  /** The cluster object (`NotFoundError` before bootstrap). The root CA key is never returned. */
  getCluster(): Promise<Frozen<Cluster>>
  /** Replaces the cluster spec (validated; `SequenceConflictError` when `options.version` is stale). */
  updateCluster(spec: ClusterSpec, options?: VersionOptions): Promise<Frozen<Cluster>>
  /** The current join tokens. */
  joinTokens(): Promise<Frozen<JoinTokens>>
  /** Replaces `role`'s join token (the old one stops admitting nodes) and returns both. */
  rotateJoinToken(role: NodeRole): Promise<Frozen<JoinTokens>>
  /** The managers' unlock key (`SWMKEY-1-…`), or undefined when autolock is off. */
  unlockKey(): Promise<string | undefined>
  /** Replaces the unlock key and returns the new one (`FailedPreconditionError` reason `autolock-off`). */
  rotateUnlockKey(): Promise<string>
  /** Store events matching `selector`, until `options.signal` aborts or the caller breaks. */
  watch(selector?: ControlWatchSelector, options?: ControlWatchOptions): AsyncIterable<WatchEvent>
}
