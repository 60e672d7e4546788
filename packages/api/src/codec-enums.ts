/**
 * Explicit tables between the string (or numeric) enums of the TypeScript API and the proto
 * enums of package `swarmkit.v1`. Each table maps every TypeScript value to one proto value
 * name; the codec checks at load time that each proto enum (less its `*_UNSPECIFIED` value) is
 * covered exactly, so a value added on one side only fails loudly.
 *
 * @internal
 */
import type { EncryptionKey, IssuanceState, NodeState, Reachability, StoreEvent, UpdateState } from './objects.ts'
import type {
  ContainerSpec,
  EndpointMode,
  ExternalCA,
  IpamConfig,
  MountType,
  NodeAvailability,
  NodeMembership,
  NodeRole,
  PortProtocol,
  Privileges,
  PublishMode,
  RestartCondition,
  SchedulingStrategy,
  TaskSpec,
  UpdateFailureAction,
  UpdateOrder,
} from './specs.ts'
import { TaskState } from './task-state.ts'
import type { AssignmentChange, AssignmentsMessage } from './dispatcher-api.ts'

/** A TypeScript enum value as carried in an object. */
export type EnumTsValue = string | number

/** TypeScript value → proto enum value name, for one proto enum. */
export type EnumTable = ReadonlyMap<EnumTsValue, string>

const table = <T extends string>(rows: Readonly<Record<T, string>>): EnumTable => new Map(Object.entries<string>(rows))

type SeccompMode = NonNullable<Privileges['seccomp']>['mode']
type AppArmorMode = NonNullable<Privileges['appArmor']>['mode']
type Isolation = NonNullable<ContainerSpec['isolation']>
type ResourceType = NonNullable<TaskSpec['resourceReferences']>[number]['resourceType']
type IpamFamily = NonNullable<IpamConfig['family']>
type ExternalCAProtocol = ExternalCA['protocol']
type EncryptionAlgorithm = EncryptionKey['algorithm']
type StoreAction = StoreEvent['action']

