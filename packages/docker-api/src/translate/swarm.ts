/**
 * The cluster object as Docker's `swarm.Swarm` (`GET /swarm`, and `ClusterInfo` inside `/info`),
 * and Docker's `swarm.Spec` (the body of `POST /swarm/update`) as the api's cluster spec.
 *
 * Durations are nanoseconds in Docker's JSON and milliseconds in the api. As Docker's daemon
 * merges an update, a zero duration or count keeps the current value.
 *
 * @module
 */
import { InvalidArgumentError, type Cluster, type ClusterSpec, type JoinTokens } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { dockerMeta, type DockerVersion } from './meta.ts'
import { tlsInfoOf, type DockerTlsInfo } from './swarm-tls.ts'
import { annotationsFrom, checkFields, objectAt, optBool, optString, optStringMap, optUint } from './swarm-json.ts'

const NS_PER_MS = 1_000_000

/** Docker's `swarm.Spec`. */
export interface DockerSwarmSpec {
  Name: string
  Labels: Record<string, string>
  Orchestration: { TaskHistoryRetentionLimit?: number }
  Raft: { SnapshotInterval: number; KeepOldSnapshots?: number; LogEntriesForSlowFollowers: number; ElectionTick: number; HeartbeatTick: number }
  Dispatcher: { HeartbeatPeriod: number }
  CAConfig: { NodeCertExpiry: number; ForceRotate?: number }
  TaskDefaults: { LogDriver?: { Name: string; Options?: Record<string, string> } }
  EncryptionConfig: { AutoLockManagers: boolean }
}

/** Docker's `swarm.ClusterInfo` (the cluster without join tokens, as `/info` shows it). */
export interface DockerClusterInfo {
  ID: string
  Version: DockerVersion
  CreatedAt: string
  UpdatedAt: string
  Spec: DockerSwarmSpec
  TLSInfo: DockerTlsInfo
  RootRotationInProgress: boolean
  DefaultAddrPool: string[]
  SubnetSize: number
  DataPathPort: number
}

/** Docker's `swarm.Swarm`: the cluster info with its join tokens. */
export interface DockerSwarm extends DockerClusterInfo {
  JoinTokens: { Worker: string; Manager: string }
}

/** The default address pool and subnet size when the cluster records none (SwarmKit's). */
const DEFAULT_POOL = ['10.0.0.0/8']
const DEFAULT_SUBNET_SIZE = 24
/** SwarmKit's VXLAN port when the cluster records none. */
const DEFAULT_DATA_PATH_PORT = 4789

/** Docker's spec of the api's cluster spec. */
export function swarmSpecToDocker(spec: Frozen<ClusterSpec>): DockerSwarmSpec {
  const raft = spec.raft ?? {}
  const ca = spec.caConfig ?? {}
  const log = spec.taskDefaults?.logDriver
  const limit = spec.orchestration?.taskHistoryRetentionLimit
  return {
    Name: spec.annotations.name,
    Labels: { ...(spec.annotations.labels ?? {}) },
    Orchestration: limit === undefined ? {} : { TaskHistoryRetentionLimit: limit },
    Raft: {
      SnapshotInterval: raft.snapshotInterval ?? 0,
      ...(raft.keepOldSnapshots === undefined ? {} : { KeepOldSnapshots: raft.keepOldSnapshots }),
      LogEntriesForSlowFollowers: raft.logEntriesForSlowFollowers ?? 0,
      ElectionTick: raft.electionTick ?? 0,
      HeartbeatTick: raft.heartbeatTick ?? 0,
    },
    Dispatcher: { HeartbeatPeriod: (spec.dispatcher?.heartbeatPeriodMs ?? 0) * NS_PER_MS },
    CAConfig: { NodeCertExpiry: (ca.nodeCertExpiryMs ?? 0) * NS_PER_MS, ...(ca.forceRotate === undefined || ca.forceRotate === 0 ? {} : { ForceRotate: ca.forceRotate }) },
    TaskDefaults: log === undefined ? {} : { LogDriver: { Name: log.name, ...(log.options === undefined ? {} : { Options: { ...log.options } }) } },
    EncryptionConfig: { AutoLockManagers: spec.encryptionConfig?.autoLockManagers ?? false },
  }
}

