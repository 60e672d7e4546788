/**
 * The `RaftNode` driver's defence against a member that lost its durable state and came back
 * under its old id (issue: such a member votes a second time in a term it already voted in, and
 * is counted for entries it no longer has).
 *
 * Every storage has an incarnation (see the storage contract). The driver stamps its own on
 * every message it sends, and with it the incarnation it has bound for the recipient. The leader
 * binds each member it hears from to the incarnation that member sent, through an entry of the
 * log (the first binding of a member wins, on every member, in log order); bindings are kept in
 * the driver's snapshots. Then:
 *
 * - a message whose sender is bound to another incarnation is dropped before the core sees it
 *   (a wiped member can neither vote nor acknowledge entries under its old id), and reported once;
 * - a member that receives a message naming another incarnation for it, or applies a binding of
 *   its id to another incarnation, knows it is the one that lost its state: its driver stops with
 *   `MemberIdentityError`, which tells the operator to remove it and add it back under a new id.
 *
 * Bindings are never dropped, not even when a member is removed: an id is not reused.
 *
 * @internal
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import { MemberIdentityError } from '../errors.ts'
import { decodeIncarnationEntry, encodeIncarnationEntry } from './raft-node-codec.ts'
import type { Message } from '../core/types.ts'

/** What to do with a message that arrived (see {@link MemberIdentities.check}). */
export type IdentityVerdict =
  | { kind: 'accept' }
  /** Drop it: its sender is bound to another incarnation. `first` on the first drop of that pair. */
  | { kind: 'refuse'; incarnation: bigint; first: boolean }
  /** Drop it and stop: the sender has bound this member to another incarnation. */
  | { kind: 'lost'; error: MemberIdentityError }

/** The verdict of every accepted message (one object: `check` runs for every message received). */
const ACCEPT: IdentityVerdict = Object.freeze({ kind: 'accept' })

/** The incarnations of one member's driver: its own, and the ones bound in the log. */
export class MemberIdentities {
  /** This member. */
  readonly self: RaftMemberId
  /** This member's storage incarnation (`0n`: none). */
  readonly incarnation: bigint
  #bound = new Map<RaftMemberId, bigint>()
  /** As leader: incarnations heard from members not bound yet; `proposed` once in a proposal. */
  readonly #wanted = new Map<RaftMemberId, { incarnation: bigint; proposed: boolean }>()
  #leading = false
  readonly #refused = new Set<string>()

  constructor(self: RaftMemberId, incarnation: bigint) {
    this.self = self
    this.incarnation = incarnation
  }

  /** The bindings applied so far (part of the applied state). */
  get bound(): ReadonlyMap<RaftMemberId, bigint> {
    return this.#bound
  }

  /**
   * Stamps outgoing messages: the sender's incarnation (ours; for a message relayed on behalf of
   * another member, the one bound for it) and the one bound for the recipient. Fields a relayed
   * message carried in are replaced.
   */
  stamp(msgs: readonly Message[]): void {
    for (const m of msgs) {
      const from = m.from === this.self ? this.incarnation : (this.#bound.get(m.from) ?? 0n)
      if (from !== 0n) m.fromIncarnation = from
      else delete m.fromIncarnation
      const to = this.#bound.get(m.to)
      if (to !== undefined) m.toIncarnation = to
      else delete m.toIncarnation
    }
  }

  /** Decides the fate of a message from the network; as leader, notes its sender's incarnation for binding. */
  check(m: Message): IdentityVerdict {
    const to = m.toIncarnation
    if (to !== undefined && to !== 0n && to !== this.incarnation) return { kind: 'lost', error: new MemberIdentityError(this.self, to, this.incarnation) }
    const from = m.fromIncarnation ?? 0n
    const bound = this.#bound.get(m.from)
    if (bound !== undefined) {
      if (bound === from) return ACCEPT
      const key = `${m.from.toString(16)}/${from.toString(16)}`
      const first = !this.#refused.has(key)
      this.#refused.add(key)
      return { kind: 'refuse', incarnation: from, first }
    }
    if (this.#leading && from !== 0n && m.from !== this.self && !this.#wanted.has(m.from)) this.#wanted.set(m.from, { incarnation: from, proposed: false })
    return ACCEPT
  }

  /** Tells whether this member leads: a new leader binds itself; a former one forgets what it had not bound. */
  setLeading(leading: boolean): void {
    if (leading === this.#leading) return
    this.#leading = leading
    this.#wanted.clear()
    if (leading && this.incarnation !== 0n && !this.#bound.has(this.self)) this.#wanted.set(this.self, { incarnation: this.incarnation, proposed: false })
  }

  /** As leader, the data of an entry binding the members heard from and not yet proposed, if any. */
  takeProposal(): { data: Uint8Array; ids: RaftMemberId[] } | undefined {
    // Called on every pass of the loop: nothing is allocated when no member waits (the usual case).
    if (!this.#leading || this.#wanted.size === 0) return undefined
    const batch = new Map<RaftMemberId, bigint>()
    for (const [id, w] of this.#wanted) {
      if (w.proposed) continue
      w.proposed = true
      batch.set(id, w.incarnation)
    }
    if (batch.size === 0) return undefined
    return { data: encodeIncarnationEntry(batch), ids: [...batch.keys()] }
  }

  /** The proposal of {@link takeProposal} was refused: offer those members again next time. */
  proposalFailed(ids: readonly RaftMemberId[]): void {
    for (const id of ids) {
      const w = this.#wanted.get(id)
      if (w !== undefined) w.proposed = false
    }
  }

  /**
   * Applies a committed binding entry (first binding of a member wins).
   *
   * @throws MemberIdentityError when it binds this member to another incarnation than its own.
   */
  apply(data: Uint8Array): void {
    for (const [id, incarnation] of decodeIncarnationEntry(data)) {
      this.#wanted.delete(id)
      if (!this.#bound.has(id)) this.#bound.set(id, incarnation)
    }
    this.#checkSelf()
  }

  /**
   * Replaces the bindings with a snapshot's.
   *
   * @throws MemberIdentityError when the snapshot binds this member to another incarnation.
   */
  restore(bound: ReadonlyMap<RaftMemberId, bigint>): void {
    this.#bound = new Map(bound)
    for (const id of this.#bound.keys()) this.#wanted.delete(id)
    this.#checkSelf()
  }

  #checkSelf(): void {
    const mine = this.#bound.get(this.self)
    if (mine !== undefined && mine !== this.incarnation) throw new MemberIdentityError(this.self, mine, this.incarnation)
  }
}
