/**
 * The network surface the simulation drives: endpoints that are {@link RaftTransport}s, and the
 * nemesis controls (partitions, one-way blocks, loss, duplication, reordering, healing).
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import type { RaftTransport } from '../../src/index.ts'

/** Random message faults, applied to each message independently (the schedule's terms). */
export interface LinkFaults {
  /** Percent of messages dropped (0–100). */
  dropPercent: number
  /** Percent of messages delivered twice (0–100). */
  duplicatePercent: number
  /** Extra delivery delay drawn in `[0, maxJitterMs]`: messages overtake each other. */
  maxJitterMs: number
}

/** No faults. */
export const NO_FAULTS: LinkFaults = { dropPercent: 0, duplicatePercent: 0, maxJitterMs: 0 }

/** What the simulation needs from a network. */
export interface SimNetwork {
  /** A fresh endpoint for `id` (one per process incarnation). */
  endpoint(id: RaftMemberId): RaftTransport
  /** Drops every message between members on different sides (members not listed form one more side). */
  partition(sides: readonly (readonly RaftMemberId[])[]): void
  /** Drops messages from `from` to `to` (one way). */
  block(from: RaftMemberId, to: RaftMemberId): void
  /** Removes every partition and block. */
  heal(): void
  /** Sets the random faults of every link. */
  setFaults(faults: LinkFaults): void
}
