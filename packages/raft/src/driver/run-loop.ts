/**
 * The loop of the {@link RaftNode} driver: the ticker, and the turns that take each `Ready` of
 * the core through its steps in the order `Ready` documents — persist (entries, hard state,
 * snapshot), send, apply, advance — with two overlaps that keep it correct: a leader sends its
 * appends while its own write is in flight (Raft thesis §10.2.1), and applies committed entries
 * already durable here while the write is in flight. A follower sends its acknowledgements as
 * soon as its write is durable and applies after.
 *
 * A snapshot the applied state encodes in slices (a state machine with `beginSnapshot`) gets one
 * slice per turn of its own: a zero-delay timer of the driver's clock, so that messages, ticks
 * and proposals are handled between slices, and a simulated cluster replays the same turns.
 *
 * It also owns the driver's lifecycle: started, stopped, failed.
 *
 * @internal
 */
import { yieldToIo, type Clock, type RaftMemberId, type Timer } from '@swarmkit-ts/api'
import type { RawNode } from '../core/raw-node.ts'
import type { ReadState } from '../core/read-only.ts'
import type { Ready } from '../core/ready.ts'
import type { RaftRole } from '../core/role.ts'
import type { Entry, HardState, Message, Snapshot } from '../core/types.ts'
import type { RaftStorageWithLog } from '../storage/storage.ts'
import type { RaftTransport } from '../transport/transport.ts'
import type { MemberIdentities } from './member-identity.ts'

/**
 * A leader whose Ready appends at most this many entries is lightly loaded: it yields to I/O
 * once its appends are handed over (`Clock.yieldToIo`). A busier leader starts its write at once.
 */
export const LIGHT_READY_ENTRIES = 4

/** What the loop needs from the driver. */
export interface RunLoopHost {
  readonly raw: RawNode
  readonly storage: RaftStorageWithLog
  readonly transport: RaftTransport
  readonly identity: MemberIdentities
  /** The role as of the last Ready handled. */
  role(): RaftRole
  /** Hands waiting proposals (and incarnation bindings) to the core. */
  flushProposals(): void
  /** The leader or role changed. */
  softStateChanged(lead: RaftMemberId, role: RaftRole): void
  /** Replaces the applied state with a snapshot's. */
  restore(snap: Snapshot): void
  /** Applies one committed entry. */
  apply(e: Entry): void
  /** The core told these read indexes; then reads up to the applied index may be served. */
  readStates(states: readonly ReadState[]): void
  /** After a Ready is handled: take a snapshot if due (or capture one to encode in slices). */
  maybeSnapshot(): void
  /** Whether a snapshot is being encoded in slices. */
  snapshotInFlight(): boolean
  /** Encodes one slice of the snapshot in flight (storing it after the last). */
  snapshotSlice(): void
  /** Storage, the state machine or the core threw in the loop: the node fails. */
  fail(err: unknown): void
}

/** The ticker, the loop and the lifecycle of one driver. */
export class RunLoop {
  readonly #host: RunLoopHost
  readonly #clock: Clock
  readonly #tickMs: number
  /** The hard state last written to storage. */
  #hard: HardState
  #ticker: Timer | undefined
  #started = false
  #stopped = false
  #failed: unknown
  #loop: Promise<void> | undefined
  #wake = false
  readonly #commitDelayMs: number
  /** The deferred commit broadcast's timer, and the commit index it was armed for. */
  #commitTimer: Timer | undefined
  #commitArmedFor = 0
  /** The timer of the next snapshot slice's turn; `#sliceDue` once it fired. */
  #sliceTimer: Timer | undefined
  #sliceDue = false

  /**
   * `hard`: the hard state in storage at construction; `commitDelayMs`: how long a leader's new
   * commit index may wait for an append to carry it (0: the core sends it at once).
   */
  constructor(host: RunLoopHost, clock: Clock, tickMs: number, hard: HardState, commitDelayMs = 0) {
    this.#host = host
    this.#clock = clock
    this.#tickMs = tickMs
    this.#hard = hard
    this.#commitDelayMs = commitDelayMs
  }

