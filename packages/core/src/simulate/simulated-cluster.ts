/**
 * {@link simulateCluster}: the whole cluster in one process on one `ManualClock` and one
 * `SeededRandom` — managers with their Raft on a `MemoryNetwork` and memory storage, the leader's
 * loops, workers with agents on `FakeRuntime` — behind the handles of a manager `Cluster`.
 *
 * @module
 */
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, TaskState, UnavailableError, generateId, generateRaftMemberId, silentLogger } from '@swarmkit-ts/api'
import type { Cluster, ClusterSpec, JoinTokens, NodeRole, WeightedManager } from '@swarmkit-ts/api'
import type { RaftRole } from '@swarmkit-ts/raft'
import type { Frozen, MemoryStore, WatchEvent } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import type { MemoryNetwork } from '@swarmkit-ts/testkit'
import type { Message } from '@swarmkit-ts/raft'
import { clusterNodes, type ClusterNodes, type ClusterServices } from '../cluster/handles.ts'
import type { ConfigsApi, ControlApi, ControlWatchOptions, ControlWatchSelector, NetworksApi, SecretsApi, TasksApi, VersionOptions } from '../control/index.ts'
import { VirtualTime } from './driver.ts'
import { LEADER_WAIT_MS, LeaderRouter, leaderControl } from './leader-control.ts'
import { writeClusterObjects } from './bootstrap.ts'
import { resolveSimulateOptions, type ResolvedSimulateOptions, type SimulateOptions } from './options.ts'
import { raftNetwork } from './raft-net.ts'
import { simulatedServices } from './services.ts'
import { SimManager } from './sim-manager.ts'
import { SimWorker } from './sim-worker.ts'
import { TraceLog } from './trace.ts'
import type { RunUntilOptions, SimulatedCluster, SimulatedNode, SimulatedRaftStatus } from './types.ts'

/** Where virtual time starts (2023-11-14T22:13:20Z): a fixed epoch, so that traces replay. */
export const SIMULATION_EPOCH_MS = 1_700_000_000_000
/** Default bound of `runUntil`, and of every handle call, in virtual ms. */
export const DEFAULT_MAX_VIRTUAL_MS = 600_000

/** Creates a simulated cluster, waits for its first leader and bootstraps it. See `Cluster.simulate`. */
export async function simulateCluster(options?: SimulateOptions): Promise<SimulatedCluster> {
  const sim = new Simulation(resolveSimulateOptions(options))
  try {
    await sim.boot()
  } catch (err) {
    await sim.close()
    throw err
  }
  return sim
}

/** The simulated cluster (see the module doc). */
class Simulation implements SimulatedCluster {
  readonly seed: number
  readonly clock: ManualClock
  readonly services: ClusterServices
  readonly tasks: TasksApi
  readonly nodes: ClusterNodes
  readonly networks: NetworksApi
  readonly secrets: SecretsApi
  readonly configs: ConfigsApi
  readonly #random: SeededRandom
  readonly #time: VirtualTime
  readonly #network: MemoryNetwork<Message>
  readonly #trace: TraceLog
  readonly #managers: SimManager[] = []
  readonly #byAddr = new Map<string, SimManager>()
  readonly #workers: SimWorker[] = []
  readonly #control: ControlApi
  /** Node id → side of the partition in force; undefined: no partition. */
  #sides: Map<string, number> | undefined
  /** Stops and restarts in progress, by node id (a restart waits for the crash before it). */
  readonly #transitions = new Map<string, Promise<void>>()
  #lastLeader: string | undefined
  #closing: Promise<void> | undefined