/** The cluster as Docker's `ClusterInfo`. */
export function clusterInfoToDocker(cluster: Frozen<Cluster>): DockerClusterInfo {
  return {
    ...dockerMeta(cluster.id, cluster.meta),
    Spec: swarmSpecToDocker(cluster.spec),
    TLSInfo: tlsInfoOf(cluster.rootCa.caCert),
    RootRotationInProgress: cluster.rootCa.rootRotation !== undefined,
    DefaultAddrPool: [...(cluster.defaultAddressPool ?? DEFAULT_POOL)],
    SubnetSize: cluster.subnetSize ?? DEFAULT_SUBNET_SIZE,
    DataPathPort: cluster.vxlanUdpPort ?? DEFAULT_DATA_PATH_PORT,
  }
}

/** The cluster as Docker's `Swarm` (with the join tokens). */
export function swarmToDocker(cluster: Frozen<Cluster>, tokens: Frozen<JoinTokens>): DockerSwarm {
  return { ...clusterInfoToDocker(cluster), JoinTokens: { Worker: tokens.worker, Manager: tokens.manager } }
}

/** Nanoseconds as whole milliseconds; zero or absent: undefined (keep the current value). */
function nsToMs(v: unknown, path: string): number | undefined {
  const ns = optUint(v, path)
  if (ns === undefined || ns === 0) return undefined
  const ms = Math.round(ns / NS_PER_MS)
  if (ms * NS_PER_MS !== ns) throw new InvalidArgumentError(path, `${ns}ns is not a whole number of milliseconds`)
  return ms
}

function nonZero(v: number | undefined, current: number | undefined): number | undefined {
  return v === undefined || v === 0 ? current : v
}

const NOT_SUPPORTED_CA = {
  ExternalCAs: 'no external CA signer: the cluster signs with its own root CA',
  SigningCACert: 'a root CA of your own is given at `swarmkit node start --init`, not through an update',
  SigningCAKey: 'a root CA of your own is given at `swarmkit node start --init`, not through an update',
} as const

/**
 * The api's cluster spec from Docker's `swarm.Spec`, merged onto `current` as Docker's daemon
 * merges it: zero durations and counts keep the current value; labels, the task history limit,
 * the log driver and autolock are replaced. Refuses unknown fields naming them.
 */
