/**
 * The leader's side of the protocol: acknowledgements and commit, proposals, leadership
 * transfer and ReadIndex. Sending appends and heartbeats is in raft-replication.ts.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import { decodeConfChange } from './conf-change-codec.ts'
import { toConfChangeV2 } from './conf-change.ts'
import { ProposalDroppedReason, RaftInvariantError } from '../errors.ts'
import type { ProposalDroppedReason as DropReason } from '../errors.ts'
import { ProgressState } from './progress.ts'
import type { Progress } from './progress.ts'
import { bcastAppend, bcastHeartbeat, bcastNewEntries, maybeSendAppend, sendAppend } from './raft-replication.ts'
import type { RoleContext } from './role-context.ts'
import type { AppRespMessage, Entry, HeartbeatRespMessage, Message, PropMessage, ReadIndexMessage } from './types.ts'
import { NONE } from './types.ts'

/** Handles a message as leader. */
export function stepLeader(r: RoleContext, m: Message): DropReason | undefined {
  switch (m.type) {
    case 'prop':
      return handleProposal(r, m)
    case 'read-index':
      handleReadIndex(r, m)
      return undefined
    default:
      break
  }
  const pr = r.trk.progress.get(m.from)
  if (pr === undefined) return undefined
  switch (m.type) {
    case 'app-resp':
      handleAppResp(r, m, pr)
      break
    case 'heartbeat-resp':
      handleHeartbeatResp(r, m, pr)
      break
    case 'snap-status':
      if (pr.state !== ProgressState.snapshot) break
      if (m.reject) pr.pendingSnapshot = 0
      pr.becomeProbe()
      // On success wait for the follower's append response; on failure wait a heartbeat before retrying.
      pr.msgAppFlowPaused = true
      break
    case 'unreachable':
      // An optimistic append was probably lost: go back to probing.
      if (pr.state === ProgressState.replicate) pr.becomeProbe()
      break
    case 'transfer-leader':
      handleTransferLeader(r, m.from, pr)
      break
    default:
      break
  }
  return undefined
}

function handleProposal(r: RoleContext, m: PropMessage): DropReason | undefined {
  if (m.entries.length === 0) throw new RaftInvariantError('empty proposal')
  if (!r.trk.progress.has(r.id)) return ProposalDroppedReason.notMember
  if (r.leadTransferee !== NONE) return ProposalDroppedReason.transferInProgress
  const ents: Entry[] = []
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i] as Entry
    if (e.type !== 'conf-change') {
      ents.push(e)
      continue
    }
    let cc
    try {
      cc = toConfChangeV2(decodeConfChange(e.data))
    } catch {
      cc = undefined
    }
    const alreadyPending = r.pendingConfIndex > r.log.applied
    const alreadyJoint = r.trk.isJoint()
    const wantsLeaveJoint = cc?.changes.length === 0
    let refused: string | undefined
    if (cc === undefined) refused = 'malformed conf change'
    else if (alreadyPending) refused = 'a previous conf change is not applied yet'
    else if (alreadyJoint && !wantsLeaveJoint) refused = 'must leave the joint config first'
    else if (!alreadyJoint && wantsLeaveJoint) refused = 'not in a joint config'
    if (refused !== undefined) {
      // Keep the log position (callers may be waiting on it) but drop the change.
      r.logger.info('raft: ignoring conf change', { id: r.id, reason: refused })
      ents.push({ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) })
    } else {
      r.pendingConfIndex = r.log.lastIndex() + i + 1
      ents.push(e)
    }
  }
  if (!r.appendEntry(ents)) return ProposalDroppedReason.uncommittedLimit
  bcastAppend(r)
  return undefined
}

function handleAppResp(r: RoleContext, m: AppRespMessage, pr: Progress): void {
  pr.recentActive = true
  if (m.reject) {
    // The follower's hint skips a whole conflicting term per round trip.
    let next = m.rejectHint
    if (m.logTerm > 0) next = r.log.findConflictByTerm(m.rejectHint, m.logTerm).index
    if (pr.maybeDecrTo(m.index, next)) {
      if (pr.state === ProgressState.replicate) pr.becomeProbe()
      sendAppend(r, m.from)
    }
    return
  }
  if (!(pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === ProgressState.probe))) return
  if (pr.state === ProgressState.probe) {
    pr.becomeReplicate()
  } else if (pr.state === ProgressState.snapshot && pr.match + 1 >= r.log.firstIndex()) {
    // The snapshot (or an append) caught the follower up to where the log can continue.
    pr.becomeProbe()
    pr.becomeReplicate()
  } else if (pr.state === ProgressState.replicate) {
    pr.inflights.freeLE(m.index)
  }
  if (r.maybeCommit()) {
    releasePendingReadIndexMessages(r)
    // Deferred: the new commit index goes out with the next append (or at the driver's call).
    if (r.deferCommitBroadcast) bcastNewEntries(r)
    else bcastAppend(r)
  } else if (!r.deferCommitBroadcast && m.from !== r.id && pr.canBumpCommit(r.log.committed)) {
    sendAppend(r, m.from)
  }
  if (m.from !== r.id) {
    // Fill the in-flight window.
    while (maybeSendAppend(r, m.from, false)) {
      /* keep sending */
    }
  }
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.logger.info('raft: transferee caught up, sending timeout-now', { id: r.id, to: m.from })
    sendTimeoutNow(r, m.from)
  }
}

