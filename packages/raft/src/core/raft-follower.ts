/**
 * The follower's side of the protocol: accepting appends, heartbeats and snapshots (a candidate
 * that hears from a leader of its term does the same, see raft-candidate.ts), and forwarding
 * proposals and reads to the leader.
 */
import { ProposalDroppedReason } from '../errors.ts'
import type { ProposalDroppedReason as DropReason } from '../errors.ts'
import { restoreConfig } from './conf-change.ts'
import { RaftRole } from './role.ts'
import type { RoleContext } from './role-context.ts'
import type { AppMessage, HeartbeatMessage, Message, Snapshot, SnapshotMessage } from './types.ts'
import { NONE } from './types.ts'

/** Handles a message as follower. */
export function stepFollower(r: RoleContext, m: Message): DropReason | undefined {
  switch (m.type) {
    case 'prop':
      if (r.lead === NONE) return ProposalDroppedReason.noLeader
      if (r.disableProposalForwarding) return ProposalDroppedReason.forwardingDisabled
      r.send({ ...m, to: r.lead })
      return undefined
    case 'app':
      r.electionElapsed = 0
      r.lead = m.from
      handleAppendEntries(r, m)
      return undefined
    case 'heartbeat':
      r.electionElapsed = 0
      r.lead = m.from
      handleHeartbeat(r, m)
      return undefined
    case 'snapshot':
      r.electionElapsed = 0
      r.lead = m.from
      handleSnapshot(r, m)
      return undefined
    case 'transfer-leader':
      if (r.lead === NONE) return ProposalDroppedReason.noLeader
      r.send({ ...m, to: r.lead })
      return undefined
    case 'timeout-now':
      // The leader asks us to take over: campaign now, without a pre-vote and past any lease.
      r.hup('transfer')
      return undefined
    case 'read-index':
      if (r.lead === NONE) return ProposalDroppedReason.noLeader
      r.send({ ...m, to: r.lead })
      return undefined
    case 'read-index-resp':
      r.readStates.push({ index: m.index, requestCtx: m.context })
      return undefined
    default:
      return undefined
  }
}

/** Accepts (or rejects, with a hint) the leader's entries. */
export function handleAppendEntries(r: RoleContext, m: AppMessage): void {
  r.leaseElapsed = 0
  if (m.index < r.log.committed) {
    // Everything up to our commit index is already known to match.
    r.send({ type: 'app-resp', to: m.from, index: r.log.committed, reject: false, rejectHint: 0, logTerm: 0 })
    return
  }
  const last = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries)
  if (last !== undefined) {
    r.send({ type: 'app-resp', to: m.from, index: last, reject: false, rejectHint: 0, logTerm: 0 })
    return
  }
  // Reject with a hint: the last index where our term is ≤ the leader's term at m.index.
  const hint = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm)
  r.logger.debug('raft: rejected append', { id: r.id, from: m.from, index: m.index, logTerm: m.logTerm, hintIndex: hint.index, hintTerm: hint.term })
  r.send({ type: 'app-resp', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term })
}

/** Takes the leader's commit index, and answers the heartbeat. */
export function handleHeartbeat(r: RoleContext, m: HeartbeatMessage): void {
  r.leaseElapsed = 0
  if (m.commit > r.log.lastIndex()) {
    // The leader caps the commit at what we acknowledged, so we lost entries we had (a wiped or
    // rolled-back log; etcd panics here). Commit nothing, and tell the leader where our log
    // really ends, as a rejected append at that commit index would (see Progress.maybeDecrTo):
    // an idle leader sends no append that we could reject.
    r.logger.warn('raft: the leader believes this member holds entries it does not have; was its log lost?', { id: r.id, commit: m.commit, lastIndex: r.log.lastIndex() })
    r.send({ type: 'app-resp', to: m.from, index: m.commit, reject: true, rejectHint: r.log.lastIndex(), logTerm: r.log.lastTerm() })
  } else {
    r.log.commitTo(m.commit)
  }
  r.send({ type: 'heartbeat-resp', to: m.from, context: m.context })
}

/** Installs the leader's snapshot if it is news, and answers it. */
export function handleSnapshot(r: RoleContext, m: SnapshotMessage): void {
  r.leaseElapsed = 0
  if (restore(r, m.snapshot)) {
    r.logger.info('raft: restored snapshot', { id: r.id, index: m.snapshot.metadata.index, term: m.snapshot.metadata.term })
    r.send({ type: 'app-resp', to: m.from, index: r.log.lastIndex(), reject: false, rejectHint: 0, logTerm: 0 })
  } else {
    r.send({ type: 'app-resp', to: m.from, index: r.log.committed, reject: false, rejectHint: 0, logTerm: 0 })
  }
}

/** Installs a snapshot if it is news; returns whether it was installed. */
function restore(r: RoleContext, s: Snapshot): boolean {
  const { index, term, confState: cs } = s.metadata
  if (index <= r.log.committed) return false
  if (r.state !== RaftRole.follower) {
    // Only a follower of the sender's term can get here; anything else is a bug upstream.
    r.becomeFollower(r.term + 1, NONE)
    return false
  }
  // The snapshot may predate our addition (the leader's latest snapshot was taken before the
  // conf change that added us). Install it anyway: like a freshly started member we then follow
  // without voting until the entry that adds us is applied. Refusing it would leave us unable
  // to ever catch up from a compacted log.
  if (!(cs.voters.includes(r.id) || cs.learners.includes(r.id) || cs.votersOutgoing.includes(r.id))) {
    r.logger.debug('raft: installing a snapshot whose configuration does not include us yet', { id: r.id, index })
  }
  if (r.log.matchTerm(index, term)) {
    // We already have the entry: just fast-forward the commit index.
    r.log.commitTo(index)
    return false
  }
  r.log.restore(s)
  r.switchToConfig(restoreConfig(cs, r.log.lastIndex(), r.trk.maxInflight))
  r.trk.progress.get(r.id)?.maybeUpdate(r.log.lastIndex())
  return true
}
