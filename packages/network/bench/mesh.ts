/**
 * `pnpm bench` (network): the routing mesh against direct connections, in the same run and with
 * the same load generator. Three processes on the host: the backend (keep-alive HTTP server and
 * a TCP sink), the mesh (a RoutingMesh on a StaticEndpointSource, idle during direct runs), and
 * this process, the load generator. Rows: keep-alive HTTP with 64 connections (requests/s, p50
 * and p99 latency), the latency of one connection alone, and bulk TCP with 64 connections each streaming MESH_BENCH_MIB MiB (default
 * 64), alternating direct and mesh for MESH_BENCH_ROUNDS rounds (default 3; the median is
 * reported). The notes give the mesh's CPU per request and per GB (with its kernel share: the
 * relay's floor is the kernel's two reads and two writes per request) beside the backend's.
 * Prints the CPU and a table; writes bench-results/network-mesh.json.
 *
 * Env: MESH_BENCH_SECONDS (HTTP measuring time per run, default 5), MESH_BENCH_CONNECTIONS (64),
 * MESH_BENCH_CPU_PROF=<dir> (a V8 CPU profile of the mesh process, written there at its exit).
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { RoutingMesh, StaticEndpointSource } from '../src/mesh/index.ts'
import { bulkLoad, httpLoad, startBackend } from './mesh-load.ts'
import type { BackendPorts, BulkRun, HttpRun } from './mesh-load.ts'

const ROUNDS = Number(process.env['MESH_BENCH_ROUNDS'] ?? 3)
const SECONDS = Number(process.env['MESH_BENCH_SECONDS'] ?? 5)
const MIB = Number(process.env['MESH_BENCH_MIB'] ?? 64)
const CONNECTIONS = Number(process.env['MESH_BENCH_CONNECTIONS'] ?? 64)
const log = (s: string): void => void process.stderr.write(`${s}\n`)

type Message = { ready: BackendPorts | { http: number; sink: number } } | { cpu: NodeJS.CpuUsage }

/** The child roles: `backend` and `mesh <backend ports JSON>`; each reports its ports over IPC and answers `cpu`. */
async function child(role: string, arg: string | undefined): Promise<void> {
  const send = (m: Message): void => void process.send?.(m)
  process.on('message', (m) => {
    if (m === 'cpu') send({ cpu: process.cpuUsage() })
    if (m === 'exit') process.exit(0)
  })
  if (role === 'backend') {
    send({ ready: await startBackend() })
    return
  }
  const backend = JSON.parse(arg ?? '{}') as BackendPorts
  const [httpPort, sinkPort] = [await freePort(), await freePort()]
  const entry = (publishedPort: number, port: number): { publishedPort: number; protocol: 'tcp'; serviceId: string; serviceName: string; backends: { taskId: string; host: string; port: number }[] } => ({
    publishedPort,
    protocol: 'tcp',
    serviceId: `svc${publishedPort}`,
    serviceName: 'bench',
    backends: [{ taskId: `task${publishedPort}`, host: '127.0.0.1', port }],
  })
  const source = new StaticEndpointSource({ entries: [entry(httpPort, backend.http), entry(sinkPort, backend.sink)] })
  const mesh = new RoutingMesh({ source, listenAddress: '127.0.0.1' })
  await mesh.start()
  const failed = mesh.listeners().find((l) => l.state !== 'listening')
  if (failed !== undefined) throw new Error(`mesh could not listen on ${failed.publishedPort}: ${failed.error ?? ''}`)
  send({ ready: { http: httpPort, sink: sinkPort } })
}

/** A port free on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

async function spawnRole(role: string, arg?: string): Promise<{ proc: ChildProcess; ports: BackendPorts }> {
  const script = process.argv[1] as string
  const prof = process.env['MESH_BENCH_CPU_PROF']
  const execArgv = prof !== undefined && role === 'mesh' ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []
  const proc = fork(script, arg === undefined ? [role] : [role, arg], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv })
  const [m] = (await once(proc, 'message')) as [Message]
  if (!('ready' in m)) throw new Error(`${role}: unexpected message`)
  return { proc, ports: m.ready }
}

/** A child's CPU time so far, in ms: user + system, and of it in the kernel (system). */
interface CpuMs {
  readonly total: number
  readonly system: number
}

