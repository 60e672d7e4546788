/**
 * Fixtures of the network-namespace test (root only): a private topology made with `ip` — a
 * "switch" namespace holding a bridge, one namespace per node with a veth pair to that bridge
 * and its own address in a private /24 — and manager-binary processes started inside those
 * namespaces through `ip netns exec`. Nothing touches the host's own network: the veths are
 * created directly inside the namespaces, and the test reaches managers only through their unix
 * control sockets (the file system is shared across network namespaces).
 *
 * Cleanup happens after each test and, should the test process exit first, in a synchronous
 * `exit` handler: children killed, namespaces deleted (which removes their veths and the bridge),
 * state directories removed.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomInt } from 'node:crypto'
import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach } from 'vitest'
import { EXAMPLE_DIR, MAIN } from '../../../../examples/manager-binary/src/node-process.ts'
import type { ReadyLine } from '../../../../examples/manager-binary/src/main.ts'
import { connectControlSocket, type ControlClient } from '../../src/index.ts'
import { FAST_FLAGS, killTaskProcesses } from './processes.ts'

const run = promisify(execFile)

/** The port every node's gRPC server listens on, in its own namespace. */
export const NODE_PORT = 4242

/** Runs `ip` with `args`; rejects with its stderr. */
export async function ip(...args: string[]): Promise<string> {
  const { stdout } = await run('ip', args)
  return stdout
}

/** The names of the network namespaces (`ip netns list`), sorted. */
export async function netnsNames(): Promise<string[]> {
  return (await ip('netns', 'list'))
    .split('\n')
    .map((l) => l.trim().split(' ')[0] ?? '')
    .filter((n) => n !== '')
    .sort()
}

/** The names of the links of the host's network namespace (`ip -o link`), sorted. */
export async function hostLinkNames(): Promise<string[]> {
  return (await ip('-o', 'link'))
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n !== '')
    .sort()
}

/** One node's namespace: its name and the address it has on the switch. */
export interface NodeNamespace {
  /** The node's name in the test (`m1`). */
  readonly name: string
  /** The namespace (`sk-m1-<suffix>`). */
  readonly netns: string
  /** Its IPv4 address on the switch (`10.a.b.11`). */
  readonly ip: string
}

/**
 * The topology of one test: the switch namespace with its bridge, and a namespace per node with
 * `lo` up and `eth0` (a veth whose peer is on the bridge) holding the node's address. Names carry
 * a random suffix so parallel runs never meet; interface names stay within 15 characters.
 */
export class NetnsTopology {
  /** The random suffix of every name. */
  readonly suffix: string
  /** The switch namespace. */
  readonly switchNetns: string
  /** The /24 the nodes share (`10.a.b.0/24`). */
  readonly subnet: string
  readonly #nodes = new Map<string, NodeNamespace>()
  readonly #created: string[] = []

  private constructor() {
    this.suffix = randomBytes(3).toString('hex')
    this.switchNetns = `sk-sw-${this.suffix}`
    // A separate switch per run: the subnet cannot meet the host's nor another run's.
    this.subnet = `10.${String(randomInt(200, 250))}.${String(randomInt(1, 255))}.0/24`
  }

  /** Creates the switch and a namespace for each of `nodes` (`[['m1', 11], …]`: name and host part). On failure removes what it made. */
  static async create(nodes: ReadonlyArray<readonly [string, number]>): Promise<NetnsTopology> {
    const topo = new NetnsTopology()
    live.add(topo)
    try {
      await topo.#addSwitch()
      for (const [name, host] of nodes) await topo.#addNode(name, host)
    } catch (err) {
      await topo.destroy()
      throw err
    }
    return topo
  }

