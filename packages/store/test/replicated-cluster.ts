/**
 * Test harness: N managers, each a {@link ReplicatedStore}, over testkit's MemoryNetwork (through
 * raft's tested simulation adapter, which deep-copies every delivery) on a ManualClock, with
 * MemoryRaftStorage that survives restarts. Everything is deterministic for a given seed.
 */
import { AlreadyExistsError, NotFoundError, SequenceConflictError } from '@swarmkit-ts/api'
import type { ObjectKind, Secret, StoreObject } from '@swarmkit-ts/api'
import { MemoryRaftStorage } from '@swarmkit-ts/raft'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { MemorySimNetwork } from '../../raft/test/sim/memory-network-adapter.ts'
import { decodeChangeSet, encodeChangeSet } from '../src/replication/change-set-codec.ts'
import type { ApplyResult, ChangeSet, Proposer, StoreAction, TransactionResult } from '../src/proposer.ts'
import { ReplicatedStore } from '../src/replication/replicated-store.ts'
import type { ReplicatedRaftInit } from '../src/replication/replicated-store.ts'
import type { ReplicableStore } from '../src/replication/store-state-machine.ts'

/**
 * A small reference store: the semantics of `MemoryStore.applyChangeSet` (per-transaction
 * all-or-nothing, version checks, `meta.version.index` = the log index) over a plain map, with a
 * canonical snapshot. Lets the replication tests check replication alone.
 */
export class ReferenceStore implements ReplicableStore {
  objects = new Map<string, { kind: ObjectKind; object: StoreObject }>()
  version = 0n
  /** Every (index, change set) applied, in order. */
  readonly applied: { index: bigint; changes: ChangeSet }[] = []
  restores = 0
  readonly proposer: Proposer
  constructor(proposer: Proposer) {
    this.proposer = proposer
  }

  applyChangeSet(changes: ChangeSet, index: bigint): ApplyResult {
    // ReplicatedStore gives every proposal an entry of its own: indexes strictly increase.
    if (index <= this.version) throw new Error(`index ${index} applied after ${this.version}`)
    this.applied.push({ index, changes })
    const results: TransactionResult[] = changes.transactions.map((tx) => this.#applyTx(tx, index))
    this.version = index
    return { version: index, results }
  }

  applyEncodedChangeSet(payload: Uint8Array, index: bigint): ApplyResult {
    return this.applyChangeSet(decodeChangeSet(payload), index)
  }

  #applyTx(tx: readonly StoreAction[], index: bigint): TransactionResult {
    const next = new Map(this.objects)
    for (const a of tx) {
      const key = `${a.kind}/${a.action === 'delete' ? a.id : a.object.id}`
      const cur = next.get(key)
      if (a.action === 'create') {
        if (cur !== undefined) return { ok: false, error: new AlreadyExistsError(a.kind, a.object.id) }
        next.set(key, { kind: a.kind, object: withVersion(a.object, index) })
        continue
      }
      const id = a.action === 'delete' ? a.id : a.object.id
      if (cur === undefined) return { ok: false, error: new NotFoundError(a.kind, id) }
      if (cur.object.meta.version.index !== a.expectedVersion) {
        return { ok: false, error: new SequenceConflictError(a.kind, id, { expected: a.expectedVersion, actual: cur.object.meta.version.index }) }
      }
      if (a.action === 'delete') next.delete(key)
      else next.set(key, { kind: a.kind, object: withVersion(a.object, index) })
    }
    this.objects = next
    return { ok: true }
  }

  /** The version (8 bytes) and every object as a create, sorted by key. */
  snapshot(): Uint8Array {
    const keys = [...this.objects.keys()].sort()
    const tx = keys.map((k): StoreAction => {
      const o = this.objects.get(k)
      if (o === undefined) throw new Error('unreachable')
      return { action: 'create', kind: o.kind, object: o.object }
    })
    const body = encodeChangeSet({ transactions: [tx] })
    const out = new Uint8Array(8 + body.length)
    new DataView(out.buffer).setBigUint64(0, this.version)
    out.set(body, 8)
    return out
  }

  restore(bytes: Uint8Array): void {
    this.restores++
    const version = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0)
    const cs = decodeChangeSet(bytes.subarray(8))
    this.objects = new Map()
    for (const a of cs.transactions[0] ?? []) if (a.action === 'create') this.objects.set(`${a.kind}/${a.object.id}`, { kind: a.kind, object: a.object })
    this.version = version
  }

  get(kind: ObjectKind, id: string): StoreObject | undefined {
    return this.objects.get(`${kind}/${id}`)?.object
  }
}

function withVersion<T extends StoreObject>(o: T, index: bigint): T {
  return { ...o, meta: { ...o.meta, version: { index } } }
}

/** A secret with id `id` (25 chars) whose data is `value`. */
export function secret(id: string, value: number, version = 0n): Secret {
  return {
    id,
    meta: { version: { index: version }, createdAt: 0, updatedAt: 0 },
    spec: { annotations: { name: `s-${id}` }, data: Uint8Array.of(value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff) },
  }
}

/** The id of test object number `n`. */
export function objectId(n: number): string {
  return `obj${String(n).padStart(22, '0')}`
}

/** One manager of a {@link ReplicatedCluster}. */
export interface Manager<S extends ReplicableStore> {
  readonly id: bigint
  readonly storage: MemoryRaftStorage
  member: ReplicatedStore<S>
  running: boolean
}

