/**
 * The log broker's data: what a subscriber asks for, what workers are told, what they publish,
 * and the two sides' APIs ({@link LogsApi} for subscribers, {@link LogBrokerWorkerApi} for
 * workers), implemented in process by `LogBroker` and over gRPC by the clients.
 *
 * @module
 */

/** The stream a container wrote a line to. */
export type LogStream = 'stdout' | 'stderr'

/**
 * Whose logs: the tasks of these services, these tasks, and the tasks on these nodes (a task is
 * selected when any list names it). At least one id in all.
 */
export interface LogSelector {
  /** Every task of these services (current ones, and with `follow` the ones created later). */
  readonly serviceIds?: readonly string[]
  /** These tasks. */
  readonly taskIds?: readonly string[]
  /** Every task these nodes run. */
  readonly nodeIds?: readonly string[]
}

/** How much of the logs. */
export interface LogSubscriptionOptions {
  /**
   * Keep the subscription open: lines written later, and the tasks of selected services created
   * later (a restarted task), are delivered until the subscriber stops. @default false
   */
  readonly follow?: boolean
  /** Per task, start with its last `tail` lines (an integer ≥ 0). @default all lines */
  readonly tail?: number
  /** Only lines written at or after this time (ms since the Unix epoch). */
  readonly since?: number
  /** Only these streams (non-empty when given). @default both */
  readonly streams?: readonly LogStream[]
}

/** A subscriber's request. */
export interface SubscribeLogsRequest {
  /** Whose logs. */
  readonly selector: LogSelector
  /** How much of them. */
  readonly options?: LogSubscriptionOptions
}

/** One line of a task's container output, with where it comes from. */
export interface LogMessage {
  /** The service of the task. */
  readonly serviceId: string
  /** The node that runs the task. */
  readonly nodeId: string
  /** The task. */
  readonly taskId: string
  /** The stream it was written to. */
  readonly stream: LogStream
  /** When the runtime received it (ms since the Unix epoch). */
  readonly time: number
  /** The line, without its trailing newline. */
  readonly line: string
}

/**
 * What the broker tells a worker: publish the logs of your tasks that `selector` selects, as
 * `options` say, under subscription `id` — or, with `close`, stop publishing for `id`.
 */
export interface SubscriptionMessage {
  /** The subscription's id (unique per broker). */
  readonly id: string
  /** The subscriber's selector; the worker matches its own tasks against it. */
  readonly selector: LogSelector
  /** The subscriber's options. */
  readonly options: LogSubscriptionOptions
  /** The subscription ended: stop publishing for it. */
  readonly close: boolean
}

/**
 * What a worker publishes for one subscription: lines, and a final `close` once its part of a
 * non-follow subscription is complete.
 */
export interface PublishLogsMessage {
  /** The subscription the lines answer. */
  readonly subscriptionId: string
  /** Lines (each naming the publishing node). */
  readonly messages: readonly LogMessage[]
  /** This node has published everything it will for the subscription. */
  readonly close: boolean
}

/** Options of a streaming call. */
export interface LogCallOptions {
  /** Ends the call (an iteration ends normally; a publish stops reading). */
  readonly signal?: AbortSignal
}

/** The subscriber's side of the log broker (`LogBroker`, `LogsClient`). */
export interface LogsApi {
  /**
   * The selected tasks' lines as workers publish them (interleaved across tasks, in order per
   * task). Without `follow` the iteration ends once every node that runs selected tasks has
   * published its part; when some of those nodes are not connected, it ends by throwing
   * `UnavailableError` naming them, after the lines of the others. With `follow` it runs until
   * `signal` aborts (then it ends normally). A bad request throws `InvalidArgumentError` naming
   * the field; an unknown service, task or node `NotFoundError` — from the first `next()`.
   */
  subscribe(request: SubscribeLogsRequest, options?: LogCallOptions): AsyncIterable<LogMessage>
}

/** The worker's side of the log broker, bound to one node (`LogBroker.workerApi`, `LogBrokerClient`). */
export interface LogBrokerWorkerApi {
  /**
   * The subscriptions that concern this node: the active ones when the call starts, then new
   * ones and `close` messages, until `signal` aborts or the broker stops (the iteration ends;
   * call again).
   */
  listenSubscriptions(options?: LogCallOptions): AsyncIterable<SubscriptionMessage>
  /**
   * Reads `messages` and delivers them to their subscriptions; resolves when `messages` ends.
   * Rejects with `PermissionDeniedError` when a line names another node than this one.
   */
  publishLogs(messages: AsyncIterable<PublishLogsMessage>, options?: LogCallOptions): Promise<void>
}
