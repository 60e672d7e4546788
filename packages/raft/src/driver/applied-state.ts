/**
 * The applied state of a {@link RaftNode}: what committed entries and Raft snapshots change on
 * this member, in log order — the application's state machine, the exactly-once proposal
 * sessions, the incarnation bindings, the member address book and the configuration — and the
 * driver's own snapshots of it all (taken every `snapshotInterval` applied entries, keeping
 * `logEntriesForSlowFollowers` entries behind them). Applying an entry also settles the request
 * of this driver that it carries.
 *
 * A state machine with `beginSnapshot` is snapshotted in slices: `maybeSnapshot` captures the
 * applied state at index I (the state machine's capture, and copies of the sessions, members,
 * incarnations and configuration of I), `snapshotSlice` does one slice per call (a step of the
 * state machine's encoding, then 4 MiB of the copy into the driver's envelope), and after the
 * last one the snapshot is stored at I and the log compacted — unless a Raft snapshot was
 * restored meanwhile (or storage holds one at I or later): then it is dropped. One at a time.
 *
 * @internal
 */
import type { ByteAllocator, Logger, RaftMemberId } from '@swarmkit-ts/api'
import { decodeConfChange } from '../core/conf-change-codec.ts'
import type { AnyConfChange, ConfState, Entry, Snapshot } from '../core/types.ts'
import { ProposalDroppedError, ProposalOutcomeUnknownError } from '../errors.ts'
import type { RaftStorageWithLog } from '../storage/storage.ts'
import type { MemberAddressBook } from './member-addresses.ts'
import type { MemberIdentities } from './member-identity.ts'
import { ProposalSessions } from './proposal-sessions.ts'
import { NodeSnapshotWriter, decodeMemberContext, decodeNodeSnapshot, decodeProposals, encodeNodeSnapshot, isIncarnationEntry } from './raft-node-codec.ts'
import type { StateMachine } from './raft-node-types.ts'
import type { RequestWaiters } from './request-waiters.ts'

/** The parts of the driver the applied state updates. */
export interface AppliedStateInit {
  stateMachine: StateMachine
  storage: RaftStorageWithLog
  identity: MemberIdentities
  addresses: MemberAddressBook
  requests: RequestWaiters
  logger: Logger
  /** The core applies a committed membership change and returns the new configuration. */
  applyConfChange: (cc: AnyConfChange) => ConfState
  /** Configuration from storage's initial state. */
  confState: ConfState
  snapshotInterval: number
  logEntriesForSlowFollowers: number
  /** Where snapshot envelopes' arrays come from (`RaftNodeInit.allocBytes`). */
  allocBytes?: ByteAllocator
}

/** Bytes of the state copied into the driver's envelope per slice (after the state machine's slices). */
const ENVELOPE_SLICE_BYTES = 4 * 1024 * 1024

/** A snapshot captured at `index` whose state machine part, then envelope, is still being encoded. */
interface PendingSnapshot {
  readonly index: number
  readonly confState: ConfState
  readonly members: Map<RaftMemberId, string>
  readonly sessions: Map<string, number>
  readonly incarnations: Map<RaftMemberId, bigint>
  readonly state: { step(): Uint8Array | readonly Uint8Array[] | undefined }
  /** Once the state machine's bytes came: the envelope being written around them. */
  envelope?: NodeSnapshotWriter
}

/** What has been applied on this member, and how to apply more. */
export class AppliedState {
  readonly #sm: StateMachine
  readonly #storage: RaftStorageWithLog
  readonly #identity: MemberIdentities
  readonly #addresses: MemberAddressBook
  readonly #requests: RequestWaiters
  readonly #logger: Logger
  readonly #applyConfChange: (cc: AnyConfChange) => ConfState
  readonly #snapshotInterval: number
  readonly #keep: number
  readonly #alloc: ByteAllocator | undefined
  /** Per proposing driver, the last proposal applied (see proposal-sessions.ts). */
  readonly #sessions = new ProposalSessions()
  #confState: ConfState
  #applied = 0
  #snapshotIndex = 0
  /** The snapshot being encoded in slices, if any. */
  #pending: PendingSnapshot | undefined

  constructor(init: AppliedStateInit) {
    this.#sm = init.stateMachine
    this.#storage = init.storage
    this.#identity = init.identity
    this.#addresses = init.addresses
    this.#requests = init.requests
    this.#logger = init.logger
    this.#applyConfChange = init.applyConfChange
    this.#confState = init.confState
    this.#snapshotInterval = init.snapshotInterval
    this.#keep = init.logEntriesForSlowFollowers
    this.#alloc = init.allocBytes
  }

  /** The index of the last applied entry. */
  get applied(): number {
    return this.#applied
  }

