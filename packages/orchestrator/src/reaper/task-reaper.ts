/**
 * The task reaper (SwarmKit's manager/orchestrator/taskreaper): deletes old task history and
 * removed tasks. The decisions are in `reaper-plan.ts`; this driver gathers dirty slots and
 * cleanup ids from the store's events, and prunes them in batches — every
 * {@link REAPER_BATCH_INTERVAL_MS} after the first pending change, or at once when more than
 * {@link REAPER_MAX_DIRTY} are pending.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Cluster, Task, Timer } from '@swarmkit-ts/api'
import type { Frozen, ObjectEvent, ReadTx } from '@swarmkit-ts/store'
import type { Component, OrchestratorContext } from '../common/context.ts'
import { StoreLoop } from '../common/store-loop.ts'
import {
  REAPER_BATCH_INTERVAL_MS,
  REAPER_DELETES_PER_TRANSACTION,
  REAPER_MAX_DIRTY,
  clusterRetentionLimit,
  isCleanupCandidate,
  overfullSlots,
  planHistory,
  slotKeyString,
  startupCleanup,
} from './reaper-plan.ts'
import type { SlotKey } from './reaper-plan.ts'

/**
 * The task reaper (SwarmKit's manager/orchestrator/taskreaper). It keeps each slot's history
 * (per service and slot for replicated services, per service and node for global ones) within
 * the cluster's `orchestration.taskHistoryRetentionLimit` (default 5, negative: keep all;
 * `maxAttempts + 1` for a service whose restart policy limits attempts), deleting the oldest
 * stopped tasks first; and deletes at once the tasks of removed slots (desired REMOVE) once they
 * stopped or if they were never assigned, and serviceless ORPHANED tasks.
 */
export class TaskReaper implements Component {
  readonly #ctx: OrchestratorContext
  readonly #loop: StoreLoop<'task' | 'cluster'>
  #clusterLimit = clusterRetentionLimit(undefined)
  readonly #dirty = new Map<string, SlotKey>()
  /** Tasks per slot (per node for slot 0), to look only at slots that can be over a limit. */
  readonly #counts = new Map<string, Map<number | string, number>>()
  #cleanup = new Set<string>()
  #timer: Timer | undefined
  /** Prune at the next commit: too much is pending, or a resync found work. */
  #pruneNow = false
  /** Look for over-full slots at the next commit (the cluster's limit changed). */
  #rescan = false
  /** The prune in progress (or the last one): prunes run one at a time. */
  #pass: Promise<void> = Promise.resolve()
  #stopped = false

