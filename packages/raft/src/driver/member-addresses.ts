/**
 * The {@link RaftNode} driver's address book: the address of every member as recorded in the
 * log (membership changes carry it; snapshots keep it), kept in step with the transport's peers.
 * It also remembers members the transport told us about before the log did (a leader added by a
 * change this member has not applied yet) so that they can be answered, and the members removed,
 * which are never learned again.
 *
 * @internal
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import type { ConfChangeType } from '../core/types.ts'
import type { MessageOrigin, RaftTransport } from '../transport/transport.ts'

/** Member addresses of one driver, and the transport's peers that follow them. */
export class MemberAddressBook {
  readonly #self: RaftMemberId
  readonly #transport: RaftTransport
  readonly #members = new Map<RaftMemberId, string>()
  /** Addresses told by the transport for members the log has not given us yet (see `learn`). */
  readonly #learned = new Map<RaftMemberId, string>()
  /** Members removed by an applied conf change: never learned again. */
  readonly #removed = new Set<RaftMemberId>()
  /** Whether the transport is started: peers are added to it only then (see `connect`). */
  #connected = false

  constructor(self: RaftMemberId, transport: RaftTransport) {
    this.#self = self
    this.#transport = transport
  }

  /** Member addresses as recorded in the log. */
  get members(): ReadonlyMap<RaftMemberId, string> {
    return this.#members
  }

  /** The address recorded for `id`, if any. */
  get(id: RaftMemberId): string | undefined {
    return this.#members.get(id)
  }

  /** Adds every known member but us to the transport; from now on changes reach it at once. */
  connect(): void {
    this.#connected = true
    for (const [id, addr] of this.#members) if (id !== this.#self) this.#transport.addPeer(id, addr)
  }

  /**
   * Points the transport at a sender the log has not told us about yet — typically a leader
   * added by a conf change this member has not applied — so that it can answer. The log's
   * addresses win, and removed members stay removed.
   */
  learn(origin: MessageOrigin): void {
    const id = origin.id
    if (id === this.#self || this.#members.has(id) || this.#removed.has(id) || this.#learned.get(id) === origin.address) return
    this.#learned.set(id, origin.address)
    this.#transport.addPeer(id, origin.address)
  }

  /** Applies one change of an applied membership change (`address`: from its context, '' if none). */
  applyChange(type: ConfChangeType, id: RaftMemberId, address: string): void {
    this.#learned.delete(id)
    if (type === 'remove') {
      this.#removed.add(id)
      this.#members.delete(id)
      if (id !== this.#self) this.#transport.removePeer(id)
    } else if (address !== '') {
      this.#removed.delete(id)
      this.#members.set(id, address)
      if (id !== this.#self && this.#connected) this.#transport.addPeer(id, address)
    }
  }

  /** Replaces the addresses with a snapshot's, and the transport's peers with them. */
  restore(members: ReadonlyMap<RaftMemberId, string>): void {
    for (const id of this.#members.keys()) if (!members.has(id) && id !== this.#self && this.#connected) this.#transport.removePeer(id)
    this.#members.clear()
    for (const [id, addr] of members) {
      this.#members.set(id, addr)
      if (id !== this.#self && this.#connected) this.#transport.addPeer(id, addr)
    }
  }

  /** A copy of the addresses, for a snapshot. */
  snapshot(): Map<RaftMemberId, string> {
    return new Map(this.#members)
  }
}
