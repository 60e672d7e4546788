/**
 * The scheduler's decisions as data, and their batched write. Each decision is applied only if
 * its task is still what the decision was made from (same `meta.version`, still PENDING): a task
 * that changed meanwhile comes back as a conflict, for the loop to release its reservation and
 * decide again — never lost, never applied twice.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { GenericResource, Task } from '@swarmkit-ts/api'
import type { Frozen, Tx } from '@swarmkit-ts/store'
import type { OrchestratorContext } from '../common/context.ts'
import { logBatchFailures } from '../common/writes.ts'

/** The status message of a task the scheduler placed. */
export const ASSIGNED_MESSAGE = 'scheduler assigned task to node'
/** The status message of a pre-assigned task the scheduler found fitting its node. */
export const PREASSIGNED_MESSAGE = 'scheduler confirmed task can run on preassigned node'
/** The status message of a PENDING task desired SHUTDOWN that the scheduler stopped unplaced. */
export const SHUTDOWN_MESSAGE = 'shutdown before assignment'
/** Decisions per transaction (well below a change set's 200 actions). */
export const DECISIONS_PER_TRANSACTION = 100

/** One scheduling decision about one PENDING task (as it was when decided). */
export type Decision =
  /** Move it to ASSIGNED on `nodeId` with the generic resources taken there. */
  | {
      readonly kind: 'assign'
      readonly task: Frozen<Task>
      readonly nodeId: string
      readonly generic: readonly GenericResource[]
      readonly message: string
    }
  /** Keep it PENDING with `err` saying why no node fits. */
  | { readonly kind: 'explain'; readonly task: Frozen<Task>; readonly err: string }
  /** Move it to observed SHUTDOWN without a node (desired SHUTDOWN, never placed). */
  | { readonly kind: 'shutdown'; readonly task: Frozen<Task> }

/** What became of a set of decisions. */
export interface WriteOutcome {
  /** Written. */
  readonly applied: Decision[]
  /** Not written: the task changed since the decision (or the node is gone). Decide again. */
  readonly conflicts: Decision[]
  /** Not written: the task no longer exists. */
  readonly gone: Decision[]
}

/** Applies `decision` in `tx` if its task is unchanged; says what happened. */
export function applyDecision(tx: Tx, decision: Decision, now: number): 'applied' | 'conflict' | 'gone' {
  const before = decision.task
  const cur = tx.tasks.get(before.id)
  if (cur === undefined) return 'gone'
  if (cur.meta.version.index !== before.meta.version.index || cur.status.state !== TaskState.PENDING) return 'conflict'
  switch (decision.kind) {
    case 'assign': {
      if (tx.nodes.get(decision.nodeId) === undefined) return 'conflict'
      const generic = decision.generic
      tx.tasks.update(before.id, (d) => {
        d.nodeId = decision.nodeId
        d.status = { timestamp: now, state: TaskState.ASSIGNED, message: decision.message }
        if (generic.length > 0) d.assignedGenericResources = generic.map((g) => ({ ...g }))
      })
      return 'applied'
    }
    case 'explain':
      tx.tasks.update(before.id, (d) => {
        d.status.timestamp = now
        d.status.err = decision.err
      })
      return 'applied'
    case 'shutdown':
      tx.tasks.update(before.id, (d) => {
        d.status = { timestamp: now, state: TaskState.SHUTDOWN, message: SHUTDOWN_MESSAGE }
      })
      return 'applied'
  }
}

/**
 * Writes `decisions` in `store.batch` transactions of {@link DECISIONS_PER_TRANSACTION}, each
 * re-reading its tasks; a transaction that fails when applied turns all its decisions into
 * conflicts.
 */
export async function writeDecisions(ctx: OrchestratorContext, decisions: readonly Decision[], now: number): Promise<WriteOutcome> {
  const outcome: WriteOutcome = { applied: [], conflicts: [], gone: [] }
  if (decisions.length === 0) return outcome
  const results: ('applied' | 'conflict' | 'gone')[] = []
  const chunks: number[] = []
  const batch = await ctx.store.batch((b) => {
    for (let i = 0; i < decisions.length; i += DECISIONS_PER_TRANSACTION) {
      const end = Math.min(decisions.length, i + DECISIONS_PER_TRANSACTION)
      try {
        b.update((tx) => {
          for (let j = i; j < end; j++) results[j] = applyDecision(tx, decisions[j] as Decision, now)
        })
        chunks.push(i) // recorded: its index in the batch is chunks' length - 1
      } catch (err) {
        ctx.logger.error('scheduler: a transaction failed', { error: String(err) })
        for (let j = i; j < end; j++) results[j] = 'conflict'
      }
    }
  })
  logBatchFailures(ctx, 'scheduler', batch.failures)
  for (const f of batch.failures) {
    const start = chunks[f.transaction]
    if (start === undefined) continue
    const end = Math.min(decisions.length, start + DECISIONS_PER_TRANSACTION)
    for (let j = start; j < end; j++) results[j] = 'conflict'
  }
  for (let j = 0; j < decisions.length; j++) {
    const d = decisions[j] as Decision
    const r = results[j] ?? 'conflict'
    if (r === 'applied') outcome.applied.push(d)
    else if (r === 'gone') outcome.gone.push(d)
    else outcome.conflicts.push(d)
  }
  return outcome
}
