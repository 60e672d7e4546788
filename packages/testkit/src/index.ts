/**
 * Deterministic test tools for swarmkit-ts: {@link ManualClock} (virtual time),
 * {@link SeededRandom} (a reproducible `Random`), and fast-check arbitraries producing valid,
 * canonical specs and objects of every kind — plus generators of specs that break exactly one
 * validation rule, with the field the validator must name.
 *
 * @packageDocumentation
 */

export { ManualClock } from './manual-clock.ts'
export type { RunAllOptions } from './manual-clock.ts'
export { SeededRandom } from './seeded-random.ts'

export {
  MAX_ITEMS,
  arbUint64,
  arbRaftMemberId,
  arbVersion,
  arbMeta,
  arbTimestamp,
  arbId,
  arbDnsLabel,
  arbSecretName,
  arbLabelKey,
  arbLabels,
  arbAnnotations,
  arbAnnotationsNamed,
  arbDriver,
  arbIpv4,
  arbIpv4Cidr,
} from './arbitraries/primitives.ts'
export {
  arbImage,
  arbMount,
  arbFileTarget,
  arbSecretReference,
  arbConfigReference,
  arbHealthConfig,
  arbContainerSpec,
} from './arbitraries/container-spec.ts'
export {
  arbGenericResource,
  arbResources,
  arbResourceRequirements,
  arbRestartPolicy,
  arbConstraint,
  arbPlacementPreference,
  arbPlacement,
  arbNetworkAttachmentConfig,
  arbTaskSpec,
} from './arbitraries/task-spec.ts'
export { arbServiceMode, arbJobSchedule, arbUpdateConfig, arbPortConfig, arbEndpointSpec, arbServiceSpec } from './arbitraries/service-spec.ts'
export type { ServiceSpecArbitraryOptions } from './arbitraries/service-spec.ts'
export { arbNodeSpec } from './arbitraries/node-spec.ts'
export { arbIpamPool, arbIpamConfig, arbNetworkSpec } from './arbitraries/network-spec.ts'
export { arbSecretSpec, arbConfigSpec } from './arbitraries/secret-config-spec.ts'
export { arbClusterSpec } from './arbitraries/cluster-spec.ts'
export { arbNetworkAttachment, arbEndpoint, arbNode, arbService, arbTask, arbNetwork } from './arbitraries/objects.ts'
export { arbEncryptionKey, arbCluster, arbSecret, arbConfig, arbExtension, arbResource } from './arbitraries/cluster-objects.ts'
export { arbObject, arbAnyObject, arbStoreEvent } from './arbitraries/store.ts'

export type { InvalidSpec } from './arbitraries/invalid-common.ts'
export { arbInvalidDnsLabel, arbInvalidServiceSpec } from './arbitraries/invalid-service-spec.ts'
export {
  arbInvalidSecretName,
  arbInvalidSecretSpec,
  arbInvalidConfigSpec,
  arbInvalidNodeSpec,
  arbInvalidNetworkSpec,
  arbInvalidClusterSpec,
} from './arbitraries/invalid-specs.ts'

export { checkLinearizability } from './linearizability.ts'
export type {
  Operation,
  Model,
  StepResult,
  CheckLinearizabilityOptions,
  LinearizabilityResult,
  Linearizable,
  NotLinearizable,
  LinearizabilityUnknown,
} from './linearizability-types.ts'
export { kvModel } from './linearizability-kv.ts'
export type { KvInput, KvOutput, KvState } from './linearizability-kv.ts'

export { MemoryNetwork } from './memory-network.ts'
export { EndpointState } from './memory-network-endpoint.ts'
export type { MemoryEndpoint } from './memory-network-endpoint.ts'
export { DropReason } from './memory-network-types.ts'
export type {
  NetworkMessage,
  DelayRange,
  LinkFaults,
  MemoryEndpointHandlers,
  NetworkStats,
  NetworkEvent,
  MemoryNetworkInit,
  MessageOrigin,
} from './memory-network-types.ts'

export { inProcessDispatcher } from './dispatcher-binding.ts'
export type {
  DispatcherBinding,
  DispatcherFaults,
  DispatcherFaultControl,
  DispatcherBindingStats,
  DisconnectOptions,
  InProcessDispatcherInit,
} from './dispatcher-binding.ts'
export {
  arbWeightedManager,
  arbSessionRequest,
  arbSessionMessage,
  arbTaskStatusUpdate,
  arbUpdateTaskStatusRequest,
  arbAssignment,
  arbAssignmentChange,
  arbAssignmentsMessage,
  arbDispatcherMessage,
} from './dispatcher-binding-arbitraries.ts'