  constructor(options: ResolvedSimulateOptions) {
    this.seed = options.seed
    this.clock = new ManualClock(SIMULATION_EPOCH_MS)
    this.#random = new SeededRandom(options.seed)
    this.#time = new VirtualTime(this.clock)
    this.#trace = new TraceLog(this.clock, options.trace)
    this.#network = raftNetwork(this.clock, this.#random.fork(), { drop: options.faults.messageLoss, delayMs: options.faults.messageDelayMs })
    const failures = this.#random.fork()
    const managerCtx = {
      clock: this.clock,
      network: this.#network,
      options,
      logger: silentLogger,
      managerList: () => this.#managerList(),
      onRole: (m: SimManager, role: RaftRole) => this.#onRole(m, role),
      members: (self: SimManager) =>
        this.#managers.map((m) => ({ raftId: m.raftId, addr: m.addr, nodeId: m.nodeId, leader: m === self && self.isLeader, reachable: m === self || (m.up && !this.#cut(self.nodeId, m.nodeId)) })),
      onStore: (_m: SimManager, store: MemoryStore, signal: AbortSignal) => void this.#trace.follow(store, signal),
    }
    for (let i = 0; i < options.managers; i++) {
      const m = new SimManager(managerCtx, i, generateId(this.#random), generateRaftMemberId(this.#random), this.#random.fork())
      this.#managers.push(m)
      this.#byAddr.set(m.addr, m)
    }
    const workerCtx = {
      clock: this.clock,
      options,
      logger: silentLogger,
      managers: this.#byAddr,
      leaderAddr: () => this.#leaderManager()?.addr,
      reachable: (w: SimWorker, m: SimManager) => m.up && !this.#cut(w.nodeId, m.nodeId),
      logBroker: (w: SimWorker) => {
        const m = this.#leaderManager()
        const broker = m?.logBroker
        if (m === undefined || broker === undefined || this.#cut(w.nodeId, m.nodeId)) throw new UnavailableError('simulate: no log broker within reach')
        return broker.workerApi(w.nodeId)
      },
      failures,
    }
    for (let i = 0; i < options.workers; i++) this.#workers.push(new SimWorker(workerCtx, i, generateId(this.#random), this.#random.fork()))
    const router = new LeaderRouter({ leader: () => this.#leaderManager(), clock: this.clock, time: this.#time, trace: this.#trace, retryMs: options.raft.tickMs })
    this.#control = leaderControl(router, (selector, opts) => this.watch(selector, opts))
    this.services = simulatedServices(this.#control, {
      store: () => this.store(),
      logs: () => {
        const broker = this.#leaderManager()?.logBroker
        if (broker === undefined) throw new UnavailableError('simulate: there is no leader (no log broker)')
        return { subscribe: (request, opts) => broker.subscribe(request, opts) }
      },
      drive: (p, what) => this.#time.drive(p, DEFAULT_MAX_VIRTUAL_MS, what),
    })
    this.tasks = this.#control.tasks
    this.nodes = clusterNodes(this.#control)
    this.networks = this.#control.networks
    this.secrets = this.#control.secrets
    this.configs = this.#control.configs
  }

  /** Starts the managers (a bootstrapped Raft group), waits for a leader, writes the cluster object and the managers' Nodes, starts the workers. */
  async boot(): Promise<void> {
    const peers = this.#managers.map((m) => ({ id: m.raftId, address: m.addr }))
    for (const m of this.#managers) await this.#time.drive(m.start(peers), LEADER_WAIT_MS, `start of ${m.hostname}`)
    await this.#time.until(() => this.#leaderManager()?.serving === true, LEADER_WAIT_MS, 'the first leader')
    const leader = this.#leaderManager()
    if (leader === undefined) throw new FailedPreconditionError('no leader', { reason: 'no-leader' })
    const write = writeClusterObjects(leader.member.store, { managers: this.#managers, leader, random: this.#random, seed: this.seed })
    await this.#time.drive(write, LEADER_WAIT_MS, 'the bootstrap write')
    for (const w of this.#workers) await this.#time.drive(w.start(), LEADER_WAIT_MS, `start of ${w.hostname}`)
    // Ready when every worker has registered (a global service created now covers them all).
    // Checked only when the leader's store changed, over the workers not seen ready yet.
    let waiting = this.#workers.map((w) => w.nodeId)
    let checked: bigint | undefined
    const ready = (): boolean => {
      const store = this.#leaderManager()?.member.store
      if (store === undefined || store.version === checked) return waiting.length === 0
      checked = store.version
      waiting = store.view((tx) => waiting.filter((id) => tx.nodes.get(id)?.status.state !== 'ready'))
      return waiting.length === 0
    }
    await this.#time.until(ready, LEADER_WAIT_MS, 'the registration of every worker')
  }

  // ------------------------------------------------------------------ leader and routing

  /** The running manager that leads in the highest term. */
  #leaderManager(): SimManager | undefined {
    let best: SimManager | undefined
    let bestTerm = -1
    for (const m of this.#managers) {
      if (!m.isLeader) continue
      const term = m.member.raft.status().hardState.term
      if (term > bestTerm) {
        best = m
        bestTerm = term
      }
    }
    return best
  }

  #managerList(): readonly WeightedManager[] {
    const leader = this.#leaderManager()
    const list = this.#managers.filter((m) => m.up).map((m) => ({ nodeId: m.nodeId, addr: m.addr, weight: 10 }))
    return leader === undefined ? list : [...list.filter((m) => m.addr === leader.addr), ...list.filter((m) => m.addr !== leader.addr)]
  }

  #onRole(m: SimManager, role: RaftRole): void {
    this.#trace.add(`raft ${m.hostname} ${role} term ${m.up ? m.member.raft.status().hardState.term : '?'}`)
    const leader = this.#leaderManager()?.hostname
    if (leader !== this.#lastLeader) {
      this.#lastLeader = leader
      this.#trace.add(`leader ${leader ?? 'none'}`)
    }
  }

  // ------------------------------------------------------------------ handles beyond the control API

  getCluster(): Promise<Frozen<Cluster>> {
    return this.#control.getCluster()
  }

  updateCluster(spec: ClusterSpec, options?: VersionOptions): Promise<Frozen<Cluster>> {
    return this.#control.updateCluster(spec, options)
  }

  joinTokens(): Promise<Frozen<JoinTokens>> {
    return this.#control.joinTokens()
  }

  rotateJoinToken(role: NodeRole): Promise<Frozen<JoinTokens>> {
    return this.#control.rotateJoinToken(role)
  }

  /**
   * Store events of the leader at the time of the call (else of a running manager). When that
   * manager crashes, the iteration fails with `UnavailableError`, as a watch stream whose
   * server died would.
   */
  watch(selector?: ControlWatchSelector, options?: ControlWatchOptions): AsyncIterable<WatchEvent> {
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<WatchEvent> => {
        const m = this.#leaderManager() ?? this.#managers.find((x) => x.up)
        const life = m?.lifeSignal
        if (m === undefined || life === undefined) throw new UnavailableError('simulate: every manager is down')
        const own = options?.signal
        const signal = own === undefined ? life : AbortSignal.any([own, life])
        const inner = m.control.watch(selector, { ...options, signal })[Symbol.asyncIterator]()
        return {
          next: async (): Promise<IteratorResult<WatchEvent>> => {
            const r = await inner.next()
            if (r.done === true && life.aborted && own?.aborted !== true) throw new UnavailableError(`simulate: ${m.hostname}, which served this watch, crashed`)
            return r
          },
          return: async (): Promise<IteratorResult<WatchEvent>> => {
            await inner.return?.()
            return { done: true, value: undefined }
          },
        }
      },
    }
  }

  // ------------------------------------------------------------------ inspection

  now(): number {
    return this.clock.now()
  }

  members(): readonly SimulatedNode[] {
    return [
      ...this.#managers.map((m) => ({ id: m.nodeId, hostname: m.hostname, role: 'manager' as const, up: m.up, raftId: m.raftId })),
      ...this.#workers.map((w) => ({ id: w.nodeId, hostname: w.hostname, role: 'worker' as const, up: w.up })),
    ]
  }

  leader(): SimulatedNode | undefined {
    const m = this.#leaderManager()
    return m === undefined ? undefined : { id: m.nodeId, hostname: m.hostname, role: 'manager', up: true, raftId: m.raftId }
  }

  store(nodeId?: string): MemoryStore {
    const m = nodeId === undefined ? (this.#leaderManager() ?? this.#managers.find((x) => x.up)) : this.#manager(nodeId)
    if (m === undefined) throw new FailedPreconditionError('simulate: every manager is down', { reason: 'no-manager' })
    return m.member.store
  }

  raftStatus(nodeId?: string): SimulatedRaftStatus {
    const m = nodeId === undefined ? (this.#leaderManager() ?? this.#managers.find((x) => x.up)) : this.#manager(nodeId)
    if (m === undefined) throw new FailedPreconditionError('simulate: every manager is down', { reason: 'no-manager' })
    const st = m.member.raft.status()
    const byRaft = new Map(this.#managers.map((x) => [x.raftId, x]))
    return {
      leader: st.softState.lead,
      term: BigInt(st.hardState.term),
      commitIndex: BigInt(st.hardState.commit),
      appliedIndex: BigInt(st.applied),
      members: st.config.voters.map((raftId) => ({ raftId, nodeId: byRaft.get(raftId)?.nodeId ?? '', up: byRaft.get(raftId)?.up === true })),
    }
  }

  trace(): string {
    return this.#trace.text()
  }

  // ------------------------------------------------------------------ time

  settle(): Promise<void> {
    return this.#time.settle()
  }

  advance(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return Promise.reject(new InvalidArgumentError('ms', `must be a finite number >= 0, got ${String(ms)}`))
    return this.#time.advance(ms)
  }

  runUntil(predicate: () => boolean | Promise<boolean>, options: RunUntilOptions = {}): Promise<number> {
    const max = options.maxVirtualMs ?? DEFAULT_MAX_VIRTUAL_MS
    if (typeof max !== 'number' || !Number.isFinite(max) || max < 0) return Promise.reject(new InvalidArgumentError('maxVirtualMs', `must be a finite number >= 0, got ${String(max)}`))
    return this.#time.until(predicate, max, 'the runUntil predicate')
  }

  // ------------------------------------------------------------------ faults

  #manager(nodeId: string): SimManager {
    const m = this.#managers.find((x) => x.nodeId === nodeId)
    if (m === undefined) throw new NotFoundError('manager', nodeId)
    return m
  }

  #node(nodeId: string): SimManager | SimWorker {
    const n = this.#managers.find((x) => x.nodeId === nodeId) ?? this.#workers.find((x) => x.nodeId === nodeId)
    if (n === undefined) throw new NotFoundError('node', nodeId)
    return n
  }

  #cut(a: string, b: string): boolean {
    return this.#sides !== undefined && this.#sides.get(a) !== this.#sides.get(b)
  }

  partition(a: readonly string[], b?: readonly string[]): void {
    const sides = new Map<string, number>()
    for (const id of a) sides.set(this.#node(id).nodeId, 0)
    for (const id of b ?? []) {
      this.#node(id)
      if (sides.has(id)) throw new InvalidArgumentError('b', `node ${id} is on both sides`)
      sides.set(id, 1)
    }
    for (const n of [...this.#managers, ...this.#workers]) if (!sides.has(n.nodeId)) sides.set(n.nodeId, b === undefined ? 1 : 2)
    this.#sides = sides
    const groups: bigint[][] = [[], [], []]
    for (const m of this.#managers) groups[sides.get(m.nodeId) ?? 2]?.push(m.raftId)
    this.#network.partition(...groups.filter((g) => g.length > 0))
    for (const w of this.#workers) w.cutUnreachable()
    const name = (id: string): string => this.#node(id).hostname
    this.#trace.add(`partition [${a.map(name).join(' ')}] | [${b === undefined ? '*' : b.map(name).join(' ')}]`)
  }

  heal(): void {
    this.#sides = undefined
    this.#network.heal()
    this.#trace.add('heal')
  }

  crash(nodeId: string): void {
    const n = this.#node(nodeId)
    if (!n.up) return
    this.#trace.add(`crash ${n.hostname}`)
    const before = this.#transitions.get(nodeId)
    // Without a transition in progress the node stops at once (its `up` is false on return).
    const stop = before === undefined ? n.crash() : before.then(() => n.crash())
    if (n instanceof SimManager) for (const w of this.#workers) w.cutUnreachable()
    this.#transitions.set(nodeId, stop)
  }

  async restart(nodeId: string): Promise<void> {
    const n = this.#node(nodeId)
    await this.#time.drive(this.#transitions.get(nodeId) ?? Promise.resolve(), LEADER_WAIT_MS, `the crash of ${n.hostname}`)
    if (n.up) return
    this.#trace.add(`restart ${n.hostname}`)
    await this.#time.drive(n.start(), LEADER_WAIT_MS, `the restart of ${n.hostname}`)
    await this.#time.settle()
  }

  failTask(taskId: string, options: { readonly exitCode?: number } = {}): void {
    const exitCode = options.exitCode ?? 1
    if (!Number.isSafeInteger(exitCode) || exitCode < 1 || exitCode > 255) throw new InvalidArgumentError('exitCode', `must be an integer in [1, 255], got ${String(exitCode)}`)
    const task = this.store().view((tx) => tx.tasks.get(taskId))
    if (task === undefined) throw new NotFoundError('task', taskId)
    if (task.status.state !== TaskState.RUNNING) throw new FailedPreconditionError(`task ${taskId} is not running`, { reason: 'task-not-running' })
    const worker = this.#workers.find((w) => w.nodeId === task.nodeId)
    const containerId = task.status.containerStatus?.containerId
    if (worker === undefined || containerId === undefined || !worker.failContainer(containerId, exitCode)) {
      throw new FailedPreconditionError(`task ${taskId} runs no container of a simulated worker`, { reason: 'task-not-running' })
    }
    this.#trace.add(`fail task ${taskId.slice(0, 8)} exit ${exitCode}`)
  }

  slowDisk(nodeId: string, ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new InvalidArgumentError('ms', `must be a finite number >= 0, got ${String(ms)}`)
    const m = this.#manager(nodeId)
    m.storage.delayMs = ms
    this.#trace.add(`slow disk ${m.hostname} ${ms} ms`)
  }

  // ------------------------------------------------------------------ close

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const stops = [...this.#workers.map((w) => w.close()), ...this.#managers.map((m) => m.crash())]
      await this.#time.drive(Promise.all([...this.#transitions.values(), ...stops]), LEADER_WAIT_MS, 'close').catch(() => undefined)
      this.#time.close()
    })()
    return this.#closing
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}
