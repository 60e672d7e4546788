/**
 * Fixtures of the worker's tests: tasks, secrets, a ManualClock driver that also waits for real
 * I/O (the file task database), and an agent on a FakeRuntime.
 */
import type { TaskState } from '@swarmkit-ts/api'
import type { AssignmentChange, ContainerSpec, Task, TaskStatus } from '@swarmkit-ts/api'
import type { ManualClock } from '@swarmkit-ts/testkit'
import { makeSecret, makeTask } from './exec-fixtures.ts'

/** A task `id` of service `svc1` on `node1`, ASSIGNED, desired RUNNING, running `sleep 1000` on busybox:fake. */
export function task(id: string, over: Partial<Task> = {}, container: Partial<ContainerSpec> = {}): Task {
  return makeTask(container, { id, ...over })
}

/** `t` with another desired state. */
export function desired(t: Task, state: TaskState): Task {
  return { ...t, desiredState: state }
}

/** A secret with UTF-8 data. */
export const secret = makeSecret

/** A status at `timestamp`. */
export function status(state: TaskState, timestamp: number, more: Partial<TaskStatus> = {}): TaskStatus {
  return { state, timestamp, ...more }
}

/** `update` changes for tasks. */
export function updates(...tasks: Task[]): AssignmentChange[] {
  return tasks.map((t) => ({ action: 'update', assignment: { task: t } }))
}

/** Lets pending promise and I/O callbacks run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/**
 * Waits until `condition` holds, running the clock's due timers (never moving it) and letting
 * real I/O complete; fails after `guardMs` of real time (a failure guard, not a timing).
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, clock?: ManualClock, guardMs = 4_000): Promise<void> {
  const deadline = performance.now() + guardMs
  for (;;) {
    clock?.advance(0)
    await flush()
    if (await condition()) return
    if (performance.now() > deadline) throw new Error(`until: ${what} did not happen`)
    await new Promise<void>((resolve) => setTimeout(resolve, 2))
  }
}

/** Moves `clock` by `ms`, timer by timer, letting callbacks and I/O run after each. */
export async function advance(clock: ManualClock, ms: number): Promise<void> {
  const target = clock.now() + ms
  await flush()
  for (;;) {
    const due = clock.nextDueAt()
    if (due === undefined || due > target) break
    clock.advance(Math.max(0, due - clock.now()))
    await flush()
  }
  clock.advance(target - clock.now())
  await flush()
}

/**
 * Like {@link until}, but moves `clock` to its next timer whenever the condition does not hold
 * yet (at most `maxVirtualMs` ahead): for what waits on backoffs and heartbeats.
 */
export async function eventually(condition: () => boolean, what: string, clock: ManualClock, maxVirtualMs = 120_000, guardMs = 4_000): Promise<void> {
  const deadline = performance.now() + guardMs
  const end = clock.now() + maxVirtualMs
  for (;;) {
    clock.advance(0)
    await flush()
    if (condition()) return
    if (performance.now() > deadline) throw new Error(`eventually: ${what} did not happen`)
    const due = clock.nextDueAt()
    if (due !== undefined && due <= end) clock.advance(Math.max(0, due - clock.now()))
    else await new Promise<void>((resolve) => setTimeout(resolve, 2))
  }
}
