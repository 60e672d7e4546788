/**
 * The private dockerd both sides of the Swarm benchmark run on: joined and released through
 * `packages/engine-adapter/scripts/test-engines.sh` (as the Docker tests do: `up docker <holder>`,
 * `down docker <holder>`; it stops when no holder is left, and `SWARMKIT_ENGINES_DIR` picks a
 * private set of engines), the Engine API over its unix socket, and the docker CLI pointed at it.
 *
 * Paths are found from the repository root, not from `import.meta.url`, so this works bundled by
 * `scripts/bench-built.mjs` too.
 *
 * @module
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { request } from 'node:http'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const HOLDER = `${String(process.pid)}_${randomBytes(4).toString('hex')}`

/** The repository root: the nearest folder above the working directory holding pnpm-workspace.yaml. */
function repositoryRoot(): string {
  let dir = process.cwd()
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('docker-engine: no pnpm-workspace.yaml above the working directory')
    dir = parent
  }
  return dir
}

const script = (): string => join(repositoryRoot(), 'packages', 'engine-adapter', 'scripts', 'test-engines.sh')

/** The benchmark's dockerd: its socket and the busybox image imported into it. */
export interface BenchDocker {
  readonly socket: string
  readonly image: string
}

/** Why the Docker benchmark cannot run here (it starts a dockerd), or undefined when it can. */
export function dockerUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `it needs Linux (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'it needs root to start a private dockerd'
  return undefined
}

/** Starts (or joins) the test dockerd; resolves once it answers. */
export async function startBenchDocker(): Promise<BenchDocker> {
  const { stdout } = await run('bash', [script(), 'up', 'docker', HOLDER], { maxBuffer: 1 << 20, timeout: 300_000 })
  const vars = new Map(stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  const get = (k: string): string => {
    const v = vars.get(k)
    if (v === undefined) throw new Error(`test-engines.sh did not print ${k}`)
    return v
  }
  return { socket: get('SWARMKIT_DOCKER_SOCKET'), image: get('SWARMKIT_DOCKER_IMAGE') }
}

/** Releases it (it stops when no other holder is left). */
export async function stopBenchDocker(): Promise<void> {
  await run('bash', [script(), 'down', 'docker', HOLDER], { maxBuffer: 1 << 20, timeout: 120_000 })
}

/** Runs the docker CLI against `socket`; resolves with its stdout. */
export async function dockerCli(socket: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run('docker', [...args], { maxBuffer: 16 << 20, timeout: 120_000, env: { ...process.env, DOCKER_HOST: `unix://${socket}` } })
  return stdout
}

/** An Engine API error: the HTTP status and the engine's message. */
export class EngineApiError extends Error {
  override readonly name = 'EngineApiError'
  /** The HTTP status. */
  readonly status: number
  /** The API path called. */
  readonly path: string
  constructor(status: number, path: string, message: string) {
    super(`${path}: ${String(status)} ${message}`)
    this.status = status
    this.path = path
  }
}

/** One Engine API call over the unix socket: the decoded JSON answer (undefined when empty). */
export function engineApi(socket: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        const status = res.statusCode ?? 0
        if (status >= 400) {
          let message = text
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? text
          } catch {
            // not JSON: keep the text
          }
          reject(new EngineApiError(status, path, message))
        } else resolve(text === '' ? undefined : (JSON.parse(text) as unknown))
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/** A container as `GET /containers/json` lists it (the fields used here). */
interface ContainerSummary {
  readonly Id: string
}

/** The ids of the containers (running or not) carrying `label` (`key` or `key=value`). */
export async function containersWithLabel(socket: string, label: string): Promise<string[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }))
  const list = (await engineApi(socket, 'GET', `/containers/json?all=1&filters=${filters}`)) as ContainerSummary[]
  return list.map((c) => c.Id)
}

/** Force-removes every container carrying `label`; resolves with how many there were. */
export async function removeContainersWithLabel(socket: string, label: string): Promise<number> {
  const ids = await containersWithLabel(socket, label)
  for (const id of ids) {
    try {
      await engineApi(socket, 'DELETE', `/containers/${id}?force=1&v=1`)
    } catch (err) {
      if (!(err instanceof EngineApiError && err.status === 404)) throw err
    }
  }
  return ids.length
}

