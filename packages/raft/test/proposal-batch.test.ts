import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ProposalBatch } from '../src/driver/proposal-batch.ts'
import type { ProposalBatchLimits } from '../src/driver/proposal-batch.ts'
import { decodeProposals } from '../src/driver/raft-node-codec.ts'
import type { PendingProposal } from '../src/driver/raft-node-codec.ts'
import { batchedProposalBytes } from '../src/driver/raft-node-limits.ts'
import { requestSeq } from '../src/driver/request-waiters.ts'

const NONCE = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])

/**
 * The reference grouping: every proposal's exact batched size counted (what the driver did
 * before it counted with a cheap bound and only exactly near the limit).
 */
function referenceGroups(items: readonly PendingProposal[], aborted: ReadonlySet<number>, limits: ProposalBatchLimits): number[][] {
  const groups: number[][] = []
  let group: number[] = []
  let bytes = 0
  let entryBytes = 0
  for (const p of items) {
    if (aborted.has(p.seq)) continue
    const n = p.payload.byteLength
    const cost = batchedProposalBytes(n)
    if (group.length > 0 && (group.length >= limits.maxBatchProposals || bytes + n > limits.maxBatchBytes || entryBytes + cost > limits.maxEntryBytes)) {
      groups.push(group)
      group = []
      bytes = 0
      entryBytes = 0
    }
    group.push(p.seq)
    bytes += n
    entryBytes += cost
  }
  if (group.length > 0) groups.push(group)
  return groups
}

/** Flushes `items` through a ProposalBatch; returns the sequence numbers of each entry proposed, and the entries. */
function flushGroups(items: readonly PendingProposal[], aborted: ReadonlySet<number>, limits: ProposalBatchLimits): { groups: number[][]; entries: Uint8Array[] } {
  const batch = new ProposalBatch(NONCE, limits)
  for (const p of items) batch.push(p)
  const entries: Uint8Array[] = []
  batch.flush({
    isWaiting: (seq) => !aborted.has(seq),
    propose: (data) => void entries.push(data),
    reject: () => {
      throw new Error('nothing is refused here')
    },
  })
  return { groups: entries.map((data) => decodeProposals(data).map((p) => requestSeq(p.requestId))), entries }
}

describe('ProposalBatch', () => {
  it('groups exactly as counting every proposal exactly would, with and without a transport limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 700 }), { minLength: 1, maxLength: 80 }),
        fc.array(fc.nat({ max: 79 }), { maxLength: 10 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 256, max: 8_000 })),
        (sizes, abortedIdx, maxBatchProposals, maxBatchBytes, maxEntryBytes) => {
          const items = sizes.map((n, seq) => ({ seq, payload: new Uint8Array(n).fill(seq & 0xff) }))
          const aborted = new Set(abortedIdx)
          const limits = { maxBatchProposals, maxBatchBytes, maxEntryBytes }
          const { groups, entries } = flushGroups(items, aborted, limits)
          expect(groups).toEqual(referenceGroups(items, aborted, limits))
          // An entry of several proposals never exceeds the transport limit.
          for (const [i, e] of entries.entries()) if ((groups[i]?.length ?? 0) > 1) expect(e.byteLength).toBeLessThanOrEqual(maxEntryBytes)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('cuts an entry exactly at the transport limit when the cheap bound is above it but the exact size is not', () => {
    // 10-byte payloads: 32 bytes each in a batch (bound: 40). A limit of 320 holds exactly 10;
    // the bound passes it from the 9th proposal on, so the exact count decides.
    const items = Array.from({ length: 25 }, (_, seq) => ({ seq, payload: new Uint8Array(10) }))
    expect(batchedProposalBytes(10)).toBe(32)
    const { groups, entries } = flushGroups(items, new Set(), { maxBatchProposals: 1000, maxBatchBytes: 1 << 20, maxEntryBytes: 320 })
    expect(groups.map((g) => g.length)).toEqual([10, 10, 5])
    expect(entries.map((e) => e.byteLength)).toEqual([320, 320, 160])
  })
})
