/**
 * Fixtures of the Docker API's end-to-end suite: a localhost cluster of three managers, each a
 * separate `swarmkit node start … --docker-api unix://…` process on the process runtime (the
 * first also runs the routing mesh on 127.0.0.1), driven by the real `docker` CLIs. The `swarmkit`
 * bin is bundled from source once (esbuild, the `@swarmkit-ts/source` condition, third-party
 * packages left to Node), as the CLI's own end-to-end suite does.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'esbuild'
import { runDocker, until, type CliResult, type DockerCli, type RunDockerOptions } from '../rig.ts'
import { killWorkloads } from '../../../../scripts/test-support/workloads.ts'

const CLI_BIN = fileURLToPath(new URL('../../../cli/src/bin.ts', import.meta.url))

/** Fast Raft timing for 127.0.0.1, as the other multi-process tests use. */
export const FAST_FLAGS = ['--raft-tick-ms', '50', '--election-tick', '20', '--heartbeat-period-ms', '1000'] as const

/** The JSON line `node start --format json` prints once the node runs. */
export interface StartedNode {
  readonly nodeId: string
  readonly role: 'manager' | 'worker'
  readonly address: string
  readonly controlSocket?: string
  readonly dockerApi?: string
  readonly tokens?: { readonly worker: string; readonly manager: string }
}

/** Third-party imports stay imports of the file esbuild resolves (each package keeps its own dependencies). */
const externalDependencies: Plugin = {
  name: 'external-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('@swarmkit-ts/') || args.path.startsWith('node:') || args.pluginData === 'inner') return undefined
      const resolved = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: 'inner' })
      if (resolved.errors.length > 0 || resolved.path === '') return { path: args.path, external: true }
      return { path: resolved.path, external: true }
    })
  },
}

/** Bundles the CLI's src/bin.ts into `dir`; returns the file to run with `node`. */
export async function bundleSwarmkit(dir: string): Promise<string> {
  const outfile = join(dir, 'swarmkit.mjs')
  await build({
    entryPoints: [CLI_BIN],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@swarmkit-ts/source'],
    logLevel: 'silent',
    plugins: [externalDependencies],
  })
  return outfile
}

/** Runs `node <bin> argv…` to the end. */
export function runSwarmkit(bin: string, argv: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...argv], { cwd, env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

interface NodeChild {
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  readonly started: StartedNode
  /** Everything it printed on stdout so far (one JSON line per start and role change). */
  readonly stdout: () => string
}


/**
 * Three managers m1 (init, routing mesh on 127.0.0.1), m2 and m3 (joined), each a `swarmkit node
 * start` process serving the Docker API on its own unix socket.
 */
export class E2eDockerCluster {
  readonly dir: string
  readonly bin: string
  readonly #nodes = new Map<string, NodeChild>()

  private constructor(dir: string, bin: string) {
    this.dir = dir
    this.bin = bin
  }

  /** Bundles the bin, starts the three managers, and waits until the cluster sees them ready and reachable. */
  static async start(cli: DockerCli): Promise<E2eDockerCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'dke2e-'))
    const cluster = new E2eDockerCluster(dir, await bundleSwarmkit(dir))
    try {
      const m1 = await cluster.#startNode('m1', ['init', '--mesh-addr', '127.0.0.1'])
      const token = m1.tokens?.manager ?? ''
      await cluster.#startNode('m2', ['join', '--join-addr', m1.address, '--token', token])
      await cluster.#startNode('m3', ['join', '--join-addr', m1.address, '--token', token])
      await until(async () => {
        const r = await cluster.docker(cli, 'm1', ['node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'])
        const rows = r.stdout.trim().split('\n').sort()
        return r.code === 0 && rows.join(';') === 'm1 Ready Leader;m2 Ready Reachable;m3 Ready Reachable'
      }, 'three ready managers', 120_000)
    } catch (err) {
      await cluster.close()
      throw err
    }
    return cluster
  }

  /** What node `name` printed when it started. */
  node(name: string): StartedNode {
    const n = this.#nodes.get(name)
    if (n === undefined) throw new Error(`no node ${name}`)
    return n.started
  }

  /** Every JSON line node `name` printed: its start, then each role change. */
  reports(name: string): StartedNode[] {
    const n = this.#nodes.get(name)
    if (n === undefined) throw new Error(`no node ${name}`)
    return n
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as StartedNode)
  }

  /** `DOCKER_HOST` of node `name`'s Docker API. */
  dockerHost(name: string): string {
    const host = this.node(name).dockerApi
    if (host === undefined) throw new Error(`node ${name} serves no Docker API`)
    return host
  }

  /** Runs the docker CLI `cli` against node `name`'s Docker API. */
  docker(cli: DockerCli, name: string, args: readonly string[], options: RunDockerOptions = {}): Promise<CliResult> {
    return runDocker(cli, this.dockerHost(name), this.dir, args, options)
  }

  async #startNode(name: string, mode: readonly string[]): Promise<StartedNode> {
    const socket = join(this.dir, `${name}-docker.sock`)
    const args = [this.bin, '--format', 'json', 'node', 'start', ...mode, '--state-dir', join(this.dir, name), '--hostname', name, '--docker-api', `unix://${socket}`, ...FAST_FLAGS]
    const child = spawn(process.execPath, args, { cwd: this.dir, env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
    let stdout = ''
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const started = await new Promise<StartedNode>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d
        const first = stdout.split('\n')[0]
        if (stdout.includes('\n') && first !== undefined) resolve(JSON.parse(first) as StartedNode)
      })
      void exited.then((code) => reject(new Error(`node ${name} exited (${String(code)}) before it started: ${stderr}`)))
    })
    this.#nodes.set(name, { child, exited, started, stdout: () => stdout })
    return started
  }

  /** Stops every node (SIGTERM: a clean close; SIGKILL after a guard), kills the workloads left, removes the directory. */
  async close(): Promise<void> {
    const nodes = [...this.#nodes.values()].reverse()
    this.#nodes.clear()
    for (const n of nodes) {
      if (n.child.exitCode !== null || n.child.signalCode !== null) continue
      n.child.kill('SIGTERM')
      const guard = setTimeout(() => n.child.kill('SIGKILL'), 30_000)
      await n.exited
      clearTimeout(guard)
    }
    await killWorkloads(this.dir)
    await rm(this.dir, { recursive: true, force: true })
  }
}
