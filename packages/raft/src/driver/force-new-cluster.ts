/**
 * Force a new cluster: turn the log of one surviving member (or a backup of it) into the log of
 * a one-member group, keeping every committed entry. The way etcd restarts a standalone node:
 *
 * 1. the members at the commit index are the snapshot's configuration plus the membership
 *    changes committed after it;
 * 2. entries after the commit index are discarded (they may never have reached a quorum);
 * 3. one `remove` change per other member (and an `add-voter` for this one if it is not a
 *    member) is appended at the hard state's term and committed by fiat: the hard state's commit
 *    index moves to the last of them.
 *
 * The driver then applies those changes like any committed entry, so the configuration, the
 * member address book and the incarnation bindings all end with this member alone, and it can
 * elect itself. Run it on the storage before constructing the {@link RaftNode}.
 *
 * @module
 */
import { FailedPreconditionError, InvalidArgumentError, isRaftMemberId } from '@swarmkit-ts/api'
import type { RaftMemberId } from '@swarmkit-ts/api'
import { decodeConfChange, encodeConfChange } from '../core/conf-change-codec.ts'
import { entersJoint, isLeaveJoint } from '../core/conf-change.ts'
import type { AnyConfChange, Entry } from '../core/types.ts'
import type { RaftStorageWithLog } from '../storage/storage.ts'
import { encodeMemberContext } from './raft-node-codec.ts'

/** What {@link forceNewCluster} did. */
export interface ForceNewClusterResult {
  /** The members removed (every member at the commit index but this one). */
  readonly removed: readonly RaftMemberId[]
  /** Whether this member had to be added (it was not a member at the commit index). */
  readonly added: boolean
  /** Uncommitted entries discarded. */
  readonly discarded: number
  /** The new commit index (the last entry appended). */
  readonly commit: number
}

/** Members (voters and learners) after applying `cc` to `members`. */
function applyChange(members: Set<RaftMemberId>, cc: AnyConfChange): void {
  const changes = cc.version === 1 ? [{ type: cc.type, nodeId: cc.nodeId }] : cc.changes
  for (const c of changes) {
    if (c.type === 'remove') members.delete(c.nodeId)
    else if (c.type === 'add-voter' || c.type === 'add-learner') members.add(c.nodeId)
  }
}

/**
 * Rewrites `storage` so that `self` is the only member of its group (see the module comment)
 * and waits until the rewrite is durable. `address` is recorded for `self` only when it must be
 * added. A storage whose configuration is joint (a change in flight) is refused.
 *
 * @throws InvalidArgumentError (`self`, `address`); FailedPreconditionError (reason
 *   `empty-log`) when the storage holds no configuration at all (nothing to restore), or
 *   (reason `joint-config`) when the committed configuration is joint.
 */
export async function forceNewCluster(storage: RaftStorageWithLog, self: RaftMemberId, address: string): Promise<ForceNewClusterResult> {
  if (!isRaftMemberId(self)) throw new InvalidArgumentError('self', 'must be a non-zero 64-bit bigint')
  if (typeof address !== 'string' || address === '') throw new InvalidArgumentError('address', 'must be a non-empty address')
  const { hardState, confState } = storage.initialState()
  if (confState.votersOutgoing.length > 0) throw new FailedPreconditionError('raft: the snapshot configuration is joint: cannot force a new cluster', { reason: 'joint-config' })
  const members = new Set<RaftMemberId>([...confState.voters, ...confState.learners])
  const snapIndex = storage.snapshot().metadata.index
  const commit = Math.min(hardState.commit, storage.lastIndex())
  let joint = false
  if (commit > snapIndex) {
    for (const e of storage.entries(snapIndex + 1, commit + 1)) {
      if (e.type !== 'conf-change') continue
      const cc = decodeConfChange(e.data)
      if (cc.version === 2) joint = isLeaveJoint(cc) ? false : joint || entersJoint(cc).joint
      applyChange(members, cc)
    }
  }
  if (joint) throw new FailedPreconditionError('raft: the committed configuration is joint: cannot force a new cluster', { reason: 'joint-config' })
  if (members.size === 0) throw new FailedPreconditionError('raft: the storage holds no configuration: nothing to restore', { reason: 'empty-log' })

  const changes: AnyConfChange[] = []
  const noContext = encodeMemberContext({ requestId: new Uint8Array(0), address: '' })
  const removed = [...members].filter((m) => m !== self).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const added = !members.has(self)
  if (added) changes.push({ version: 1, type: 'add-voter', nodeId: self, context: encodeMemberContext({ requestId: new Uint8Array(0), address }) })
  for (const id of removed) changes.push({ version: 1, type: 'remove', nodeId: id, context: noContext })
  const entries: Entry[] = changes.map((cc, i) => ({ term: hardState.term, index: commit + 1 + i, type: 'conf-change', data: encodeConfChange(cc) }))
  const discarded = storage.lastIndex() - commit
  if (entries.length > 0) storage.append(entries)
  else if (discarded > 0) storage.append([{ term: hardState.term, index: commit + 1, type: 'normal', data: new Uint8Array(0) }])
  const last = storage.lastIndex()
  storage.setHardState({ term: hardState.term, vote: hardState.vote, commit: last })
  await storage.sync()
  return { removed, added, discarded, commit: last }
}