  /** Applies one committed entry. */
  apply(e: Entry): void {
    if (e.type === 'conf-change') {
      const cc: AnyConfChange = decodeConfChange(e.data)
      this.#confState = this.#applyConfChange(cc)
      const changes = cc.version === 1 ? [{ type: cc.type, nodeId: cc.nodeId, context: cc.context }] : cc.changes.map((c) => ({ ...c, context: cc.context }))
      let requestId: Uint8Array | undefined
      for (const c of changes) {
        const ctx = c.context.byteLength > 0 ? decodeMemberContext(c.context) : { requestId: new Uint8Array(0), address: '' }
        requestId = ctx.requestId
        this.#addresses.applyChange(c.type, c.nodeId, ctx.address)
      }
      if (requestId !== undefined) this.#requests.settle(requestId, this.#confState)
    } else if (e.data.byteLength > 0 && isIncarnationEntry(e.data)) {
      this.#identity.apply(e.data)
    } else if (e.data.byteLength > 0) {
      for (const p of decodeProposals(e.data)) {
        if (!this.#sessions.firstTime(p.requestId)) {
          // A duplicate (its waiter, if ours, was settled by the first copy) or overtaken.
          this.#requests.settle(p.requestId, undefined, new ProposalDroppedError('overtaken'))
          continue
        }
        // Our own proposal, still awaited: its local handle goes back to the state machine.
        const w = this.#requests.proposalWaiter(p.requestId)
        const result = this.#sm.apply(p.payload, { index: e.index, term: e.term }, w?.local)
        if (w !== undefined) this.#requests.resolveWaiter(w, result)
      }
    }
    this.#applied = e.index
  }

  /** Replaces the whole applied state with a Raft snapshot's (one taken by `maybeSnapshot`, on any member). */
  restore(snap: Snapshot): void {
    const env = decodeNodeSnapshot(snap.data)
    this.#sm.restore(env.state)
    this.#sessions.restore(env.sessions)
    this.#identity.restore(env.incarnations ?? new Map())
    // Our proposals at or below the last sequence number the snapshot applied from this driver
    // are inside it or were overtaken: their waiters will never see the entry. Neither "done"
    // nor "dropped" can be told apart here, so the outcome is unknown.
    const last = this.#sessions.lastApplied(this.#requests.nonce)
    if (last !== undefined) this.#requests.rejectUpTo(last, new ProposalOutcomeUnknownError())
    this.#addresses.restore(env.members)
    this.#confState = snap.metadata.confState
    this.#applied = snap.metadata.index
    this.#snapshotIndex = snap.metadata.index
    if (this.#pending !== undefined) {
      this.#logger.info('raft: snapshot in progress dropped, a newer one was restored', { index: this.#pending.index, restored: snap.metadata.index })
      this.#pending = undefined
    }
  }

  /** Whether a snapshot is being encoded in slices (see `snapshotSlice`). */
  get snapshotInFlight(): boolean {
    return this.#pending !== undefined
  }

  /**
   * When `snapshotInterval` entries were applied since the last snapshot and none is in flight:
   * takes a snapshot and compacts the log — or, with a state machine that has `beginSnapshot`,
   * captures one for `snapshotSlice` to encode.
   */
  maybeSnapshot(): void {
    if (this.#pending !== undefined || this.#snapshotInterval === 0 || this.#applied - this.#snapshotIndex < this.#snapshotInterval) return
    if (this.#sm.beginSnapshot !== undefined) {
      this.#pending = {
        index: this.#applied,
        confState: this.#confState,
        members: this.#addresses.snapshot(),
        sessions: this.#sessions.snapshot(),
        incarnations: new Map(this.#identity.bound),
        state: this.#sm.beginSnapshot(),
      }
      return
    }
    const data = encodeNodeSnapshot({ members: this.#addresses.snapshot(), state: this.#sm.snapshot(), sessions: this.#sessions.snapshot(), incarnations: new Map(this.#identity.bound) }, this.#alloc)
    this.#store(this.#applied, this.#confState, data)
  }

  /**
   * Encodes one slice of the snapshot in flight — a step of the state machine's encoding, then
   * copies of 4 MiB of it into the driver's envelope; after the last, stores it and compacts the
   * log (or drops it when storage already holds a snapshot at its index or later). Returns
   * whether one is still in flight.
   */
  snapshotSlice(): boolean {
    const p = this.#pending
    if (p === undefined) return false
    if (p.envelope === undefined) {
      const state = p.state.step()
      if (state === undefined) return true
      p.envelope = new NodeSnapshotWriter({ members: p.members, state, sessions: p.sessions, incarnations: p.incarnations }, this.#alloc)
      return true
    }
    const data = p.envelope.step(ENVELOPE_SLICE_BYTES)
    if (data === undefined) return true
    this.#pending = undefined
    const held = this.#storage.snapshot().metadata.index
    if (held >= p.index) {
      this.#logger.info('raft: snapshot dropped, storage holds a newer one', { index: p.index, held })
      return false
    }
    this.#store(p.index, p.confState, data)
    return false
  }

  /** Stores a snapshot of the applied state at `index` and compacts the log behind it. */
  #store(index: number, confState: ConfState, data: Uint8Array): void {
    this.#storage.createSnapshot(index, confState, data)
    this.#snapshotIndex = index
    const compactTo = index - this.#keep
    if (compactTo >= this.#storage.firstIndex()) this.#storage.compact(compactTo)
    this.#logger.info('raft: snapshot taken', { index })
  }
}
