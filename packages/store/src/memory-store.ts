/**
 * `MemoryStore`: the cluster state in memory — typed tables with indexes, transactions with
 * optimistic versions, group commit through a {@link Proposer}, watches, history and snapshots.
 *
 * @module
 */
import { InvalidArgumentError, OBJECT_KINDS, systemClock } from '@swarmkit-ts/api'
import type { ByteAllocator, Clock, ObjectKind, StoreEvent } from '@swarmkit-ts/api'
import { OK, applyTransaction, checkChangeSet, objectEvent } from './apply-transaction.ts'
import { CommitQueue } from './commit-queue.ts'
import type { Batch, BatchResult } from './commit-queue.ts'
import { ChangeHistory } from './history.ts'
import { UNIQUE_NAME_KINDS, nameOf } from './kinds.ts'
import { decodeChangeSet } from './replication/change-set-codec.ts'
import { deepEqual } from './objects/equality.ts'
import { ownFrozen } from './objects/freeze.ts'
import { isLocalChangeSet } from './proposer.ts'
import type { ApplyResult, ChangeSet, LocalChangeSet, Proposer, TransactionResult } from './proposer.ts'
import { SlicedSnapshot, decodeSnapshot, encodeSnapshot } from './snapshot.ts'
import { Table } from './table.ts'
import type { ReadTx, Tx } from './transaction-types.ts'
import { validateObject } from './objects/validate.ts'
import { ViewScope, createView } from './view.ts'
import { Watcher, asWatch, compileSelector } from './watch.ts'
import type { Watch, WatchEvent, WatchOptions, WatchSelector } from './watch.ts'

/** Default bound of a watcher's queue, in events. */
export const DEFAULT_WATCH_QUEUE_LIMIT = 10_000
/** Default bound of the change history kept for `changesSince`, in events. */
export const DEFAULT_HISTORY_LIMIT = 10_000

/** Construction options of a {@link MemoryStore}. */
export interface MemoryStoreInit {
  /**
   * Where change sets go. Omitted: a local proposer that applies each change set on the next
   * microtask at version + 1. A function receives the store (for proposers that call `applyChangeSet` back).
   */
  readonly proposer?: Proposer | ((store: MemoryStore) => Proposer)
  /** The source of `meta.createdAt/updatedAt` (read at transaction time). Default: the system clock. */
  readonly clock?: Clock
  /** Events a watcher may have queued before it is closed with `WatchQueueOverflowError` (default 10,000). */
  readonly watchQueueLimit?: number
  /** Events of recent change sets kept for `changesSince` (default 10,000). */
  readonly historyLimit?: number
  /** The version of an empty store (default 0). */
  readonly version?: bigint
  /**
   * Change sets in flight at once (proposed, not yet applied), 1–64; default 1 (one at a time;
   * group commit). Above 1, change sets of at least 16 transactions that read nothing of the
   * others in flight overlap them, as etcd pipelines its proposals — see the README's group
   * commit. On a CPU-bound machine the smaller entries cost more than the overlap saves.
   */
  readonly changeSetsInFlight?: number
  /**
   * Build each secondary index when it is first looked up (by `find`, or by the apply path's
   * unique-name check) instead of keeping every index from the start; default false. A store
   * that is rarely queried — a Raft follower's, until it leads — then spends nothing on
   * indexes it never reads (their upkeep on every write, their memory). The first lookup of an
   * index scans its table, and `find` on an index built over existing objects lists them in
   * the objects' order (it promises no order either way).
   */
  readonly lazyIndexes?: boolean
}

/** Change sets in flight at once unless `MemoryStoreInit.changeSetsInFlight` says otherwise. */
export const DEFAULT_CHANGE_SETS_IN_FLIGHT = 1

function positiveInt(v: number | undefined, field: string, dflt: number): number {
  if (v === undefined) return dflt
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(field, 'must be a non-negative integer')
  return v
}

/**
 * The in-memory object store. All reads are synchronous and see applied state only; all writes
 * go through {@link MemoryStore.update} / {@link MemoryStore.batch} → the proposer →
 * {@link MemoryStore.applyChangeSet}, the one place where state changes.
 */
export class MemoryStore {
  private readonly tables = new Map<ObjectKind, Table>()
  private readonly watchers = new Set<Watcher>()
  private readonly history: ChangeHistory
  private readonly queue: CommitQueue
  private readonly proposer: Proposer
  private readonly watchQueueLimit: number
  private currentVersion: bigint
  private readonly lazyIndexes: boolean