  /** Whether `start` was called. */
  get started(): boolean {
    return this.#started
  }
  /** Whether `stop` was called. */
  get stopped(): boolean {
    return this.#stopped
  }
  /** The failure that stopped the node, if it failed (`undefined` otherwise). */
  get failure(): unknown {
    return this.#failed
  }
  /** Whether the node is stopped or failed. */
  get ended(): boolean {
    return this.#stopped || this.#failed !== undefined
  }

  /** Marks the node started (turns are taken from now on, once `kick`ed). */
  markStarted(): void {
    this.#started = true
  }

  /** Starts the ticker and takes a first turn. */
  startTicking(): void {
    this.#scheduleTick()
    this.kick()
  }

  /** Stops ticking and taking turns (see `idle` for the turn under way). */
  stop(): void {
    this.#stopped = true
    this.#ticker?.cancel()
    this.#commitTimer?.cancel()
    this.#sliceTimer?.cancel()
  }

  /** The turn under way, if any. */
  idle(): Promise<void> | undefined {
    return this.#loop
  }

  /** Records the failure and stops ticking (the caller tells the waiters). */
  markFailed(err: unknown): void {
    this.#failed = err
    this.#ticker?.cancel()
    this.#commitTimer?.cancel()
    this.#sliceTimer?.cancel()
  }

  /** Makes sure the loop runs (once) after the current event. */
  kick(): void {
    this.#wake = true
    if (this.#loop !== undefined || !this.#started || this.#stopped) return
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined
      if (this.#wake && !this.#stopped && this.#failed === undefined) this.kick()
    })
  }

