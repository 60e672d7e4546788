import type { StoreEvent } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { MemoryStore, WatchQueueOverflowError } from '../src/index.ts'
import { pollWatch } from '../src/watch.ts'
import type { Watch } from '../src/index.ts'
import { outcome, service, task, tid } from './fixtures.ts'

/** Takes the next `n` events. */
async function take(w: Watch, n: number): Promise<StoreEvent[]> {
  const out: StoreEvent[] = []
  while (out.length < n) {
    const r = await w.next()
    if (r.done === true) break
    out.push(r.value)
  }
  return out
}

const short = (ev: StoreEvent): string => (ev.action === 'commit' ? `commit@${ev.version.index}` : `${ev.action}:${ev.kind}:${ev.object.id.slice(0, 1)}${parseInt(ev.object.id.slice(1), 36)}`)

describe('watch', () => {
  it('delivers every change in order with a commit event per transaction', async () => {
    const store = new MemoryStore()
    const w = store.watch()
    await store.update((tx) => {
      tx.services.create(service(tid('s', 1), 'web'))
      tx.tasks.create(task(tid('t', 1), tid('s', 1), 1))
    })
    await store.update((tx) => tx.tasks.update(tid('t', 1), (d) => void (d.slot = 2)))
    await store.update((tx) => tx.tasks.delete(tid('t', 1)))
    const evs = await take(w, 7)
    expect(evs.map(short)).toEqual(['create:service:s1', 'create:task:t1', 'commit@1', 'update:task:t1', 'commit@2', 'delete:task:t1', 'commit@3'])
    const upd = evs[3]
    expect(upd?.action === 'update' && [upd.oldObject?.meta.version.index, upd.object.meta.version.index]).toEqual([1n, 2n])
    w.close()
    expect(store.watcherCount).toBe(0)
  })

  it('pollWatch takes queued events synchronously, in order, and leaves waiting, the end and errors to next()', async () => {
    const store = new MemoryStore({ watchQueueLimit: 3 })
    const w = store.watch({ kinds: 'task' })
    expect(pollWatch(w)).toBeUndefined()
    await store.update((tx) => tx.tasks.create(task(tid('t', 1), tid('s', 1), 1)))
    expect(w.queued).toBe(2)
    expect(short(pollWatch(w) as StoreEvent)).toBe('create:task:t1')
    expect(w.queued).toBe(1)
    expect(short(pollWatch(w) as StoreEvent)).toBe('commit@1')
    expect(pollWatch(w)).toBeUndefined()
    // Nothing queued: next() waits for the next event, as before.
    const pending = w.next()
    await store.update((tx) => tx.tasks.update(tid('t', 1), (d) => void (d.slot = 2)))
    expect(short((await pending).value as StoreEvent)).toBe('update:task:t1')
    expect(short(pollWatch(w) as StoreEvent)).toBe('commit@2')
    // An overflow drops the queue: poll finds nothing, next() rejects with the overflow.
    await store.update((tx) => {
      tx.tasks.create(task(tid('t', 2), tid('s', 1), 2))
      tx.tasks.create(task(tid('t', 3), tid('s', 1), 3))
      tx.tasks.create(task(tid('t', 4), tid('s', 1), 4))
    })
    expect(pollWatch(w)).toBeUndefined()
    await expect(w.next()).rejects.toBeInstanceOf(WatchQueueOverflowError)
    expect(pollWatch(w)).toBeUndefined()
    expect(await w.next()).toEqual({ value: undefined, done: true })
  })

  it('filters by kinds, actions, id, prefixes, name and predicate', async () => {
    const store = new MemoryStore()
    const byKind = store.watch({ kinds: ['service'], actions: ['create', 'update'] })
    const byName = store.watch({ name: 'WEB', actions: ['create', 'update', 'delete'] })
    const byPrefix = store.watch({ namePrefix: 'ap', actions: ['delete'] })
    const byId = store.watch({ id: tid('t', 2) })
    const byIdPrefix = store.watch({ idPrefix: 't', actions: ['create'] })
    const byWhere = store.watch({ kinds: 'task', where: (ev) => ev.object.id === tid('t', 1) && ev.action === 'create' })
    await store.update((tx) => {
      tx.services.create(service(tid('s', 1), 'web'))
      tx.services.create(service(tid('s', 2), 'api'))
      tx.tasks.create(task(tid('t', 1), tid('s', 1), 1))
      tx.tasks.create(task(tid('t', 2), tid('s', 1), 2))
    })
    await store.update((tx) => {
      tx.services.update(tid('s', 1), (d) => void (d.spec.annotations.name = 'renamed'))
      tx.services.delete(tid('s', 2))
    })
    expect((await take(byKind, 3)).map(short)).toEqual(['create:service:s1', 'create:service:s2', 'update:service:s1'])
    // The rename away from 'web' still matches on the old object.
    expect((await take(byName, 2)).map(short)).toEqual(['create:service:s1', 'update:service:s1'])
    expect((await take(byPrefix, 1)).map(short)).toEqual(['delete:service:s2'])
    expect((await take(byId, 3)).map(short)).toEqual(['create:task:t2', 'commit@1', 'commit@2'])
    expect((await take(byIdPrefix, 2)).map(short)).toEqual(['create:task:t1', 'create:task:t2'])
    expect((await take(byWhere, 1)).map(short)).toEqual(['create:task:t1'])
    for (const w of [byKind, byName, byPrefix, byId, byIdPrefix, byWhere]) w.close()
  })

  it('closes a watcher that falls behind with WatchQueueOverflowError, others go on', async () => {
    const store = new MemoryStore({ watchQueueLimit: 5 })
    const slow = store.watch({ actions: ['create'] })
    const fine = store.watch({ actions: ['create'] }, { queueLimit: 100 })
    await store.update((tx) => {
      for (let i = 0; i < 6; i++) tx.tasks.create(task(tid('t', i), tid('s', 1), i))
    })
    expect(slow.closed).toBe(true)
    const r = await outcome(slow.next())
    expect(!r.ok && r.error).toMatchObject({ name: 'WatchQueueOverflowError', limit: 5, version: undefined, code: 14 })
    expect(await slow.next()).toEqual({ value: undefined, done: true })
    expect((await take(fine, 6)).length).toBe(6)
    fine.close()
    expect(store.watcherCount).toBe(0)
  })

  it('an abort signal ends the iteration', async () => {
    const store = new MemoryStore()
    const ac = new AbortController()
    const w = store.watch(undefined, { signal: ac.signal })
    const pending = w.next()
    ac.abort()
    expect(await pending).toEqual({ value: undefined, done: true })
    expect(store.watcherCount).toBe(0)
    const pre = store.watch(undefined, { signal: ac.signal })
    expect(pre.closed).toBe(true)
  })

  it('works with for await and break', async () => {
    const store = new MemoryStore()
    const w = store.watch({ actions: ['create'] })
    void store.update((tx) => tx.tasks.create(task(tid('t', 1), tid('s', 1), 1)))
    const got: string[] = []
    for await (const ev of w) {
      got.push(short(ev))
      break
    }
    expect(got).toEqual(['create:task:t1'])
    expect(w.closed).toBe(true)
  })

  it('viewAndWatch starts exactly at the view', async () => {
    const store = new MemoryStore()
    await store.update((tx) => tx.tasks.create(task(tid('t', 1), tid('s', 1), 1)))
    const { result, watch } = store.viewAndWatch((tx) => tx.tasks.find().map((t) => t.id), { actions: ['create'] })
    await store.update((tx) => tx.tasks.create(task(tid('t', 2), tid('s', 1), 2)))
    expect(result).toEqual([tid('t', 1)])
    expect((await take(watch, 1)).map(short)).toEqual(['create:task:t2'])
    watch.close()
    const failing = (() => {
      try {
        return store.viewAndWatch(() => {
          throw new Error('view failed')
        })
      } catch (err) {
        return (err as Error).message
      }
    })()
    expect(failing).toBe('view failed')
    expect(store.watcherCount).toBe(0)
  })

  it('changesSince replays recent change sets and refuses trimmed history', async () => {
    const store = new MemoryStore({ historyLimit: 4 })
    for (let i = 1; i <= 4; i++) await store.update((tx) => tx.tasks.create(task(tid('t', i), tid('s', 1), i)))
    expect(store.changesSince(2n).map(short)).toEqual(['create:task:t3', 'commit@3', 'create:task:t4', 'commit@4'])
    expect(store.changesSince(4n)).toEqual([])
    const r = (() => {
      try {
        return store.changesSince(1n)
      } catch (err) {
        return err
      }
    })()
    expect(r).toMatchObject({ name: 'HistoryTrimmedError', requested: 1n, oldest: 2n })
    expect(() => store.changesSince(9n)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'version' }))
    const resumed = store.watch({ actions: ['create'] }, { since: 3n })
    await store.update((tx) => tx.tasks.create(task(tid('t', 5), tid('s', 1), 5)))
    expect((await take(resumed, 2)).map(short)).toEqual(['create:task:t4', 'create:task:t5'])
    resumed.close()
  })

  it('fans out to many watchers, each seeing every change once', async () => {
    const store = new MemoryStore()
    const ws = Array.from({ length: 100 }, () => store.watch({ actions: ['create'] }))
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.update((tx) => tx.tasks.create(task(tid('t', i), tid('s', 1), i)))))
    for (const w of ws) {
      const evs = await take(w, 20)
      expect(evs.map((e) => (e.action === 'commit' ? '' : e.object.id))).toEqual(Array.from({ length: 20 }, (_, i) => tid('t', i)))
      w.close()
    }
  })
})
