/**
 * A schedule of a simulated cluster's life, as plain data (so a failing case prints readably and
 * can be kept as a regression): control operations and faults. Services, nodes and tasks are
 * named by index, taken modulo what exists when the step runs.
 *
 * @module
 */
import type { NodeAvailability, UpdateFailureAction, UpdateOrder } from '@swarmkit-ts/api'

/** A control operation (or the passing of time). */
export type ClusterOperation =
  /** Creates a service with a new name (`s1`, `s2`, …): replicated with `replicas`, or global (`replicas: null`). */
  | {
      readonly kind: 'create-service'
      readonly replicas: number | null
      /** Reserved CPU per task, in nano CPUs (0: none). */
      readonly reserveNanoCpus: number
      /** Max replicas per node (0: no limit). */
      readonly maxReplicasPerNode: number
      readonly failureAction: UpdateFailureAction
      readonly order: UpdateOrder
      /** Tasks updated at once (0: all). */
      readonly parallelism: number
    }
  /** Replaces the spec: a new environment (every task is replaced by a rolling update) and failure action. */
  | { readonly kind: 'update-service'; readonly service: number; readonly failureAction: UpdateFailureAction }
  /** Sets the replica count (refused for a global service). */
  | { readonly kind: 'scale-service'; readonly service: number; readonly replicas: number }
  /** Rolls back to the previous spec (refused when there is none). */
  | { readonly kind: 'rollback-service'; readonly service: number }
  /** Removes the service. */
  | { readonly kind: 'remove-service'; readonly service: number }
  /** Reads the service (a read in the linearizability history). */
  | { readonly kind: 'read-service'; readonly service: number }
  /** Sets a node's availability (`drain`, `pause`, `active`). */
  | { readonly kind: 'set-availability'; readonly node: number; readonly availability: NodeAvailability }
  /** Moves virtual time on. */
  | { readonly kind: 'advance'; readonly ms: number }

/** A fault. */
export type ClusterFault =
  /** Crashes a worker (agent and containers gone, its task db kept). */
  | { readonly kind: 'crash-worker'; readonly worker: number }
  /** Restarts a crashed worker (nothing when it is up). */
  | { readonly kind: 'restart-worker'; readonly worker: number }
  /** Crashes the current leader (nothing when there is none). */
  | { readonly kind: 'crash-leader' }
  /** Restarts a crashed manager (nothing when it is up). */
  | { readonly kind: 'restart-manager'; readonly manager: number }
  /** Cuts these members (and the leader, with `leader`) off from every other member. */
  | { readonly kind: 'partition'; readonly members: readonly number[]; readonly leader: boolean }
  /** Ends every partition. */
  | { readonly kind: 'heal' }
  /** Makes a manager's Raft storage writes take `ms` of virtual time (0: normal). */
  | { readonly kind: 'slow-disk'; readonly manager: number; readonly ms: number }
  /** Makes a running task exit non-zero. */
  | { readonly kind: 'fail-task'; readonly task: number }

/** One step of a schedule: an operation or a fault; `concurrent` operations start together with the next ones. */
export type ClusterStep = (ClusterOperation & { readonly concurrent?: boolean }) | ClusterFault

/** A schedule: steps run in order. */
export type ClusterSchedule = readonly ClusterStep[]

/** The kinds of {@link ClusterOperation}. */
export const OPERATION_KINDS: ReadonlySet<string> = new Set([
  'create-service',
  'update-service',
  'scale-service',
  'rollback-service',
  'remove-service',
  'read-service',
  'set-availability',
  'advance',
])

/** Whether the step is a control operation (not a fault). */
export function isOperation(step: ClusterStep): step is ClusterOperation & { readonly concurrent?: boolean } {
  return OPERATION_KINDS.has(step.kind)
}