  constructor(init: MemoryStoreInit = {}) {
    this.lazyIndexes = init.lazyIndexes === true
    for (const kind of OBJECT_KINDS) this.tables.set(kind, new Table(kind, this.lazyIndexes))
    this.watchQueueLimit = positiveInt(init.watchQueueLimit, 'watchQueueLimit', DEFAULT_WATCH_QUEUE_LIMIT)
    const version = init.version ?? 0n
    if (typeof version !== 'bigint' || version < 0n) throw new InvalidArgumentError('version', 'must be a non-negative bigint')
    this.currentVersion = version
    this.history = new ChangeHistory(positiveInt(init.historyLimit, 'historyLimit', DEFAULT_HISTORY_LIMIT), version)
    const p = init.proposer
    this.proposer =
      p === undefined
        ? {
            // Applies on the next microtask, never inside the caller's stack (e.g. inside a
            // view() callback that called update()), like a replicated proposer.
            propose: (changes: ChangeSet, local: LocalChangeSet): Promise<ApplyResult> =>
              Promise.resolve().then(() => this.applyChangeSet(changes, this.currentVersion + 1n, local)),
          }
        : typeof p === 'function'
          ? p(this)
          : p
    const inFlight = init.changeSetsInFlight ?? DEFAULT_CHANGE_SETS_IN_FLIGHT
    if (!Number.isSafeInteger(inFlight) || inFlight < 1 || inFlight > 64) throw new InvalidArgumentError('changeSetsInFlight', 'must be an integer from 1 to 64')
    this.queue = new CommitQueue(this.tables, init.clock ?? systemClock, () => this.proposer, inFlight)
  }

  /** The version of the last applied change set (its log index). */
  get version(): bigint {
    return this.currentVersion
  }

  /**
   * Runs `fn` on a consistent read-only view and returns its result. `fn` is synchronous, so no
   * change can be applied while it runs; the view is unusable after it returns.
   */
  view<T>(fn: (tx: ReadTx) => T): T {
    const scope = new ViewScope()
    try {
      return fn(createView(this.tables, scope))
    } finally {
      scope.open = false
    }
  }

  /**
   * Runs `fn` as one atomic transaction and resolves with its result once the change set is
   * applied. `fn` is synchronous and may run later than the call (after the proposal in flight
   * settles); it sees applied state plus the writes of transactions queued before it. If it
   * throws, or a check fails when applying (`SequenceConflictError`, `AlreadyExistsError`,
   * `NotFoundError`), nothing of it is applied and the promise rejects with that error. It also
   * rejects with the proposer's error (e.g. `NotLeaderError`) when the proposal fails.
   */
  update<T>(fn: (tx: Tx) => T): Promise<T> {
    return this.queue.update(fn)
  }

  /**
   * Records many transactions and proposes them in as many bounded change sets as needed (at
   * most 200 actions and 1.5 MiB each). Each transaction is atomic and never split; the batch as
   * a whole is NOT atomic: a failure leaves earlier proposals applied. The callback runs
   * synchronously when the batch's turn comes; if it throws, nothing of the batch is proposed.
   * Resolves once every proposal settled, with per-transaction apply failures; rejects with the
   * first proposal error (the outcome of later transactions is then unknown).
   */
  batch<T>(fn: (b: Batch) => T): Promise<BatchResult<T>> {
    return this.queue.batch(fn)
  }

  /**
   * Applies a change set at log position `index` (> the current version) — the only way state
   * changes, on every member, in log order. Deterministic. Each transaction is applied
   * all-or-nothing after checking again that created ids and unique names are free, and that
   * updated or deleted objects exist at `expectedVersion` (0 = written earlier in this change
   * set). Written objects get `meta.version.index = index`. Emits each applied transaction's
   * events followed by a commit event. Throws `InvalidArgumentError` (nothing applied) on a
   * malformed change set or an index that does not move forward.
   *
   * `local`: the store's handle of `changes` that the proposer got with it (see
   * {@link LocalChangeSet}) — the change set this store built and proposed, applied here without
   * checking its objects again. Any other change set is checked in full, and its objects are
   * copied (the caller keeps its own). A handle of another change set is an `InvalidArgumentError`.
   */
  applyChangeSet(changes: ChangeSet, index: bigint, local?: LocalChangeSet): ApplyResult {
    this.checkIndex(index)
    if (local === undefined) checkChangeSet(changes)
    else if (!isLocalChangeSet(local, changes)) throw new InvalidArgumentError('local', "must be the store's handle of this very change set")
    return this.apply(changes, index, false)
  }