/** Every proto enum of package `swarmkit.v1`, by full name (without the leading dot). */
export function enumTables(): ReadonlyMap<string, EnumTable> {
  return new Map<string, EnumTable>([
    [
      'swarmkit.v1.RestartCondition',
      table<RestartCondition>({ none: 'RESTART_CONDITION_NONE', 'on-failure': 'RESTART_CONDITION_ON_FAILURE', any: 'RESTART_CONDITION_ANY' }),
    ],
    [
      'swarmkit.v1.UpdateFailureAction',
      table<UpdateFailureAction>({
        pause: 'UPDATE_FAILURE_ACTION_PAUSE',
        continue: 'UPDATE_FAILURE_ACTION_CONTINUE',
        rollback: 'UPDATE_FAILURE_ACTION_ROLLBACK',
      }),
    ],
    ['swarmkit.v1.SchedulingStrategy', table<SchedulingStrategy>({ spread: 'SCHEDULING_STRATEGY_SPREAD', binpack: 'SCHEDULING_STRATEGY_BINPACK' })],
    ['swarmkit.v1.UpdateOrder', table<UpdateOrder>({ 'stop-first': 'UPDATE_ORDER_STOP_FIRST', 'start-first': 'UPDATE_ORDER_START_FIRST' })],
    [
      'swarmkit.v1.MountType',
      table<MountType>({
        bind: 'MOUNT_TYPE_BIND',
        volume: 'MOUNT_TYPE_VOLUME',
        tmpfs: 'MOUNT_TYPE_TMPFS',
        npipe: 'MOUNT_TYPE_NPIPE',
        cluster: 'MOUNT_TYPE_CLUSTER',
      }),
    ],
    [
      'swarmkit.v1.SeccompMode',
      table<SeccompMode>({ default: 'SECCOMP_MODE_DEFAULT', unconfined: 'SECCOMP_MODE_UNCONFINED', custom: 'SECCOMP_MODE_CUSTOM' }),
    ],
    ['swarmkit.v1.AppArmorMode', table<AppArmorMode>({ default: 'APP_ARMOR_MODE_DEFAULT', disabled: 'APP_ARMOR_MODE_DISABLED' })],
    [
      'swarmkit.v1.Isolation',
      table<Isolation>({ default: 'ISOLATION_DEFAULT', process: 'ISOLATION_PROCESS', hyperv: 'ISOLATION_HYPERV' }),
    ],
    [
      'swarmkit.v1.ResourceType',
      table<ResourceType>({ task: 'RESOURCE_TYPE_TASK', secret: 'RESOURCE_TYPE_SECRET', config: 'RESOURCE_TYPE_CONFIG' }),
    ],
    ['swarmkit.v1.PortProtocol', table<PortProtocol>({ tcp: 'PORT_PROTOCOL_TCP', udp: 'PORT_PROTOCOL_UDP', sctp: 'PORT_PROTOCOL_SCTP' })],
    ['swarmkit.v1.PublishMode', table<PublishMode>({ ingress: 'PUBLISH_MODE_INGRESS', host: 'PUBLISH_MODE_HOST' })],
    ['swarmkit.v1.EndpointMode', table<EndpointMode>({ vip: 'ENDPOINT_MODE_VIP', dnsrr: 'ENDPOINT_MODE_DNSRR' })],
    ['swarmkit.v1.NodeRole', table<NodeRole>({ worker: 'NODE_ROLE_WORKER', manager: 'NODE_ROLE_MANAGER' })],
    ['swarmkit.v1.NodeMembership', table<NodeMembership>({ pending: 'NODE_MEMBERSHIP_PENDING', accepted: 'NODE_MEMBERSHIP_ACCEPTED' })],
    [
      'swarmkit.v1.NodeAvailability',
      table<NodeAvailability>({ active: 'NODE_AVAILABILITY_ACTIVE', pause: 'NODE_AVAILABILITY_PAUSE', drain: 'NODE_AVAILABILITY_DRAIN' }),
    ],
    ['swarmkit.v1.IpamFamily', table<IpamFamily>({ ipv4: 'IPAM_FAMILY_IPV4', ipv6: 'IPAM_FAMILY_IPV6' })],
    ['swarmkit.v1.ExternalCaProtocol', table<ExternalCAProtocol>({ cfssl: 'EXTERNAL_CA_PROTOCOL_CFSSL' })],
    [
      'swarmkit.v1.NodeState',
      table<NodeState>({
        unknown: 'NODE_STATE_UNKNOWN',
        down: 'NODE_STATE_DOWN',
        ready: 'NODE_STATE_READY',
        disconnected: 'NODE_STATE_DISCONNECTED',
      }),
    ],
    [
      'swarmkit.v1.Reachability',
      table<Reachability>({
        unknown: 'REACHABILITY_UNKNOWN',
        unreachable: 'REACHABILITY_UNREACHABLE',
        reachable: 'REACHABILITY_REACHABLE',
      }),
    ],
    [
      'swarmkit.v1.IssuanceState',
      table<IssuanceState>({
        unknown: 'ISSUANCE_STATE_UNKNOWN',
        renew: 'ISSUANCE_STATE_RENEW',
        pending: 'ISSUANCE_STATE_PENDING',
        issued: 'ISSUANCE_STATE_ISSUED',
        failed: 'ISSUANCE_STATE_FAILED',
        rotate: 'ISSUANCE_STATE_ROTATE',
      }),
    ],
    [
      'swarmkit.v1.UpdateState',
      table<UpdateState>({
        unknown: 'UPDATE_STATE_UNKNOWN',
        updating: 'UPDATE_STATE_UPDATING',
        paused: 'UPDATE_STATE_PAUSED',
        completed: 'UPDATE_STATE_COMPLETED',
        rollback_started: 'UPDATE_STATE_ROLLBACK_STARTED',
        rollback_paused: 'UPDATE_STATE_ROLLBACK_PAUSED',
        rollback_completed: 'UPDATE_STATE_ROLLBACK_COMPLETED',
      }),
    ],
    // TaskState is numeric: each value maps to TASK_STATE_<NAME>, whose proto number equals it.
    ['swarmkit.v1.TaskState', new Map(Object.entries(TaskState).map(([name, value]) => [value, `TASK_STATE_${name}`]))],
    ['swarmkit.v1.EncryptionAlgorithm', table<EncryptionAlgorithm>({ aes_128_gcm: 'ENCRYPTION_ALGORITHM_AES_128_GCM' })],
    [
      'swarmkit.v1.StoreAction',
      table<StoreAction>({
        create: 'STORE_ACTION_CREATE',
        update: 'STORE_ACTION_UPDATE',
        delete: 'STORE_ACTION_DELETE',
        commit: 'STORE_ACTION_COMMIT',
      }),
    ],
    ['swarmkit.v1.AssignmentAction', table<AssignmentChange['action']>({ update: 'ASSIGNMENT_ACTION_UPDATE', remove: 'ASSIGNMENT_ACTION_REMOVE' })],
    [
      'swarmkit.v1.AssignmentsMessageType',
      table<AssignmentsMessage['type']>({ complete: 'ASSIGNMENTS_MESSAGE_TYPE_COMPLETE', incremental: 'ASSIGNMENTS_MESSAGE_TYPE_INCREMENTAL' }),
    ],
  ])
}
