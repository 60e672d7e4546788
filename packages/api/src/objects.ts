/**
 * Objects: what the cluster stores. Each has an `id`, a `meta` and a spec, plus state the
 * managers and agents maintain. Timestamps are milliseconds since the Unix epoch.
 *
 * 64-bit rule: `uint64` wire fields (versions, Raft member ids, Lamport clocks) are `bigint`
 * and exact over their whole range; other integers are `number` and must be safe integers.
 */
import type { RaftMemberId } from './ids.ts'
import type {
  Annotations,
  ClusterSpec,
  ConfigSpec,
  Driver,
  EndpointSpec,
  GenericResource,
  NetworkSpec,
  NodeRole,
  NodeSpec,
  Platform,
  PortConfig,
  Resources,
  SecretSpec,
  ServiceSpec,
  TaskSpec,
} from './specs.ts'
import type { TaskState } from './task-state.ts'

/** A store version: the Raft index at which an object was last written. */
export interface Version {
  index: bigint
}

/** Bookkeeping carried by every stored object. */
export interface Meta {
  version: Version
  createdAt: number
  updatedAt: number
}

// ---------------------------------------------------------------- node

/** What an engine reports about itself. */
export interface EngineDescription {
  engineVersion?: string
  labels?: Readonly<Record<string, string>>
  plugins?: readonly { type: string; name: string }[]
}

/** What a node reports about itself. */
export interface NodeDescription {
  hostname?: string
  platform?: Platform
  resources?: Resources
  engine?: EngineDescription
  tlsInfo?: { trustRoot?: Uint8Array; certIssuerSubject?: Uint8Array; certIssuerPublicKey?: Uint8Array }
  fips?: boolean
}

/** Observed node states. */
export const NodeState = { UNKNOWN: 'unknown', DOWN: 'down', READY: 'ready', DISCONNECTED: 'disconnected' } as const
/** Observed node state. */
export type NodeState = (typeof NodeState)[keyof typeof NodeState]

/** Observed node status. */
export interface NodeStatus {
  state: NodeState
  message?: string
  /** The address the node was last seen from. */
  addr?: string
}

/** Reachability of a manager in the Raft group. */
export const Reachability = { UNKNOWN: 'unknown', UNREACHABLE: 'unreachable', REACHABLE: 'reachable' } as const
/** Reachability of a manager in the Raft group. */
export type Reachability = (typeof Reachability)[keyof typeof Reachability]

/** Raft membership of a manager node. */
export interface ManagerStatus {
  raftId: RaftMemberId
  addr: string
  leader: boolean
  reachability: Reachability
}

/** Certificate issuance states. */
export const IssuanceState = {
  UNKNOWN: 'unknown',
  RENEW: 'renew',
  PENDING: 'pending',
  ISSUED: 'issued',
  FAILED: 'failed',
  ROTATE: 'rotate',
} as const
/** Certificate issuance state. */
export type IssuanceState = (typeof IssuanceState)[keyof typeof IssuanceState]

/** A node's certificate and its issuance status. */
export interface NodeCertificate {
  role: NodeRole
  csr?: Uint8Array
  status: { state: IssuanceState; err?: string }
  certificate?: Uint8Array
  cn: string
}

/** A network attachment of a node or task, with the addresses allocated on it. */
export interface NetworkAttachment {
  networkId: string
  addresses?: readonly string[]
  aliases?: readonly string[]
  driverAttachmentOpts?: Readonly<Record<string, string>>
}

/** A cluster member. */
export interface Node {
  id: string
  meta: Meta
  spec: NodeSpec
  description?: NodeDescription
  status: NodeStatus
  managerStatus?: ManagerStatus
  certificate?: NodeCertificate
  /** The reconciled role (the spec holds the desired one). */
  role: NodeRole
  attachments?: readonly NetworkAttachment[]
  vxlanUdpPort?: number
}

// ---------------------------------------------------------------- service

/** Rolling update states. */
export const UpdateState = {
  UNKNOWN: 'unknown',
  UPDATING: 'updating',
  PAUSED: 'paused',
  COMPLETED: 'completed',
  ROLLBACK_STARTED: 'rollback_started',
  ROLLBACK_PAUSED: 'rollback_paused',
  ROLLBACK_COMPLETED: 'rollback_completed',
} as const
/** Rolling update state. */
export type UpdateState = (typeof UpdateState)[keyof typeof UpdateState]

/** Progress of a service's rolling update. */
export interface UpdateStatus {
  state: UpdateState
  startedAt?: number
  completedAt?: number
  message?: string
}

/** A virtual IP of a service on one network. */
export interface VirtualIP {
  networkId: string
  addr: string
}

/** A service's allocated endpoint. */
export interface Endpoint {
  spec?: EndpointSpec
  /** Ports with their published ports filled in. */
  ports?: readonly PortConfig[]
  virtualIps?: readonly VirtualIP[]
}

/** Status of a job service. */
export interface JobStatus {
  /** The current iteration: only its tasks count; older iterations' running tasks are removed. */
  jobIteration: Version
  /**
   * When the current iteration started (ms since the epoch): the create or update, or for a
   * scheduled job the due time it ran for. Absent for a scheduled job that has not run yet.
   */
  lastExecution?: number
  /** Scheduled jobs: the next due time (ms since the epoch); absent when the expression matches no later time. */
  nextExecution?: number
  /** Scheduled jobs: how many due times were skipped because the previous iteration was still running. */
  skippedExecutions?: number
  /** Scheduled jobs: the last due time that was skipped. */
  lastSkippedExecution?: number
}

