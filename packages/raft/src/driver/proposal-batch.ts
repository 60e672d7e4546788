/**
 * Proposal batching in the {@link RaftNode} driver: proposals made while the loop is busy (or in
 * the same turn of the event loop) wait here and go to the core as few log entries as the limits
 * allow — at most `maxBatchProposals` proposals and `maxBatchBytes` payload bytes per entry, and
 * never more than one transport message can carry (`maxEntryBytes`). Each proposal keeps its own
 * request id inside the entry, so it is still applied, deduplicated and settled on its own.
 *
 * @internal
 */
import type { PendingProposal } from './raft-node-codec.ts'
import { encodeDriverBatch } from './raft-node-codec.ts'
import { batchedProposalBytes } from './raft-node-limits.ts'

/** The limits of one batch entry. */
export interface ProposalBatchLimits {
  maxBatchProposals: number
  maxBatchBytes: number
  /** The largest entry data the transport can carry (see `DriverLimits.maxEntryBytes`). */
  maxEntryBytes: number
}

/** What a flush needs from the driver. */
export interface ProposalBatchSink {
  /** Whether proposal `seq` is still awaited (an aborted one is left out). */
  isWaiting(seq: number): boolean
  /** Hands one entry's data to the core; throws when the core refuses it. */
  propose(data: Uint8Array): void
  /** Rejects proposal `seq` (its entry was refused). */
  reject(seq: number, err: unknown): void
}

/** The proposals of one driver waiting for the loop. */
export class ProposalBatch {
  readonly #nonce: Uint8Array
  readonly #limits: ProposalBatchLimits
  #waiting: PendingProposal[] = []

  /** `nonce`: the driver's request-id nonce, written into every entry. */
  constructor(nonce: Uint8Array, limits: ProposalBatchLimits) {
    this.#nonce = nonce
    this.#limits = limits
  }

  /** Queues a proposal for the next flush. */
  push(p: PendingProposal): void {
    this.#waiting.push(p)
  }

  /** Forgets every queued proposal (their waiters are rejected by the caller). */
  clear(): void {
    this.#waiting = []
  }

  /** Hands the waiting proposals to the core through `sink`, as few entries as the limits allow. */
  flush(sink: ProposalBatchSink): void {
    if (this.#waiting.length === 0) return
    const waiting = this.#waiting
    this.#waiting = []
    const { maxBatchProposals, maxBatchBytes, maxEntryBytes } = this.#limits
    let group: PendingProposal[] = []
    let bytes = 0
    // Bytes of the entry's data if the group is encoded as a batch (an upper bound for one).
    let entryBytes = 0
    const submit = (): void => {
      if (group.length === 0) return
      const mine = group
      group = []
      bytes = 0
      entryBytes = 0
      try {
        sink.propose(encodeDriverBatch(this.#nonce, mine))
      } catch (err) {
        for (const p of mine) sink.reject(p.seq, err)
      }
    }
    for (const p of waiting) {
      // Aborted while waiting: its waiter is gone, and so is the proposal.
      if (!sink.isWaiting(p.seq)) continue
      const cost = batchedProposalBytes(p.payload.byteLength)
      if (group.length >= maxBatchProposals || (group.length > 0 && (bytes + p.payload.byteLength > maxBatchBytes || entryBytes + cost > maxEntryBytes))) submit()
      group.push(p)
      bytes += p.payload.byteLength
      entryBytes += cost
    }
    submit()
  }
}
