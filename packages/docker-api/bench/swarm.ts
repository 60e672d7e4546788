/**
 * Issue 20's benchmark: the real `docker` CLI (Debian's 20.10) against our cluster's Docker API
 * and against Docker Swarm on the same dockerd (the private one of
 * `packages/engine-adapter/scripts/test-engines.sh`), in the same run:
 *
 * 1. `docker service create --replicas 50 --update-parallelism 10 --no-resolve-image --name bench
 *    <busybox> sh -c '…'` — without `--detach`, so the CLI's own converge wait (its progress
 *    display, then its 5 s stability check) counts;
 * 2. `docker service update --env-add X=1 --no-resolve-image bench` — every replica replaced, again
 *    timed to the CLI's exit after its converge wait.
 *
 * The wall time of each command is what a user waits. Ours: a manager with its Docker API on a
 * unix socket and BENCH_DOCKER_API_WORKERS workers (2), all in this process, each node on
 * `DockerRuntime` at that dockerd; default timings (heartbeat 5 s, Raft tick 1 s). Swarm: a
 * single-node swarm of that dockerd (`docker swarm init` on a free loopback port). CPU time per
 * command: dockerd, its containerd and the live shims, plus this process (our nodes and the API
 * server) for ours; the CLI's own CPU is left out on both sides. Each command's result is checked
 * after it exits (50 replicas running; the new env) — untimed.
 *
 * Knobs: BENCH_DOCKER_API_REPLICAS (50), BENCH_DOCKER_API_WORKERS (2), BENCH_DOCKER_API_ROUNDS (1;
 * sides alternate who goes first, medians shown), BENCH_DOCKER_API_SIDES (`ours,swarm`),
 * BENCH_DOCKER_API_CLI (/usr/bin/docker). Writes bench-results/docker-api-swarm.json. Root only;
 * `SWARMKIT_ENGINES_DIR=/tmp/mine` gives it a private dockerd. Run: `pnpm bench` in this package.
 *
 * @module
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { TaskState, UpdateState } from '@swarmkit-ts/api'
import { Cluster, type ClusterNodeOptions, type ManagerCluster, type WorkerCluster } from '@swarmkit-ts/core'
import { serveDockerApi } from '../src/index.ts'
import { median, printTable, writeBenchResults } from '../../../scripts/test-support/bench-report.ts'
import { freePort } from '../../../scripts/test-support/http.ts'
import { alternateSides, containersWithLabel, cpuMeter, dockerUnavailable, engineApi, removeContainersWithLabel, withSwarm, type BenchDocker } from '../../core/bench/docker-engine.ts'

const REPLICAS = Number(process.env['BENCH_DOCKER_API_REPLICAS'] ?? 50)
const WORKERS = Number(process.env['BENCH_DOCKER_API_WORKERS'] ?? 2)
const ROUNDS = Number(process.env['BENCH_DOCKER_API_ROUNDS'] ?? 1)
const SIDES = new Set((process.env['BENCH_DOCKER_API_SIDES'] ?? 'ours,swarm').split(','))
const CLI = process.env['BENCH_DOCKER_API_CLI'] ?? '/usr/bin/docker'
const PARALLELISM = 10
const COMMAND = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'] as const
/** A failure guard only: a command that takes longer is killed and the run fails. */
const GUARD_MS = 900_000
const OUR_INSTANCE_LABEL = 'io.swarmkit-ts.runtime.instance'

const run = promisify(execFile)
const log = (s: string): void => void process.stderr.write(`${s}\n`)
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** Wall and CPU time of the two commands on one side in one round, ms. */
interface Phases {
  readonly createMs: number
  readonly updateMs: number
  readonly createCpuMs: number
  readonly updateCpuMs: number
}

