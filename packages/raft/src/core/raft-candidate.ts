/**
 * Elections: starting a campaign (pre-vote, election, or one asked for by a leadership
 * transfer), counting votes, and the (pre-)candidate's handling of messages. Granting votes is
 * in `RaftCore.step` (any role may be asked).
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import { ProposalDroppedReason } from '../errors.ts'
import type { ProposalDroppedReason as DropReason } from '../errors.ts'
import { handleAppendEntries, handleHeartbeat, handleSnapshot } from './raft-follower.ts'
import { bcastAppend } from './raft-replication.ts'
import type { CampaignType, RoleContext } from './role-context.ts'
import { RaftRole } from './role.ts'
import type { Message } from './types.ts'
import { NONE } from './types.ts'

/**
 * Starts a campaign of type `t` unless this member leads already, may not campaign (a learner,
 * a snapshot pending), has conf changes committed but not applied, or — except for a transfer —
 * is bound by a leader lease it may have acknowledged.
 */
export function hup(r: RoleContext, t: CampaignType): void {
  if (r.state === RaftRole.leader) return
  if (!r.promotable()) {
    r.logger.debug('raft: not promotable, cannot campaign', { id: r.id })
    return
  }
  if (hasUnappliedConfChanges(r)) {
    r.logger.debug('raft: cannot campaign with unapplied conf changes', { id: r.id })
    return
  }
  if (t !== 'transfer' && r.inLeaderLease()) {
    // Our own vote would break a lease we may have acknowledged (a forced campaign; a timed-out
    // election always comes later). Only the leader may waive it, with timeout-now.
    r.logger.debug('raft: cannot campaign within a leader lease', { id: r.id })
    return
  }
  campaign(r, t)
}

/** Becomes (pre-)candidate, votes for itself and asks every other voter for its vote. */
export function campaign(r: RoleContext, t: CampaignType): void {
  let term: number
  if (t === 'pre-election') {
    r.becomePreCandidate()
    term = r.term + 1
  } else {
    r.becomeCandidate()
    term = r.term
  }
  if (poll(r, r.id, true) === 'won') {
    // Only possible as the sole voter.
    if (t === 'pre-election') campaign(r, 'election')
    else r.becomeLeader()
    return
  }
  const index = r.log.lastIndex()
  const logTerm = r.log.lastTerm()
  for (const id of r.trk.voterIds()) {
    if (id === r.id) continue
    r.send({ type: t === 'pre-election' ? 'pre-vote' : 'vote', to: id, term, index, logTerm, transfer: t === 'transfer' })
  }
}

/** Records `id`'s vote and tallies the election. */
export function poll(r: RoleContext, id: RaftMemberId, granted: boolean): 'won' | 'lost' | 'pending' {
  r.trk.recordVote(id, granted)
  return r.trk.tallyVotes().result
}

function hasUnappliedConfChanges(r: RoleContext): boolean {
  if (r.log.applied >= r.log.committed) return false
  return r.log.slice(r.log.applied + 1, r.log.committed + 1, undefined).some((e) => e.type === 'conf-change')
}

/** Handles a message as candidate or pre-candidate. */
export function stepCandidate(r: RoleContext, m: Message): DropReason | undefined {
  switch (m.type) {
    case 'prop':
    case 'read-index':
    case 'transfer-leader':
      return ProposalDroppedReason.candidate
    case 'app':
      r.becomeFollower(m.term, m.from)
      handleAppendEntries(r, m)
      return undefined
    case 'heartbeat':
      r.becomeFollower(m.term, m.from)
      handleHeartbeat(r, m)
      return undefined
    case 'snapshot':
      r.becomeFollower(m.term, m.from)
      handleSnapshot(r, m)
      return undefined
    case 'vote-resp':
    case 'pre-vote-resp': {
      const mine = r.state === RaftRole.preCandidate ? 'pre-vote-resp' : 'vote-resp'
      if (m.type !== mine) return undefined
      const result = poll(r, m.from, !m.reject)
      if (result === 'won') {
        if (r.state === RaftRole.preCandidate) {
          campaign(r, 'election')
        } else {
          r.becomeLeader()
          bcastAppend(r)
        }
      } else if (result === 'lost') {
        // A rejection at a higher term already made us a follower in `step`.
        r.becomeFollower(r.term, NONE)
      }
      return undefined
    }
    default:
      return undefined
  }
}
