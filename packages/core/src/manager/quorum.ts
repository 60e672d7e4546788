/**
 * Quorum-loss protection: whether removing a manager from the Raft group (demotion, removal,
 * leave) keeps enough reachable voters to commit. Pure; the manager feeds it the leader's view of
 * which members it currently reaches.
 *
 * SwarmKit's rule (`raft.Node.CanRemoveMember`): after the removal, the members this leader
 * reaches (itself included) must still be a majority of the remaining members. Removing the last
 * manager is refused too (SwarmKit: "attempting to demote the last manager of the swarm").
 *
 * @module
 */
import type { RaftMemberId } from '@swarmkit-ts/api'

/** A voter as the leader sees it. */
export interface MemberReachability {
  /** The member's Raft id. */
  readonly raftId: RaftMemberId
  /** Whether the leader currently reaches it (an open, answering Raft stream). */
  readonly reachable: boolean
}

/** Why a removal is refused: `quorum` (it would leave fewer reachable voters than a majority) or `last-manager`. */
export type RemovalRefusal = 'quorum' | 'last-manager' | 'not-a-member'

/** The outcome of {@link decideRemoval}. */
export type RemovalDecision =
  | { readonly allowed: true; readonly reachableAfter: number; readonly quorumAfter: number }
  | { readonly allowed: false; readonly reason: RemovalRefusal; readonly reachableAfter: number; readonly quorumAfter: number }

/** The majority of `n` voters. */
export function quorumOf(n: number): number {
  return Math.floor(n / 2) + 1
}

/**
 * Decides whether `removing` may leave the voters `members`, as judged by the member `self`
 * (the leader; always counted reachable, unless it is the one removed).
 *
 * Invariant: when allowed, the remaining members reachable from `self` are at least a majority
 * of the remaining members, and at least one member remains.
 */
export function decideRemoval(members: readonly MemberReachability[], removing: RaftMemberId, self: RaftMemberId): RemovalDecision {
  const remaining = members.filter((m) => m.raftId !== removing)
  const reachableAfter = remaining.filter((m) => m.raftId === self || m.reachable).length
  const quorumAfter = remaining.length === 0 ? 1 : quorumOf(remaining.length)
  if (remaining.length === members.length) return { allowed: false, reason: 'not-a-member', reachableAfter, quorumAfter }
  if (remaining.length === 0) return { allowed: false, reason: 'last-manager', reachableAfter, quorumAfter }
  if (reachableAfter < quorumAfter) return { allowed: false, reason: 'quorum', reachableAfter, quorumAfter }
  return { allowed: true, reachableAfter, quorumAfter }
}
