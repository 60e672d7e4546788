/**
 * The manager's log broker (SwarmKit's manager/logbroker): subscribers ask for the logs of
 * services, tasks or nodes; the broker tells the workers that run the selected tasks, and hands
 * the lines they publish to the subscription they answer.
 *
 * @module
 */
import {
  cryptoRandom,
  generateId,
  NotFoundError,
  PermissionDeniedError,
  silentLogger,
  TaskState,
  UnavailableError,
  type Logger,
  type Random,
} from '@swarmkit-ts/api'
import type { MemoryStore, Watch } from '@swarmkit-ts/store'
import { AsyncQueue, nextOrAbort } from './async-queue.ts'
import { selects, validateSubscribeRequest, wantsStream } from './selector.ts'
import { Subscription } from './subscription.ts'
import type {
  LogBrokerWorkerApi,
  LogCallOptions,
  LogMessage,
  LogsApi,
  PublishLogsMessage,
  SubscribeLogsRequest,
  SubscriptionMessage,
} from './types.ts'

/** Construction options of {@link LogBroker}. */
export interface LogBrokerInit {
  /** The cluster state: which tasks a selector selects and where they run (the leader's store). */
  readonly store: MemoryStore
  /** Subscription ids. @default cryptoRandom */
  readonly random?: Random
  /** @default silentLogger */
  readonly logger?: Logger
  /** Lines held per subscriber before publishers wait (backpressure). @default 1024 */
  readonly queueLimit?: number
}

/**
 * The manager side of service and task logs, in memory on the store. `start()` before use;
 * `stop()` ends every subscription with `UnavailableError`, every worker's listen stream and
 * every publish call. Implements {@link LogsApi} for subscribers; `workerApi(nodeId)` is what a
 * worker's node sees (the gRPC service binds it to the caller's certificate).
 */
export class LogBroker implements LogsApi {
  readonly #store: MemoryStore
  readonly #random: Random
  readonly #logger: Logger
  readonly #queueLimit: number
  readonly #subs = new Map<string, Subscription>()
  readonly #listeners = new Map<string, Set<AsyncQueue<SubscriptionMessage>>>()
  readonly #publishers = new Set<AbortController>()
  readonly #watches = new Map<string, { watch: Watch<'task'>; done: Promise<void> }>()
  #running = false

  constructor(init: LogBrokerInit) {
    this.#store = init.store
    this.#random = init.random ?? cryptoRandom
    this.#logger = init.logger ?? silentLogger
    this.#queueLimit = init.queueLimit ?? 1024
  }

  /** Accepts subscriptions and workers from now on. */
  start(): void {
    this.#running = true
  }