  async #addSwitch(): Promise<void> {
    const sw = this.switchNetns
    await ip('netns', 'add', sw)
    this.#created.push(sw)
    await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge')
    await ip('-n', sw, 'link', 'set', 'br0', 'up')
  }

  async #addNode(name: string, host: number): Promise<void> {
    const netns = `sk-${name}-${this.suffix}`
    const port = `v${name}-${this.suffix}` // the bridge port, in the switch namespace
    const address = `${this.subnet.slice(0, this.subnet.lastIndexOf('.'))}.${String(host)}`
    await ip('netns', 'add', netns)
    this.#created.push(netns)
    await ip('-n', netns, 'link', 'set', 'lo', 'up')
    await ip('-n', netns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', this.switchNetns)
    await ip('-n', this.switchNetns, 'link', 'set', port, 'master', 'br0', 'up')
    await ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0')
    await ip('-n', netns, 'link', 'set', 'eth0', 'up')
    this.#nodes.set(name, { name, netns, ip: address })
  }

  /** The namespace of node `name`. */
  node(name: string): NodeNamespace {
    const n = this.#nodes.get(name)
    if (n === undefined) throw new Error(`no namespace for node ${name}`)
    return n
  }

  /** The namespaces this topology made that still exist. */
  get namespaces(): readonly string[] {
    return [...this.#created]
  }

  /** Deletes every namespace it made (their veths and the bridge go with them). Idempotent. */
  async destroy(): Promise<void> {
    live.delete(this)
    for (const ns of this.#created.splice(0).reverse()) await ip('netns', 'del', ns).catch(() => undefined)
  }

  /** {@link destroy}, synchronously (the `exit` handler). */
  destroySync(): void {
    live.delete(this)
    for (const ns of this.#created.splice(0).reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
      } catch {
        // already gone
      }
    }
  }
}

/** A manager-binary process running inside a namespace (spawned through `ip netns exec`, which execs it: same pid). */
export class NetnsProcess {
  /** The child process (the node itself). */
  readonly child: ChildProcess
  /** Resolves with the ready line; rejects (with the child's stderr) if it exits first. */
  readonly ready: Promise<ReadyLine>
  /** Resolves when the child has exited. */
  readonly exited: Promise<void>
  #stdout = ''
  #stderr = ''
  #running = true

  constructor(netns: string, args: readonly string[]) {
    this.child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--conditions=@swarmkit-ts/source', '--import', 'tsx', MAIN, ...args], { cwd: EXAMPLE_DIR, stdio: ['ignore', 'pipe', 'pipe'] })
    live.add(this)
    this.child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.#stderr += s))
    this.exited = new Promise((resolve) =>
      this.child.once('exit', () => {
        this.#running = false
        live.delete(this)
        resolve()
      }),
    )
    this.ready = new Promise((resolve, reject) => {
      this.child.stdout?.setEncoding('utf8').on('data', (s: string) => {
        this.#stdout += s
        const nl = this.#stdout.indexOf('\n')
        if (nl >= 0) resolve(JSON.parse(this.#stdout.slice(0, nl)) as ReadyLine)
      })
      void this.exited.then(() => reject(new Error(`manager-binary in ${netns} ${args.join(' ')} exited before it was ready: ${this.#stderr.trim()}`)))
    })
    this.ready.catch(() => {}) // observed by whoever awaits it
  }

  /** Sends `signal` (SIGTERM: a clean close; SIGKILL: kill -9) and waits for the exit. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    if (this.#running) this.child.kill(signal)
    await this.exited
  }

  /** Kills it at once without waiting (the `exit` handler). */
  killSync(): void {
    if (this.#running) this.child.kill('SIGKILL')
  }
}

/** Runs a Node ES module `script` (which may import TypeScript sources) inside namespace `netns` with `args`; resolves with its stdout. */
export async function nodeIn(netns: string, script: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'exec', netns, process.execPath, '--conditions=@swarmkit-ts/source', '--import', 'tsx', '--input-type=module', '-e', script, ...args], { cwd: EXAMPLE_DIR })
  return stdout
}

/** Whatever is alive now, for the `exit` handler: processes first, then namespaces. */
const live = new Set<NetnsTopology | NetnsProcess>()
const liveDirs = new Set<string>()
process.once('exit', () => {
  for (const x of live) if (x instanceof NetnsProcess) x.killSync()
  for (const x of live) if (x instanceof NetnsTopology) x.destroySync()
  for (const d of liveDirs) rmSync(d, { recursive: true, force: true })
})

/** One node of the test: its namespace, process, ready line and (managers) control client. */
export interface NetnsNode {
  readonly name: string
  readonly ns: NodeNamespace
  readonly stateDir: string
  /** `ip:port` the node listens on and advertises. */
  readonly address: string
  readonly process: NetnsProcess
  readonly ready: ReadyLine
  control: ControlClient | undefined
}

/**
 * The nodes and topology of one test, all removed after it: the nodes run the fake runtime with
 * fast Raft timing, each listening and advertising on its namespace's address.
 */
export class NetnsRig {
  readonly nodes: NetnsNode[] = []
  topology: NetnsTopology | undefined
  readonly #dirs: string[] = []

