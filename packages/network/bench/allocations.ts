/**
 * `pnpm bench` (allocations): the allocation figures of issue 16 —
 * - addresses for 100,000 tasks across 100 networks, raw (`Ipam.allocate`) and end to end (the
 *   NetworkAllocator on a MemoryStore moving 100,000 NEW tasks to PENDING, from its start to the
 *   last task PENDING), with a baseline: the same task writes made straight to the store;
 * - published ports for 2,000 services (each with 2 dynamic ingress ports, tcp and udp, and 1
 *   fixed), raw (`PortAllocator.plan` + `commit`) and end to end (until every endpoint is written).
 * In-memory store, no Raft, ManualClock. Each row runs BENCH_RUNS times (default 3); the table
 * shows the median and the range. Prints the CPU and writes bench-results/network-allocations.json.
 *
 * BENCH_TASKS scales the task rows (default 100,000), BENCH_SERVICES the port rows (default 2,000).
 */
import { availableParallelism, cpus, loadavg } from 'node:os'
import { TaskState } from '@swarmkit-ts/api'
import type { Network, Service } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import type { Frozen } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { Ipam, NetworkAllocator, PortAllocator } from '../src/index.ts'
import { printTable, writeBenchResults } from '../../../scripts/test-support/bench-report.ts'
import type { MedianRow } from '../../../scripts/test-support/bench-report.ts'

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3)
const TASKS = Number(process.env['BENCH_TASKS'] ?? 100_000)
const SERVICES = Number(process.env['BENCH_SERVICES'] ?? 2_000)
const NETWORKS = 100

type Row = MedianRow
interface Timing {
  readonly ms: number
  readonly cpuMs: number
}
const rows: Row[] = []
const log = (s: string): void => void process.stderr.write(`${s}\n`)
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function stopwatch(): () => Timing {
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  return () => {
    const cpu = process.cpuUsage(cpu0)
    return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 }
  }
}

function stats(values: readonly number[]): { median: number; min: number; max: number } {
  const v = [...values].sort((a, b) => a - b)
  const mid = Math.floor(v.length / 2)
  const median = v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2
  return { median, min: v[0] as number, max: v[v.length - 1] as number }
}

function timed(benchmark: string, load: string, values: readonly Timing[], extra: { target?: string; note?: string } = {}): void {
  rows.push({ benchmark, load, ...stats(values.map((v) => v.ms)), unit: 'ms', target: extra.target, note: extra.note })
  rows.push({ benchmark: '  the same, CPU time of the process', load, ...stats(values.map((v) => v.cpuMs)), unit: 'CPU ms' })
}

async function repeat<T>(label: string, fn: () => Promise<T> | T): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < RUNS; i++) {
    log(`${label}: run ${i + 1}/${RUNS}`)
    out.push(await fn())
  }
  return out
}

const pad = (prefix: string, i: number): string => `${prefix}${String(i).padStart(25 - prefix.length, '0')}`

function network(i: number): Omit<Network, 'meta'> {
  return {
    id: pad('net', i),
    spec: { annotations: { name: `n${i}` } },
    ipam: { driver: { name: 'default' }, configs: [{ family: 'ipv4', subnet: `10.${i}.0.0/16`, gateway: `10.${i}.0.1` }] },
  }
}

function rawAddresses(): Timing {
  const ipam = new Ipam()
  const ids: string[] = []
  for (let i = 0; i < NETWORKS; i++) {
    const n = { ...network(i), meta: { version: { index: 1n }, createdAt: 0, updatedAt: 0 } }
    ipam.addNetwork(n)
    ids.push(n.id)
  }
  const read = stopwatch()
  for (let t = 0; t < TASKS; t++) ipam.allocate(ids[t % NETWORKS] as string)
  return read()
}

