/**
 * The swarmkit-ts object store: the cluster state in memory, as typed tables with secondary
 * indexes, transactions with optimistic versions and group commit through a {@link Proposer}
 * seam, watches with bounded queues and resume, and snapshots.
 *
 * @packageDocumentation
 */
export { MemoryStore, DEFAULT_WATCH_QUEUE_LIMIT, DEFAULT_HISTORY_LIMIT, DEFAULT_CHANGE_SETS_IN_FLIGHT } from './memory-store.ts'
export type { MemoryStoreInit } from './memory-store.ts'
export type { Proposer, ChangeSet, StoreAction, ApplyResult, TransactionResult, LocalChangeSet } from './proposer.ts'
export type { ReadTx, Tx, TableReader, TableWriter, NewObject, StoredObject, Recipe } from './transaction-types.ts'
export type { Frozen } from './objects/freeze.ts'
export type { Draft } from './objects/draft.ts'
export type { FindBy, CommonFindBy, KindFindBy, ReferenceFindBy } from './indexes.ts'
export type { Batch, BatchResult } from './commit-queue.ts'
export type { Watch, WatchOptions, WatchSelector, WatchEvent, ObjectEvent, CommitEvent } from './watch.ts'
export { WatchQueueOverflowError, HistoryTrimmedError } from './errors.ts'
export { StoreLoop, LOOP_QUEUE_LIMIT } from './store-loop.ts'
export type { StoreLoopHandlers, StoreLoopContext } from './store-loop.ts'
export { TABLE_NAMES, UNIQUE_NAME_KINDS, MAX_CHANGE_SET_ACTIONS, MAX_CHANGE_SET_BYTES } from './kinds.ts'
export type { TableName } from './kinds.ts'
export { SNAPSHOT_FORMAT } from './snapshot.ts'
export { encodeChangeSet, decodeChangeSet } from './replication/change-set-codec.ts'
export { RaftProposer } from './replication/raft-proposer.ts'
export type { ProposalTarget } from './replication/raft-proposer.ts'
export { StoreStateMachine } from './replication/store-state-machine.ts'
export type { ReplicableStore } from './replication/store-state-machine.ts'
export { ReplicatedStore, createReplicatedStore } from './replication/replicated-store.ts'
export type { ReplicatedStoreInit, ReplicatedMemoryStoreInit, ReplicatedRaftInit } from './replication/replicated-store.ts'
