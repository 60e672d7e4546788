/**
 * The simulated world: real {@link RaftNode} drivers on {@link SimDisk}s over a simulated
 * network, all on one {@link ManualClock} and seeded randomness. Time jumps from one due instant
 * to the next: every timer due then runs, then every pending promise callback (a macrotask turn
 * drains them), then the invariants are checked. Nothing depends on wall-clock time, so a
 * schedule replays exactly.
 *
 * A crash is process death: the member's endpoint is cut off at once, its disk loses unsynced
 * writes (and its pending `sync()` never completes), its timers stop, and its pending client
 * requests become indeterminate. A restart builds a new driver on the surviving disk.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { RaftNode } from '../../src/index.ts'
import type { Message, RaftStatus, RaftTransport, RaftTransportHandlers } from '../../src/index.ts'
import { KvMachine } from './kv-machine.ts'
import { SimChecker, SimViolation } from './sim-checker.ts'
import type { CheckedMember } from './sim-checker.ts'
import { SimDisk } from './sim-disk.ts'
import type { DiskFault } from './sim-disk.ts'
import type { SimNetwork } from './sim-network.ts'

/** Parameters of a world. */
export interface WorldInit {
  /** Initial voters. */
  size: number
  seed: number
  /** Milliseconds per tick. @default 10 */
  tickMs?: number
  /** Ticks per election timeout. @default 10 */
  electionTick?: number
  /** Automatic snapshot interval in applied entries (0: never). */
  snapshotInterval: number
  /** Entries kept behind a snapshot. */
  keep: number
  /** @default 'safe' */
  readOnly?: 'safe' | 'lease-based'
  maxSizePerMsg?: number
  maxInflightMsgs?: number
  /** @default 2 */
  maxSyncDelayMs?: number
  diskFault?: DiskFault
  /** See `Schedule.atomicSnapshotWrites`. */
  atomicSnapshotWrites?: boolean
  /** See `Schedule.commitBroadcastDelayMs`. @default 0 */
  commitBroadcastDelayMs?: number
  /** Check durable-state invariants. @default true */
  durabilityChecks?: boolean
  /** Receives a line per notable event (roles, crashes, client operations), for debugging. */
  trace?: (line: string) => void
  /**
   * Builds the network on the world's clock and a seeded random; `directory` tells the address
   * of any member the world created.
   */
  network(clock: ManualClock, random: SeededRandom, directory: (id: RaftMemberId) => string | undefined): SimNetwork
}

/** One member of the world, across its process incarnations. */
export class SimMember implements CheckedMember {
  readonly id: RaftMemberId
  disk: SimDisk
  node: RaftNode | undefined
  sm: KvMachine | undefined
  /** Counts process starts; the checker keeps per-process state by it. */
  incarnation = 0
  /** The running process's connection to the network; `alive` turns false when it dies. */
  link: { alive: boolean } | undefined

  constructor(id: RaftMemberId, disk: SimDisk) {
    this.id = id
    this.disk = disk
  }

  /** Whether a process is running. */
  get up(): boolean {
    return this.node !== undefined
  }
  /** The running process's applied index (0 when down). */
  get applied(): number {
    return this.node?.applied ?? 0
  }
  /** The running process's Raft status. */
  status(): RaftStatus {
    if (this.node === undefined) throw new Error(`member ${this.id} is down`)
    return this.node.status()
  }
}

/** Lets every pending promise callback run: a macrotask turn comes after the microtask queue is empty. */
function drain(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve))
}

/** The simulated cluster. */
export class SimWorld {
  readonly clock = new ManualClock(0)
  readonly random: SeededRandom
  readonly net: SimNetwork
  readonly checker: SimChecker
  readonly members = new Map<RaftMemberId, SimMember>()
  readonly tickMs: number
  readonly electionTick: number
  /** The number of initial voters. */
  readonly initialSize: number
  readonly #init: WorldInit
  #nextId: bigint
  /** Called when a member's process dies (to fail its pending client requests). */
  onCrash: ((m: SimMember) => void) | undefined
  /** Errors raised inside callbacks (driver failures, broken invariants in observers). */
  readonly errors: Error[] = []
  events = 0
  /** What happened during the run (for coverage reports). */
  readonly stats = { crashes: 0, tornCrashes: 0, restarts: 0, added: 0, snapshotsSent: 0, duplicatesApplied: 0 }

  constructor(init: WorldInit) {
    this.#init = init
    this.random = new SeededRandom(init.seed)
    this.tickMs = init.tickMs ?? 10
    this.initialSize = init.size
    this.electionTick = init.electionTick ?? 10
    this.net = init.network(this.clock, this.random.fork(), (id) => (this.members.has(id) ? `sim-${id}` : undefined))
    this.checker = new SimChecker({ durability: init.durabilityChecks ?? true, bootstrapEntries: init.size })
    this.#nextId = BigInt(init.size) + 1n
  }

