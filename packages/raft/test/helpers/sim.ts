/**
 * A deterministic in-process cluster of RawNodes for tests: each node persists to a
 * MemoryRaftStorage, applies to a toy state machine (the list of applied entries), and sends
 * through a FIFO router with drop rules. Nothing here is timing-dependent.
 */
import type { Random, RaftMemberId } from '@swarmkit-ts/api'
import { MemoryRaftStorage, RawNode, decodeConfChange } from '../../src/index.ts'
import type { ConfState, Entry, Message, RawNodeInit, ReadState, Ready, RaftRole } from '../../src/index.ts'
import { TestRandom } from './seeded-random.ts'
import { InvariantChecker } from './invariants.ts'

/** Options for the RawNode of a simulated member (everything but id/storage). */
export type NodeOptions = Partial<Omit<RawNodeInit, 'id' | 'storage'>>

/** An applied entry, as recorded by the toy state machine. */
export interface AppliedEntry {
  index: number
  term: number
  type: Entry['type']
  data: string
}

/** One simulated member. */
export class SimNode {
  readonly id: RaftMemberId
  storage: MemoryRaftStorage
  raw: RawNode
  readonly options: NodeOptions
  alive = true
  /** Applied entries by index (the state machine). */
  applied = new Map<number, AppliedEntry>()
  appliedIndex = 0
  /** The configuration after each applied conf change. */
  confHistory: Array<{ index: number; cs: ConfState }> = []
  readStates: ReadState[] = []
  /** Messages sent by this node, in order (for assertions). */
  sent: Message[] = []

  constructor(id: RaftMemberId, storage: MemoryRaftStorage, options: NodeOptions) {
    this.id = id
    this.storage = storage
    this.options = options
    this.raw = new RawNode({ ...options, id, storage, random: options.random ?? new TestRandom(Number(id % 100000n) + 1) })
  }

  get status(): ReturnType<RawNode['status']> {
    return this.raw.status()
  }
  get state(): RaftRole {
    return this.raw.status().softState.state
  }
  get term(): number {
    return this.raw.status().hardState.term
  }
  get commit(): number {
    return this.raw.status().hardState.commit
  }
  get lead(): RaftMemberId {
    return this.raw.status().softState.lead
  }

  /** The persisted log as [index, term, data] (data as text; conf changes as "cc"). */
  log(): Array<[number, number, string]> {
    const s = this.storage
    return s.entries(s.firstIndex(), s.lastIndex() + 1).map((e) => [e.index, e.term, e.type === 'conf-change' ? 'cc' : new TextDecoder().decode(e.data)])
  }

  /** Applied normal entries with data, in order. */
  appliedData(): string[] {
    return [...this.applied.values()].filter((e) => e.type === 'normal' && e.data !== '').map((e) => e.data)
  }

  confStateAt(index: number): ConfState | undefined {
    let cs: ConfState | undefined
    for (const h of this.confHistory) if (h.index <= index) cs = h.cs
    return cs
  }
}

/** Message filter: return true to drop. */
export type DropRule = (m: Message) => boolean

const enc = new TextEncoder()

function encodeApplied(applied: Map<number, AppliedEntry>, upTo: number): Uint8Array {
  return enc.encode(JSON.stringify([...applied.values()].filter((e) => e.index <= upTo)))
}

/** Construction options for {@link Sim}. */
export interface SimInit {
  /** Member ids of the initial cluster (all bootstrapped as voters). */
  ids: RaftMemberId[]
  /** Options for every node. */
  options?: NodeOptions
  /** Per-node option overrides. */
  perNode?: ReadonlyMap<RaftMemberId, NodeOptions>
  /** Bootstrap the cluster with `ids` as voters (default true). */
  bootstrap?: boolean
  /** Check safety invariants after every delivery round (default true). */
  checkInvariants?: boolean
  /** Pre-filled storages (their nodes are not bootstrapped). */
  storages?: ReadonlyMap<RaftMemberId, MemoryRaftStorage>
}

/** A simulated cluster. */
export class Sim {
  readonly nodes = new Map<RaftMemberId, SimNode>()
  queue: Message[] = []
  rules: DropRule[] = []
  readonly checker = new InvariantChecker()
  readonly check: boolean
  /** Every message delivered (after drop rules), in order. */
  delivered: Message[] = []
  /** Observes each Ready before it is handled. */
  onReady: ((n: SimNode, rd: Ready) => void) | undefined = undefined
  /** Observes each delivery attempt. */
  onDeliver: ((m: Message, delivered: boolean) => void) | undefined = undefined
  /** Like a real transport, tell the sender whether each snapshot message got through. */
  reportSnapshots = true
  /** Rewrites (or, returning undefined, drops) a message before delivery. */
  transform: ((m: Message) => Message | undefined) | undefined = undefined

