/**
 * Specs: what a user asks for. Field names follow SwarmKit's protobuf model in camelCase.
 * Durations are milliseconds (`…Ms`), sizes are bytes, CPU is in nano-CPUs (1e9 = one core).
 */

/** Name, labels and extra index entries of an object. */
export interface Annotations {
  name: string
  labels?: Readonly<Record<string, string>>
  indices?: readonly IndexEntry[]
}

/** A custom index entry, searchable in the store. */
export interface IndexEntry {
  key: string
  val: string
}

/** A driver name with options (network, IPAM, log, secret drivers). */
export interface Driver {
  name: string
  options?: Readonly<Record<string, string>>
}

// ---------------------------------------------------------------- resources

/** A generic resource advertised by a node or asked for by a task. */
export type GenericResource =
  | { readonly kind: string; readonly namedValue: string }
  | { readonly kind: string; readonly discreteValue: number }

/** CPU, memory and generic resources. */
export interface Resources {
  /** CPU in units of 1e-9 CPUs. */
  nanoCpus?: number
  memoryBytes?: number
  generic?: readonly GenericResource[]
}

/** Limits and reservations of a task. */
export interface ResourceRequirements {
  limits?: Resources
  reservations?: Resources
  swapBytes?: number
  memorySwappiness?: number
}

// ---------------------------------------------------------------- restart / update

/** When a task is restarted. */
export const RestartCondition = { NONE: 'none', ON_FAILURE: 'on-failure', ANY: 'any' } as const
/** When a task is restarted. */
export type RestartCondition = (typeof RestartCondition)[keyof typeof RestartCondition]

/** Restart policy of a task. When absent from a spec: condition `any`, delay 5 s. */
export interface RestartPolicy {
  condition?: RestartCondition
  /** Delay between restart attempts. */
  delayMs?: number
  /** Maximum attempts within `windowMs`; 0 means unlimited. */
  maxAttempts?: number
  /** Window used to count attempts; 0 means unbounded. */
  windowMs?: number
}

/** What an update does when tasks fail. */
export const UpdateFailureAction = { PAUSE: 'pause', CONTINUE: 'continue', ROLLBACK: 'rollback' } as const
/** What an update does when tasks fail. */
export type UpdateFailureAction = (typeof UpdateFailureAction)[keyof typeof UpdateFailureAction]

/** Order of stopping the old and starting the new task during an update. */
export const UpdateOrder = { STOP_FIRST: 'stop-first', START_FIRST: 'start-first' } as const
/** Order of stopping the old and starting the new task during an update. */
export type UpdateOrder = (typeof UpdateOrder)[keyof typeof UpdateOrder]

/** Rolling update (or rollback) parameters. */
export interface UpdateConfig {
  /** Tasks updated at once; 0 means all at once. */
  parallelism?: number
  delayMs?: number
  failureAction?: UpdateFailureAction
  /** How long a new task is watched for failure after it starts. */
  monitorMs?: number
  /** Fraction of failed tasks tolerated, in [0, 1]. */
  maxFailureRatio?: number
  order?: UpdateOrder
}

// ---------------------------------------------------------------- placement

/** A spread preference: distribute tasks evenly over the values of a label. */
export interface SpreadOver {
  /** `node.labels.<key>` or `engine.labels.<key>`. */
  spreadDescriptor: string
}

/** A placement preference. */
export interface PlacementPreference {
  spread: SpreadOver
}

/** An OS/architecture pair. */
export interface Platform {
  architecture?: string
  os?: string
}

/**
 * How the scheduler ranks the nodes that pass its filters: `spread` (SwarmKit's: fewest tasks of
 * the service, then fewest tasks) or `binpack` (the node with the least free CPU and memory that
 * still fits, keeping whole nodes free). Beyond SwarmKit.
 */
export const SchedulingStrategy = { SPREAD: 'spread', BINPACK: 'binpack' } as const
/** How the scheduler ranks nodes (see {@link SchedulingStrategy}). */
export type SchedulingStrategy = (typeof SchedulingStrategy)[keyof typeof SchedulingStrategy]

