/**
 * Our side of the control-writes benchmark: three managers as separate processes (the
 * manager-binary example, bundled with esbuild so the children run the code as it ships — not
 * through tsx — and can be profiled with `--cpu-prof`), and a `ControlClient` over mutual TLS
 * holding a manager certificate of the cluster (the leader's own, read from its state directory).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { ManagerKeyStore, credentials } from '@swarmkit-ts/pki'
import { ControlClient, NodeCertificateStore, connectControlSocket, managerStatePaths } from '../src/index.ts'
import type { ReadyLine } from '../../../examples/manager-binary/src/main.ts'

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const MANAGER_BINARY = join(REPO, 'examples', 'manager-binary')

/**
 * Raft timing of the managers: 100 ms ticks, election after 10 ticks, a heartbeat every tick —
 * etcd's defaults (heartbeat 100 ms, election 1000 ms).
 */
const TIMING = ['--runtime', 'fake', '--raft-tick-ms', '100', '--election-tick', '10', '--heartbeat-tick', '1'] as const

/** Bundles the manager binary (workspace sources and their dependencies) into `dir`; returns the file. */
export async function bundleManagerBinary(dir: string): Promise<string> {
  const outfile = join(dir, 'manager-binary.mjs')
  await build({
    entryPoints: [join(MANAGER_BINARY, 'src', 'main.ts')],
    absWorkingDir: MANAGER_BINARY,
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@swarmkit-ts/source'],
    // ssh2 (under dockerode) loads this optional native module inside a try.
    external: ['cpu-features', '*.node'],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
  })
  return outfile
}

/** One manager process. */
export interface ManagerProcess {
  readonly name: string
  readonly stateDir: string
  readonly child: ChildProcess
  readonly ready: ReadyLine
}