  constructor(init: SimInit) {
    this.check = init.checkInvariants ?? true
    for (const id of init.ids) {
      const opts = { ...init.options, ...init.perNode?.get(id) }
      const given = init.storages?.get(id)
      const n = new SimNode(id, given ?? new MemoryRaftStorage(), opts)
      if (given === undefined && (init.bootstrap ?? true)) n.raw.bootstrap(init.ids.map((p) => ({ id: p })))
      this.nodes.set(id, n)
    }
    this.processAllReady()
  }

  node(id: RaftMemberId): SimNode {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`no node ${id}`)
    return n
  }

  /** Adds an empty (not bootstrapped) member that waits to be contacted. */
  addNode(id: RaftMemberId, options: NodeOptions = {}): SimNode {
    const n = new SimNode(id, new MemoryRaftStorage(), options)
    this.nodes.set(id, n)
    return n
  }

  /** Handles one node's Ready following the documented order. Returns whether there was one. */
  processReady(id: RaftMemberId): boolean {
    const n = this.node(id)
    if (!n.alive || !n.raw.hasReady()) return false
    const rd: Ready = n.raw.ready()
    this.onReady?.(n, rd)
    if (rd.snapshot !== undefined) n.storage.applySnapshot(rd.snapshot)
    n.storage.append(rd.entries)
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState)
    for (const m of rd.messages) {
      n.sent.push(m)
      this.queue.push(m)
    }
    if (rd.snapshot !== undefined) {
      const { index, confState } = rd.snapshot.metadata
      const list = JSON.parse(new TextDecoder().decode(rd.snapshot.data)) as AppliedEntry[]
      n.applied = new Map(list.map((e) => [e.index, e]))
      n.appliedIndex = index
      n.confHistory.push({ index, cs: confState })
    }
    for (const e of rd.committedEntries) {
      if (e.type === 'conf-change') {
        let cs: ConfState
        try {
          cs = n.raw.applyConfChange(decodeConfChange(e.data))
        } catch (err) {
          // An application validates changes before applying them; an invalid one is skipped
          // identically on every member.
          if (!(err instanceof Error) || err.name !== 'InvalidArgumentError') throw err
          cs = n.raw.status().config
        }
        n.confHistory.push({ index: e.index, cs })
      }
      n.applied.set(e.index, { index: e.index, term: e.term, type: e.type, data: e.type === 'normal' ? new TextDecoder().decode(e.data) : 'cc' })
      n.appliedIndex = e.index
    }
    n.readStates.push(...rd.readStates)
    n.raw.advance(rd)
    if (this.check) this.checker.afterReady(n)
    return true
  }

  /** Processes every node's Ready once. Returns whether any had one. */
  processAllReady(): boolean {
    let any = false
    for (const id of [...this.nodes.keys()].sort((a, b) => (a < b ? -1 : 1))) if (this.processReady(id)) any = true
    return any
  }

  /** Delivers every queued message once (dropping per the rules). Returns whether any was queued. */
  deliverAll(): boolean {
    if (this.queue.length === 0) return false
    const msgs = this.queue
    this.queue = []
    for (const m of msgs) this.deliver(m)
    return true
  }

  /** Delivers one message unless a rule drops it or the target is down. */
  deliver(msg: Message): void {
    const ok = this.#deliver(msg)
    this.onDeliver?.(msg, ok)
    if (msg.type === 'snapshot' && this.reportSnapshots) {
      const from = this.nodes.get(msg.from)
      if (from?.alive === true) from.raw.reportSnapshot(msg.to, ok)
    }
  }

  #deliver(msg: Message): boolean {
    if (this.rules.some((r) => r(msg))) return false
    const m = this.transform === undefined ? msg : this.transform(msg)
    if (m === undefined) return false
    const to = this.nodes.get(m.to)
    if (to === undefined || !to.alive) return false
    const from = this.nodes.get(m.from)
    if (from !== undefined && !from.alive) return false
    this.delivered.push(m)
    to.raw.step(m)
    return true
  }

  /** Runs Ready processing and delivery until quiet. */
  stabilize(maxRounds = 10_000): void {
    for (let i = 0; i < maxRounds; i++) {
      const a = this.processAllReady()
      const b = this.deliverAll()
      if (!a && !b) {
        if (this.check) this.checker.check(this, true)
        return
      }
      if (this.check) this.checker.check(this)
    }
    throw new Error('cluster did not stabilize')
  }

  /** Ticks `ids` (default: every live node) `n` times, stabilizing after each tick. */
  tick(n = 1, ids?: RaftMemberId[]): void {
    for (let i = 0; i < n; i++) {
      for (const id of ids ?? [...this.nodes.keys()]) {
        const node = this.node(id)
        if (node.alive) node.raw.tick()
      }
      this.stabilize()
    }
  }

  /** Makes `id` campaign and stabilizes. */
  campaign(id: RaftMemberId): void {
    this.node(id).raw.campaign()
    this.stabilize()
  }

  /** Proposes text data on `id` and stabilizes. */
  propose(id: RaftMemberId, data: string): void {
    this.node(id).raw.propose(enc.encode(data))
    this.stabilize()
  }

  /** The live leader with the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined
    for (const n of this.nodes.values()) {
      if (n.alive && n.state === 'leader' && (best === undefined || n.term > best.term)) best = n
    }
    return best
  }

  /** Ticks until some node is leader (at most `maxTicks`). */
  electLeader(maxTicks = 200): SimNode {
    for (let i = 0; i < maxTicks; i++) {
      const l = this.leader()
      if (l !== undefined) return l
      this.tick(1)
    }
    throw new Error('no leader elected')
  }

  /** Drops all traffic to and from `id`. Returns the rule, to remove it later. */
  isolate(id: RaftMemberId): DropRule {
    const r: DropRule = (m) => m.from === id || m.to === id
    this.rules.push(r)
    return r
  }

  /** Drops traffic between `a` and `b` (both ways). */
  cut(a: RaftMemberId, b: RaftMemberId): DropRule {
    const r: DropRule = (m) => (m.from === a && m.to === b) || (m.from === b && m.to === a)
    this.rules.push(r)
    return r
  }

  /** Splits the cluster: traffic between `side` and the rest is dropped. */
  partition(side: RaftMemberId[]): DropRule {
    const set = new Set(side)
    const r: DropRule = (m) => set.has(m.from) !== set.has(m.to)
    this.rules.push(r)
    return r
  }

  /** Drops messages matching `pred`. */
  drop(pred: DropRule): DropRule {
    this.rules.push(pred)
    return pred
  }

  /** Removes one rule, or all. */
  recover(rule?: DropRule): void {
    this.rules = rule === undefined ? [] : this.rules.filter((r) => r !== rule)
  }

  /** Stops a node (its storage survives, as if persisted state were on disk). */
  crash(id: RaftMemberId): void {
    const n = this.node(id)
    n.alive = false
    this.queue = this.queue.filter((m) => m.from !== id && m.to !== id)
  }

  /** Restarts a crashed node from its storage; its state machine is rebuilt from the snapshot. */
  restart(id: RaftMemberId): void {
    const n = this.node(id)
    const snap = n.storage.snapshot()
    const list = snap.metadata.index === 0 ? [] : (JSON.parse(new TextDecoder().decode(snap.data)) as AppliedEntry[])
    n.applied = new Map(list.map((e) => [e.index, e]))
    n.appliedIndex = snap.metadata.index
    n.confHistory = snap.metadata.index === 0 ? [] : [{ index: snap.metadata.index, cs: snap.metadata.confState }]
    n.raw = new RawNode({ ...n.options, id, storage: n.storage, random: n.options.random ?? new TestRandom(Number(id % 100000n) + 7), applied: snap.metadata.index })
    n.alive = true
    // Re-apply what was committed but not covered by the snapshot.
    while (this.processReady(id)) {
      /* drain */
    }
  }

  /** Snapshots `id`'s state machine at `index` (default: applied) and compacts its log there. */
  compact(id: RaftMemberId, index?: number): void {
    const n = this.node(id)
    const at = index ?? n.appliedIndex
    const cs = n.confStateAt(at) ?? n.raw.status().config
    n.storage.createSnapshot(at, cs, encodeApplied(n.applied, at))
    n.storage.compact(at)
  }

  /** The ids of live nodes. */
  ids(): RaftMemberId[] {
    return [...this.nodes.keys()]
  }
}

/** Random helper re-exported for tests that need their own. */
export type { Random }