/** Where tasks may run. */
export interface Placement {
  /** Expressions like `node.role == manager` or `node.labels.zone != east`. */
  constraints?: readonly string[]
  preferences?: readonly PlacementPreference[]
  platforms?: readonly Platform[]
  /** Maximum tasks of the service per node; 0 means no limit. */
  maxReplicas?: number
  /** This service's scheduling strategy, overriding the cluster's (beyond SwarmKit). */
  strategy?: SchedulingStrategy
}

// ---------------------------------------------------------------- container

/** Mount types. */
export const MountType = { BIND: 'bind', VOLUME: 'volume', TMPFS: 'tmpfs', NPIPE: 'npipe', CLUSTER: 'cluster' } as const
/** Mount type. */
export type MountType = (typeof MountType)[keyof typeof MountType]

/** A mount in a container. */
export interface Mount {
  type: MountType
  source?: string
  target: string
  readOnly?: boolean
  bindOptions?: { propagation?: string; nonRecursive?: boolean }
  volumeOptions?: { noCopy?: boolean; labels?: Readonly<Record<string, string>>; driverConfig?: Driver; subpath?: string }
  tmpfsOptions?: { sizeBytes?: number; mode?: number; options?: string }
}

/** A file a secret or config is written to inside the container. */
export interface FileTarget {
  name: string
  uid?: string
  gid?: string
  /** Unix file mode. @default 0o444 */
  mode?: number
}

/** A reference from a container to a secret. */
export interface SecretReference {
  secretId: string
  secretName: string
  file: FileTarget
}

/** A reference from a container to a config (as a file, or a runtime target). */
export interface ConfigReference {
  configId: string
  configName: string
  file?: FileTarget
  runtime?: Record<string, never>
}

/** A container health check. */
export interface HealthConfig {
  /** `["NONE"]`, `["CMD", ...args]` or `["CMD-SHELL", command]`. */
  test?: readonly string[]
  intervalMs?: number
  timeoutMs?: number
  retries?: number
  startPeriodMs?: number
  startIntervalMs?: number
}

/** DNS settings of a container. */
export interface DnsConfig {
  nameservers?: readonly string[]
  search?: readonly string[]
  options?: readonly string[]
}

/** Security-related settings of a container. */
export interface Privileges {
  credentialSpec?: { file?: string; registry?: string; config?: string }
  seLinuxContext?: { disable?: boolean; user?: string; role?: string; type?: string; level?: string }
  seccomp?: { mode: 'default' | 'unconfined' | 'custom'; profile?: Uint8Array }
  appArmor?: { mode: 'default' | 'disabled' }
  noNewPrivileges?: boolean
}

/** A resource limit. */
export interface Ulimit {
  name: string
  soft: number
  hard: number
}

/** What to run in a container. */
export interface ContainerSpec {
  image: string
  labels?: Readonly<Record<string, string>>
  command?: readonly string[]
  args?: readonly string[]
  hostname?: string
  /** `KEY=value` entries. */
  env?: readonly string[]
  dir?: string
  user?: string
  groups?: readonly string[]
  privileges?: Privileges
  init?: boolean
  tty?: boolean
  openStdin?: boolean
  readOnly?: boolean
  stopSignal?: string
  mounts?: readonly Mount[]
  /** @default 10000 */
  stopGracePeriodMs?: number
  pullOptions?: { registryAuth?: string }
  secrets?: readonly SecretReference[]
  configs?: readonly ConfigReference[]
  /** `IP hostname...` entries. */
  hosts?: readonly string[]
  dnsConfig?: DnsConfig
  healthcheck?: HealthConfig
  isolation?: 'default' | 'process' | 'hyperv'
  pidsLimit?: number
  sysctls?: Readonly<Record<string, string>>
  capabilityAdd?: readonly string[]
  capabilityDrop?: readonly string[]
  ulimits?: readonly Ulimit[]
  oomScoreAdj?: number
}

