/**
 * A simulated disk for the Raft simulation: a {@link RaftStorageWithLog} that keeps every write
 * in an operation log and tells apart what is durable (covered by a completed `sync()`) from
 * what sits in the page cache. `crash()` loses the page cache — optionally keeping a torn tail,
 * a random prefix of it — and returns the disk a restarted process would find.
 *
 * Durability only moves forward in clock time: a `sync()` completes after a (seeded) delay on the
 * simulation's clock, so a crash can land between a write and its barrier.
 */
import type { Clock, Random } from '@swarmkit-ts/api'
import { MemoryRaftStorage } from '../../src/index.ts'
import type { ConfState, Entry, HardState, RaftInitialState, RaftStorageWithLog, Snapshot } from '../../src/index.ts'

/** One write, as recorded by the disk. */
export type DiskOp =
  | { readonly kind: 'append'; readonly entries: readonly Entry[] }
  | { readonly kind: 'hard-state'; readonly hs: HardState }
  | { readonly kind: 'apply-snapshot'; readonly snap: Snapshot }
  | { readonly kind: 'create-snapshot'; readonly index: number; readonly confState: ConfState; readonly data: Uint8Array }
  | { readonly kind: 'compact'; readonly index: number }

/**
 * Deliberate bugs, to show that the simulation catches them:
 * - `ack-before-durable`: `sync()` resolves at once, the data becomes durable only later (an
 *   fsync that lies for a while — a crash in between loses acknowledged writes);
 * - `forget-synced-tail`: a crash also loses the last synced batch.
 */
export type DiskFault = 'none' | 'ack-before-durable' | 'forget-synced-tail'

/** What a disk reports to the simulation's checkers. */
export interface DiskObserver {
  /** Entries were written (not yet durable); `prevTerm` is the term of the entry before them. */
  appended?(entries: readonly Entry[], prevTerm: number): void
  /** Writes up to a barrier became durable. */
  synced?(disk: SimDisk): void
}

/** Construction options for {@link SimDisk}. */
export interface SimDiskInit {
  clock: Clock
  /** Draws sync latencies and torn tails. */
  random: Random
  /** Largest sync latency in ms (uniform in `[0, maxSyncDelayMs]`). @default 2 */
  maxSyncDelayMs?: number
  fault?: DiskFault
  observer?: DiskObserver
  /** A torn tail never ends between an applied snapshot and the hard state written after it. @default false */
  atomicSnapshotWrites?: boolean
  /** The disk's storage incarnation, kept across crashes (the disk is the same). @default none */
  incarnation?: bigint
}

function replay(store: MemoryRaftStorage, op: DiskOp): void {
  switch (op.kind) {
    case 'append':
      store.append(op.entries)
      break
    case 'hard-state':
      store.setHardState(op.hs)
      break
    case 'apply-snapshot':
      store.applySnapshot(op.snap)
      break
    case 'create-snapshot':
      store.createSnapshot(op.index, op.confState, op.data)
      break
    case 'compact':
      store.compact(op.index)
      break
  }
}

/** Thrown by a disk used after its process crashed. */
export class DiskCrashedError extends Error {
  override readonly name = 'DiskCrashedError'
}

/** A simulated disk: reads see every write; {@link SimDisk.durable} holds what survives a crash. */
export class SimDisk implements RaftStorageWithLog {
  /** Everything written, durable or not (what the running process reads). */
  readonly live = new MemoryRaftStorage()
  /** What is on stable storage. */
  readonly durable = new MemoryRaftStorage()
  readonly #init: SimDiskInit
  /** Every write since the disk was (re)opened; `#durableOps` of them are durable. */
  readonly #ops: DiskOp[]
  #durableOps: number
  /** Where the last completed barrier ended before the one before it (for `forget-synced-tail`). */
  #previousBarrier: number
  #crashed = false
  /** Number of completed barriers (for tests). */
  syncs = 0

  /** A disk holding `ops` (all durable): empty for a new member, the survivors after a crash. */
  constructor(init: SimDiskInit, ops: readonly DiskOp[] = []) {
    this.#init = init
    this.#ops = [...ops]
    for (const op of ops) {
      replay(this.live, op)
      replay(this.durable, op)
    }
    this.#durableOps = ops.length
    this.#previousBarrier = ops.length
  }

  /** Whether the process owning this disk crashed (the disk then refuses writes). */
  get crashed(): boolean {
    return this.#crashed
  }

  /** Writes not yet covered by a completed barrier. */
  get unsyncedOps(): number {
    return this.#ops.length - this.#durableOps
  }

  // ---- RaftStorage (reads see everything written) ----

