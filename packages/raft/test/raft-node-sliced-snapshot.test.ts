/**
 * The driver's snapshots of a state machine with `beginSnapshot`: captured at index I, encoded one
 * bounded slice per turn of the driver's clock, stored at I (never with a later entry in it) and
 * the log compacted; dropped when a Raft snapshot is restored meanwhile.
 */
import type { LogFields, Logger } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { MemoryRaftStorage, RaftNode } from '../src/index.ts'
import { decodeNodeSnapshot } from '../src/driver/raft-node-codec.ts'
import { DriverCluster, KvStateMachine } from './helpers/driver-cluster.ts'
import type { DriverMember } from './helpers/driver-cluster.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

/** The key-value machine, snapshotted `sliceKeys` keys per step; records what each step did. */
class SlicedKv extends KvStateMachine {
  sliceKeys = 2
  /** While true, steps do nothing (a snapshot that never completes until released). */
  hold = false
  /** When set, the last step returns the bytes as parts of this many bytes (the last one shorter), with an empty part first. */
  partBytes: number | undefined
  /** The log index each key was last written at. */
  readonly writtenAt = new Map<string, number>()
  /** Per step: keys encoded, and how many of the clock's timers had fired before it. */
  readonly steps: { keys: number; timersFired: number }[] = []
  captures = 0
  /** The last index applied here at each capture. */
  readonly capturedAt: number[] = []
  #lastIndex = 0
  timersFired: () => number = () => 0

