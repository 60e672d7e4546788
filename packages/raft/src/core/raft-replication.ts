/**
 * Replication, as the leader runs it and as a candidate that has just won starts it: appends
 * with flow control (probe, replicate, snapshot), snapshots for followers behind the compacted
 * log, and heartbeats that carry the commit index and ReadIndex rounds.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import { CompactedError, EntryUnavailableError, SnapshotTemporarilyUnavailableError } from '../errors.ts'
import { ProgressState } from './progress.ts'
import type { Progress } from './progress.ts'
import type { RoleContext } from './role-context.ts'
import type { Entry } from './types.ts'
import { isEmptySnapshot } from './types.ts'
import { RaftRole } from './role.ts'

/** Sends appends (or just the commit index) to every other member. */
export function bcastAppend(r: RoleContext): void {
  for (const [id] of r.trk.sortedProgress()) if (id !== r.id) sendAppend(r, id)
}

/**
 * After a commit with `deferCommitBroadcast`: sends the followers only the entries they still
 * need (the new commit index rides along); one with nothing to take is not sent the commit index.
 */
export function bcastNewEntries(r: RoleContext): void {
  for (const [id] of r.trk.sortedProgress()) if (id !== r.id) maybeSendAppend(r, id, false)
}

/** As leader: the commit index when some follower that could take it was not sent it, else 0. */
export function commitBroadcastPending(r: RoleContext): number {
  if (r.state !== RaftRole.leader) return 0
  const commit = r.log.committed
  for (const [id, pr] of r.trk.progress) if (id !== r.id && !pr.isPaused() && pr.canBumpCommit(commit)) return commit
  return 0
}

/** As leader: sends the commit index to every follower that could take it and was not sent it. */
export function bcastCommit(r: RoleContext): void {
  if (r.state !== RaftRole.leader) return
  const commit = r.log.committed
  for (const [id, pr] of r.trk.sortedProgress()) if (id !== r.id && pr.canBumpCommit(commit)) sendAppend(r, id)
}

/** Sends an append to `to`, even an empty one. */
export function sendAppend(r: RoleContext, to: RaftMemberId): void {
  maybeSendAppend(r, to, true)
}

/**
 * Sends the entries `to` needs (a snapshot when they are compacted), unless its progress is
 * paused; with `sendIfEmpty` false, nothing is sent when there are no new entries. Returns
 * whether a message was sent.
 */
export function maybeSendAppend(r: RoleContext, to: RaftMemberId, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to)
  if (pr === undefined || pr.isPaused()) return false
  const prevIndex = pr.next - 1
  let prevTerm: number
  let ents: Entry[] = []
  try {
    prevTerm = r.log.term(prevIndex)
    if (pr.state !== ProgressState.replicate || !pr.inflights.full()) ents = r.log.entries(pr.next, r.maxMsgSize)
  } catch (err) {
    if (err instanceof CompactedError || err instanceof EntryUnavailableError) return maybeSendSnapshot(r, to, pr)
    throw err
  }
  if (ents.length === 0 && !sendIfEmpty) return false
  const commit = r.log.committed
  r.send({ type: 'app', to, index: prevIndex, logTerm: prevTerm, entries: ents, commit })
  pr.sentEntries(ents.length, ents.length > 0 ? (ents[ents.length - 1] as Entry).index : prevIndex)
  pr.sentCommitTo(commit)
  return true
}

/**
 * Sends `to` the snapshot when the entries it needs are gone. When there is none to send yet
 * (storage says it is temporarily unavailable, or holds only the empty snapshot),
 * the follower stays in probe and the next heartbeat response retries: one follower's needs
 * never stop the leader.
 */
function maybeSendSnapshot(r: RoleContext, to: RaftMemberId, pr: Progress): boolean {
  if (!pr.recentActive) {
    r.logger.debug('raft: not sending a snapshot to an inactive member', { id: r.id, to })
    return false
  }
  let snapshot
  try {
    snapshot = r.log.snapshot()
  } catch (err) {
    if (!(err instanceof SnapshotTemporarilyUnavailableError)) throw err
    snapshot = undefined
  }
  if (snapshot === undefined || isEmptySnapshot(snapshot)) {
    r.logger.warn('raft: a follower needs a snapshot that is not available yet; retrying later', { id: r.id, to, next: pr.next })
    if (pr.state === ProgressState.replicate) pr.becomeProbe()
    return false
  }
  pr.becomeSnapshot(snapshot.metadata.index)
  r.logger.debug('raft: sending snapshot', { id: r.id, to, index: snapshot.metadata.index })
  r.send({ type: 'snapshot', to, snapshot })
  return true
}

/** Sends heartbeats to every other member, carrying `ctx` (or the newest pending read's). */
export function bcastHeartbeat(r: RoleContext, ctx?: Uint8Array): void {
  // A lease-based leader numbers every round (see lease.ts).
  const context = r.lease?.nextRound(r.ticks) ?? ctx ?? r.readOnly.lastPendingRequestCtx() ?? new Uint8Array(0)
  for (const [id, pr] of r.trk.sortedProgress()) {
    if (id === r.id) continue
    // Never tell a follower to commit beyond what it is known to have.
    const commit = Math.min(pr.match, r.log.committed)
    r.send({ type: 'heartbeat', to: id, commit, context })
    pr.sentCommitTo(commit)
  }
}