  /** Ends every subscription (`UnavailableError`), listen stream and publish call; resolves once all are let go. */
  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    const stopped = new UnavailableError('the log broker stopped (this manager is no longer the leader, or is closing)')
    for (const sub of [...this.#subs.values()]) {
      sub.queue.fail(stopped)
      this.#forget(sub)
    }
    for (const set of this.#listeners.values()) for (const q of set) q.end()
    this.#listeners.clear()
    for (const ctrl of this.#publishers) ctrl.abort(stopped)
    await Promise.all([...this.#watches.values()].map((w) => w.done))
  }

  /** Whether the broker is started and not stopped. */
  get running(): boolean {
    return this.#running
  }

  /** Number of open subscriptions (for tests and metrics). */
  get subscriptionCount(): number {
    return this.#subs.size
  }

  /** Nodes with at least one listen stream open. */
  connectedNodes(): string[] {
    return [...this.#listeners.keys()].sort()
  }

  /** See {@link LogsApi.subscribe}. Also throws `UnavailableError` when the broker is not running. */
  async *subscribe(request: SubscribeLogsRequest, options: LogCallOptions = {}): AsyncGenerator<LogMessage> {
    const { selector, options: opts } = validateSubscribeRequest(request)
    if (!this.#running) throw new UnavailableError('the log broker is not running (not the leader?)')
    const signal = options.signal
    if (signal?.aborted === true) return
    const sub = this.#open(selector, opts)
    const onAbort = (): void => void sub.queue.return()
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      yield* sub.queue
    } finally {
      signal?.removeEventListener('abort', onAbort)
      this.#close(sub)
    }
  }

  /** The worker-facing API as node `nodeId` sees it. */
  workerApi(nodeId: string): LogBrokerWorkerApi {
    return {
      listenSubscriptions: (options) => this.listenSubscriptions(nodeId, options),
      publishLogs: (messages, options) => this.publishLogs(nodeId, messages, options),
    }
  }

  /** See {@link LogBrokerWorkerApi.listenSubscriptions}; `nodeId` is the caller's (authenticated) node. */
  listenSubscriptions(nodeId: string, options: LogCallOptions = {}): AsyncIterable<SubscriptionMessage> {
    const queue: AsyncQueue<SubscriptionMessage> = new AsyncQueue(Number.POSITIVE_INFINITY, () => this.#unlisten(nodeId, queue))
    if (!this.#running) {
      queue.fail(new UnavailableError('the log broker is not running (not the leader?)'))
      return queue
    }
    if (options.signal?.aborted === true) {
      queue.end()
      return queue
    }
    options.signal?.addEventListener('abort', () => void queue.return(), { once: true })
    let set = this.#listeners.get(nodeId)
    if (set === undefined) this.#listeners.set(nodeId, (set = new Set()))
    set.add(queue)
    for (const sub of this.#subs.values()) {
      if (sub.follow ? sub.nodes.has(nodeId) : sub.pending.has(nodeId)) void queue.push(sub.message(nodeId, false))
    }
    this.#logger.debug('log listener connected', { nodeId })
    return queue
  }

  /** See {@link LogBrokerWorkerApi.publishLogs}; `nodeId` is the caller's (authenticated) node. */
  async publishLogs(nodeId: string, messages: AsyncIterable<PublishLogsMessage>, options: LogCallOptions = {}): Promise<void> {
    if (!this.#running) throw new UnavailableError('the log broker is not running (not the leader?)')
    const ctrl = new AbortController()
    const onAbort = (): void => ctrl.abort()
    options.signal?.addEventListener('abort', onAbort, { once: true })
    this.#publishers.add(ctrl)
    const it = messages[Symbol.asyncIterator]()
    try {
      for (;;) {
        const r = await nextOrAbort(it, ctrl.signal)
        if (r === 'aborted' || r.done === true) break
        await this.#deliver(nodeId, r.value)
      }
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
      this.#publishers.delete(ctrl)
      if (ctrl.signal.aborted) void it.return?.()
    }
  }

  async #deliver(nodeId: string, m: PublishLogsMessage): Promise<void> {
    for (const line of m.messages) {
      if (line.nodeId !== nodeId) {
        throw new PermissionDeniedError(`node ${nodeId} may not publish logs for node ${line.nodeId}`)
      }
    }
    const sub = this.#subs.get(m.subscriptionId)
    // A subscription that ended (or never concerned this node) takes nothing more.
    if (sub === undefined || !sub.nodes.has(nodeId)) return
    for (const line of m.messages) if (wantsStream(sub.options, line.stream)) await sub.queue.push(line)
    if (m.close) sub.nodeDone(nodeId)
  }

  #open(selector: Subscription['selector'], options: Subscription['options']): Subscription {
    const id = generateId(this.#random)
    const sub: Subscription = new Subscription(id, selector, options, this.#queueLimit, () => this.#close(sub))
    const nodes = (tx: Parameters<Parameters<MemoryStore['view']>[0]>[0]): Set<string> => {
      for (const sid of selector.serviceIds) if (tx.services.get(sid) === undefined) throw new NotFoundError('service', sid)
      for (const tid of selector.taskIds) if (tx.tasks.get(tid) === undefined) throw new NotFoundError('task', tid)
      for (const nid of selector.nodeIds) if (tx.nodes.get(nid) === undefined) throw new NotFoundError('node', nid)
      const found = new Set<string>(selector.nodeIds)
      const add = (t: { nodeId: string; status: { state: TaskState } }): void => {
        // Without follow, a task that never ran has no logs to wait for (as SwarmKit).
        if (t.nodeId !== '' && (options.follow || t.status.state >= TaskState.RUNNING)) found.add(t.nodeId)
      }
      for (const sid of selector.serviceIds) for (const t of tx.tasks.find({ serviceId: sid })) add(t)
      for (const tid of selector.taskIds) {
        const t = tx.tasks.get(tid)
        if (t !== undefined) add(t)
      }
      return found
    }
    let initial: Set<string>
    if (options.follow) {
      const { result, watch } = this.#store.viewAndWatch(nodes, {
        kinds: 'task',
        actions: ['create', 'update'],
        where: (ev) => ev.object.nodeId !== '' && selects(selector, ev.object),
      })
      initial = result
      this.#watches.set(id, { watch, done: this.#follow(sub, watch) })
    } else {
      initial = this.#store.view(nodes)
    }
    this.#subs.set(id, sub)
    for (const nodeId of initial) {
      const connected = this.#listeners.has(nodeId)
      sub.addInitialNode(nodeId, connected)
      if (connected) this.#send(nodeId, sub.message(nodeId, false))
    }
    sub.settle()
    this.#logger.debug('log subscription opened', { id, nodes: [...initial], follow: options.follow })
    return sub
  }

  /** Follow: a selected task placed on a node not yet told (a restart elsewhere) brings that node in. */
  async #follow(sub: Subscription, watch: Watch<'task'>): Promise<void> {
    try {
      for await (const ev of watch) {
        if (ev.action === 'commit') continue
        const nodeId = ev.object.nodeId
        if (sub.nodes.has(nodeId)) continue
        sub.addLateNode(nodeId)
        this.#send(nodeId, sub.message(nodeId, false))
      }
    } catch (err) {
      // An overflowing watch loses track of new tasks: end the subscription rather than go quiet.
      sub.queue.fail(new UnavailableError('the log subscription lost track of new tasks; subscribe again', { cause: err }))
    }
  }

  #send(nodeId: string, message: SubscriptionMessage): void {
    for (const q of this.#listeners.get(nodeId) ?? []) void q.push(message)
  }

  #close(sub: Subscription): void {
    if (!this.#subs.has(sub.id)) return
    this.#forget(sub)
    for (const nodeId of sub.nodes) this.#send(nodeId, sub.message(nodeId, true))
    this.#logger.debug('log subscription closed', { id: sub.id })
  }

  #forget(sub: Subscription): void {
    this.#subs.delete(sub.id)
    const w = this.#watches.get(sub.id)
    if (w !== undefined) {
      w.watch.close()
      void w.done.then(() => this.#watches.delete(sub.id))
    }
  }

  #unlisten(nodeId: string, queue: AsyncQueue<SubscriptionMessage>): void {
    const set = this.#listeners.get(nodeId)
    if (set === undefined || !set.delete(queue) || set.size > 0) return
    this.#listeners.delete(nodeId)
    for (const sub of this.#subs.values()) sub.nodeLost(nodeId)
    this.#logger.debug('log listener disconnected', { nodeId })
  }
}
