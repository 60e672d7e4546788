/**
 * An in-process network for deterministic simulation: endpoints shaped like Raft's transport,
 * deliveries on clock timers, and seeded faults.
 */
import type { Clock, Random } from '@swarmkit-ts/api'
import { MemoryEndpointImpl } from './memory-network-endpoint.ts'
import type { EndpointControl, EndpointHost, MemoryEndpoint } from './memory-network-endpoint.ts'
import { Connectivity, chance, drawDelay, linkKey, resolveFaults, validateFaults, validateRange } from './memory-network-faults.ts'
import { DropReason } from './memory-network-types.ts'
import type { DelayRange, LinkFaults, MemoryNetworkInit, NetworkEvent, NetworkMessage, NetworkStats } from './memory-network-types.ts'

/** One copy of a message on the wire. */
interface Copy<M extends NetworkMessage> {
  readonly message: M
  readonly sender: EndpointControl<M>
  /** The sender's generation of the recipient at send time (see `removePeer`). */
  readonly generation: number
  readonly duplicate: boolean
  readonly snapshot: boolean
}

/**
 * A simulated network of members identified by `bigint` ids, driven by a `Clock` (a
 * `ManualClock` in tests) and a `Random` (a `SeededRandom`): the same seed and the same calls give
 * the same deliveries, in the same order, at the same virtual times.
 *
 * Each member talks through a {@link MemoryEndpoint} from {@link MemoryNetwork.endpoint}. Every
 * message travels on a clock timer, never synchronously inside `send`. On each directed link
 * messages arrive in the order they were sent, unless they are lost, reordered or duplicated.
 *
 * Faults:
 * - random `drop`, `duplicate`, `reorder` and delays, network-wide ({@link setFaults}) or per
 *   directed link ({@link setLinkFaults});
 * - symmetric partitions ({@link partition}), one-way blocks ({@link block}) and isolation
 *   ({@link isolate}), all undone by {@link heal}: a message is lost if its link is cut when it is
 *   sent or when it would arrive;
 * - crashes: {@link disconnect} takes a member down until {@link reconnect}. Messages to a member
 *   that is down, stopped or not started are lost, and the sender is told `unreachable` (once per
 *   instant per recipient). A process restart is a new endpoint for the same id, which replaces the
 *   old one for good.
 *
 * Snapshot messages (per `isSnapshot`) report `snapshotStatus(to, delivered)` to their sender when
 * they arrive or would have arrived. Reports only reach a sender endpoint that is still running.
 */
export class MemoryNetwork<M extends NetworkMessage = NetworkMessage> {
  readonly #clock: Clock
  readonly #random: Random
  readonly #defaultDelayMs: DelayRange
  readonly #isSnapshot: ((message: M) => boolean) | undefined
  readonly #clone: ((message: M) => M) | undefined
  readonly #strictPeers: boolean
  readonly #trace: ((event: NetworkEvent<M>) => void) | undefined
  readonly #endpoints = new Map<bigint, EndpointControl<M>>()
  readonly #down = new Set<bigint>()
  readonly #connectivity = new Connectivity()
  readonly #linkFaults = new Map<string, LinkFaults>()
  /** Arrival time of the last in-order message of each link, to keep the link's order. */
  readonly #lastArrival = new Map<string, number>()
  #faults: LinkFaults
  #inFlight = 0
  #stats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 }
  readonly #host: EndpointHost<M>

