/**
 * `ReplicatedStore`: a store and the `RaftNode` that replicates it, wired together on one manager.
 *
 * @module
 */
import type { NotLeaderError, RaftMemberId } from '@swarmkit-ts/api'
import { RaftNode } from '@swarmkit-ts/raft'
import type { RaftNodeInit, RaftPeer } from '@swarmkit-ts/raft'
import { MemoryStore } from '../memory-store.ts'
import type { MemoryStoreInit } from '../memory-store.ts'
import type { Proposer } from '../proposer.ts'
import { RaftProposer, notLeader } from './raft-proposer.ts'
import { StoreStateMachine } from './store-state-machine.ts'
import type { ReplicableStore } from './store-state-machine.ts'

/** The `RaftNode` options a {@link ReplicatedStore} takes (it sets the state machine and the batching). */
export type ReplicatedRaftInit = Omit<RaftNodeInit, 'stateMachine' | 'maxBatchProposals' | 'maxBatchBytes'>

/** Construction options of a {@link ReplicatedStore}. */
export interface ReplicatedStoreInit<S extends ReplicableStore> {
  /**
   * The Raft member (storage, transport, clock, …). The store supplies the state machine, and
   * every proposal gets a log entry of its own (`maxBatchProposals` 1): a store version is a log
   * index, so two change sets must never share one. (The store batches itself: group commit.)
   */
  raft: ReplicatedRaftInit
  /**
   * Creates the store with the given proposer, e.g.
   * `(proposer) => new MemoryStore({ proposer, clock })`. It must return a new, empty store:
   * `RaftNode` restores the latest Raft snapshot into it and applies the log after it.
   */
  createStore(proposer: Proposer): S
}

/**
 * One manager's replicated store: a store whose writes go through a {@link RaftProposer} and a
 * `RaftNode` whose state machine is a {@link StoreStateMachine} over that store.
 *
 * Writes (`store.update`, `store.batch`) succeed only on the leader; on another member they fail
 * fast with api's `NotLeaderError` carrying the leader's address when known. A change is visible
 * in a member's store once that member has applied it: on the leader when the write's promise
 * settles, on a follower a little later (use `raft.linearizableRead()` before a read that must
 * see every acknowledged write). See {@link RaftProposer} for what each rejection means — in
 * particular, a write in flight when leadership changes rejects with `LeadershipLostError` and
 * its outcome is unknown.
 *
 * ```ts
 * const member = new ReplicatedStore({
 *   raft: { id, storage, transport, clock },
 *   createStore: (proposer) => new MemoryStore({ proposer, clock }),
 * })
 * member.bootstrap(peers) // a new cluster only; a restart recovers from storage
 * await member.start()
 * ```
 */
export class ReplicatedStore<S extends ReplicableStore> {
  /** This manager's store. Read it anywhere; write it on the leader. */
  readonly store: S
  /** The Raft member replicating the store (leadership, membership, linearizable reads). */
  readonly raft: RaftNode
  /** The proposer the store writes through. */
  readonly proposer: RaftProposer
  /** The state machine Raft applies entries to. */
  readonly stateMachine: StoreStateMachine

  /**
   * Creates the store, then the Raft member, which restores the store from its storage's latest
   * snapshot (the log after it is applied once the member starts).
   *
   * @throws InvalidArgumentError from `RaftNode` for bad Raft options.
   */
  constructor(init: ReplicatedStoreInit<S>) {
    // The leader applies the change sets it proposed without decoding them: the store's
    // LocalChangeSet travels through RaftNode.propose back to StoreStateMachine.apply.
    this.proposer = new RaftProposer()
    this.store = init.createStore(this.proposer)
    this.stateMachine = new StoreStateMachine(this.store, init.raft.allocBytes === undefined ? {} : { snapshotAlloc: init.raft.allocBytes })
    this.raft = new RaftNode({ ...init.raft, maxBatchProposals: 1, stateMachine: this.stateMachine })
    this.proposer.attach(this.raft)
  }

  /** Creates a new cluster with `peers` as its voters (include this member); empty storage only. */
  bootstrap(peers: readonly RaftPeer[]): void {
    this.raft.bootstrap(peers)
  }

  /** Starts the Raft member. */
  start(): Promise<void> {
    return this.raft.start()
  }

  /** Stops the Raft member; writes still pending reject with `RaftStoppedError`. */
  stop(): Promise<void> {
    return this.raft.stop()
  }

  /** Whether this manager is the leader (accepts writes). */
  get isLeader(): boolean {
    return this.raft.isLeader
  }

  /** The known leader's Raft member id (`0n` when unknown). */
  get leader(): RaftMemberId {
    return this.raft.leader
  }

  /** The known leader's address, when known. */
  get leaderAddress(): string | undefined {
    const leader = this.raft.leader
    return leader === 0n ? undefined : this.raft.members.get(leader)
  }

  /**
   * The error a write on this manager gets now: `undefined` on the leader, else the
   * `NotLeaderError` naming the leader (for a control API that forwards writes).
   */
  notLeaderError(): NotLeaderError | undefined {
    return this.raft.isLeader ? undefined : notLeader(this.raft)
  }
}

/** Construction options of {@link createReplicatedStore}. */
export interface ReplicatedMemoryStoreInit {
  /** The Raft member (storage, transport, clock, …); see {@link ReplicatedStoreInit.raft}. */
  raft: ReplicatedRaftInit
  /**
   * Options of the `MemoryStore` (its proposer is the Raft one and it starts empty at version 0).
   * The store's clock defaults to the Raft member's clock.
   */
  store?: Omit<MemoryStoreInit, 'proposer' | 'version'>
}

/**
 * A {@link ReplicatedStore} over a new `MemoryStore`: the usual way to run one manager's store.
 *
 * ```ts
 * const member = createReplicatedStore({ raft: { id, storage, transport, clock } })
 * member.bootstrap(peers) // a new cluster only
 * await member.start()
 * await member.store.update((tx) => tx.services.create(service)) // on the leader
 * ```
 *
 * @throws InvalidArgumentError for bad Raft or store options (field named).
 */
export function createReplicatedStore(init: ReplicatedMemoryStoreInit): ReplicatedStore<MemoryStore> {
  const clock = init.store?.clock ?? init.raft.clock
  return new ReplicatedStore({
    raft: init.raft,
    createStore: (proposer) => new MemoryStore({ ...init.store, ...(clock === undefined ? {} : { clock }), proposer }),
  })
}