function handleHeartbeatResp(r: RoleContext, m: HeartbeatRespMessage, pr: Progress): void {
  pr.recentActive = true
  pr.msgAppFlowPaused = false
  if (pr.match < r.log.lastIndex() || pr.canBumpCommit(r.log.committed)) sendAppend(r, m.from)
  if (r.lease !== undefined) {
    if (r.lease.ack(m.from, m.context)) releaseLeaseReads(r)
    return
  }
  if (r.readOnly.option !== 'safe' || m.context.byteLength === 0) return
  const acks = r.readOnly.recvAck(m.from, m.context)
  if (acks === undefined) return
  if (r.trk.voteResultFor(acks) !== 'won') return
  for (const rs of r.readOnly.advance(m.context)) respondToReadIndex(r, rs.req, rs.index)
}

function handleTransferLeader(r: RoleContext, transferee: RaftMemberId, pr: Progress): void {
  if (pr.isLearner) {
    r.logger.debug('raft: ignoring leadership transfer to a learner', { id: r.id, to: transferee })
    return
  }
  if (r.leadTransferee !== NONE) {
    if (r.leadTransferee === transferee) return
    r.leadTransferee = NONE
  }
  if (transferee === r.id) return
  // The transfer must finish within one election timeout.
  r.electionElapsed = 0
  r.leadTransferee = transferee
  if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, transferee)
  else sendAppend(r, transferee)
}

/** Tells `to` to campaign at once. Its votes skip the followers' leases, so ours ends here. */
function sendTimeoutNow(r: RoleContext, to: RaftMemberId): void {
  r.lease?.revoke()
  r.send({ type: 'timeout-now', to })
}

function handleReadIndex(r: RoleContext, m: ReadIndexMessage): void {
  if (r.trk.isSingleton(r.id)) {
    respondToReadIndex(r, m, r.log.committed)
    return
  }
  // A new leader does not know the commit index until an entry of its term commits.
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadIndexMessages.push(m)
    return
  }
  sendReadIndexResponse(r, m)
}

function sendReadIndexResponse(r: RoleContext, m: ReadIndexMessage): void {
  const lease = r.lease
  if (lease !== undefined) {
    const cfg = r.trk.config
    if (lease.valid(r.ticks, r.id, cfg.voters, cfg.votersOutgoing)) {
      respondToReadIndex(r, m, r.log.committed)
      return
    }
    // No lease (lapsed, or revoked by a transfer): confirm leadership with a fresh round.
    lease.wait(m, r.log.committed)
    bcastHeartbeat(r)
    return
  }
  r.readOnly.addRequest(r.log.committed, m)
  r.readOnly.recvAck(r.id, m.context)
  bcastHeartbeat(r, m.context)
}

function releaseLeaseReads(r: RoleContext): void {
  const cfg = r.trk.config
  for (const p of r.lease?.release(r.ticks, r.id, cfg.voters, cfg.votersOutgoing) ?? []) respondToReadIndex(r, p.req, p.index)
}

/** Answers pending reads once this leader has committed an entry of its own term. */
export function releasePendingReadIndexMessages(r: RoleContext): void {
  if (r.pendingReadIndexMessages.length === 0 || !r.committedEntryInCurrentTerm()) return
  const pending = r.pendingReadIndexMessages
  r.pendingReadIndexMessages = []
  for (const m of pending) sendReadIndexResponse(r, m)
}

function respondToReadIndex(r: RoleContext, req: ReadIndexMessage, index: number): void {
  if (req.from === NONE || req.from === r.id) {
    r.readStates.push({ index, requestCtx: req.context })
    return
  }
  r.send({ type: 'read-index-resp', to: req.from, index, context: req.context })
  // The follower serves the read once it has applied `index`: with a deferred commit broadcast,
  // tell it the commit index now rather than after the driver's delay.
  const pr = r.deferCommitBroadcast ? r.trk.progress.get(req.from) : undefined
  if (pr?.canBumpCommit(r.log.committed) === true) sendAppend(r, req.from)
}