  /** One election timeout in ms. */
  get electionMs(): number {
    return this.electionTick * this.tickMs
  }

  #newDisk(id: RaftMemberId): SimDisk {
    return new SimDisk({
      clock: this.clock,
      random: this.random.fork(),
      maxSyncDelayMs: this.#init.maxSyncDelayMs ?? 2,
      fault: this.#init.diskFault ?? 'none',
      atomicSnapshotWrites: this.#init.atomicSnapshotWrites ?? false,
      // Distinct per member, kept across its crashes, and drawing nothing from the seeded random.
      incarnation: 0x5eed000000000000n + id,
      observer: {
        appended: (entries, prevTerm) => this.#guard(() => this.checker.onAppend(id, entries, prevTerm)),
        synced: (disk) => this.#guard(() => this.checker.onSynced(id, disk)),
      },
    })
  }

  /** Runs `fn`, keeping its error for the event loop to rethrow (callbacks must not throw into the driver). */
  #guard(fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.errors.push(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /** Creates and starts the initial voters. */
  async bootstrap(): Promise<void> {
    const ids = this.#initialPeers().map((p) => p.id)
    for (const id of ids) this.members.set(id, new SimMember(id, this.#newDisk(id)))
    for (const id of ids) this.#process(this.get(id)).bootstrap(this.#initialPeers())
    // Members start a few ms apart, so their tick phases differ as on real machines.
    for (const id of ids) {
      await this.get(id).node?.start()
      await this.runFor(this.random.int(this.tickMs))
    }
  }

  #initialPeers(): { id: RaftMemberId; address: string }[] {
    return Array.from({ length: this.initialSize }, (_, i) => ({ id: BigInt(i + 1), address: `sim-${i + 1}` }))
  }

  /**
   * Starts a new process on `m`'s surviving disk. Like an embedder, the simulation tells the
   * transport the founding members' addresses (its configuration); the others come from the
   * member's own log and snapshot. A disk on which nothing survived is what an embedder finds
   * before its first write: an initial member bootstraps again (with the same founding
   * configuration, so its log matches everyone's), a joined one is given the addresses a live
   * member knows, as when it joined.
   */
  async restart(m: SimMember): Promise<void> {
    if (m.up) return
    this.trace(`member ${m.id} restarts`)
    this.stats.restarts++
    const empty = m.disk.lastIndex() === 0 && m.disk.snapshot().metadata.index === 0
    const initial = m.id <= BigInt(this.initialSize)
    const peers = new Map(this.#initialPeers().map((p) => [p.id, p.address]))
    if (empty && !initial) for (const [id, address] of this.up().find((x) => (x.node?.members.size ?? 0) > 0)?.node?.members ?? []) peers.set(id, address)
    const node = this.#process(m, peers)
    if (empty && initial) node.bootstrap(this.#initialPeers())
    await node.start()
  }

  /** Builds a driver on `m`'s disk (a new incarnation). */
  #process(m: SimMember, peers: ReadonlyMap<RaftMemberId, string> = new Map()): RaftNode {
    m.incarnation++
    const link = { alive: true }
    const inner = this.net.endpoint(m.id)
    for (const [id, address] of peers) inner.addPeer(id, address)
    const checker = this.checker
    const disk = m.disk
    const transport: RaftTransport = {
      start: (h: RaftTransportHandlers) =>
        inner.start({
          message: (msg, origin) => {
            if (link.alive) h.message(msg, origin)
          },
          unreachable: (to) => {
            if (link.alive) h.unreachable?.(to)
          },
          snapshotStatus: (to, ok) => {
            if (link.alive) h.snapshotStatus?.(to, ok)
          },
        }),
      send: (msgs: readonly Message[]) => {
        if (!link.alive) return
        this.#guard(() => checker.onSend(m.id, disk, msgs))
        for (const msg of msgs) if (msg.type === 'snapshot') this.stats.snapshotsSent++
        inner.send(msgs)
      },
      addPeer: (id, address) => inner.addPeer(id, address),
      removePeer: (id) => inner.removePeer(id),
      stop: () => {
        link.alive = false
        return inner.stop()
      },
    }
    const sm = new KvMachine(
      (index, term, payload, position) => this.#guard(() => checker.onApply(m.id, index, term, payload, position)),
      (op, index) =>
        this.#guard(() => {
          throw new SimViolation('exactly once', `member ${m.id} applied command ${op} again at index ${index}`)
        }),
    )
    const node = new RaftNode({
      id: m.id,
      storage: disk,
      transport,
      stateMachine: sm,
      clock: this.clock,
      random: this.random.fork(),
      tickMs: this.tickMs,
      electionTick: this.electionTick,
      heartbeatTick: 1,
      preVote: true,
      checkQuorum: true,
      stepDownOnRemoval: true,
      snapshotInterval: this.#init.snapshotInterval,
      logEntriesForSlowFollowers: this.#init.keep,
      readOnlyOption: this.#init.readOnly ?? 'safe',
      maxSizePerMsg: this.#init.maxSizePerMsg ?? 65535,
      maxInflightMsgs: this.#init.maxInflightMsgs ?? 256,
      commitBroadcastDelayMs: this.#init.commitBroadcastDelayMs ?? 0,
    })
    const trace = this.#init.trace
    if (trace !== undefined) {
      node.on('state:changed', (role) => trace(`${this.clock.now()} ms: member ${m.id} is ${role} in term ${node.status().hardState.term}`))
    }
    node.on('node:failed', (err) => {
      if (link.alive) this.errors.push(new Error(`member ${m.id} failed: ${String(err)}`, { cause: err }))
    })
    m.node = node
    m.sm = sm
    m.link = link
    return node
  }

  get(id: RaftMemberId): SimMember {
    const m = this.members.get(id)
    if (m === undefined) throw new Error(`no member ${id}`)
    return m
  }

  /** Members with a running process. */
  up(): SimMember[] {
    return [...this.members.values()].filter((m) => m.up)
  }

  /** Writes a trace line, when tracing. */
  trace(line: string): void {
    this.#init.trace?.(`${this.clock.now()} ms: ${line}`)
  }

  /** Kills `m`'s process; with `torn`, a random prefix of its unsynced writes survives. */
  crash(m: SimMember, torn: boolean): void {
    const node = m.node
    if (node === undefined) return
    this.trace(`member ${m.id} crashes${torn ? ' (torn tail)' : ''}`)
    const link = m.link
    if (link !== undefined) link.alive = false
    // Stops the ticker; the loop may stay parked on the dead disk's sync forever: that is death.
    void node.stop()
    this.stats.crashes++
    if (torn) this.stats.tornCrashes++
    this.stats.duplicatesApplied += m.sm?.duplicates ?? 0
    m.node = undefined
    m.sm = undefined
    m.disk = m.disk.crash(torn)
    this.checker.onCrash()
    this.onCrash?.(m)
  }


  /**
   * Creates a brand-new empty member (not in any configuration yet) and starts it. Like a node
   * joining through an existing member, it is given the addresses that member knows (its empty
   * log names no one, and a transport cannot answer a peer it has no address for).
   */
  async addEmptyMember(via: SimMember): Promise<SimMember> {
    const id = this.#nextId++
    const m = new SimMember(id, this.#newDisk(id))
    this.members.set(id, m)
    this.stats.added++
    await this.#process(m, via.node?.members).start()
    return m
  }

  /** The live leader with the highest term, if any. */
  leader(): SimMember | undefined {
    let best: { m: SimMember; term: number } | undefined
    for (const m of this.up()) {
      const st = m.status()
      if (st.softState.state === 'leader' && (best === undefined || st.hardState.term > best.term)) best = { m, term: st.hardState.term }
    }
    return best?.m
  }

  readonly #disks = new Map<RaftMemberId, SimDisk>()

  /** Every member's disk (running, crashed or removed), for durability checks. */
  get disks(): ReadonlyMap<RaftMemberId, SimDisk> {
    for (const [id, m] of this.members) if (this.#disks.get(id) !== m.disk) this.#disks.set(id, m.disk)
    return this.#disks
  }

  /** Runs the clock until `ms` from now, one timer at a time, checking the invariants after each. */
  async runFor(ms: number): Promise<void> {
    await this.runUntil(() => false, ms)
  }

  /** Runs until `done()` holds (checked after every event) or `ms` pass; returns whether it held. */
  async runUntil(done: () => boolean, ms: number): Promise<boolean> {
    const end = this.clock.now() + ms
    if (done()) return true
    for (;;) {
      const due = this.clock.nextDueAt()
      if (due === undefined || due > end) break
      // Every timer due at this instant, then every promise callback they caused.
      this.clock.advance(due - this.clock.now())
      this.events++
      await drain()
      this.check()
      if (done()) return true
    }
    this.clock.advance(end - this.clock.now())
    return done()
  }

  /** Rethrows errors kept from callbacks, then runs the per-event invariant check. */
  check(): void {
    const err = this.errors[0]
    if (err !== undefined) throw err
    this.checker.step(this.up(), this.disks)
  }
}
