/**
 * The leader's view of one follower's log (Raft §5.3 nextIndex/matchIndex), with the flow
 * control state of etcd's design: probe (one append per heartbeat until the match point is
 * found), replicate (pipelined appends up to an in-flight window) and snapshot (paused until a
 * snapshot is installed).
 */
import { Inflights } from './inflights.ts'

/** The replication state of a follower. */
export const ProgressState = {
  /** Looking for the match point: at most one append per heartbeat. */
  probe: 'probe',
  /** Streaming appends optimistically, bounded by the in-flight window. */
  replicate: 'replicate',
  /** A snapshot is being sent; appends are paused. */
  snapshot: 'snapshot',
} as const
/** The replication state of a follower. */
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState]

/** Replication progress of one member, kept by the leader. Invariant: `match < next`. */
export class Progress {
  /** Highest index known to be replicated on the member. */
  match: number
  /** Index of the next entry to send. */
  next: number
  /** Current replication state. */
  state: ProgressState = ProgressState.probe
  /** In the snapshot state: index of the snapshot being sent. */
  pendingSnapshot = 0
  /** Whether the member was heard from since the last CheckQuorum round. */
  recentActive: boolean
  /** Probe: an append is outstanding. Replicate: the in-flight window is full. */
  msgAppFlowPaused = false
  /** Appends in flight (replicate state). */
  inflights: Inflights
  /** Whether the member is a learner. */
  isLearner: boolean
  /** Highest commit index sent to the member. */
  sentCommit = 0

  constructor(init: { match: number; next: number; maxInflight: number; isLearner: boolean; recentActive: boolean }) {
    this.match = init.match
    this.next = init.next
    this.inflights = new Inflights(init.maxInflight)
    this.isLearner = init.isLearner
    this.recentActive = init.recentActive
  }

  /** An independent copy. */
  clone(): Progress {
    const c = new Progress({ match: this.match, next: this.next, maxInflight: this.inflights.capacity, isLearner: this.isLearner, recentActive: this.recentActive })
    c.state = this.state
    c.pendingSnapshot = this.pendingSnapshot
    c.msgAppFlowPaused = this.msgAppFlowPaused
    c.inflights = this.inflights.clone()
    c.sentCommit = this.sentCommit
    return c
  }

  #reset(state: ProgressState): void {
    this.msgAppFlowPaused = false
    this.pendingSnapshot = 0
    this.state = state
    this.inflights.reset()
  }

  /** Enters probe: resume from just after the match (or after a snapshot that was sent). */
  becomeProbe(): void {
    if (this.state === ProgressState.snapshot) {
      const pending = this.pendingSnapshot
      this.#reset(ProgressState.probe)
      this.next = Math.max(this.match + 1, pending + 1)
    } else {
      this.#reset(ProgressState.probe)
      this.next = this.match + 1
    }
  }

  /** Enters replicate: stream from just after the match. */
  becomeReplicate(): void {
    this.#reset(ProgressState.replicate)
    this.next = this.match + 1
  }

  /** Enters snapshot: a snapshot at `index` is being sent. */
  becomeSnapshot(index: number): void {
    this.#reset(ProgressState.snapshot)
    this.pendingSnapshot = index
    this.next = index + 1
  }

  /** Records an append of `entries` entries ending at `lastIndex` was sent. */
  sentEntries(entries: number, lastIndex: number): void {
    if (this.state === ProgressState.replicate) {
      if (entries > 0) {
        this.next = lastIndex + 1
        this.inflights.add(lastIndex)
      }
      this.msgAppFlowPaused = this.inflights.full()
    } else if (this.state === ProgressState.probe && entries > 0) {
      this.msgAppFlowPaused = true
    }
  }

  /** Whether sending `commit` might advance the member's commit index. */
  canBumpCommit(commit: number): boolean {
    return commit > this.sentCommit && this.sentCommit < this.next - 1
  }

  /** Records that `commit` was sent. */
  sentCommitTo(commit: number): void {
    this.sentCommit = commit
  }

  /** Handles a successful append ack for `n`; returns whether it was news (not stale). */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false
    this.match = n
    this.next = Math.max(this.next, n + 1)
    this.msgAppFlowPaused = false
    return true
  }

  /**
   * Handles a rejected append at `rejected`, with the follower's hint that the logs may match
   * at `matchHint`; returns false when the rejection is stale.
   *
   * A follower that still holds what it acknowledged never rejects `match` itself, and never
   * hints below `match` (its entries up to `match` are the leader's, so their terms are ≤ any
   * later term of the leader's log). A rejection like that, of the probe in flight or of `match`
   * itself, means the follower lost entries it had acknowledged — its storage was wiped or
   * rolled back: nothing is known to match any more, so `match` drops to 0 and probing resumes
   * from the hint (with a snapshot if that is compacted). The commit index never moves back. (A
   * duplicate of a rejection sent before the follower caught up can look the same; that costs
   * one probe round trip.)
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.replicate) {
      if (rejected < this.match || (rejected === this.match && matchHint >= this.match)) return false
      if (rejected === this.match) {
        this.#reset(ProgressState.probe)
        this.match = 0
        this.next = matchHint + 1
        return true
      }
      this.next = this.match + 1
      return true
    }
    if (this.next - 1 !== rejected) return false
    if (matchHint < this.match) this.match = 0
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1)
    this.msgAppFlowPaused = false
    return true
  }

  /** Whether appends to this member are paused. */
  isPaused(): boolean {
    return this.state === ProgressState.snapshot || this.msgAppFlowPaused
  }
}
