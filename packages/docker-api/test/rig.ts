/**
 * Fixtures of the Docker API tests: in-process managers (and workers) on temporary state
 * directories with the Docker API on a temporary unix socket, the real `docker` CLIs found on this
 * machine (Debian's 20.10 at /usr/bin/docker, and a newer one on PATH, which negotiates down), and
 * waits on conditions (guards only, never timing assertions).
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, type ClusterNodeOptions, type ManagerCluster, type WorkerCluster } from '@swarmkit-ts/core'
import { serveDockerApi, type DockerApiSocketServer } from '../src/index.ts'
import { killWorkloads } from '../../../scripts/test-support/workloads.ts'

/** Fast Raft timing for 127.0.0.1 (an election after 1–2 s without a leader: margin on a loaded machine). */
export const FAST_RAFT = { tickMs: 50, electionTick: 20, heartbeatTick: 1 } as const

/** A `docker` CLI binary on this machine. */
export interface DockerCli {
  /** Absolute path of the binary. */
  readonly path: string
  /** Its client version (`docker version --format '{{.Client.Version}}'`). */
  readonly version: string
  /** Its own maximum API version (`{{.Client.APIVersion}}` without a server). */
  readonly apiVersion: string
}

function cliAt(path: string): DockerCli | undefined {
  try {
    const out = execFileSync(path, ['version', '--format', '{{.Client.Version}} {{.Client.APIVersion}}'], {
      env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 20_000,
    }).toString()
    const [version = '', apiVersion = ''] = out.trim().split(/\s+/)
    return version === '' ? undefined : { path, version, apiVersion }
  } catch (err) {
    // `docker version` exits 1 when the daemon is unreachable but still prints the client part.
    const stdout = (err as { stdout?: Buffer }).stdout?.toString() ?? ''
    const [version = '', apiVersion = ''] = stdout.trim().split(/\s+/)
    return version === '' ? undefined : { path, version, apiVersion }
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    const p = join(dir, name)
    if (dir !== '' && existsSync(p)) return p
  }
  return undefined
}

/**
 * The `docker` CLIs of this machine, oldest first: Debian's (/usr/bin/docker, installed with
 * docker.io by CI as root) and the first `docker` on PATH when it is another version. Empty when
 * there is none (not root, no docker.io): the tests that need one say they are skipped.
 */
export const DOCKER_CLIS: readonly DockerCli[] = (() => {
  const found: DockerCli[] = []
  for (const p of ['/usr/bin/docker', onPath('docker')]) {
    if (p === undefined || !existsSync(p)) continue
    const cli = cliAt(p)
    if (cli !== undefined && !found.some((c) => c.version === cli.version)) found.push(cli)
  }
  return found.sort((a, b) => a.apiVersion.localeCompare(b.apiVersion, 'en', { numeric: true }))
})()

/** The oldest CLI (Debian's 20.10, speaking API 1.41), when there is one. */
export const DEBIAN_DOCKER: DockerCli | undefined = DOCKER_CLIS[0]

/** What a CLI run printed and how it exited. */
export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Options of {@link runDocker}. */
export interface RunDockerOptions {
  /** Written to the CLI's stdin, then closed. */
  readonly stdin?: string
  /** More environment. */
  readonly env?: Readonly<Record<string, string>>
  /** Failure guard: the CLI is killed after this long. @default 120 s */
  readonly timeoutMs?: number
  /** The working directory (for `stack deploy -c file`). */
  readonly cwd?: string
}

/**
 * Runs `cli args…` against `dockerHost` with a private, empty client configuration (no contexts,
 * no credentials, no hints), and resolves with its exit code and output (it never rejects on a
 * non-zero exit).
 */
export function runDocker(cli: DockerCli, dockerHost: string, configDir: string, args: readonly string[], options: RunDockerOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cli.path, args, {
      cwd: options.cwd,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: configDir,
        DOCKER_HOST: dockerHost,
        DOCKER_CONFIG: configDir,
        DOCKER_CLI_HINTS: 'false',
        DOCKER_CLI_EXPERIMENTAL: 'disabled',
        NO_COLOR: '1',
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? (signal === null ? -1 : 128), stdout, stderr })
    })
    // A CLI that exits without reading its input closes the pipe: that is no failure of the run.
    child.stdin.once('error', () => undefined)
    child.stdin.end(options.stdin ?? '')
  })
}

/** Polls `cond` until it holds; throws naming `what` after `guardMs` (a guard against hanging). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, guardMs = 90_000): Promise<void> {
  const deadline = Date.now() + guardMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Options of {@link DockerRig.start}. */
