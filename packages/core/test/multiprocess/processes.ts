/**
 * Fixtures of the multi-process tests: nodes as separate Node processes (the manager-binary
 * example, on the fake runtime with fast Raft timing), their state directories, control-socket
 * clients, waits on conditions (guards only), and cleanup: every child killed, every directory
 * removed after each test.
 */
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { NotLeaderError, SequenceConflictError, TaskState, UnavailableError } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { ProcessRuntime } from '@swarmkit-ts/engine-adapter'
import { NodeProcess } from '../../../../examples/manager-binary/src/node-process.ts'
import type { ReadyLine } from '../../../../examples/manager-binary/src/main.ts'
import { connectControlSocket, runtimeStateDir, type ControlClient } from '../../src/index.ts'

/** Flags every node shares: the fake runtime, 50 ms Raft ticks (election after 1–2 s), 1 s heartbeats. */
export const FAST_FLAGS = ['--runtime', 'fake', '--raft-tick-ms', '50', '--election-tick', '20', '--heartbeat-period-ms', '1000'] as const

/** Polls `cond` until it holds; throws naming `what` after `guardMs` (a guard against hanging). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, guardMs = 60_000): Promise<void> {
  const deadline = Date.now() + guardMs
  let last: unknown
  for (;;) {
    try {
      if (await cond()) return
    } catch (err) {
      last = err // a manager in an election answers Unavailable / NotLeader: ask again
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : ` (last error: ${last instanceof Error ? last.message : JSON.stringify(last)})`}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/**
 * `op`, again while it fails with a refusal that passes: an election (`NotLeaderError`,
 * `UnavailableError`) or a concurrent write (`SequenceConflictError`: `op` reads the version
 * again). Throws the last error after `guardMs` (a guard against hanging).
 */
