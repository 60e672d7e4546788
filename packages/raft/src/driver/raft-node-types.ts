/**
 * The public types of the {@link RaftNode} driver: the application's {@link StateMachine}, the
 * events, the construction options (and their validation and defaults) and the per-call options.
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { ByteAllocator, Clock, Logger, Random, RaftMemberId } from '@swarmkit-ts/api'
import type { RawNodeInit } from '../core/raw-node.ts'
import type { RaftRole } from '../core/role.ts'
import type { Message } from '../core/types.ts'
import type { RaftStorageWithLog } from '../storage/storage.ts'
import type { RaftTransport, UndeliverableReason } from '../transport/transport.ts'

/**
 * The application replicated by Raft. Calls come in log order, one at a time, on every member.
 * `apply` must be deterministic: the same entries in the same order give the same state.
 */
export interface StateMachine {
  /**
   * Applies one committed proposal; the return value settles the proposer's `propose` promise.
   * Each proposal is applied at most once: the driver skips a copy of one already applied
   * (a duplicated forward), so `apply` need not deduplicate.
   *
   * `local` is the handle given as `propose(payload, { local })`, passed back only when the
   * entry applied is that very proposal of this driver, still awaited by its caller: never for
   * another member's entries, for a proposal whose caller stopped waiting (aborted, leadership
   * lost), or after a restart (entries replayed from storage). Without it, `payload` is the
   * whole truth; with it, the state machine may use what the handle carries instead of decoding.
   */
  apply(payload: Uint8Array, entry: { index: number; term: number }, local?: object): unknown
  /** Serializes the whole state as of the last applied entry. */
  snapshot(): Uint8Array
  /**
   * Optional: takes the driver's periodic snapshots without holding the event loop for the whole
   * state. When present, the driver calls it instead of `snapshot()` when a snapshot is due, and
   * then calls `step()` of what it returns once per turn of its loop (each turn a timer of the
   * driver's clock of its own, so other work runs in between) until a step returns the bytes.
   *
   * The contract: `beginSnapshot` captures the state as of the last applied entry, synchronously
   * and cheaply (entries applied afterwards must not reach the snapshot); each `step()` does a
   * bounded amount of the encoding and returns `undefined`, or the snapshot's bytes once complete
   * — bytes `restore` accepts, giving the state of the capture (what `snapshot()` returned then).
   * The bytes may come as one array or as consecutive parts (their concatenation is the
   * snapshot): the driver copies parts straight into its own envelope, so a large state is not
   * joined into one array first (for the store, that was a third array the size of the whole
   * store, per snapshot, on top of the parts and the envelope).
   * The driver never has two in flight, and may abandon one at any point (when it restores a
   * snapshot from the leader meanwhile, stops or fails): nothing is called then, and what the
   * capture holds must simply become garbage. Calls stay deterministic: the driver's turns come
   * from its clock and its `Ready`s.
   */
  beginSnapshot?(): { step(): Uint8Array | readonly Uint8Array[] | undefined }
  /** Replaces the whole state with a snapshot produced by `snapshot` (possibly on another member). */
  restore(data: Uint8Array): void
}

/** Events emitted by a {@link RaftNode}. */
export interface RaftNodeEvents {
  /** The known leader changed (`NONE` = unknown). */
  'leader:changed': (leader: RaftMemberId) => void
  /** This member's role changed. */
  'state:changed': (role: RaftRole) => void
  /**
   * The transport gave up on a message for good (see `RaftTransportHandlers.undeliverable`): the
   * driver logged and counted it (see {@link RaftNode.undeliverable}) and told the core, which
   * backs off (an append: the follower is probed again; a forwarded proposal: it is dropped).
   */
  'message:undeliverable': (msg: Message, reason: UndeliverableReason) => void
  /**
   * The driver stopped because storage or the state machine failed, or because this member lost
   * its durable state (`MemberIdentityError`); the node is unusable.
   */
  'node:failed': (err: unknown) => void
  /**
   * A message from `member` was dropped because it came under `incarnation` (0n: none), not the
   * storage incarnation bound to that member: the member lost its durable state and must be
   * removed and added back under a new id (it stops itself with `MemberIdentityError` once it
   * hears from a member that knows). Emitted once per member and incarnation.
   */
  'member:refused': (member: RaftMemberId, incarnation: bigint) => void
}