function startProcess(binary: string, nodeFlags: readonly string[], name: string, args: readonly string[]): Promise<ManagerProcess> {
  const stateDir = args[args.indexOf('--state-dir') + 1] ?? ''
  const child = spawn(process.execPath, [...nodeFlags, binary, ...args], { cwd: dirname(stateDir), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s))
  // Node flags such as --trace-gc print to stdout too: the ready line is the first JSON line; with
  // BENCH_CONTROL_STDOUT_DIR set, everything the child prints to stdout goes to <dir>/<name>.log.
  const logDir = process.env.BENCH_CONTROL_STDOUT_DIR
  const logFile = logDir === undefined ? undefined : createWriteStream(join(logDir, `${name}.log`))
  let ready = false
  return new Promise((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      logFile?.write(s)
      if (ready) return
      out += s
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl)
        out = out.slice(nl + 1)
        if (!line.startsWith('{')) continue
        ready = true
        resolve({ name, stateDir, child, ready: JSON.parse(line) as ReadyLine })
        return
      }
    })
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal ?? '?'}) before it was ready: ${err.trim()}`)))
  })
}

/** Three managers of one cluster as processes, and what the benchmark needs of them. */
export class ManagerProcesses {
  readonly managers: ManagerProcess[] = []
  readonly #dir: string
  readonly #binary: string
  readonly #nodeFlags: readonly string[]

  private constructor(dir: string, binary: string, nodeFlags: readonly string[]) {
    this.#dir = dir
    this.#binary = binary
    this.#nodeFlags = nodeFlags
  }

  /**
   * Bundles the binary, inits m1 and joins m2, m3 as managers through it; resolves once the
   * cluster lists three managers. `nodeFlags` go to each child's node (e.g. `--cpu-prof`).
   */
  static async start(nodeFlags: readonly string[] = []): Promise<ManagerProcesses> {
    const dir = await mkdtemp(join(tmpdir(), 'skts-control-bench-'))
    let binary: string
    try {
      // BENCH_CONTROL_BINARY: a bundle made earlier (e.g. of another commit), for A/B runs.
      const prebuilt = process.env.BENCH_CONTROL_BINARY
      binary = join(dir, 'manager-binary.mjs')
      if (prebuilt === undefined || prebuilt === '') binary = await bundleManagerBinary(dir)
      else await copyFile(prebuilt, binary)
    } catch (err) {
      await rm(dir, { recursive: true, force: true })
      throw err
    }
    const cluster = new ManagerProcesses(dir, binary, nodeFlags)
    try {
      const m1 = await cluster.#start('m1', ['init', '--listen-addr', '127.0.0.1:0'])
      const token = m1.ready.tokens?.manager ?? ''
      for (const name of ['m2', 'm3']) await cluster.#start(name, ['join', '--join-addr', m1.ready.address, '--token', token])
      const control = connectControlSocket(m1.ready.controlSocket ?? '', { callTimeoutMs: 10_000 })
      try {
        for (const deadline = Date.now() + 60_000; ; ) {
          const managers = await control.nodes.list({ roles: ['manager'] })
          if (managers.length === 3 && managers.every((n) => n.managerStatus?.reachability === 'reachable')) break
          if (Date.now() > deadline) throw new Error('the three managers were not all reachable within 60 s')
          await new Promise((resolve) => setTimeout(resolve, 200))
        }
      } finally {
        control.close()
      }
      return cluster
    } catch (err) {
      await cluster.stop()
      throw err
    }
  }

  async #start(name: string, args: readonly string[]): Promise<ManagerProcess> {
    const stateDir = join(this.#dir, name)
    const m = await startProcess(this.#binary, this.#nodeFlags, name, [...args, '--state-dir', stateDir, '--hostname', name, ...TIMING])
    this.managers.push(m)
    return m
  }

  /** The manager the cluster names leader (asked through m1's control socket). */
  async leader(): Promise<ManagerProcess> {
    const first = this.managers[0]
    if (first === undefined) throw new Error('no managers')
    const control = connectControlSocket(first.ready.controlSocket ?? '', { callTimeoutMs: 10_000 })
    try {
      const nodes = await control.nodes.list({ roles: ['manager'] })
      const id = nodes.find((n) => n.managerStatus?.leader === true)?.id
      const leader = this.managers.find((m) => m.ready.nodeId === id)
      if (leader === undefined) throw new Error('no leader known')
      return leader
    } finally {
      control.close()
    }
  }

  /**
   * A control client of `target` over mutual TLS, presenting `holder`'s manager certificate (its
   * key read from the manager's key store: autolock is off here).
   */
  async client(target: ManagerProcess, holder: ManagerProcess = target): Promise<ControlClient> {
    const keys = await ManagerKeyStore.open(managerStatePaths(holder.stateDir).keys)
    const certificates = new NodeCertificateStore({ stateDir: holder.stateDir, keyStorage: { load: () => Promise.resolve(keys.tlsKeyPem), save: () => Promise.resolve() } })
    const material = await certificates.load()
    const clusterId = certificates.identity?.clusterId
    return new ControlClient({
      address: target.ready.address,
      credentials: credentials.forClient(material, clusterId === undefined ? {} : { clusterId }),
      channelOptions: credentials.channelOptions(),
    })
  }

  /** The pids of the managers, in order. */
  pids(): number[] {
    return this.managers.map((m) => m.child.pid ?? 0)
  }

  /** Stops every manager (SIGTERM: a clean close, so `--cpu-prof` profiles are written) and removes the directory. */
  async stop(): Promise<void> {
    await Promise.all(
      this.managers.splice(0).map(async (m) => {
        if (m.child.exitCode !== null || m.child.signalCode !== null) return
        const exited = new Promise((resolve) => m.child.once('exit', resolve))
        m.child.kill('SIGTERM')
        const guard = setTimeout(() => m.child.kill('SIGKILL'), 20_000)
        await exited
        clearTimeout(guard)
      }),
    )
    await rm(this.#dir, { recursive: true, force: true })
  }
}
