/**
 * The worker's side of logs (SwarmKit's agent worker.Subscribe + taskManager.Logs): listens to
 * the broker's subscriptions, reads the containers of the selected tasks this node runs, and
 * publishes their lines.
 *
 * @module
 */
import { silentLogger, systemClock, type Clock, type Logger, type Task, type Timer } from '@swarmkit-ts/api'
import type { ContainerRuntime } from '@swarmkit-ts/engine-adapter'
import { AsyncQueue } from './async-queue.ts'
import { selects, wantsStream } from './selector.ts'
import type { LogBrokerWorkerApi, PublishLogsMessage, SubscriptionMessage } from './types.ts'

/** A task this node runs and its container. */
export interface RunningTaskContainer {
  /** The task (its id, service and node are what a selector matches). */
  readonly task: Pick<Task, 'id' | 'serviceId' | 'nodeId'>
  /** The runtime's id of the task's container. */
  readonly containerId: string
}

/** Construction options of {@link LogPublisher}. */
export interface LogPublisherInit {
  /** This node's id (each published line names it; the broker checks it against the caller). */
  readonly nodeId: string
  /** The runtime whose `logs()` is read. */
  readonly runtime: Pick<ContainerRuntime, 'logs'>
  /** The tasks this node runs now, with their containers (the worker node supplies it). */
  readonly tasks: () => Iterable<RunningTaskContainer>
  /** The broker as this node sees it (called again on every reconnect). */
  readonly broker: () => LogBrokerWorkerApi
  /**
   * Optional: registers a listener called whenever `tasks()` may have changed; returns its
   * removal. Follow subscriptions then pick up a new task at once; without it (or in addition)
   * they re-read `tasks()` every `pollIntervalMs`.
   */
  readonly onTasksChanged?: (listener: () => void) => () => void
  /** How often follow subscriptions look for new tasks. @default 1000 */
  readonly pollIntervalMs?: number
  /** Wait before listening again after the listen stream ended or failed. @default 1000 */
  readonly retryDelayMs?: number
  /** Timers of the poll and retry delays. @default systemClock */
  readonly clock?: Clock
  /** @default silentLogger */
  readonly logger?: Logger
}

/**
 * Publishes this node's task logs to the broker's subscriptions. `start()` listens (and listens
 * again after a broker change); `stop()` ends every publication and the listen stream.
 */
export class LogPublisher {
  readonly #init: LogPublisherInit
  readonly #logger: Logger
  readonly #clock: Clock
  readonly #publications = new Map<string, Publication>()
  #ctrl: AbortController | undefined
  #loop: Promise<void> | undefined

  constructor(init: LogPublisherInit) {
    this.#init = init
    this.#logger = init.logger ?? silentLogger
    this.#clock = init.clock ?? systemClock
  }

