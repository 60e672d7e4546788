/**
 * Raft consensus for swarmkit-ts: the pure state machine (`RawNode`), the `RaftStorage` contract
 * with memory and file (WAL + snapshots) implementations, the `RaftTransport` contract (its gRPC
 * implementation is in `@swarmkit-ts/raft/grpc`), and the `RaftNode` driver that runs them.
 *
 * @packageDocumentation
 */
export { NONE, MAX_INDEX, EntryType, ConfChangeType, ConfChangeTransition } from './types.ts'
export { isResponseMessage, isLocalMessage, emptyConfState, emptyHardState, emptySnapshot, isEmptySnapshot, hardStateEqual, isEmptyHardState } from './types.ts'
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
} from './types.ts'
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
export { ENTRY_OVERHEAD_BYTES, entrySize, payloadSize } from './entries.ts'
export type { RaftStorage, RaftLog, RaftStorageWithLog, RaftInitialState } from './storage.ts'
export { MemoryRaftStorage } from './memory-storage.ts'
export type { MemoryRaftStorageInit } from './memory-storage.ts'
export { RawNode } from './raw-node.ts'
export type { RawNodeInit, BootstrapPeer } from './raw-node.ts'
export type { Ready, SoftState, RaftStatus, ProgressStatus } from './ready.ts'
export type { ReadState } from './read-only.ts'
export { ReadOnlyOption } from './read-only.ts'
export { RaftRole } from './role.ts'
export { ProgressState } from './progress.ts'
export { encodeConfChange, decodeConfChange, leaveJointConfChange } from './conf-change-codec.ts'
export { toConfChangeV2 } from './conf-change.ts'
// FileRaftStorage: segmented WAL + snapshot files
export { FileRaftStorage, DEFAULT_SEGMENT_BYTES } from './file-storage.ts'
export type { FileRaftStorageInit } from './file-storage.ts'
export type { FileRaftStorageHooks } from './wal-files.ts'
export type { Encrypter } from './encrypter.ts'
export { WalCorruptionError, SnapshotCorruptionError, StorageDecryptionError } from './wal-errors.ts'
export type { MessageOrigin, RaftTransport, RaftTransportHandlers, UndeliverableReason } from './transport.ts'
export { MESSAGE_OVERHEAD_BYTES, MESSAGE_ENTRY_OVERHEAD_BYTES, messageSizeBound, maxEntryDataBytes } from './transport.ts'
// RaftNode: the async driver
export { RaftNode } from './raft-node.ts'
export type { RaftNodeInit, RaftNodeEvents, RaftNodeCallOptions, RaftNodeProposeOptions, RaftPeer, StateMachine } from './raft-node.ts'
export { LeadershipLostError, ProposalOutcomeUnknownError, RaftStoppedError, MemberIdentityError } from './errors.ts'
// The protobuf codec of Raft messages. GrpcRaftTransport is exported by '@swarmkit-ts/raft/grpc'
// (src/grpc.ts), so that this entry never loads @grpc/grpc-js (an optional peer dependency).
export { encodeMessage, decodeMessage } from './message-codec.ts'
