/**
 * The measurements of `pnpm --filter @swarmkit-ts/store bench` (unreplicated MemoryStore).
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { Task } from '@swarmkit-ts/api'
import { Immer } from 'immer'
import { produce } from '../src/objects/draft.ts'
import { MemoryStore } from '../src/index.ts'
import { ownFrozen } from '../src/objects/freeze.ts'
import { benchId, benchTask, loadTasks } from './fixtures.ts'

setFlagsFromString('--expose-gc')
const gcFn = runInNewContext('gc') as () => void

/** Runs a full garbage collection a few times. */
export function gc(): void {
  for (let i = 0; i < 3; i++) gcFn()
}

/** A deterministic pseudo-random sequence (xorshift32), so runs are comparable. */
export function rng(seed: number): () => number {
  let x = seed | 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

/** A 1M-task store (10,000 services × 100 tasks) and what loading it cost. */
export function buildLargeStore(services: number, perService: number): { store: MemoryStore; loadMs: number; bytesPerTask: number } {
  gc()
  const before = process.memoryUsage().heapUsed
  const store = new MemoryStore({ historyLimit: 0 })
  const t0 = performance.now()
  loadTasks(store, services, perService)
  const loadMs = performance.now() - t0
  gc()
  const after = process.memoryUsage().heapUsed
  return { store, loadMs, bytesPerTask: (after - before) / (services * perService) }
}

/** Gets by id per second, random ids, inside one view per 10,000 gets. */
export function measureGets(store: MemoryStore, tasks: number, windowMs: number): { perSecond: number; perCpuSecond: number } {
  const r = rng(1)
  const ids = Array.from({ length: 100_000 }, () => benchId('t', Math.floor(r() * tasks)))
  let n = 0
  let found = 0
  const cpu0 = process.cpuUsage()
  const end = performance.now() + windowMs
  const t0 = performance.now()
  while (performance.now() < end) {
    store.view((tx) => {
      for (let i = 0; i < 10_000; i++) if (tx.tasks.get(ids[(n + i) % ids.length] as string) !== undefined) found++
    })
    n += 10_000
  }
  if (found !== n) throw new Error(`gets found ${found} of ${n}`)
  const cpu = process.cpuUsage(cpu0)
  return { perSecond: n / ((performance.now() - t0) / 1000), perCpuSecond: n / ((cpu.user + cpu.system) / 1e6) }
}

/** Milliseconds per `find({ serviceId })` of a 100-task service (mean and p99 over `count` random services). */
export function measureFindByService(store: MemoryStore, services: number, perService: number, count: number): { meanMs: number; p99Ms: number } {
  const r = rng(2)
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    const sid = benchId('s', Math.floor(r() * services))
    const t0 = performance.now()
    const n = store.view((tx) => tx.tasks.find({ serviceId: sid }).length)
    times.push(performance.now() - t0)
    if (n !== perService) throw new Error(`service ${sid} has ${n} tasks, expected ${perService}`)
  }
  times.sort((a, b) => a - b)
  return { meanMs: times.reduce((a, b) => a + b, 0) / times.length, p99Ms: times[Math.floor(times.length * 0.99)] ?? Number.NaN }
}

/** Finds by (unique) service name per second. */
export function measureFindByName(store: MemoryStore, services: number, windowMs: number): { perSecond: number; perCpuSecond: number } {
  const r = rng(3)
  const names = Array.from({ length: 10_000 }, () => `SVC-${Math.floor(r() * services)}`)
  let n = 0
  const cpu0 = process.cpuUsage()
  const end = performance.now() + windowMs
  const t0 = performance.now()
  while (performance.now() < end) {
    store.view((tx) => {
      for (let i = 0; i < 1_000; i++) if (tx.services.find({ name: names[(n + i) % names.length] as string }).length !== 1) throw new Error('name not found')
    })
    n += 1_000
  }
  const cpu = process.cpuUsage(cpu0)
  return { perSecond: n / ((performance.now() - t0) / 1000), perCpuSecond: n / ((cpu.user + cpu.system) / 1e6) }
}

