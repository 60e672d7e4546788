/**
 * A whole cluster in one process on two threads: the manager's side (a MemoryStore, the
 * `Orchestrator` with its scheduler, the `NetworkAllocator`, the `Dispatcher`) on this thread, and
 * the N workers' agents — each on its own `FakeRuntime` — in `worker_threads` Workers
 * (agent-thread.ts; one or more, each running a contiguous share of the nodes), connected to the dispatcher through the MessagePort binding (every message
 * through the wire codec). In a real cluster the agents run on other machines; here they share
 * the process, not the manager's thread and its garbage collector.
 *
 * Each thread has its own ManualClock; virtual time moves only when all are idle (this thread's
 * store did not move in a turn, and each agents' thread reported idle after everything sent to
 * it), to the earliest of the threads' next timers (see {@link ThreadedCluster.runUntil}).
 *
 * @module
 */
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { MessageChannel, Worker } from 'node:worker_threads'
import { generateId, NodeState, silentLogger } from '@swarmkit-ts/api'
import type { DispatcherApi } from '@swarmkit-ts/api'
import { NetworkAllocator } from '@swarmkit-ts/network'
import type { NetworkAllocatorHandle } from '@swarmkit-ts/network'
import { Dispatcher, Orchestrator, ServiceControl } from '@swarmkit-ts/orchestrator'
import type { OrchestratorHandle } from '@swarmkit-ts/orchestrator'
import { MemoryStore } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { AGENT_THREAD } from './agent-thread.ts'
import type { AgentThreadInit, FromAgents, ToAgents } from './agent-thread.ts'
import { PortDispatcherServer } from './port-binding.ts'
import { turn } from './settle.ts'

/** Options of {@link ThreadedCluster.start}. */
export interface ThreadedClusterInit {
  /** Number of worker nodes. */
  readonly nodes: number
  /** Number of agents' threads (the nodes split between them in contiguous shares). @default 1 */
  readonly threads?: number
  /** Seed of the cluster's SeededRandom. @default 1 */
  readonly seed?: number
  /**
   * The module an agents' thread runs: it calls `runAgentThread(workerData.init)` when
   * `workerData.kind` is {@link AGENT_THREAD} (agent-thread-main.ts, or a bundle that holds it).
   * A `.ts` module runs through tsx (give `--conditions=@swarmkit-ts/source` in `execArgv` to
   * run the workspace packages from source).
   */
  readonly workerUrl: URL
  /** Node flags of the agents' threads (e.g. the source condition). @default [] */
  readonly execArgv?: readonly string[]
}

/** The ManualClock's start (every thread). */
const START_MS = 1_700_000_000_000

/**
 * The code of a Worker that runs the TypeScript module `url`: it registers tsx's loader in its
 * own thread first (a Worker's `--import tsx` does not reach its entry module).
 */
