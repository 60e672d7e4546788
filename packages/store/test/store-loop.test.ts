import type { StoreEvent } from '@swarmkit-ts/api'
import { silentLogger } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { MemoryStore, StoreLoop } from '../src/index.ts'
import type { Watch } from '../src/index.ts'
import { service, task, tid } from './fixtures.ts'

async function take(w: Watch, n: number): Promise<StoreEvent[]> {
  const out: StoreEvent[] = []
  while (out.length < n) {
    const r = await w.next()
    if (r.done === true) break
    out.push(r.value)
  }
  return out
}

const short = (ev: StoreEvent): string => (ev.action === 'commit' ? `commit@${ev.version.index}` : `${ev.action}:${ev.kind}`)

describe('watch skipEmptyCommits', () => {
  it('delivers the commit event only of transactions that brought the watcher an event', async () => {
    const store = new MemoryStore()
    const w = store.watch({ kinds: 'task' }, { skipEmptyCommits: true })
    const all = store.watch({ kinds: 'task' })
    await store.update((tx) => tx.services.create(service(tid('s', 1), 'web')))
    await store.update((tx) => tx.tasks.create(task(tid('t', 1), tid('s', 1), 1)))
    await store.update((tx) => tx.services.update(tid('s', 1), (d) => void (d.spec.annotations.labels = { a: 'b' })))
    await store.update((tx) => tx.tasks.delete(tid('t', 1)))
    expect((await take(w, 4)).map(short)).toEqual(['create:task', 'commit@2', 'delete:task', 'commit@4'])
    expect((await take(all, 6)).map(short)).toEqual(['commit@1', 'create:task', 'commit@2', 'commit@3', 'delete:task', 'commit@4'])
    w.close()
    all.close()
  })
})

describe('StoreLoop', () => {
  it('ticks after a commit with events of its kinds, not after commits of other kinds', async () => {
    const store = new MemoryStore()
    const seen: string[] = []
    const loop = new StoreLoop({ store, logger: silentLogger }, 'test loop', ['task'], {
      resync: () => void seen.push('resync'),
      event: (ev) => void seen.push(`${ev.action}:${ev.kind}`),
      tick: () => void seen.push('tick'),
    })
    loop.start()
    // A marker watch tells when the loop has had the chance to see each commit.
    const marker = store.watch({ kinds: 'task' })
    await store.update((tx) => tx.services.create(service(tid('s', 1), 'web')))
    await store.update((tx) => tx.tasks.create(task(tid('t', 1), tid('s', 1), 1)))
    await store.update((tx) => tx.services.update(tid('s', 1), (d) => void (d.spec.annotations.labels = { a: 'b' })))
    await store.update((tx) => tx.tasks.update(tid('t', 1), (d) => void (d.slot = 2)))
    await take(marker, 6)
    for (let i = 0; i < 10 && seen.filter((s) => s === 'tick').length < 3; i++) await new Promise((r) => setImmediate(r))
    await loop.stop()
    marker.close()
    expect(seen).toEqual(['resync', 'tick', 'create:task', 'tick', 'update:task', 'tick'])
  })
})
