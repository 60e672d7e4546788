/**
 * `RaftProposer`: the {@link Proposer} of a store replicated by Raft. It encodes each change set
 * and proposes it on the leader; every member applies it in log order through its
 * {@link StoreStateMachine}, and the leader's `propose` settles with the local apply result.
 *
 * @module
 */
import { NotLeaderError, UnavailableError } from '@swarmkit-ts/api'
import type { RaftMemberId } from '@swarmkit-ts/api'
import { RaftStoppedError } from '@swarmkit-ts/raft'
import { encodeChangeSetOf } from './change-set-codec.ts'
import { isLocalChangeSet } from '../proposer.ts'
import type { ApplyResult, ChangeSet, LocalChangeSet, Proposer } from '../proposer.ts'

/** Raft's "no member" id (`NONE` in @swarmkit-ts/raft). */
const NO_LEADER = 0n

/**
 * What a {@link RaftProposer} needs from a Raft member: the part of `RaftNode` it uses (a
 * `RaftNode` is one). `propose` must settle with what the state machine's `apply` returned for
 * the entry on this member.
 */
export interface ProposalTarget {
  /** Whether this member is the leader now. */
  readonly isLeader: boolean
  /** The known leader (`0n` when unknown). */
  readonly leader: RaftMemberId
  /** Member addresses as recorded in the log. */
  readonly members: ReadonlyMap<RaftMemberId, string>
  /**
   * Proposes an entry; settles once it is applied on this member. `options.local` must reach
   * this member's state machine with the entry (as `RaftNode` does; see `StoreStateMachine`).
   */
  propose(payload: Uint8Array, options?: { readonly local?: object }): Promise<unknown>
}

/**
 * A {@link Proposer} that replicates change sets through Raft.
 *
 * `propose` fails fast on a member that is not the leader, with api's `NotLeaderError` carrying
 * the leader's id and address when known (a follower never forwards: the caller retries on the
 * leader). On the leader it encodes the change set ({@link encodeChangeSet}) and proposes it;
 * the promise resolves with the {@link ApplyResult} of this member's `applyChangeSet` once the
 * entry is applied here.
 *
 * Rejections:
 * - `NotLeaderError`: this member is not the leader, or Raft refused the entry (lost or handing
 *   over leadership, no longer a member; `ProposalDroppedError` as the `cause`). Nothing was
 *   applied.
 * - `UnavailableError`: the leader's budget of uncommitted entries is spent (cause
 *   `ProposalDroppedError`, reason `uncommitted-limit`). Nothing was proposed; retry later.
 * - `InvalidArgumentError`: the change set cannot be encoded. Nothing was proposed.
 * - `LeadershipLostError` (from @swarmkit-ts/raft): leadership changed while the entry was in
 *   flight. **The outcome is unknown**: the entry may still commit under the next leader and then
 *   be applied on every member, this one included. The store never retries it, so a change is
 *   never applied twice; a caller that retries must re-read first (its `meta.version` check
 *   then fails if the first attempt did commit).
 * - `ProposalOutcomeUnknownError` (from @swarmkit-ts/raft): this member was brought up to date by
 *   a Raft snapshot that may already contain the change set. **The outcome is unknown**, as above.
 * - `RaftStoppedError` (from @swarmkit-ts/raft): the member stopped or failed, or no Raft member
 *   is attached yet. The outcome of an entry already proposed is unknown.
 */
export class RaftProposer implements Proposer {
  #target: ProposalTarget | undefined

  /** @param target - the Raft member; or attach it later with {@link RaftProposer.attach}. */
  constructor(target?: ProposalTarget) {
    this.#target = target
  }

  /**
   * Attaches the Raft member to propose through. The store needs its proposer before the
   * `RaftNode` exists (the node needs the store's state machine), hence the late binding.
   */
  attach(target: ProposalTarget): void {
    this.#target = target
  }

  /** The attached Raft member, if any. */
  get target(): ProposalTarget | undefined {
    return this.#target
  }

  /**
   * Encodes `changes` and proposes the bytes. `local` (the store's handle of `changes`) travels
   * with the proposal to this member's `StoreStateMachine`, which then applies `changes` itself
   * instead of decoding the entry — only when the encoding is canonical (decodes back
   * deep-equal), so that this member and the others apply the same objects. See the class
   * documentation for what a rejection means.
   */
  async propose(changes: ChangeSet, local?: LocalChangeSet): Promise<ApplyResult> {
    const target = this.#target
    if (target === undefined) throw new RaftStoppedError('store: no Raft member attached to the proposer')
    if (!target.isLeader) throw notLeader(target)
    const own = local !== undefined && isLocalChangeSet(local, changes)
    const shape = { canonical: false }
    const payload = encodeChangeSetOf(changes, own, shape)
    try {
      return (await target.propose(payload, own && shape.canonical ? { local } : undefined)) as ApplyResult
    } catch (err) {
      throw translate(err, target)
    }
  }
}

/** The `NotLeaderError` for `target`'s current view of the leader. */
export function notLeader(target: ProposalTarget, cause?: unknown): NotLeaderError {
  const leader = target.leader
  // A leader that refused an entry (handing over leadership) does not know its successor yet.
  const known = leader !== NO_LEADER && !target.isLeader
  return new NotLeaderError({
    leaderId: known ? leader : undefined,
    leaderAddr: known ? target.members.get(leader) : undefined,
    cause,
  })
}

/** Maps Raft's "entry refused" to the store's errors; everything else passes through. */
function translate(err: unknown, target: ProposalTarget): unknown {
  if (!(err instanceof Error) || err.name !== 'ProposalDroppedError') return err
  const reason = (err as Error & { reason?: unknown }).reason
  if (reason === 'uncommitted-limit') return new UnavailableError('store: the leader has too many uncommitted changes; retry later', { cause: err })
  return notLeader(target, err)
}