export function swarmSpecFromDocker(body: unknown, current: Frozen<ClusterSpec>): ClusterSpec {
  const obj = objectAt(body, 'Spec')
  checkFields(obj, '', ['Name', 'Labels', 'Orchestration', 'Raft', 'Dispatcher', 'CAConfig', 'TaskDefaults', 'EncryptionConfig'])
  const annotations = annotationsFrom(obj, '')
  const orch = objectAt(obj['Orchestration'], 'Orchestration')
  checkFields(orch, 'Orchestration', ['TaskHistoryRetentionLimit'])
  const raft = objectAt(obj['Raft'], 'Raft')
  checkFields(raft, 'Raft', ['SnapshotInterval', 'KeepOldSnapshots', 'LogEntriesForSlowFollowers', 'ElectionTick', 'HeartbeatTick'])
  const disp = objectAt(obj['Dispatcher'], 'Dispatcher')
  checkFields(disp, 'Dispatcher', ['HeartbeatPeriod'])
  const ca = objectAt(obj['CAConfig'], 'CAConfig')
  checkFields(ca, 'CAConfig', ['NodeCertExpiry', 'ForceRotate'], NOT_SUPPORTED_CA)
  const defaults = objectAt(obj['TaskDefaults'], 'TaskDefaults')
  checkFields(defaults, 'TaskDefaults', ['LogDriver'])
  const enc = objectAt(obj['EncryptionConfig'], 'EncryptionConfig')
  checkFields(enc, 'EncryptionConfig', ['AutoLockManagers'])

  const curRaft = current.raft ?? {}
  const limit = optUint(orch['TaskHistoryRetentionLimit'], 'Orchestration.TaskHistoryRetentionLimit') ?? current.orchestration?.taskHistoryRetentionLimit
  const strategy = current.orchestration?.schedulingStrategy
  const orchestration = { ...(limit === undefined ? {} : { taskHistoryRetentionLimit: limit }), ...(strategy === undefined ? {} : { schedulingStrategy: strategy }) }
  const keepOld = optUint(raft['KeepOldSnapshots'], 'Raft.KeepOldSnapshots') ?? curRaft.keepOldSnapshots
  const raftOut = {
    ...dropUndefined({
      snapshotInterval: nonZero(optUint(raft['SnapshotInterval'], 'Raft.SnapshotInterval'), curRaft.snapshotInterval),
      keepOldSnapshots: keepOld,
      logEntriesForSlowFollowers: nonZero(optUint(raft['LogEntriesForSlowFollowers'], 'Raft.LogEntriesForSlowFollowers'), curRaft.logEntriesForSlowFollowers),
      heartbeatTick: nonZero(optUint(raft['HeartbeatTick'], 'Raft.HeartbeatTick'), curRaft.heartbeatTick),
      electionTick: nonZero(optUint(raft['ElectionTick'], 'Raft.ElectionTick'), curRaft.electionTick),
    }),
  }
  const heartbeat = nsToMs(disp['HeartbeatPeriod'], 'Dispatcher.HeartbeatPeriod') ?? current.dispatcher?.heartbeatPeriodMs
  const curCa = current.caConfig ?? {}
  const expiry = nsToMs(ca['NodeCertExpiry'], 'CAConfig.NodeCertExpiry') ?? curCa.nodeCertExpiryMs
  const forceRotate = optUint(ca['ForceRotate'], 'CAConfig.ForceRotate') ?? curCa.forceRotate
  const { nodeCertExpiryMs: _e, forceRotate: _f, ...caRest } = curCa
  const caConfig = { ...caRest, ...dropUndefined({ nodeCertExpiryMs: expiry, forceRotate }) }
  const logDriver = logDriverFrom(defaults['LogDriver'])
  const autoLock = optBool(enc['AutoLockManagers'], 'EncryptionConfig.AutoLockManagers') ?? false

  const spec: ClusterSpec = { annotations: current.annotations.indices === undefined ? annotations : { ...annotations, indices: current.annotations.indices } }
  if (Object.keys(orchestration).length > 0) spec.orchestration = orchestration
  if (Object.keys(raftOut).length > 0) spec.raft = raftOut
  if (heartbeat !== undefined) spec.dispatcher = { heartbeatPeriodMs: heartbeat }
  if (Object.keys(caConfig).length > 0) spec.caConfig = caConfig
  if (logDriver !== undefined) spec.taskDefaults = { logDriver }
  if (autoLock || current.encryptionConfig !== undefined) spec.encryptionConfig = { autoLockManagers: autoLock }
  return spec
}

function logDriverFrom(v: unknown): { name: string; options?: Record<string, string> } | undefined {
  const d = objectAt(v, 'TaskDefaults.LogDriver')
  checkFields(d, 'TaskDefaults.LogDriver', ['Name', 'Options'])
  const name = optString(d['Name'], 'TaskDefaults.LogDriver.Name') ?? ''
  const options = optStringMap(d['Options'], 'TaskDefaults.LogDriver.Options')
  if (name === '') {
    if (options !== undefined) throw new InvalidArgumentError('TaskDefaults.LogDriver.Name', 'a log driver with options needs a name')
    return undefined
  }
  return options === undefined ? { name } : { name, options }
}

function dropUndefined<T extends Record<string, number | undefined>>(o: T): { [K in keyof T]?: number } {
  const out: { [K in keyof T]?: number } = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k as keyof T] = v
  return out
}