/** A runtime that is neither a container nor an attachment, for custom executors. */
export interface GenericRuntimeSpec {
  kind: string
  payload?: Uint8Array
}

/** Attachment of a network to a task. */
export interface NetworkAttachmentConfig {
  /** Network ID or name. */
  target: string
  aliases?: readonly string[]
  addresses?: readonly string[]
  driverAttachmentOpts?: Readonly<Record<string, string>>
}

/** The template every task of a service is created from. */
export interface TaskSpec {
  /** Exactly one of `container`, `attachment`, `generic`. */
  container?: ContainerSpec
  attachment?: { containerId: string }
  generic?: GenericRuntimeSpec
  resources?: ResourceRequirements
  restart?: RestartPolicy
  placement?: Placement
  logDriver?: Driver
  networks?: readonly NetworkAttachmentConfig[]
  /** Bump to force a rolling restart without other changes. */
  forceUpdate?: number
  resourceReferences?: readonly { resourceId: string; resourceType: 'task' | 'secret' | 'config' }[]
}

// ---------------------------------------------------------------- endpoint

/** Port protocols. */
export const PortProtocol = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' } as const
/** Port protocol. */
export type PortProtocol = (typeof PortProtocol)[keyof typeof PortProtocol]

/** How a port is published. */
export const PublishMode = { INGRESS: 'ingress', HOST: 'host' } as const
/** How a port is published. */
export type PublishMode = (typeof PublishMode)[keyof typeof PublishMode]

/** A published port. */
export interface PortConfig {
  name?: string
  /** @default 'tcp' */
  protocol?: PortProtocol
  targetPort: number
  /** 0 (or absent) lets the cluster choose (ingress: 30000–32767). */
  publishedPort?: number
  /** @default 'ingress' */
  publishMode?: PublishMode
}

/** Endpoint resolution modes. */
export const EndpointMode = { VIP: 'vip', DNSRR: 'dnsrr' } as const
/** Endpoint resolution mode. */
export type EndpointMode = (typeof EndpointMode)[keyof typeof EndpointMode]

/** How a service is reached. */
export interface EndpointSpec {
  /** @default 'vip' */
  mode?: EndpointMode
  ports?: readonly PortConfig[]
}

// ---------------------------------------------------------------- service

/**
 * When a job runs again on its own (beyond SwarmKit, which has no scheduled jobs): a new
 * iteration starts at each time the cron expression matches, unless the previous one is still
 * running (then that run is skipped and counted in the service's `jobStatus`). A scheduled job
 * does not run when it is created or updated, only at its due times.
 */
export interface JobSchedule {
  /**
   * A cron expression as croner reads it: five fields (minute hour day-of-month month
   * day-of-week), or six with seconds first, or seven with a year last; nicknames such as
   * `@hourly` and `@daily` too. E.g. `'*\/5 * * * *'`: every five minutes.
   */
  cron: string
  /** The IANA time zone the expression is read in (e.g. `'Europe/Paris'`). @default 'UTC' */
  timeZone?: string
}

/** A replicated job: `totalCompletions` tasks must complete, at most `maxConcurrent` at a time. */
export interface ReplicatedJobMode {
  /** @default 1 */
  readonly maxConcurrent?: number
  /** @default maxConcurrent */
  readonly totalCompletions?: number
  /** Runs the job again at each due time (absent: runs once per create or update). */
  readonly schedule?: JobSchedule
}

/** A global job: one task on every eligible node at the time an iteration starts. */
export interface GlobalJobMode {
  /** Runs the job again at each due time (absent: runs once per create or update). */
  readonly schedule?: JobSchedule
}

/** Service modes: exactly one key is set. */
export type ServiceMode =
  | { readonly replicated: { readonly replicas?: number } }
  | { readonly global: Record<string, never> }
  | { readonly replicatedJob: ReplicatedJobMode }
  | { readonly globalJob: GlobalJobMode }

/** The kind of a service mode. */
export type ServiceModeKind = 'replicated' | 'global' | 'replicatedJob' | 'globalJob'

