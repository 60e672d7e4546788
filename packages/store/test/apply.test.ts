import type { ObjectKind, StoreEvent, StoreObject } from '@swarmkit-ts/api'
import { ManualClock, arbObject } from '@swarmkit-ts/testkit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryStore, SNAPSHOT_FORMAT } from '../src/index.ts'
import type { ChangeSet, StoreAction } from '../src/index.ts'
import { service, task, tid } from './fixtures.ts'

const meta = { version: { index: 0n }, createdAt: 10, updatedAt: 20 }
const svc = (n: number, name: string): StoreObject => ({ ...service(tid('s', n), name), meta })
const tsk = (n: number, slot = 1): StoreObject => ({ ...task(tid('t', n), tid('s', 1), slot), meta })
const create = (kind: ObjectKind, object: StoreObject): StoreAction => ({ action: 'create', kind, object })

describe('applyChangeSet', () => {
  it('applies each transaction all-or-nothing and reports per-transaction results', () => {
    const store = new MemoryStore()
    const events = store.watch()
    const r = store.applyChangeSet(
      {
        transactions: [
          [create('service', svc(1, 'web')), create('task', tsk(1))],
          [create('task', tsk(2)), create('service', svc(2, 'WEB'))],
          [{ action: 'update', kind: 'task', object: tsk(1, 5), expectedVersion: 0n }],
          [{ action: 'delete', kind: 'task', id: tid('t', 9), expectedVersion: 3n }],
        ],
      },
      7n,
    )
    expect(r.version).toBe(7n)
    expect(r.results.map((x) => (x.ok ? 'ok' : x.error.name))).toEqual(['ok', 'AlreadyExistsError', 'ok', 'NotFoundError'])
    const failed = r.results[1]
    expect(failed?.ok === false && failed.error).toMatchObject({ kind: 'service', key: 'WEB' })
    store.view((tx) => {
      expect(tx.tasks.get(tid('t', 2))).toBeUndefined()
      expect(tx.tasks.get(tid('t', 1))?.slot).toBe(5)
      expect(tx.tasks.get(tid('t', 1))?.meta).toEqual({ version: { index: 7n }, createdAt: 10, updatedAt: 20 })
    })
    expect(store.version).toBe(7n)
    expect(store.checkIndexes()).toEqual([])
    events.close()
  })

  it('checks versions: 0 means written earlier in this change set', () => {
    const store = new MemoryStore()
    store.applyChangeSet({ transactions: [[create('task', tsk(1))]] }, 1n)
    const r = store.applyChangeSet(
      {
        transactions: [
          [{ action: 'update', kind: 'task', object: tsk(1, 2), expectedVersion: 0n }],
          [{ action: 'update', kind: 'task', object: tsk(1, 3), expectedVersion: 2n }],
          [{ action: 'update', kind: 'task', object: tsk(1, 4), expectedVersion: 1n }],
          [{ action: 'update', kind: 'task', object: tsk(1, 5), expectedVersion: 1n }],
          [{ action: 'update', kind: 'task', object: tsk(1, 6), expectedVersion: 0n }],
        ],
      },
      2n,
    )
    expect(r.results.map((x) => (x.ok ? 'ok' : x.error.name))).toEqual(['SequenceConflictError', 'SequenceConflictError', 'ok', 'SequenceConflictError', 'ok'])
    const e = r.results[0]
    expect(e?.ok === false && e.error).toMatchObject({ kind: 'task', id: tid('t', 1), expected: 0n, actual: 1n })
    expect(store.view((tx) => tx.tasks.get(tid('t', 1))?.slot)).toBe(6)
  })

  it('refuses an index that does not move forward and malformed change sets, applying nothing', () => {
    const store = new MemoryStore()
    store.applyChangeSet({ transactions: [] }, 3n)
    expect(() => store.applyChangeSet({ transactions: [] }, 3n)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'index' }))
    const bad: [unknown, string][] = [
      [{ transactions: 'x' }, 'transactions'],
      [{ transactions: [[{ action: 'create', kind: 'volume', object: tsk(1) }]] }, 'transactions.0.0.kind'],
      [{ transactions: [[{ action: 'merge', kind: 'task', object: tsk(1) }]] }, 'transactions.0.0.action'],
      [{ transactions: [[create('task', tsk(1))], [{ action: 'delete', kind: 'task', id: 'short', expectedVersion: 1n }]] }, 'transactions.1.0.id'],
      [{ transactions: [[{ action: 'update', kind: 'task', object: tsk(1), expectedVersion: 1 }]] }, 'transactions.0.0.expectedVersion'],
      [{ transactions: [[create('task', { ...tsk(1), serviceId: 5 } as unknown as StoreObject)]] }, 'transactions.0.0.object.serviceId'],
      [{ transactions: [[create('task', { ...tsk(1), meta: undefined } as unknown as StoreObject)]] }, 'transactions.0.0.object.meta'],
    ]
    for (const [cs, field] of bad) {
      expect(() => store.applyChangeSet(cs as ChangeSet, 4n)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
    }
    expect(store.version).toBe(3n)
    expect(store.view((tx) => tx.tasks.find().length)).toBe(0)
  })

  it('is deterministic: two stores fed the same change sets hold identical snapshots', async () => {
    const a = new MemoryStore()
    const log: { changes: ChangeSet; index: bigint }[] = []
    const b = new MemoryStore()
    const recording = new MemoryStore({
      proposer: (self) => ({
        propose: (changes) => {
          const index = self.version + 2n
          log.push({ changes, index })
          return Promise.resolve(self.applyChangeSet(changes, index))
        },
      }),
    })
    await recording.update((tx) => tx.services.create(service(tid('s', 1), 'web')))
    await Promise.all([1, 2, 3].map((i) => recording.update((tx) => tx.tasks.create(task(tid('t', i), tid('s', 1), i)))))
    await recording.update((tx) => tx.tasks.update(tid('t', 2), (d) => void (d.nodeId = tid('m', 1))))
    for (const { changes, index } of log) {
      a.applyChangeSet(changes, index)
      b.applyChangeSet(changes, index)
    }
    expect(a.snapshot()).toEqual(b.snapshot())
    expect(a.snapshot()).toEqual(recording.snapshot())
    expect(a.version).toBe(recording.version)
  })
})