  /**
   * Decodes a change set encoded by `encodeChangeSet` (a Raft entry of another member, or one of
   * this member's own replayed after a restart) and applies it at `index`, as
   * {@link MemoryStore.applyChangeSet} does. The decoded objects are the store's alone: they are
   * frozen in place (sharing unchanged parts with the objects they replace) instead of copied,
   * and not validated again — the codec checked every field's type, and the proposing store
   * validated the objects. Throws `InvalidArgumentError` (nothing applied) on bytes that do not
   * decode or an index that does not move forward.
   */
  applyEncodedChangeSet(payload: Uint8Array, index: bigint): ApplyResult {
    this.checkIndex(index)
    return this.apply(decodeChangeSet(payload), index, true)
  }

  private checkIndex(index: bigint): void {
    if (typeof index !== 'bigint' || index <= this.currentVersion) {
      throw new InvalidArgumentError('index', `must be a bigint above the store version ${this.currentVersion}`)
    }
  }

  /** Applies a checked change set; `owned`: its objects are the store's (freshly decoded). */
  private apply(changes: ChangeSet, index: bigint, owned: boolean): ApplyResult {
    this.currentVersion = index
    const results: TransactionResult[] = []
    const all: StoreEvent[] = []
    let commit: StoreEvent | undefined
    for (const actions of changes.transactions) {
      const r = applyTransaction(this.tables, actions, index, owned)
      if (!r.ok) {
        results.push({ ok: false, error: r.error })
        continue
      }
      results.push(OK)
      commit ??= Object.freeze({ action: 'commit', version: Object.freeze({ index }) })
      r.events.push(commit)
      for (const ev of r.events) {
        all.push(ev)
        this.emit(ev)
      }
    }
    this.history.add(index, all)
    return { version: index, results }
  }

  private emit(ev: StoreEvent): void {
    for (const w of this.watchers) w.push(ev)
  }

  /**
   * A live stream of the events matching `selector`, starting with the next commit (or, with
   * `options.since`, replaying what was committed after that version first). Each watcher sees
   * every matching event once, in commit order. A watcher whose queue exceeds its limit is
   * closed: its next `next()` rejects with `WatchQueueOverflowError`. `close()` (or an aborted
   * `signal`, or breaking out of `for await`) drops the events not yet read (see {@link Watch}).
   * The events are typed by the selector's `kinds` (`Watch<'task'>` for `{ kinds: 'task' }`).
   */
  watch<K extends ObjectKind = ObjectKind>(selector?: WatchSelector<K>, options: WatchOptions = {}): Watch<K> {
    const match = compileSelector(selector as WatchSelector | undefined)
    const replay = options.since === undefined ? [] : this.changesSince(options.since)
    const limit = positiveInt(options.queueLimit, 'queueLimit', this.watchQueueLimit)
    const w = new Watcher(match, limit, (x) => this.watchers.delete(x), options.signal, options.skipEmptyCommits === true)
    if (options.signal?.aborted === true) {
      w.close()
      return asWatch(w)
    }
    this.watchers.add(w)
    for (const ev of replay) w.push(ev)
    return asWatch(w)
  }

  /** Runs `fn` on a view and starts a watch at exactly that state: no change is missed or seen twice. */
  viewAndWatch<T, K extends ObjectKind = ObjectKind>(fn: (tx: ReadTx) => T, selector?: WatchSelector<K>, options: WatchOptions = {}): { readonly result: T; readonly watch: Watch<K> } {
    const watch = this.watch<K>(selector, options)
    try {
      return { result: this.view(fn), watch }
    } catch (err) {
      watch.close()
      throw err
    }
  }

  /**
   * Every event committed after `version`, in order (commit events included). Throws
   * `HistoryTrimmedError` when that is older than the bounded history (re-list instead), and
   * `InvalidArgumentError` when `version` is ahead of the store.
   */
  changesSince(version: bigint): WatchEvent[] {
    return this.history.since(version, this.currentVersion)
  }

  /** Number of open watchers. */
  get watcherCount(): number {
    return this.watchers.size
  }

