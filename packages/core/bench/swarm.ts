/**
 * Issue 18, benchmark 1: swarmkit-ts against Docker Swarm, in the same run, on the same dockerd
 * (the private one of `packages/engine-adapter/scripts/test-engines.sh`).
 *
 * Each side is one node — the fair pairing: Docker's single-node swarm (`docker swarm init` on a
 * free loopback port of that dockerd) against one `Cluster.init` manager (in this process, its
 * worker on runtime `'docker'` at that dockerd's socket), both at their default timings
 * (heartbeat 5 s, Raft tick 1 s). On each side:
 *
 * 1. **create**: a service of 50 replicas of the busybox image, command
 *    `sh -c 'trap "exit 0" TERM; sleep 3600 & wait'`; time from the create call until every
 *    replica is RUNNING (desired and observed), polled every 100 ms;
 * 2. **rolling update**: an env change with parallelism 10, delay 0, monitor 5 s (stop-first, the
 *    default of both); time from the update call until the service's update state is `completed`
 *    and every replica RUNNING runs the new env.
 *
 * Swarm is driven through its Engine API on the same socket (what `docker service create` /
 * `update` / `ps` call; the image is local and never resolved against a registry), so no CLI
 * start-up counts against it; the CLI only runs `swarm init` and `swarm leave --force`. Both sides
 * remove their service and wait until its containers are gone, then remove any container left.
 *
 * Each phase also reports CPU time: dockerd, its containerd and the live shims on both sides (Swarm's
 * manager and agent run inside dockerd), plus this process — our node — on ours. Wall times
 * swing with the machine's load; CPU time much less.
 *
 * Knobs: BENCH_SWARM_REPLICAS (50), BENCH_SWARM_ROUNDS (1; sides alternate who goes first, the
 * table shows medians), BENCH_SWARM_SIDES (`ours,swarm`). Writes bench-results/core-swarm.json.
 * Root only (it starts a dockerd); run it alone with `tsx --conditions=@swarmkit-ts/source bench/swarm.ts`.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { TaskState, UpdateState, type ServiceSpec } from '@swarmkit-ts/api'
import { Cluster } from '../src/index.ts'
import { median, printTable, writeBenchResults } from '../../../scripts/test-support/bench-report.ts'
import { freePort } from '../../../scripts/test-support/http.ts'
import { alternateSides, containersWithLabel, cpuMeter, dockerUnavailable, engineApi, removeContainersWithLabel, withSwarm, type BenchDocker } from './docker-engine.ts'

const REPLICAS = Number(process.env['BENCH_SWARM_REPLICAS'] ?? 50)
const ROUNDS = Number(process.env['BENCH_SWARM_ROUNDS'] ?? 1)
const SIDES = new Set((process.env['BENCH_SWARM_SIDES'] ?? 'ours,swarm').split(','))
const PARALLELISM = 10
const MONITOR_MS = 5_000
const POLL_MS = 100
/** A failure guard only: a phase that takes longer is reported as failed. */
const GUARD_MS = 600_000
const COMMAND = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'] as const
const NEW_ENV = 'BENCH_VERSION=2'
const OUR_INSTANCE_LABEL = 'io.swarmkit-ts.runtime.instance'

const log = (s: string): void => void process.stderr.write(`${s}\n`)
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** The two timed phases of one side in one round: wall time and CPU time, in ms. */
interface Phases {
  readonly createMs: number
  readonly updateMs: number
  /** CPU of the engine's processes, plus (ours) of this process, which runs our node. */
  readonly createCpuMs: number
  readonly updateCpuMs: number
}

/** Polls `check` every {@link POLL_MS} until it holds; throws naming `what` after {@link GUARD_MS}. */
async function pollUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + GUARD_MS
  for (;;) {
    if (await check()) return
    if (performance.now() > deadline) throw new Error(`${what}: not done after ${String(GUARD_MS)} ms`)
    await sleep(POLL_MS)
  }
}

// ------------------------------------------------------------------------------------------ ours

