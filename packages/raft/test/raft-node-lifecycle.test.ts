/**
 * RaftNode's lifecycle errors: misuse is a FailedPreconditionError, every public method after a
 * storage failure rejects with RaftStoppedError carrying the storage error as `cause` (real
 * files, an fdatasync failing with ENOSPC), and `waitForLeader` on a ManualClock.
 */
import { FailedPreconditionError } from '@swarmkit-ts/api'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { describe, expect, it } from 'vitest'
import { MemoryRaftStorage, RaftNode, RaftStoppedError } from '../src/index.ts'
import type { RaftTransport, StateMachine } from '../src/index.ts'
import { DriverCluster, KvStateMachine, flush } from './helpers/driver-cluster.ts'
import { useFileStorageFixture } from './helpers/file-storage-fixture.ts'

const { tempDir, openIn } = useFileStorageFixture('raft-node-lifecycle-')
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

/** A transport for a single-member cluster: nothing to send to. */
function loneTransport(): RaftTransport {
  return { start: () => Promise.resolve(), send: () => {}, addPeer: () => {}, removePeer: () => {}, stop: () => Promise.resolve() }
}

function lone(storage: ConstructorParameters<typeof RaftNode>[0]['storage'], sm: StateMachine = new KvStateMachine()): RaftNode {
  return new RaftNode({ id: 1n, storage, transport: loneTransport(), stateMachine: sm, clock: new ManualClock(0), random: new SeededRandom(3), tickMs: 100 })
}

/**
 * Waits (on the event loop, no clock) until the bootstrap's conf changes are applied: the core
 * ignores a campaign while a committed conf change is unapplied.
 */
async function appliedBootstrap(node: RaftNode): Promise<void> {
  for (let i = 0; i < 10_000 && node.applied < 1; i++) await new Promise<void>((r) => setImmediate(r))
  expect(node.applied).toBe(1)
}

