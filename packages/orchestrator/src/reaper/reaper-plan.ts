/**
 * The task reaper's decisions, pure over a read view: which tasks are cleaned up at once, how
 * much history a slot keeps, and which tasks of an over-full slot are deleted. The driver
 * ({@link TaskReaper}) owns the events, the batching timer and the deletes.
 *
 * @module
 */
import { DEFAULT_TASK_HISTORY_RETENTION_LIMIT, TaskState } from '@swarmkit-ts/api'
import type { Cluster, Service, Task } from '@swarmkit-ts/api'
import type { Frozen, ReadTx } from '@swarmkit-ts/store'
import { modeKind } from '../common/task.ts'

/** How long the reaper gathers dirty slots before it prunes them (SwarmKit's `reaperBatchingInterval`). */
export const REAPER_BATCH_INTERVAL_MS = 250

/** Pending slots plus cleanup ids above which the reaper prunes at once (SwarmKit's `maxDirty`). */
export const REAPER_MAX_DIRTY = 1_000

/** Task deletes per transaction of the reaper's batch. */
export const REAPER_DELETES_PER_TRANSACTION = 100

/**
 * A slot in the broad sense (SwarmKit's `SlotTuple`): a replicated service's slot number, or a
 * global service's node, as the task that made it dirty was created.
 */
export interface SlotKey {
  readonly serviceId: string
  readonly slot: number
  readonly nodeId: string
}

/** The map key of a {@link SlotKey}. */
export function slotKeyString(key: SlotKey): string {
  return `${key.serviceId}\u0000${String(key.slot)}\u0000${key.nodeId}`
}

/** The cluster's task history retention limit: the default (5) without a cluster or when unset. */
export function clusterRetentionLimit(cluster: Frozen<Cluster> | undefined): number {
  return cluster?.spec.orchestration?.taskHistoryRetentionLimit ?? DEFAULT_TASK_HISTORY_RETENTION_LIMIT
}

/**
 * How many tasks a slot of `service` keeps: `maxAttempts + 1` when its restart policy limits
 * attempts (so the restart history can be rebuilt; this overrides the cluster's limit, a
 * negative one included), else the cluster's limit. Negative: never prune.
 */
export function retentionLimit(clusterLimit: number, service: Frozen<Service>): number {
  const maxAttempts = service.spec.task.restart?.maxAttempts ?? 0
  return maxAttempts > 0 ? maxAttempts + 1 : clusterLimit
}

/**
 * Whether the reaper deletes `task` at once, without keeping it as history: a serviceless task
 * observed ORPHANED (or later), or a task of a removed slot (desired REMOVE) that was never
 * assigned or has stopped.
 */
export function isCleanupCandidate(task: Frozen<Task>): boolean {
  const s = task.status.state
  if (task.serviceId === '' && s >= TaskState.ORPHANED) return true
  return task.desiredState === TaskState.REMOVE && (s < TaskState.ASSIGNED || s >= TaskState.COMPLETE)
}

/** The ids of the tasks to delete at start: serviceless ORPHANED tasks and stopped or unassigned REMOVE tasks. */
export function startupCleanup(tx: ReadTx): string[] {
  const ids: string[] = []
  for (const t of tx.tasks.find({ state: TaskState.ORPHANED })) if (t.serviceId === '') ids.push(t.id)
  for (const t of tx.tasks.find({ desiredState: TaskState.REMOVE })) if (isCleanupCandidate(t)) ids.push(t.id)
  return ids
}

/** When a task's history entry happened: when its status was applied, else the agent's timestamp. */
export function historyTimestamp(task: Frozen<Task>): number {
  return task.status.appliedAt ?? task.status.timestamp
}

/** The tasks of one slot, ordered oldest first (ties: creation time, then id, for determinism). */
export function oldestFirst(tasks: readonly Frozen<Task>[]): Frozen<Task>[] {
  return [...tasks].sort(
    (a, b) => historyTimestamp(a) - historyTimestamp(b) || a.meta.createdAt - b.meta.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  )
}

/** What pruning one slot decided. */
export interface SlotPrune {
  /** Tasks to delete, oldest first. */
  readonly deleteIds: readonly string[]
  /** Tasks met on the walk that count as running (not deletable). */
  readonly running: number
}

