/**
 * The swarmkit-ts object model: specs and objects, task states, defaults and validation,
 * placement constraints, IDs, typed errors with their gRPC mapping, the Clock / Random / Logger
 * contracts, and the protobuf wire encoding of every object.
 *
 * @packageDocumentation
 */

export {
  GrpcStatus,
  SwarmkitError,
  InvalidArgumentError,
  NotFoundError,
  AlreadyExistsError,
  SequenceConflictError,
  NotLeaderError,
  FailedPreconditionError,
  PermissionDeniedError,
  UnavailableError,
  ClusterLockedError,
  ResourceExhaustedError,
  InternalError,
  ErrorName,
  ERROR_NAME_METADATA_KEY,
  ERROR_CONTEXT_METADATA_KEY,
  toGrpcStatus,
  fromGrpcStatus,
} from './errors.ts'
export type { SwarmkitErrorOptions, AnySwarmkitError, GrpcStatusObject } from './errors.ts'

export { SystemClock, systemClock, backgroundClock, sleep, yieldToIo } from './clock.ts'
export type { Clock, Timer, SystemClockInit } from './clock.ts'
export { heapBytes, sharedBytes } from './bytes.ts'
export type { ByteAllocator } from './bytes.ts'
export { CryptoRandom, cryptoRandom } from './random.ts'
export type { Random } from './random.ts'
export { silentLogger, ConsoleLogger, LogLevel } from './logger.ts'
export type { Logger, LogFields, ConsoleLoggerInit } from './logger.ts'

export {
  ID_LENGTH,
  generateId,
  isId,
  MAX_RAFT_MEMBER_ID,
  isRaftMemberId,
  generateRaftMemberId,
  formatRaftMemberId,
  parseRaftMemberId,
} from './ids.ts'
export type { RaftMemberId } from './ids.ts'

export {
  TaskState,
  TASK_STATES,
  isTaskState,
  taskStateName,
  compareTaskStates,
  canTransition,
  isTerminal,
  isActiveOnNode,
} from './task-state.ts'
export type { TaskStateName } from './task-state.ts'

export {
  RestartCondition,
  SchedulingStrategy,
  UpdateFailureAction,
  UpdateOrder,
  MountType,
  PortProtocol,
  PublishMode,
  EndpointMode,
  NodeRole,
  NodeMembership,
  NodeAvailability,
  MAX_SECRET_SIZE,
} from './specs.ts'
export type {
  Annotations,
  IndexEntry,
  Driver,
  GenericResource,
  Resources,
  ResourceRequirements,
  RestartPolicy,
  UpdateConfig,
  SpreadOver,
  PlacementPreference,
  Platform,
  Placement,
  Mount,
  FileTarget,
  SecretReference,
  ConfigReference,
  HealthConfig,
  DnsConfig,
  Privileges,
  Ulimit,
  ContainerSpec,
  GenericRuntimeSpec,
  NetworkAttachmentConfig,
  TaskSpec,
  PortConfig,
  EndpointSpec,
  ServiceMode,
  ReplicatedJobMode,
  GlobalJobMode,
  JobSchedule,
  ServiceModeKind,
  ServiceSpec,
  NodeSpec,
  IpamConfig,
  IpamOptions,
  NetworkSpec,
  SecretSpec,
  ConfigSpec,
  RaftConfig,
  ExternalCA,
  CAConfig,
  ClusterSpec,
} from './specs.ts'

export { NodeState, Reachability, IssuanceState, UpdateState, OBJECT_KINDS } from './objects.ts'
export type {
  Version,
  Meta,
  EngineDescription,
  NodeDescription,
  NodeStatus,
  ManagerStatus,
  NodeCertificate,
  NetworkAttachment,
  Node,
  UpdateStatus,
  VirtualIP,
  Endpoint,
  JobStatus,
  Service,
  PortStatus,
  ContainerStatus,
  TaskStatus,
  AssignedGenericResource,
  Task,
  Network,
  JoinTokens,
  ClusterRootCA,
  EncryptionKey,
  Cluster,
  Secret,
  Config,
  Extension,
  Resource,
  ObjectKinds,
  ObjectKind,
  StoreObject,
  StoreEvent,
} from './objects.ts'

export {
  ConstraintOperator,
  CONSTRAINT_KEYS,
  CONSTRAINT_LABEL_PREFIXES,
  parseConstraint,
  parseConstraints,
  formatConstraint,
  matchConstraints,
} from './constraint.ts'
export type { Constraint } from './constraint.ts'

export {
  DEFAULT_RESTART_POLICY,
  DEFAULT_UPDATE_CONFIG,
  DEFAULT_STOP_GRACE_PERIOD_MS,
  DEFAULT_HEARTBEAT_PERIOD_MS,
  DEFAULT_NODE_CERT_EXPIRY_MS,
  MIN_NODE_CERT_EXPIRY_MS,
  DEFAULT_TASK_HISTORY_RETENTION_LIMIT,
  DEFAULT_ADDRESS_POOL,
  DEFAULT_SUBNET_SIZE,
  INGRESS_PORT_RANGE,
  DEFAULT_RAFT_CONFIG,
  withServiceDefaults,
  withClusterDefaults,
} from './defaults.ts'
export { validateServiceSpec, validateServiceUpdate } from './validate-service.ts'
export {
  validateNodeSpec,
  validateSecretSpec,
  validateSecretUpdate,
  validateConfigSpec,
  validateConfigUpdate,
  validateNetworkSpec,
  validateClusterSpec,
} from './validate-objects.ts'

export { encodeObject, encodeObjectPooled, decodeObject, encodeSpec, decodeSpec, encodeStoreEvent, decodeStoreEvent } from './codec.ts'
export type { SpecKinds, SpecKind, EncodedShape } from './codec.ts'

export type {
  DispatcherApi,
  DispatcherStreamOptions,
  SessionRequest,
  SessionMessage,
  WeightedManager,
  HeartbeatRequest,
  HeartbeatResponse,
  TaskStatusUpdate,
  UpdateTaskStatusRequest,
  Assignment,
  AssignmentChange,
  AssignmentsMessage,
} from './dispatcher-api.ts'
export { encodeDispatcherMessage, encodeDispatcherMessagePooled, decodeDispatcherMessage, DISPATCHER_MESSAGE_TYPES } from './codec-dispatcher.ts'
export type {
  DispatcherMessages,
  DispatcherMessageType,
  AssignmentsRequest,
  UpdateTaskStatusResponse,
} from './codec-dispatcher.ts'
