/**
 * Quorum arithmetic for majority and joint configurations: the committed index and election
 * outcomes.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'

/** The outcome of an election so far. */
export const VoteResult = { pending: 'pending', lost: 'lost', won: 'won' } as const
/** The outcome of an election so far. */
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult]

/**
 * The largest index acknowledged by a majority of `voters`; `ackedIndex` gives each member's
 * acknowledged index (missing means 0). An empty configuration commits everything
 * (`Infinity`), so that a joint configuration with an empty half is decided by the other half.
 */
export function majorityCommitted(voters: ReadonlySet<RaftMemberId>, ackedIndex: (id: RaftMemberId) => number | undefined): number {
  const n = voters.size
  if (n === 0) return Infinity
  const acked: number[] = []
  for (const id of voters) acked.push(ackedIndex(id) ?? 0)
  acked.sort((a, b) => a - b)
  return acked[n - (Math.floor(n / 2) + 1)] as number
}

/** The committed index of a joint configuration: the smaller of both halves. */
export function jointCommitted(
  incoming: ReadonlySet<RaftMemberId>,
  outgoing: ReadonlySet<RaftMemberId>,
  ackedIndex: (id: RaftMemberId) => number | undefined,
): number {
  return Math.min(majorityCommitted(incoming, ackedIndex), majorityCommitted(outgoing, ackedIndex))
}

/** The result of an election among `voters` given the `votes` (true = granted) so far. An empty configuration wins. */
export function majorityVoteResult(voters: ReadonlySet<RaftMemberId>, votes: ReadonlyMap<RaftMemberId, boolean>): VoteResult {
  if (voters.size === 0) return VoteResult.won
  let yes = 0
  let missing = 0
  for (const id of voters) {
    const v = votes.get(id)
    if (v === undefined) missing++
    else if (v) yes++
  }
  const q = Math.floor(voters.size / 2) + 1
  if (yes >= q) return VoteResult.won
  if (yes + missing >= q) return VoteResult.pending
  return VoteResult.lost
}

/** The result of an election in a joint configuration: it needs both halves. */
export function jointVoteResult(
  incoming: ReadonlySet<RaftMemberId>,
  outgoing: ReadonlySet<RaftMemberId>,
  votes: ReadonlyMap<RaftMemberId, boolean>,
): VoteResult {
  const a = majorityVoteResult(incoming, votes)
  const b = majorityVoteResult(outgoing, votes)
  if (a === b) return a
  if (a === VoteResult.lost || b === VoteResult.lost) return VoteResult.lost
  return VoteResult.pending
}