function tsBoot(url: URL): string {
  // require.resolve finds the CommonJS build of tsx/esm/api; its ES module build sits beside it.
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href
  return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}) })`
}

/** One agents' thread, as the main thread sees it. */
class AgentThread {
  readonly server: PortDispatcherServer
  readonly worker: Worker
  /** The thread's last idle report (it sends nothing after it until it receives a batch). */
  idle: { readonly received: number; readonly nextDueAt: number | null } | undefined
  stopped = false
  /** Waiting for the thread's answer. */
  answer: ((value: number) => void) | undefined

  constructor(cluster: { api(id: string): DispatcherApi; fail(err: Error): void; wake(): void }, init: ThreadedClusterInit, nodes: AgentThreadInit['nodes'], seed: number) {
    const { port1, port2 } = new MessageChannel()
    this.server = new PortDispatcherServer(port1, (id) => cluster.api(id), {
      onOther: (value) => {
        const v = value as FromAgents
        if ('idle' in v) this.idle = v.idle
        else if ('answer' in v) this.answer?.(v.answer)
        else if ('failed' in v) cluster.fail(new Error(`an agents' thread failed: ${v.failed}`))
        else this.stopped = true
      },
    })
    port1.on('message', () => cluster.wake())
    const threadInit: AgentThreadInit = { port: port2, nodes, seed, startMs: START_MS }
    const options = { workerData: { kind: AGENT_THREAD, init: threadInit }, transferList: [port2], execArgv: [...(init.execArgv ?? [])] }
    this.worker = init.workerUrl.pathname.endsWith('.ts') ? new Worker(tsBoot(init.workerUrl), { ...options, eval: true }) : new Worker(init.workerUrl, options)
    this.worker.on('error', (err) => cluster.fail(err))
    this.worker.on('exit', (code) => {
      if (!this.stopped) cluster.fail(new Error(`an agents' thread exited with code ${code}`))
    })
  }

  send(v: ToAgents): void {
    this.server.send(v)
  }

  /** Whether the thread reported idle after receiving everything sent to it. */
  isIdle(): boolean {
    const c = this.server.counts
    return this.idle !== undefined && this.idle.received === c.posted && c.pending === 0
  }
}

/** See the module doc. */
export class ThreadedCluster {
  readonly clock = new ManualClock(START_MS)
  readonly random: SeededRandom
  readonly store: MemoryStore
  readonly services: ServiceControl
  readonly dispatcher: Dispatcher
  /** The nodes' ids, in order. */
  readonly nodeIds: readonly string[]
  readonly #threads: AgentThread[] = []
  #orchestrator: OrchestratorHandle | undefined
  #allocator: NetworkAllocatorHandle | undefined
  #dispatcher: { stop(): Promise<void> } | undefined
  #failure: Error | undefined
  /** Wakes {@link runUntil} when an agents' thread sends something. */
  #wake: (() => void) | undefined

  private constructor(init: ThreadedClusterInit) {
    this.random = new SeededRandom(init.seed ?? 1)
    this.store = new MemoryStore({ clock: this.clock })
    const effects = { store: this.store, clock: this.clock, random: this.random, logger: silentLogger }
    this.services = new ServiceControl(effects)
    this.dispatcher = new Dispatcher(effects)
    const nodes: { id: string; hostname: string }[] = []
    for (let i = 0; i < init.nodes; i++) nodes.push({ id: generateId(this.random), hostname: `node-${i}` })
    this.nodeIds = nodes.map((n) => n.id)
    const threads = init.threads ?? 1
    const cluster = { api: (id: string) => this.dispatcher.api(id), fail: (err: Error) => this.#fail(err), wake: () => this.#wakeUp() }
    for (let t = 0; t < threads; t++) {
      const share = nodes.slice(Math.floor((t * nodes.length) / threads), Math.floor(((t + 1) * nodes.length) / threads))
      this.#threads.push(new AgentThread(cluster, init, share, (init.seed ?? 1) * 1_000 + t + 1))
    }
  }

  /** Builds the cluster, starts the leader's loops and the agents' threads, and waits until every node is READY. */
  static async start(init: ThreadedClusterInit): Promise<ThreadedCluster> {
    const c = new ThreadedCluster(init)
    await c.store.update((tx) =>
      tx.clusters.create({
        id: generateId(c.random),
        spec: { annotations: { name: 'default' } },
        rootCa: { caCert: new TextEncoder().encode('in-process root CA'), caCertHash: 'in-process', joinTokens: { worker: 'w', manager: 'm' } },
      }),
    )
    c.#allocator = new NetworkAllocator({ store: c.store, clock: c.clock, random: c.random, logger: silentLogger, bootstrapIngress: true }).start()
    c.#orchestrator = new Orchestrator({ store: c.store, clock: c.clock, random: c.random, logger: silentLogger, scheduler: true }).start()
    c.#dispatcher = c.dispatcher.start()
    const ready = (): boolean => c.store.view((tx) => tx.nodes.find()).filter((n) => n.status.state === NodeState.READY).length === init.nodes
    try {
      await c.runUntil(ready, 60_000)
    } catch (err) {
      await c.close()
      throw err
    }
    return c
  }

  #fail(err: Error): void {
    this.#failure ??= err
    this.#wakeUp()
  }