  initialState(): RaftInitialState {
    const st: RaftInitialState = this.live.initialState()
    if (this.#init.incarnation !== undefined) st.incarnation = this.#init.incarnation
    return st
  }
  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    return this.live.entries(lo, hi, maxBytes)
  }
  term(i: number): number {
    return this.live.term(i)
  }
  firstIndex(): number {
    return this.live.firstIndex()
  }
  lastIndex(): number {
    return this.live.lastIndex()
  }
  snapshot(): Snapshot {
    return this.live.snapshot()
  }

  // ---- RaftLog (writes go to the page cache) ----

  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return
    this.#alive()
    const first = (entries[0] as Entry).index
    const prevTerm = first - 1 >= this.live.firstIndex() - 1 && first - 1 <= this.live.lastIndex() ? this.live.term(first - 1) : -1
    this.live.append(entries)
    this.#ops.push({ kind: 'append', entries: [...entries] })
    this.#init.observer?.appended?.(entries, prevTerm)
  }

  setHardState(hs: HardState): void {
    this.#alive()
    this.live.setHardState(hs)
    this.#ops.push({ kind: 'hard-state', hs: { ...hs } })
  }

  applySnapshot(snap: Snapshot): void {
    this.#alive()
    this.live.applySnapshot(snap)
    this.#ops.push({ kind: 'apply-snapshot', snap })
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    this.#alive()
    const snap = this.live.createSnapshot(index, confState, data)
    this.#ops.push({ kind: 'create-snapshot', index, confState, data })
    return snap
  }

  compact(index: number): void {
    this.#alive()
    this.live.compact(index)
    this.#ops.push({ kind: 'compact', index })
  }

  /**
   * Completes after a seeded delay on the clock; everything written before the call is then
   * durable. Never completes once the disk crashed (the process is gone).
   */
  sync(): Promise<void> {
    this.#alive()
    const barrier = this.#ops.length
    const delay = this.#init.random.int((this.#init.maxSyncDelayMs ?? 2) + 1)
    if (this.#init.fault === 'ack-before-durable') {
      this.#init.clock.setTimeout(() => {
        if (!this.#crashed) this.#makeDurable(barrier)
      }, delay + 5)
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      this.#init.clock.setTimeout(() => {
        if (this.#crashed) return
        this.#makeDurable(barrier)
        resolve()
      }, delay)
    })
  }

  #makeDurable(barrier: number): void {
    if (barrier <= this.#durableOps) return
    for (let i = this.#durableOps; i < barrier; i++) replay(this.durable, this.#ops[i] as DiskOp)
    this.#previousBarrier = this.#durableOps
    this.#durableOps = barrier
    this.syncs++
    this.#init.observer?.synced?.(this)
  }

  #alive(): void {
    if (this.#crashed) throw new DiskCrashedError('disk used after its process crashed')
  }

  /**
   * The process dies: this disk refuses further use, and the returned disk holds what survives —
   * every durable write and, with `torn`, a random prefix of the unsynced ones (the last of which
   * may be a partly written append).
   */
  crash(torn: boolean): SimDisk {
    this.#crashed = true
    const keep = this.#init.fault === 'forget-synced-tail' ? this.#previousBarrier : this.#durableOps
    const survivors = this.#ops.slice(0, keep)
    const unsynced = this.#ops.slice(this.#durableOps)
    if (torn && unsynced.length > 0) {
      let whole = this.#init.random.int(unsynced.length + 1)
      if (this.#init.atomicSnapshotWrites === true) {
        // Keep a received snapshot only together with the hard state written after it.
        const snap = unsynced.slice(0, whole).findLastIndex((op) => op.kind === 'apply-snapshot')
        const hs = snap < 0 ? -1 : unsynced.findIndex((op, i) => i > snap && op.kind === 'hard-state')
        if (hs >= whole) whole = hs + 1
      }
      survivors.push(...unsynced.slice(0, whole))
      const next = unsynced[whole]
      if (next?.kind === 'append' && next.entries.length > 1 && this.#init.random.int(2) === 0) {
        // A torn record: only the first entries of the batch reached the disk.
        survivors.push({ kind: 'append', entries: next.entries.slice(0, 1 + this.#init.random.int(next.entries.length - 1)) })
      }
    }
    return new SimDisk(this.#init, survivors)
  }

  /** Whether the durable state holds the entry at `index` with `term`, or a snapshot covering it. */
  durablyHolds(index: number, term: number): boolean {
    const d = this.durable
    if (d.snapshot().metadata.index >= index) return true
    if (index < d.firstIndex() - 1 || index > d.lastIndex()) return false
    return d.term(index) === term
  }
}
