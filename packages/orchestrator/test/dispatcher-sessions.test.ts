import { FailedPreconditionError, NodeState, NotLeaderError, UnavailableError } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { NodeStatusMessage } from '../src/index.ts'
import { DESCRIPTION, DispatcherFixture, Reader, idOf } from './helpers/dispatcher-fixture.ts'

const ROOT_CA = new Uint8Array([7, 7, 7])
const KEY = { subsystem: 'networking:gossip', algorithm: 'aes_128_gcm' as const, key: new Uint8Array([9]), lamportTime: 1n }

async function addCluster(f: DispatcherFixture): Promise<void> {
  await f.store.update((tx) =>
    tx.clusters.create({
      id: idOf('cluster1'),
      spec: { annotations: { name: 'default' } },
      rootCa: { caCert: ROOT_CA, caCertHash: 'h', joinTokens: { worker: 'w', manager: 'm' } },
      networkBootstrapKeys: [KEY],
    }),
  )
}

describe('Dispatcher sessions', () => {
  it('registration creates a missing node (worker, active, accepted) READY with its description and address', async () => {
    const f = new DispatcherFixture()
    await f.connect('n1', { addr: '10.0.0.5:4000' })
    const n = f.node('n1')
    expect(n?.role).toBe('worker')
    expect(n?.spec).toEqual({ annotations: { name: '' }, desiredRole: 'worker', membership: 'accepted', availability: 'active' })
    expect(n?.status).toEqual({ state: NodeState.READY, addr: '10.0.0.5:4000' })
    expect(n?.description).toEqual(DESCRIPTION)
    await f.stop()
  })

  it('the first session message carries the session id, the node, the managers, the network keys and the root CA', async () => {
    const managers = [{ nodeId: 'm1', addr: '10.0.0.1:2377', weight: 10 }]
    const f = new DispatcherFixture({ config: { managers: () => managers } })
    await addCluster(f)
    await f.settle()
    const c = await f.connect('n1')
    expect(c.session.messages).toHaveLength(1)
    const m = c.session.last
    expect(m.sessionId).toMatch(/^[0-9a-z]{25}$/)
    expect(m.node.id).toBe(idOf('n1'))
    expect(m.node.status.state).toBe(NodeState.READY)
    expect(m.managers).toEqual(managers)
    expect(m.networkBootstrapKeys).toEqual([KEY])
    expect(m.rootCa).toEqual(ROOT_CA)
    await f.stop()
  })

  it('a later session message follows a change of the node object or of the cluster keys', async () => {
    const f = new DispatcherFixture()
    await addCluster(f)
    await f.settle()
    const c = await f.connect('n1')
    await f.store.update((tx) => tx.nodes.update(idOf('n1'), (d) => void (d.spec.availability = 'drain')))
    await f.settle()
    expect(c.session.messages).toHaveLength(2)
    expect(c.session.last.node.spec.availability).toBe('drain')
    const key2 = { ...KEY, key: new Uint8Array([10]), lamportTime: 2n }
    await f.store.update((tx) => tx.clusters.update(idOf('cluster1'), (d) => void (d.networkBootstrapKeys = [KEY, key2])))
    await f.settle()
    expect(c.session.messages).toHaveLength(3)
    expect(c.session.last.networkBootstrapKeys).toEqual([KEY, key2])
    expect(c.session.last.sessionId).toBe(c.sessionId)
    await f.stop()
  })

  it('a newer session of the same node ends the older stream and the node stays READY', async () => {
    const f = new DispatcherFixture()
    const first = await f.connect('n1')
    const second = await f.connect('n1')
    expect(second.sessionId).not.toBe(first.sessionId)
    expect(first.session.done).toBe(true)
    expect(first.session.error).toBeUndefined()
    expect(f.node('n1')?.status.state).toBe(NodeState.READY)
    await expect(first.api.heartbeat({ sessionId: first.sessionId })).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'session-invalid' })
    await expect(second.api.heartbeat({ sessionId: second.sessionId })).resolves.toMatchObject({ periodMs: expect.any(Number) as number })
    await f.stop()
  })

  it('a session request naming the live session resumes it (same id, not counted by the rate limit)', async () => {
    const f = new DispatcherFixture()
    const first = await f.connect('n1')
    const again = await f.connect('n1', { sessionId: first.sessionId })
    expect(again.sessionId).toBe(first.sessionId)
    expect(first.session.done).toBe(true)
    await expect(again.api.heartbeat({ sessionId: first.sessionId })).resolves.toBeDefined()
    await f.stop()
  })

  it('the stream ending (the agent aborts) marks the node DISCONNECTED and invalidates the session', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    c.abort.abort()
    await f.settle()
    expect(c.session.done).toBe(true)
    expect(c.session.error).toBeUndefined()
    expect(f.node('n1')?.status).toEqual({ state: NodeState.DISCONNECTED, message: NodeStatusMessage.DISCONNECTED })
    const err = await c.api.heartbeat({ sessionId: c.sessionId }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(FailedPreconditionError)
    expect((err as FailedPreconditionError).reason).toBe('session-invalid')
    await f.stop()
  })

  it('a DISCONNECTED node is DOWN ("heartbeat failure") at its heartbeat deadline unless it registers again', async () => {
    const f = new DispatcherFixture()
    const gone = await f.connect('n1')
    const back = await f.connect('n2')
    const { periodMs } = await gone.api.heartbeat({ sessionId: gone.sessionId })
    gone.abort.abort()
    back.abort.abort()
    await f.settle()
    expect(f.node('n2')?.status.state).toBe(NodeState.DISCONNECTED)
    const again = await f.connect('n2')
    const steps = Math.floor((3 * periodMs - 1) / 1_000)
    for (let t = 0; t < steps; t++) {
      await again.api.heartbeat({ sessionId: again.sessionId }) // n2 is alive again: it heartbeats every second
      await f.advance(1_000)
    }
    await again.api.heartbeat({ sessionId: again.sessionId })
    await f.advance(3 * periodMs - 1 - steps * 1_000)
    expect(f.node('n1')?.status.state).toBe(NodeState.DISCONNECTED)
    await f.advance(1)
    expect(f.node('n1')?.status).toEqual({ state: NodeState.DOWN, message: NodeStatusMessage.HEARTBEAT_FAILURE })
    expect(f.node('n2')?.status.state).toBe(NodeState.READY)
    await f.stop()
  })

  it('an older stream ending after a newer session registered does not disconnect the node', async () => {
    const f = new DispatcherFixture()
    const first = await f.connect('n1')
    await f.connect('n1')
    first.abort.abort()
    await f.settle()
    expect(f.node('n1')?.status.state).toBe(NodeState.READY)
    await f.stop()
  })

  it('registration limit: 3 re-registrations within 8 s are allowed, the 4th is refused with UnavailableError until the node waits 8 s', async () => {
    const f = new DispatcherFixture()
    for (let i = 0; i < 4; i++) {
      await f.connect('n1')
      await f.advance(1_000)
    }
    const api = f.dispatcher.api(idOf('n1'))
    const refused = new Reader(api.session({ description: DESCRIPTION }))
    await f.settle()
    expect(refused.error).toBeInstanceOf(UnavailableError)
    expect(refused.messages).toEqual([])
    await f.advance(8_001)
    const ok = await f.connect('n1')
    expect(ok.session.error).toBeUndefined()
    await f.stop()
  })

  it('registrations of different nodes do not count against each other', async () => {
    const f = new DispatcherFixture()
    for (let i = 0; i < 10; i++) await f.connect(`n${String(i)}`)
    expect(f.store.view((tx) => tx.nodes.find()).map((n) => n.status.state)).toEqual(Array.from({ length: 10 }, () => NodeState.READY))
    await f.stop()
  })
})

