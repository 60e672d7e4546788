/**
 * Raft consensus for swarmkit-ts: the pure state machine (`RawNode`), the `RaftStorage` contract
 * with memory and file (WAL + snapshots) implementations, the `RaftTransport` contract (its gRPC
 * implementation is in `@swarmkit-ts/raft/grpc`), and the `RaftNode` driver that runs them.
 *
 * @packageDocumentation
 */
export { NONE, MAX_INDEX, EntryType, ConfChangeType, ConfChangeTransition } from './core/types.ts'
export { isResponseMessage, isLocalMessage, emptyConfState, emptyHardState, emptySnapshot, isEmptySnapshot, hardStateEqual, isEmptyHardState } from './core/types.ts'
export type {
  Entry,
  HardState,
  ConfState,
  SnapshotMetadata,
  Snapshot,
  ConfChangeSingle,
  ConfChange,
  ConfChangeV2,
  AnyConfChange,
  AppMessage,
  AppRespMessage,
  VoteMessage,
  PreVoteMessage,
  VoteRespMessage,
  PreVoteRespMessage,
  HeartbeatMessage,
  HeartbeatRespMessage,
  SnapshotMessage,
  TimeoutNowMessage,
  ReadIndexMessage,
  ReadIndexRespMessage,
  TransferLeaderMessage,
  PropMessage,
  UnreachableMessage,
  SnapStatusMessage,
  Message,
  MessageType,
} from './core/types.ts'
export {
  CompactedError,
  EntryUnavailableError,
  SnapshotTemporarilyUnavailableError,
  SnapshotOutOfDateError,
  ProposalDroppedError,
  ProposalDroppedReason,
  ProposalTooLargeError,
  StepLocalMessageError,
  RaftInvariantError,
} from './errors.ts'
export type { RaftErrorOptions } from './errors.ts'
export { ENTRY_OVERHEAD_BYTES, entrySize, payloadSize } from './core/entries.ts'
export type { RaftStorage, RaftLog, RaftStorageWithLog, RaftInitialState, SyncOptions } from './storage/storage.ts'
export { INLINE_SYNC_MAX_BYTES } from './storage/storage.ts'
export { MemoryRaftStorage } from './storage/memory-storage.ts'
export type { MemoryRaftStorageInit } from './storage/memory-storage.ts'
export { RawNode } from './core/raw-node.ts'
export type { RawNodeInit, BootstrapPeer } from './core/raw-node.ts'
export type { Ready, SoftState, RaftStatus, ProgressStatus } from './core/ready.ts'
export type { ReadState } from './core/read-only.ts'
export { ReadOnlyOption } from './core/read-only.ts'
export { RaftRole } from './core/role.ts'
export { ProgressState } from './core/progress.ts'
export { encodeConfChange, decodeConfChange, leaveJointConfChange } from './core/conf-change-codec.ts'
export { toConfChangeV2 } from './core/conf-change.ts'
// FileRaftStorage: segmented WAL + snapshot files
export { FileRaftStorage, DEFAULT_SEGMENT_BYTES } from './storage/file-storage.ts'
export type { FileRaftStorageInit } from './storage/file-storage.ts'
export type { FileRaftStorageHooks } from './storage/wal-files.ts'
export type { Encrypter } from './storage/encrypter.ts'
export { WalCorruptionError, SnapshotCorruptionError, StorageDecryptionError } from './storage/wal-errors.ts'
export type { MessageOrigin, RaftTransport, RaftTransportHandlers, UndeliverableReason } from './transport/transport.ts'
export { MESSAGE_OVERHEAD_BYTES, MESSAGE_ENTRY_OVERHEAD_BYTES, messageSizeBound, maxEntryDataBytes } from './transport/transport.ts'
// RaftNode: the async driver
export { RaftNode } from './driver/raft-node.ts'
export { forceNewCluster } from './driver/force-new-cluster.ts'
export type { ForceNewClusterResult } from './driver/force-new-cluster.ts'
export type { RaftNodeInit, RaftNodeEvents, RaftNodeCallOptions, RaftNodeProposeOptions, RaftPeer, StateMachine } from './driver/raft-node.ts'
export { LeadershipLostError, ProposalOutcomeUnknownError, RaftStoppedError, MemberIdentityError } from './errors.ts'
// The protobuf codec of Raft messages. GrpcRaftTransport is exported by '@swarmkit-ts/raft/grpc'
// (src/grpc.ts), so that this entry never loads @grpc/grpc-js (an optional peer dependency).
export { encodeMessage, decodeMessage } from './transport/message-codec.ts'
export { copyMessage } from './transport/message-copy.ts'
export type { CopyMessageOptions } from './transport/message-copy.ts'