/** Construction options for {@link RaftNode}. */
export interface RaftNodeInit extends Omit<RawNodeInit, 'storage' | 'random' | 'logger' | 'applied' | 'deferCommitBroadcast'> {
  /** Durable log (e.g. `FileRaftStorage`); the driver writes it, the embedder closes it after `stop()`. */
  storage: RaftStorageWithLog
  transport: RaftTransport
  stateMachine: StateMachine
  /** @default systemClock */
  clock?: Clock
  /** @default cryptoRandom */
  random?: Random
  /** @default silentLogger */
  logger?: Logger
  /** Milliseconds per Raft tick (SwarmKit: 1 s). @default 1000 */
  tickMs?: number
  /**
   * As leader, how long a new commit index may wait for an append to carry it to the followers
   * before it is sent on its own (`RawNodeInit.deferCommitBroadcast`); each newer commit restarts
   * the wait. Under steady load the commit index always rides on the next append, saving each
   * follower an empty append and its acknowledgement per commit; followers apply up to this much
   * later when the cluster goes quiet. 0 sends it at once (etcd's way). @default 0
   */
  commitBroadcastDelayMs?: number
  /** Take a snapshot after this many applied entries; 0 disables automatic snapshots. @default 10000 */
  snapshotInterval?: number
  /**
   * Where the arrays this node holds long come from: the data of the entries it proposes and its
   * snapshot envelopes (`ReplicatedStore` uses it for the store's snapshot too). api's
   * `sharedBytes` keeps them out of the external memory V8 counts toward a full collection — for
   * a simulation holding whole clusters in one growing heap (see its caveat). @default api's `heapBytes`
   */
  allocBytes?: ByteAllocator
  /** Entries kept in the log behind a snapshot for slow followers. @default 500 */
  logEntriesForSlowFollowers?: number
  /**
   * Proposals made in the same turn of the event loop (or while the previous write is in flight)
   * travel as one log entry of at most this many proposals… @default 1024
   */
  maxBatchProposals?: number
  /**
   * …and at most this many payload bytes (a single larger proposal gets an entry of its own).
   * An entry also never exceeds what the transport's `maxMessageBytes` can carry. @default 1 MiB
   */
  maxBatchBytes?: number
  /**
   * The core's largest append (see `RawNodeInit.maxSizePerMsg`). With a transport that declares
   * `maxMessageBytes` it defaults to the smaller of 65535 and the largest value whose appends
   * always fit that limit, and a larger value is refused. @default 65535
   */
  maxSizePerMsg?: number
}

/** Options of a single call. */
export interface RaftNodeCallOptions {
  signal?: AbortSignal
}

/** Options of {@link RaftNode.propose}. */
export interface RaftNodeProposeOptions extends RaftNodeCallOptions {
  /**
   * An opaque handle the state machine gets back as `apply`'s `local` argument when this
   * proposal's entry is applied on this member (see {@link StateMachine.apply}); e.g. the
   * proposer's own decoded form of `payload`, so that the proposing member need not decode it.
   */
  local?: object
}

/** A member of a new cluster. */
export interface RaftPeer {
  id: RaftMemberId
  address: string
}

/** The driver's own options of a {@link RaftNodeInit}, validated, with their defaults. @internal */
export interface DriverOptions {
  tickMs: number
  commitBroadcastDelayMs: number
  snapshotInterval: number
  logEntriesForSlowFollowers: number
  maxBatchProposals: number
  maxBatchBytes: number
}

/**
 * Validates the driver's own options of `init` and fills in their defaults.
 *
 * @throws InvalidArgumentError naming the first option out of range.
 * @internal
 */
export function driverOptions(init: RaftNodeInit): DriverOptions {
  const tickMs = init.tickMs ?? 1000
  if (!Number.isFinite(tickMs) || tickMs <= 0) throw new InvalidArgumentError('tickMs', `must be a positive number, got ${String(tickMs)}`)
  const commitBroadcastDelayMs = init.commitBroadcastDelayMs ?? 0
  if (!Number.isFinite(commitBroadcastDelayMs) || commitBroadcastDelayMs < 0) throw new InvalidArgumentError('commitBroadcastDelayMs', `must be a non-negative number, got ${String(commitBroadcastDelayMs)}`)
  const snapshotInterval = init.snapshotInterval ?? 10_000
  if (!Number.isSafeInteger(snapshotInterval) || snapshotInterval < 0) throw new InvalidArgumentError('snapshotInterval', 'must be a non-negative integer')
  const logEntriesForSlowFollowers = init.logEntriesForSlowFollowers ?? 500
  if (!Number.isSafeInteger(logEntriesForSlowFollowers) || logEntriesForSlowFollowers < 0) throw new InvalidArgumentError('logEntriesForSlowFollowers', 'must be a non-negative integer')
  const maxBatchProposals = init.maxBatchProposals ?? 1024
  if (!Number.isSafeInteger(maxBatchProposals) || maxBatchProposals < 1) throw new InvalidArgumentError('maxBatchProposals', 'must be a positive integer')
  const maxBatchBytes = init.maxBatchBytes ?? 1024 * 1024
  if (!Number.isSafeInteger(maxBatchBytes) || maxBatchBytes < 1) throw new InvalidArgumentError('maxBatchBytes', 'must be a positive integer')
  return { tickMs, commitBroadcastDelayMs, snapshotInterval, logEntriesForSlowFollowers, maxBatchProposals, maxBatchBytes }
}
