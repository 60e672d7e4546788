/**
 * fast-check arbitraries of a simulated cluster's life: control operations, faults, and bounded
 * schedules mixing both. Sizes are kept small on purpose (a property runs hundreds of schedules):
 * at most 20 replicas a service, reservations that fit several tasks a node.
 *
 * @module
 */
import fc from 'fast-check'
import type { ClusterFault, ClusterOperation, ClusterSchedule, ClusterStep } from './schedule.ts'

/** Options of {@link arbClusterOperation}. */
export interface ClusterOperationArbitraryOptions {
  /** Largest replica count created or scaled to. @default 6 */
  readonly maxReplicas?: number
  /** Include global services. @default true */
  readonly global?: boolean
  /** Include CPU reservations (0.1 or 0.5 CPU a task). @default true */
  readonly reservations?: boolean
  /** Longest `advance`, in virtual ms. @default 30_000 */
  readonly maxAdvanceMs?: number
}

/** Options of {@link arbClusterFault}. */
export interface ClusterFaultArbitraryOptions {
  /** Include crashes and restarts of managers (the leader). @default true */
  readonly managerFaults?: boolean
  /** Include partitions. @default true */
  readonly partitions?: boolean
  /** Include slow Raft disks. @default true */
  readonly slowDisks?: boolean
  /** Include task failures. @default true */
  readonly taskFailures?: boolean
}

/** Options of {@link arbClusterSchedule}: those of both arbitraries, and the length. */
export interface ClusterScheduleArbitraryOptions extends ClusterOperationArbitraryOptions, ClusterFaultArbitraryOptions {
  /** Fewest steps. @default 1 */
  readonly minLength?: number
  /** Most steps. @default 12 */
  readonly maxLength?: number
  /** Include faults at all (an operations-only schedule otherwise). @default true */
  readonly faults?: boolean
  /**
   * Start with the creation of a replicated service with at least one replica (then an advance
   * of a second), so that updates, rollbacks and task failures have something to act on; it
   * comes on top of `minLength`..`maxLength`. @default true
   */
  readonly leadingService?: boolean
}

const index = fc.nat({ max: 15 })
const failureAction = fc.constantFrom('pause' as const, 'continue' as const, 'rollback' as const)

/** A control operation: create, update, scale, roll back, remove or read a service; drain, pause or activate a node; advance time. */
export function arbClusterOperation(options: ClusterOperationArbitraryOptions = {}): fc.Arbitrary<ClusterOperation> {
  const maxReplicas = options.maxReplicas ?? 6
  const replicas = fc.integer({ min: 0, max: maxReplicas })
  // Max replicas per node only for replicated services, as Docker's CLI allows.
  const created: fc.Arbitrary<ClusterOperation> = fc.record({
    kind: fc.constant('create-service' as const),
    replicas: options.global === false ? replicas : fc.oneof({ weight: 4, arbitrary: replicas }, { weight: 1, arbitrary: fc.constant(null) }),
    reserveNanoCpus: options.reservations === false ? fc.constant(0) : fc.constantFrom(0, 0, 100_000_000, 500_000_000),
    maxReplicasPerNode: fc.constantFrom(0, 0, 0, 2),
    failureAction,
    order: fc.constantFrom('stop-first' as const, 'start-first' as const),
    parallelism: fc.constantFrom(0, 1, 2),
  }).map((op) => (op.kind === 'create-service' && op.replicas === null ? { ...op, maxReplicasPerNode: 0 } : op))
  return fc.oneof(
    { weight: 3, arbitrary: created },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('update-service' as const), service: index, failureAction }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('scale-service' as const), service: index, replicas }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('rollback-service' as const), service: index }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove-service' as const), service: index }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('read-service' as const), service: index }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('set-availability' as const), node: index, availability: fc.constantFrom('drain' as const, 'pause' as const, 'active' as const, 'active' as const) }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(100, 1_000, 5_000, options.maxAdvanceMs ?? 30_000) }) },
  )
}

/** A fault: crash or restart a worker, crash the leader, restart a manager, partition or heal, slow a disk, fail a task. */
export function arbClusterFault(options: ClusterFaultArbitraryOptions = {}): fc.Arbitrary<ClusterFault> {
  const faults: fc.WeightedArbitrary<ClusterFault>[] = [
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('crash-worker' as const), worker: index }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('restart-worker' as const), worker: index }) },
  ]
  if (options.managerFaults !== false) {
    faults.push({ weight: 2, arbitrary: fc.record({ kind: fc.constant('crash-leader' as const) }) })
    faults.push({ weight: 2, arbitrary: fc.record({ kind: fc.constant('restart-manager' as const), manager: index }) })
  }
  if (options.partitions !== false) {
    faults.push({
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('partition' as const), members: fc.uniqueArray(index, { minLength: 0, maxLength: 3 }), leader: fc.boolean() }),
    })
    faults.push({ weight: 1, arbitrary: fc.record({ kind: fc.constant('heal' as const) }) })
  }
  if (options.slowDisks !== false) faults.push({ weight: 1, arbitrary: fc.record({ kind: fc.constant('slow-disk' as const), manager: index, ms: fc.constantFrom(0, 20, 200, 2_000) }) })
  if (options.taskFailures !== false) faults.push({ weight: 2, arbitrary: fc.record({ kind: fc.constant('fail-task' as const), task: fc.nat({ max: 99 }) }) })
  return fc.oneof(...faults)
}

/**
 * A bounded schedule mixing operations (two thirds) and faults (one third), after a leading
 * service (see {@link ClusterScheduleArbitraryOptions.leadingService}); about one operation in
 * five is `concurrent` (started together with the next steps). Shrinks towards shorter schedules
 * of simpler steps.
 */
export function arbClusterSchedule(options: ClusterScheduleArbitraryOptions = {}): fc.Arbitrary<ClusterSchedule> {
  const operation: fc.Arbitrary<ClusterStep> = fc
    .tuple(arbClusterOperation(options), fc.nat({ max: 4 }))
    .map(([op, n]) => (n === 0 && op.kind !== 'advance' ? { ...op, concurrent: true } : op))
  const step = options.faults === false ? operation : fc.oneof({ weight: 2, arbitrary: operation }, { weight: 1, arbitrary: arbClusterFault(options) })
  const steps = fc.array(step, { minLength: options.minLength ?? 1, maxLength: options.maxLength ?? 12 })
  if (options.leadingService === false) return steps
  const leading = arbClusterOperation({ ...options, global: false, maxReplicas: Math.max(1, options.maxReplicas ?? 6) }).filter(
    (op) => op.kind === 'create-service' && op.replicas !== null && op.replicas >= 1,
  )
  return fc.tuple(leading, steps).map(([first, rest]): ClusterSchedule => [first, { kind: 'advance', ms: 1_000 }, ...rest])
}
