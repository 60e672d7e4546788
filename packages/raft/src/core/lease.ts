/**
 * The leader lease behind lease-based ReadIndex (`readOnlyOption: 'lease-based'`).
 *
 * Every heartbeat a lease-based leader sends starts a numbered *round* and carries the round
 * number as its context; followers echo it. A follower that receives a heartbeat of the current
 * term refuses (non-transfer) votes for the next election timeout of its own ticks, so once a
 * quorum has acknowledged a round sent at leader tick `t`, no other leader can be elected before
 * `electionTimeout − 1` ticks after `t` — provided every member's ticks run at the same rate (the
 * documented assumption). Until then a read is answered at once with the commit index.
 *
 * Otherwise (lease lapsed, or revoked because this leader sent `timeout-now`, which lets the
 * transferee's votes skip the followers' leases) a read waits, like a safe ReadIndex, for a
 * quorum to acknowledge a round sent after it arrived.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import { jointCommitted } from './quorum.ts'
import type { ReadIndexMessage } from './types.ts'

/** A read waiting for a quorum to acknowledge round `round` (or a valid lease). */
interface PendingLeaseRead {
  readonly req: ReadIndexMessage
  /** The commit index when the read arrived. */
  readonly index: number
  /** The first round sent after the read arrived. */
  readonly round: number
}

/** Encodes a round number as a heartbeat context (8 bytes, big-endian). */
export function encodeLeaseRound(round: number): Uint8Array {
  const b = new Uint8Array(8)
  const dv = new DataView(b.buffer)
  dv.setUint32(0, Math.floor(round / 2 ** 32))
  dv.setUint32(4, round >>> 0)
  return b
}

/** Decodes a heartbeat context made by {@link encodeLeaseRound}; undefined for anything else. */
export function decodeLeaseRound(ctx: Uint8Array): number | undefined {
  if (ctx.byteLength !== 8) return undefined
  const dv = new DataView(ctx.buffer, ctx.byteOffset, 8)
  return dv.getUint32(0) * 2 ** 32 + dv.getUint32(4)
}

/** One leadership's lease: rounds sent, acknowledgements, and reads waiting for confirmation. */
export class LeaderLease {
  readonly #electionTimeout: number
  /** The last round sent (0: none yet). */
  #round = 0
  /** round → the leader tick at which it was sent (rounds too old to matter are pruned). */
  readonly #sentAt = new Map<number, number>()
  /** member → the highest round it acknowledged. */
  readonly #acked = new Map<RaftMemberId, number>()
  #pending: PendingLeaseRead[] = []
  /** Set once this leader sent `timeout-now`: no lease read for the rest of its term. */
  #revoked = false

  constructor(electionTimeout: number) {
    this.#electionTimeout = electionTimeout
  }

  /** Starts a round at leader tick `tick`; returns the context its heartbeats carry. */
  nextRound(tick: number): Uint8Array {
    this.#round++
    this.#sentAt.set(this.#round, tick)
    for (const [round, at] of this.#sentAt) {
      if (tick - at < this.#electionTimeout) break
      this.#sentAt.delete(round)
    }
    return encodeLeaseRound(this.#round)
  }

  /** Records `from`'s echo of a heartbeat context; returns whether it acknowledged a newer round. */
  ack(from: RaftMemberId, ctx: Uint8Array): boolean {
    const round = decodeLeaseRound(ctx)
    if (round === undefined || round > this.#round || round <= (this.#acked.get(from) ?? 0)) return false
    this.#acked.set(from, round)
    return true
  }

  /** The highest round acknowledged by a quorum of `voters`/`outgoing` (the leader `self` has every round). */
  #quorumRound(self: RaftMemberId, voters: ReadonlySet<RaftMemberId>, outgoing: ReadonlySet<RaftMemberId>): number {
    return jointCommitted(voters, outgoing, (id) => (id === self ? this.#round : this.#acked.get(id)))
  }

  /** Whether the lease holds at leader tick `tick` (and was not revoked). */
  valid(tick: number, self: RaftMemberId, voters: ReadonlySet<RaftMemberId>, outgoing: ReadonlySet<RaftMemberId>): boolean {
    if (this.#revoked) return false
    const at = this.#sentAt.get(this.#quorumRound(self, voters, outgoing))
    return at !== undefined && tick - at < this.#electionTimeout - 1
  }

  /** No lease read until this leadership ends (a transfer lets votes skip the followers' leases). */
  revoke(): void {
    this.#revoked = true
  }

  /** Queues a read that arrived with commit index `index`; the next round (to be sent now) confirms it. */
  wait(req: ReadIndexMessage, index: number): void {
    this.#pending.push({ req, index, round: this.#round + 1 })
  }

  /**
   * The queued reads that can now be answered (a quorum acknowledged a round sent after they
   * arrived, or the lease holds), with their commit index; removes them from the queue.
   */
  release(tick: number, self: RaftMemberId, voters: ReadonlySet<RaftMemberId>, outgoing: ReadonlySet<RaftMemberId>): Array<{ req: ReadIndexMessage; index: number }> {
    if (this.#pending.length === 0) return []
    const q = this.#quorumRound(self, voters, outgoing)
    const leased = this.valid(tick, self, voters, outgoing)
    const out: Array<{ req: ReadIndexMessage; index: number }> = []
    const keep: PendingLeaseRead[] = []
    for (const p of this.#pending) (leased || p.round <= q ? out : keep).push(p)
    this.#pending = keep
    return out
  }
}
