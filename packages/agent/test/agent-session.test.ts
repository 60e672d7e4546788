import { describe, expect, it } from 'vitest'
import { NotLeaderError, TaskState, UnavailableError } from '@swarmkit-ts/api'
import type { WeightedManager } from '@swarmkit-ts/api'
import { FakeRuntime } from '@swarmkit-ts/engine-adapter'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { RuntimeExecutor, TASK_ID_LABEL } from '../src/exec/index.ts'
import { Agent, MemoryTaskDb, nextSessionBackoff } from '../src/worker/index.ts'
import { FakeDispatcher, nonDecreasing, sessionInvalid } from './helpers/worker-fake-dispatcher.ts'
import { advance, desired, eventually, task, until } from './helpers/worker-fixtures.ts'

const { RUNNING, SHUTDOWN } = TaskState

/** An agent on a FakeRuntime (its own clock, so the agent's timers can be counted apart). */
function setup(dispatchers: Record<string, FakeDispatcher> = { m1: new FakeDispatcher() }, managers: WeightedManager[] = []) {
  const clock = new ManualClock(1000)
  const runtime = new FakeRuntime({ clock: new ManualClock(1000) })
  const connects: (string | undefined)[] = []
  const first = Object.values(dispatchers)[0]
  if (first === undefined) throw new Error('no dispatcher')
  const agent = new Agent({
    dispatcher: (manager) => {
      connects.push(manager?.addr)
      return manager === undefined ? first : (dispatchers[manager.addr] ?? first)
    },
    managers,
    executor: new RuntimeExecutor({ runtime, clock, hostname: 'node1' }),
    taskDb: new MemoryTaskDb(),
    clock,
    random: new SeededRandom(7),
  })
  return { clock, runtime, agent, connects, d: first }
}