/** A store with the networks, one service per network, and TASKS NEW tasks spread over them. */
async function taskStore(): Promise<{ store: MemoryStore; clock: ManualClock; tasks: string[] }> {
  const clock = new ManualClock(1_700_000_000_000)
  const store = new MemoryStore({ clock })
  const tasks: string[] = []
  await store.batch((b) => {
    b.update((tx) => {
      for (let i = 0; i < NETWORKS; i++) {
        tx.networks.create(network(i))
        tx.services.create({
          id: pad('svc', i),
          spec: { annotations: { name: `s${i}` }, task: { container: { image: 'busybox' }, networks: [{ target: `n${i}` }] }, mode: { replicated: { replicas: 1 } } },
        })
      }
    })
    for (let t = 0; t < TASKS; t += 200) {
      b.update((tx) => {
        for (let k = t; k < Math.min(TASKS, t + 200); k++) {
          const s = tx.services.get(pad('svc', k % NETWORKS)) as Frozen<Service>
          const id = pad('task', k)
          tasks.push(id)
          tx.tasks.create({
            id,
            spec: s.spec.task,
            serviceId: s.id,
            slot: Math.floor(k / NETWORKS) + 1,
            nodeId: '',
            annotations: { name: '' },
            serviceAnnotations: { name: s.spec.annotations.name },
            status: { timestamp: clock.now(), state: TaskState.NEW },
            desiredState: TaskState.RUNNING,
          })
        }
      })
    }
  })
  return { store, clock, tasks }
}

/** Resolves once `n` tasks moved from NEW to PENDING (counted from the store's events, so waiting costs next to nothing). */
async function untilPending(store: MemoryStore, n: number): Promise<void> {
  const watch = store.watch({ kinds: 'task', actions: ['update'] }, { queueLimit: 10 * n })
  let moved = 0
  for await (const ev of watch) {
    if (ev.action === 'update' && ev.object.status.state === TaskState.PENDING && ev.oldObject?.status.state === TaskState.NEW && ++moved === n) break
  }
}

async function endToEndAddresses(): Promise<Timing> {
  const { store, clock, tasks } = await taskStore()
  const allocator = new NetworkAllocator({ store, clock, random: new SeededRandom(1) })
  const done = untilPending(store, tasks.length)
  const read = stopwatch()
  const handle = allocator.start()
  await done
  const t = read()
  await handle.stop()
  return t
}

/** The floor: the same task updates (an address and PENDING) written straight to the store, 100 per transaction. */
async function storeBaseline(): Promise<Timing> {
  const { store, clock, tasks } = await taskStore()
  const read = stopwatch()
  await store.batch((b) => {
    for (let t = 0; t < tasks.length; t += 100) {
      b.update((tx) => {
        for (let k = t; k < Math.min(tasks.length, t + 100); k++) {
          const n = k % NETWORKS
          const host = Math.floor(k / NETWORKS) + 2
          const networks = [{ networkId: pad('net', n), addresses: [`10.${n}.${host >> 8}.${host & 255}/16`] }]
          tx.tasks.update(tasks[k] as string, (d) => {
            d.networks = networks
            d.status = { ...d.status, state: TaskState.PENDING, message: 'pending task scheduling', timestamp: clock.now() }
          })
        }
      })
    }
  })
  return read()
}

function servicePorts(i: number): { targetPort: number; protocol?: 'udp'; publishedPort?: number }[] {
  return [{ targetPort: 80 }, { targetPort: 53, protocol: 'udp' }, { targetPort: 443, publishedPort: 1000 + i }]
}

function rawPorts(): Timing {
  const ports = new PortAllocator()
  const read = stopwatch()
  for (let i = 0; i < SERVICES; i++) {
    const plan = ports.plan(pad('svc', i), servicePorts(i))
    if (!plan.ok) throw new Error(`port plan failed for service ${i}`)
    ports.commit(pad('svc', i), plan.ports)
  }
  return read()
}

