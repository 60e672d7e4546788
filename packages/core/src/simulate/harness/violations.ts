/**
 * The names of the cluster invariants the harness checks, and the violation it reports.
 *
 * @module
 */

/** SwarmKit's guarantees the harness checks, one name each (a violation's {@link ClusterViolation.invariant}). */
export const ClusterInvariant = {
  /** Each replicated service runs its replica count of tasks, one per slot (as many as fit). */
  REPLICAS: 'replicas',
  /** Each global service runs one task on every eligible node, none twice on a node. */
  GLOBAL: 'global',
  /** No node holds tasks whose reservations exceed its resources (checked at any time). */
  RESOURCES: 'resources',
  /** No task is meant to run on a drained or down node. */
  PLACEMENT: 'placement',
  /** Every rolling update ended as its policy says, and ended tasks run the current spec. */
  UPDATE: 'update',
  /** Every control write the harness saw acknowledged is in the store (or a later write is). */
  ACKNOWLEDGED: 'acknowledged',
  /** Managers at the same applied index hold the same store. */
  AGREEMENT: 'agreement',
  /** The history of control calls is linearizable (testkit's checker over a services model). */
  LINEARIZABLE: 'linearizable',
  /** The healed cluster reached a stable converged state within the virtual time allowed. */
  CONVERGENCE: 'convergence',
} as const
/** The name of one cluster invariant. */
export type ClusterInvariant = (typeof ClusterInvariant)[keyof typeof ClusterInvariant]

/** One broken guarantee, worded for a failing test's message. */
export interface ClusterViolation {
  /** Which guarantee. */
  readonly invariant: ClusterInvariant
  /** What was found, naming the objects (service name, slot, node id…). */
  readonly message: string
}

/** One line per violation: `[invariant] message`. */
export function formatViolations(violations: readonly ClusterViolation[]): string {
  return violations.map((v) => `[${v.invariant}] ${v.message}`).join('\n')
}
