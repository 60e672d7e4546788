/**
 * Batched writes of the orchestrators: each decision becomes a small write on a transaction,
 * applied in `store.batch` transactions of {@link WRITES_PER_TRANSACTION}; one write that throws
 * (a task gone meanwhile, say) is logged and skipped, never failing the others.
 *
 * @module
 */
import type { Cluster, Task, TaskState } from '@swarmkit-ts/api'
import type { Frozen, Tx } from '@swarmkit-ts/store'
import type { OrchestratorContext } from './context.ts'

/** One write, applied inside a transaction. */
export type Write = (tx: Tx) => void

/** Writes per transaction: well below a change set's 200 actions. */
export const WRITES_PER_TRANSACTION = 100

/** Applies `writes` in batched transactions; `who` names the loop in log lines. */
export async function applyWrites(ctx: OrchestratorContext, writes: readonly Write[], who: string): Promise<void> {
  if (writes.length === 0) return
  const result = await ctx.store.batch((b) => {
    for (let i = 0; i < writes.length; i += WRITES_PER_TRANSACTION) {
      const chunk = writes.slice(i, i + WRITES_PER_TRANSACTION)
      b.update((tx) => {
        for (const w of chunk) {
          try {
            w(tx)
          } catch (err) {
            ctx.logger.error(`${who}: a write failed`, { error: String(err) })
          }
        }
      })
    }
  })
  logBatchFailures(ctx, who, result.failures)
}

/** Logs the transactions of a batch that failed to apply. */
export function logBatchFailures(ctx: OrchestratorContext, who: string, failures: readonly { readonly transaction: number; readonly error: Error }[]): void {
  for (const f of failures) ctx.logger.error(`${who}: a transaction failed`, { transaction: f.transaction, error: String(f.error) })
}

/** Raises task `id`'s desired state to `state` (never lowers it; a missing task is skipped). */
export function setDesired(id: string, state: TaskState): Write {
  return (tx) => {
    const t: Frozen<Task> | undefined = tx.tasks.get(id)
    if (t === undefined || t.desiredState >= state) return
    tx.tasks.update(id, (d) => void (d.desiredState = state))
  }
}

/** The cluster object the orchestrators read defaults from: the one named "default", else the first. */
export function pickCluster(clusters: readonly Frozen<Cluster>[]): Frozen<Cluster> | undefined {
  return clusters.find((c) => c.spec.annotations.name === 'default') ?? clusters[0]
}