  /** @throws InvalidArgumentError on a bad `defaultDelayMs` or `faults` (field named). */
  constructor(init: MemoryNetworkInit<M>) {
    this.#clock = init.clock
    this.#random = init.random
    this.#defaultDelayMs = validateRange(init.defaultDelayMs ?? [1, 1], 'defaultDelayMs')
    this.#faults = validateFaults(init.faults ?? {}, 'faults')
    this.#isSnapshot = init.isSnapshot
    this.#clone = init.clone
    this.#strictPeers = init.strictPeers ?? false
    this.#trace = init.trace
    this.#host = {
      attach: (control) => this.#endpoints.set(control.endpoint.id, control),
      isCurrent: (control) => this.#endpoints.get(control.endpoint.id) === control,
      transmit: (control, messages) => {
        for (const m of messages) this.#transmit(control, m)
      },
    }
  }

  /**
   * A new endpoint for member `id`. It replaces any earlier endpoint for `id`, which is dead from
   * then on (its handlers are never called again and its sends are ignored): that is how a test
   * restarts a member's process. With `address`, receivers are told it with every message from
   * this endpoint (as a real transport can carry the sender's address), so that they can answer
   * a member they had no address for.
   */
  endpoint(id: bigint, options: { address?: string } = {}): MemoryEndpoint<M> {
    return new MemoryEndpointImpl<M>(id, this.#host, options.address)
  }

  /** Replaces the network-wide faults. @throws InvalidArgumentError (field `faults.…`). */
  setFaults(faults: LinkFaults): void {
    this.#faults = validateFaults(faults, 'faults')
  }

  /**
   * Sets the faults of the directed link `from → to`; each field it sets overrides the network-wide
   * one. `undefined` removes the link's own settings. @throws InvalidArgumentError (field `faults.…`).
   */
  setLinkFaults(from: bigint, to: bigint, faults: LinkFaults | undefined): void {
    if (faults === undefined) this.#linkFaults.delete(linkKey(from, to))
    else this.#linkFaults.set(linkKey(from, to), validateFaults(faults, 'faults'))
  }

  /**
   * Replaces the partition: members on different sides cannot talk, in either direction. Members
   * listed on no side form one more side together. `partition()` with no side removes it.
   * @throws InvalidArgumentError when a member is on two sides.
   */
  partition(...sides: readonly (readonly bigint[])[]): void {
    this.#connectivity.partition(sides)
  }

  /** Cuts the link from `from` to `to`, in that direction only. */
  block(from: bigint, to: bigint): void {
    this.#connectivity.block(from, to)
  }

  /** Undoes {@link block}. */
  unblock(from: bigint, to: bigint): void {
    this.#connectivity.unblock(from, to)
  }

  /** Cuts every link to and from `id`. */
  isolate(id: bigint): void {
    this.#connectivity.isolate(id)
  }

  /** Removes the partition, every block and every isolation (not the random faults, not crashes). */
  heal(): void {
    this.#connectivity.heal()
  }

  /** Whether a message sent now from `from` to `to` would cross a cut link. */
  isCut(from: bigint, to: bigint): boolean {
    return this.#connectivity.isCut(from, to)
  }

  /**
   * Crashes member `id`'s network: messages to it are lost and reported `unreachable` to their
   * senders, and what it sends is lost, until {@link reconnect}.
   */
  disconnect(id: bigint): void {
    this.#down.add(id)
  }

  /** Brings member `id` back after {@link disconnect}. */
  reconnect(id: bigint): void {
    this.#down.delete(id)
  }

  /** Whether member `id` is disconnected. */
  isDown(id: bigint): boolean {
    return this.#down.has(id)
  }

  /** Message counts so far (a copy). */
  stats(): NetworkStats {
    return { ...this.#stats }
  }

  /** Copies on the wire: sent, not yet delivered or dropped. */
  inFlight(): number {
    return this.#inFlight
  }

  // ------------------------------------------------------------------------------ sending

  #transmit(sender: EndpointControl<M>, message: M): void {
    this.#stats.sent++
    const from = sender.endpoint.id
    const to = message.to
    const link = linkKey(from, to)
    const faults = resolveFaults(this.#linkFaults.get(link), this.#faults, this.#defaultDelayMs)
    const snapshot = this.#isSnapshot?.(message) ?? false
    const generation = sender.generation(to)
    const now = this.#clock.now()
    const delay = drawDelay(this.#random, faults.delayMs)

    let lost: DropReason | undefined
    if (this.#down.has(from)) lost = DropReason.senderDown
    else if (this.#strictPeers && !sender.hasPeer(to)) lost = DropReason.unknownPeer
    else if (this.#connectivity.isCut(from, to)) lost = DropReason.partition
    else if (chance(this.#random, faults.drop)) lost = DropReason.random
    if (lost !== undefined) {
      this.#drop(message, false, lost)
      if (lost === DropReason.unknownPeer) this.#schedule(delay, () => this.#reportUnreachable(sender, to))
      if (snapshot) this.#schedule(delay, () => this.#reportSnapshot(sender, to, false))
      return
    }

    const copy: Copy<M> = { message, sender, generation, duplicate: false, snapshot }
    let arrival = now + delay
    if (chance(this.#random, faults.reorder)) {
      arrival += drawDelay(this.#random, faults.reorderDelayMs)
    } else {
      // Keep the link's order: never arrive before an earlier in-order message of the link.
      arrival = Math.max(arrival, this.#lastArrival.get(link) ?? arrival)
      this.#lastArrival.set(link, arrival)
    }
    this.#inFlight++
    this.#schedule(arrival - now, () => this.#arrive(copy))

    if (chance(this.#random, faults.duplicate)) {
      this.#stats.duplicated++
      this.#trace?.({ type: 'duplicate', at: now, message })
      const again = arrival + drawDelay(this.#random, faults.delayMs)
      this.#inFlight++
      this.#schedule(again - now, () => this.#arrive({ ...copy, duplicate: true }))
    }
  }

  #schedule(delayMs: number, callback: () => void): void {
    this.#clock.setTimeout(callback, delayMs)
  }

  // ----------------------------------------------------------------------------- arriving

  #arrive(copy: Copy<M>): void {
    this.#inFlight--
    const { message, sender } = copy
    const from = sender.endpoint.id
    const to = message.to
    const reportSnapshot = copy.snapshot && !copy.duplicate
    const receiver = this.#down.has(to) ? undefined : this.#endpoints.get(to)?.handlers()

    let reason: DropReason | undefined
    if (this.#connectivity.isCut(from, to)) reason = DropReason.partition
    else if (sender.generation(to) !== copy.generation) reason = DropReason.removedPeer
    else if (receiver === undefined) reason = DropReason.unreachable
    if (reason !== undefined || receiver === undefined) {
      reason ??= DropReason.unreachable
      this.#drop(message, copy.duplicate, reason)
      if (reason === DropReason.unreachable) this.#reportUnreachable(sender, to)
      if (reportSnapshot) this.#reportSnapshot(sender, to, false)
      return
    }

    this.#stats.delivered++
    this.#trace?.({ type: 'deliver', at: this.#clock.now(), message, duplicate: copy.duplicate })
    const delivered = this.#clone === undefined ? message : this.#clone(message)
    const address = sender.endpoint.address
    if (address === undefined) receiver.message(delivered)
    else receiver.message(delivered, { id: from, address })
    if (reportSnapshot) this.#reportSnapshot(sender, to, true)
  }

  #drop(message: M, duplicate: boolean, reason: DropReason): void {
    this.#stats.dropped++
    this.#trace?.({ type: 'drop', at: this.#clock.now(), message, duplicate, reason })
  }

  /** A sender hears of a report only while it is the running endpoint of a connected member. */
  #senderHandlers(sender: EndpointControl<M>): ReturnType<EndpointControl<M>['handlers']> {
    return this.#down.has(sender.endpoint.id) ? undefined : sender.handlers()
  }

  #reportUnreachable(sender: EndpointControl<M>, to: bigint): void {
    const handlers = this.#senderHandlers(sender)
    const now = this.#clock.now()
    if (handlers === undefined || sender.lastUnreachable.get(to) === now) return
    sender.lastUnreachable.set(to, now)
    this.#trace?.({ type: 'unreachable', at: now, from: sender.endpoint.id, to })
    handlers.unreachable?.(to)
  }

  #reportSnapshot(sender: EndpointControl<M>, to: bigint, ok: boolean): void {
    const handlers = this.#senderHandlers(sender)
    if (handlers === undefined) return
    this.#trace?.({ type: 'snapshot-status', at: this.#clock.now(), from: sender.endpoint.id, to, ok })
    handlers.snapshotStatus?.(to, ok)
  }
}