  /** Starts listening to subscriptions (idempotent). */
  start(): void {
    if (this.#loop !== undefined) return
    const ctrl = new AbortController()
    this.#ctrl = ctrl
    this.#loop = this.#listen(ctrl.signal)
  }

  /** Stops listening and every publication; resolves once all are done. */
  async stop(): Promise<void> {
    this.#ctrl?.abort()
    await this.#loop
    this.#loop = undefined
    this.#ctrl = undefined
  }

  /** Ids of the subscriptions being published now. */
  activeSubscriptions(): string[] {
    return [...this.#publications.keys()].sort()
  }

  async #listen(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const m of this.#init.broker().listenSubscriptions({ signal })) this.#handle(m, signal)
      } catch (err) {
        this.#logger.warn('log subscriptions stream failed', { err })
      }
      // The broker re-sends the subscriptions still open when this node listens again.
      await Promise.all([...this.#publications.values()].map((p) => p.cancel()))
      if (!signal.aborted) await delay(this.#clock, this.#init.retryDelayMs ?? 1000, signal)
    }
  }

  #handle(m: SubscriptionMessage, signal: AbortSignal): void {
    const running = this.#publications.get(m.id)
    if (m.close) {
      void running?.cancel()
      return
    }
    if (running !== undefined || signal.aborted) return
    const p = new Publication(m, this.#init, this.#clock, this.#logger)
    this.#publications.set(m.id, p)
    void p.run().finally(() => {
      if (this.#publications.get(m.id) === p) this.#publications.delete(m.id)
    })
  }
}

function delay(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      timer.cancel()
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer: Timer = clock.setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** One subscription being published: a reader per selected task, one publish stream. */
class Publication {
  readonly #m: SubscriptionMessage
  readonly #init: LogPublisherInit
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #ctrl = new AbortController()
  readonly #out = new AsyncQueue<PublishLogsMessage>(64)
  readonly #readers = new Map<string, Promise<void>>()
  #done: Promise<void> | undefined
  /** Whether the first scan ran: tasks found later are new to the subscription. */
  #scanned = false

  constructor(m: SubscriptionMessage, init: LogPublisherInit, clock: Clock, logger: Logger) {
    this.#m = m
    this.#init = init
    this.#clock = clock
    this.#logger = logger.child({ subscription: m.id })
  }

  /** Stops reading and publishing; resolves once the publication ended. */
  async cancel(): Promise<void> {
    this.#ctrl.abort()
    this.#out.end()
    await this.#done
  }

  /** Publishes until done (non-follow) or cancelled; never rejects (failures are logged). */
  run(): Promise<void> {
    this.#done = this.#run().catch((err: unknown) => {
      this.#ctrl.abort()
      this.#out.end()
      this.#logger.warn('publishing a log subscription failed', { err })
    })
    return this.#done
  }

  async #run(): Promise<void> {
    const signal = this.#ctrl.signal
    const published = this.#init
      .broker()
      .publishLogs(this.#out, { signal })
      .catch((err: unknown) => {
        if (!signal.aborted) this.#logger.warn('publishing logs failed', { err })
      })
      .finally(() => this.#ctrl.abort())
    this.#scan()
    if (this.#m.options.follow === true) {
      await this.#followTasks(signal)
    } else {
      await Promise.all(this.#readers.values())
      await this.#out.push({ subscriptionId: this.#m.id, messages: [], close: true })
      this.#out.end()
    }
    await Promise.all(this.#readers.values())
    await published
  }

  /** Follow: re-scan the node's tasks on change notifications and on a timer until cancelled. */
  async #followTasks(signal: AbortSignal): Promise<void> {
    const off = this.#init.onTasksChanged?.(() => this.#scan())
    try {
      while (!signal.aborted) {
        await delay(this.#clock, this.#init.pollIntervalMs ?? 1000, signal)
        this.#scan()
      }
    } finally {
      off?.()
    }
  }

  /** Starts a reader for every selected task not read yet. */
  #scan(): void {
    if (this.#ctrl.signal.aborted) return
    for (const { task, containerId } of this.#init.tasks()) {
      if (task.nodeId !== this.#init.nodeId || this.#readers.has(task.id) || !selects(this.#m.selector, task)) continue
      this.#readers.set(task.id, this.#read(task, containerId, !this.#scanned))
    }
    this.#scanned = true
  }

  /**
   * Publishes one task's lines. `tail` applies to the tasks found at the start only: a task that
   * appears later (a restart while following) is new to the subscriber, so all its lines (since
   * `since`) are published — none are lost between its start and this read.
   */
  async #read(task: RunningTaskContainer['task'], containerId: string, initial: boolean): Promise<void> {
    const { follow, tail, since } = this.#m.options
    const signal = this.#ctrl.signal
    try {
      const lines = this.#init.runtime.logs(containerId, {
        signal,
        ...(follow === true ? { follow } : {}),
        ...(tail === undefined || !initial ? {} : { tail }),
        ...(since === undefined ? {} : { since }),
      })
      for await (const l of lines) {
        if (!wantsStream(this.#m.options, l.stream)) continue
        const message = { serviceId: task.serviceId, nodeId: this.#init.nodeId, taskId: task.id, stream: l.stream, time: l.time, line: l.line }
        await this.#out.push({ subscriptionId: this.#m.id, messages: [message], close: false })
      }
    } catch (err) {
      // A container removed meanwhile has no more lines: its part is what was read.
      if (!signal.aborted) this.#logger.warn('reading container logs failed', { taskId: task.id, containerId, err })
    }
  }
}