async function runOurs(docker: BenchDocker): Promise<Phases> {
  const stateDir = await mkdtemp(join(tmpdir(), 'swarmkit-bench-swarm-'))
  const instance = `swarmkit-bench-${randomBytes(6).toString('hex')}`
  const node = await Cluster.init({ stateDir, listenAddr: '127.0.0.1:0', runtime: 'docker', runtimeOptions: { docker: { socketPath: docker.socket, instance, allowPull: false } } })
  let serviceId: string | undefined
  try {
    if (node.role !== 'manager') throw new Error('Cluster.init did not start a manager')
    await pollUntil('our node READY', async () => (await node.nodes.list()).some((n) => n.status.state === 'ready'))
    const spec: ServiceSpec = { annotations: { name: 'bench' }, mode: { replicated: { replicas: REPLICAS } }, task: { container: { image: docker.image, command: [...COMMAND] } } }
    const running = async (env?: string): Promise<number> =>
      (await node.tasks.list({ serviceIds: [serviceId ?? ''] })).filter((t) => t.desiredState === TaskState.RUNNING && t.status.state === TaskState.RUNNING && (env === undefined || t.spec.container?.env?.includes(env) === true)).length

    const cpu = cpuMeter(docker, true)
    cpu.start()
    const t0 = performance.now()
    serviceId = (await node.services.create(spec)).id
    await pollUntil('ours: create', async () => (await running()) === REPLICAS)
    const createMs = performance.now() - t0
    const createCpuMs = cpu.read()

    const current = await node.services.get(serviceId)
    const container = current.spec.task.container
    if (container === undefined) throw new Error('our service lost its container spec')
    const updated: ServiceSpec = {
      ...current.spec,
      task: { ...current.spec.task, container: { ...container, env: [NEW_ENV] } },
      update: { parallelism: PARALLELISM, delayMs: 0, monitorMs: MONITOR_MS },
    }
    cpu.start()
    const t1 = performance.now()
    await node.services.update(serviceId, updated, { version: current.meta.version.index })
    const id = serviceId
    await pollUntil('ours: rolling update', async () => (await node.services.get(id)).updateStatus?.state === UpdateState.COMPLETED && (await running(NEW_ENV)) === REPLICAS)
    const updateMs = performance.now() - t1
    return { createMs, updateMs, createCpuMs, updateCpuMs: cpu.read() }
  } finally {
    if (serviceId !== undefined && node.role === 'manager') {
      await node.services.remove(serviceId)
      await pollUntil('ours: service removed', async () => (await containersWithLabel(docker.socket, `${OUR_INSTANCE_LABEL}=${instance}`)).length === 0).catch((err: unknown) => log(`  ${String(err)}`))
    }
    await node.close()
    const left = await removeContainersWithLabel(docker.socket, `${OUR_INSTANCE_LABEL}=${instance}`)
    if (left > 0) log(`  removed ${String(left)} containers our node left`)
    await rm(stateDir, { recursive: true, force: true })
  }
}

// ----------------------------------------------------------------------------------------- swarm

/** The fields of the Engine API's swarm objects read here. */
interface SwarmTask {
  readonly DesiredState: string
  readonly Status: { readonly State: string }
  readonly Spec: { readonly ContainerSpec?: { readonly Env?: readonly string[] } }
}
interface SwarmService {
  readonly Version: { readonly Index: number }
  readonly Spec: Record<string, unknown> & { readonly TaskTemplate: Record<string, unknown> & { readonly ContainerSpec: Record<string, unknown> } }
  readonly UpdateStatus?: { readonly State?: string }
}