export interface DockerRigOptions {
  /** Managers in the cluster (the first serves the Docker API). @default 1 */
  readonly managers?: number
  /** Workers in the cluster. @default 0 */
  readonly workers?: number
  /** The runtime of every node. @default 'fake' */
  readonly runtime?: 'fake' | 'process'
  /** More options of every node. */
  readonly node?: Partial<ClusterNodeOptions>
  /** Give each node its own hostname (`manager-1`…, `worker-1`…) instead of this machine's. @default false */
  readonly distinctHostnames?: boolean
}

/**
 * A cluster of in-process nodes with the Docker API of its first manager on a unix socket.
 * Close it (in `afterAll`/`afterEach`): it closes the server, every node, and removes the
 * directories.
 */
export class DockerRig {
  readonly managers: ManagerCluster[] = []
  readonly workers: WorkerCluster[] = []
  #server: DockerApiSocketServer | undefined
  readonly #dirs: string[] = []
  #configDir = ''

  private constructor() {}

  /** Starts the cluster and the Docker API server. */
  static async start(options: DockerRigOptions = {}): Promise<DockerRig> {
    const rig = new DockerRig()
    try {
      await rig.#start(options)
    } catch (err) {
      await rig.close()
      throw err
    }
    return rig
  }

  async #start(options: DockerRigOptions): Promise<void> {
    const common = { listenAddr: '127.0.0.1:0', runtime: options.runtime ?? 'fake', raft: FAST_RAFT, heartbeatPeriodMs: 1000, ...options.node }
    const hostname = (role: string, i: number): { hostname?: string } => (options.distinctHostnames === true ? { hostname: `${role}-${i + 1}` } : {})
    const first = await Cluster.init({ stateDir: await this.dir(), ...common, ...hostname('manager', 0) })
    this.managers.push(first)
    const tokens = await first.joinTokens()
    for (let i = 1; i < (options.managers ?? 1); i++) {
      const m = await Cluster.join({ stateDir: await this.dir(), joinAddr: first.address, token: tokens.manager, ...common, ...hostname('manager', i) })
      if (m.role !== 'manager') throw new Error('joined as a worker')
      this.managers.push(m)
    }
    for (let i = 0; i < (options.workers ?? 0); i++) {
      const w = await Cluster.join({ stateDir: await this.dir(), joinAddr: first.address, token: tokens.worker, ...common, ...hostname('worker', i) })
      if (w.role !== 'worker') throw new Error('joined as a manager')
      this.workers.push(w)
    }
    this.#configDir = await this.tempDir('dkc-')
    const sock = join(await this.tempDir('dks-'), 'docker.sock')
    this.#server = await serveDockerApi(first, { socket: sock })
  }

  /** The manager serving the Docker API. */
  get manager(): ManagerCluster {
    const m = this.managers[0]
    if (m === undefined) throw new Error('the rig has no manager')
    return m
  }

  /** The server. */
  get server(): DockerApiSocketServer {
    if (this.#server === undefined) throw new Error('the rig has no server')
    return this.#server
  }

  /** `unix:///…/docker.sock`, for `DOCKER_HOST`. */
  get dockerHost(): string {
    return this.server.dockerHost
  }

  /** A private directory for the CLI's configuration (`DOCKER_CONFIG`). */
  get configDir(): string {
    return this.#configDir
  }

  /** Runs the `docker` CLI `cli` against this rig. */
  docker(cli: DockerCli, args: readonly string[], options: RunDockerOptions = {}): Promise<CliResult> {
    return runDocker(cli, this.dockerHost, this.#configDir, args, options)
  }

  /** A new temporary directory removed on close. */
  async tempDir(prefix = 'dk-'): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), prefix))
    this.#dirs.push(d)
    return d
  }

  /** A state directory (short path: the control socket lives in it). */
  async dir(): Promise<string> {
    return join(await this.tempDir('dkn-'), 's')
  }

  /** Closes the server and every node (workers first), then removes the directories. */
  async close(): Promise<void> {
    await this.#server?.close()
    this.#server = undefined
    for (const w of this.workers.splice(0).reverse()) await w.close().catch(() => undefined)
    for (const m of this.managers.splice(0).reverse()) await m.close().catch(() => undefined)
    // The process runtime's workloads outlive their nodes by design (adoption): leave nothing running.
    for (const d of this.#dirs) await killWorkloads(d)
    for (const d of this.#dirs.splice(0)) await rm(d, { recursive: true, force: true })
  }
}
