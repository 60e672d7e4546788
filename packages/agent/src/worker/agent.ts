/**
 * The agent (SwarmKit's `agent/agent.go` and `session.go`): keeps a session with a manager —
 * heartbeats, the assignments stream, status updates — feeds the worker, and reconnects with
 * backoff and failover when the session fails.
 *
 * @module
 */
import { FailedPreconditionError, InvalidArgumentError, NotLeaderError, UnavailableError, silentLogger, sleep } from '@swarmkit-ts/api'
import type { Clock, DispatcherApi, Logger, Node, NodeDescription, Random, Task, TaskStatusUpdate, WeightedManager } from '@swarmkit-ts/api'
import { ManagerList } from './manager-list.ts'
import { StatusReporter } from './reporter.ts'
import { FileTaskDb } from './task-db.ts'
import type { TaskDb } from './task-db.ts'
import { Worker } from './worker.ts'
import type { TaskExecutor } from './worker.ts'

/** Gives the `DispatcherApi` of a manager (undefined: any manager, when no list is known yet). */
export type DispatcherConnector = (manager?: WeightedManager) => DispatcherApi

/** Construction options of {@link Agent}. Exactly one of `stateDir` and `taskDb` is required. */
export interface AgentInit {
  /** Connects to a manager; called for every session attempt. */
  readonly dispatcher: DispatcherConnector
  /** Managers to start from (the session messages replace the list). @default [] */
  readonly managers?: readonly WeightedManager[]
  /** Runs the tasks (`RuntimeExecutor`). */
  readonly executor: TaskExecutor
  /** The node's state directory; the task database lives in `<stateDir>/worker/`. */
  readonly stateDir?: string
  /** A task database to use instead of one in `stateDir` (e.g. `MemoryTaskDb` in simulations). */
  readonly taskDb?: TaskDb
  readonly clock: Clock
  readonly random: Random
  readonly logger?: Logger
  /**
   * How long a registration, a heartbeat or a status update may wait for its answer before the
   * session is given up as failed (0: forever). @default 5000
   */
  readonly rpcTimeoutMs?: number
  /**
   * How often the executor's node description is compared with the one the session opened
   * with; a change re-opens the session to send it (SwarmKit's `nodeUpdatePeriod`). 0 turns
   * the check off. @default 20000
   */
  readonly descriptionCheckMs?: number
}

/** First session retry delay bound (SwarmKit's `initialSessionFailureBackoff`). */
export const SESSION_BACKOFF_MIN_MS = 100
/** Largest session retry delay bound (SwarmKit's `maxSessionFailureBackoff`). */
export const SESSION_BACKOFF_MAX_MS = 8000

/**
 * The next bound of the session retry delay after a failure, as SwarmKit computes it:
 * `100 ms + 2 × previous`, at most 8 s (0 → 100 → 300 → 700 → … → 8000). The delay itself is
 * drawn uniformly in `[0, bound)`; a session that registers resets the bound to 0.
 */
export function nextSessionBackoff(previousMs: number): number {
  return Math.min(SESSION_BACKOFF_MAX_MS, SESSION_BACKOFF_MIN_MS + 2 * previousMs)
}

/** The heartbeat period used when a dispatcher answers one that is not a positive number (SwarmKit's default). */
export const DEFAULT_HEARTBEAT_PERIOD_MS = 5000
/** Default of {@link AgentInit.rpcTimeoutMs}. */
export const DEFAULT_RPC_TIMEOUT_MS = 5000
/** Default of {@link AgentInit.descriptionCheckMs}. */
export const DEFAULT_DESCRIPTION_CHECK_MS = 20_000

/** Ends a session whose node description changed, so that the next one sends the new one. */
class DescriptionChanged extends Error {
  override readonly name = 'DescriptionChanged'
}

/**
 * Callbacks run once when a signal aborts, through one listener on it: adding and removing one is
 * a Set's work, not an EventTarget's (every status update and heartbeat adds one).
 */
class AbortWatch {
  readonly signal: AbortSignal
  /** Whether the signal aborted (read per call: cheaper than the signal's getter). */
  aborted: boolean
  readonly #callbacks = new Set<() => void>()