describe('Dispatcher lifecycle', () => {
  it('every call rejects with NotLeaderError while the dispatcher is not running', async () => {
    const f = new DispatcherFixture({ start: false })
    const api = f.dispatcher.api(idOf('n1'))
    const session = new Reader(api.session({ description: DESCRIPTION }))
    const assignments = new Reader(api.assignments({ sessionId: 'x' }))
    await f.settle()
    expect(session.error).toBeInstanceOf(NotLeaderError)
    expect(assignments.error).toBeInstanceOf(NotLeaderError)
    await expect(api.heartbeat({ sessionId: 'x' })).rejects.toBeInstanceOf(NotLeaderError)
    await expect(api.updateTaskStatus({ sessionId: 'x', updates: [] })).rejects.toBeInstanceOf(NotLeaderError)
  })

  it('starting twice is refused; stop fails the open streams with NotLeaderError; a new term starts again', async () => {
    const f = new DispatcherFixture()
    expect(() => f.dispatcher.start()).toThrow(FailedPreconditionError)
    const c = await f.connect('n1')
    const a = await f.assignments(c)
    await f.stop()
    expect(c.session.error).toBeInstanceOf(NotLeaderError)
    expect(a.error).toBeInstanceOf(NotLeaderError)
    expect(f.clock.pending()).toBe(0)
    await expect(c.api.heartbeat({ sessionId: c.sessionId })).rejects.toBeInstanceOf(NotLeaderError)
    f.start()
    await f.settle()
    // A new term knows no session: the agent must register again.
    await expect(c.api.heartbeat({ sessionId: c.sessionId })).rejects.toMatchObject({ reason: 'session-invalid' })
    const again = await f.connect('n1')
    expect(again.session.messages).toHaveLength(1)
    await f.stop()
  })

  it('api(nodeId) refuses an empty node id and the constructor a bad heartbeat period, naming the field', () => {
    const f = new DispatcherFixture({ start: false })
    expect(() => f.dispatcher.api('')).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'nodeId' }) as Error)
    expect(() => new DispatcherFixture({ config: { heartbeatPeriodMs: 0 } })).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: 'config.heartbeatPeriodMs' }) as Error,
    )
  })
})

describe('Dispatcher session edges', () => {
  it('managersChanged() sends every live session a message with the new manager list', async () => {
    let managers = [{ nodeId: idOf('m1'), addr: '10.0.0.1:2377', weight: 1 }]
    const f = new DispatcherFixture({ config: { managers: () => managers } })
    const c = await f.connect('n1')
    managers = [{ nodeId: idOf('m2'), addr: '10.0.0.2:2377', weight: 1 }, ...managers]
    f.dispatcher.managersChanged()
    await f.settle()
    expect(c.session.messages).toHaveLength(2)
    expect(c.session.last.managers).toEqual(managers)
    await f.stop()
  })

  it('deleting the node object ends its session (session-invalid)', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    await f.store.update((tx) => tx.nodes.delete(idOf('n1')))
    await f.settle()
    expect(c.session.error).toMatchObject({ name: 'FailedPreconditionError', reason: 'session-invalid' })
    expect(f.node('n1')).toBeUndefined()
    await f.stop()
  })

})
