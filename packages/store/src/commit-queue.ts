/**
 * Group commit with pipelining. `update()` callbacks run one after another (each its own atomic
 * transaction, seeing the applied state plus the writes of the queued and in-flight transactions
 * before it) and go out together as change sets of at most {@link MAX_CHANGE_SET_ACTIONS} actions
 * and {@link MAX_CHANGE_SET_BYTES}. Up to `maxInFlight` change sets (1 unless the store is told otherwise) are in flight at once
 * (proposed, not yet applied), as etcd overlaps its proposals: a change set goes out while others
 * are in flight only when it is full or holds {@link MIN_PIPELINED_TRANSACTIONS} transactions, and
 * none of its transactions read or wrote over their writes; one that did waits until they are applied, so that a failed change set never leaves a proposed transaction
 * built on writes that never happened. While the window is full, updates queue and then go out
 * together. A `batch()` runs all its transactions up front and goes out in as many bounded change
 * sets as it needs; no transaction is ever split between two proposals.
 *
 * @module
 */
import { InternalError, InvalidArgumentError } from '@swarmkit-ts/api'
import type { Clock, ObjectKind } from '@swarmkit-ts/api'
import { MAX_CHANGE_SET_ACTIONS, MAX_CHANGE_SET_BYTES } from './kinds.ts'
import { Overlay } from './overlay.ts'
import type { PendingAction } from './overlay.ts'
import { issueLocalChangeSet } from './proposer.ts'
import type { ApplyResult, ChangeSet, Proposer, StoreAction, TransactionResult } from './proposer.ts'
import type { Table } from './table.ts'
import { WriteTx } from './transaction.ts'
import type { Tx } from './transaction-types.ts'

/** Records transactions inside `batch()`. */
export interface Batch {
  /**
   * Runs `fn` now as one atomic transaction (it sees the batch's earlier transactions) and
   * returns its result. Throws what `fn` throws, or `InvalidArgumentError` when the transaction
   * alone exceeds {@link MAX_CHANGE_SET_BYTES}; the batch goes on without it unless the error
   * propagates out of the batch callback.
   */
  update<T>(fn: (tx: Tx) => T): T
}

/** The outcome of `batch()`. The batch is not atomic as a whole: each transaction is. */
export interface BatchResult<T> {
  /** What the batch callback returned. */
  readonly value: T
  /** Transactions recorded. */
  readonly transactions: number
  /** Proposals (change sets) they went out in. */
  readonly proposals: number
  /** The transactions that failed at apply time (index in recording order), with their errors. */
  readonly failures: readonly { readonly transaction: number; readonly error: Error }[]
}

interface Prepared {
  readonly tx: WriteTx
  /** Called once: with the apply result, or with `proposal: true` when the proposal itself failed. */
  readonly settle: (result: TransactionResult | { readonly ok: false; readonly error: unknown; readonly proposal: true }) => void
}

interface Chunk {
  readonly id: number
  readonly txs: Prepared[]
  actions: number
  bytes: number
  /** The highest other chunk whose writes a transaction of this one read or wrote over (-1: none). */
  dep: number
}

/**
 * The transactions a change set needs to go out beside others in flight (a full one always may).
 * Smaller ones wait for the window to empty: each Raft entry costs every member CPU (about 2 ms
 * across three managers), so many small overlapping change sets would cost more than they save
 * on a busy machine; overlap pays when the queue outgrows a round trip.
 */
export const MIN_PIPELINED_TRANSACTIONS = 16

type Item =
  | { readonly type: 'update'; readonly fn: (tx: Tx) => unknown; readonly resolve: (v: unknown) => void; readonly reject: (e: unknown) => void }
  | { readonly type: 'batch'; readonly fn: (b: Batch) => unknown; readonly resolve: (v: BatchResult<unknown>) => void; readonly reject: (e: unknown) => void }

function checkSync(value: unknown): void {
  if (typeof (value as { then?: unknown } | null)?.then === 'function') {
    throw new InvalidArgumentError('callback', 'must be synchronous (it returned a promise)')
  }
}

/** The queue of a store's writes, ahead of its proposer. */
export class CommitQueue {
  private queue: Item[] = []
  private queueHead = 0
  /** Change sets planned, not proposed yet (the last one may still be filling). */
  private planned: Chunk[] = []
  /** Change sets proposed and not settled, in proposal (= id) order. */
  private inFlight: Chunk[] = []
  private readonly overlay = new Overlay()
  private nextChunk = 0
  private readonly applied = new Map<number, bigint>()
  private planning = false
  private pumpQueued = false

  private readonly tables: ReadonlyMap<ObjectKind, Table>
  private readonly clock: Clock
  private readonly proposer: () => Proposer
  private readonly maxInFlight: number