/** Runs the CLI with `DOCKER_HOST=host` (private config); resolves with its wall time and output; throws on a non-zero exit. */
async function timedCli(host: string, configDir: string, args: readonly string[]): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now()
  try {
    const { stdout } = await run(CLI, [...args], {
      maxBuffer: 64 << 20,
      timeout: GUARD_MS,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: configDir, DOCKER_CONFIG: configDir, DOCKER_HOST: host, DOCKER_CLI_HINTS: 'false' },
    })
    return { ms: performance.now() - t0, stdout }
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string }
    throw new Error(`docker ${args.join(' ')} failed: ${e.stderr ?? ''}${(e.stdout ?? '').slice(-2000)} ${e.message}`)
  }
}

/** The task fields the checks read (Docker's JSON: the same on both sides). */
interface TaskJson {
  readonly DesiredState: string
  readonly Status: { readonly State: string }
  readonly Spec: { readonly ContainerSpec?: { readonly Env?: readonly string[] } }
}

/** Checks, after a command returned, that `REPLICAS` tasks run (with `env` when given). */
async function checkRunning(socket: string, env?: string): Promise<void> {
  const { ID: id } = (await engineApi(socket, 'GET', '/services/bench')) as { ID: string }
  const filters = encodeURIComponent(JSON.stringify({ service: [id], 'desired-state': ['running'] }))
  const tasks = (await engineApi(socket, 'GET', `/tasks?filters=${filters}`)) as TaskJson[]
  const ok = tasks.filter((t) => t.Status.State === 'running' && (env === undefined || t.Spec.ContainerSpec?.Env?.includes(env) === true)).length
  if (ok !== REPLICAS) throw new Error(`after the command, ${String(ok)} of ${String(REPLICAS)} tasks run${env === undefined ? '' : ` with ${env}`}`)
}

/** Our store, read while a command runs: when did the service converge there (diagnostics, ours only). */
type Probe = (env?: string) => boolean

/** Runs `command`, noting when `probe` first holds (read every 100 ms) — ms from the start, or undefined. */
async function probed<T>(probe: Probe | undefined, env: string | undefined, command: () => Promise<T>): Promise<{ result: T; convergedMs: number | undefined }> {
  const t0 = performance.now()
  let convergedMs: number | undefined
  const timer = probe === undefined ? undefined : setInterval(() => void (convergedMs ??= probe(env) ? performance.now() - t0 : undefined), 100)
  try {
    return { result: await command(), convergedMs }
  } finally {
    clearInterval(timer)
  }
}

