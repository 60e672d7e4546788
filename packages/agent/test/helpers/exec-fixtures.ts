/**
 * Fixtures of the executor tests: tasks, dependencies, and driving `doStep` on a ManualClock.
 */
import { TaskState, type Config, type ContainerSpec, type Secret, type Task, type TaskSpec, type TaskStatus } from '@swarmkit-ts/api'
import type { ContainerRuntime } from '@swarmkit-ts/engine-adapter'
import type { ManualClock } from '@swarmkit-ts/testkit'
import { doStep, type DoStepContext, type TaskController, type TaskDependencies } from '../../src/exec/index.ts'

const META = { version: { index: 1n }, createdAt: 0, updatedAt: 0 }

/** A task of service `web` slot 1 on node `node1`, assigned, desired RUNNING, with `container` merged into busybox:fake. */
export function makeTask(container: Partial<ContainerSpec> = {}, over: Partial<Task> & { spec?: Partial<TaskSpec> } = {}): Task {
  const { spec, ...rest } = over
  return {
    id: 'task1',
    meta: META,
    spec: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 1000'], ...container }, ...spec },
    serviceId: 'svc1',
    slot: 1,
    nodeId: 'node1',
    annotations: { name: '' },
    serviceAnnotations: { name: 'web' },
    status: { timestamp: 0, state: TaskState.ASSIGNED },
    desiredState: TaskState.RUNNING,
    ...rest,
  }
}

/** A secret with this id, name and UTF-8 data. */
export function makeSecret(id: string, name: string, data: string): Secret {
  return { id, meta: META, spec: { annotations: { name }, data: new TextEncoder().encode(data) } }
}

/** A config with this id, name and UTF-8 data. */
export function makeConfig(id: string, name: string, data: string): Config {
  return { id, meta: META, spec: { annotations: { name }, data: new TextEncoder().encode(data) } }
}

/** Dependencies holding exactly these secrets and configs. */
export function makeDeps(secrets: readonly Secret[] = [], configs: readonly Config[] = []): TaskDependencies {
  const s = new Map(secrets.map((x) => [x.id, x]))
  const c = new Map(configs.map((x) => [x.id, x]))
  return { secret: (id) => s.get(id), config: (id) => c.get(id) }
}

/** Lets every pending promise callback and I/O callback run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/**
 * Settles `promise` on a ManualClock: flushes callbacks, and while it is still pending moves the
 * clock to its next timer. Throws when no timer is left (the promise would never settle) or after
 * `maxMs` of virtual time.
 */
export async function settle<T>(promise: Promise<T>, clock: ManualClock, maxMs = 600_000): Promise<T> {
  let done = false
  promise.then(
    () => (done = true),
    () => (done = true),
  )
  const start = clock.now()
  for (;;) {
    await flush()
    if (done) return promise
    const due = clock.nextDueAt()
    if (due === undefined) throw new Error('settle: pending with no timer left')
    if (due - start > maxMs) throw new Error(`settle: still pending after ${maxMs} ms of virtual time`)
    clock.advance(due - clock.now())
  }
}

/** One `doStep`, settled on the clock. */
export function step(task: Task, ctlr: TaskController, clock: ManualClock, ctx: Partial<DoStepContext> = {}): Promise<TaskStatus | undefined> {
  return settle(doStep(task, ctlr, { clock, signal: new AbortController().signal, ...ctx }), clock)
}

/**
 * Runs `doStep` until it has nothing to do, applying each status to the task; returns the task
 * and the states it went through.
 */
export async function run(task: Task, ctlr: TaskController, clock: ManualClock, ctx: Partial<DoStepContext> = {}): Promise<{ task: Task; states: TaskState[] }> {
  const states: TaskState[] = []
  let t = task
  for (let i = 0; i < 50; i++) {
    const status = await step(t, ctlr, clock, ctx)
    if (status === undefined) return { task: t, states }
    states.push(status.state)
    t = { ...t, status }
    ctlr.update(t)
  }
  throw new Error('run: more than 50 steps')
}

/** `runtime` with some methods replaced (the others call the original). */
export function overrideRuntime(runtime: ContainerRuntime, overrides: Partial<ContainerRuntime>): ContainerRuntime {
  return {
    describe: () => runtime.describe(),
    pullImage: (ref, options) => runtime.pullImage(ref, options),
    create: (spec) => runtime.create(spec),
    start: (id) => runtime.start(id),
    wait: (id, options) => runtime.wait(id, options),
    stop: (id, options) => runtime.stop(id, options),
    remove: (id, options) => runtime.remove(id, options),
    inspect: (id) => runtime.inspect(id),
    list: (options) => runtime.list(options),
    logs: (id, options) => runtime.logs(id, options),
    events: (options) => runtime.events(options),
    ...overrides,
  }
}