  constructor(signal: AbortSignal) {
    this.signal = signal
    this.aborted = signal.aborted
    signal.addEventListener(
      'abort',
      () => {
        this.aborted = true
        for (const f of [...this.#callbacks]) f()
      },
      { once: true },
    )
  }

  add(f: () => void): void {
    this.#callbacks.add(f)
  }

  delete(f: () => void): void {
    this.#callbacks.delete(f)
  }
}

/**
 * Rejects with `UnavailableError` when `promise` has not settled within `ms` on `clock` (0:
 * never), or with the signal's reason when `watch`'s signal aborts first; the timer never outlives it.
 */
function withTimeout<T>(clock: Clock, ms: number, what: string, watch: AbortWatch, promise: Promise<T>): Promise<T> {
  if (ms <= 0) return promise
  const signal = watch.signal
  return new Promise<T>((resolve, reject) => {
    if (watch.aborted) {
      // The call is made already: its outcome is no longer wanted, nor may its failure go unhandled.
      promise.catch(() => undefined)
      reject(signal.reason as Error)
      return
    }
    const done = (): void => {
      timer.cancel()
      watch.delete(onAbort)
    }
    const onAbort = (): void => {
      done()
      reject(signal.reason as Error)
    }
    const timer = clock.setTimeout(() => {
      watch.delete(onAbort)
      reject(new UnavailableError(`${what}: no answer within ${ms} ms`))
    }, ms)
    watch.add(onAbort)
    promise.then(
      (value) => {
        done()
        resolve(value)
      },
      (err: Error) => {
        done()
        reject(err)
      },
    )
  })
}

function describeKey(description: NodeDescription): string {
  return JSON.stringify(description, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v))
}

/** Whether `err` says the session is unknown or ended (register again with a new one). */
export function isSessionInvalid(err: unknown): boolean {
  return err instanceof FailedPreconditionError && err.reason === 'session-invalid'
}

/** The state of an {@link Agent}'s connection. */
export interface AgentStatus {
  /** The session in use, while registered. */
  readonly sessionId: string | undefined
  /** The node object as the managers last sent it. */
  readonly node: Node | undefined
  /** The manager of the current session (undefined for a connector without a list). */
  readonly manager: WeightedManager | undefined
  /** Whether a session is registered now. */
  readonly connected: boolean
  /** Sessions registered since `start()`. */
  readonly sessions: number
  /** The cluster's root CA certificate (PEM bytes) as the managers last sent it (the node's trust root, SwarmKit's `SessionMessage.RootCA`). */
  readonly rootCa: Uint8Array | undefined
}

/**
 * A worker node's agent. `start()` opens the task database, resumes its tasks and starts the
 * session loop in the background; `stop()` ends the session and the task loops, leaving the
 * containers running for the next start to adopt. Secrets and configs are held in memory only
 * (and written by the runtime into the tasks that use them).
 */
export class Agent {
  readonly #init: AgentInit
  readonly #logger: Logger
  readonly #managers: ManagerList
  readonly #stop = new AbortController()
  readonly #stopWatch = new AbortWatch(this.#stop.signal)
  #worker: Worker | undefined
  #reporter: StatusReporter | undefined
  #loop: Promise<void> | undefined
  #api: DispatcherApi | undefined
  #failSession: ((err: unknown) => void) | undefined
  #sessionId: string | undefined
  #node: Node | undefined
  #rootCa: Uint8Array | undefined
  #manager: WeightedManager | undefined
  #sessions = 0

  constructor(init: AgentInit) {
    if ((init.stateDir === undefined) === (init.taskDb === undefined)) throw new InvalidArgumentError('stateDir', 'give exactly one of stateDir and taskDb')
    this.#init = init
    this.#logger = init.logger ?? silentLogger
    this.#managers = new ManagerList(init.managers)
  }