  #scheduleTick(): void {
    this.#ticker = this.#clock.setTimeout(() => {
      if (this.#stopped || this.#failed !== undefined) return
      this.#host.raw.tick()
      this.kick()
      this.#scheduleTick()
    }, this.#tickMs)
  }

  async #run(): Promise<void> {
    const host = this.#host
    // Yield once so that a burst of proposals from the same event joins one Ready (one fsync).
    await Promise.resolve()
    while (this.#wake && this.#failed === undefined) {
      this.#wake = false
      for (;;) {
        try {
          host.flushProposals()
          if (!host.raw.hasReady()) {
            this.#sliceTurn()
            break
          }
          await this.#handle(host.raw.ready())
          if (this.#commitDelayMs > 0) this.#deferCommitBroadcast()
          // Under steady load this loop may not end for a long time: slices go between Readies.
          this.#sliceTurn()
        } catch (err) {
          host.fail(err)
          return
        }
      }
    }
  }

  /**
   * Encodes a slice of the snapshot in flight if its timer fired since the last one (at most one
   * per firing), and arms the timer for the next (see the module doc).
   */
  #sliceTurn(): void {
    if (this.#sliceDue) {
      this.#sliceDue = false
      this.#host.snapshotSlice()
    }
    if (this.#sliceTimer !== undefined || this.ended || !this.#host.snapshotInFlight()) return
    this.#sliceTimer = this.#clock.setTimeout(() => {
      this.#sliceTimer = undefined
      if (this.ended) return
      this.#sliceDue = true
      this.kick()
    }, 0)
  }

  async #handle(rd: Ready): Promise<void> {
    const host = this.#host
    const st = host.storage
    // A leader may replicate while its own write is in flight (Raft thesis §10.2.1): the core
    // counts the leader's own copy only after advance, i.e. once durable. Everything else — and
    // any message of a Ready that changes the term or vote — waits for the sync. The appends go
    // out before the storage calls too, which encode (and seal) the records: the followers'
    // round trip, on the commit's critical path, starts that much sooner.
    const voteChanged = rd.hardState !== undefined && (rd.hardState.term !== this.#hard.term || rd.hardState.vote !== this.#hard.vote)
    const leading = (rd.softState?.state ?? host.role()) === 'leader'
    host.identity.stamp(rd.messages)
    let rest = rd.messages
    if (rd.mustSync && leading && !voteChanged && !this.#stopped) {
      const early: Message[] = []
      rest = []
      for (const m of rd.messages) (m.type === 'app' ? early : rest).push(m)
      if (early.length > 0) {
        host.transport.send(early)
        // The appends reach the sockets only after this turn (HTTP/2 writes are flushed in the
        // event loop's check phase): a lightly loaded leader lets them go before the records are
        // encoded, sealed and written below, rather than after. (Under load the yield would let
        // a whole poll phase of requests run before the write that every commit waits for.)
        const y = rd.entries.length <= LIGHT_READY_ENTRIES ? yieldToIo(this.#clock) : undefined
        if (y !== undefined) await y
      }
    }
    if (rd.snapshot !== undefined) st.applySnapshot(rd.snapshot)
    if (rd.entries.length > 0) st.append(rd.entries)
    if (rd.hardState !== undefined) st.setHardState(rd.hardState)
    let applied = 0
    if (rd.mustSync) {
      // A follower's acknowledgement waits for this write and nothing else does: it may be made
      // durable on this thread (no thread-pool round trip, two context switches fewer). A leader's
      // is not: the trip through the event loop lets other requests in between its commits (with
      // inline leader syncs, a lone leader finished an update, its failure and the rollback before
      // a client that asked right after the update first looked), and it applies and answers
      // meanwhile.
      const synced = st.sync({ inline: !leading })
      // A leader, while its write is in flight, applies the committed entries that it already
      // holds durably (below this Ready's new entries): they are committed, i.e. durable on a
      // quorum, whatever happens to this write (etcd's server applies them concurrently with its
      // WAL save too), and applying them is what answers its clients. Only in a Ready that changes
      // neither role, term, vote nor snapshot, and only up to the first membership change, so
      // those keep their order with the rest. A follower applies after it has sent this Ready's
      // messages: its acknowledgement of the new entries is on the leader's commit path and
      // must not wait for the apply (under load the previous batch's apply takes several times
      // the fsync), so it goes out as soon as the write is durable.
      if (leading && rd.snapshot === undefined && rd.softState === undefined && !voteChanged) {
        // A failing apply fails the node below; the write's outcome then no longer matters.
        synced.catch(() => undefined)
        applied = this.#applyDurable(rd)
      }
      await synced
    }
    if (rd.hardState !== undefined) this.#hard = rd.hardState
    if (!this.#stopped && rest.length > 0) {
      host.transport.send(rest)
      // Likewise a follower's acknowledgement leaves before the committed entries are applied.
      if (!leading && applied < rd.committedEntries.length) {
        const y = yieldToIo(this.#clock)
        if (y !== undefined) await y
      }
    }
    if (rd.softState !== undefined) host.softStateChanged(rd.softState.lead, rd.softState.state)
    if (rd.snapshot !== undefined) host.restore(rd.snapshot)
    for (let i = applied; i < rd.committedEntries.length; i++) host.apply(rd.committedEntries[i] as Entry)
    host.readStates(rd.readStates)
    host.raw.advance(rd)
    host.maybeSnapshot()
  }

  /**
   * A leader's new commit index that no append carried yet goes out on its own after
   * `commitDelayMs`; a newer commit restarts the wait, so under steady load it never fires.
   */
  #deferCommitBroadcast(): void {
    const pending = this.#host.raw.commitBroadcastPending()
    if (pending === 0 || pending <= this.#commitArmedFor) return
    this.#commitTimer?.cancel()
    this.#commitArmedFor = pending
    this.#commitTimer = this.#clock.setTimeout(() => {
      this.#commitTimer = undefined
      this.#commitArmedFor = 0
      if (this.ended) return
      this.#host.raw.broadcastCommit()
      this.kick()
    }, this.#commitDelayMs)
  }

  /**
   * Applies the leading committed entries of `rd` that are normal entries stored by an earlier
   * Ready; returns how many.
   */
  #applyDurable(rd: Ready): number {
    const firstNew = rd.entries[0]?.index ?? Number.POSITIVE_INFINITY
    let n = 0
    for (const e of rd.committedEntries) {
      if (e.index >= firstNew || e.type !== 'normal') break
      this.#host.apply(e)
      n++
    }
    return n
  }
}