export async function settled<T>(op: () => Promise<T>, guardMs = 60_000): Promise<T> {
  const deadline = Date.now() + guardMs
  for (;;) {
    try {
      return await op()
    } catch (err) {
      const passing = err instanceof NotLeaderError || err instanceof UnavailableError || err instanceof SequenceConflictError
      if (!passing || Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

/**
 * Kills the task processes a node's 'process' runtime left running (they are detached and outlive
 * a killed node): the runtime opened again over its state with `recover: 'kill'`.
 */
export async function killTaskProcesses(stateDir: string): Promise<void> {
  const dir = runtimeStateDir(stateDir, 'process')
  if (!(await access(dir).then(() => true, () => false))) return
  const runtime = await ProcessRuntime.open({ stateDir: dir, images: {}, recover: 'kill' })
  await runtime.close()
}

/** The pids a node's 'process' runtime recorded for its containers, by container id. */
export async function taskPids(stateDir: string): Promise<Map<string, number>> {
  const dir = join(runtimeStateDir(stateDir, 'process'), 'containers')
  const pids = new Map<string, number>()
  for (const id of await readdir(dir)) {
    const record = JSON.parse(await readFile(join(dir, id, 'container.json'), 'utf8')) as { pid?: number; state?: string }
    if (record.pid !== undefined && record.state === 'running') pids.set(id, record.pid)
  }
  return pids
}

/** Whether process `pid` exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** One node process of a test, with its state directory and (managers) a control client. */
export interface TestNode {
  readonly name: string
  readonly stateDir: string
  process: NodeProcess
  ready: ReadyLine
  control: ControlClient | undefined
}

/** Processes, clients and directories of one test, killed, closed and removed after it. */
export class ProcessRig {
  readonly nodes: TestNode[] = []
  readonly #dirs: string[] = []

  constructor() {
    afterEach(async () => {
      for (const n of this.nodes.splice(0)) {
        n.control?.close()
        await n.process.kill()
        await killTaskProcesses(n.stateDir)
      }
      for (const d of this.#dirs.splice(0)) await rm(d, { recursive: true, force: true })
    })
  }

  async #stateDir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'mp-'))
    this.#dirs.push(d)
    return join(d, 's')
  }

  async #started(name: string, stateDir: string, process: NodeProcess): Promise<TestNode> {
    const node: TestNode = { name, stateDir, process, ready: undefined as unknown as ReadyLine, control: undefined }
    this.nodes.push(node)
    node.ready = await process.ready
    if (node.ready.controlSocket !== undefined) node.control = connectControlSocket(node.ready.controlSocket, { callTimeoutMs: 10_000 })
    return node
  }

  /** A new cluster's first manager (`extra` flags override the fast ones). */
  async init(name: string, extra: readonly string[] = []): Promise<TestNode> {
    const stateDir = await this.#stateDir()
    return this.#started(name, stateDir, NodeProcess.start(['init', '--state-dir', stateDir, '--hostname', name, ...FAST_FLAGS, ...extra]))
  }

  /** A node joined through `via` with its `role` token. */
  async join(name: string, via: TestNode, role: 'manager' | 'worker', extra: readonly string[] = []): Promise<TestNode> {
    const stateDir = await this.#stateDir()
    const token = via.ready.tokens?.[role]
    if (token === undefined) throw new Error(`${via.name} printed no tokens`)
    return this.#started(name, stateDir, NodeProcess.start(['join', '--state-dir', stateDir, '--join-addr', via.ready.address, '--token', token, '--hostname', name, ...FAST_FLAGS, ...extra]))
  }

  /** `kill -9` of `node` (its control client closed first). */
  async kill(node: TestNode): Promise<void> {
    node.control?.close()
    node.control = undefined
    await node.process.kill()
  }

  /**
   * Waits for `node`'s next ready line (the binary prints one per role change: promoted, demoted),
   * which must name `role`; then `node.ready` is that line and `node.control` a client of the new
   * manager's control socket (closed for a worker). Throws after `guardMs` (a guard against hanging).
   */
  async roleChanged(node: TestNode, role: 'manager' | 'worker', guardMs = 120_000): Promise<ReadyLine> {
    const index = node.process.lines().indexOf(node.ready)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${node.name} to become a ${role}`)), guardMs)
    })
    let line: ReadyLine
    try {
      line = await Promise.race([node.process.line(index + 1), timeout])
    } finally {
      clearTimeout(timer)
    }
    if (line.role !== role) throw new Error(`${node.name} became a ${line.role}, not a ${role}`)
    node.control?.close()
    node.ready = line
    node.control = line.controlSocket === undefined ? undefined : connectControlSocket(line.controlSocket, { callTimeoutMs: 10_000 })
    return line
  }

  /** A fresh state directory path (its parent removed after the test). */
  newStateDir(): Promise<string> {
    return this.#stateDir()
  }

  /** Opens the node a state directory holds (a restored copy, say) as a new test node. */
  open(name: string, stateDir: string, extra: readonly string[] = []): Promise<TestNode> {
    return this.#started(name, stateDir, NodeProcess.start(['open', '--state-dir', stateDir, '--hostname', name, ...FAST_FLAGS, ...extra]))
  }

  /** Restarts `node` from its state directory (`open`). */
  async reopen(node: TestNode, extra: readonly string[] = []): Promise<TestNode> {
    const i = this.nodes.indexOf(node)
    if (i >= 0) this.nodes.splice(i, 1)
    const again = await this.#started(node.name, node.stateDir, NodeProcess.start(['open', '--state-dir', node.stateDir, '--hostname', node.name, ...FAST_FLAGS, ...extra]))
    return again
  }
}

/** The control client of a manager node. */
export function controlOf(node: TestNode): ControlClient {
  if (node.control === undefined) throw new Error(`${node.name} has no control client`)
  return node.control
}

/** Tasks of `serviceId` running with desired state RUNNING, by node id. */
export async function runningByNode(control: ControlClient, serviceId: string): Promise<Map<string, number>> {
  const tasks = await control.tasks.list({ serviceIds: [serviceId], desiredStates: [TaskState.RUNNING] })
  const byNode = new Map<string, number>()
  for (const t of tasks) if (t.status.state === TaskState.RUNNING) byNode.set(t.nodeId, (byNode.get(t.nodeId) ?? 0) + 1)
  return byNode
}

/** The sum of a map's values. */
export const total = (m: ReadonlyMap<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0)

/** A service without tasks whose label `gen` the churn writes, one acknowledged generation after another. */
export const ledger: ServiceSpec = { annotations: { name: 'ledger', labels: { gen: '0' } }, mode: { replicated: { replicas: 0 } }, task: { container: { image: 'busybox:fake' } } }

/** The manager the cluster's node list names leader, as `control` sees it. */
export async function leaderOf(control: ControlClient, managers: readonly TestNode[]): Promise<TestNode | undefined> {
  const nodes = await control.nodes.list({ roles: ['manager'] })
  const leader = nodes.find((n) => n.managerStatus?.leader === true)
  return managers.find((m) => m.ready.nodeId === leader?.id)
}

/**
 * Writes generations 1, 2, … of the ledger's `gen` label through `control()` until `stop` says so;
 * a write that fails (the leader is gone, an election runs) is tried again with a fresh version.
 * Returns the last acknowledged and the last attempted generation.
 */
export async function churn(control: () => ControlClient, stop: () => boolean): Promise<{ acked: number; attempted: number }> {
  let acked = 0
  let attempted = 0
  while (!stop()) {
    const gen = acked + 1
    attempted = gen
    try {
      const client = control()
      const current = await client.services.get('ledger')
      await client.services.update(current.id, { ...current.spec, annotations: { ...current.spec.annotations, labels: { gen: String(gen) } } }, { version: current.meta.version.index })
      acked = gen
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100)) // not acknowledged: ask again
    }
  }
  return { acked, attempted }
}

/** The ledger's `gen` label as `control` reads it (0 before the first write). */
export async function generation(control: ControlClient): Promise<number> {
  return Number((await control.services.get('ledger')).spec.annotations.labels?.['gen'] ?? 0)
}
