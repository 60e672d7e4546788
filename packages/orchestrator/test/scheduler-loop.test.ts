import { TaskState } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { ASSIGNED_MESSAGE, PREASSIGNED_MESSAGE, SHUTDOWN_MESSAGE } from '../src/scheduler/scheduler-writes.ts'
import { SchedulerFixture, fid } from './scheduler-loop-fixture.ts'

const GiB = 1024 ** 3

describe('Scheduler loop', () => {
  it('places a PENDING task 50 ms after its commit, writing ASSIGNED with the node id, message and time', async () => {
    const f = new SchedulerFixture()
    await f.addNode('n1')
    f.start()
    await f.addTask('t1')
    await f.advance(49)
    expect(f.task('t1').status.state).toBe(TaskState.PENDING)
    await f.advance(1)
    const t = f.task('t1')
    expect(t.nodeId).toBe(fid('n1'))
    expect(t.status).toEqual({ timestamp: f.t0 + 50, state: TaskState.ASSIGNED, message: ASSIGNED_MESSAGE })
    await f.scheduler.stop()
  })

  it('waits for 50 ms without a commit, but never more than 1 s after the first pending task', async () => {
    const f = new SchedulerFixture()
    await f.addNode('n1')
    f.start()
    // A commit every 40 ms keeps postponing the pass until the 1 s cap.
    let commits = 0
    do {
      await f.addTask(`t${String(commits++)}`)
      await f.advance(40)
    } while (f.task('t0').status.state === TaskState.PENDING && commits < 30)
    expect(commits).toBe(25)
    for (let i = 0; i < 25; i++) expect(f.task(`t${String(i)}`).status).toMatchObject({ state: TaskState.ASSIGNED, timestamp: f.t0 + 1000 })
    // A task committed after the pass waits for the next one.
    await f.addTask('late')
    await f.advance(49)
    expect(f.task('late').status.state).toBe(TaskState.PENDING)
    await f.advance(1)
    expect(f.task('late').status).toMatchObject({ state: TaskState.ASSIGNED, timestamp: f.t0 + 1050 })
    await f.scheduler.stop()
  })

  it('records the generic resources it assigned on the task', async () => {
    const f = new SchedulerFixture()
    await f.addNode('n1', { resources: { generic: [{ kind: 'GPU', namedValue: 'gpu0' }, { kind: 'GPU', namedValue: 'gpu1' }, { kind: 'SSD', discreteValue: 3 }] } })
    f.start()
    const spec = { container: { image: 'x' }, resources: { reservations: { generic: [{ kind: 'GPU', discreteValue: 1 }, { kind: 'SSD', discreteValue: 2 }] } } }
    await f.addTask('t1', { spec })
    await f.advance(50)
    expect(f.task('t1').assignedGenericResources).toEqual([
      { kind: 'GPU', namedValue: 'gpu0' },
      { kind: 'SSD', discreteValue: 2 },
    ])
    await f.scheduler.stop()
  })

  it('keeps an unplaceable task PENDING with the explanation, and places it once a fitting node joins', async () => {
    const f = new SchedulerFixture()
    await f.addNode('n1', { labels: { zone: 'a' } })
    f.start()
    await f.addTask('t1', { spec: { container: { image: 'x' }, placement: { constraints: ['node.labels.zone==b'] } } })
    await f.advance(50)
    const pending = f.task('t1')
    expect(pending.status.state).toBe(TaskState.PENDING)
    expect(pending.status.err).toBe('no suitable node (scheduling constraints not satisfied on 1 node)')
    // The explanation is written once: a later pass with the same result writes nothing.
    const version = f.store.version
    await f.advance(5_000)
    expect(f.store.version).toBe(version)
    await f.addNode('n2', { labels: { zone: 'b' } })
    await f.advance(50)
    expect(f.task('t1').status.state).toBe(TaskState.ASSIGNED)
    expect(f.task('t1').nodeId).toBe(fid('n2'))
    await f.scheduler.stop()
  })

  it('retries an unplaceable task when a task ends and frees the resources it needs', async () => {
    const f = new SchedulerFixture()
    await f.addNode('n1', { resources: { nanoCpus: 2e9, memoryBytes: GiB } })
    f.start()
    const spec = { container: { image: 'x' }, resources: { reservations: { memoryBytes: GiB } } }
    await f.addTask('t1', { spec })
    await f.advance(50)
    expect(f.task('t1').nodeId).toBe(fid('n1'))
    await f.addTask('t2', { spec })
    await f.advance(50)
    expect(f.task('t2').status.err).toBe('no suitable node (insufficient resources on 1 node)')
    await f.setState('t1', TaskState.FAILED)
    await f.advance(50)
    expect(f.task('t2').status.state).toBe(TaskState.ASSIGNED)
    expect(f.task('t2').nodeId).toBe(fid('n1'))
    await f.scheduler.stop()
  })

  it('places tasks of one service and spec version as a group, spread over the nodes', async () => {
    const f = new SchedulerFixture()
    for (const n of ['n1', 'n2', 'n3']) await f.addNode(n)
    f.start()
    await f.addTasks(Array.from({ length: 6 }, (_, i) => f.newTask(`t${String(i)}`, { specVersion: 4 })))
    await f.advance(50)
    const perNode = new Map<string, number>()
    for (let i = 0; i < 6; i++) {
      const t = f.task(`t${String(i)}`)
      expect(t.status.state).toBe(TaskState.ASSIGNED)
      perNode.set(t.nodeId, (perNode.get(t.nodeId) ?? 0) + 1)
    }
    expect([...perNode.entries()].sort()).toEqual([
      [fid('n1'), 2],
      [fid('n2'), 2],
      [fid('n3'), 2],
    ])
    await f.scheduler.stop()
  })

  it('re-queues a decision whose task changed before the write, releasing its reservation, and assigns it once', async () => {
    const f = new SchedulerFixture()
    await f.addNode('n1', { resources: { nanoCpus: 1e9, memoryBytes: GiB } })
    f.start()
    await f.addTask('t1', { spec: { container: { image: 'x' }, resources: { reservations: { memoryBytes: GiB } } } })
    await f.settle()
    const assigned: number[] = []
    const seen = f.store.watch({ kinds: ['task'] })
    const collecting = (async () => {
      for await (const ev of seen) if (ev.action === 'update' && ev.object.status.state === TaskState.ASSIGNED) assigned.push(f.clock.now())
    })()
    // The pass decides when the timer fires; this update is committed before its write.
    f.clock.advance(50)
    const racing = f.store.update((tx) => tx.tasks.update(fid('t1'), (d) => void (d.annotations = { name: 't1', labels: { touched: 'yes' } })))
    await racing
    await f.settle()
    expect(f.task('t1').status.state).toBe(TaskState.PENDING)
    // Retried: the node's memory was given back, so it still fits.
    await f.advance(50)
    expect(f.task('t1').status.state).toBe(TaskState.ASSIGNED)
    expect(f.task('t1').nodeId).toBe(fid('n1'))
    expect(f.task('t1').annotations.labels).toEqual({ touched: 'yes' })
    await f.advance(5_000)
    seen.close()
    await collecting
    expect(assigned).toEqual([f.t0 + 100])
    await f.scheduler.stop()
  })

  it('drops its decision when another writer assigned the task first, leaking no reservation', async () => {
    const f = new SchedulerFixture()
    const resources = { nanoCpus: 1e9, memoryBytes: GiB }
    await f.addNode('n1', { resources })
    await f.addNode('n2', { resources })
    f.start()
    const spec = { container: { image: 'x' }, resources: { reservations: { memoryBytes: GiB } } }
    await f.addTask('t1', { spec })
    await f.settle()
    f.clock.advance(50)
    // Someone else assigns t1 to n2 between the decision and its write.
    await f.store.update((tx) =>
      tx.tasks.update(fid('t1'), (d) => {
        d.nodeId = fid('n2')
        d.status = { timestamp: f.clock.now(), state: TaskState.ASSIGNED, message: 'elsewhere' }
      }),
    )
    await f.settle()
    expect(f.task('t1').nodeId).toBe(fid('n2'))
    expect(f.task('t1').status.message).toBe('elsewhere')
    // n1 is free again and n2 is full.
    await f.addTask('t2', { spec })
    await f.advance(50)
    expect(f.task('t2').nodeId).toBe(fid('n1'))
    await f.addTask('t3', { spec })
    await f.advance(50)
    expect(f.task('t3').status.err).toBe('no suitable node (insufficient resources on 2 nodes)')
    await f.scheduler.stop()
  })

  it('moves a PENDING task of an old spec version desired SHUTDOWN straight to SHUTDOWN', async () => {
    const f = new SchedulerFixture()
    f.start()
    await f.addTask('old', { specVersion: 1, desiredState: TaskState.SHUTDOWN })
    await f.advance(50)
    const t = f.task('old')
    expect(t.nodeId).toBe('')
    expect(t.status).toEqual({ timestamp: f.t0 + 50, state: TaskState.SHUTDOWN, message: SHUTDOWN_MESSAGE })
    await f.scheduler.stop()
  })

  it('only checks a pre-assigned task against its own node', async () => {
    const f = new SchedulerFixture()
    await f.addNode('busy')
    await f.addNode('idle')
    await f.addNode('paused', { availability: 'pause' })
    f.start()
    await f.addTask('g1', { nodeId: 'busy', serviceId: 'global' })
    await f.addTask('g2', { nodeId: 'paused', serviceId: 'global' })
    await f.advance(50)
    expect(f.task('g1').nodeId).toBe(fid('busy'))
    expect(f.task('g1').status).toEqual({ timestamp: f.t0 + 50, state: TaskState.ASSIGNED, message: PREASSIGNED_MESSAGE })
    const g2 = f.task('g2')
    expect(g2.nodeId).toBe(fid('paused'))
    expect(g2.status.state).toBe(TaskState.PENDING)
    expect(g2.status.err).toBe('no suitable node (1 node not available for new tasks)')
    await f.updateNode('paused', (n) => void (n.spec.availability = 'active'))
    await f.advance(50)
    expect(f.task('g2').status.state).toBe(TaskState.ASSIGNED)
    expect(f.task('g2').nodeId).toBe(fid('paused'))
    await f.scheduler.stop()
  })

  it('counts tasks of a service observed FAILED or REJECTED on a node, and ranks a node with 5 recent failures last', async () => {
    const f = new SchedulerFixture()
    await f.addNode('n1')
    await f.addNode('n2')
    f.start()
    // n2 already runs a task of the service; n1 saw five of them fail (three FAILED, two REJECTED).
    await f.addTasks([f.newTask('running', { nodeId: 'n2', state: TaskState.RUNNING })])
    await f.addTasks(Array.from({ length: 5 }, (_, i) => f.newTask(`failed${String(i)}`, { nodeId: 'n1', state: TaskState.RUNNING })))
    for (let i = 0; i < 5; i++) await f.setState(`failed${String(i)}`, i < 3 ? TaskState.FAILED : TaskState.REJECTED)
    await f.addTask('next')
    await f.advance(50)
    expect(f.task('next').nodeId).toBe(fid('n2'))
    // Five minutes later the failures no longer count: n1 has fewer tasks of the service.
    await f.advance(5 * 60_000)
    await f.addTask('later')
    await f.advance(50)
    expect(f.task('later').nodeId).toBe(fid('n1'))
    await f.scheduler.stop()
  })

  it("checks the driver of a task's network against the node's network plugins", async () => {
    const f = new SchedulerFixture()
    await f.store.update((tx) => tx.networks.create({ id: fid('net'), spec: { annotations: { name: 'mesh' } }, driverState: { name: 'weave' } }))
    await f.addNode('bridge')
    await f.updateNode('bridge', (n) => void (n.description = { ...n.description, engine: { plugins: [{ type: 'Network', name: 'bridge' }] } }))
    f.start()
    await f.addTasks([{ ...f.newTask('t1'), networks: [{ networkId: fid('net') }] }])
    await f.advance(50)
    expect(f.task('t1').status.err).toBe('no suitable node (missing plugin on 1 node)')
    await f.addNode('weave')
    await f.updateNode('weave', (n) => void (n.description = { ...n.description, engine: { plugins: [{ type: 'Network', name: 'weave' }] } }))
    await f.advance(50)
    expect(f.task('t1').nodeId).toBe(fid('weave'))
    await f.scheduler.stop()
  })

  it('starts from the store: tasks already on nodes count, and tasks left PENDING are placed', async () => {
    const f = new SchedulerFixture()
    await f.addNode('n1', { resources: { nanoCpus: 4e9, memoryBytes: 2 * GiB } })
    const spec = { container: { image: 'x' }, resources: { reservations: { memoryBytes: GiB } } }
    await f.addTasks([f.newTask('held', { nodeId: 'n1', state: TaskState.RUNNING, spec }), f.newTask('a', { spec, specVersion: 1 }), f.newTask('b', { spec, specVersion: 1 })])
    f.start()
    await f.advance(50)
    const states = [f.task('a'), f.task('b')].map((t) => t.status.state).sort((x, y) => x - y)
    expect(states).toEqual([TaskState.PENDING, TaskState.ASSIGNED])
    const left = [f.task('a'), f.task('b')].find((t) => t.status.state === TaskState.PENDING)
    expect(left?.status.err).toBe('no suitable node (insufficient resources on 1 node)')
    await f.scheduler.stop()
  })

  it('leaves no timer behind once stopped', async () => {
    const f = new SchedulerFixture()
    await f.addNode('n1')
    f.start()
    await f.addTask('t1')
    await f.settle()
    expect(f.clock.nextDueAt()).toBe(f.t0 + 50)
    await f.scheduler.stop()
    expect(f.clock.nextDueAt()).toBeUndefined()
    await f.advance(100)
    expect(f.task('t1').status.state).toBe(TaskState.PENDING)
  })
})