  override apply(payload: Uint8Array, entry?: { index: number; term: number }): unknown {
    const text = new TextDecoder().decode(payload)
    this.#lastIndex = entry?.index ?? 0
    this.writtenAt.set(text.slice(0, text.indexOf('=')), this.#lastIndex)
    return super.apply(payload)
  }

  beginSnapshot(): { step(): Uint8Array | readonly Uint8Array[] | undefined } {
    this.captures++
    this.capturedAt.push(this.#lastIndex)
    const entries = [...this.data]
    let next = 0
    return {
      step: () => {
        if (this.hold) return undefined
        if (next >= entries.length) {
          this.steps.push({ keys: 0, timersFired: this.timersFired() })
          const bytes = new TextEncoder().encode(JSON.stringify(entries))
          const size = this.partBytes
          if (size === undefined) return bytes
          const parts = [new Uint8Array(0)]
          for (let at = 0; at < bytes.length; at += size) parts.push(bytes.slice(at, at + size))
          return parts
        }
        const end = Math.min(entries.length, next + this.sliceKeys)
        this.steps.push({ keys: end - next, timersFired: this.timersFired() })
        next = end
        return undefined
      },
    }
  }
}

/** A DriverCluster whose members run {@link SlicedKv}, with the clock's fired timers counted. */
class SlicedCluster extends DriverCluster {
  fired = 0
  readonly logs: [string, LogFields | undefined][] = []

  constructor(options: ConstructorParameters<typeof DriverCluster>[0] = {}) {
    super(options)
    const setTimeout = this.clock.setTimeout.bind(this.clock)
    this.clock.setTimeout = (cb, ms) =>
      setTimeout(() => {
        this.fired++
        cb()
      }, ms)
  }

  override create(id: bigint, storage = new MemoryRaftStorage({ incarnation: null })): DriverMember {
    const sm = new SlicedKv()
    sm.timersFired = () => this.fired
    const record = (message: string, fields?: LogFields): void => void this.logs.push([message, fields])
    const logger: Logger = { debug: () => undefined, info: record, warn: record, error: record, child: () => logger }
    const node = new RaftNode({ id, storage, transport: this.bus.endpoint(id), stateMachine: sm, clock: this.clock, random: this.random.fork(), tickMs: 100, logger, ...this.options })
    const m = { id, node, storage, sm }
    this.members.set(id, m)
    return m
  }

  sm(id: bigint): SlicedKv {
    return this.get(id).sm as SlicedKv
  }
}

/** The key-value state inside a driver snapshot's bytes. */
const stateOf = (data: Uint8Array): [string, string][] => JSON.parse(new TextDecoder().decode(decodeNodeSnapshot(data).state)) as [string, string][]

describe('RaftNode: snapshots encoded in slices (StateMachine.beginSnapshot)', () => {
  it('stores the state of index I, without the entries applied while it was encoded, and compacts the log', async () => {
    const c = new SlicedCluster({ snapshotInterval: 10, logEntriesForSlowFollowers: 2 })
    await c.bootstrap([1n])
    const m = await c.waitLeader()
    const sm = c.sm(1n)
    sm.sliceKeys = 3
    const created: number[] = []
    let appliedPast = 0
    const createSnapshot = m.storage.createSnapshot.bind(m.storage)
    m.storage.createSnapshot = (index, cs, data) => {
      created.push(index)
      appliedPast = Math.max(appliedPast, m.node.applied - index)
      return createSnapshot(index, cs, data)
    }
    // Proposals keep coming while the snapshots are encoded: each entry writes a key of its own.
    for (let i = 0; i < 40; i++) await c.settle(m.node.propose(enc(`k${i}=${i}`)))
    await c.run(1000)
    expect(sm.captures).toBeGreaterThanOrEqual(3)
    expect(created.length).toBe(sm.captures)
    // Entries were applied while a snapshot was encoded.
    expect(appliedPast).toBeGreaterThan(0)
    const snap = m.storage.snapshot()
    expect(snap.metadata.index).toBe(created.at(-1))
    // Exactly the keys written at or below the snapshot's index.
    const expected = [...sm.data].filter(([k]) => (sm.writtenAt.get(k) ?? Infinity) <= snap.metadata.index)
    expect(stateOf(snap.data)).toEqual(expected)
    expect(m.storage.firstIndex()).toBe(snap.metadata.index - 2 + 1)

    // A restart restores it, then replays the rest.
    await m.node.stop()
    const again = c.create(1n, m.storage)
    expect([...again.sm.data]).toEqual(expected)
    await again.node.start()
    await c.waitLeader()
    await c.run(500)
    expect(again.sm.data.size).toBe(40)
  })

  it('takes the bytes as consecutive parts: the snapshot stored holds them joined, and restores', async () => {
    const c = new SlicedCluster({ snapshotInterval: 10, logEntriesForSlowFollowers: 2 })
    await c.bootstrap([1n])
    const m = await c.waitLeader()
    const sm = c.sm(1n)
    sm.partBytes = 7
    for (let i = 0; i < 25; i++) await c.settle(m.node.propose(enc(`key${i}=${i}`)))
    await c.run(1000)
    expect(sm.captures).toBeGreaterThanOrEqual(2)
    const snap = m.storage.snapshot()
    const expected = [...sm.data].filter(([k]) => (sm.writtenAt.get(k) ?? Infinity) <= snap.metadata.index)
    expect(expected.length).toBeGreaterThan(10)
    expect(stateOf(snap.data)).toEqual(expected)
    await m.node.stop()
    const again = c.create(1n, m.storage)
    expect([...again.sm.data]).toEqual(expected)
  })

  it('never encodes more than one slice per turn: each step has a timer of its own', async () => {
    const c = new SlicedCluster({ snapshotInterval: 10, logEntriesForSlowFollowers: 0 })
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    for (const id of [1n, 2n, 3n]) c.sm(id).sliceKeys = 2
    for (let i = 0; i < 25; i++) await c.settle(leader.node.propose(enc(`k${i}=${i}`)))
    await c.run(1000)
    for (const id of [1n, 2n, 3n]) {
      const { steps, captures } = c.sm(id)
      expect(captures).toBe(2)
      expect(steps.length).toBeGreaterThan(10)
      for (const s of steps) expect(s.keys).toBeLessThanOrEqual(2)
      for (let i = 1; i < steps.length; i++) expect(steps[i]?.timersFired).toBeGreaterThan(steps[i - 1]?.timersFired ?? Infinity)
      expect(c.get(id).storage.snapshot().metadata.index).toBeGreaterThanOrEqual(20)
    }
  })

  it('keeps encoding under steady load, between Readies', async () => {
    const c = new SlicedCluster({ snapshotInterval: 10, logEntriesForSlowFollowers: 0 })
    await c.bootstrap([1n])
    const m = await c.waitLeader()
    c.sm(1n).sliceKeys = 100
    // Each write takes a macrotask to become durable, and the next proposal is made as soon as
    // the previous one is applied: the loop always has another Ready to handle.
    m.storage.sync = () => new Promise<void>((resolve) => setImmediate(resolve))
    let snapshotDuringLoad = 0
    const chain = async (): Promise<void> => {
      for (let i = 0; i < 60; i++) await m.node.propose(enc(`k${i}=${i}`))
      snapshotDuringLoad = m.storage.snapshot().metadata.index
    }
    await c.settle(chain())
    // Snapshots at 10, 20, 30, … were taken while the 60 proposals kept coming (none, had slices
    // waited for an idle loop).
    expect(snapshotDuringLoad).toBeGreaterThanOrEqual(30)
  })

  it('drops the snapshot in flight when a newer one from the leader is restored meanwhile', async () => {
    const c = new SlicedCluster({ snapshotInterval: 5, logEntriesForSlowFollowers: 0 })
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    const f = c.follower(leader)
    const fsm = c.sm(f.id)
    fsm.hold = true
    for (let i = 0; i < 6; i++) await c.settle(leader.node.propose(enc(`a${i}=${i}`)))
    await c.run(200)
    expect(fsm.captures).toBe(1)
    expect(fsm.capturedAt).toEqual([5])
    const heldAt = f.node.applied
    // The follower falls behind the leader's compaction point, then catches up by snapshot.
    c.bus.isolated.add(f.id)
    for (let i = 0; i < 12; i++) await c.settle(leader.node.propose(enc(`b${i}=${i}`)))
    await c.run(200)
    expect(leader.storage.firstIndex()).toBeGreaterThan(heldAt + 1)
    c.bus.isolated.delete(f.id)
    await c.run(2000)
    expect(f.sm.data.size).toBe(18)
    const restored = f.storage.snapshot().metadata.index
    expect(c.logs.filter(([msg]) => msg.startsWith('raft: snapshot in progress dropped'))).toEqual([
      ['raft: snapshot in progress dropped, a newer one was restored', { index: fsm.capturedAt[0], restored }],
    ])
    // The held one is never stepped again: released, nothing is stored at its index.
    const stepsBefore = fsm.steps.length
    fsm.hold = false
    await c.run(500)
    expect(fsm.steps.length).toBe(stepsBefore)
    expect(f.storage.snapshot().metadata.index).toBeGreaterThan(heldAt)
    expect(fsm.data).toEqual(c.sm(leader.id).data)
  })

  it('stops with a snapshot in flight: nothing is stored, nothing fails', async () => {
    const c = new SlicedCluster({ snapshotInterval: 5, logEntriesForSlowFollowers: 0 })
    await c.bootstrap([1n])
    const m = await c.waitLeader()
    c.sm(1n).hold = true
    for (let i = 0; i < 6; i++) await c.settle(m.node.propose(enc(`k${i}=${i}`)))
    await c.run(100)
    expect(c.sm(1n).captures).toBe(1)
    await m.node.stop()
    c.sm(1n).hold = false
    await c.run(500)
    expect(m.storage.snapshot().metadata.index).toBe(0)
    expect(c.logs.filter(([msg]) => msg === 'raft: node failed')).toEqual([])
  })
})
