/**
 * The managers' Raft plumbing in a simulation: testkit's `MemoryNetwork` carrying Raft messages
 * (every delivery a fresh message, as a real transport deserializes one, but with the sender's
 * bytes: see {@link raftNetwork}), and a storage wrapper whose `sync` takes virtual time
 * (`slowDisk`).
 *
 * @module
 */
import type { Random } from '@swarmkit-ts/api'
import { copyMessage } from '@swarmkit-ts/raft'
import type { ConfState, Entry, HardState, Message, RaftInitialState, RaftStorageWithLog, Snapshot, SyncOptions } from '@swarmkit-ts/raft'
import { MemoryNetwork } from '@swarmkit-ts/testkit'
import type { ManualClock } from '@swarmkit-ts/testkit'

const SHARE_BYTES = { shareBytes: true } as const
const shareBytes = (m: Message): Message => copyMessage(m, SHARE_BYTES)

/**
 * The network of the managers' Raft messages, with `delayMs` per message and `drop` probability.
 *
 * A delivery copies the message and its entries but shares their bytes (`copyMessage`'s
 * `shareBytes`): nothing in raft or the store writes into an entry's bytes, and each manager's
 * storage keeps the entries it appends, so copies would put one copy of the whole log per manager
 * in this process. That is off-heap memory, and V8 starts a full mark of the heap for every
 * 64 MiB of it that is new since the last one: at 300,000 tasks the copies made the run take
 * ~1.4× longer.
 */
export function raftNetwork(clock: ManualClock, random: Random, faults: { readonly drop: number; readonly delayMs: readonly [number, number] }): MemoryNetwork<Message> {
  return new MemoryNetwork<Message>({
    clock,
    random,
    defaultDelayMs: [1, 1],
    faults: { drop: faults.drop, delayMs: faults.delayMs },
    isSnapshot: (m) => m.type === 'snapshot',
    clone: shareBytes,
    strictPeers: true,
  })
}

/**
 * A manager's Raft storage (its "disk", which outlives a crash of the manager) whose `sync`
 * takes {@link SlowDiskStorage.delayMs} of virtual time. Writes land in memory at once and count
 * as durable only once `sync` resolves — but a crash keeps them (a simplification: the simulated
 * disk never loses an unsynced write).
 */
export class SlowDiskStorage implements RaftStorageWithLog {
  readonly #inner: RaftStorageWithLog
  readonly #clock: ManualClock
  /** Virtual ms each `sync` takes (0: at once). */
  delayMs = 0

  constructor(inner: RaftStorageWithLog, clock: ManualClock) {
    this.#inner = inner
    this.#clock = clock
  }

  initialState(): RaftInitialState {
    return this.#inner.initialState()
  }
  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    return this.#inner.entries(lo, hi, maxBytes)
  }
  term(i: number): number {
    return this.#inner.term(i)
  }
  firstIndex(): number {
    return this.#inner.firstIndex()
  }
  lastIndex(): number {
    return this.#inner.lastIndex()
  }
  snapshot(): Snapshot {
    return this.#inner.snapshot()
  }
  append(entries: readonly Entry[]): void {
    this.#inner.append(entries)
  }
  setHardState(hs: HardState): void {
    this.#inner.setHardState(hs)
  }
  applySnapshot(snap: Snapshot): void {
    this.#inner.applySnapshot(snap)
  }
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    return this.#inner.createSnapshot(index, confState, data)
  }
  compact(index: number): void {
    this.#inner.compact(index)
  }
  async sync(options?: SyncOptions): Promise<void> {
    await this.#inner.sync(options)
    const ms = this.delayMs
    if (ms > 0) await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, ms))
  }
}