  /** Encodes every object and the store version (see the snapshot module for the format). */
  snapshot(): Uint8Array {
    return encodeSnapshot(
      this.currentVersion,
      OBJECT_KINDS.map((k) => [k, (this.tables.get(k) as Table).objects.values()] as const),
    )
  }

  /**
   * Starts a snapshot of the current state whose encoding is spread over many calls: the objects
   * of every table are captured now (references only — stored objects are frozen, so later
   * writes, and a `restore`, leave them as they are); then each `step()` handles at most
   * `options.sliceObjects` of them (default 1,000) and returns `undefined`, in two passes — one
   * measuring every object's encoding, one writing them into an array allocated once at the exact
   * size — and the step that writes the last object returns the bytes
   * {@link MemoryStore.snapshot} would have returned now (`version` is the store version they are
   * of). A step after that throws. The capture costs one array of references per table; the
   * encoding costs about twice `snapshot()`'s, but the only array held is the snapshot's own,
   * made in one allocation (see `SlicedSnapshot` for why that matters on a big heap), by
   * `options.alloc` (default api's `heapBytes`).
   */
  beginSnapshot(options: { readonly sliceObjects?: number; readonly alloc?: ByteAllocator } = {}): { readonly version: bigint; step(): Uint8Array | undefined } {
    return new SlicedSnapshot(
      this.currentVersion,
      OBJECT_KINDS.map((k) => [k, Array.from((this.tables.get(k) as Table).objects.values())] as const),
      options.sliceObjects,
      options.alloc,
    )
  }

  /**
   * Replaces the whole state with a snapshot, atomically (a bad snapshot throws
   * `InvalidArgumentError` and changes nothing). Watchers stay open and receive the difference
   * as create / update / delete events followed by one commit event at the snapshot's version
   * (a watcher whose queue cannot hold them is closed with `WatchQueueOverflowError` and must
   * re-list). The change history starts afresh at that version.
   */
  restore(bytes: Uint8Array): void {
    const snap = decodeSnapshot(bytes)
    const next = new Map<ObjectKind, Table>()
    for (const kind of OBJECT_KINDS) next.set(kind, new Table(kind, this.lazyIndexes))
    const names = new Map<string, string>()
    snap.objects.forEach(({ kind, object }, i) => {
      try {
        validateObject(kind, object, true)
      } catch (err) {
        const field = err instanceof InvalidArgumentError ? err.field : ''
        throw new InvalidArgumentError(`objects.${i}${field === '' ? '' : `.${field}`}`, err instanceof Error ? err.message : String(err))
      }
      const table = next.get(kind) as Table
      if (table.get(object.id) !== undefined) throw new InvalidArgumentError(`objects.${i}.id`, `duplicate ${kind} id ${object.id}`)
      const name = nameOf(kind, object).toLowerCase()
      if (UNIQUE_NAME_KINDS.has(kind) && name !== '') {
        const key = `${kind}\u0000${name}`
        if (names.has(key)) throw new InvalidArgumentError(`objects.${i}.name`, `duplicate ${kind} name ${name}`)
        names.set(key, object.id)
      }
      table.put(ownFrozen(object), undefined)
    })
    const events: StoreEvent[] = []
    for (const kind of OBJECT_KINDS) {
      const before = this.tables.get(kind) as Table
      const after = next.get(kind) as Table
      for (const old of before.objects.values()) {
        const now = after.get(old.id)
        if (now === undefined) events.push(objectEvent('delete', kind, old))
        else if (!deepEqual(now, old)) events.push(objectEvent('update', kind, now, old))
      }
      for (const obj of after.objects.values()) {
        if (before.get(obj.id) === undefined) events.push(objectEvent('create', kind, obj))
      }
    }
    for (const kind of OBJECT_KINDS) this.tables.set(kind, next.get(kind) as Table)
    this.currentVersion = snap.version
    this.history.reset(snap.version)
    events.push(Object.freeze({ action: 'commit', version: Object.freeze({ index: snap.version }) }))
    for (const ev of events) this.emit(ev)
  }

  /**
   * Diagnostics: recomputes every index from the objects and lists each difference (empty when
   * the indexes are exact). Costs a full scan. With `lazyIndexes`, checks the indexes built so far.
   */
  checkIndexes(): string[] {
    const out: string[] = []
    for (const t of this.tables.values()) out.push(...t.verify())
    return out
  }
}
