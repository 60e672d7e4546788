/**
 * A small in-process cluster of RaftNode drivers on a ManualClock, with a message bus that
 * delivers through clock timers and can isolate members. (The full fault model lives in
 * testkit's MemoryNetwork; this bus is just enough for driver tests.)
 */
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { MemoryRaftStorage, RaftNode } from '../../src/index.ts'
import type { Message, RaftNodeInit, RaftTransport, RaftTransportHandlers, StateMachine } from '../../src/index.ts'

/** A key-value state machine: proposals are `key=value` strings; apply returns the new value. */
export class KvStateMachine implements StateMachine {
  data = new Map<string, string>()
  applied: string[] = []
  apply(payload: Uint8Array): unknown {
    const text = new TextDecoder().decode(payload)
    const eq = text.indexOf('=')
    this.data.set(text.slice(0, eq), text.slice(eq + 1))
    this.applied.push(text)
    return text.slice(eq + 1)
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([...this.data]))
  }
  restore(data: Uint8Array): void {
    this.data = new Map(JSON.parse(new TextDecoder().decode(data)) as [string, string][])
  }
}

/** Delivers messages after `delayMs` unless either end is isolated. */
export class Bus {
  readonly handlers = new Map<bigint, RaftTransportHandlers>()
  readonly isolated = new Set<bigint>()
  delivered = 0
  readonly clock: ManualClock
  readonly delayMs: number
  constructor(clock: ManualClock, delayMs = 1) {
    this.clock = clock
    this.delayMs = delayMs
  }

  endpoint(self: bigint): RaftTransport {
    return {
      start: (h) => {
        this.handlers.set(self, h)
        return Promise.resolve()
      },
      send: (msgs: readonly Message[]) => {
        for (const m of msgs) {
          this.clock.setTimeout(() => {
            const cut = this.isolated.has(self) || this.isolated.has(m.to)
            const target = this.handlers.get(m.to)
            if (m.type === 'snapshot') this.handlers.get(self)?.snapshotStatus?.(m.to, !cut && target !== undefined)
            if (cut || target === undefined) return
            this.delivered++
            target.message(m)
          }, this.delayMs)
        }
      },
      addPeer: () => {},
      removePeer: () => {},
      stop: () => {
        this.handlers.delete(self)
        return Promise.resolve()
      },
    }
  }
}

/**
 * Makes every member created from now on hand `record` the messages its transport is given
 * (with the sender), before they go on the bus.
 */
export function recordSends(bus: Bus, record: (from: bigint, msgs: readonly Message[]) => void): void {
  bus.endpoint = (self: bigint): RaftTransport => {
    const t = Bus.prototype.endpoint.call(bus, self)
    return {
      ...t,
      send: (msgs: readonly Message[]) => {
        record(self, msgs)
        t.send(msgs)
      },
    }
  }
}

export interface DriverMember {
  id: bigint
  node: RaftNode
  storage: MemoryRaftStorage
  sm: KvStateMachine
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r))
}

export class DriverCluster {
  readonly clock = new ManualClock(0)
  readonly random = new SeededRandom(42)
  readonly bus = new Bus(this.clock)
  readonly members = new Map<bigint, DriverMember>()

  readonly options: Partial<Omit<RaftNodeInit, 'id' | 'storage' | 'transport' | 'stateMachine'>>
  constructor(options: Partial<Omit<RaftNodeInit, 'id' | 'storage' | 'transport' | 'stateMachine'>> = {}) {
    this.options = options
  }

  /** Creates a member (fresh storage unless given) without starting it. */
  create(id: bigint, storage = new MemoryRaftStorage({ incarnation: null })): DriverMember {
    const sm = new KvStateMachine()
    const node = new RaftNode({
      id,
      storage,
      transport: this.bus.endpoint(id),
      stateMachine: sm,
      clock: this.clock,
      random: this.random.fork(),
      tickMs: 100,
      ...this.options,
    })
    const m = { id, node, storage, sm }
    this.members.set(id, m)
    return m
  }

  /** Bootstraps and starts `ids` as a new cluster. */
  async bootstrap(ids: bigint[]): Promise<void> {
    for (const id of ids) {
      const m = this.create(id)
      m.node.bootstrap(ids.map((p) => ({ id: p, address: `node-${p}` })))
    }
    for (const id of ids) await this.get(id).node.start()
    await flush()
  }

  get(id: bigint): DriverMember {
    const m = this.members.get(id)
    if (m === undefined) throw new Error(`no member ${id}`)
    return m
  }

  /** Advances virtual time in ticks, letting the drivers' async work run between them. */
  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 10) {
      this.clock.advance(10)
      await flush()
    }
  }

  /** Runs until some started member is leader; returns it. */
  async waitLeader(maxMs = 20_000): Promise<DriverMember> {
    for (let t = 0; t < maxMs; t += 100) {
      const leaders = [...this.members.values()].filter((m) => m.node.isLeader && !this.bus.isolated.has(m.id))
      if (leaders.length === 1 && leaders[0] !== undefined) return leaders[0]
      await this.run(100)
    }
    throw new Error('no leader elected')
  }

  /** A member other than `leader`. */
  follower(leader: DriverMember): DriverMember {
    const f = [...this.members.values()].find((m) => m.id !== leader.id)
    if (f === undefined) throw new Error('no follower')
    return f
  }

  /** Resolves `p` while time advances. */
  async settle<T>(p: Promise<T>, maxMs = 20_000): Promise<T> {
    let done = false
    const guarded = p.finally(() => (done = true))
    for (let t = 0; t < maxMs && !done; t += 10) await this.run(10)
    return guarded
  }
}