/** What a promise rejected with (fails the test if it resolved). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${String(v)}`)
    },
    (e: unknown) => e,
  )
}

describe('RaftNode misuse', () => {
  it('refuses a second start, and bootstrap after start, with FailedPreconditionError', async () => {
    const node = lone(new MemoryRaftStorage())
    node.bootstrap([{ id: 1n, address: 'a1' }])
    await node.start()
    await expect(node.start()).rejects.toBeInstanceOf(FailedPreconditionError)
    expect(() => node.bootstrap([{ id: 1n, address: 'a1' }])).toThrow(FailedPreconditionError)
    await node.stop()
    await expect(node.start()).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'already-started' })
  })

  it('refuses requests before start with FailedPreconditionError, and after stop with RaftStoppedError', async () => {
    const node = lone(new MemoryRaftStorage())
    node.bootstrap([{ id: 1n, address: 'a1' }])
    for (const call of [() => node.propose(enc('a=1')), () => node.linearizableRead(), () => node.addMember(2n, 'a2'), () => node.transferLeadership(2n)]) {
      await expect(call()).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'not-started' })
    }
    expect(() => node.campaign()).toThrow(FailedPreconditionError)
    await node.start()
    await node.stop()
    for (const call of [() => node.propose(enc('a=1')), () => node.linearizableRead(), () => node.removeMember(2n), () => node.transferLeadership(2n), () => node.waitForLeader()]) {
      const err = await rejection(call())
      expect(err).toBeInstanceOf(RaftStoppedError)
      expect((err as Error).cause).toBeUndefined()
    }
    expect(() => node.campaign()).toThrow(RaftStoppedError)
  })
})

describe('RaftNode after a storage failure', () => {
  it('rejects every later request with RaftStoppedError whose cause is the ENOSPC of fdatasync', async () => {
    const dir = await tempDir()
    const boom = Object.assign(new Error('ENOSPC: no space left on device, fdatasync'), { code: 'ENOSPC' })
    let failing = false
    const storage = await openIn(dir, {
      hooks: {
        beforeSync: (path) => {
          if (failing && path.endsWith('.log')) throw boom
        },
      },
    })
    const sm = new KvStateMachine()
    const node = lone(storage, sm)
    const failures: unknown[] = []
    node.on('node:failed', (err) => failures.push(err))
    node.bootstrap([{ id: 1n, address: 'a1' }])
    await node.start()
    await flush()
    await appliedBootstrap(node)
    node.campaign()
    expect(await node.waitForLeader()).toBe(1n)
    expect(await node.propose(enc('a=1'))).toBe('1')

    failing = true
    // The proposal whose write fails, and one made after the failure: the same error.
    const pending = rejection(node.propose(enc('b=2')))
    const firstErr = await pending
    expect(failures).toEqual([boom])
    expect(firstErr).toBeInstanceOf(RaftStoppedError)
    expect((firstErr as Error).cause).toBe(boom)

    const later: Array<[string, () => Promise<unknown>]> = [
      ['propose', () => node.propose(enc('c=3'))],
      ['linearizableRead', () => node.linearizableRead()],
      ['addMember', () => node.addMember(2n, 'a2')],
      ['addLearner', () => node.addLearner(3n, 'a3')],
      ['promote', () => node.promote(1n)],
      ['updateMember', () => node.updateMember(1n, 'a1b')],
      ['removeMember', () => node.removeMember(2n)],
      ['transferLeadership', () => node.transferLeadership(2n)],
      ['waitForLeader', () => node.waitForLeader()],
    ]
    for (const [method, call] of later) {
      const err = await rejection(call())
      expect({ method, name: (err as Error).name, cause: (err as Error).cause }).toEqual({ method, name: 'RaftStoppedError', cause: boom })
    }
    expect(() => node.campaign()).toThrow(RaftStoppedError)
    expect(sm.applied).toEqual(['a=1'])
    await node.stop()
  })

  it('rejects a waitForLeader that was waiting when the storage failed', async () => {
    const boom = new Error('EIO: injected')
    class FailingStorage extends MemoryRaftStorage {
      override sync(): Promise<void> {
        return Promise.reject(boom)
      }
    }
    const node = lone(new FailingStorage())
    node.bootstrap([{ id: 1n, address: 'a1' }])
    const waiting = rejection(node.waitForLeader())
    await node.start()
    await flush()
    const err = await waiting
    expect(err).toBeInstanceOf(RaftStoppedError)
    expect((err as Error).cause).toBe(boom)
    await node.stop()
  })
})

describe('RaftNode.waitForLeader', () => {
  it('resolves with the elected leader, and at once when one is known', async () => {
    const c = new DriverCluster()
    for (const id of [1n, 2n, 3n]) c.create(id).node.bootstrap([1n, 2n, 3n].map((p) => ({ id: p, address: `node-${p}` })))
    const node = c.get(2n).node
    let result: bigint | undefined
    const waiting = node.waitForLeader().then((id) => (result = id))
    for (const id of [1n, 2n, 3n]) await c.get(id).node.start()
    await flush()
    expect(result).toBeUndefined()
    const leader = await c.waitLeader()
    await c.settle(waiting)
    expect(result).toBe(leader.id)
    expect(node.leader).toBe(leader.id)
    // Known now: settles without any time passing.
    let again: bigint | undefined
    void node.waitForLeader().then((id) => (again = id))
    await flush()
    expect(again).toBe(leader.id)
    for (const m of c.members.values()) await m.node.stop()
  })

  it('rejects with the signal reason (or an AbortError) when aborted, and with RaftStoppedError on stop', async () => {
    const c = new DriverCluster()
    const m = c.create(1n)
    m.node.bootstrap([1n, 2n, 3n].map((p) => ({ id: p, address: `node-${p}` })))
    await m.node.start()
    await flush()

    const reason = new Error('caller gave up')
    const ac = new AbortController()
    const byReason = rejection(m.node.waitForLeader({ signal: ac.signal }))
    ac.abort(reason)
    expect(await byReason).toBe(reason)

    const plain = new AbortController()
    const byDefault = rejection(m.node.waitForLeader({ signal: plain.signal }))
    plain.abort()
    expect(await byDefault).toMatchObject({ name: 'AbortError' })
    await expect(m.node.waitForLeader({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' })

    // Alone of three, it never learns a leader, however long it waits.
    const onStop = rejection(m.node.waitForLeader())
    await c.run(5_000)
    expect(m.node.leader).toBe(0n)
    await m.node.stop()
    expect(await onStop).toBeInstanceOf(RaftStoppedError)
    expect(m.node.listenerCount('leader:changed')).toBe(0)
  })
})
