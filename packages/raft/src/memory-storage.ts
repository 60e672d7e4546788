/**
 * An in-memory {@link RaftStorage} and {@link RaftLog}: the reference implementation of the
 * storage contract, used by tests and simulations. Nothing survives the process; `sync()`
 * resolves at once.
 */
import { LogCache } from './log-cache.ts'
import type { RaftStorageWithLog } from './storage.ts'
import type { Entry, HardState, Snapshot } from './types.ts'
import { emptyHardState } from './types.ts'

/** Construction options for {@link MemoryRaftStorage}. */
export interface MemoryRaftStorageInit {
  /** Initial hard state. @default term 0, no vote, commit 0 */
  hardState?: HardState
  /** Initial snapshot; the log starts right after it. @default the empty snapshot */
  snapshot?: Snapshot
  /** Entries following the snapshot. @default none */
  entries?: Entry[]
}

/** Raft storage held in memory. */
export class MemoryRaftStorage extends LogCache implements RaftStorageWithLog {
  constructor(init: MemoryRaftStorageInit = {}) {
    super({ compacted: { index: 0, term: 0 }, entries: [], snapshot: undefined, hardState: init.hardState ?? emptyHardState() })
    if (init.snapshot !== undefined) this.applySnapshot(init.snapshot)
    if (init.entries !== undefined) this.append(init.entries)
  }

  sync(): Promise<void> {
    return Promise.resolve()
  }
}
