import { AlreadyExistsError, TaskState } from '@swarmkit-ts/api'
import type { StoreObject } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../src/index.ts'
import { Table } from '../src/table.ts'
import { node, service, task, tid } from './fixtures.ts'

const S1 = tid('s', 1)
const ids = (objs: readonly { id: string }[]): string[] => objs.map((o) => o.id).sort()

/** The same writes on an eager and a lazy store. */
async function both(fn: (store: MemoryStore) => Promise<void>): Promise<[MemoryStore, MemoryStore]> {
  const eager = new MemoryStore()
  const lazy = new MemoryStore({ lazyIndexes: true })
  await fn(eager)
  await fn(lazy)
  return [eager, lazy]
}

async function writes(store: MemoryStore): Promise<void> {
  await store.update((tx) => {
    tx.services.create(service(S1, 'web', { labels: { tier: 'front' } }))
    for (let i = 1; i <= 6; i++) tx.tasks.create(task(tid('t', i), S1, i, { nodeId: tid('m', i % 2), labels: { n: String(i % 3) } }))
  })
  await store.update((tx) => {
    tx.tasks.update(tid('t', 2), (d) => void (d.status.state = TaskState.RUNNING))
    tx.tasks.update(tid('t', 3), (d) => void (d.nodeId = tid('m', 7)))
    tx.tasks.delete(tid('t', 4))
  })
}

describe('lazy indexes', () => {
  it('a table builds an index on its first lookup and keeps it from then on', () => {
    const t = new Table('task', true)
    const a = { ...task(tid('t', 1), S1, 1, { state: TaskState.PENDING }), meta: { version: { index: 1n }, createdAt: 0, updatedAt: 0 } } as unknown as StoreObject
    const b = { ...task(tid('t', 2), S1, 2, { state: TaskState.RUNNING }), meta: { version: { index: 1n }, createdAt: 0, updatedAt: 0 } } as unknown as StoreObject
    t.put(a, undefined)
    t.put(b, undefined)
    expect(t.isBuilt('state')).toBe(false)
    expect(t.isBuilt('serviceId')).toBe(false)
    expect([...(t.ids('state', String(TaskState.RUNNING)) ?? [])]).toEqual([tid('t', 2)])
    expect(t.isBuilt('state')).toBe(true)
    expect(t.isBuilt('serviceId')).toBe(false)
    const a2 = { ...a, status: { timestamp: 0, state: TaskState.RUNNING } } as StoreObject
    t.put(a2, a)
    expect([...(t.ids('state', String(TaskState.RUNNING)) ?? [])]).toEqual([tid('t', 2), tid('t', 1)])
    expect(t.ids('state', String(TaskState.PENDING))).toBeUndefined()
    t.remove(b)
    expect([...(t.ids('state', String(TaskState.RUNNING)) ?? [])]).toEqual([tid('t', 1)])
    expect(t.verify()).toEqual([])
    // An eager table has every index from the start.
    expect(new Table('task').isBuilt('state')).toBe(true)
  })

  it('a lazy store finds what an eager one finds, by every task selector, before and after more writes', async () => {
    const [eager, lazy] = await both(writes)
    const selectors = [
      { serviceId: S1 },
      { serviceId: S1, slot: 3 },
      { nodeId: tid('m', 1) },
      { nodeId: tid('m', 7) },
      { desiredState: TaskState.RUNNING },
      { state: TaskState.RUNNING },
      { state: TaskState.NEW },
      { label: 'n' },
      { label: 'n', value: '1' },
      { idPrefix: 't' },
    ] as const
    const look = (s: MemoryStore): string[][] => s.view((tx) => selectors.map((by) => ids(tx.tasks.find(by))))
    const before = look(eager)
    expect(before[0]).toEqual([1, 2, 3, 5, 6].map((i) => tid('t', i)))
    expect(look(lazy)).toEqual(before)
    // Indexes now built on the lazy store follow later writes.
    const more = async (s: MemoryStore): Promise<void> => {
      await s.update((tx) => {
        tx.tasks.update(tid('t', 5), (d) => void (d.status.state = TaskState.RUNNING))
        tx.tasks.create(task(tid('t', 8), S1, 8, { nodeId: tid('m', 1) }))
        tx.tasks.delete(tid('t', 1))
      })
    }
    await more(eager)
    await more(lazy)
    expect(look(lazy)).toEqual(look(eager))
    expect(lazy.checkIndexes()).toEqual([])
    expect(eager.checkIndexes()).toEqual([])
  })

  it('the unique-name check of a lazy store builds the name index it needs', async () => {
    const store = new MemoryStore({ lazyIndexes: true })
    await store.update((tx) => tx.nodes.create(node(tid('m', 1), 'host-1')))
    await store.update((tx) => tx.services.create(service(S1, 'web')))
    await expect(store.update((tx) => tx.services.create(service(tid('s', 2), 'WEB')))).rejects.toBeInstanceOf(AlreadyExistsError)
    expect(store.view((tx) => ids(tx.services.find({ name: 'web' })))).toEqual([S1])
    expect(store.checkIndexes()).toEqual([])
  })

  it('a restored lazy store answers as the original', async () => {
    const [eager] = await both(writes)
    const copy = new MemoryStore({ lazyIndexes: true })
    copy.restore(eager.snapshot())
    expect(copy.view((tx) => ids(tx.tasks.find({ nodeId: tid('m', 1) })))).toEqual(eager.view((tx) => ids(tx.tasks.find({ nodeId: tid('m', 1) }))))
    expect(copy.checkIndexes()).toEqual([])
  })
})
