/**
 * The active configuration and every member's {@link Progress}, plus the votes of the current
 * election.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import type { Progress } from './progress.ts'
import { jointCommitted, jointVoteResult } from './quorum.ts'
import type { VoteResult } from './quorum.ts'
import type { ConfState } from './types.ts'

/** Orders member ids ascending (for deterministic iteration and output). */
export function compareIds(a: RaftMemberId, b: RaftMemberId): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Sorted copy of a set of ids. */
export function sortedIds(ids: Iterable<RaftMemberId>): RaftMemberId[] {
  return [...ids].sort(compareIds)
}

/** A (possibly joint) configuration. */
export interface TrackerConfig {
  /** Voters of the incoming (or only) configuration. */
  voters: Set<RaftMemberId>
  /** Voters of the outgoing configuration; empty unless joint. */
  votersOutgoing: Set<RaftMemberId>
  /** Learners. */
  learners: Set<RaftMemberId>
  /** Outgoing voters that become learners when the joint configuration is left. */
  learnersNext: Set<RaftMemberId>
  /** Leave the joint configuration automatically. */
  autoLeave: boolean
}

/** An empty configuration. */
export function emptyTrackerConfig(): TrackerConfig {
  return { voters: new Set(), votersOutgoing: new Set(), learners: new Set(), learnersNext: new Set(), autoLeave: false }
}

/** A deep copy of a configuration. */
export function cloneTrackerConfig(c: TrackerConfig): TrackerConfig {
  return {
    voters: new Set(c.voters),
    votersOutgoing: new Set(c.votersOutgoing),
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
    autoLeave: c.autoLeave,
  }
}

/** Configuration, progress and votes. */
export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig()
  progress = new Map<RaftMemberId, Progress>()
  votes = new Map<RaftMemberId, boolean>()
  readonly maxInflight: number

  constructor(maxInflight: number) {
    this.maxInflight = maxInflight
  }

  /** Whether the configuration is joint. */
  isJoint(): boolean {
    return this.config.votersOutgoing.size > 0
  }

  /** The configuration as a {@link ConfState} (sorted ids). */
  confState(): ConfState {
    return {
      voters: sortedIds(this.config.voters),
      learners: sortedIds(this.config.learners),
      votersOutgoing: sortedIds(this.config.votersOutgoing),
      learnersNext: sortedIds(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    }
  }

  /** Whether `id` votes in either half of the configuration. */
  isVoter(id: RaftMemberId): boolean {
    return this.config.voters.has(id) || this.config.votersOutgoing.has(id)
  }

  /** All voters of both halves, sorted. */
  voterIds(): RaftMemberId[] {
    return sortedIds(new Set([...this.config.voters, ...this.config.votersOutgoing]))
  }

  /** Whether there is exactly one voter and it is `id`. */
  isSingleton(id: RaftMemberId): boolean {
    const v = this.voterIds()
    return v.length === 1 && v[0] === id
  }

  /** Members with progress, in id order. */
  sortedProgress(): Array<[RaftMemberId, Progress]> {
    // Called on every broadcast: reuse the sorted ids while the membership is unchanged.
    const p = this.progress
    let ids = this.#sortedIds
    if (ids.length !== p.size || !ids.every((id) => p.has(id))) {
      ids = [...p.keys()].sort(compareIds)
      this.#sortedIds = ids
    }
    return ids.map((id) => [id, p.get(id) as Progress])
  }
  #sortedIds: RaftMemberId[] = []

  /** The largest index replicated on a quorum (of both halves when joint). */
  committed(): number {
    return jointCommitted(this.config.voters, this.config.votersOutgoing, (id) => this.progress.get(id)?.match)
  }

  /** Forgets the votes of the last election. */
  resetVotes(): void {
    this.votes = new Map()
  }

  /** Records `id`'s vote (only its first one counts). */
  recordVote(id: RaftMemberId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted)
  }

  /** Counts the votes: granted and rejected among voters, and the outcome. */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0
    let rejected = 0
    for (const id of this.voterIds()) {
      const v = this.votes.get(id)
      if (v === true) granted++
      else if (v === false) rejected++
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.config.votersOutgoing, this.votes) }
  }

  /** The election outcome for a set of votes under the current configuration. */
  voteResultFor(votes: ReadonlyMap<RaftMemberId, boolean>): VoteResult {
    return jointVoteResult(this.config.voters, this.config.votersOutgoing, votes)
  }

  /** Whether a quorum of voters was recently active (the leader counts itself active). */
  quorumActive(self: RaftMemberId): boolean {
    const votes = new Map<RaftMemberId, boolean>()
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue
      votes.set(id, id === self || pr.recentActive)
    }
    return jointVoteResult(this.config.voters, this.config.votersOutgoing, votes) === 'won'
  }
}