  #wakeUp(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  /** Resolves when an agents' thread sends something (or failed). */
  #activity(): Promise<void> {
    if (this.#failure !== undefined) return Promise.resolve()
    return new Promise((resolve) => (this.#wake = resolve))
  }

  /**
   * Runs the cluster until `done()` (asked when the store moved: once it is quiet, or every 20 ms
   * of real time while it moves), moving virtual time on every thread to the next timer of any
   * whenever all are idle. Throws when `guardMs` of virtual time pass first, or when an agents'
   * thread failed.
   */
  async runUntil(done: () => boolean, guardMs: number): Promise<void> {
    const until = this.clock.now() + guardMs
    let checked = -1n
    let checkAt = 0
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure
      const before = this.store.version
      await turn()
      const now = performance.now()
      const quiet = this.store.version === before
      if (this.store.version !== checked && (quiet || now >= checkAt)) {
        checked = this.store.version
        checkAt = now + 20
        if (done()) return
      }
      if (!quiet) continue
      if (!this.#threads.every((t) => t.isIdle())) {
        // Wait for the agents' threads rather than spin, once what this thread queued is posted.
        if (this.#threads.every((t) => t.server.counts.pending === 0)) await this.#activity()
        continue
      }
      let due = this.clock.nextDueAt()
      for (const t of this.#threads) {
        const theirs = t.idle?.nextDueAt ?? undefined
        if (theirs !== undefined && (due === undefined || theirs < due)) due = theirs
      }
      if (due === undefined || due > until) throw new Error(`not done after ${guardMs} virtual ms`)
      const to = Math.max(due, this.clock.now())
      this.clock.advance(to - this.clock.now())
      for (const t of this.#threads) t.send({ advance: to })
    }
  }

  /**
   * The heap in use on the agents' threads (after full collections when node runs with
   * `--expose-gc`), in bytes. Call it between runs (virtual time does not move meanwhile).
   */
  async agentsHeapUsed(): Promise<number> {
    let total = 0
    for (const bytes of await this.#ask('heap')) total += bytes
    return total
  }

  /** The CPU time of each agents' thread so far, in ms (-1 each where `/proc/thread-self` is missing). */
  agentsCpuMs(): Promise<number[]> {
    return this.#ask('cpu')
  }

  async #ask(what: 'heap' | 'cpu'): Promise<number[]> {
    const answers: number[] = []
    for (const t of this.#threads) {
      const answer = new Promise<number>((resolve) => (t.answer = resolve))
      t.send({ ask: what })
      for (let got: number | undefined; got === undefined; ) {
        if (this.#failure !== undefined) throw this.#failure
        got = await Promise.race([answer, this.#activity().then(() => undefined)])
        if (got !== undefined) answers.push(got)
      }
      t.answer = undefined
    }
    return answers
  }

  /** Stops the agents, their threads and the leader's loops. */
  async close(): Promise<void> {
    for (const t of this.#threads) if (!t.stopped && this.#failure === undefined) t.send({ stop: true })
    // A real-time guard: threads that do not answer within 60 s are terminated all the same.
    const giveUpAt = performance.now() + 60_000
    while (this.#failure === undefined && !this.#threads.every((t) => t.stopped) && performance.now() < giveUpAt) await Promise.race([this.#activity(), turn()])
    for (const t of this.#threads) {
      t.stopped = true
      t.server.close()
      await t.worker.terminate()
    }
    await this.#dispatcher?.stop()
    await this.#orchestrator?.stop()
    await this.#allocator?.stop()
    this.#dispatcher = this.#orchestrator = this.#allocator = undefined
  }
}
