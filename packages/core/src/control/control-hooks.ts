/**
 * What the manager (the `Cluster`'s manager part) supplies to `StoreControlApi`: Raft membership
 * checks and the unlock key. Both are seams so the control API stays a pure set of store writes.
 *
 * @module
 */
import type { Node } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'

/**
 * Raft membership, consulted BEFORE a role change or removal is committed to the store. A hook
 * refuses by throwing a typed error (`FailedPreconditionError` with reason `quorum` when the
 * change would leave the managers without quorum); it should not change anything itself: the
 * committed `spec.desiredRole` (or the deletion) is what the manager's role reconciler acts on.
 */
export interface MembershipHooks {
  /** Called before node `node`'s desired role becomes `manager`. */
  promote(node: Frozen<Node>): Promise<void>
  /** Called before node `node`'s desired role becomes `worker`; refuse when quorum would be lost. */
  demote(node: Frozen<Node>): Promise<void>
  /**
   * Called before node `node` (role worker, desired role worker) is deleted from the store:
   * refuse while it is still a Raft member (its demotion not yet reconciled).
   */
  remove(node: Frozen<Node>): Promise<void>
  /**
   * Whether node `node` is a member of the Raft group now. A manager's Node that is not (its
   * member removed by a forced new cluster, say) may be removed without a demotion, as in
   * SwarmKit. @default every manager counts as a member
   */
  isRaftMember?(node: Frozen<Node>): boolean
}

/** The managers' unlock key (autolock), held by the manager's key store. */
export interface KeyHooks {
  /** The current unlock key (`SWMKEY-1-…`), or undefined when autolock is off. */
  unlockKey(): Promise<string | undefined>
  /**
   * Makes a new unlock key, re-wraps the managers' key-encryption key with it, and returns it.
   * `FailedPreconditionError` reason `autolock-off` when autolock is off.
   */
  rotateUnlockKey(): Promise<string>
}