  constructor() {
    afterEach(async () => {
      await this.teardown()
    })
  }

  /** Makes the topology for `nodes` (name and host part of the address). */
  async createTopology(nodes: ReadonlyArray<readonly [string, number]>): Promise<NetnsTopology> {
    this.topology = await NetnsTopology.create(nodes)
    return this.topology
  }

  /** Kills every node and its task processes, deletes the namespaces and the state directories. Idempotent. */
  async teardown(): Promise<void> {
    const nodes = this.nodes.splice(0)
    for (const n of nodes) {
      n.control?.close()
      await n.process.stop('SIGKILL')
    }
    // A namespace lives on while a process is in it: the 'process' runtime's tasks go first.
    for (const n of nodes) await killTaskProcesses(n.stateDir)
    await this.topology?.destroy()
    for (const d of this.#dirs.splice(0)) {
      await rm(d, { recursive: true, force: true })
      liveDirs.delete(d)
    }
  }

  /** A new state directory, removed after the test. */
  async #stateDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'netns-'))
    this.#dirs.push(dir)
    liveDirs.add(dir)
    return join(dir, 's')
  }

  async #start(name: string, stateDir: string, args: (address: string) => string[], extra: readonly string[] = []): Promise<NetnsNode> {
    if (this.topology === undefined) throw new Error('createTopology first')
    const ns = this.topology.node(name)
    const address = `${ns.ip}:${String(NODE_PORT)}`
    const child = new NetnsProcess(ns.netns, [...args(address), '--state-dir', stateDir, '--hostname', name, ...FAST_FLAGS, ...extra])
    const pending = { name, ns, stateDir, address, process: child, control: undefined }
    this.nodes.push(pending as NetnsNode) // killed after the test even if it never gets ready
    const node: NetnsNode = Object.assign(pending, { ready: await child.ready })
    if (node.ready.controlSocket !== undefined) node.control = connectControlSocket(node.ready.controlSocket, { callTimeoutMs: 10_000 })
    return node
  }

  /** The cluster's first manager, in namespace `name`. */
  async init(name: string): Promise<NetnsNode> {
    return this.#start(name, await this.#stateDir(), (address) => ['init', '--listen-addr', address, '--advertise-addr', address])
  }

  /**
   * A node joining through `via`'s address with its `role` token: a manager listens and advertises
   * on its namespace's address unless `defaults` (then it picks its own); a worker is given only
   * the join address (it listens on nothing). `extra` flags override the fast ones (`['--runtime', 'process']`).
   */
  async join(name: string, via: NetnsNode, role: 'manager' | 'worker', extra: readonly string[] = [], defaults = false): Promise<NetnsNode> {
    const token = via.ready.tokens?.[role]
    if (token === undefined) throw new Error(`${via.name} printed no tokens`)
    const joining = ['join', '--join-addr', via.address, '--token', token]
    return this.#start(name, await this.#stateDir(), (address) => (role === 'manager' && !defaults ? [...joining, '--listen-addr', address, '--advertise-addr', address] : joining), extra)
  }

  /** Restarts `node` in its namespace from its state directory (`open`, addresses as recorded). */
  reopen(node: NetnsNode): Promise<NetnsNode> {
    const i = this.nodes.indexOf(node)
    if (i >= 0) this.nodes.splice(i, 1)
    return this.#start(node.name, node.stateDir, () => ['open'])
  }

  /** `kill -9` of `node`, or another `signal` (its control client closed first). */
  async kill(node: NetnsNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    node.control?.close()
    node.control = undefined
    await node.process.stop(signal)
  }
}

/** The control client of a manager node. */
export function controlOf(node: NetnsNode): ControlClient {
  if (node.control === undefined) throw new Error(`${node.name} has no control client`)
  return node.control
}
