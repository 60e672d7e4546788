/**
 * RuntimeTaskController on FakeRuntime: adoption without duplicates, terminate/remove, close,
 * and the executor's node description.
 */
import { availableParallelism, hostname, totalmem } from 'node:os'
import { describe, expect, it } from 'vitest'
import { TaskState, type Task } from '@swarmkit-ts/api'
import { FakeRuntime } from '@swarmkit-ts/engine-adapter'
import { ManualClock } from '@swarmkit-ts/testkit'
import { ControllerClosedError, doStep, RuntimeExecutor, TASK_ID_LABEL } from '../src/exec/index.ts'
import { flush, makeDeps, makeTask, overrideRuntime, settle } from './helpers/exec-fixtures.ts'

function setup(): { clock: ManualClock; fake: FakeRuntime; executor: () => RuntimeExecutor } {
  const clock = new ManualClock(1_000)
  const fake = new FakeRuntime({ clock })
  return { clock, fake, executor: () => new RuntimeExecutor({ runtime: fake, clock }) }
}

const signal = (): AbortSignal => new AbortController().signal

describe('RuntimeTaskController', () => {
  it('two executors preparing the same task at once make one container, which both then hold', async () => {
    const { clock, fake, executor } = setup()
    const task = makeTask()
    const a = executor().controller(task, makeDeps())
    const b = executor().controller(task, makeDeps())
    await settle(Promise.all([a.prepare(signal()), b.prepare(signal())]), clock)
    const containers = await fake.list({ labels: { [TASK_ID_LABEL]: task.id } })
    expect(containers).toHaveLength(1)
    expect(a.containerStatus()).toEqual({ containerId: containers[0]?.id })
    expect(b.containerStatus()).toEqual({ containerId: containers[0]?.id })
  })

  it('a controller made for a running task adopts its container: prepare and start create and start nothing', async () => {
    const { clock, fake, executor } = setup()
    const task = makeTask()
    const first = executor().controller(task, makeDeps())
    await settle(first.prepare(signal()), clock)
    await settle(first.start(signal()), clock)
    const [c] = await fake.list()
    expect(c?.state).toBe('running')
    const again = executor().controller(task, makeDeps())
    await settle(again.prepare(signal()), clock)
    await settle(again.start(signal()), clock)
    expect((await fake.list()).map((x) => [x.id, x.state])).toEqual([[c?.id, 'running']])
  })

  it('terminate kills at once (137); remove deletes the container and forgets it', async () => {
    const { clock, fake, executor } = setup()
    const task = makeTask({ stopGracePeriodMs: 60_000, command: ['sh', '-c', 'trap "" TERM; sleep 1000'] })
    const ctlr = executor().controller(task, makeDeps())
    await settle(ctlr.prepare(signal()), clock)
    await settle(ctlr.start(signal()), clock)
    await settle(ctlr.terminate(), clock)
    expect(ctlr.containerStatus()?.exitCode).toBe(137)
    expect(clock.now()).toBe(1_000)
    await settle(ctlr.remove(), clock)
    expect(fake.size).toBe(0)
    await settle(ctlr.remove(), clock) // nothing left: a no-op
    await settle(ctlr.shutdown(signal()), clock)
  })

  it('after close every call rejects with ControllerClosedError and the container is left running', async () => {
    const { clock, fake, executor } = setup()
    const task = makeTask()
    const ctlr = executor().controller(task, makeDeps())
    await settle(ctlr.prepare(signal()), clock)
    await settle(ctlr.start(signal()), clock)
    const waiting = ctlr.wait(signal())
    ctlr.close()
    await expect(waiting).rejects.toBeInstanceOf(ControllerClosedError)
    const running = makeTask({}, { status: { timestamp: 0, state: TaskState.RUNNING } })
    expect(await doStep(running, ctlr, { clock, signal: signal() })).toBeUndefined() // closed: abandoned, not FAILED
    await expect(ctlr.shutdown(signal())).rejects.toBeInstanceOf(ControllerClosedError)
    expect(() => ctlr.update(task)).toThrow(ControllerClosedError)
    expect((await fake.list())[0]?.state).toBe('running')
  })

  it("a step controller's signal reaches the runtime as it is; the caller and close() abort it", async () => {
    const { clock, fake } = setup()
    const seen: (AbortSignal | undefined)[] = []
    const runtime = overrideRuntime(fake, { wait: (id, options) => (seen.push(options?.signal), fake.wait(id, options)) })
    const executor = new RuntimeExecutor({ runtime, clock })
    const a = executor.controller(makeTask(), makeDeps())
    const b = executor.controller(makeTask({}, { id: 'task2' }), makeDeps())
    for (const ctlr of [a, b]) {
      await settle(ctlr.prepare(signal()), clock)
      await settle(ctlr.start(signal()), clock)
    }
    const stepA = a.stepController?.()
    const stepB = b.stepController?.()
    if (stepA === undefined || stepB === undefined) throw new Error('RuntimeTaskController has stepController')
    const waitingA = a.wait(stepA.signal)
    const waitingB = b.wait(stepB.signal)
    await flush()
    expect(seen).toEqual([stepA.signal, stepB.signal])
    const changed = new Error('task changed')
    stepA.abort(changed)
    await expect(waitingA).rejects.toBe(changed)
    b.close()
    expect(stepB.signal.reason).toBeInstanceOf(ControllerClosedError)
    await expect(waitingB).rejects.toBeInstanceOf(ControllerClosedError)
    expect(b.stepController?.().signal.reason).toBeInstanceOf(ControllerClosedError)
    expect((await fake.list()).map((c) => c.state)).toEqual(['running', 'running'])
  })

  it('update refuses another task', () => {
    const { executor } = setup()
    const ctlr = executor().controller(makeTask(), makeDeps())
    const other: Task = { ...makeTask(), id: 'task2' }
    expect(() => ctlr.update(other)).toThrow('task.id: controller of task task1 cannot take task task2')
  })

  it('start is a no-op for a container that already ran and exited; wait then reports its exit', async () => {
    const { clock, executor } = setup()
    const task = makeTask({ command: ['sh', '-c', 'exit 4'] })
    const ctlr = executor().controller(task, makeDeps())
    await settle(ctlr.prepare(signal()), clock)
    await settle(ctlr.start(signal()), clock)
    await expect(settle(ctlr.wait(signal()), clock)).rejects.toMatchObject({ name: 'TaskExitError', exitCode: 4 })
    const later = executor().controller({ ...task, status: { timestamp: 0, state: TaskState.STARTING } }, makeDeps())
    await settle(later.start(signal()), clock)
    await expect(settle(later.wait(signal()), clock)).rejects.toMatchObject({ name: 'TaskExitError', exitCode: 4 })
  })
})

