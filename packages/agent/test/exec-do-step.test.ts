/**
 * doStep (SwarmKit's exec.Do) driving a RuntimeExecutor's controller on FakeRuntime, on virtual time.
 */
import { describe, expect, it } from 'vitest'
import { TaskState, UnavailableError, type TaskStatus } from '@swarmkit-ts/api'
import { FakeRuntime, type ContainerRuntime } from '@swarmkit-ts/engine-adapter'
import { ManualClock } from '@swarmkit-ts/testkit'
import { doStep, RuntimeExecutor, TASK_ID_LABEL, type TaskController } from '../src/exec/index.ts'
import { makeDeps, makeSecret, makeTask, overrideRuntime, run, settle, step } from './helpers/exec-fixtures.ts'

const { ACCEPTED, PREPARING, READY, STARTING, RUNNING, COMPLETE, SHUTDOWN, FAILED, REJECTED } = TaskState

function setup(runtime?: ContainerRuntime): { clock: ManualClock; fake: FakeRuntime; executor: RuntimeExecutor } {
  const clock = new ManualClock(1_000)
  const fake = new FakeRuntime({ clock })
  return { clock, fake, executor: new RuntimeExecutor({ runtime: runtime ?? fake, clock }) }
}

describe('doStep on FakeRuntime', () => {
  it('walks ASSIGNED → ACCEPTED → PREPARING → READY → STARTING → RUNNING → COMPLETE with SwarmKit messages', async () => {
    const { clock, fake, executor } = setup()
    const task = makeTask({ command: ['sh', '-c', 'sleep 5'] })
    const ctlr = executor.controller(task, makeDeps())
    const seen: TaskStatus[] = []
    let t = task
    for (;;) {
      const s = await step(t, ctlr, clock)
      if (s === undefined) break
      seen.push(s)
      t = { ...t, status: s }
    }
    expect(seen.map((s) => [s.state, s.message])).toEqual([
      [ACCEPTED, 'accepted'],
      [PREPARING, 'preparing'],
      [READY, 'prepared'],
      [STARTING, 'starting'],
      [RUNNING, 'started'],
      [COMPLETE, 'finished'],
    ])
    const [c] = await fake.list({ labels: { [TASK_ID_LABEL]: 'task1' } })
    expect(seen.at(-1)?.containerStatus).toEqual({ containerId: c?.id, exitCode: 0 })
    expect(seen.slice(0, 3).every((s) => s.containerStatus === undefined)).toBe(true)
    expect(seen.at(-1)?.timestamp).toBe(6_000)
    expect(seen.every((s) => s.err === undefined)).toBe(true)
  })

  it('a controller call that throws instead of rejecting fails the step like a rejection', async () => {
    const { clock, executor } = setup()
    const task = makeTask()
    const inner = executor.controller(task, makeDeps())
    const throwing: TaskController = {
      update: (t) => inner.update(t),
      prepare: () => {
        throw new Error('no prepare today')
      },
      start: (signal) => inner.start(signal),
      wait: (signal) => inner.wait(signal),
      shutdown: () => {
        throw new Error('no shutdown today')
      },
      terminate: () => inner.terminate(),
      remove: () => inner.remove(),
      close: () => inner.close(),
      containerStatus: () => inner.containerStatus(),
    }
    const preparing = makeTask({}, { status: { timestamp: 0, state: PREPARING } })
    expect(await step(preparing, throwing, clock)).toMatchObject({ state: REJECTED, err: 'no prepare today', timestamp: 1_000 })
    const stopping = makeTask({}, { status: { timestamp: 0, state: RUNNING }, desiredState: SHUTDOWN })
    expect(await step(stopping, throwing, clock)).toMatchObject({ state: FAILED, err: 'no shutdown today', timestamp: 1_000 })
  })

  it('a non-zero exit makes the task FAILED with the exit code and SwarmKit\'s error text', async () => {
    const { clock, executor } = setup()
    const task = makeTask({ command: ['sh', '-c', 'exit 3'] })
    const { task: done, states } = await run(task, executor.controller(task, makeDeps()), clock)
    expect(states).toEqual([ACCEPTED, PREPARING, READY, STARTING, RUNNING, FAILED])
    expect(done.status.err).toBe('task: non-zero exit (3)')
    expect(done.status.containerStatus?.exitCode).toBe(3)
  })

  it('holds at READY while desired is READY (a delayed start), then starts once desired is RUNNING', async () => {
    const { clock, fake, executor } = setup()
    const task = makeTask({}, { desiredState: READY })
    const ctlr = executor.controller(task, makeDeps())
    const { task: ready, states } = await run(task, ctlr, clock)
    expect(states).toEqual([ACCEPTED, PREPARING, READY])
    expect((await fake.list()).map((c) => c.state)).toEqual(['created'])
    const go = { ...ready, desiredState: RUNNING }
    ctlr.update(go)
    expect((await step(go, ctlr, clock))?.state).toBe(STARTING)
  })

  it('desired SHUTDOWN stops a running task (SIGTERM, exit 143) and reports SHUTDOWN; nothing more once terminal', async () => {
    const { clock, fake, executor } = setup()
    const task = makeTask({}, { status: { timestamp: 0, state: STARTING } })
    const ctlr = executor.controller(task, makeDeps())
    const prepared = await run({ ...task, status: { timestamp: 0, state: PREPARING }, desiredState: READY }, ctlr, clock)
    expect(prepared.states).toEqual([READY])
    const running = await step({ ...task }, ctlr, clock)
    expect(running?.state).toBe(RUNNING)
    const stopping = { ...task, status: running as TaskStatus, desiredState: SHUTDOWN }
    ctlr.update(stopping)
    const shut = await step(stopping, ctlr, clock)
    expect(shut?.state).toBe(SHUTDOWN)
    expect(shut?.message).toBe('shutdown')
    expect(shut?.containerStatus?.exitCode).toBe(143)
    expect((await fake.list())[0]?.state).toBe('exited')
    expect(await step({ ...stopping, status: shut as TaskStatus }, ctlr, clock)).toBeUndefined()
    expect(await step({ ...stopping, status: { timestamp: 0, state: COMPLETE } }, ctlr, clock)).toBeUndefined()
  })

  it('desired REMOVE shuts a task down too, even one not yet started', async () => {
    const { clock, executor } = setup()
    const task = makeTask({}, { desiredState: TaskState.REMOVE })
    const s = await step(task, executor.controller(task, makeDeps()), clock)
    expect(s?.state).toBe(SHUTDOWN)
  })

  it('a missing image makes the task REJECTED', async () => {
    const { clock, executor } = setup()
    const task = makeTask({ image: 'nosuch/image:1' })
    const { task: done, states } = await run(task, executor.controller(task, makeDeps()), clock)
    expect(states).toEqual([ACCEPTED, PREPARING, REJECTED])
    expect(done.status.err).toBe('image nosuch/image:1 not found')
    expect(done.status.message).toBe('preparing')
  })

  it('a field the runtime cannot honour makes the task REJECTED naming the field', async () => {
    const { clock, fake, executor } = setup()
    const task = makeTask({ user: 'nobody' })
    const { task: done, states } = await run(task, executor.controller(task, makeDeps()), clock)
    expect(states).toEqual([ACCEPTED, PREPARING, REJECTED])
    expect(done.status.err).toBe('spec.container.user: not supported by the runtime executor')
    expect(fake.size).toBe(0)
  })

  it('a secret not assigned to the node makes the task REJECTED', async () => {
    const { clock, executor } = setup()
    const task = makeTask({ secrets: [{ secretId: 's1', secretName: 'db', file: { name: 'db' } }] })
    const { task: done } = await run(task, executor.controller(task, makeDeps([makeSecret('s2', 'other', 'x')])), clock)
    expect(done.status.state).toBe(REJECTED)
    expect(done.status.err).toBe('secret db (s1) is not assigned to this node')
  })

  it('a process that cannot start makes the task FAILED with exit code 127', async () => {
    const { clock, executor } = setup()
    const task = makeTask({ command: ['no-such-program'] })
    const { task: done, states } = await run(task, executor.controller(task, makeDeps()), clock)
    expect(states).toEqual([ACCEPTED, PREPARING, READY, STARTING, FAILED])
    expect(done.status.containerStatus?.exitCode).toBe(127)
    expect(done.status.err).toMatch(/executable file not found/)
  })

  it('a task that crashes while running is FAILED with its exit code', async () => {
    const { clock, fake, executor } = setup()
    fake.inject({ kind: 'crash', afterMs: 2_000, exitCode: 139 })
    const task = makeTask()
    const { task: done } = await run(task, executor.controller(task, makeDeps()), clock)
    expect(done.status.state).toBe(FAILED)
    expect(done.status.containerStatus?.exitCode).toBe(139)
  })
})

