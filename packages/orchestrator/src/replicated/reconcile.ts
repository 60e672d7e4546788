/**
 * The replicated orchestrator's decision, as data: from a service's replica count and its
 * runnable slots, which slot numbers get a new task, which tasks are removed, and which slots
 * go on to the update supervisor. The driver ({@link ReplicatedOrchestrator}) applies it.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import type { Slot } from '../common/task.ts'

/** What {@link reconcileReplicated} decides. */
export interface ReplicatedActions {
  /** Slot numbers to create a task in (desired RUNNING), ascending. */
  readonly create: readonly number[]
  /** Tasks to set to desired REMOVE (every task of each slot scaled away). */
  readonly remove: readonly string[]
  /** The slots kept, for the update supervisor. */
  readonly keep: readonly Slot[]
}

/** A service's tasks grouped by slot number: the runnable slots (their updatable tasks only) and the dead ones. */
export interface SlotGroups {
  readonly runnable: ReadonlyMap<number, Slot>
  readonly dead: ReadonlyMap<number, Slot>
}

/**
 * Groups `tasks` by slot number and splits the slots: `updatable(slot)` gives the tasks of a
 * slot that count (SwarmKit's `UpdatableTasksInSlot`: those with desired ≤ RUNNING, or the
 * newest one when it stopped for good); a slot where none count is dead.
 */
export function groupSlots(tasks: readonly Frozen<Task>[], updatable: (slot: Slot) => Slot): SlotGroups {
  const bySlot = new Map<number, Frozen<Task>[]>()
  for (const t of tasks) {
    const s = bySlot.get(t.slot)
    if (s === undefined) bySlot.set(t.slot, [t])
    else s.push(t)
  }
  const runnable = new Map<number, Slot>()
  const dead = new Map<number, Slot>()
  for (const [n, slot] of bySlot) {
    const u = updatable(slot)
    if (u.length > 0) runnable.set(n, u)
    else dead.set(n, slot)
  }
  return { runnable, dead }
}

/**
 * Decides how `replicas` are reached from the `runnable` slots (by slot number):
 * - fewer: new tasks in the lowest slot numbers from 1 that have no runnable slot (a dead
 *   slot's number is reused); every runnable slot is kept;
 * - more: the slots to remove are chosen so that the nodes holding the most tasks of the service
 *   lose theirs first (each slot counts as the nth copy on its node; the highest counts go
 *   first, and slots with several tasks or none assigned before all of them); ties remove a
 *   slot with no RUNNING task before one with, then the higher slot number;
 * - equal: every slot is kept.
 */
export function reconcileReplicated(replicas: number, runnable: ReadonlyMap<number, Slot>): ReplicatedActions {
  const numbers = [...runnable.keys()].sort((a, b) => a - b)
  const slots = numbers.map((n) => runnable.get(n) as Slot)
  if (replicas >= slots.length) {
    const create: number[] = []
    for (let n = 1; create.length < replicas - slots.length; n++) if (!runnable.has(n)) create.push(n)
    return { create, remove: [], keep: slots }
  }
  // Preferred to keep first: running slots, then lower slot numbers (a stable base order).
  const base = slots
    .map((slot, i) => ({ slot, running: slot.some((t) => t.status.state === TaskState.RUNNING), number: numbers[i] as number }))
    .sort((a, b) => (a.running === b.running ? a.number - b.number : a.running ? -1 : 1))
  // The nth copy of the service on its node; -1 for a slot that is not one task on a known node.
  const perNode = new Map<string, number>()
  const indexed = base.map(({ slot }) => {
    const only = slot.length === 1 ? (slot[0] as Frozen<Task>) : undefined
    if (only === undefined || only.nodeId === '') return { slot, index: -1 }
    const index = (perNode.get(only.nodeId) ?? 0) + 1
    perNode.set(only.nodeId, index)
    return { slot, index }
  })
  // Stable: equal indexes keep the base order.
  indexed.sort((a, b) => (a.index < 0) !== (b.index < 0) ? (a.index < 0 ? 1 : -1) : a.index - b.index)
  const keep = indexed.slice(0, replicas).map((x) => x.slot)
  const remove = indexed.slice(replicas).flatMap((x) => x.slot.map((t) => t.id))
  return { create: [], remove, keep }
}
