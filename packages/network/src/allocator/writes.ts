/**
 * The allocator's store writes: each decision is a small write applied in `store.batch`
 * transactions of {@link ALLOCATOR_WRITES_PER_TRANSACTION}. A write checks in its transaction
 * that what it decided on still holds (a task still NEW, a service's spec unchanged) and says
 * whether it wrote; one that did not write, or whose transaction failed, is undone (its
 * addresses given back), so the allocator's memory matches the store.
 *
 * @module
 */
import type { Logger } from '@swarmkit-ts/api'
import type { MemoryStore, Tx } from '@swarmkit-ts/store'

/** Writes per transaction: well below a change set's 200 actions. */
export const ALLOCATOR_WRITES_PER_TRANSACTION = 100

/** One write of the allocator. */
export interface AllocatorWrite {
  /** Writes in `tx` if what it was decided on still holds; returns whether it wrote (true only when it changed something). */
  apply(tx: Tx): boolean
  /** Called when it did not write or its transaction failed. */
  undo?(): void
}

/** Applies `writes` in batched transactions, undoing each write that did not make it into the store. */
export async function applyAllocatorWrites(store: MemoryStore, writes: readonly AllocatorWrite[], logger: Logger): Promise<void> {
  if (writes.length === 0) return
  const written: AllocatorWrite[][] = []
  const undo = (list: readonly AllocatorWrite[]): void => {
    for (const w of list) w.undo?.()
  }
  let result
  try {
    result = await store.batch((b) => {
      for (let i = 0; i < writes.length; i += ALLOCATOR_WRITES_PER_TRANSACTION) {
        const chunk = writes.slice(i, i + ALLOCATOR_WRITES_PER_TRANSACTION)
        const done: AllocatorWrite[] = []
        try {
          b.update((tx) => {
            for (const w of chunk) {
              let ok = false
              try {
                ok = w.apply(tx)
              } catch (err) {
                logger.error('network allocator: a write failed', { error: String(err) })
              }
              if (ok) done.push(w)
              else w.undo?.()
            }
          })
          // The store counts only transactions that write something: so do the indexes here
          // (a write that says it wrote always did).
          if (done.length > 0) written.push(done)
        } catch (err) {
          logger.error('network allocator: a transaction could not be recorded', { error: String(err) })
          undo(done)
        }
      }
    })
  } catch (err) {
    // The proposal failed (leadership lost, say): nothing is known to be written.
    logger.error('network allocator: writing failed', { error: String(err) })
    for (const list of written) undo(list)
    return
  }
  for (const f of result.failures) {
    logger.error('network allocator: a transaction failed', { transaction: f.transaction, error: String(f.error) })
    undo(written[f.transaction] ?? [])
  }
}