/** A service: desired state plus what the orchestrator tracks about it. */
export interface Service {
  id: string
  meta: Meta
  spec: ServiceSpec
  specVersion?: Version
  previousSpec?: ServiceSpec
  previousSpecVersion?: Version
  endpoint?: Endpoint
  updateStatus?: UpdateStatus
  jobStatus?: JobStatus
  pendingDelete?: boolean
}

// ---------------------------------------------------------------- task

/** A published port as observed on a node. */
export interface PortStatus {
  ports: readonly PortConfig[]
}

/** What the agent reports about a task's container. */
export interface ContainerStatus {
  containerId?: string
  pid?: number
  exitCode?: number
}

/** Observed task status. */
export interface TaskStatus {
  /** When the agent observed this status. */
  timestamp: number
  state: TaskState
  message?: string
  err?: string
  containerStatus?: ContainerStatus
  portStatus?: PortStatus
  /** Who applied the status (a manager's node id) and when. */
  appliedBy?: string
  appliedAt?: number
}

/** A generic resource assigned to a task on its node. */
export type AssignedGenericResource = GenericResource

/** One instance of a service on a node. */
export interface Task {
  id: string
  meta: Meta
  spec: TaskSpec
  specVersion?: Version
  serviceId: string
  /** Slot of a replicated task (from 1); 0 for global tasks. */
  slot: number
  /** Empty until the scheduler assigns the task. */
  nodeId: string
  annotations: Annotations
  serviceAnnotations: Annotations
  status: TaskStatus
  desiredState: TaskState
  networks?: readonly NetworkAttachment[]
  endpoint?: Endpoint
  logDriver?: Driver
  assignedGenericResources?: readonly AssignedGenericResource[]
  jobIteration?: Version
}

// ---------------------------------------------------------------- network

/** A network with its allocation state. */
export interface Network {
  id: string
  meta: Meta
  spec: NetworkSpec
  driverState?: Driver
  /** Pools actually allocated (filled in by the allocator). */
  ipam?: { driver?: Driver; configs?: readonly { family?: 'ipv4' | 'ipv6'; subnet?: string; range?: string; gateway?: string }[] }
  pendingDelete?: boolean
}

// ---------------------------------------------------------------- cluster

/** Join tokens, one per role. */
export interface JoinTokens {
  worker: string
  manager: string
}

/** Root CA state of a cluster. */
export interface ClusterRootCA {
  caKey?: Uint8Array
  caCert: Uint8Array
  caCertHash: string
  joinTokens: JoinTokens
  rootRotation?: { caCert: Uint8Array; caKey?: Uint8Array; crossSignedCaCert: Uint8Array }
  lastForcedRotation?: number
}

/** A key shared with agents for gossip or overlay encryption. */
export interface EncryptionKey {
  subsystem: string
  algorithm: 'aes_128_gcm'
  key: Uint8Array
  lamportTime: bigint
}

/** The cluster object: one per swarm. */
export interface Cluster {
  id: string
  meta: Meta
  spec: ClusterSpec
  rootCa: ClusterRootCA
  networkBootstrapKeys?: readonly EncryptionKey[]
  encryptionKeyLamportClock?: bigint
  /** Node ids whose certificates are refused, with the time until which to refuse them. */
  blacklistedCertificates?: Readonly<Record<string, { expiry?: number }>>
  unlockKeys?: readonly { subsystem: string; key: Uint8Array }[]
  fips?: boolean
  defaultAddressPool?: readonly string[]
  subnetSize?: number
  vxlanUdpPort?: number
}

// ---------------------------------------------------------------- secret / config / extension / resource

/** A secret. Its data never leaves the managers except to the agents of tasks that use it. */
export interface Secret {
  id: string
  meta: Meta
  spec: SecretSpec
  /** Created by the system (e.g. for networks), not the user. */
  internal?: boolean
}

/** A config. */
export interface Config {
  id: string
  meta: Meta
  spec: ConfigSpec
}

/** Declares a kind of opaque {@link Resource}. */
export interface Extension {
  id: string
  meta: Meta
  annotations: Annotations
  description?: string
}

/** An opaque object of a kind declared by an {@link Extension}. */
export interface Resource {
  id: string
  meta: Meta
  annotations: Annotations
  kind: string
  payload?: { typeUrl: string; value: Uint8Array }
}

/** Every stored object kind, by name. */
export interface ObjectKinds {
  node: Node
  service: Service
  task: Task
  network: Network
  cluster: Cluster
  secret: Secret
  config: Config
  extension: Extension
  resource: Resource
}
/** The name of a stored object kind. */
export type ObjectKind = keyof ObjectKinds
/** Any stored object. */
export type StoreObject = ObjectKinds[ObjectKind]

/** The object kinds in a fixed order. */
export const OBJECT_KINDS: readonly ObjectKind[] = [
  'node',
  'service',
  'task',
  'network',
  'cluster',
  'secret',
  'config',
  'extension',
  'resource',
]

/** The create, update and delete events of kind `K`, one union member per kind. */
type KindEvent<K extends ObjectKind> = K extends ObjectKind
  ?
      | { readonly action: 'create'; readonly kind: K; readonly object: ObjectKinds[K] }
      | { readonly action: 'update'; readonly kind: K; readonly object: ObjectKinds[K]; readonly oldObject?: ObjectKinds[K] }
      | { readonly action: 'delete'; readonly kind: K; readonly object: ObjectKinds[K] }
  : never

/**
 * A change to the store, as carried in a watch event or a replicated change set. A discriminated
 * union: `action` tells a commit from an object event, and an object event's `kind` narrows its
 * `object` (and `oldObject`) to that kind's type (`ev.kind === 'task'` → `ev.object: Task`).
 */
export type StoreEvent = KindEvent<ObjectKind> | { readonly action: 'commit'; readonly version: Version }
