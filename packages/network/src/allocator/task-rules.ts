/**
 * Which tasks the allocator looks at (SwarmKit's manager/allocator): the ones to allocate, and
 * the dead ones whose addresses are free again.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'

/** The text SwarmKit writes into a task's status when the allocator moves it to PENDING. */
export const PENDING_MESSAGE = 'pending task scheduling'

/**
 * A task to allocate: every NEW task, whatever its desired state, as in SwarmKit — a job's tasks
 * are desired COMPLETE, and a task already asked to shut down must still reach PENDING so that
 * the scheduler can move it to SHUTDOWN (its addresses are released once it is dead).
 */
export function wantsAllocation(t: Frozen<Task>): boolean {
  return t.status.state === TaskState.NEW
}

/**
 * A dead task (SwarmKit's taskDead): observed and desired state both past RUNNING. Its addresses
 * are released, and a rebuild skips it. A task that failed but is still desired RUNNING (the
 * restart supervisor has yet to shut it down) keeps its addresses.
 */
export function isDead(t: Frozen<Task>): boolean {
  return t.status.state > TaskState.RUNNING && t.desiredState > TaskState.RUNNING
}
