import { TaskState } from '@swarmkit-ts/api'
import type { Service, ServiceSpec, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { afterEach, describe, expect, it } from 'vitest'
import { REAPER_BATCH_INTERVAL_MS, REAPER_MAX_DIRTY, TaskReaper, newTask } from '../src/index.ts'
import { Harness, globalSpec, replicatedSpec } from './helpers/harness.ts'

const T0 = 1_700_000_000_000

interface TaskOptions {
  readonly slot?: number
  readonly nodeId?: string
  readonly state: TaskState
  readonly desired?: TaskState
  /** Milliseconds after T0 the status was applied (appliedAt); the agent timestamp is T0. */
  readonly at: number
  readonly serviceless?: boolean
}

/** A hand-made task of `svc` in the given state (the driver is off: nothing moves it). */
function task(h: Harness, svc: Frozen<Service>, o: TaskOptions): Frozen<Task> {
  const t = newTask(undefined, svc, o.slot ?? 1, o.nodeId ?? '', h)
  return {
    ...t,
    ...(o.serviceless === true ? { serviceId: '' } : {}),
    desiredState: o.desired ?? TaskState.RUNNING,
    status: { timestamp: T0, state: o.state, message: 'hand-made', appliedAt: T0 + o.at },
  } as Frozen<Task>
}

/** A harness with the driver off and only a task reaper running on it. */
class ReaperSetting {
  readonly h: Harness
  reaper: TaskReaper | undefined

  constructor(retention?: number) {
    this.h = new Harness({ start: false, ...(retention === undefined ? {} : { retention }) })
    this.h.driver.enabled = false
  }

  async start(): Promise<void> {
    await this.h.settle()
    this.reaper = new TaskReaper({ store: this.h.store, clock: this.h.clock, random: this.h.random, logger: this.h.logger })
    this.reaper.start()
    await this.h.settle()
  }

  async add(tasks: readonly Frozen<Task>[]): Promise<string[]> {
    await this.h.store.update((tx) => {
      for (const t of tasks) tx.tasks.create(t)
    })
    await this.h.settle()
    return tasks.map((t) => t.id)
  }

  ids(): string[] {
    return this.h.store.view((tx) => tx.tasks.find().map((t) => t.id)).sort()
  }

  async setLimit(limit: number): Promise<void> {
    await this.h.store.update((tx) => {
      const [c] = tx.clusters.find()
      if (c === undefined) throw new Error('no cluster')
      tx.clusters.update(c.id, (d) => {
        d.spec.orchestration = { taskHistoryRetentionLimit: limit }
      })
    })
    await this.h.settle()
  }
}

const settings: ReaperSetting[] = []
function setting(retention?: number): ReaperSetting {
  const s = new ReaperSetting(retention)
  settings.push(s)
  return s
}
afterEach(async () => {
  for (const s of settings.splice(0)) await s.reaper?.stop()
})

const sorted = (ids: readonly string[]): string[] => [...ids].sort()

describe('task reaper: history retention', () => {
  it('keeps the retention limit per replicated slot, deleting the oldest stopped tasks and never the running one', async () => {
    const s = setting(2)
    await s.start()
    const svc = await s.h.createService(replicatedSpec('web', 2))
    // Slot 1: the running task is the oldest entry, then four failures.
    const [running, f1, f2, f3, f4] = await s.add([
      task(s.h, svc, { state: TaskState.RUNNING, at: 0 }),
      task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at: 1 }),
      task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at: 2 }),
      task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at: 3 }),
      task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at: 4 }),
    ])
    // Slot 2: within the limit.
    const slot2 = await s.add([
      task(s.h, svc, { slot: 2, state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at: 1 }),
      task(s.h, svc, { slot: 2, state: TaskState.RUNNING, at: 2 }),
    ])
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual(sorted([running as string, f4 as string, ...slot2]))
    expect([f1, f2, f3].every((id) => !s.ids().includes(id as string))).toBe(true)
  })

  it('keeps the retention limit per node for a global service', async () => {
    const s = setting(2)
    await s.start()
    const n1 = await s.h.addNode('n1')
    const n2 = await s.h.addNode('n2')
    const svc = await s.h.createService(globalSpec('agent'))
    const onN1 = await s.add([
      task(s.h, svc, { slot: 0, nodeId: n1, state: TaskState.SHUTDOWN, desired: TaskState.SHUTDOWN, at: 1 }),
      task(s.h, svc, { slot: 0, nodeId: n1, state: TaskState.SHUTDOWN, desired: TaskState.SHUTDOWN, at: 2 }),
      task(s.h, svc, { slot: 0, nodeId: n1, state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at: 3 }),
      task(s.h, svc, { slot: 0, nodeId: n1, state: TaskState.RUNNING, at: 4 }),
    ])
    const onN2 = await s.add([
      task(s.h, svc, { slot: 0, nodeId: n2, state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at: 1 }),
      task(s.h, svc, { slot: 0, nodeId: n2, state: TaskState.RUNNING, at: 2 }),
    ])
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual(sorted([onN1[2] as string, onN1[3] as string, ...onN2]))
  })

  it('orders history by the time a status was applied, not by the agent timestamp', async () => {
    const s = setting(1)
    await s.start()
    const svc = await s.h.createService(replicatedSpec('web', 1))
    const older = task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at: 1 })
    const newer = task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at: 2 })
    // The agent clocks say the opposite.
    const [, keep] = await s.add([
      { ...older, status: { ...older.status, timestamp: T0 + 10 } },
      { ...newer, status: { ...newer.status, timestamp: T0 + 5 } },
    ])
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual([keep])
  })

  it('never prunes history when the limit is negative', async () => {
    const s = setting(-1)
    await s.start()
    const svc = await s.h.createService(replicatedSpec('web', 1))
    const ids = await s.add(
      [1, 2, 3, 4, 5, 6, 7].map((at) => task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at })),
    )
    await s.h.advance(10 * REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual(sorted(ids))
  })

  it('keeps maxAttempts + 1 tasks for a service whose restart policy limits attempts, overriding the cluster limit', async () => {
    const s = setting(1)
    await s.start()
    const spec = (name: string): ServiceSpec => ({
      ...replicatedSpec(name, 1),
      task: { container: { image: 'busybox:1' }, restart: { condition: 'on-failure', maxAttempts: 3 } },
    })
    const limited = await s.h.createService(spec('limited'))
    const plain = await s.h.createService(replicatedSpec('plain', 1))
    const failures = (svc: Frozen<Service>): Frozen<Task>[] =>
      [1, 2, 3, 4, 5, 6].map((at) => task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at }))
    const l = await s.add(failures(limited))
    const p = await s.add(failures(plain))
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual(sorted([...l.slice(2), p[5] as string]))
  })

  it('keeps maxAttempts + 1 tasks even when the cluster limit is negative (as SwarmKit)', async () => {
    const s = setting(-1)
    await s.start()
    const svc = await s.h.createService({
      ...replicatedSpec('limited', 1),
      task: { container: { image: 'busybox:1' }, restart: { maxAttempts: 1 } },
    })
    const ids = await s.add([1, 2, 3, 4].map((at) => task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at })))
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual(sorted(ids.slice(2)))
  })

  it('follows cluster limit changes live: a lowered limit prunes kept history at once, a raised one keeps more', async () => {
    const s = setting(5)
    await s.start()
    const svc = await s.h.createService(replicatedSpec('web', 1))
    const ids = await s.add([1, 2, 3, 4, 5].map((at) => task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at })))
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual(sorted(ids))
    await s.setLimit(2)
    expect(s.ids()).toEqual(sorted(ids.slice(3)))
    await s.setLimit(3)
    const more = await s.add([6, 7].map((at) => task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at })))
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual(sorted([ids[4] as string, ...more]))
  })

  it('uses the default limit of 5 without a cluster object', async () => {
    const s = setting()
    await s.start()
    const svc = await s.h.createService(replicatedSpec('web', 1))
    const ids = await s.add([1, 2, 3, 4, 5, 6, 7].map((at) => task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at })))
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual(sorted(ids.slice(2)))
  })

  it('does not prune the history of job services (as SwarmKit)', async () => {
    const s = setting(1)
    await s.start()
    const job = await s.h.createService({
      annotations: { name: 'batch' },
      mode: { replicatedJob: { maxConcurrent: 1, totalCompletions: 1 } },
      task: { container: { image: 'busybox:1' } },
    })
    const ids = await s.add(
      [1, 2, 3].map((at) => task(s.h, job, { slot: 0, state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at })),
    )
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual(sorted(ids))
  })

  it('looks again at a slot where two tasks were running once one of them stops', async () => {
    const s = setting(1)
    await s.start()
    const svc = await s.h.createService(replicatedSpec('web', 1))
    const [, old, replacement] = await s.add([
      task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at: 1 }),
      task(s.h, svc, { state: TaskState.RUNNING, at: 2 }),
      task(s.h, svc, { state: TaskState.RUNNING, at: 3 }),
    ])
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual(sorted([old as string, replacement as string]))
    await s.h.store.update((tx) =>
      tx.tasks.update(old as string, (d) => {
        d.desiredState = TaskState.SHUTDOWN
        d.status.state = TaskState.SHUTDOWN
        d.status.appliedAt = T0 + 4
      }),
    )
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual([replacement])
  })

  it('a new reaper prunes slots left over the limit at start', async () => {
    const s = setting(2)
    const svc = await s.h.createService(replicatedSpec('web', 1))
    const ids = await s.add([1, 2, 3, 4].map((at) => task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at })))
    await s.start()
    expect(s.ids()).toEqual(sorted(ids.slice(2)))
  })
})