describe('RuntimeExecutor container index', () => {
  it('lists the runtime once for all its controllers, then finds each task\'s container in its index', async () => {
    const { clock, fake } = setup()
    const listed: unknown[] = []
    const counting = new Proxy(fake, {
      get(target, key, receiver) {
        if (key === 'list') return (options?: unknown) => (listed.push(options), target.list(options as never))
        const v = Reflect.get(target, key, receiver) as unknown
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
      },
    })
    const executor = new RuntimeExecutor({ runtime: counting, clock })
    const tasks = ['t1', 't2', 't3'].map((id) => makeTask({}, { id }))
    for (const task of tasks) {
      const ctlr = executor.controller(task, makeDeps())
      await settle(ctlr.prepare(signal()), clock)
      await settle(ctlr.start(signal()), clock)
    }
    expect(listed).toEqual([undefined])
    // A controller made later for a task of this executor adopts its container without listing.
    const again = executor.controller(tasks[1] as Task, makeDeps())
    await settle(again.prepare(signal()), clock)
    expect(listed).toHaveLength(1)
    expect(fake.size).toBe(3)
  })

  it('forgets a removed container: the task prepared again gets a new one', async () => {
    const { clock, fake, executor } = setup()
    const exec = executor()
    const task = makeTask()
    const first = exec.controller(task, makeDeps())
    await settle(first.prepare(signal()), clock)
    const [old] = await fake.list()
    await settle(first.remove(), clock)
    const second = exec.controller(task, makeDeps())
    await settle(second.prepare(signal()), clock)
    const now = await fake.list()
    expect(now).toHaveLength(1)
    expect(now[0]?.id).not.toBe(old?.id)
  })
})

describe('RuntimeExecutor.describe', () => {
  it('describes the node from the runtime and the host, with overrides', async () => {
    const fake = new FakeRuntime()
    const executor = new RuntimeExecutor({
      runtime: fake,
      clock: new ManualClock(),
      hostname: 'worker-1',
      platform: { os: 'linux', architecture: 'x86_64' },
      resources: { nanoCpus: 4e9, memoryBytes: 8 << 30, generic: [{ kind: 'gpu', namedValue: 'GPU-0' }] },
      engineLabels: { zone: 'a' },
    })
    expect(await executor.describe()).toEqual({
      hostname: 'worker-1',
      platform: { os: 'linux', architecture: 'x86_64' },
      resources: { nanoCpus: 4e9, memoryBytes: 8 << 30, generic: [{ kind: 'gpu', namedValue: 'GPU-0' }] },
      engine: { engineVersion: '0.1.0', labels: { zone: 'a' }, plugins: [{ type: 'Runtime', name: 'fake' }] },
    })
  })

  it('defaults to this host, with Docker\'s architecture names', async () => {
    const d = await new RuntimeExecutor({ runtime: new FakeRuntime(), clock: new ManualClock() }).describe()
    expect(d.platform?.os).toBe(process.platform)
    expect(d.platform?.architecture).toBe({ x64: 'x86_64', arm64: 'aarch64' }[process.arch as string] ?? process.arch)
    expect(d.resources).toEqual({ nanoCpus: availableParallelism() * 1e9, memoryBytes: totalmem() })
    expect(d.hostname).toBe(hostname())
  })
})
