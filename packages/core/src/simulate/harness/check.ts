/**
 * {@link checkClusterInvariants}: every guarantee the harness knows, checked on a simulated
 * cluster — the store invariants on the leader's store, the agreement of the managers' stores,
 * and, given the history of the calls made, no acknowledged write lost and the control API
 * linearizable.
 *
 * @module
 */
import { InternalError } from '@swarmkit-ts/api'
import type { SimulatedCluster } from '../types.ts'
import { checkAcknowledgedWrites, checkHistoryLinearizable, checkStoreAgreement } from './history-checks.ts'
import type { ClusterHistory } from './history.ts'
import { checkStoreInvariants } from './store-invariants.ts'
import { formatViolations, type ClusterViolation } from './violations.ts'

/** Options of {@link checkClusterInvariants}. */
export interface ClusterInvariantOptions {
  /**
   * Whether the cluster has converged (see `convergeCluster`): then every check applies;
   * otherwise only those that hold at any time (resources, agreement, linearizability). @default true
   */
  readonly converged?: boolean
  /** The calls made (from `runClusterSchedule`): enables the acknowledged-writes and linearizability checks. */
  readonly history?: ClusterHistory
  /** Search steps per service for the linearizability check. @default 1_000_000 */
  readonly linearizabilitySteps?: number
}

/**
 * The violations of SwarmKit's guarantees found in `cluster` now (empty when none), checked on
 * the leader's store (else a running manager's): see {@link ClusterInvariantOptions} for which.
 */
export function checkClusterInvariants(cluster: SimulatedCluster, options: ClusterInvariantOptions = {}): ClusterViolation[] {
  const converged = options.converged ?? true
  const store = cluster.store()
  const reference = cluster.leader() ?? cluster.members().find((m) => m.role === 'manager' && m.up)
  const others = cluster
    .members()
    .filter((m) => m.role === 'manager' && m.up && m.id !== reference?.id)
    .map((m) => ({ nodeId: m.id, store: cluster.store(m.id) }))
  const out = [...checkStoreInvariants(store, { converged }), ...checkStoreAgreement({ nodeId: reference?.id ?? '?', store }, others)]
  if (options.history !== undefined) {
    if (converged) out.push(...checkAcknowledgedWrites(store, options.history))
    out.push(...checkHistoryLinearizable(options.history, options.linearizabilitySteps === undefined ? {} : { maxSteps: options.linearizabilitySteps }))
  }
  return out
}

/** A broken cluster guarantee found by the harness: {@link ClusterInvariantError.violations} lists them all. */
export class ClusterInvariantError extends InternalError {
  override readonly name: string = 'ClusterInvariantError'
  /** What was found. */
  readonly violations: readonly ClusterViolation[]
  constructor(violations: readonly ClusterViolation[], context = '') {
    super(`${violations.length} cluster invariant violation${violations.length === 1 ? '' : 's'}${context === '' ? '' : ` (${context})`}:\n${formatViolations(violations)}`)
    this.violations = violations
  }
}

/** {@link checkClusterInvariants}, throwing one {@link ClusterInvariantError} that lists every violation. */
export function assertClusterInvariants(cluster: SimulatedCluster, options: ClusterInvariantOptions = {}): void {
  const violations = checkClusterInvariants(cluster, options)
  if (violations.length > 0) throw new ClusterInvariantError(violations, `seed ${cluster.seed}, virtual time ${cluster.now()}`)
}