describe('task reaper: removed and orphaned tasks', () => {
  it('deletes a REMOVE task once it has stopped, not keeping it as history', async () => {
    const s = setting(5)
    await s.start()
    const svc = await s.h.createService(replicatedSpec('web', 1))
    const [id] = await s.add([task(s.h, svc, { state: TaskState.RUNNING, desired: TaskState.REMOVE, at: 1 })])
    await s.h.advance(10 * REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual([id])
    await s.h.store.update((tx) =>
      tx.tasks.update(id as string, (d) => {
        d.status.state = TaskState.SHUTDOWN
      }),
    )
    await s.h.settle()
    expect(s.ids()).toEqual([id])
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual([])
  })

  it('deletes a REMOVE task that was never assigned', async () => {
    const s = setting(5)
    await s.start()
    const svc = await s.h.createService(replicatedSpec('web', 1))
    const [id] = await s.add([task(s.h, svc, { state: TaskState.PENDING, at: 1 })])
    await s.h.store.update((tx) =>
      tx.tasks.update(id as string, (d) => {
        d.desiredState = TaskState.REMOVE
      }),
    )
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual([])
  })

  it('deletes stopped or unassigned REMOVE tasks and serviceless ORPHANED tasks at start, at once', async () => {
    const s = setting(5)
    const svc = await s.h.createService(replicatedSpec('web', 1))
    const [, , , running, orphanedOfService] = await s.add([
      task(s.h, svc, { state: TaskState.SHUTDOWN, desired: TaskState.REMOVE, at: 1 }),
      task(s.h, svc, { slot: 2, state: TaskState.NEW, desired: TaskState.REMOVE, at: 1 }),
      task(s.h, svc, { slot: 3, state: TaskState.ORPHANED, desired: TaskState.RUNNING, at: 1, serviceless: true }),
      task(s.h, svc, { slot: 4, state: TaskState.RUNNING, desired: TaskState.REMOVE, at: 1 }),
      task(s.h, svc, { slot: 5, state: TaskState.ORPHANED, desired: TaskState.RUNNING, at: 1 }),
    ])
    await s.start()
    expect(s.ids()).toEqual(sorted([running as string, orphanedOfService as string]))
  })

  it('deletes a serviceless task once it is observed ORPHANED', async () => {
    const s = setting(5)
    await s.start()
    const svc = await s.h.createService(replicatedSpec('web', 1))
    const [id] = await s.add([task(s.h, svc, { state: TaskState.RUNNING, at: 1, serviceless: true })])
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual([id])
    await s.h.store.update((tx) =>
      tx.tasks.update(id as string, (d) => {
        d.status.state = TaskState.ORPHANED
      }),
    )
    await s.h.advance(REAPER_BATCH_INTERVAL_MS)
    expect(s.ids()).toEqual([])
  })
})

describe('task reaper: batching', () => {
  it('deletes nothing before the batch interval has passed since the first pending change', async () => {
    const s = setting(1)
    await s.start()
    const svc = await s.h.createService(replicatedSpec('web', 1))
    const ids = await s.add([1, 2, 3].map((at) => task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at })))
    await s.h.advance(REAPER_BATCH_INTERVAL_MS - 1)
    expect(s.ids()).toEqual(sorted(ids))
    await s.h.advance(1)
    expect(s.ids()).toEqual([ids[2]])
  })

  it(`prunes at once when more than ${REAPER_MAX_DIRTY} slots and cleanup ids are pending`, async () => {
    const s = setting(5)
    await s.start()
    const svc = await s.h.createService(replicatedSpec('web', 1))
    const [removed] = await s.add([task(s.h, svc, { state: TaskState.RUNNING, desired: TaskState.REMOVE, at: 1 })])
    await s.h.store.update((tx) =>
      tx.tasks.update(removed as string, (d) => {
        d.status.state = TaskState.SHUTDOWN
      }),
    )
    // A slot is looked at once it holds two tasks (one task is within any limit but 0). One
    // cleanup id plus 998 slots of two tasks: 999 pending, not yet above the threshold.
    const batch = (from: number, n: number): Frozen<Task>[] =>
      Array.from({ length: 2 * n }, (_, i) => task(s.h, svc, { slot: from + Math.floor(i / 2), state: TaskState.RUNNING, at: 1 }))
    const all = batch(2, 998)
    for (let i = 0; i < all.length; i += 100) await s.add(all.slice(i, i + 100))
    expect(s.ids()).toContain(removed)
    // Two more such slots make 1,001 pending: pruned without waiting for the timer.
    await s.add(batch(1000, 2))
    expect(s.h.clock.now()).toBe(T0)
    expect(s.ids()).not.toContain(removed)
    expect(s.ids()).toHaveLength(2000)
  })

  it('stop() cancels the batching timer', async () => {
    const s = setting(1)
    await s.start()
    const svc = await s.h.createService(replicatedSpec('web', 1))
    await s.add([task(s.h, svc, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN, at: 1 }), task(s.h, svc, { state: TaskState.RUNNING, at: 2 })])
    expect(s.h.clock.nextDueAt()).toBe(T0 + REAPER_BATCH_INTERVAL_MS)
    await s.reaper?.stop()
    expect(s.h.clock.nextDueAt()).toBe(undefined)
  })
})
