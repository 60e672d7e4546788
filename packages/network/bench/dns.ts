/**
 * The DNS benchmark, dnsperf-style: a client in a worker thread keeps 100 UDP queries in flight
 * against our DnsServer on loopback for a few seconds (after a one-second warm-up), over a store
 * of 1,000 VIP services with 3 running tasks each; the queries cycle through `<svc>`,
 * `tasks.<svc>` and unknown names in equal thirds. Reports queries/s and p50/p99 latency, against
 * a baseline measured in the same run with the same client: a UDP echo server (the loopback and
 * event-loop ceiling of one Node process answering datagrams). Also times `resolver.lookup`
 * alone, in process. Writes bench-results/dns.json at the repository root.
 *
 * Run: node ../../scripts/bench-built.mjs bench/dns.ts (after building the dependencies);
 * environment: DNS_BENCH_SECONDS (default 5), DNS_BENCH_IN_FLIGHT (default 100).
 */
import { createSocket } from 'node:dgram'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { TaskState } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import { SeededRandom } from '@swarmkit-ts/testkit'
import dnsPacket from 'dns-packet'
// The dns area alone: the benchmark does not depend on the state of the package's other areas.
import { DnsServer, ServiceResolver } from '../src/dns/index.ts'
import { printTable, writeBenchResults } from '../../../scripts/test-support/bench-report.ts'

const SECONDS = Number(process.env.DNS_BENCH_SECONDS ?? 5)
const IN_FLIGHT = Number(process.env.DNS_BENCH_IN_FLIGHT ?? 100)
const SERVICES = 1_000
const TASKS_PER_SERVICE = 3
const NET = 'netbench00000000000000001'
/** A query unanswered this long is counted lost and replaced. */
const LOST_MS = 1_000

/** What the client worker is given. */
interface ClientData {
  readonly port: number
  readonly queries: readonly Uint8Array[]
  readonly inFlight: number
  readonly warmupMs: number
  readonly durationMs: number
}

/** What it reports. */
interface ClientResult {
  readonly answered: number
  readonly lost: number
  readonly seconds: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly rcodes: Record<string, number>
}

/** The client: `inFlight` queries outstanding at all times; measures after the warm-up. */
function runClient(data: ClientData): Promise<ClientResult> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4')
    const bufs = data.queries.map((q) => Buffer.from(q))
    const sentAt = new Float64Array(65536)
    const outstanding = new Set<number>()
    const latencies: number[] = []
    const rcodes: Record<string, number> = {}
    let nextQuery = 0
    let nextId = 0
    let measuring = false
    let sending = true
    let answered = 0
    let lost = 0
    let t0 = 0
    let measuredSeconds = 0
    const send = (): void => {
      const buf = bufs[nextQuery++ % bufs.length] as Buffer
      let id = nextId++ & 0xffff
      while (outstanding.has(id)) id = nextId++ & 0xffff
      buf.writeUInt16BE(id, 0)
      outstanding.add(id)
      sentAt[id] = performance.now()
      sock.send(buf, data.port, '127.0.0.1')
    }
    sock.on('message', (msg) => {
      const id = msg.readUInt16BE(0)
      if (!outstanding.delete(id)) return
      if (measuring) {
        latencies.push(performance.now() - (sentAt[id] ?? 0))
        answered++
        const rcode = ((msg[2] ?? 0) & 0x02) !== 0 ? 'TC' : String(msg.readUInt16BE(2) & 0xf)
        rcodes[rcode] = (rcodes[rcode] ?? 0) + 1
      }
      if (sending) send()
      else if (outstanding.size === 0) finish()
    })
    const sweep = setInterval(() => {
      const now = performance.now()
      for (const id of outstanding) {
        if (now - (sentAt[id] ?? now) < LOST_MS) continue
        outstanding.delete(id)
        if (measuring) lost++
        if (sending) send()
      }
      if (!sending && outstanding.size === 0) finish()
    }, 100)
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      clearInterval(sweep)
      sock.close()
      latencies.sort((a, b) => a - b)
      const at = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0
      resolve({ answered, lost, seconds: measuredSeconds, p50Ms: at(0.5), p99Ms: at(0.99), rcodes })
    }
    sock.bind(0, '127.0.0.1', () => {
      for (let i = 0; i < data.inFlight; i++) send()
      setTimeout(() => {
        measuring = true
        t0 = performance.now()
        setTimeout(() => {
          sending = false
          measuring = false
          measuredSeconds = (performance.now() - t0) / 1000
        }, data.durationMs)
      }, data.warmupMs)
    })
  })
}

/** Runs the client in a worker thread (its own core) against `port`. */
function clientInWorker(port: number, queries: readonly Uint8Array[]): Promise<ClientResult> {
  const data: ClientData = { port, queries, inFlight: IN_FLIGHT, warmupMs: 1_000, durationMs: SECONDS * 1_000 }
  const worker = new Worker(new URL(import.meta.url), { workerData: data })
  return new Promise((resolve, reject) => {
    worker.once('message', (r: ClientResult) => resolve(r))
    worker.once('error', reject)
  })
}

