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
 * - A transport should tell receivers the address its member advertises (delivered to them as
 *   the `origin` of each message): without it, a member that has not applied the change adding
 *   the current leader cannot answer that leader.
 * - After `stop()` resolves no handler is called again.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import type { Message } from './types.ts'

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
}

/** Moves Raft messages between members. */
export interface RaftTransport {
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
