/**
 * The executor on ProcessRuntime (real processes, the system clock): stop grace, secrets as the
 * task's files, adoption of a running container by another executor.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { systemClock, TaskState, type Task, type TaskStatus } from '@swarmkit-ts/api'
import type { ContainerRuntime } from '@swarmkit-ts/engine-adapter'
import { doStep, RuntimeExecutor, TASK_ID_LABEL, type TaskController } from '../src/exec/index.ts'
import { makeConfig, makeDeps, makeSecret, makeTask } from './helpers/exec-fixtures.ts'
import { PROCESS_IMAGE, ProcessFixture } from './helpers/exec-process.ts'

const { PREPARING, RUNNING, COMPLETE, SHUTDOWN } = TaskState
let fx: ProcessFixture

beforeEach(async () => {
  fx = await ProcessFixture.create()
})
afterEach(async () => {
  await fx.dispose()
})

const task = (script: string, over: Parameters<typeof makeTask>[0] = {}): Task => makeTask({ image: PROCESS_IMAGE, command: ['sh', '-c', script], ...over })

/** Steps until `until` (or nothing to do), with the system clock. */
async function runTo(t: Task, ctlr: TaskController, until?: TaskState): Promise<Task> {
  for (;;) {
    const s = await doStep(t, ctlr, { clock: systemClock, signal: AbortSignal.timeout(60_000) })
    if (s === undefined) return t
    t = { ...t, status: s }
    ctlr.update(t)
    if (s.state === until) return t
  }
}

async function waitForLine(rt: ContainerRuntime, id: string, text: string): Promise<void> {
  const ac = new AbortController()
  for await (const l of rt.logs(id, { follow: true, signal: ac.signal })) if (l.line === text) ac.abort()
}

async function stdout(rt: ContainerRuntime, id: string): Promise<string[]> {
  const out: string[] = []
  for await (const l of rt.logs(id)) if (l.stream === 'stdout') out.push(l.line)
  return out
}

describe('executor on ProcessRuntime', () => {
  it('shutdown kills a process that ignores SIGTERM after the stop grace period (exit 137)', async () => {
    const rt = await fx.runtime()
    const executor = new RuntimeExecutor({ runtime: rt, clock: systemClock })
    const t0 = task('trap "" TERM; echo ready; while true; do sleep 1; done', { stopGracePeriodMs: 1_500 })
    const ctlr = executor.controller(t0, makeDeps())
    const running = await runTo(t0, ctlr, RUNNING)
    const id = ctlr.containerStatus()?.containerId ?? ''
    await waitForLine(rt, id, 'ready')
    const stopping = { ...running, desiredState: SHUTDOWN }
    ctlr.update(stopping)
    const shut = await doStep(stopping, ctlr, { clock: systemClock, signal: AbortSignal.timeout(30_000) })
    expect(shut?.state).toBe(SHUTDOWN)
    expect(shut?.containerStatus).toEqual({ containerId: id, exitCode: 137 })
  })

  it('shutdown of a process that honours SIGTERM ends it with 143, within the grace period', async () => {
    const rt = await fx.runtime()
    const executor = new RuntimeExecutor({ runtime: rt, clock: systemClock })
    const t0 = task('echo ready; while true; do sleep 1; done', { stopGracePeriodMs: 60_000 })
    const ctlr = executor.controller(t0, makeDeps())
    const running = await runTo(t0, ctlr, RUNNING)
    await waitForLine(rt, ctlr.containerStatus()?.containerId ?? '', 'ready')
    const shut = await doStep({ ...running, desiredState: SHUTDOWN }, ctlr, { clock: systemClock, signal: AbortSignal.timeout(30_000) })
    expect(shut?.containerStatus?.exitCode).toBe(143)
  })

  it('writes secrets and configs only as the task\'s files, with their modes, and removes them with the container', async () => {
    const rt = await fx.runtime()
    const executor = new RuntimeExecutor({ runtime: rt, clock: systemClock })
    const deps = makeDeps([makeSecret('s1', 'db', 'hunter2-secret')], [makeConfig('c1', 'app', 'level=debug')])
    const t0 = task('stat -c %a /run/secrets/db-password; sed s/-secret/-seen/ /run/secrets/db-password; echo; stat -c %a /app.conf; cat /app.conf', {
      secrets: [{ secretId: 's1', secretName: 'db', file: { name: 'db-password', mode: 0o400 } }],
      configs: [{ configId: 'c1', configName: 'app', file: { name: 'app.conf', mode: 0o640 } }],
    })
    const ctlr = executor.controller(t0, makeDeps([]))
    const rejected = await runTo(t0, ctlr)
    expect(rejected.status.state).toBe(TaskState.REJECTED) // the secret is not among these deps
    const ctlr2 = executor.controller({ ...t0, id: 'task2' }, deps)
    const done = await runTo({ ...t0, id: 'task2' }, ctlr2)
    expect(done.status.state).toBe(COMPLETE)
    const id = ctlr2.containerStatus()?.containerId ?? ''
    expect(await stdout(rt, id)).toEqual(['400', 'hunter2-seen', '640', 'level=debug'])
    expect(await fx.filesContaining('hunter2-secret')).toEqual([`/containers/${id}/files/run/secrets/db-password`])
    await ctlr2.remove()
    expect(await fx.filesContaining('hunter2-secret')).toEqual([])
    expect(await rt.list()).toHaveLength(0)
  })

  it('a second executor\'s controller for the same task adopts the running container (no duplicate)', async () => {
    const rt1 = await fx.runtime()
    const t0 = task('echo ready; while true; do sleep 1; done', { stopGracePeriodMs: 1_000 })
    const first = new RuntimeExecutor({ runtime: rt1, clock: systemClock }).controller(t0, makeDeps())
    const running = await runTo(t0, first, RUNNING)
    const id = first.containerStatus()?.containerId ?? ''
    await waitForLine(rt1, id, 'ready')
    // The agent restarts: a new runtime on the same state directory, a new executor.
    await fx.close(rt1)
    const rt2 = await fx.runtime()
    const second = new RuntimeExecutor({ runtime: rt2, clock: systemClock }).controller(t0, makeDeps())
    // The task database may be behind: replay from PREPARING.
    let t: Task = { ...running, status: { timestamp: 0, state: PREPARING } }
    for (const want of [TaskState.READY, TaskState.STARTING, RUNNING]) {
      const s = await doStep(t, second, { clock: systemClock, signal: AbortSignal.timeout(30_000) })
      expect(s?.state).toBe(want)
      t = { ...t, status: s as TaskStatus }
    }
    const containers = await rt2.list({ labels: { [TASK_ID_LABEL]: t0.id } })
    expect(containers.map((c) => [c.id, c.state])).toEqual([[id, 'running']])
    expect(second.containerStatus()?.containerId).toBe(id)
    const shut = await doStep({ ...t, desiredState: SHUTDOWN }, second, { clock: systemClock, signal: AbortSignal.timeout(30_000) })
    expect(shut?.state).toBe(SHUTDOWN)
    expect((await rt2.inspect(id)).state).toBe('exited')
  })
})