async function cpuUsage(proc: ChildProcess): Promise<CpuMs> {
  proc.send('cpu')
  for (;;) {
    const [m] = (await once(proc, 'message')) as [Message]
    if ('cpu' in m) return { total: (m.cpu.user + m.cpu.system) / 1000, system: m.cpu.system / 1000 }
  }
}

async function cpuMs(proc: ChildProcess): Promise<number> {
  return (await cpuUsage(proc)).total
}

function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

interface Row {
  benchmark: string
  direct: number
  mesh: number
  unit: string
  ratio?: number | undefined
  note?: string | undefined
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const load0 = loadavg()[0] ?? 0
  log(`${cpu}, ${availableParallelism()} cores, load average ${load0.toFixed(2)}`)
  const backend = await spawnRole('backend')
  const mesh = await spawnRole('mesh', JSON.stringify(backend.ports))
  const http: { direct: HttpRun[]; mesh: HttpRun[]; meshCpuMs: number[]; meshSystemMs: number[]; backendCpuMs: number[] } = { direct: [], mesh: [], meshCpuMs: [], meshSystemMs: [], backendCpuMs: [] }
  const bulk: { direct: BulkRun[]; mesh: BulkRun[]; meshCpuMs: number[]; meshSystemMs: number[] } = { direct: [], mesh: [], meshCpuMs: [], meshSystemMs: [] }
  const single: { direct: HttpRun[]; mesh: HttpRun[] } = { direct: [], mesh: [] }
  const warmupMs = Math.min(1_000, SECONDS * 200)
  for (let r = 1; r <= ROUNDS; r++) {
    log(`round ${r}/${ROUNDS}: http direct`)
    const b0 = await cpuMs(backend.proc)
    const d = await httpLoad(backend.ports.http, CONNECTIONS, warmupMs, SECONDS * 1000)
    http.direct.push(d)
    http.backendCpuMs.push(((await cpuMs(backend.proc)) - b0) / d.allRequests)
    log(`round ${r}/${ROUNDS}: http through the mesh`)
    let c0 = await cpuUsage(mesh.proc)
    const h = await httpLoad(mesh.ports.http, CONNECTIONS, warmupMs, SECONDS * 1000)
    http.mesh.push(h)
    let c1 = await cpuUsage(mesh.proc)
    http.meshCpuMs.push((c1.total - c0.total) / h.allRequests)
    http.meshSystemMs.push((c1.system - c0.system) / h.allRequests)
    log(`round ${r}/${ROUNDS}: one connection, direct and through the mesh`)
    single.direct.push(await httpLoad(backend.ports.http, 1, warmupMs, SECONDS * 500))
    single.mesh.push(await httpLoad(mesh.ports.http, 1, warmupMs, SECONDS * 500))
    log(`round ${r}/${ROUNDS}: bulk direct`)
    bulk.direct.push(await bulkLoad(backend.ports.sink, CONNECTIONS, MIB * 1024 * 1024))
    log(`round ${r}/${ROUNDS}: bulk through the mesh`)
    c0 = await cpuUsage(mesh.proc)
    const b = await bulkLoad(mesh.ports.sink, CONNECTIONS, MIB * 1024 * 1024)
    bulk.mesh.push(b)
    c1 = await cpuUsage(mesh.proc)
    bulk.meshCpuMs.push((c1.total - c0.total) / (b.bytes / 1e9))
    bulk.meshSystemMs.push((c1.system - c0.system) / (b.bytes / 1e9))
  }
  for (const p of [backend.proc, mesh.proc]) p.send('exit')