  /** `maxInFlight`: change sets in flight at once (at least 1). */
  constructor(tables: ReadonlyMap<ObjectKind, Table>, clock: Clock, proposer: () => Proposer, maxInFlight = 1) {
    this.tables = tables
    this.clock = clock
    this.proposer = proposer
    this.maxInFlight = maxInFlight
  }

  /** Queues an update transaction. */
  update<T>(fn: (tx: Tx) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ type: 'update', fn, resolve: resolve as (v: unknown) => void, reject })
      this.arrived()
    })
  }

  /** Queues a batch. */
  batch<T>(fn: (b: Batch) => T): Promise<BatchResult<T>> {
    return new Promise<BatchResult<T>>((resolve, reject) => {
      this.queue.push({ type: 'batch', fn, resolve: resolve as (v: BatchResult<unknown>) => void, reject })
      this.arrived()
    })
  }

  /** A write arrived: with nothing in flight it goes out now, else with the rest of this turn's. */
  private arrived(): void {
    if (this.inFlight.length === 0) this.pump()
    else this.pumpSoon()
  }

  /** Schedules one `pump` at the end of this turn, so that the updates of one turn go out together. */
  private pumpSoon(): void {
    if (this.pumpQueued) return
    this.pumpQueued = true
    queueMicrotask(() => {
      this.pumpQueued = false
      this.pump()
    })
  }

  private pump(): void {
    if (this.planning) return
    while (this.inFlight.length < this.maxInFlight) {
      // Fill the next proposal (empty, or holding a transaction carried over from the last round).
      if (this.planned.length <= 1) {
        this.planning = true
        try {
          this.plan()
        } finally {
          this.planning = false
        }
      }
      const chunk = this.planned[0]
      if (chunk === undefined) return
      // It read or overwrote what an in-flight change set writes: it waits for that one's apply.
      const oldest = this.inFlight[0]
      if (oldest !== undefined) {
        if (chunk.dep >= oldest.id) return
        // Beside others, only a change set worth its own entry: full, or with enough transactions.
        if (this.planned.length === 1 && chunk.txs.length < MIN_PIPELINED_TRANSACTIONS) return
      }
      this.planned.shift()
      this.inFlight.push(chunk)
      this.propose(chunk)
    }
  }

  private takeItem(): Item | undefined {
    const item = this.queue[this.queueHead]
    if (item === undefined) return undefined
    this.queue[this.queueHead] = undefined as unknown as Item
    this.queueHead++
    if (this.queueHead === this.queue.length) {
      this.queue = []
      this.queueHead = 0
    }
    return item
  }

  /** Runs `fn` as a transaction; returns it with the callback's value, or throws what it threw. */
  private run<T>(fn: (tx: Tx) => T): { tx: WriteTx; value: T } {
    const tx = new WriteTx(this.tables, this.overlay, this.clock.now())
    try {
      const value = fn(tx.tables)
      checkSync(value)
      if (tx.bytes > MAX_CHANGE_SET_BYTES) {
        throw new InvalidArgumentError('transaction', `changes of about ${tx.bytes} bytes exceed the ${MAX_CHANGE_SET_BYTES}-byte proposal limit`)
      }
      return { tx, value }
    } finally {
      tx.close()
    }
  }

  private newChunk(): Chunk {
    const c: Chunk = { id: this.nextChunk++, txs: [], actions: 0, bytes: 0, dep: -1 }
    this.planned.push(c)
    return c
  }

  /** Adds a transaction to the last planned chunk, or a new one if it would not fit; returns whether a new chunk was opened. */
  private place(p: Prepared): boolean {
    let chunk = this.planned[this.planned.length - 1]
    let opened = false
    const n = p.tx.actions.length
    if (chunk === undefined || (chunk.txs.length > 0 && (chunk.actions + n > MAX_CHANGE_SET_ACTIONS || chunk.bytes + p.tx.bytes > MAX_CHANGE_SET_BYTES))) {
      opened = chunk !== undefined
      chunk = this.newChunk()
    }
    chunk.txs.push(p)
    if (p.tx.chunkDeps !== undefined) for (const d of p.tx.chunkDeps) if (d !== chunk.id && d > chunk.dep) chunk.dep = d
    chunk.actions += n
    chunk.bytes += p.tx.bytes
    this.overlay.add(p.tx.writes, chunk.id)
    return opened
  }

  private plan(): void {
    for (;;) {
      const next = this.queue[this.queueHead]
      if (next === undefined) return
      if (next.type === 'batch') {
        if (this.planned.length > 0) return
        this.takeItem()
        this.planBatch(next)
        // A batch that recorded no change proposes nothing: go on with the queue (returning
        // here would leave the transactions queued behind it waiting for a pump that never comes).
        if (this.planned.length === 0) continue
        return
      }
      this.takeItem()
      let ran: { tx: WriteTx; value: unknown }
      try {
        ran = this.run(next.fn)
      } catch (err) {
        next.reject(err)
        continue
      }
      const { tx, value } = ran
      if (tx.actions.length === 0) {
        next.resolve(value)
        continue
      }
      const settle: Prepared['settle'] = (r) => (r.ok ? next.resolve(value) : next.reject(r.error))
      // Group commit: the transaction that no longer fits opens the next proposal and ends this round.
      if (this.place({ tx, settle })) return
    }
  }

  private planBatch(item: Extract<Item, { type: 'batch' }>): void {
    const failures: { transaction: number; error: Error }[] = []
    let recorded = 0
    let outstanding = 0
    let proposalError: { error: unknown } | undefined
    let value: unknown
    let finished = false
    const done = (): void => {
      if (!finished || outstanding > 0) return
      if (proposalError !== undefined) item.reject(proposalError.error)
      else item.resolve({ value, transactions: recorded, proposals: chunks.size, failures })
    }
    const chunks = new Set<number>()
    const batch: Batch = {
      update: <T>(fn: (tx: Tx) => T): T => {
        if (finished) throw new InvalidArgumentError('batch', 'the batch callback has returned; record transactions inside it')
        const { tx, value: v } = this.run(fn)
        if (tx.actions.length === 0) return v
        const index = recorded++
        outstanding++
        this.place({
          tx,
          settle: (r) => {
            outstanding--
            if (!r.ok) {
              if ('proposal' in r) proposalError ??= { error: r.error }
              else failures.push({ transaction: index, error: r.error })
            }
            done()
          },
        })
        const last = this.planned[this.planned.length - 1]
        if (last !== undefined) chunks.add(last.id)
        return v
      },
    }
    try {
      value = item.fn(batch)
      checkSync(value)
    } catch (err) {
      finished = true
      // Only the batch's chunks are planned (a batch starts with none): drop their writes, not
      // those of change sets in flight.
      for (const c of this.planned) for (const p of c.txs) this.overlay.settle(c.id, p.tx.writes)
      this.planned = []
      item.reject(err)
      return
    }
    finished = true
    done()
  }

  private resolveAction(a: PendingAction, chunk: number): StoreAction {
    if (a.action === 'create') return a
    let expectedVersion: bigint
    switch (a.dep.type) {
      case 'version':
        expectedVersion = a.dep.version
        break
      case 'own':
        expectedVersion = 0n
        break
      case 'chunk': {
        if (a.dep.chunk === chunk) expectedVersion = 0n
        else {
          const v = this.applied.get(a.dep.chunk)
          if (v === undefined) throw new InternalError(`chunk ${a.dep.chunk} has no applied version`)
          expectedVersion = v
        }
        break
      }
    }
    return a.action === 'update'
      ? { action: 'update', kind: a.kind, object: a.object, expectedVersion }
      : { action: 'delete', kind: a.kind, id: a.id, expectedVersion }
  }

  private propose(chunk: Chunk): void {
    let promise: Promise<ApplyResult>
    try {
      const changes: ChangeSet = { transactions: chunk.txs.map((p) => p.tx.actions.map((a) => this.resolveAction(a, chunk.id))) }
      // Built here from validated objects: the handle lets the local apply skip the checks.
      promise = this.proposer().propose(changes, issueLocalChangeSet(changes))
    } catch (err) {
      promise = Promise.reject(err instanceof Error ? err : new Error(String(err)))
    }
    promise.then(
      (res) => this.settled(chunk, res),
      (err: unknown) => this.failed(chunk, err),
    )
  }

  private leave(chunk: Chunk): void {
    const i = this.inFlight.indexOf(chunk)
    if (i >= 0) this.inFlight.splice(i, 1)
  }

  private settled(chunk: Chunk, res: ApplyResult): void {
    this.leave(chunk)
    this.applied.set(chunk.id, res.version)
    for (const p of chunk.txs) this.overlay.settle(chunk.id, p.tx.writes)
    chunk.txs.forEach((p, i) => {
      const r = res.results[i]
      p.settle(r ?? { ok: false, error: new InternalError(`the proposer returned no result for transaction ${i}`), proposal: true })
    })
    if (this.planned.length === 0) this.applied.clear()
    this.pump()
  }

  private failed(chunk: Chunk, err: unknown): void {
    this.leave(chunk)
    // Everything planned (not proposed yet) may have run against its writes, which now may never
    // apply: fail it too. Change sets already in flight did not depend on it; they settle alone.
    const all = [chunk, ...this.planned]
    this.planned = []
    if (this.inFlight.length === 0) {
      this.overlay.clear()
      this.applied.clear()
    } else {
      for (const c of all) for (const p of c.txs) this.overlay.settle(c.id, p.tx.writes)
    }
    for (const c of all) for (const p of c.txs) p.settle({ ok: false, error: err, proposal: true })
    this.pump()
  }
}
