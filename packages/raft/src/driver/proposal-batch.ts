/**
 * Proposal batching in the {@link RaftNode} driver: proposals made while the loop is busy (or in
 * the same turn of the event loop) wait here and go to the core as few log entries as the limits
 * allow — at most `maxBatchProposals` proposals and `maxBatchBytes` payload bytes per entry, and
 * never more than one transport message can carry (`maxEntryBytes`). Each proposal keeps its own
 * request id inside the entry, so it is still applied, deduplicated and settled on its own.
 *
 * @internal
 */
import type { ByteAllocator } from '@swarmkit-ts/api'
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
  readonly #alloc: ByteAllocator | undefined
  #waiting: PendingProposal[] = []

  /** `nonce`: the driver's request-id nonce, written into every entry; `alloc`: where each entry's array comes from. */
  constructor(nonce: Uint8Array, limits: ProposalBatchLimits, alloc?: ByteAllocator) {
    this.#nonce = nonce
    this.#limits = limits
    this.#alloc = alloc
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
    // Without a transport limit (`maxEntryBytes` infinite) only the batch limits count.
    const sized = maxEntryBytes !== Number.POSITIVE_INFINITY
    let group: PendingProposal[] = []
    let bytes = 0
    // An upper bound of the entry's data bytes if the group is encoded as a batch: payloads plus
    // BATCH_FRAMING_BOUND per proposal. The exact size (`exact`, -1 until needed) is counted only
    // once the bound comes near the limit, and then kept up to date for the rest of the group.
    let bound = 0
    let exact = -1
    for (const p of waiting) {
      // Aborted while waiting: its waiter is gone, and so is the proposal.
      if (!sink.isWaiting(p.seq)) continue
      const n = p.payload.byteLength
      let full = group.length > 0 && (group.length >= maxBatchProposals || bytes + n > maxBatchBytes)
      if (!full && sized && group.length > 0 && bound + n + BATCH_FRAMING_BOUND > maxEntryBytes) {
        if (exact < 0) exact = entryBytesOf(group)
        full = exact + batchedProposalBytes(n) > maxEntryBytes
      }
      if (full) {
        this.#submit(sink, group)
        group = []
        bytes = 0
        bound = 0
        exact = -1
      }
      group.push(p)
      bytes += n
      bound += n + BATCH_FRAMING_BOUND
      if (exact >= 0) exact += batchedProposalBytes(n)
    }
    if (group.length > 0) this.#submit(sink, group)
  }

  /** Hands one group to the core as one entry; rejects its proposals when the core refuses it. */
  #submit(sink: ProposalBatchSink, group: readonly PendingProposal[]): void {
    try {
      sink.propose(encodeDriverBatch(this.#nonce, group, this.#alloc))
    } catch (err) {
      for (const p of group) sink.reject(p.seq, err)
    }
  }
}

/**
 * An upper bound of what one proposal adds to a batch entry besides its payload
 * (`batchedProposalBytes(n) - n`): the request id field and the payload tag (19 bytes), the
 * payload length varint and the field-3 framing (tag and length varint), each varint at most 5
 * bytes for any length below 2^35.
 */
const BATCH_FRAMING_BOUND = 19 + 5 + 1 + 5

/** Data bytes of `group`'s entry when encoded as a batch (counted exactly). */
function entryBytesOf(group: readonly PendingProposal[]): number {
  let entryBytes = 0
  for (const p of group) entryBytes += batchedProposalBytes(p.payload.byteLength)
  return entryBytes
}