/**
 * Prunes one slot's history down to `limit` tasks (SwarmKit's walk): oldest first, a task that
 * has stopped (observed after RUNNING) or will never run (not yet assigned, desired past
 * RUNNING) is deleted until the slot holds no more than `limit`; every other task met counts as
 * running and is kept. `limit` must be ≥ 0.
 */
export function pruneSlot(tasks: readonly Frozen<Task>[], limit: number): SlotPrune {
  if (tasks.length <= limit) return { deleteIds: [], running: 0 }
  const deleteIds: string[] = []
  let running = 0
  let keep = limit
  for (const t of oldestFirst(tasks)) {
    const stopped = t.status.state > TaskState.RUNNING
    const neverRuns = t.status.state < TaskState.ASSIGNED && t.desiredState > TaskState.RUNNING
    if (!stopped && !neverRuns) {
      running++
      continue
    }
    deleteIds.push(t.id)
    keep++
    if (tasks.length <= keep) break
  }
  return { deleteIds, running }
}

/**
 * The tasks of a slot's history: for a replicated service those of its slot number, for a global
 * service those of the service on the node. Jobs keep no history by slot or node here (as in
 * SwarmKit, whose reaper prunes replicated and global services only): `undefined`.
 */
export function slotTasks(tx: ReadTx, service: Frozen<Service>, key: SlotKey): readonly Frozen<Task>[] | undefined {
  switch (modeKind(service)) {
    case 'replicated':
      return tx.tasks.find({ serviceId: key.serviceId, slot: key.slot })
    case 'global':
      return key.nodeId === '' ? [] : tx.tasks.find({ nodeId: key.nodeId }).filter((t) => t.serviceId === key.serviceId)
    case 'replicatedJob':
    case 'globalJob':
      return undefined
  }
}

/** What one pass over the dirty slots decided. */
export interface HistoryPlan {
  /** Tasks to delete. */
  readonly deleteIds: readonly string[]
  /** Slots to keep dirty: more than one task was still running there. */
  readonly stillDirty: readonly SlotKey[]
}

/**
 * Plans the history pruning of `dirty` slots on a view (SwarmKit's `tick`): a slot of a deleted
 * service, of a service that keeps everything (negative limit) or a job, or within its limit is
 * done; otherwise its oldest stopped tasks go, and it stays dirty while more than one of its
 * tasks still runs (a replacement overlapping its predecessor), to be looked at again.
 */
export function planHistory(tx: ReadTx, dirty: Iterable<SlotKey>, clusterLimit: number): HistoryPlan {
  const deleteIds: string[] = []
  const stillDirty: SlotKey[] = []
  for (const key of dirty) {
    const service = tx.services.get(key.serviceId)
    if (service === undefined) continue
    const limit = retentionLimit(clusterLimit, service)
    if (limit < 0) continue
    const tasks = slotTasks(tx, service, key)
    if (tasks === undefined || tasks.length <= limit) continue
    const pruned = pruneSlot(tasks, limit)
    deleteIds.push(...pruned.deleteIds)
    if (pruned.running > 1) stillDirty.push(key)
  }
  return { deleteIds, stillDirty }
}

/**
 * Every slot of the view holding more tasks than its service keeps — what a new leader (or a
 * loop that fell behind the store, or a lowered cluster limit) prunes at once instead of waiting
 * for the slot's next task.
 */
export function overfullSlots(tx: ReadTx, clusterLimit: number): SlotKey[] {
  const out: SlotKey[] = []
  const counts = new Map<string, { key: SlotKey; n: number }>()
  for (const s of tx.services.find()) {
    const limit = retentionLimit(clusterLimit, s)
    const mode = modeKind(s)
    if (limit < 0 || (mode !== 'replicated' && mode !== 'global')) continue
    counts.clear()
    for (const t of tx.tasks.find({ serviceId: s.id })) {
      const key: SlotKey = mode === 'replicated' ? { serviceId: s.id, slot: t.slot, nodeId: '' } : { serviceId: s.id, slot: 0, nodeId: t.nodeId }
      const k = slotKeyString(key)
      const c = counts.get(k)
      if (c === undefined) counts.set(k, { key, n: 1 })
      else c.n++
    }
    for (const c of counts.values()) if (c.n > limit) out.push(c.key)
  }
  return out
}