describe('Agent session', () => {
  it('registers with its description, then heartbeats at the period the dispatcher answers', async () => {
    const { clock, agent, d } = setup()
    d.periodMs = 4700
    await agent.start()
    await until(() => d.heartbeats === 1, 'first heartbeat', clock)
    expect(d.sessionRequests.map((r) => [r.description.hostname, r.sessionId])).toEqual([['node1', undefined]])
    expect(agent.status).toMatchObject({ sessionId: 's1', connected: true, sessions: 1 })
    await advance(clock, 4699)
    expect(d.heartbeats).toBe(1)
    await advance(clock, 1)
    expect(d.heartbeats).toBe(2)
    await advance(clock, 4700 * 3)
    expect(d.heartbeats).toBe(5)
    await agent.stop()
    expect(clock.pending()).toBe(0)
  })

  it("keeps the cluster's root CA its session messages carry (the node's trust root), the latest one", async () => {
    const { clock, agent, d } = setup()
    const [root1, root2] = [new TextEncoder().encode('root 1'), new TextEncoder().encode('root 2')]
    d.rootCa = root1
    await agent.start()
    await until(() => agent.status.connected, 'registered', clock)
    expect(agent.status.rootCa).toEqual(root1)
    d.rootCa = root2
    d.pushSession()
    await until(() => agent.status.rootCa === root2, 'the new root', clock)
    await agent.stop()
  })

  it('runs the complete set, then incremental changes, and reports every status to the dispatcher in order', async () => {
    const { clock, agent, d, runtime } = setup()
    d.assign({ task: task('t1') })
    await agent.start()
    await until(() => d.lastStatus('t1') === RUNNING, 't1 running', clock)
    d.assign({ task: task('t2') })
    await until(() => d.lastStatus('t2') === RUNNING, 't2 running', clock)
    d.assign({ task: desired(task('t1'), SHUTDOWN) })
    await until(() => d.lastStatus('t1') === SHUTDOWN, 't1 shut down', clock)
    d.unassign({ task: desired(task('t1'), SHUTDOWN) })
    await until(() => agent.tasks().length === 1, 't1 removed', clock)
    expect(await runtime.list({ labels: { [TASK_ID_LABEL]: 't1' } })).toEqual([])
    expect(d.states('t1')).toEqual([256, 320, 384, 448, 512, 640])
    expect(nonDecreasing(d.states('t2'))).toBe(true)
    expect(d.assignmentStreams).toBe(1)
    await agent.stop()
  })

  it('reopens the assignments stream on a gap in the sequence numbers (and gets a complete set)', async () => {
    const { clock, agent, d } = setup()
    await agent.start()
    await until(() => d.assignmentStreams === 1, 'stream open', clock)
    d.pushGap()
    await until(() => d.assignmentStreams === 2, 'stream reopened', clock)
    d.assign({ task: task('t1') })
    await until(() => d.lastStatus('t1') === RUNNING, 't1 running after the reopen', clock)
    expect(agent.status.sessions).toBe(1)
    await agent.stop()
  })

  it('registers again with a new session when the dispatcher answers session-invalid', async () => {
    const { clock, agent, d } = setup()
    await agent.start()
    await until(() => d.heartbeats === 1, 'registered', clock)
    d.errors.heartbeat.push(sessionInvalid())
    await advance(clock, 5000)
    await eventually(() => agent.status.sessions === 2, 'registered again', clock)
    // The invalid session is not offered for resumption.
    expect(d.sessionRequests.map((r) => r.sessionId)).toEqual([undefined, undefined])
    expect(agent.status.sessionId).toBe('s2')
    await agent.stop()
  })

  it('resumes its session id after a transport error, and resends statuses that failed meanwhile', async () => {
    const { clock, agent, d } = setup()
    await agent.start()
    await until(() => d.heartbeats === 1, 'registered', clock)
    d.errors.updateTaskStatus.push(new UnavailableError('connection reset'))
    d.assign({ task: task('t1') })
    d.session$?.end(new UnavailableError('connection reset'))
    await eventually(() => agent.status.sessions === 2, 'reconnected', clock)
    await eventually(() => d.lastStatus('t1') === RUNNING, 't1 running reported', clock)
    expect(d.sessionRequests.map((r) => r.sessionId)).toEqual([undefined, 's1'])
    expect(nonDecreasing(d.states('t1'))).toBe(true)
    await agent.stop()
  })

  it('resends a status the managers acknowledged but lost (their copy of the task is behind after a reconnect)', async () => {
    const { clock, agent, d } = setup()
    d.loseStatuses = true
    d.assign({ task: task('t1') })
    await agent.start()
    await eventually(() => d.lastStatus('t1') === RUNNING, 't1 running', clock)
    const sent = d.states('t1').length
    d.loseStatuses = false
    d.endSession(new UnavailableError('leader lost'))
    await eventually(() => agent.status.sessions === 2 && d.states('t1').length === sent + 1, 'status resent', clock)
    expect(d.states('t1').at(-1)).toBe(RUNNING)
    await agent.stop()
  })

  it('sends nothing again after a reconnect when the managers have every status', async () => {
    const { clock, agent, d } = setup()
    d.assign({ task: task('t1') })
    await agent.start()
    await eventually(() => d.lastStatus('t1') === RUNNING, 't1 running', clock)
    const sent = d.updates.length
    d.endSession(new UnavailableError('leader lost'))
    await eventually(() => agent.status.sessions === 2 && d.assignmentStreams === 2, 'reconnected', clock)
    await advance(clock, 1000)
    expect(d.updates.length).toBe(sent)
    await agent.stop()
  })

  it('gives a session up when a heartbeat gets no answer within the RPC timeout (5 s), and registers again', async () => {
    const { clock, agent, d } = setup()
    await agent.start()
    await until(() => d.heartbeats === 1, 'registered', clock)
    d.hangHeartbeats = true
    await advance(clock, 5000 + 4999)
    expect(agent.status.sessions).toBe(1)
    d.hangHeartbeats = false
    await eventually(() => agent.status.sessions === 2, 'registered again after the timeout', clock)
    expect(clock.now()).toBeGreaterThanOrEqual(1000 + 5000 + 5000)
    await agent.stop()
    expect(clock.pending()).toBe(0)
  })

  it('stop while a heartbeat hangs leaves no timer behind', async () => {
    const { clock, agent, d } = setup()
    await agent.start()
    await until(() => d.heartbeats === 1, 'registered', clock)
    d.hangHeartbeats = true
    await advance(clock, 5000)
    expect(clock.pending()).toBeGreaterThan(0)
    await agent.stop()
    expect(clock.pending()).toBe(0)
  })

  it('re-registers with the new node description when the executor reports a change (checked every 20 s)', async () => {
    const clock = new ManualClock(1000)
    const runtime = new FakeRuntime({ clock: new ManualClock(1000) })
    const exec = new RuntimeExecutor({ runtime, clock })
    let hostname = 'node1'
    const d = new FakeDispatcher()
    const agent = new Agent({
      dispatcher: () => d,
      executor: { describe: async () => ({ ...(await exec.describe()), hostname }), controller: (t, deps) => exec.controller(t, deps) },
      taskDb: new MemoryTaskDb(),
      clock,
      random: new SeededRandom(3),
    })
    await agent.start()
    await until(() => agent.status.sessions === 1, 'registered', clock)
    await advance(clock, 20_000)
    expect(agent.status.sessions).toBe(1)
    hostname = 'node1-renamed'
    await eventually(() => agent.status.sessions === 2, 're-registered', clock, 20_000)
    expect(d.sessionRequests.map((r) => [r.description.hostname, r.sessionId])).toEqual([
      ['node1', undefined],
      ['node1-renamed', 's1'],
    ])
    await agent.stop()
  })

  it('backs off between failed sessions: each delay below 100 ms, 300 ms, 700 ms … 8 s, reset once registered', async () => {
    const { clock, agent, d } = setup()
    for (let i = 0; i < 9; i++) d.errors.session.push(new UnavailableError('manager down'))
    const attempts: number[] = []
    const session = d.session.bind(d)
    d.session = (req, opts) => {
      attempts.push(clock.now())
      return session(req, opts)
    }
    await agent.start()
    await until(() => attempts.length === 1, 'first attempt', clock)
    while (agent.status.sessions === 0) await advance(clock, 50)
    expect(attempts).toHaveLength(10)
    let bound = 0
    for (let i = 1; i < attempts.length; i++) {
      bound = nextSessionBackoff(bound)
      const delay = (attempts[i] ?? 0) - (attempts[i - 1] ?? 0)
      expect(delay).toBeLessThanOrEqual(bound + 50)
    }
    expect(bound).toBe(8000)
    const bounds: number[] = []
    for (let b = 0, i = 0; i < 8; i++) bounds.push((b = nextSessionBackoff(b)))
    expect(bounds).toEqual([100, 300, 700, 1500, 3100, 6300, 8000, 8000])
    await agent.stop()
    expect(clock.pending()).toBe(0)
  })

  it('fails over to another manager of the list when one is not the leader, going to the leader it names', async () => {
    const m4 = new FakeDispatcher()
    const m5 = new FakeDispatcher()
    m4.errors.session.push(new NotLeaderError({ leaderAddr: 'm5' }))
    const list = [
      { nodeId: 'm4', addr: 'm4', weight: 100 },
      { nodeId: 'm5', addr: 'm5', weight: 1 },
    ]
    m5.managers = list
    const second = setup({ m4, m5 }, list)
    await second.agent.start()
    await eventually(() => second.agent.status.sessions === 1, 'registered with the leader', second.clock)
    expect(second.connects).toEqual(['m4', 'm5'])
    expect(second.agent.status.manager?.addr).toBe('m5')
    await second.agent.stop()
  })

  it('fails over when a manager is unavailable, and uses the manager list the session sends', async () => {
    const m1 = new FakeDispatcher()
    const m2 = new FakeDispatcher()
    const list = [
      { nodeId: 'm1', addr: 'm1', weight: 1 },
      { nodeId: 'm2', addr: 'm2', weight: 1 },
    ]
    m1.managers = list
    m2.managers = list
    const { clock, agent, connects } = setup({ m1, m2 }, [list[0] as WeightedManager])
    await agent.start()
    await until(() => agent.status.sessions === 1, 'registered with m1', clock)
    m1.errors.session.push(new UnavailableError('m1 down'), new UnavailableError('m1 down'))
    m1.endSession(new UnavailableError('m1 down'))
    await eventually(() => agent.status.sessions === 2, 'registered again', clock)
    expect(agent.status.manager?.addr).toBe('m2')
    expect(connects.slice(0, 1)).toEqual(['m1'])
    expect(connects.at(-1)).toBe('m2')
    await agent.stop()
  })
})