/** Both commands against the Docker API at `socket`, timed, with `cpu` measuring. */
async function runCommands(socket: string, image: string, cpu: { start(): void; read(): number }, probe?: Probe): Promise<Phases> {
  const configDir = await mkdtemp(join(tmpdir(), 'swarmkit-bench-dkc-'))
  const host = `unix://${socket}`
  const seen = (ms: number | undefined): string => (ms === undefined ? '' : ` (converged in our store at ${fmt(ms)} ms)`)
  try {
    cpu.start()
    const { result: create, convergedMs: createSeen } = await probed(probe, undefined, () =>
      timedCli(host, configDir, ['service', 'create', '--replicas', String(REPLICAS), '--update-parallelism', String(PARALLELISM), '--no-resolve-image', '--name', 'bench', image, ...COMMAND]),
    )
    const createCpuMs = cpu.read()
    log(`  create: ${create.stdout.trim().split('\n').at(-1) ?? ''}, ${fmt(create.ms)} ms${seen(createSeen)}`)
    await checkRunning(socket)
    cpu.start()
    const { result: update, convergedMs: updateSeen } = await probed(probe, 'X=1', () => timedCli(host, configDir, ['service', 'update', '--env-add', 'X=1', '--no-resolve-image', 'bench']))
    const updateCpuMs = cpu.read()
    log(`  update: ${update.stdout.trim().split('\n').at(-1) ?? ''}, ${fmt(update.ms)} ms${seen(updateSeen)}`)
    await checkRunning(socket, 'X=1')
    return { createMs: create.ms, updateMs: update.ms, createCpuMs, updateCpuMs }
  } finally {
    await timedCli(host, configDir, ['service', 'rm', 'bench']).catch((err: unknown) => log(`  ${String(err)}`))
    await rm(configDir, { recursive: true, force: true })
  }
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + GUARD_MS
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not done after ${String(GUARD_MS)} ms`)
    await sleep(200)
  }
}

// ------------------------------------------------------------------------------------------ ours

async function runOurs(docker: BenchDocker): Promise<Phases> {
  const dirs: string[] = []
  const nodes: (ManagerCluster | WorkerCluster)[] = []
  const instances: string[] = []
  const nodeOptions = async (): Promise<ClusterNodeOptions & { readonly listenAddr: string }> => {
    const dir = await mkdtemp(join(tmpdir(), 'swarmkit-bench-dka-'))
    dirs.push(dir)
    const instance = `swarmkit-bench-${randomBytes(6).toString('hex')}`
    instances.push(instance)
    return { stateDir: join(dir, 's'), listenAddr: '127.0.0.1:0', runtime: 'docker', runtimeOptions: { docker: { socketPath: docker.socket, instance, allowPull: false } } }
  }
  const apiDir = await mkdtemp(join(tmpdir(), 'swarmkit-bench-dks-'))
  dirs.push(apiDir)
  try {
    const manager = await Cluster.init(await nodeOptions())
    nodes.push(manager)
    if (manager.role !== 'manager') throw new Error('Cluster.init did not start a manager')
    const { worker: token } = await manager.joinTokens()
    for (let i = 0; i < WORKERS; i++) nodes.push(await Cluster.join({ ...(await nodeOptions()), joinAddr: manager.address, token }))
    await until('every node READY', async () => (await manager.nodes.list()).filter((n) => n.status.state === 'ready').length === WORKERS + 1)
    const server = await serveDockerApi(manager, { socket: join(apiDir, 'docker.sock') })
    try {
      const store = manager.manager.store
      const probe: Probe = (env) =>
        store.view((tx) => {
          const service = tx.services.find({ name: 'bench' })[0]
          if (service === undefined) return false
          if (env !== undefined && service.updateStatus?.state !== UpdateState.COMPLETED) return false
          const tasks = tx.tasks.find({ serviceId: service.id })
          return tasks.filter((t) => t.desiredState === TaskState.RUNNING && t.status.state === TaskState.RUNNING && (env === undefined || t.spec.container?.env?.includes(env) === true)).length === REPLICAS
        })
      return await runCommands(server.socketPath, docker.image, cpuMeter(docker, true), probe)
    } finally {
      await until('our containers gone', async () => (await Promise.all(instances.map((i) => containersWithLabel(docker.socket, `${OUR_INSTANCE_LABEL}=${i}`)))).every((l) => l.length === 0)).catch((err: unknown) =>
        log(`  ${String(err)}`),
      )
      await server.close()
    }
  } finally {
    for (const n of nodes.reverse()) await n.close().catch((err: unknown) => log(`  closing a node: ${String(err)}`))
    for (const i of instances) {
      const left = await removeContainersWithLabel(docker.socket, `${OUR_INSTANCE_LABEL}=${i}`)
      if (left > 0) log(`  removed ${String(left)} containers our nodes left`)
    }
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  }
}

// ----------------------------------------------------------------------------------------- swarm

async function runSwarm(docker: BenchDocker): Promise<Phases> {
  return withSwarm(docker, await freePort(), until, () => runCommands(docker.socket, docker.image, cpuMeter(docker, false)), log)
}

// ------------------------------------------------------------------------------------------ main

/** One row of the table and the JSON. */
interface Row {
  readonly command: string
  readonly side: 'swarmkit-ts' | 'Docker Swarm'
  readonly medianMs: number
  readonly runsMs: readonly number[]
  readonly cpuMs: number
  readonly vsSwarm?: number | undefined
  readonly target?: string | undefined
}

/** Runs the benchmark: prints its table and writes bench-results/docker-api-swarm.json. */
export async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const load0 = loadavg()[0] ?? 0
  log(`${cpu}, ${String(availableParallelism())} cores, load average ${load0.toFixed(2)}`)
  const skip = dockerUnavailable()
  if (skip !== undefined) {
    console.log(`docker CLI: swarmkit-ts vs Docker Swarm: SKIPPED — ${skip}`)
    return
  }
  const { stdout: cliVersion } = await run(CLI, ['version', '--format', '{{.Client.Version}}'], { env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent.sock' } }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '?' }))
  const { ours, swarm } = await alternateSides<Phases>(ROUNDS, SIDES, async (side, docker, round) => {
    log(`round ${String(round + 1)}/${String(ROUNDS)}: ${side === 'ours' ? `swarmkit-ts (1 manager + ${String(WORKERS)} workers)` : 'Docker Swarm'}, ${String(REPLICAS)} replicas (load average ${(loadavg()[0] ?? 0).toFixed(2)})`)
    const p = side === 'ours' ? await runOurs(docker) : await runSwarm(docker)
    log(`  create ${fmt(p.createMs)} ms (${fmt(p.createCpuMs)} CPU ms), update ${fmt(p.updateMs)} ms (${fmt(p.updateCpuMs)} CPU ms)`)
    return p
  })
  const load1 = loadavg()[0] ?? 0
  const rows: Row[] = []
  const commands = [
    [`docker service create --replicas ${String(REPLICAS)} (converge wait)`, (p: Phases) => p.createMs, (p: Phases) => p.createCpuMs],
    [`docker service update --env-add X=1 (parallelism ${String(PARALLELISM)}, converge wait)`, (p: Phases) => p.updateMs, (p: Phases) => p.updateCpuMs],
  ] as const
  for (const [command, pick, pickCpu] of commands) {
    const swarmMedian = swarm.length > 0 ? median(swarm.map(pick)) : undefined
    if (ours.length > 0) {
      const m = median(ours.map(pick))
      rows.push({ command, side: 'swarmkit-ts', medianMs: m, runsMs: ours.map(pick), cpuMs: median(ours.map(pickCpu)), vsSwarm: swarmMedian === undefined ? undefined : m / swarmMedian, target: '≤ 0.70× Swarm' })
    }
    if (swarmMedian !== undefined) rows.push({ command, side: 'Docker Swarm', medianMs: swarmMedian, runsMs: swarm.map(pick), cpuMs: median(swarm.map(pickCpu)) })
  }
  console.log(`${cpu}, ${String(availableParallelism())} cores, Node ${process.version}, load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end`)
  console.log(`docker CLI ${cliVersion.trim()}: swarmkit-ts (1 manager + ${String(WORKERS)} workers, DockerRuntime) vs Docker Swarm (1 node), same dockerd, ${String(REPLICAS)} replicas, ${String(ROUNDS)} round(s); CPU: dockerd, containerd, live shims (+ our nodes and API server)`)
  printTable([
    ['command', 'side', 'median ms', 'runs ms', 'CPU ms', 'vs Swarm', 'target'],
    ...rows.map((r) => [r.command, r.side, fmt(r.medianMs), r.runsMs.map((x) => fmt(x)).join(' / '), fmt(r.cpuMs), r.vsSwarm === undefined ? '' : `${r.vsSwarm.toFixed(2)}×`, r.target ?? '']),
  ])
  const json = { package: '@swarmkit-ts/docker-api', benchmark: 'swarm', startedAt, cpu, cores: availableParallelism(), node: process.version, cli: cliVersion.trim(), loadAverageAtStart: load0, loadAverageAtEnd: load1, replicas: REPLICAS, workers: WORKERS, rounds: ROUNDS, rows }
  log(`wrote ${await writeBenchResults('docker-api-swarm.json', json)}`)
}

const entry = basename(process.argv[1] ?? '')
if (entry === 'swarm.ts' || entry === '.swarm.built.mjs') await main()