/**
 * CPU time (user + system, ms) used so far by the engine's processes: every live process whose
 * command line names the folder of `socket` (dockerd, its containerd, the shims running). A shim
 * that exited took its time with it, on both sides alike. Linux only (0 elsewhere).
 */
export function engineCpuMs(socket: string): number {
  if (process.platform !== 'linux') return 0
  const needle = `${dirname(socket)}/`
  let ticks = 0
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) continue
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12]) // utime, stime (fields 14 and 15 of stat)
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks * 10 // USER_HZ is 100 on Linux
}

/** CPU used since `start()` (ms): the engine's processes, plus this process's when `self` (ours: our nodes run here). */
export function cpuMeter(docker: BenchDocker, self: boolean): { start(): void; read(): number } {
  let engine0 = 0
  let own0 = process.cpuUsage()
  return {
    start() {
      engine0 = engineCpuMs(docker.socket)
      own0 = process.cpuUsage()
    },
    read() {
      const own = process.cpuUsage(own0)
      return engineCpuMs(docker.socket) - engine0 + (self ? (own.user + own.system) / 1000 : 0)
    },
  }
}

/** The label Docker Swarm puts on its tasks' containers. */
export const SWARM_SERVICE_LABEL = 'com.docker.swarm.service.id'

/**
 * Runs `body` on a single-node Docker Swarm of the benchmark's dockerd — `docker swarm init` on a
 * free loopback port (refused if that dockerd is in a swarm already), `body` once the node is
 * ready — then waits (up to `guardMs`) for the swarm's containers to go, leaves the swarm and
 * removes any container it left. `poll(what, check)` is the caller's wait loop.
 */
export async function withSwarm<T>(docker: BenchDocker, port: number, poll: (what: string, check: () => Promise<boolean>) => Promise<void>, body: () => Promise<T>, log: (line: string) => void): Promise<T> {
  const info = (await engineApi(docker.socket, 'GET', '/info')) as { Swarm?: { LocalNodeState?: string } }
  if (info.Swarm?.LocalNodeState !== 'inactive') throw new Error(`the dockerd at ${docker.socket} is already in a swarm (${info.Swarm?.LocalNodeState ?? 'unknown'}): run \`docker swarm leave --force\` on it first`)
  await dockerCli(docker.socket, ['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${String(port)}`])
  try {
    await poll('swarm node ready', async () => ((await engineApi(docker.socket, 'GET', '/nodes')) as { Status: { State: string } }[]).some((n) => n.Status.State === 'ready'))
    return await body()
  } finally {
    await poll('swarm containers gone', async () => (await containersWithLabel(docker.socket, SWARM_SERVICE_LABEL)).length === 0).catch((err: unknown) => log(`  ${String(err)}`))
    await dockerCli(docker.socket, ['swarm', 'leave', '--force'])
    const left = await removeContainersWithLabel(docker.socket, SWARM_SERVICE_LABEL)
    if (left > 0) log(`  removed ${String(left)} containers the swarm left`)
  }
}

/**
 * `rounds` rounds of the two sides on the benchmark's dockerd (started first, stopped after),
 * alternating who goes first; `sides` picks which run. Returns each side's results in order.
 */
export async function alternateSides<P>(rounds: number, sides: ReadonlySet<string>, run: (side: 'ours' | 'swarm', docker: BenchDocker, round: number) => Promise<P>): Promise<{ ours: P[]; swarm: P[] }> {
  const docker = await startBenchDocker()
  const ours: P[] = []
  const swarm: P[] = []
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['ours', 'swarm'] as const) : (['swarm', 'ours'] as const)
      for (const side of order) if (sides.has(side)) (side === 'ours' ? ours : swarm).push(await run(side, docker, round))
    }
  } finally {
    await stopBenchDocker()
  }
  return { ours, swarm }
}
