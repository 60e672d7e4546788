/**
 * The leader-only part of a manager: on each election win, the network allocator (with the
 * ingress network's bootstrap), the orchestrator with its scheduler, the dispatcher and the
 * pluggable {@link LeaderComponent}s start, in that order; on leadership loss (or close) the
 * term's signal aborts and they stop in the reverse order. Changes are serialized: a term is
 * fully started or fully stopped before the next change is handled.
 *
 * @module
 */
import type { Clock, Logger, RaftMemberId, Random } from '@swarmkit-ts/api'
import { NetworkAllocator } from '@swarmkit-ts/network'
import { Dispatcher, Orchestrator } from '@swarmkit-ts/orchestrator'
import type { DispatcherConfig } from '@swarmkit-ts/orchestrator'
import type { MemoryStore } from '@swarmkit-ts/store'
import type { LeaderComponent, LeaderComponentHandle, LeaderContext } from './leader-component.ts'

/** Construction options of {@link LeaderTerms}. */
export interface LeaderTermsInit {
  readonly store: MemoryStore
  readonly clock: Clock
  readonly random: Random
  readonly logger: Logger
  readonly nodeId: string
  readonly raftId: RaftMemberId
  /** Settings of the dispatcher (heartbeat period, manager list). */
  readonly dispatcher?: DispatcherConfig
  /** Parts that run on the leader after the manager's own loops. */
  readonly components?: readonly LeaderComponent[]
  /**
   * Called before a term starts; the term starts only if it resolves `true` (e.g. after a
   * linearizable read brought the store up to date, while still leader).
   */
  readonly ready?: () => Promise<boolean>
}

/** Delay before asking `ready()` again after it failed while this manager still leads. */
export const READY_RETRY_MS = 100

interface RunningTerm {
  readonly abort: AbortController
  readonly handles: { name: string; handle: LeaderComponentHandle }[]
}

/** Starts and stops the leader's loops as leadership comes and goes. */
export class LeaderTerms {
  readonly #init: LeaderTermsInit
  /** The dispatcher of the running term (a new one per term: its settings are read at term start). */
  #dispatcher: Dispatcher | undefined
  #want = false
  #closed = false
  #term: RunningTerm | undefined
  #chain: Promise<void> = Promise.resolve()
  /** Terms started so far (for tests and diagnostics). */
  #started = 0

  constructor(init: LeaderTermsInit) {
    this.#init = init
  }

  /**
   * A dispatcher for a new term: the heartbeat period given at construction, else the cluster
   * spec's (`spec.dispatcher.heartbeatPeriodMs`), else the default. Statuses are written and
   * assignments sent at the next turn of the event loop (not SwarmKit's 100 ms batches): each
   * wait lay on a task's path from one state to the next, four times per slot of a rolling
   * update, and what arrives within one turn is still batched.
   */
  #newDispatcher(): Dispatcher {
    const { store, clock, random, logger, nodeId } = this.#init
    const fromSpec = store.view((tx) => tx.clusters.find()[0])?.spec.dispatcher?.heartbeatPeriodMs
    const heartbeatPeriodMs = this.#init.dispatcher?.heartbeatPeriodMs ?? fromSpec
    return new Dispatcher({
      store,
      clock,
      random,
      logger: logger.child({ component: 'dispatcher' }),
      config: { nodeId, statusFlushMs: 0, assignmentBatchMs: 0, ...this.#init.dispatcher, ...(heartbeatPeriodMs === undefined ? {} : { heartbeatPeriodMs }) },
    })
  }

  /** The dispatcher while a term runs, else `undefined`. */
  get dispatcher(): Dispatcher | undefined {
    const d = this.#dispatcher
    return this.#term !== undefined && d?.running === true ? d : undefined
  }

  /** Whether a term is running. */
  get running(): boolean {
    return this.#term !== undefined
  }

  /** How many terms have started. */
  get termsStarted(): number {
    return this.#started
  }

  /** Tells the dispatcher that the manager list changed (a no-op outside a term). */
  managersChanged(): void {
    this.#dispatcher?.managersChanged()
  }

  /** Records whether this manager leads; the loops follow (see {@link LeaderTerms.settled}). */
  setLeader(leader: boolean): void {
    if (this.#closed) return
    this.#want = leader
    this.#chain = this.#chain.then(() => this.#reconcile())
  }

  /** Resolves once every change recorded so far has been carried out. */
  settled(): Promise<void> {
    return this.#chain
  }

  /** Stops the running term (if any) and ignores later changes. Idempotent. */
  close(): Promise<void> {
    this.#closed = true
    this.#want = false
    this.#chain = this.#chain.then(() => this.#reconcile())
    return this.#chain
  }

  async #reconcile(): Promise<void> {
    if (this.#want && this.#term === undefined) {
      if (await this.#awaitReady()) await this.#start()
    } else if (!this.#want && this.#term !== undefined) {
      await this.#stop(this.#term)
    }
  }

  /**
   * Waits for `ready()` while this manager still wants a term (a failed read while still leader
   * is retried after {@link READY_RETRY_MS}); `false` once leadership is lost or the manager closes.
   */
  async #awaitReady(): Promise<boolean> {
    const ready = this.#init.ready
    for (;;) {
      if (!this.#want || this.#closed) return false
      if (ready === undefined || (await ready().catch(() => false))) return this.#want && !this.#closed
      await new Promise<void>((resolve) => this.#init.clock.setTimeout(resolve, READY_RETRY_MS))
    }
  }

  async #start(): Promise<void> {
    const { store, clock, random, logger, nodeId, raftId } = this.#init
    const term: RunningTerm = { abort: new AbortController(), handles: [] }
    this.#started++
    const own: { name: string; start: () => LeaderComponentHandle }[] = [
      { name: 'network-allocator', start: () => new NetworkAllocator({ store, clock, random, logger: logger.child({ component: 'network-allocator' }), bootstrapIngress: true }).start() },
      { name: 'orchestrator', start: () => new Orchestrator({ store, clock, random, logger: logger.child({ component: 'orchestrator' }), scheduler: true }).start() },
      {
        name: 'dispatcher',
        start: () => {
          const d = this.#newDispatcher()
          this.#dispatcher = d
          return d.start()
        },
      },
    ]
    for (const c of own) {
      try {
        term.handles.push({ name: c.name, handle: c.start() })
      } catch (err) {
        logger.error('manager: a leader loop failed to start', { component: c.name, err: String(err) })
      }
    }
    for (const c of this.#init.components ?? []) {
      const ctx: LeaderContext = { store, clock, random, logger: logger.child({ component: c.name }), nodeId, raftId, signal: term.abort.signal }
      try {
        term.handles.push({ name: c.name, handle: await c.start(ctx) })
      } catch (err) {
        logger.error('manager: a leader component failed to start', { component: c.name, err: String(err) })
      }
    }
    // Visible (running, dispatcher) only once every loop has started.
    this.#term = term
    logger.info('manager: leader loops started', { components: term.handles.map((h) => h.name).join(',') })
  }

  async #stop(term: RunningTerm): Promise<void> {
    term.abort.abort()
    for (const { name, handle } of [...term.handles].reverse()) {
      try {
        await handle.stop()
      } catch (err) {
        this.#init.logger.error('manager: a leader loop failed to stop', { component: name, err: String(err) })
      }
    }
    this.#term = undefined
    this.#init.logger.info('manager: leader loops stopped')
  }
}
