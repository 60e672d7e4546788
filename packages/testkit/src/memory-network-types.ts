/**
 * Types of {@link MemoryNetwork}: messages, fault settings, handlers, statistics and trace events.
 */
import type { Clock, Random } from '@swarmkit-ts/api'

/** What the network needs of a message: who sends it and who receives it (member ids). */
export interface NetworkMessage {
  /**
   * The member the message is from. Usually the sending endpoint's id, but a member may relay a
   * message it received keeping its original sender (Raft forwards proposals that way); links,
   * partitions and reports always use the endpoint that sent it.
   */
  readonly from: bigint
  /** The recipient. */
  readonly to: bigint
}

/** An inclusive range `[min, max]` of whole milliseconds, drawn uniformly. */
export type DelayRange = readonly [min: number, max: number]

/**
 * Random faults of a link (or of every link). Each message draws its fate independently from the
 * network's `Random`.
 */
export interface LinkFaults {
  /** Probability in [0, 1] that a message is lost. @default 0 */
  readonly drop?: number
  /**
   * Probability in [0, 1] that a message that is not lost arrives twice. The copy arrives after
   * the original, by a second draw of the delay, and may be overtaken by later messages.
   * @default 0
   */
  readonly duplicate?: number
  /**
   * Probability in [0, 1] that a message is held back by an extra delay drawn from
   * `reorderDelayMs`, outside the link's order, so that later messages can overtake it.
   * @default 0
   */
  readonly reorder?: number
  /** The transit time of a message. @default the network's `defaultDelayMs` */
  readonly delayMs?: DelayRange
  /** The extra delay of a reordered message. @default [1, 50] */
  readonly reorderDelayMs?: DelayRange
}

/**
 * Who put a message on the network: the sending endpoint's member id (not necessarily the
 * message's `from`, see {@link NetworkMessage}) and the address it was created with.
 */
export interface MessageOrigin {
  readonly id: bigint
  readonly address: string
}

/** What an endpoint's owner hears from the network (the shape of Raft's transport handlers). */
export interface MemoryEndpointHandlers<M> {
  /** A message arrived; `origin` is given when the sending endpoint has an address (see {@link MemoryNetwork.endpoint}). */
  message(message: M, origin?: MessageOrigin): void
  /** A message to `to` was lost because `to` is down (disconnected, stopped or never started). */
  unreachable?(to: bigint): void
  /** A snapshot message to `to` arrived (`ok`), or was lost. */
  snapshotStatus?(to: bigint, ok: boolean): void
}

/** Message counts since the network was created. `sent + duplicated = delivered + dropped + inFlight()`. */
export interface NetworkStats {
  /** Messages handed to `send` by running endpoints. */
  readonly sent: number
  /** Copies handed to a receiver's `message` handler. */
  readonly delivered: number
  /** Copies lost, for any {@link DropReason}. */
  readonly dropped: number
  /** Extra copies created by the `duplicate` fault. */
  readonly duplicated: number
}

/** Why a copy of a message was lost. */
export const DropReason = {
  /** The `drop` fault. */
  random: 'random',
  /** The link was cut (partition, block, isolation) when it was sent or when it arrived. */
  partition: 'partition',
  /** The recipient was down when it arrived; the sender is told `unreachable`. */
  unreachable: 'unreachable',
  /** The sender was disconnected when it sent the message. */
  senderDown: 'sender-down',
  /** The sender removed the recipient with `removePeer` while the message was in flight. */
  removedPeer: 'removed-peer',
  /** With `strictPeers`, the sender never added the recipient with `addPeer`. */
  unknownPeer: 'unknown-peer',
} as const
/** Why a copy of a message was lost. */
export type DropReason = (typeof DropReason)[keyof typeof DropReason]

/** One thing that happened on the network, at virtual time `at`. */
export type NetworkEvent<M> =
  /** A copy was handed to the recipient. */
  | { readonly type: 'deliver'; readonly at: number; readonly message: M; readonly duplicate: boolean }
  /** A copy was lost. */
  | { readonly type: 'drop'; readonly at: number; readonly message: M; readonly duplicate: boolean; readonly reason: DropReason }
  /** A message will arrive twice. */
  | { readonly type: 'duplicate'; readonly at: number; readonly message: M }
  /** `from` was told that `to` is unreachable. */
  | { readonly type: 'unreachable'; readonly at: number; readonly from: bigint; readonly to: bigint }
  /** `from` was told the outcome of a snapshot it sent to `to`. */
  | { readonly type: 'snapshot-status'; readonly at: number; readonly from: bigint; readonly to: bigint; readonly ok: boolean }

/** Construction options of {@link MemoryNetwork}. */
export interface MemoryNetworkInit<M> {
  /** Drives every delivery (a `ManualClock` in tests). */
  readonly clock: Clock
  /** Draws every delay and fault (a `SeededRandom` in tests). */
  readonly random: Random
  /** The transit time of messages on links with no `delayMs`. @default [1, 1] */
  readonly defaultDelayMs?: DelayRange
  /** Faults of every link (see {@link MemoryNetwork.setFaults}). @default none */
  readonly faults?: LinkFaults
  /** Which messages are snapshots: their outcome is reported with `snapshotStatus`. @default none */
  readonly isSnapshot?: (message: M) => boolean
  /**
   * Copies a message for each delivery, as a real network would deserialize a fresh one, so that
   * a receiver that mutates it or a sender that reuses it cannot affect the other.
   * @default the same object is delivered
   */
  readonly clone?: (message: M) => M
  /**
   * When true, a message to a member the sender has not added with `addPeer` is lost and reported
   * `unreachable`, as with a real transport that has no address for it. @default false
   */
  readonly strictPeers?: boolean
  /** Called for every {@link NetworkEvent}, e.g. to record a trace. */
  readonly trace?: (event: NetworkEvent<M>) => void
}
