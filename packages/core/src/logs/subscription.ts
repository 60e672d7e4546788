/**
 * One subscriber's subscription inside the broker: the nodes told about it, the parts still
 * awaited (non-follow), and the queue of lines to the subscriber.
 *
 * @module
 */
import { UnavailableError } from '@swarmkit-ts/api'
import { AsyncQueue } from './async-queue.ts'
import type { LogMessage, LogSelector, LogSubscriptionOptions, SubscriptionMessage } from './types.ts'

/**
 * A subscription's bookkeeping. Invariants: `pending` and `unavailable` are disjoint subsets of
 * `nodes` and stay empty with `follow`; without `follow` the queue ends exactly when `pending`
 * becomes empty — normally when `unavailable` is empty, else with `UnavailableError` naming its
 * nodes.
 *
 * @internal
 */
export class Subscription {
  /** Nodes that run (or ran) selected tasks: the ones the subscription is sent to. */
  readonly nodes = new Set<string>()
  /** Non-follow: connected nodes whose part is still awaited. */
  readonly pending = new Set<string>()
  /** Non-follow: nodes that could not deliver their part (not connected, or disconnected). */
  readonly unavailable = new Set<string>()
  /** Follow: nodes brought in after the start by a new selected task; all their tasks are new. */
  readonly lateNodes = new Set<string>()
  /** Lines to the subscriber. */
  readonly queue: AsyncQueue<LogMessage>
  /** The subscription's id. */
  readonly id: string
  /** The normalized selector. */
  readonly selector: Required<LogSelector>
  /** The normalized options. */
  readonly options: LogSubscriptionOptions & { follow: boolean }

  constructor(
    id: string,
    selector: Required<LogSelector>,
    options: LogSubscriptionOptions & { follow: boolean },
    queueLimit: number,
    onReturn: () => void,
  ) {
    this.id = id
    this.selector = selector
    this.options = options
    this.queue = new AsyncQueue<LogMessage>(queueLimit, onReturn)
  }

  /** Whether the subscription stays open for new lines and tasks. */
  get follow(): boolean {
    return this.options.follow
  }

  /**
   * The message telling node `nodeId` to publish (or, with `close`, to stop). A late node's tasks
   * are new to the subscriber: `tail` does not apply to them (none of their lines is skipped).
   */
  message(nodeId: string, close: boolean): SubscriptionMessage {
    if (!this.lateNodes.has(nodeId) || this.options.tail === undefined) return { id: this.id, selector: this.selector, options: this.options, close }
    const { tail: _tail, ...options } = this.options
    return { id: this.id, selector: this.selector, options, close }
  }

  /** Follow: adds a node that a selected task was placed on after the start. */
  addLateNode(nodeId: string): void {
    this.nodes.add(nodeId)
    this.lateNodes.add(nodeId)
  }

  /** Adds a node at the start: awaited when connected, else unavailable (non-follow). */
  addInitialNode(nodeId: string, connected: boolean): void {
    this.nodes.add(nodeId)
    if (this.follow) return
    if (connected) this.pending.add(nodeId)
    else this.unavailable.add(nodeId)
  }

  /** The node published its whole part. */
  nodeDone(nodeId: string): void {
    if (this.pending.delete(nodeId)) this.settle()
  }

  /** The node disconnected before completing its part. */
  nodeLost(nodeId: string): void {
    if (!this.pending.delete(nodeId)) return
    this.unavailable.add(nodeId)
    this.settle()
  }

  /** Ends a non-follow subscription whose parts are all in (call after the initial nodes). */
  settle(): void {
    if (this.follow || this.pending.size > 0 || this.queue.closed) return
    if (this.unavailable.size === 0) {
      this.queue.end()
      return
    }
    const nodes = [...this.unavailable].sort()
    this.queue.fail(new UnavailableError(`incomplete log stream: node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')} not available`))
  }
}