async function runSwarm(docker: BenchDocker): Promise<Phases> {
  const api = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> => engineApi(docker.socket, method, path, body)
  let serviceId: string | undefined
  return withSwarm(docker, await freePort(), pollUntil, async () => {
    try {
      const tasks = async (): Promise<SwarmTask[]> => (await api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [serviceId ?? ''] }))}`)) as SwarmTask[]
      const running = async (env?: string): Promise<number> =>
        (await tasks()).filter((t) => t.DesiredState === 'running' && t.Status.State === 'running' && (env === undefined || t.Spec.ContainerSpec?.Env?.includes(env) === true)).length

      const spec = { Name: 'bench', TaskTemplate: { ContainerSpec: { Image: docker.image, Command: [...COMMAND] } }, Mode: { Replicated: { Replicas: REPLICAS } } }
      const cpu = cpuMeter(docker, false)
      cpu.start()
      const t0 = performance.now()
      serviceId = ((await api('POST', '/services/create', spec)) as { ID: string }).ID
      await pollUntil('swarm: create', async () => (await running()) === REPLICAS)
      const createMs = performance.now() - t0
      const createCpuMs = cpu.read()

      const current = (await api('GET', `/services/${serviceId}`)) as SwarmService
      const updated = {
        ...current.Spec,
        TaskTemplate: { ...current.Spec.TaskTemplate, ContainerSpec: { ...current.Spec.TaskTemplate.ContainerSpec, Env: [NEW_ENV] } },
        UpdateConfig: { Parallelism: PARALLELISM, Delay: 0, Monitor: MONITOR_MS * 1_000_000, FailureAction: 'pause', Order: 'stop-first' },
      }
      cpu.start()
      const t1 = performance.now()
      await api('POST', `/services/${serviceId}/update?version=${String(current.Version.Index)}`, updated)
      const id = serviceId
      await pollUntil('swarm: rolling update', async () => ((await api('GET', `/services/${id}`)) as SwarmService).UpdateStatus?.State === 'completed' && (await running(NEW_ENV)) === REPLICAS)
      const updateMs = performance.now() - t1
      return { createMs, updateMs, createCpuMs, updateCpuMs: cpu.read() }
    } finally {
      if (serviceId !== undefined) await api('DELETE', `/services/${serviceId}`)
    }
  }, log)
}

// ------------------------------------------------------------------------------------------ main

/** One row of the table and the JSON. */
interface Row {
  readonly benchmark: string
  readonly side: 'swarmkit-ts' | 'Docker Swarm'
  readonly medianMs: number
  readonly runsMs: readonly number[]
  /** Median CPU time: the engine's processes, plus our node's for ours. */
  readonly cpuMs: number
  readonly vsSwarm?: number | undefined
  readonly target?: string | undefined
}

/** Runs the benchmark: prints its table and writes bench-results/core-swarm.json. */
export async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const load0 = loadavg()[0] ?? 0
  log(`${cpu}, ${String(availableParallelism())} cores, load average ${load0.toFixed(2)}`)
  const skip = dockerUnavailable()
  if (skip !== undefined) {
    console.log(`swarmkit-ts vs Docker Swarm: SKIPPED — ${skip}`)
    return
  }
  const { ours, swarm } = await alternateSides<Phases>(ROUNDS, SIDES, async (side, docker, round) => {
    log(`round ${String(round + 1)}/${String(ROUNDS)}: ${side === 'ours' ? 'swarmkit-ts' : 'Docker Swarm'}, ${String(REPLICAS)} replicas (load average ${(loadavg()[0] ?? 0).toFixed(2)})`)
    const p = side === 'ours' ? await runOurs(docker) : await runSwarm(docker)
    log(`  create ${fmt(p.createMs)} ms (${fmt(p.createCpuMs)} CPU ms), rolling update ${fmt(p.updateMs)} ms (${fmt(p.updateCpuMs)} CPU ms)`)
    return p
  })
  const load1 = loadavg()[0] ?? 0
  const rows: Row[] = []
  const phases = [
    ['create → every replica RUNNING', (p: Phases) => p.createMs, (p: Phases) => p.createCpuMs],
    [`rolling update (parallelism ${String(PARALLELISM)}, delay 0, monitor ${String(MONITOR_MS / 1000)} s) → completed`, (p: Phases) => p.updateMs, (p: Phases) => p.updateCpuMs],
  ] as const
  for (const [benchmark, pick, pickCpu] of phases) {
    const swarmMedian = swarm.length > 0 ? median(swarm.map(pick)) : undefined
    if (ours.length > 0) {
      const m = median(ours.map(pick))
      rows.push({ benchmark, side: 'swarmkit-ts', medianMs: m, runsMs: ours.map(pick), cpuMs: median(ours.map(pickCpu)), vsSwarm: swarmMedian === undefined ? undefined : m / swarmMedian, target: '≤ 0.70× Swarm' })
    }
    if (swarmMedian !== undefined) rows.push({ benchmark, side: 'Docker Swarm', medianMs: swarmMedian, runsMs: swarm.map(pick), cpuMs: median(swarm.map(pickCpu)) })
  }
  console.log(`${cpu}, ${String(availableParallelism())} cores, Node ${process.version}, load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end`)
  console.log(`swarmkit-ts vs Docker Swarm, one node each on the same dockerd, ${String(REPLICAS)} replicas, ${String(ROUNDS)} round(s); CPU: dockerd, containerd and live shims (+ our node for swarmkit-ts)`)
  printTable([
    ['benchmark', 'side', 'median ms', 'runs ms', 'CPU ms', 'vs Swarm', 'target'],
    ...rows.map((r) => [r.benchmark, r.side, fmt(r.medianMs), r.runsMs.map((x) => fmt(x)).join(' / '), fmt(r.cpuMs), r.vsSwarm === undefined ? '' : `${r.vsSwarm.toFixed(2)}×`, r.target ?? '']),
  ])
  const json = { package: '@swarmkit-ts/core', benchmark: 'swarm', startedAt, cpu, cores: availableParallelism(), node: process.version, loadAverageAtStart: load0, loadAverageAtEnd: load1, replicas: REPLICAS, rounds: ROUNDS, rows }
  log(`wrote ${await writeBenchResults('core-swarm.json', json)}`)
}

const entry = basename(process.argv[1] ?? '')
if (entry === 'swarm.ts' || entry === '.swarm.built.mjs') await main()
