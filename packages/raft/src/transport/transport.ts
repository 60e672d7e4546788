/**
 * The transport contract: how a {@link RaftNode} driver exchanges messages with its peers.
 *
 * Implementations: `GrpcRaftTransport` (this package; real processes over gRPC) and the
 * endpoints of `MemoryNetwork` (`@swarmkit-ts/testkit`; in-process, with faults).
 *
 * Obligations of an implementation:
 * - `send` never blocks and never throws for a peer that is down or unknown: delivery is best
 *   effort (Raft retries by itself). A message it gives up on for a peer that cannot be reached
 *   is reported through the `unreachable` handler, at most once per failed attempt to connect.
 * - Messages to one peer are delivered in the order they were sent, or dropped; a real network
 *   may still reorder across reconnects, which Raft tolerates.
 * - A `snapshot` message may be large: the transport streams it in chunks, and reports the
 *   outcome with the `snapshotStatus` handler (`ok = false` when the stream failed).
 * - Handlers are called on the event loop, never synchronously from inside `send`.
 * - Messages arrive whole, the storage incarnations `fromIncarnation` and `toIncarnation`
 *   included (`encodeMessage` carries them): without them a member that lost its storage can
 *   vote again under its old id (see `RaftStorage`).
 * - A transport should tell receivers the address its member advertises (delivered to them as
 *   the `origin` of each message): without it, a member that has not applied the change adding
 *   the current leader cannot answer that leader.
 * - A transport that declares {@link RaftTransport.maxMessageBytes} delivers every message whose
 *   {@link messageSizeBound} is at most that; a message it cannot send even alone is reported
 *   through the `undeliverable` handler (`'too-large'`), never dropped silently nor retried.
 * - After `stop()` resolves no handler is called again.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import type { Message } from '../core/types.ts'

/**
 * Who put a message on the wire: the sending member (which may differ from `msg.from` when it
 * relays a message, e.g. a forwarded proposal) and the address it advertises.
 */
export interface MessageOrigin {
  readonly id: RaftMemberId
  readonly address: string
}

/** Handlers a driver registers with its transport. */
export interface RaftTransportHandlers {
  /**
   * A message from a peer arrived. A transport that knows the address the sending member
   * advertises passes it as `origin`; the driver then answers a member it had no address for
   * (one whose addition it has not applied yet).
   */
  message(msg: Message, origin?: MessageOrigin): void
  /** A message to `to` could not be delivered because the peer is unreachable. */
  unreachable?(to: RaftMemberId): void
  /** A snapshot stream to `to` finished (`ok`) or failed. */
  snapshotStatus?(to: RaftMemberId, ok: boolean): void
  /**
   * The transport gave up on `msg` for good and will not retry it: `'too-large'` when it exceeds
   * {@link RaftTransport.maxMessageBytes} even alone (sending it again can never succeed: the
   * driver must not produce it), `'queue-full'` when the peer's queue overflowed and `msg` was the
   * oldest waiting message (Raft resends what is still needed). Called asynchronously, like every
   * handler. A snapshot that is not sent is reported here and with `snapshotStatus(to, false)`.
   */
  undeliverable?(msg: Message, reason: UndeliverableReason): void
}

/** Why a transport gave up on a message (see {@link RaftTransportHandlers.undeliverable}). */
export type UndeliverableReason = 'too-large' | 'queue-full'

/**
 * Bytes every message may take on the wire besides its entries' data and contexts: ids, term,
 * indexes, type, stamps and framing, at most (GrpcRaftTransport's encoding needs under 100).
 */
export const MESSAGE_OVERHEAD_BYTES = 128

/** Bytes each entry of an `app` or `prop` message may take on the wire besides its data, at most (GrpcRaftTransport's encoding needs 32). */
export const MESSAGE_ENTRY_OVERHEAD_BYTES = 40

/**
 * An upper bound of the encoded size of `msg`, as {@link RaftTransport.maxMessageBytes} counts it:
 * {@link MESSAGE_OVERHEAD_BYTES}, plus for each entry its data and
 * {@link MESSAGE_ENTRY_OVERHEAD_BYTES}, plus the bytes of a context; for a snapshot its data and
 * 16 bytes per member of its configuration (a transport may stream snapshots in chunks: see
 * {@link RaftTransport.maxMessageBytes}).
 */
export function messageSizeBound(msg: Message): number {
  switch (msg.type) {
    case 'app':
    case 'prop': {
      let n = MESSAGE_OVERHEAD_BYTES
      for (const e of msg.entries) n += e.data.byteLength + MESSAGE_ENTRY_OVERHEAD_BYTES
      return n
    }
    case 'heartbeat':
    case 'heartbeat-resp':
    case 'read-index':
    case 'read-index-resp':
      return MESSAGE_OVERHEAD_BYTES + msg.context.byteLength
    case 'snapshot': {
      const cs = msg.snapshot.metadata.confState
      const members = cs.voters.length + cs.learners.length + cs.votersOutgoing.length + cs.learnersNext.length
      return MESSAGE_OVERHEAD_BYTES + msg.snapshot.data.byteLength + 16 * members
    }
    default:
      return MESSAGE_OVERHEAD_BYTES
  }
}

/**
 * The largest entry data a transport limited to `maxMessageBytes` always delivers: an `app` or
 * `prop` message carrying one such entry (and nothing else) fits, by {@link messageSizeBound}.
 * A driver rejects larger proposals up front. Returns 0 when not even an empty entry fits.
 */
export function maxEntryDataBytes(maxMessageBytes: number): number {
  return Math.max(0, maxMessageBytes - MESSAGE_OVERHEAD_BYTES - MESSAGE_ENTRY_OVERHEAD_BYTES)
}

/** Moves Raft messages between members. */
export interface RaftTransport {
  /**
   * The largest message this transport can deliver, as {@link messageSizeBound} counts it; a
   * driver must not produce larger ones (it limits proposals to
   * {@link maxEntryDataBytes}`(maxMessageBytes)` and the entries of one append accordingly).
   * Snapshots are exempt when the transport streams them in chunks (GrpcRaftTransport does).
   * `undefined`: no limit.
   */
  readonly maxMessageBytes?: number | undefined
  /** Starts delivering messages to `handlers`. Called once, before any `send`. */
  start(handlers: RaftTransportHandlers): Promise<void>
  /** Queues messages for delivery to their `to` members (best effort, never throws for a down peer). */
  send(messages: readonly Message[]): void
  /** Tells the transport where a member can be reached (replacing any previous address). */
  addPeer(id: RaftMemberId, address: string): void
  /** Forgets a member; queued messages to it are dropped. */
  removePeer(id: RaftMemberId): void
  /** Stops sending and receiving; resolves when no handler will be called again. */
  stop(): Promise<void>
}