describe('doStep with a healthcheck', () => {
  const healthcheck = (script: string) => ({ test: ['CMD-SHELL', script], intervalMs: 1_000, retries: 2 })

  it('reports RUNNING only once the container is healthy', async () => {
    const { clock, fake, executor } = setup()
    const task = makeTask({ healthcheck: healthcheck('exit 0') }, { status: { timestamp: 0, state: PREPARING } })
    const ctlr = executor.controller(task, makeDeps())
    expect((await step(task, ctlr, clock))?.state).toBe(READY)
    const starting = { ...task, status: { timestamp: 0, state: STARTING } }
    const pending = doStep(starting, ctlr, { clock, signal: new AbortController().signal })
    let settled = false
    void pending.then(() => (settled = true))
    await settle(Promise.resolve(), clock)
    expect(settled).toBe(false)
    expect((await fake.list())[0]?.health).toBe('starting')
    const s = await settle(pending, clock)
    expect(s?.state).toBe(RUNNING)
    expect(clock.now()).toBe(2_000)
    expect((await fake.list())[0]?.health).toBe('healthy')
  })

  it('a container that never becomes healthy is shut down and the task FAILED', async () => {
    const { clock, fake, executor } = setup()
    const task = makeTask({ healthcheck: healthcheck('exit 1') })
    const { task: done, states } = await run(task, executor.controller(task, makeDeps()), clock)
    expect(states).toEqual([ACCEPTED, PREPARING, READY, STARTING, FAILED])
    expect(done.status.err).toBe('task: non-zero exit (143): container unhealthy')
    expect(done.status.containerStatus?.exitCode).toBe(143)
    expect((await fake.list())[0]?.state).toBe('exited')
  })

  it('a running container that turns unhealthy is shut down and the task FAILED', async () => {
    const clock = new ManualClock(1_000)
    // The probe passes until t = 6 s.
    const fake = new FakeRuntime({ clock, programs: { probe: () => Promise.resolve(clock.now() < 6_000 ? 0 : 1) } })
    const executor = new RuntimeExecutor({ runtime: fake, clock })
    const task = makeTask({ healthcheck: healthcheck('probe') })
    const { task: done, states } = await run(task, executor.controller(task, makeDeps()), clock)
    expect(states).toEqual([ACCEPTED, PREPARING, READY, STARTING, RUNNING, FAILED])
    expect(done.status.err).toBe('task: non-zero exit (143): container unhealthy')
  })
})