/** What a user asks of a service. */
export interface ServiceSpec {
  annotations: Annotations
  task: TaskSpec
  mode: ServiceMode
  update?: UpdateConfig
  rollback?: UpdateConfig
  /** Deprecated in SwarmKit in favour of `task.networks`; kept for compatibility. */
  networks?: readonly NetworkAttachmentConfig[]
  endpoint?: EndpointSpec
}

// ---------------------------------------------------------------- node

/** Node roles. */
export const NodeRole = { WORKER: 'worker', MANAGER: 'manager' } as const
/** Node role. */
export type NodeRole = (typeof NodeRole)[keyof typeof NodeRole]

/** Node membership. */
export const NodeMembership = { PENDING: 'pending', ACCEPTED: 'accepted' } as const
/** Node membership. */
export type NodeMembership = (typeof NodeMembership)[keyof typeof NodeMembership]

/** Node availability for scheduling. */
export const NodeAvailability = { ACTIVE: 'active', PAUSE: 'pause', DRAIN: 'drain' } as const
/** Node availability for scheduling. */
export type NodeAvailability = (typeof NodeAvailability)[keyof typeof NodeAvailability]

/** What a user asks of a node. */
export interface NodeSpec {
  annotations: Annotations
  desiredRole: NodeRole
  membership: NodeMembership
  availability: NodeAvailability
}

// ---------------------------------------------------------------- network

/** One IPAM pool of a network. */
export interface IpamConfig {
  family?: 'ipv4' | 'ipv6'
  subnet?: string
  range?: string
  gateway?: string
  reserved?: Readonly<Record<string, string>>
}

/** IPAM settings of a network. */
export interface IpamOptions {
  driver?: Driver
  configs?: readonly IpamConfig[]
}

/** What a user asks of a network. */
export interface NetworkSpec {
  annotations: Annotations
  driverConfig?: Driver
  ipv6Enabled?: boolean
  internal?: boolean
  ipam?: IpamOptions
  attachable?: boolean
  ingress?: boolean
  /** Name of a config-only network to take settings from. */
  configFrom?: string
}

// ---------------------------------------------------------------- secret / config

/** Maximum size of a secret or config payload: less than 500 KiB. */
export const MAX_SECRET_SIZE = 500 * 1024

/** What a user asks of a secret. */
export interface SecretSpec {
  annotations: Annotations
  /** 1 byte to less than 500 KiB (empty only with an external `driver`). */
  data: Uint8Array
  templating?: Driver
  driver?: Driver
}

/** What a user asks of a config. */
export interface ConfigSpec {
  annotations: Annotations
  /** Less than 500 KiB. */
  data: Uint8Array
  templating?: Driver
}

// ---------------------------------------------------------------- cluster

/** Raft settings of a cluster. */
export interface RaftConfig {
  snapshotInterval?: number
  keepOldSnapshots?: number
  logEntriesForSlowFollowers?: number
  heartbeatTick?: number
  electionTick?: number
}

/** An external CA. */
export interface ExternalCA {
  protocol: 'cfssl'
  url: string
  options?: Readonly<Record<string, string>>
  caCert?: string
}

/** CA settings of a cluster. */
export interface CAConfig {
  /** Validity of node certificates. @default 90 days */
  nodeCertExpiryMs?: number
  externalCas?: readonly ExternalCA[]
  signingCaCert?: string
  signingCaKey?: string
  /** Increment to force a root CA rotation. */
  forceRotate?: number
}

/** What a user asks of the cluster. */
export interface ClusterSpec {
  annotations: Annotations
  /**
   * `schedulingStrategy`: the cluster-wide scheduling strategy (default spread; a service's
   * `placement.strategy` overrides it; beyond SwarmKit).
   */
  orchestration?: { taskHistoryRetentionLimit?: number; schedulingStrategy?: SchedulingStrategy }
  raft?: RaftConfig
  dispatcher?: { heartbeatPeriodMs?: number }
  caConfig?: CAConfig
  taskDefaults?: { logDriver?: Driver }
  encryptionConfig?: { autoLockManagers?: boolean }
}