  constructor(ctx: OrchestratorContext) {
    this.#ctx = ctx
    this.#loop = new StoreLoop(ctx, 'task reaper', ['task', 'cluster'], {
      resync: (tx) => this.#resync(tx),
      event: (ev) => this.#event(ev),
      tick: () => this.#tick(),
    })
  }

  /** Reads its state from the store and starts reacting to changes. */
  start(): void {
    this.#loop.start()
  }

  /** Stops; resolves once nothing of it runs any more (a prune in progress finishes first). */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#cancelTimer()
    await this.#loop.stop()
    await this.#pass
  }

  /**
   * From a fresh view: the cluster's limit, the tasks to clean up at once, and every slot over
   * its limit (SwarmKit's reaper only looks at a slot when a task is created in it; a new leader
   * prunes history left over-long at once).
   */
  #resync(tx: ReadTx): void {
    this.#clusterLimit = clusterRetentionLimit(tx.clusters.find()[0])
    this.#counts.clear()
    for (const t of tx.tasks.find()) this.#count(t, 1)
    for (const id of startupCleanup(tx)) this.#cleanup.add(id)
    this.#markDirty(overfullSlots(tx, this.#clusterLimit))
    if (this.#cleanup.size + this.#dirty.size > 0) this.#pruneNow = true
  }

  #event(ev: ObjectEvent<'task' | 'cluster'>): void {
    if (ev.kind === 'cluster') {
      if (ev.action !== 'delete') this.#setClusterLimit(ev.object)
      return
    }
    const task: Frozen<Task> = ev.object
    if (ev.action === 'create') {
      // A slot holding one task is within any limit but 0 (a maxAttempts override keeps at
      // least 2): only a slot with more is worth a look — SwarmKit looks at every new task's
      // slot, which costs a lookup per task when a large service is created.
      if (this.#count(task, 1) > (this.#clusterLimit === 0 ? 0 : 1)) {
        this.#markDirty([{ serviceId: task.serviceId, slot: task.slot, nodeId: task.nodeId }])
      }
    } else if (ev.action === 'delete') {
      this.#count(task, -1)
    } else if (ev.action === 'update' && isCleanupCandidate(task)) {
      this.#cleanup.add(task.id)
    } else if (ev.action === 'update' && task.status.state > TaskState.RUNNING && (ev.oldObject?.status.state ?? TaskState.NEW) <= TaskState.RUNNING) {
      // A task that stopped becomes history: with a limit of 0 even a slot's only task (of a
      // node that left, say) goes — SwarmKit looks at a slot only when a task is created in it.
      if (this.#count(task, 0) > (this.#clusterLimit === 0 ? 0 : 1)) {
        this.#markDirty([{ serviceId: task.serviceId, slot: task.slot, nodeId: task.nodeId }])
      }
    }
    // Any task event (a task stopping, say) brings a prune of what is pending: a slot kept
    // dirty because two of its tasks ran is looked at again once one of them has stopped.
    const pending = this.#dirty.size + this.#cleanup.size
    if (pending === 0) return
    if (pending > REAPER_MAX_DIRTY) {
      this.#cancelTimer()
      this.#pruneNow = true
    } else if (this.#timer === undefined && !this.#stopped) {
      this.#timer = this.#ctx.clock.setTimeout(() => {
        this.#timer = undefined
        void this.#prune()
      }, REAPER_BATCH_INTERVAL_MS)
    }
  }

  #setClusterLimit(cluster: Frozen<Cluster>): void {
    const limit = clusterRetentionLimit(cluster)
    if (limit === this.#clusterLimit) return
    // A lower limit applies to the history already kept, not only to the next task of a slot.
    if (limit >= 0 && (this.#clusterLimit < 0 || limit < this.#clusterLimit)) this.#rescan = true
    this.#clusterLimit = limit
  }

  /** After each commit: prune at once when asked to (the loop waits for it, like SwarmKit's). */
  async #tick(): Promise<void> {
    if (this.#rescan) {
      this.#rescan = false
      const slots = this.#ctx.store.view((tx) => overfullSlots(tx, this.#clusterLimit))
      this.#markDirty(slots)
      if (slots.length > 0) this.#pruneNow = true
    }
    if (!this.#pruneNow) return
    this.#cancelTimer()
    await this.#prune()
  }

  /** Adds `delta` to the number of tasks of `task`'s slot (its node for slot 0); returns the new count. */
  #count(task: Frozen<Task>, delta: number): number {
    // Serviceless tasks are cleaned up, and job tasks are not pruned by history: not counted.
    if (task.serviceId === '' || task.jobIteration !== undefined) return 0
    let slots = this.#counts.get(task.serviceId)
    if (slots === undefined) this.#counts.set(task.serviceId, (slots = new Map<number | string, number>()))
    const key = task.slot !== 0 ? task.slot : task.nodeId
    const n = (slots.get(key) ?? 0) + delta
    if (n > 0) slots.set(key, n)
    else if (slots.delete(key) && slots.size === 0) this.#counts.delete(task.serviceId)
    return n
  }

  #markDirty(keys: readonly SlotKey[]): void {
    for (const key of keys) this.#dirty.set(slotKeyString(key), key)
  }

  #cancelTimer(): void {
    this.#timer?.cancel()
    this.#timer = undefined
  }

  /** Queues one prune behind the one in progress; resolves when it is done. */
  #prune(): Promise<void> {
    this.#pass = this.#pass.then(() => this.#pruneOnce())
    return this.#pass
  }

  /**
   * One prune (SwarmKit's `tick`): plans on one view, forgets the slots that are done, then
   * deletes the chosen tasks and the cleanup list in a batch. A task already gone is skipped.
   */
  async #pruneOnce(): Promise<void> {
    this.#pruneNow = false
    if (this.#stopped || (this.#dirty.size === 0 && this.#cleanup.size === 0)) return
    const ids = this.#cleanup
    this.#cleanup = new Set()
    try {
      const plan = this.#ctx.store.view((tx) => planHistory(tx, this.#dirty.values(), this.#clusterLimit))
      this.#dirty.clear()
      this.#markDirty(plan.stillDirty)
      for (const id of plan.deleteIds) ids.add(id)
      if (ids.size === 0) return
      const all = [...ids]
      const result = await this.#ctx.store.batch((b) => {
        for (let i = 0; i < all.length; i += REAPER_DELETES_PER_TRANSACTION) {
          const chunk = all.slice(i, i + REAPER_DELETES_PER_TRANSACTION)
          b.update((tx) => {
            for (const id of chunk) if (tx.tasks.get(id) !== undefined) tx.tasks.delete(id)
          })
        }
      })
      for (const f of result.failures) {
        this.#ctx.logger.warn('task reaper: a delete transaction failed', { transaction: f.transaction, error: String(f.error) })
      }
    } catch (err) {
      this.#ctx.logger.error('task reaper: prune failed', { error: String(err) })
    }
  }
}
