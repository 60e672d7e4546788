/**
 * Spec defaults, as SwarmKit applies them (api/defaults/service.go, ca/config.go,
 * manager/dispatcher, manager/state/raft, allocator). `withServiceDefaults` and
 * `withClusterDefaults` return new objects and fill only absent (`undefined`) fields.
 */
import type { ClusterSpec, RaftConfig, RestartPolicy, ServiceMode, ServiceSpec, TaskSpec, UpdateConfig, EndpointSpec } from './specs.ts'

/** Restart policy of a task whose spec sets none: restart on any exit after 5 s, without limit. */
export const DEFAULT_RESTART_POLICY: Readonly<Required<RestartPolicy>> = Object.freeze({
  condition: 'any',
  delayMs: 5000,
  maxAttempts: 0,
  windowMs: 0,
})

/** Update (and rollback) parameters of a service whose spec sets none. */
export const DEFAULT_UPDATE_CONFIG: Readonly<Required<UpdateConfig>> = Object.freeze({
  parallelism: 1,
  delayMs: 0,
  failureAction: 'pause',
  monitorMs: 5000,
  maxFailureRatio: 0,
  order: 'stop-first',
})

/** Time a container gets between the stop signal and SIGKILL: 10 s. */
export const DEFAULT_STOP_GRACE_PERIOD_MS = 10_000

/** Interval at which agents heartbeat to the dispatcher: 5 s. */
export const DEFAULT_HEARTBEAT_PERIOD_MS = 5000

/** Validity of node certificates: 90 days (2160 h). */
export const DEFAULT_NODE_CERT_EXPIRY_MS = 90 * 24 * 60 * 60 * 1000

/** Shortest allowed validity of node certificates: 1 hour. */
export const MIN_NODE_CERT_EXPIRY_MS = 60 * 60 * 1000

/** Finished tasks kept per slot (or per node for global services). */
export const DEFAULT_TASK_HISTORY_RETENTION_LIMIT = 5

/** Pool overlay subnets are carved from when a network names none. */
export const DEFAULT_ADDRESS_POOL = '10.0.0.0/8'

/** Prefix length of the subnets carved from {@link DEFAULT_ADDRESS_POOL}. */
export const DEFAULT_SUBNET_SIZE = 24

/** Published ports the cluster chooses from for ingress ports left at 0 (inclusive). */
export const INGRESS_PORT_RANGE: Readonly<{ start: number; end: number }> = Object.freeze({ start: 30000, end: 32767 })

/** Raft settings of a cluster whose spec sets none. */
export const DEFAULT_RAFT_CONFIG: Readonly<Required<RaftConfig>> = Object.freeze({
  snapshotInterval: 10_000,
  keepOldSnapshots: 0,
  logEntriesForSlowFollowers: 500,
  heartbeatTick: 1,
  electionTick: 10,
})

/** A copy of `value` (or of nothing) with every `undefined` key of `defaults` taken from `defaults`. */
function fill<T extends object>(value: T | undefined, defaults: Readonly<Partial<T>>): T {
  const out: Record<string, unknown> = { ...value }
  for (const [k, d] of Object.entries(defaults)) if (out[k] === undefined) out[k] = d
  return out as T
}

function isJob(mode: ServiceMode): boolean {
  return 'replicatedJob' in mode || 'globalJob' in mode
}

function modeWithDefaults(mode: ServiceMode): ServiceMode {
  if ('replicated' in mode) return { replicated: { ...mode.replicated, replicas: mode.replicated.replicas ?? 1 } }
  if ('replicatedJob' in mode) {
    const maxConcurrent = mode.replicatedJob.maxConcurrent ?? 1
    return { replicatedJob: { ...mode.replicatedJob, maxConcurrent, totalCompletions: mode.replicatedJob.totalCompletions ?? maxConcurrent } }
  }
  return mode
}

function taskWithDefaults(task: TaskSpec): TaskSpec {
  const out: TaskSpec = { ...task, restart: fill(task.restart, DEFAULT_RESTART_POLICY) }
  if (task.container !== undefined) {
    out.container = { ...task.container, stopGracePeriodMs: task.container.stopGracePeriodMs ?? DEFAULT_STOP_GRACE_PERIOD_MS }
  }
  return out
}

function endpointWithDefaults(endpoint: EndpointSpec | undefined): EndpointSpec {
  const out: EndpointSpec = { ...endpoint, mode: endpoint?.mode ?? 'vip' }
  if (endpoint?.ports !== undefined) {
    out.ports = endpoint.ports.map((p) => ({ ...p, protocol: p.protocol ?? 'tcp', publishMode: p.publishMode ?? 'ingress' }))
  }
  return out
}

/**
 * Returns `spec` with SwarmKit's defaults filled in; the input is not modified and explicit
 * values are kept:
 * - `mode.replicated.replicas` 1; `mode.replicatedJob.maxConcurrent` 1 and `totalCompletions`
 *   equal to `maxConcurrent`;
 * - `task.restart` fields from {@link DEFAULT_RESTART_POLICY};
 * - `update` and `rollback` fields from {@link DEFAULT_UPDATE_CONFIG} (not for jobs, which
 *   have no rolling updates);
 * - `task.container.stopGracePeriodMs` {@link DEFAULT_STOP_GRACE_PERIOD_MS};
 * - `endpoint.mode` `vip`, and each port's `protocol` `tcp` and `publishMode` `ingress`.
 */
export function withServiceDefaults(spec: ServiceSpec): ServiceSpec {
  const out: ServiceSpec = {
    ...spec,
    mode: modeWithDefaults(spec.mode),
    task: taskWithDefaults(spec.task),
    endpoint: endpointWithDefaults(spec.endpoint),
  }
  if (!isJob(spec.mode)) {
    out.update = fill(spec.update, DEFAULT_UPDATE_CONFIG)
    out.rollback = fill(spec.rollback, DEFAULT_UPDATE_CONFIG)
  }
  return out
}

/**
 * Returns `spec` with the cluster defaults filled in; the input is not modified and explicit
 * values are kept: `orchestration.taskHistoryRetentionLimit` 5, `dispatcher.heartbeatPeriodMs`
 * 5000, `caConfig.nodeCertExpiryMs` 90 days and the `raft` fields of {@link DEFAULT_RAFT_CONFIG}.
 */
export function withClusterDefaults(spec: ClusterSpec): ClusterSpec {
  return {
    ...spec,
    orchestration: fill(spec.orchestration, { taskHistoryRetentionLimit: DEFAULT_TASK_HISTORY_RETENTION_LIMIT }),
    dispatcher: fill(spec.dispatcher, { heartbeatPeriodMs: DEFAULT_HEARTBEAT_PERIOD_MS }),
    caConfig: fill(spec.caConfig, { nodeCertExpiryMs: DEFAULT_NODE_CERT_EXPIRY_MS }),
    raft: fill(spec.raft, DEFAULT_RAFT_CONFIG),
  }
}