/** Options of a {@link ReplicatedCluster}. */
export interface ReplicatedClusterOptions<S extends ReplicableStore> {
  seed?: number
  size?: number
  /** Creates a manager's store (used with `new ReplicatedStore`)… */
  createStore?: (proposer: Proposer, clock: ManualClock) => S
  /** …or the whole manager (e.g. with `createReplicatedStore`). */
  createMember?: (raft: ReplicatedRaftInit) => ReplicatedStore<S>
  raft?: Partial<Omit<ReplicatedRaftInit, 'id' | 'storage' | 'transport' | 'clock' | 'random'>>
}

/** Lets pending promise callbacks and driver loops run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise<void>((r) => setImmediate(r))
}

/** N managers over a MemoryNetwork on virtual time. */
export class ReplicatedCluster<S extends ReplicableStore> {
  readonly clock = new ManualClock(1_700_000_000_000)
  readonly random: SeededRandom
  readonly network: MemorySimNetwork
  readonly managers = new Map<bigint, Manager<S>>()
  readonly #options: ReplicatedClusterOptions<S>

  constructor(options: ReplicatedClusterOptions<S>) {
    this.#options = options
    this.random = new SeededRandom(options.seed ?? 1)
    this.network = new MemorySimNetwork(this.clock, this.random.fork())
  }

  get net(): MemorySimNetwork['net'] {
    return this.network.net
  }

  #member(id: bigint, storage: MemoryRaftStorage): ReplicatedStore<S> {
    const raft = {
      id,
      storage,
      transport: this.network.endpoint(id),
      clock: this.clock,
      random: this.random.fork(),
      tickMs: 100,
      ...this.#options.raft,
    }
    const { createMember, createStore } = this.#options
    if (createMember !== undefined) return createMember(raft)
    if (createStore === undefined) throw new Error('createStore or createMember is required')
    return new ReplicatedStore<S>({ raft, createStore: (proposer) => createStore(proposer, this.clock) })
  }

  /** Bootstraps and starts managers 1..size. */
  async start(): Promise<void> {
    const ids = Array.from({ length: this.#options.size ?? 3 }, (_, i) => BigInt(i + 1))
    for (const id of ids) {
      const storage = new MemoryRaftStorage({ random: this.random.fork() })
      const member = this.#member(id, storage)
      member.bootstrap(ids.map((p) => ({ id: p, address: `manager-${p}:4242` })))
      this.managers.set(id, { id, storage, member, running: false })
    }
    for (const m of this.managers.values()) {
      await m.member.start()
      m.running = true
    }
    await flush()
  }

  get(id: bigint): Manager<S> {
    const m = this.managers.get(id)
    if (m === undefined) throw new Error(`no manager ${id}`)
    return m
  }

  /** Stops manager `id` (its Raft storage is kept). */
  async crash(id: bigint): Promise<void> {
    const m = this.get(id)
    if (!m.running) return
    m.running = false
    await m.member.stop()
  }

  /** Starts manager `id` again from its storage, with a new store and a new endpoint. */
  async restart(id: bigint): Promise<void> {
    const m = this.get(id)
    if (m.running) await this.crash(id)
    m.member = this.#member(id, m.storage)
    await m.member.start()
    m.running = true
  }

  /** Advances virtual time in 10 ms steps, letting the drivers run between them. */
  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 10) {
      this.clock.advance(10)
      await flush()
    }
  }

  /** The unique running, connected leader that the majority follows, if any. */
  leader(): Manager<S> | undefined {
    const leaders = [...this.managers.values()].filter((m) => m.running && m.member.isLeader && !this.net.isDown(m.id))
    const newest = leaders.sort((a, b) => b.member.raft.status().hardState.term - a.member.raft.status().hardState.term)[0]
    // An old leader cut off from the others may still think it leads: the newest term wins.
    return newest
  }

  /** Runs until a leader (other than `not`) is elected; returns it. */
  async waitLeader(options: { not?: bigint; maxMs?: number } = {}): Promise<Manager<S>> {
    for (let t = 0; t <= (options.maxMs ?? 30_000); t += 100) {
      const l = this.leader()
      if (l !== undefined && l.id !== options.not) return l
      await this.run(100)
    }
    throw new Error('no leader elected')
  }

  /** Runs until `p` settles (or `maxMs` passes: then `p` is still pending and this throws). */
  async settle<T>(p: Promise<T>, maxMs = 30_000): Promise<T> {
    let done = false
    const guarded = p.finally(() => (done = true))
    guarded.catch(() => {})
    for (let t = 0; t < maxMs && !done; t += 10) await this.run(10)
    if (!done) throw new Error('promise did not settle')
    return guarded
  }

  /** Runs until every running manager has applied the same last index (the cluster is quiet). */
  async converge(maxMs = 60_000): Promise<void> {
    for (let t = 0; t <= maxMs; t += 100) {
      const running = [...this.managers.values()].filter((m) => m.running)
      const applied = running.map((m) => m.member.raft.applied)
      const commit = running.map((m) => m.member.raft.status().hardState.commit)
      const first = applied[0]
      if (first !== undefined && applied.every((a) => a === first) && commit.every((c) => c === first) && this.leader() !== undefined) return
      await this.run(100)
    }
    throw new Error('cluster did not converge')
  }

  async stop(): Promise<void> {
    for (const m of this.managers.values()) if (m.running) await this.crash(m.id)
  }
}
