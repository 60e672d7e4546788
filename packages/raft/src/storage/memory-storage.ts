/**
 * An in-memory {@link RaftStorage} and {@link RaftLog}: the reference implementation of the
 * storage contract, used by tests and simulations. Nothing survives the process; `sync()`
 * resolves at once.
 */
import { cryptoRandom, type Random } from '@swarmkit-ts/api'
import { LogCache } from './log-cache.ts'
import { assertIncarnation, drawIncarnation } from './storage-identity.ts'
import type { RaftInitialState, RaftStorageWithLog, SyncOptions } from './storage.ts'
import type { Entry, HardState, Snapshot } from '../core/types.ts'
import { emptyHardState } from '../core/types.ts'

/** Construction options for {@link MemoryRaftStorage}. */
export interface MemoryRaftStorageInit {
  /** Initial hard state. @default term 0, no vote, commit 0 */
  hardState?: HardState
  /** Initial snapshot; the log starts right after it. @default the empty snapshot */
  snapshot?: Snapshot
  /** Entries following the snapshot. @default none */
  entries?: Entry[]
  /**
   * The storage's incarnation (see `RaftStorage`), a bigint in `[1, 2^64)`. Give the same one to
   * a storage that stands for the same disk after a simulated restart. @default drawn from
   * `random` when given; else, for a storage created empty (a new disk), drawn from the api's
   * `cryptoRandom`; a storage created with a hard state, snapshot or entries and neither option
   * has none. `null`: none (no protection against a member that lost its state; for tests of
   * what happens without it)
   */
  incarnation?: bigint | null
  /** Draws the incarnation when `incarnation` is not given. */
  random?: Random
}

/** Raft storage held in memory. */
export class MemoryRaftStorage extends LogCache implements RaftStorageWithLog {
  /** This storage's incarnation, or `0n` when it has none. */
  readonly incarnation: bigint

  /** @throws InvalidArgumentError (api) naming `incarnation` when it is not in `[1, 2^64)`. */
  constructor(init: MemoryRaftStorageInit = {}) {
    super({ compacted: { index: 0, term: 0 }, entries: [], snapshot: undefined, hardState: init.hardState ?? emptyHardState() })
    const empty = init.hardState === undefined && init.snapshot === undefined && init.entries === undefined
    this.incarnation =
      init.incarnation === null ? 0n
      : init.incarnation !== undefined ? assertIncarnation(init.incarnation, 'incarnation')
      : init.random !== undefined ? drawIncarnation(init.random)
      : empty ? drawIncarnation(cryptoRandom)
      : 0n
    if (init.snapshot !== undefined) this.applySnapshot(init.snapshot)
    if (init.entries !== undefined) this.append(init.entries)
  }

  override initialState(): RaftInitialState {
    const st: RaftInitialState = super.initialState()
    if (this.incarnation !== 0n) st.incarnation = this.incarnation
    return st
  }

  /** Nothing to make durable; `options` (a hint) changes nothing. */
  sync(_options?: SyncOptions): Promise<void> {
    return Promise.resolve()
  }
}