/**
 * Single-object update transactions per second with `callers` concurrent callers (each loops
 * update → await), by immer recipe or by passing a whole new object.
 */
export async function measureUpdates(
  callers: number,
  windowMs: number,
  mode: 'recipe' | 'object' = 'recipe',
): Promise<{ perSecond: number; perCpuSecond: number; proposals: number }> {
  const store = new MemoryStore({ historyLimit: 1_000 })
  loadTasks(store, 100, 100)
  gc()
  const startVersion = store.version
  // The callers hold ids as the store handed them out (built once, not per call).
  const ids = store.view((tx) => tx.tasks.find().map((t) => t.id))
  let done = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const end = t0 + windowMs
  await Promise.all(
    Array.from({ length: callers }, async (_, w) => {
      let i = 0
      while (performance.now() < end) {
        const id = ids[(w * 7 + i++ * 13) % 10_000] as string
        await store.update((tx) => {
          if (mode === 'recipe') {
            tx.tasks.update(id, (d) => {
              d.status.timestamp += 1
            })
            return
          }
          const t = tx.tasks.get(id)
          if (t !== undefined) tx.tasks.update({ ...t, status: { ...t.status, timestamp: t.status.timestamp + 1 } })
        })
        done++
      }
    }),
  )
  const perSecond = done / ((performance.now() - t0) / 1000)
  const cpu = process.cpuUsage(cpu0)
  return { perSecond, perCpuSecond: done / ((cpu.user + cpu.system) / 1e6), proposals: Number(store.version - startVersion) }
}

/**
 * Watch fan-out: `watchers` watchers each iterate every event; `updates` single-task updates go
 * through 100 concurrent callers. Returns events delivered per second (to all watchers together)
 * and the time until every watcher has seen the last commit.
 */
export async function measureFanOut(watchers: number, updates: number): Promise<{ eventsPerSec: number; totalMs: number; events: number }> {
  const store = new MemoryStore({ historyLimit: 0, watchQueueLimit: 1_000_000 })
  loadTasks(store, 10, 100)
  let delivered = 0
  const ws = Array.from({ length: watchers }, () => store.watch({ kinds: 'task', actions: ['update'] }))
  const consumers = ws.map(async (w) => {
    let seen = 0
    for await (const _ of w) {
      delivered++
      if (++seen === updates) break
    }
  })
  gc()
  const t0 = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (next < updates) {
        const id = benchId('t', next++ % 1_000)
        await store.update((tx) => {
          tx.tasks.update(id, (d) => {
            d.status.timestamp += 1
          })
        })
      }
    }),
  )
  await Promise.all(consumers)
  const totalMs = performance.now() - t0
  return { eventsPerSec: delivered / (totalMs / 1000), totalMs, events: delivered }
}

/**
 * A recipe's cost on its own (no store): `status.timestamp += 1` on 1,000 frozen tasks, through
 * the store's drafts and through immer 11 (frozen result, as the store needs), ns per recipe.
 * Alternates the two a few times and keeps each one's best window.
 */
export function measureRecipes(windowMs: number): { draftNs: number; immerNs: number } {
  const tasks = Array.from({ length: 1000 }, (_, i) => ownFrozen(benchTask(i, i % 10, i + 1)))
  const im = new Immer({ autoFreeze: true })
  const recipe = (d: { status: { timestamp: number } }): void => {
    d.status.timestamp += 1
  }
  let sink: unknown
  const time = (f: (t: Task) => unknown): number => {
    let n = 0
    const t0 = performance.now()
    const end = t0 + windowMs / 6
    while (performance.now() < end) {
      for (const t of tasks) sink = f(t)
      n += tasks.length
    }
    return ((performance.now() - t0) * 1e6) / n
  }
  const ours = (t: Task): unknown => Object.freeze(produce(t, recipe).result)
  const theirs = (t: Task): unknown => im.produce(t, recipe)
  let draftNs = Infinity
  let immerNs = Infinity
  for (let r = 0; r < 3; r++) {
    draftNs = Math.min(draftNs, time(ours))
    immerNs = Math.min(immerNs, time(theirs))
  }
  void sink
  return { draftNs, immerNs }
}
