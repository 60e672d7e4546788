/**
 * Exactly-once application of proposals in the {@link RaftNode} driver. A forwarded proposal
 * may reach the leader twice (a retried forward, a duplicated message), and a later proposal of
 * the same driver may overtake an earlier one. Every proposal carries its driver's nonce and a
 * sequence number; per nonce (a session) the highest sequence number applied is kept, and a
 * proposal is applied only above it. The sessions are part of the applied state: identical on
 * every member, and kept in the driver's snapshots.
 *
 * @internal
 */
import { nonceKey } from './raft-node-codec.ts'
import { requestSeq, sameNonce } from './request-waiters.ts'

/** Per proposing driver (hex nonce), the highest sequence number applied. */
export class ProposalSessions {
  #sessions = new Map<string, number>()
  /** The nonce of the last session looked up, and its key (see `firstTime`). */
  #lastNonce: Uint8Array | undefined
  #lastKey = ''

  /**
   * Whether a proposal is applied: its sequence number is above every one applied before from
   * the same driver (and then records it). A driver proposes in sequence order, so only a
   * duplicate — or a forward overtaken by a later one of the same driver — fails this. Ids not
   * made by a driver pass.
   */
  firstTime(requestId: Uint8Array): boolean {
    if (requestId.byteLength !== 16) return true
    const seq = requestSeq(requestId)
    // The proposals of one entry usually come from one driver: its hex key is computed once.
    let key = this.#lastKey
    if (this.#lastNonce === undefined || !sameNonce(requestId, this.#lastNonce)) {
      this.#lastNonce = requestId.slice(0, 8)
      key = this.#lastKey = nonceKey(this.#lastNonce)
    }
    const last = this.#sessions.get(key)
    if (last !== undefined && seq <= last) return false
    this.#sessions.set(key, seq)
    return true
  }

  /** The highest sequence number applied from the driver with this nonce, if any. */
  lastApplied(nonce: Uint8Array): number | undefined {
    return this.#sessions.get(nonceKey(nonce))
  }

  /** A copy of the sessions, for a snapshot. */
  snapshot(): Map<string, number> {
    return new Map(this.#sessions)
  }

  /** Replaces the sessions with a snapshot's (taken as is). */
  restore(sessions: Map<string, number>): void {
    this.#sessions = sessions
  }
}