describe('doStep pauses, aborts and retries', () => {
  it('does nothing for a task beyond its desired state or already terminal', async () => {
    const { clock, executor } = setup()
    const task = makeTask()
    const ctlr = executor.controller(task, makeDeps())
    expect(await step({ ...task, status: { timestamp: 0, state: RUNNING }, desiredState: READY }, ctlr, clock)).toBeUndefined()
    expect(await step({ ...task, status: { timestamp: 0, state: FAILED } }, ctlr, clock)).toBeUndefined()
    expect(await step({ ...task, status: { timestamp: 0, state: COMPLETE }, desiredState: COMPLETE }, ctlr, clock)).toBeUndefined()
  })

  it('a step whose signal is already aborted does nothing', async () => {
    const { clock, fake, executor } = setup()
    const task = makeTask({}, { status: { timestamp: 0, state: PREPARING } })
    expect(await doStep(task, executor.controller(task, makeDeps()), { clock, signal: AbortSignal.abort() })).toBeUndefined()
    expect(fake.size).toBe(0)
  })

  it('an aborted wait resolves undefined and leaves the container running', async () => {
    const { clock, fake, executor } = setup()
    const task = makeTask()
    const ctlr = executor.controller(task, makeDeps())
    let t = task
    for (const want of [ACCEPTED, PREPARING, READY, STARTING, RUNNING]) {
      const s = await step(t, ctlr, clock)
      expect(s?.state).toBe(want)
      t = { ...t, status: s as TaskStatus }
    }
    const abort = new AbortController()
    const waiting = doStep(t, ctlr, { clock, signal: abort.signal })
    await settle(Promise.resolve(), clock)
    abort.abort()
    expect(await waiting).toBeUndefined()
    expect((await fake.list())[0]?.state).toBe('running')
  })

  it('retries a temporary error with backoff on the clock, reporting the error meanwhile', async () => {
    const { clock, fake } = setup()
    let failures = 2
    const flaky = overrideRuntime(fake, {
      create: (spec) => (failures-- > 0 ? Promise.reject(new UnavailableError('engine restarting')) : fake.create(spec)),
    })
    const executor = new RuntimeExecutor({ runtime: flaky, clock })
    const task = makeTask({}, { status: { timestamp: 0, state: PREPARING } })
    const retries: [TaskState, string | undefined, number, number][] = []
    const s = await step(task, executor.controller(task, makeDeps()), clock, { onRetry: (st, attempt, delay) => retries.push([st.state, st.err, attempt, delay]) })
    expect(retries).toEqual([
      [PREPARING, 'engine restarting', 1, 100],
      [PREPARING, 'engine restarting', 2, 200],
    ])
    expect(s?.state).toBe(READY)
    expect(s?.err).toBeUndefined()
    expect(clock.now()).toBe(1_300)
    expect(fake.size).toBe(1)
  })
})
