import { describe, expect, it } from 'vitest'
import {
  DEFAULT_ADDRESS_POOL,
  DEFAULT_HEARTBEAT_PERIOD_MS,
  DEFAULT_NODE_CERT_EXPIRY_MS,
  DEFAULT_RAFT_CONFIG,
  DEFAULT_RESTART_POLICY,
  DEFAULT_STOP_GRACE_PERIOD_MS,
  DEFAULT_SUBNET_SIZE,
  DEFAULT_TASK_HISTORY_RETENTION_LIMIT,
  DEFAULT_UPDATE_CONFIG,
  INGRESS_PORT_RANGE,
  MIN_NODE_CERT_EXPIRY_MS,
  withClusterDefaults,
  withServiceDefaults,
  type ClusterSpec,
  type ServiceSpec,
  type UpdateConfig,
} from '../src/index.ts'

/** Freezes `value` and everything reachable from it, so that any mutation throws. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

const minimal: ServiceSpec = { annotations: { name: 'web' }, task: { container: { image: 'nginx:1.27' } }, mode: { replicated: {} } }

const updateDefaults: Required<UpdateConfig> = { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'stop-first' }

describe('default constants', () => {
  it('have SwarmKit’s values', () => {
    expect(DEFAULT_RESTART_POLICY).toEqual({ condition: 'any', delayMs: 5000, maxAttempts: 0, windowMs: 0 })
    expect(DEFAULT_UPDATE_CONFIG).toEqual(updateDefaults)
    expect(DEFAULT_STOP_GRACE_PERIOD_MS).toBe(10_000)
    expect(DEFAULT_HEARTBEAT_PERIOD_MS).toBe(5000)
    expect(DEFAULT_NODE_CERT_EXPIRY_MS).toBe(7_776_000_000)
    expect(MIN_NODE_CERT_EXPIRY_MS).toBe(3_600_000)
    expect(DEFAULT_TASK_HISTORY_RETENTION_LIMIT).toBe(5)
    expect(DEFAULT_ADDRESS_POOL).toBe('10.0.0.0/8')
    expect(DEFAULT_SUBNET_SIZE).toBe(24)
    expect(INGRESS_PORT_RANGE).toEqual({ start: 30000, end: 32767 })
    expect(DEFAULT_RAFT_CONFIG).toEqual({
      snapshotInterval: 10_000,
      keepOldSnapshots: 0,
      logEntriesForSlowFollowers: 500,
      heartbeatTick: 1,
      electionTick: 10,
    })
  })

  it('are frozen', () => {
    for (const c of [DEFAULT_RESTART_POLICY, DEFAULT_UPDATE_CONFIG, INGRESS_PORT_RANGE, DEFAULT_RAFT_CONFIG]) {
      expect(Object.isFrozen(c)).toBe(true)
    }
  })
})

describe('withServiceDefaults', () => {
  it('fills every default of a minimal replicated service', () => {
    expect(withServiceDefaults(minimal)).toEqual({
      annotations: { name: 'web' },
      mode: { replicated: { replicas: 1 } },
      task: {
        container: { image: 'nginx:1.27', stopGracePeriodMs: 10_000 },
        restart: { condition: 'any', delayMs: 5000, maxAttempts: 0, windowMs: 0 },
      },
      update: updateDefaults,
      rollback: updateDefaults,
      endpoint: { mode: 'vip' },
    })
  })

  it('fills protocol and publish mode of each port', () => {
    const spec: ServiceSpec = { ...minimal, endpoint: { ports: [{ targetPort: 80 }, { targetPort: 53, protocol: 'udp', publishMode: 'host' }] } }
    expect(withServiceDefaults(spec).endpoint).toEqual({
      mode: 'vip',
      ports: [
        { targetPort: 80, protocol: 'tcp', publishMode: 'ingress' },
        { targetPort: 53, protocol: 'udp', publishMode: 'host' },
      ],
    })
  })

  it('fills only the absent fields of a partial restart policy and update config', () => {
    const spec: ServiceSpec = {
      ...minimal,
      task: { ...minimal.task, restart: { condition: 'none' } },
      update: { parallelism: 0, order: 'start-first' },
      rollback: { failureAction: 'continue', maxFailureRatio: 0.5 },
    }
    const out = withServiceDefaults(spec)
    expect(out.task.restart).toEqual({ condition: 'none', delayMs: 5000, maxAttempts: 0, windowMs: 0 })
    expect(out.update).toEqual({ ...updateDefaults, parallelism: 0, order: 'start-first' })
    expect(out.rollback).toEqual({ ...updateDefaults, failureAction: 'continue', maxFailureRatio: 0.5 })
  })

  it('keeps explicit zero and non-default values', () => {
    const spec: ServiceSpec = {
      annotations: { name: 'api', labels: { tier: 'back' } },
      mode: { replicated: { replicas: 0 } },
      task: { container: { image: 'api:2', stopGracePeriodMs: 0 }, restart: { condition: 'on-failure', delayMs: 0, maxAttempts: 3, windowMs: 60_000 } },
      update: { ...updateDefaults, parallelism: 2, delayMs: 1000, monitorMs: 0 },
      endpoint: { mode: 'dnsrr' },
    }
    const out = withServiceDefaults(spec)
    expect(out.mode).toEqual({ replicated: { replicas: 0 } })
    expect(out.task.container).toEqual({ image: 'api:2', stopGracePeriodMs: 0 })
    expect(out.task.restart).toEqual({ condition: 'on-failure', delayMs: 0, maxAttempts: 3, windowMs: 60_000 })
    expect(out.update).toEqual({ ...updateDefaults, parallelism: 2, delayMs: 1000, monitorMs: 0 })
    expect(out.endpoint).toEqual({ mode: 'dnsrr' })
    expect(out.annotations).toEqual({ name: 'api', labels: { tier: 'back' } })
  })

  it('gives a replicated job one task at a time and as many completions as concurrent tasks', () => {
    const job = (replicatedJob: { maxConcurrent?: number; totalCompletions?: number }): ServiceSpec => ({ ...minimal, mode: { replicatedJob } })
    expect(withServiceDefaults(job({})).mode).toEqual({ replicatedJob: { maxConcurrent: 1, totalCompletions: 1 } })
    expect(withServiceDefaults(job({ maxConcurrent: 3 })).mode).toEqual({ replicatedJob: { maxConcurrent: 3, totalCompletions: 3 } })
    expect(withServiceDefaults(job({ totalCompletions: 10 })).mode).toEqual({ replicatedJob: { maxConcurrent: 1, totalCompletions: 10 } })
  })

  it('gives jobs no update or rollback config', () => {
    for (const mode of [{ replicatedJob: {} }, { globalJob: {} }] as const) {
      const out = withServiceDefaults({ ...minimal, mode })
      expect(out.update).toBeUndefined()
      expect(out.rollback).toBeUndefined()
      expect('update' in out).toBe(false)
    }
  })

  it('leaves global modes and non-container runtimes without container defaults', () => {
    const out = withServiceDefaults({ ...minimal, mode: { global: {} }, task: { generic: { kind: 'vm' } } })
    expect(out.mode).toEqual({ global: {} })
    expect(out.task).toEqual({ generic: { kind: 'vm' }, restart: DEFAULT_RESTART_POLICY })
  })

  it('does not mutate its input and returns new objects', () => {
    const spec: ServiceSpec = deepFreeze({
      ...minimal,
      task: { container: { image: 'nginx:1.27', mounts: [{ type: 'tmpfs', target: '/tmp' }] }, restart: { delayMs: 1 } },
      update: { parallelism: 3 },
      endpoint: { ports: [{ targetPort: 80 }] },
    })
    const before = structuredClone(spec)
    const out = withServiceDefaults(spec)
    expect(spec).toEqual(before)
    expect(out).not.toBe(spec)
    expect(out.task).not.toBe(spec.task)
    expect(out.task.container).not.toBe(spec.task.container)
    expect(out.task.restart).not.toBe(spec.task.restart)
    expect(out.update).not.toBe(spec.update)
    expect(out.endpoint?.ports?.[0]).not.toBe(spec.endpoint?.ports?.[0])
  })

  it('is idempotent', () => {
    const once = withServiceDefaults({ ...minimal, endpoint: { ports: [{ targetPort: 80 }] } })
    expect(withServiceDefaults(once)).toEqual(once)
  })

  it('does not share the default constants with its result', () => {
    const out = withServiceDefaults(minimal)
    expect(out.task.restart).not.toBe(DEFAULT_RESTART_POLICY)
    expect(out.update).not.toBe(DEFAULT_UPDATE_CONFIG)
    expect(Object.isFrozen(out.update)).toBe(false)
  })
})

describe('withClusterDefaults', () => {
  it('fills every default of a bare cluster spec', () => {
    expect(withClusterDefaults({ annotations: { name: 'default' } })).toEqual({
      annotations: { name: 'default' },
      orchestration: { taskHistoryRetentionLimit: 5 },
      dispatcher: { heartbeatPeriodMs: 5000 },
      caConfig: { nodeCertExpiryMs: 7_776_000_000 },
      raft: { snapshotInterval: 10_000, keepOldSnapshots: 0, logEntriesForSlowFollowers: 500, heartbeatTick: 1, electionTick: 10 },
    })
  })

  it('keeps explicit values and untouched sections, without mutating its input', () => {
    const spec: ClusterSpec = deepFreeze({
      annotations: { name: 'default' },
      orchestration: { taskHistoryRetentionLimit: -1 },
      raft: { electionTick: 20, keepOldSnapshots: 2 },
      caConfig: { forceRotate: 1 },
      taskDefaults: { logDriver: { name: 'json-file' } },
      encryptionConfig: { autoLockManagers: true },
    })
    const before = structuredClone(spec)
    const out = withClusterDefaults(spec)
    expect(spec).toEqual(before)
    expect(out).toEqual({
      annotations: { name: 'default' },
      orchestration: { taskHistoryRetentionLimit: -1 },
      dispatcher: { heartbeatPeriodMs: 5000 },
      caConfig: { forceRotate: 1, nodeCertExpiryMs: 7_776_000_000 },
      raft: { snapshotInterval: 10_000, keepOldSnapshots: 2, logEntriesForSlowFollowers: 500, heartbeatTick: 1, electionTick: 20 },
      taskDefaults: { logDriver: { name: 'json-file' } },
      encryptionConfig: { autoLockManagers: true },
    })
  })
})