  const rps = { direct: median(http.direct.map((x) => x.perSecond)), mesh: median(http.mesh.map((x) => x.perSecond)) }
  const p50 = { direct: median(http.direct.map((x) => x.p50Ms)), mesh: median(http.mesh.map((x) => x.p50Ms)) }
  const p99 = { direct: median(http.direct.map((x) => x.p99Ms)), mesh: median(http.mesh.map((x) => x.p99Ms)) }
  const p50One = { direct: median(single.direct.map((x) => x.p50Ms)), mesh: median(single.mesh.map((x) => x.p50Ms)) }
  const p99One = { direct: median(single.direct.map((x) => x.p99Ms)), mesh: median(single.mesh.map((x) => x.p99Ms)) }
  const mbs = { direct: median(bulk.direct.map((x) => x.mbPerSecond)), mesh: median(bulk.mesh.map((x) => x.mbPerSecond)) }
  const rows: Row[] = [
    { benchmark: `keep-alive HTTP, ${CONNECTIONS} connections`, ...rps, unit: 'req/s', ratio: rps.mesh / rps.direct, note: `CPU per request: mesh ${(median(http.meshCpuMs) * 1000).toFixed(1)} µs (kernel ${(median(http.meshSystemMs) * 1000).toFixed(1)}), backend ${(median(http.backendCpuMs) * 1000).toFixed(1)} µs` },
    { benchmark: '  latency p50', ...p50, unit: 'ms', note: `added ${(p50.mesh - p50.direct).toFixed(3)} ms` },
    { benchmark: '  latency p99', ...p99, unit: 'ms', note: `added ${(p99.mesh - p99.direct).toFixed(3)} ms` },
    { benchmark: 'keep-alive HTTP, 1 connection: latency p50', ...p50One, unit: 'ms', note: `added ${(p50One.mesh - p50One.direct).toFixed(3)} ms` },
    { benchmark: '  latency p99', ...p99One, unit: 'ms', note: `added ${(p99One.mesh - p99One.direct).toFixed(3)} ms` },
    { benchmark: `bulk TCP, ${CONNECTIONS} connections × ${MIB} MiB`, ...mbs, unit: 'MB/s', ratio: mbs.mesh / mbs.direct, note: `mesh CPU ${Math.round(median(bulk.meshCpuMs))} ms per GB (kernel ${Math.round(median(bulk.meshSystemMs))})` },
  ]
  const load1 = loadavg()[0] ?? 0
  const fmt = (v: number, unit: string): string => (unit === 'ms' ? v.toFixed(3) : Math.round(v).toLocaleString('en-US'))
  const table = [
    ['benchmark', 'direct', 'mesh', 'unit', 'mesh/direct', 'target', 'note'],
    ...rows.map((r) => [r.benchmark, fmt(r.direct, r.unit), fmt(r.mesh, r.unit), r.unit, r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`, r.ratio === undefined ? '' : '≥ 0.70×', r.note ?? '']),
  ]
  const widths = table[0]?.map((_, i) => Math.max(...table.map((line) => (line[i] ?? '').length))) ?? []
  console.log(`${cpu}, ${availableParallelism()} cores, Node ${process.version}, load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end; median of ${ROUNDS} alternating rounds; generator, mesh and backend in 3 processes`)
  for (const line of table) console.log(line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '))

  const out = new URL('../../../bench-results/', import.meta.url)
  await mkdir(out, { recursive: true })
  const file = new URL('network-mesh.json', out)
  const json = { package: '@swarmkit-ts/network', benchmark: 'routing mesh vs direct', startedAt, cpu, cores: availableParallelism(), node: process.version, loadAverageAtStart: load0, loadAverageAtEnd: load1, rounds: ROUNDS, connections: CONNECTIONS, httpSeconds: SECONDS, bulkMiBPerConnection: MIB, rows, runs: { http, single, bulk } }
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`)
  log(`wrote ${file.pathname}`)
}

const [role, arg] = process.argv.slice(2)
if (role === undefined) await main()
else await child(role, arg)
