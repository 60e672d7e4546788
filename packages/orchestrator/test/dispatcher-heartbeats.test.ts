import { FailedPreconditionError, NodeState, TaskState } from '@swarmkit-ts/api'
import { SeededRandom } from '@swarmkit-ts/testkit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NODE_DOWN_PERIOD_MS, NodeStatusMessage, chooseHeartbeatPeriod } from '../src/index.ts'
import { DispatcherFixture } from './helpers/dispatcher-fixture.ts'

describe('Dispatcher heartbeats', () => {
  it('answers a period of 5 s jittered within ±0.5 s, not always the same', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    const periods = new Set<number>()
    for (let i = 0; i < 200; i++) {
      const { periodMs } = await c.api.heartbeat({ sessionId: c.sessionId })
      expect(periodMs).toBeGreaterThanOrEqual(4_500)
      expect(periodMs).toBeLessThan(5_500)
      periods.add(periodMs)
    }
    expect(periods.size).toBeGreaterThan(50)
    await f.stop()
  })

  it('chooseHeartbeatPeriod stays within [period - 500, period + 500) for any period and seed (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer(), (period, seed) => {
        const p = chooseHeartbeatPeriod(period, new SeededRandom(seed))
        const eps = Math.min(500, Math.floor(period / 2))
        return p >= period - eps && (eps === 0 ? p === period : p < period + eps)
      }),
    )
  })

  it('a node with no heartbeat for 3× the answered period is DOWN ("heartbeat failure") and its session invalid', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    const assignments = await f.assignments(c)
    const { periodMs } = await c.api.heartbeat({ sessionId: c.sessionId })
    await f.advance(3 * periodMs - 1)
    expect(f.node('n1')?.status.state).toBe(NodeState.READY)
    await f.advance(1)
    expect(f.node('n1')?.status).toEqual({ state: NodeState.DOWN, message: NodeStatusMessage.HEARTBEAT_FAILURE })
    await expect(c.api.heartbeat({ sessionId: c.sessionId })).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'session-invalid' })
    expect(c.session.error).toBeInstanceOf(FailedPreconditionError)
    expect(assignments.error).toBeInstanceOf(FailedPreconditionError)
    await f.stop()
  })

  it('heartbeats keep a node READY indefinitely', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    for (let i = 0; i < 50; i++) {
      const { periodMs } = await c.api.heartbeat({ sessionId: c.sessionId })
      await f.advance(periodMs)
    }
    expect(f.node('n1')?.status.state).toBe(NodeState.READY)
    await f.stop()
  })

  it('a registered node that never heartbeats is DOWN within 3× the jittered period', async () => {
    const f = new DispatcherFixture()
    await f.connect('n1')
    await f.advance(3 * 4_500 - 1)
    expect(f.node('n1')?.status.state).toBe(NodeState.READY)
    await f.advance(3 * 1_000 + 1)
    expect(f.node('n1')?.status.state).toBe(NodeState.DOWN)
    await f.stop()
  })

  it('after a leader change every known node is UNKNOWN and has 6× the period to register before it is DOWN', async () => {
    const f = new DispatcherFixture({ start: false })
    await f.addNode('back')
    await f.addNode('gone')
    await f.addNode('disc', NodeState.DISCONNECTED)
    f.start()
    await f.settle()
    for (const n of ['back', 'gone', 'disc']) {
      expect(f.node(n)?.status).toEqual({ state: NodeState.UNKNOWN, message: NodeStatusMessage.LEADERSHIP_CHANGE })
    }
    await f.advance(10_000)
    const back = await f.connect('back')
    expect(f.node('back')?.status.state).toBe(NodeState.READY)
    await f.keepAlive(back, 6 * 4_500 - 10_000 - 1)
    expect(f.node('gone')?.status.state).toBe(NodeState.UNKNOWN)
    await f.keepAlive(back, 6 * 1_000 + 1)
    expect(f.node('gone')?.status).toEqual({ state: NodeState.DOWN, message: NodeStatusMessage.UNKNOWN_HEARTBEAT_FAILURE })
    expect(f.node('disc')?.status.state).toBe(NodeState.DOWN)
    expect(f.node('back')?.status.state).toBe(NodeState.READY)
    await f.stop()
  })

  it('a node DOWN for 24 h gets its ASSIGNED..RUNNING tasks ORPHANED (state only); other tasks keep theirs', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    await f.addTask('ta', 'n1', { state: TaskState.ASSIGNED })
    await f.addTask('tr', 'n1', { state: TaskState.RUNNING })
    await f.addTask('tc', 'n1', { state: TaskState.COMPLETE })
    await f.addTask('tf', 'n1', { state: TaskState.FAILED })
    await f.addTask('to', 'n2', { state: TaskState.RUNNING })
    const { periodMs } = await c.api.heartbeat({ sessionId: c.sessionId })
    await f.advance(3 * periodMs)
    expect(f.node('n1')?.status.state).toBe(NodeState.DOWN)
    const before = f.task('tr')
    await f.advance(NODE_DOWN_PERIOD_MS - 1)
    expect(f.task('tr')?.status.state).toBe(TaskState.RUNNING)
    await f.advance(1)
    expect(f.task('ta')?.status.state).toBe(TaskState.ORPHANED)
    expect(f.task('tr')?.status).toEqual({ ...before?.status, state: TaskState.ORPHANED })
    expect(f.task('tc')?.status.state).toBe(TaskState.COMPLETE)
    expect(f.task('tf')?.status.state).toBe(TaskState.FAILED)
    expect(f.task('to')?.status.state).toBe(TaskState.RUNNING)
    await f.stop()
  })

  it('a DOWN node that registers again within 24 h keeps its tasks', async () => {
    const f = new DispatcherFixture()
    const c = await f.connect('n1')
    await f.addTask('tr', 'n1', { state: TaskState.RUNNING })
    const { periodMs } = await c.api.heartbeat({ sessionId: c.sessionId })
    await f.advance(3 * periodMs)
    expect(f.node('n1')?.status.state).toBe(NodeState.DOWN)
    await f.advance(NODE_DOWN_PERIOD_MS - 60_000)
    const again = await f.connect('n1')
    await f.keepAlive(again, 120_000)
    expect(f.task('tr')?.status.state).toBe(TaskState.RUNNING)
    await f.stop()
  })

  it('a node already DOWN at a leader change is orphaned 24 h after the new term starts', async () => {
    const f = new DispatcherFixture({ start: false })
    await f.addNode('n1', NodeState.DOWN)
    await f.addTask('tr', 'n1', { state: TaskState.STARTING })
    f.start()
    await f.advance(NODE_DOWN_PERIOD_MS - 1)
    expect(f.task('tr')?.status.state).toBe(TaskState.STARTING)
    await f.advance(1)
    expect(f.task('tr')?.status.state).toBe(TaskState.ORPHANED)
    await f.stop()
  })
})