async function endToEndPorts(): Promise<Timing> {
  const clock = new ManualClock(1_700_000_000_000)
  const store = new MemoryStore({ clock })
  await store.update((tx) => {
    tx.networks.create({ id: pad('ingress', 0), spec: { annotations: { name: 'ingress' }, ingress: true }, ipam: { configs: [{ family: 'ipv4', subnet: '10.255.0.0/16', gateway: '10.255.0.1' }] } })
  })
  await store.batch((b) => {
    for (let i = 0; i < SERVICES; i += 100) {
      b.update((tx) => {
        for (let k = i; k < Math.min(SERVICES, i + 100); k++) {
          tx.services.create({
            id: pad('svc', k),
            spec: { annotations: { name: `s${k}` }, task: { container: { image: 'busybox' } }, mode: { replicated: { replicas: 1 } }, endpoint: { ports: servicePorts(k) } },
          })
        }
      })
    }
  })
  const allocator = new NetworkAllocator({ store, clock, random: new SeededRandom(1) })
  const read = stopwatch()
  const handle = allocator.start()
  while (store.view((tx) => tx.services.find().some((s) => s.endpoint === undefined))) await turn()
  const t = read()
  await handle.stop()
  return t
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const load0 = loadavg()[0] ?? 0
  log(`${cpu}, ${availableParallelism()} cores, load average ${load0.toFixed(2)}`)
  const tasksLoad = `${TASKS.toLocaleString('en-US')} tasks, ${NETWORKS} networks (/16)`

  const raw = await repeat('raw Ipam.allocate', rawAddresses)
  timed('addresses: Ipam.allocate, round robin over the networks', tasksLoad, raw, {
    target: '< 1,000 ms',
    note: `${Math.round(TASKS / (stats(raw.map((x) => x.ms)).median / 1000)).toLocaleString('en-US')} addresses/s`,
  })
  const base = await repeat('store baseline', storeBaseline)
  timed('baseline: the same task updates written straight to the store', `${tasksLoad}, 100 per transaction`, base)
  const floor = stats(base.map((x) => x.cpuMs)).median
  const e2e = await repeat('allocator end to end', endToEndAddresses)
  timed('addresses end to end: NetworkAllocator from start until every task is PENDING', tasksLoad, e2e, {
    target: '< 1,000 ms (raw)',
    note: `${Math.round(TASKS / (stats(e2e.map((x) => x.ms)).median / 1000)).toLocaleString('en-US')} tasks/s; ${(stats(e2e.map((x) => x.cpuMs)).median / floor).toFixed(1)}× the baseline's CPU`,
  })
  const portsLoad = `${SERVICES.toLocaleString('en-US')} services × (2 dynamic + 1 fixed)`
  timed('ports: PortAllocator.plan + commit', portsLoad, await repeat('raw ports', rawPorts))
  timed('ports end to end: NetworkAllocator from start until every endpoint is written', portsLoad, await repeat('allocator ports', endToEndPorts))

  const load1 = loadavg()[0] ?? 0
  const fmt = (v: number): string => (v < 10 ? v.toFixed(2) : Math.round(v).toLocaleString('en-US'))
  const table = [
    ['benchmark', 'load', 'median', 'min–max', 'unit', 'target', 'note'],
    ...rows.map((r) => [r.benchmark, r.load, fmt(r.median), `${fmt(r.min)}–${fmt(r.max)}`, r.unit, r.target ?? '', r.note ?? '']),
  ]
  console.log(`${cpu}, ${availableParallelism()} cores, Node ${process.version}, load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end, ${RUNS} runs per row`)
  printTable(table)

  const json = { package: '@swarmkit-ts/network', benchmark: 'allocations', startedAt, cpu, cores: availableParallelism(), node: process.version, loadAverageAtStart: load0, loadAverageAtEnd: load1, runs: RUNS, rows }
  log(`wrote ${await writeBenchResults('network-allocations.json', json)}`)
}

await main()