  /** The connection's state. */
  get status(): AgentStatus {
    return { sessionId: this.#sessionId, node: this.#node, manager: this.#manager, connected: this.#api !== undefined, sessions: this.#sessions, rootCa: this.#rootCa }
  }

  /** The tasks being run, each with its latest local status (empty before `start`). */
  tasks(): Task[] {
    return this.#worker?.tasks() ?? []
  }

  /** The worker (after `start`). */
  get worker(): Worker | undefined {
    return this.#worker
  }

  /** The status reporter (after `start`). */
  get reporter(): StatusReporter | undefined {
    return this.#reporter
  }

  /**
   * Opens the task database, resumes its tasks, and starts the session loop. An agent runs once:
   * after `stop()` make a new one on the same state (as a restarted process would).
   */
  async start(): Promise<void> {
    if (this.#loop !== undefined || this.#stop.signal.aborted) return
    const { clock, random } = this.#init
    const db = this.#init.taskDb ?? (await FileTaskDb.open(this.#init.stateDir ?? '', { logger: this.#logger }))
    const reporter = new StatusReporter({ db, send: (updates) => this.#sendStatuses(updates), clock, random, logger: this.#logger })
    const worker = new Worker({
      executor: this.#init.executor,
      db,
      report: (id, status) => reporter.report(id, status),
      resend: (id, status) => reporter.resend(id, status),
      forget: (id) => reporter.forget(id),
      clock,
      logger: this.#logger,
    })
    this.#reporter = reporter
    this.#worker = worker
    await worker.init()
    if (this.#stop.signal.aborted) {
      // stop() came while the database was being read: it found nothing to stop.
      reporter.stop()
      await worker.stop()
      return
    }
    this.#loop = this.#run()
  }

  /** Ends the session and the task loops (containers keep running), cancelling every timer. */
  async stop(): Promise<void> {
    this.#stop.abort(new UnavailableError('agent stopped'))
    await this.#loop
    this.#reporter?.stop()
    await this.#worker?.stop()
  }

  async #run(): Promise<void> {
    const { clock, random } = this.#init
    const stop = this.#stop.signal
    let backoffMs = 0
    while (!stop.aborted) {
      if (backoffMs > 0) {
        try {
          await sleep(clock, random.int(backoffMs), { signal: stop })
        } catch {
          break
        }
      }
      const manager = this.#managers.select(random)
      this.#manager = manager
      let registered = false
      let error: unknown
      try {
        await this.#session(manager, () => {
          registered = true
          backoffMs = 0
          if (manager !== undefined) this.#managers.succeeded(manager.addr)
        })
      } catch (err) {
        error = err
      }
      if (stop.aborted) break
      if (error instanceof DescriptionChanged) {
        this.#logger.info('agent: node description changed; re-registering', { manager: manager?.addr })
        if (manager !== undefined) this.#managers.prefer(manager.addr)
        continue
      }
      if (isSessionInvalid(error)) {
        this.#sessionId = undefined
      } else if (manager !== undefined) {
        this.#managers.failed(manager.addr)
        if (error instanceof NotLeaderError && error.leaderAddr !== undefined) this.#managers.prefer(error.leaderAddr)
      }
      backoffMs = nextSessionBackoff(backoffMs)
      this.#logger.warn('agent: session failed; reconnecting', { manager: manager?.addr, registered, backoffMs, err: String(error) })
    }
  }

  /** One session: registers, then heartbeats, follows the session and assignment streams, until one fails. */
  async #session(manager: WeightedManager | undefined, onRegistered: () => void): Promise<void> {
    const api = this.#init.dispatcher(manager)
    const session = new AbortController()
    const onStop = (): void => session.abort(this.#stop.signal.reason)
    this.#stop.signal.addEventListener('abort', onStop, { once: true })
    let failed: (err: unknown) => void = () => undefined
    const failure = new Promise<never>((_resolve, reject) => {
      failed = reject
    })
    failure.catch(() => undefined)
    const sessionWatch = new AbortWatch(session.signal)
    try {
      const description = await this.#init.executor.describe()
      const stream = api.session({ description, ...(this.#sessionId === undefined ? {} : { sessionId: this.#sessionId }) }, { signal: session.signal })[Symbol.asyncIterator]()
      const first = await withTimeout(this.#init.clock, this.#rpcTimeoutMs, 'registration', sessionWatch, stream.next())
      if (first.done === true) throw new UnavailableError('the session stream ended before registration')
      this.#sessionId = first.value.sessionId
      this.#node = first.value.node
      if (first.value.rootCa.length > 0) this.#rootCa = first.value.rootCa
      if (first.value.managers.length > 0) this.#managers.replace(first.value.managers)
      this.#sessions++
      onRegistered()
      this.#logger.info('agent: registered', { sessionId: this.#sessionId, manager: manager?.addr })
      const sessionId = first.value.sessionId
      this.#api = api
      this.#failSession = failed
      this.#reporter?.retryNow()
      const tasks = [
        this.#followSession(stream),
        this.#heartbeat(api, sessionId, sessionWatch),
        this.#assignments(api, sessionId, session.signal),
        this.#watchDescription(description, session.signal),
      ]
      // Once one fails the others end through the session's signal; their errors are not news.
      for (const t of tasks) t.catch(() => undefined)
      await Promise.race([...tasks, failure])
    } finally {
      this.#api = undefined
      this.#failSession = undefined
      this.#stop.signal.removeEventListener('abort', onStop)
      session.abort(new UnavailableError('session closed'))
    }
  }

  async #followSession(stream: AsyncIterator<{ sessionId: string; node: Node; managers: readonly WeightedManager[]; rootCa: Uint8Array }>): Promise<never> {
    for (;;) {
      const next = await stream.next()
      if (next.done === true) throw new UnavailableError('the session stream ended')
      this.#node = next.value.node
      if (next.value.rootCa.length > 0) this.#rootCa = next.value.rootCa
      if (next.value.managers.length > 0) this.#managers.replace(next.value.managers)
    }
  }

  async #heartbeat(api: DispatcherApi, sessionId: string, watch: AbortWatch): Promise<never> {
    for (;;) {
      const { periodMs } = await withTimeout(this.#init.clock, this.#rpcTimeoutMs, 'heartbeat', watch, api.heartbeat({ sessionId }))
      // A period that is not a positive number would spin: beat at the default period instead.
      await sleep(this.#init.clock, Number.isFinite(periodMs) && periodMs > 0 ? periodMs : DEFAULT_HEARTBEAT_PERIOD_MS, { signal: watch.signal })
    }
  }

  /** Ends the session when the executor's description no longer matches the registered one. */
  async #watchDescription(registered: NodeDescription, signal: AbortSignal): Promise<never> {
    const every = this.#init.descriptionCheckMs ?? DEFAULT_DESCRIPTION_CHECK_MS
    if (every <= 0) return new Promise<never>(() => undefined)
    const key = describeKey(registered)
    for (;;) {
      await sleep(this.#init.clock, every, { signal })
      const now = await this.#init.executor.describe()
      if (describeKey(now) !== key) throw new DescriptionChanged('node description changed')
    }
  }

  get #rpcTimeoutMs(): number {
    return this.#init.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS
  }

  /** Follows the assignments stream; a gap in the sequence reopens it (a complete set comes first again). */
  async #assignments(api: DispatcherApi, sessionId: string, signal: AbortSignal): Promise<never> {
    const worker = this.#worker
    if (worker === undefined) throw new UnavailableError('agent not started')
    for (;;) {
      const stream = new AbortController()
      const onAbort = (): void => stream.abort(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      let last: string | undefined
      let gap = false
      try {
        for await (const message of api.assignments({ sessionId }, { signal: stream.signal })) {
          if (message.type === 'complete') {
            await worker.assign(message.changes)
          } else if (last === undefined || message.appliesTo !== last) {
            this.#logger.warn('agent: gap in the assignments; reopening the stream', { expected: last, appliesTo: message.appliesTo })
            gap = true
            break
          } else {
            await worker.update(message.changes)
          }
          last = message.resultsIn
        }
      } finally {
        signal.removeEventListener('abort', onAbort)
        stream.abort(new UnavailableError('assignments stream closed'))
      }
      signal.throwIfAborted()
      if (!gap) throw new UnavailableError('the assignments stream ended')
    }
  }

  async #sendStatuses(updates: readonly TaskStatusUpdate[]): Promise<void> {
    const api = this.#api
    const sessionId = this.#sessionId
    if (api === undefined || sessionId === undefined) throw new UnavailableError('no session')
    try {
      await withTimeout(this.#init.clock, this.#rpcTimeoutMs, 'status update', this.#stopWatch, api.updateTaskStatus({ sessionId, updates }))
    } catch (err) {
      if (isSessionInvalid(err) && this.#api === api) this.#failSession?.(err)
      throw err
    }
  }
}
