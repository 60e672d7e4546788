/**
 * Fixtures of the CLI end-to-end tests: a local cluster of separate processes started with the
 * CLI's own `swarmkit node start` (3 managers and a worker on the fake runtime, fast Raft timing),
 * and every command run as a user runs it — a child process with real argv, exit code, stdout and
 * stderr. The bin is bundled from source once per file with esbuild (the `@swarmkit-ts/source`
 * condition, third-party packages left to Node): a tsx start costs ~2 s of CPU per command, a
 * bundle a fraction of that, which keeps a hundred commands inside CI's budget on 2 cores.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'esbuild'

const CLI_DIR = fileURLToPath(new URL('../..', import.meta.url))

/** Fast Raft timing and the fake runtime, as the other multi-process tests use. */
export const FAST_FLAGS = ['--runtime', 'fake', '--raft-tick-ms', '50', '--election-tick', '20', '--heartbeat-period-ms', '1000'] as const

/** What one command printed and its exit code. */
export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The JSON line `node start --format json` prints once the node runs. */
export interface StartedNode {
  readonly nodeId: string
  readonly role: 'manager' | 'worker'
  readonly address: string
  readonly controlSocket?: string
  readonly tokens?: { readonly worker: string; readonly manager: string }
}

/** Third-party imports stay imports of the file esbuild resolves (so each package keeps its own dependencies). */
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

/** Bundles src/bin.ts into `dir` and returns the file to run with `node`. */
export async function bundleBin(dir: string): Promise<string> {
  const outfile = join(dir, 'swarmkit.mjs')
  await build({
    entryPoints: [join(CLI_DIR, 'src/bin.ts')],
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

/** Polls `cond` until it holds; throws naming `what` after `guardMs` (a guard against hanging, not a timing assertion). */
export async function until(cond: () => Promise<boolean>, what: string, guardMs = 120_000): Promise<void> {
  const deadline = Date.now() + guardMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** A node process started with `swarmkit node start`. */
interface NodeChild {
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  readonly started: StartedNode
  readonly stateDir: string
}

/**
 * A running local cluster: managers m1 (the first leader), m2, m3 and worker w1, each a
 * `swarmkit node start` process. {@link E2eCluster.cli} runs one command as a child process.
 */
export class E2eCluster {
  readonly dir: string
  readonly bin: string
  readonly #nodes = new Map<string, NodeChild>()

  private constructor(dir: string, bin: string) {
    this.dir = dir
    this.bin = bin
  }

  /** Bundles the bin, starts m1 (init), joins m2 and m3 as managers and w1 as a worker, and waits until all are ready. */
  static async start(): Promise<E2eCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'cli-e2e-'))
    const cluster = new E2eCluster(dir, await bundleBin(dir))
    try {
      const m1 = await cluster.#startNode('m1', ['init'])
      const tokens = m1.tokens ?? { worker: '', manager: '' }
      await cluster.#startNode('m2', ['join', '--join-addr', m1.address, '--token', tokens.manager])
      await cluster.#startNode('m3', ['join', '--join-addr', m1.address, '--token', tokens.manager])
      await cluster.#startNode('w1', ['join', '--join-addr', m1.address, '--token', tokens.worker])
      await until(async () => {
        const r = await cluster.cli(['node', 'ls', '--format', 'json'])
        if (r.code !== 0) return false
        const nodes = JSON.parse(r.stdout) as { description?: { hostname?: string }; status: { state: string }; managerStatus?: { reachability: string } }[]
        const seen = nodes.map((n) => `${n.description?.hostname ?? ''} ${n.status.state} ${n.managerStatus?.reachability ?? '-'}`).sort()
        return seen.join(';') === 'm1 ready reachable;m2 ready reachable;m3 ready reachable;w1 ready -'
      }, 'four ready nodes, three reachable managers')
    } catch (err) {
      await cluster.close()
      throw err
    }
    return cluster
  }

  /** The JSON line node `name` printed when it started. */
  node(name: string): StartedNode {
    const n = this.#nodes.get(name)
    if (n === undefined) throw new Error(`no node ${name}`)
    return n.started
  }

  /** The state directory of node `name`. */
  stateDir(name: string): string {
    return join(this.dir, name)
  }

  /** `--host unix://<control socket of manager name>`. */
  host(name: string): string[] {
    return ['--host', `unix://${this.node(name).controlSocket ?? ''}`]
  }

  /**
   * Runs `swarmkit <argv…>` as a child process against m1's control socket (unless argv starts
   * with its own `--host` or `--state-dir`), with `stdin` written and closed.
   */
  cli(argv: readonly string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
    const own = argv[0] === '--host' || argv[0] === '-H' || argv[0] === '--state-dir'
    return this.#spawn([...(own ? [] : this.host('m1')), ...argv], options)
  }

  #spawn(argv: readonly string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [this.bin, ...argv], { cwd: this.dir, env: { PATH: process.env['PATH'] ?? '', ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout, stderr }))
      child.stdin.end(options.stdin ?? '')
    })
  }

  async #startNode(name: string, mode: readonly string[]): Promise<StartedNode> {
    const stateDir = this.stateDir(name)
    const child = spawn(process.execPath, [this.bin, '--format', 'json', 'node', 'start', ...mode, '--state-dir', stateDir, '--hostname', name, ...FAST_FLAGS], {
      cwd: this.dir,
      env: { PATH: process.env['PATH'] ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const started = await new Promise<StartedNode>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString()
        const first = stdout.split('\n')[0]
        if (stdout.includes('\n') && first !== undefined) resolve(JSON.parse(first) as StartedNode)
      })
      void exited.then((code) => reject(new Error(`node ${name} exited (${String(code)}) before it started: ${stderr}`)))
    })
    this.#nodes.set(name, { child, exited, started, stateDir })
    return started
  }

  /** Stops every node (SIGTERM: a clean close; SIGKILL after a guard) and removes the directory. */
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
    await rm(this.dir, { recursive: true, force: true })
  }
}

/**
 * The rows of a table, header included: each line cut at the columns where the header's cells
 * start (Docker's layout: cells padded to their column's width), so a blank cell stays ''.
 */
export function rowsOf(table: string): string[][] {
  const lines = table.trimEnd().split('\n')
  const starts = [...(lines[0] ?? '').matchAll(/\S(?:\S| (?! ))*/g)].map((m) => m.index)
  return lines.map((line) => {
    const cells = starts.map((start, i) => line.slice(start, starts[i + 1] ?? line.length).trim())
    while (cells.length > 0 && cells.at(-1) === '') cells.pop()
    return cells
  })
}