/** The store: 1,000 VIP services on one network, 3 running tasks each. */
async function fillStore(store: MemoryStore): Promise<void> {
  await store.update((tx) => tx.networks.create({ id: NET, spec: { annotations: { name: 'bench' } } }))
  await store.batch((b) => {
    for (let s = 0; s < SERVICES; s++) {
      b.update((tx) => {
        const id = `svc${String(s).padStart(22, '0')}`
        const vip = `10.1.${s >> 8}.${s & 255}/16`
        tx.services.create({
          id,
          spec: { annotations: { name: `svc${s}` }, mode: { replicated: { replicas: TASKS_PER_SERVICE } }, task: { container: { image: 'busybox' }, networks: [{ target: NET }] } },
          endpoint: { spec: { mode: 'vip' }, virtualIps: [{ networkId: NET, addr: vip }] },
        })
        for (let t = 0; t < TASKS_PER_SERVICE; t++) {
          const n = s * TASKS_PER_SERVICE + t
          tx.tasks.create({
            id: `task${String(n).padStart(21, '0')}`,
            serviceId: id,
            slot: t + 1,
            nodeId: 'node1',
            annotations: { name: '' },
            serviceAnnotations: { name: `svc${s}` },
            spec: { container: { image: 'busybox' } },
            status: { timestamp: 0, state: TaskState.RUNNING },
            desiredState: TaskState.RUNNING,
            networks: [{ networkId: NET, addresses: [`10.2.${n >> 8}.${n & 255}/16`] }],
          })
        }
      })
    }
  })
}

/** Encoded queries: `<svc>`, `tasks.<svc>` and an unknown name, over random services. */
function makeQueries(count: number): { wire: Uint8Array[]; names: string[] } {
  const random = new SeededRandom(16)
  const wire: Uint8Array[] = []
  const names: string[] = []
  for (let i = 0; i < count; i++) {
    const s = Math.floor(random.float() * SERVICES)
    const name = i % 3 === 0 ? `svc${s}` : i % 3 === 1 ? `tasks.svc${s}` : `nosuch${s}`
    names.push(name)
    wire.push(new Uint8Array(dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] })))
  }
  return { wire, names }
}

/** A UDP server that sends each datagram back with QR set: the baseline. */
async function echoServer(): Promise<{ port: number; close: () => void }> {
  const sock = createSocket('udp4')
  sock.on('message', (msg, rinfo) => {
    msg[2] = (msg[2] ?? 0) | 0x80
    sock.send(msg, rinfo.port, rinfo.address)
  })
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()))
  return { port: sock.address().port, close: () => sock.close() }
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const load0 = loadavg()[0] ?? 0
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const store = new MemoryStore()
  await fillStore(store)
  const resolver = new ServiceResolver({ store })
  resolver.start()
  const { wire, names } = makeQueries(3_000)

  // In process: the lookup alone.
  let lookups = 0
  const l0 = performance.now()
  while (performance.now() - l0 < 1_000) {
    for (let i = 0; i < 1_000; i++) resolver.lookup(names[(lookups + i) % names.length] ?? '', 'A', [NET])
    lookups += 1_000
  }
  const lookupsPerSecond = lookups / ((performance.now() - l0) / 1000)

  const echo = await echoServer()
  const base = await clientInWorker(echo.port, wire)
  echo.close()

  const server = new DnsServer({ resolver, address: '127.0.0.1', port: 0, scope: [NET] })
  const { port } = await server.start()
  const ours = await clientInWorker(port, wire)
  await server.stop()
  await resolver.stop()

  const qps = (r: ClientResult): number => r.answered / r.seconds
  const rows = [
    { server: 'UDP echo (baseline)', ...base, queriesPerSecond: Math.round(qps(base)), ratio: 1 },
    { server: 'DnsServer + ServiceResolver', ...ours, queriesPerSecond: Math.round(qps(ours)), ratio: Number((qps(ours) / qps(base)).toFixed(2)) },
  ]
  const load1 = loadavg()[0] ?? 0
  console.log(`${cpu}; ${String(availableParallelism())} cores, Node ${process.version}, load ${load0.toFixed(2)} → ${load1.toFixed(2)}`)
  console.log(`${SERVICES.toLocaleString('en-US')} services × ${TASKS_PER_SERVICE} tasks; ${IN_FLIGHT} queries in flight for ${SECONDS} s; <svc> / tasks.<svc> / unknown in thirds`)
  const table = [
    ['server', 'queries/s', 'vs baseline', 'p50 ms', 'p99 ms', 'lost', 'NOERROR', 'NXDOMAIN'],
    ...rows.map((r) => [
      r.server,
      r.queriesPerSecond.toLocaleString('en-US'),
      `${r.ratio.toFixed(2)}×`,
      r.p50Ms.toFixed(2),
      r.p99Ms.toFixed(2),
      String(r.lost),
      String(r.rcodes['0'] ?? 0),
      String(r.rcodes['3'] ?? 0),
    ]),
  ]
  printTable(table)
  console.log(`resolver.lookup in process: ${Math.round(lookupsPerSecond).toLocaleString('en-US')} lookups/s`)
  const json = {
    package: '@swarmkit-ts/network',
    benchmark: 'dns',
    startedAt,
    cpu,
    cores: availableParallelism(),
    node: process.version,
    loadAverageAtStart: load0,
    loadAverageAtEnd: load1,
    services: SERVICES,
    tasksPerService: TASKS_PER_SERVICE,
    inFlight: IN_FLIGHT,
    seconds: SECONDS,
    lookupsPerSecondInProcess: Math.round(lookupsPerSecond),
    rows,
  }
  console.log(`wrote ${await writeBenchResults('dns.json', json)}`)
}

if (isMainThread) await main()
else parentPort?.postMessage(await runClient(workerData as ClientData))