describe('snapshot and restore', () => {
  it('round-trips arbitrary objects of every kind', () => {
    const kinds: ObjectKind[] = ['node', 'service', 'task', 'network', 'cluster', 'secret', 'config', 'extension', 'resource']
    fc.assert(
      fc.property(fc.tuple(...kinds.map((k) => fc.array(arbObject(k), { maxLength: 2 }))), fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }), (lists, version) => {
        const store = new MemoryStore()
        const seenIds = new Set<string>()
        const txs: StoreAction[][] = []
        lists.forEach((list, i) => {
          const kind = kinds[i] as ObjectKind
          for (const obj of list) {
            if (seenIds.has(`${kind}/${obj.id}`)) continue
            seenIds.add(`${kind}/${obj.id}`)
            txs.push([create(kind, obj)])
          }
        })
        store.applyChangeSet({ transactions: txs }, version)
        const copy = new MemoryStore()
        copy.restore(store.snapshot())
        expect(copy.version).toBe(version)
        expect(copy.snapshot()).toEqual(store.snapshot())
        for (const kind of kinds) {
          const all = (s: MemoryStore): unknown[] => s.view((tx) => (tx as unknown as Record<string, { find(): StoreObject[] }>)[`${kind}s`]?.find() ?? []).sort((x, y) => ((x).id < (y).id ? -1 : 1))
          expect(all(copy)).toEqual(all(store))
        }
        expect(copy.checkIndexes()).toEqual([])
      }),
      { numRuns: 12 },
    )
  }, 60_000)

  it('restore sends watchers the difference and a commit at the snapshot version', async () => {
    // Two clocks, so t2's createdAt differs between the stores (with the system clock both
    // creates could fall in the same millisecond: then t2 would be equal and send no update).
    const source = new MemoryStore({ clock: new ManualClock(1_000) })
    await source.update((tx) => {
      tx.services.create(service(tid('s', 1), 'web'))
      tx.tasks.create(task(tid('t', 1), tid('s', 1), 1))
      tx.tasks.create(task(tid('t', 2), tid('s', 1), 2))
    })
    await source.update((tx) => tx.tasks.update(tid('t', 1), (d) => void (d.slot = 9)))
    const snap = source.snapshot()
    const target = new MemoryStore({ clock: new ManualClock(2_000) })
    await target.update((tx) => {
      tx.tasks.create(task(tid('t', 2), tid('s', 1), 2))
      tx.tasks.create(task(tid('t', 3), tid('s', 1), 3))
    })
    const w = target.watch()
    target.restore(snap)
    const evs: string[] = []
    for (let i = 0; i < 5; i++) {
      const r = await w.next()
      const ev: StoreEvent | undefined = r.done === true ? undefined : r.value
      if (ev !== undefined) evs.push(ev.action === 'commit' ? `commit@${ev.version.index}` : `${ev.action}:${ev.object.id}`)
    }
    // t2 differs only in meta (created at another time/version), so it is an update.
    expect(evs).toEqual([`create:${tid('s', 1)}`, `update:${tid('t', 2)}`, `delete:${tid('t', 3)}`, `create:${tid('t', 1)}`, 'commit@2'])
    expect(target.version).toBe(2n)
    expect(() => target.changesSince(1n)).toThrow(expect.objectContaining({ name: 'HistoryTrimmedError' }))
    expect(target.snapshot()).toEqual(snap)
    w.close()
  })

  it('refuses bad snapshots without changing anything', async () => {
    const store = new MemoryStore()
    await store.update((tx) => tx.tasks.create(task(tid('t', 1), tid('s', 1), 1)))
    const good = store.snapshot()
    const before = store.snapshot()
    expect(() => store.restore(new Uint8Array([0xff, 0xff]))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
    expect(() => store.restore(new Uint8Array([0x08, SNAPSHOT_FORMAT + 1]))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'format' }))
    const twice = new Uint8Array(good.length * 2)
    twice.set(good)
    twice.set(good, good.length)
    expect(() => store.restore(twice)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'objects.1.id' }))
    expect(store.snapshot()).toEqual(before)
  })
})
