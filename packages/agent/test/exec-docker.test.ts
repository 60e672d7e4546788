/**
 * The executor on a real Docker engine (the private test dockerd): limits and secrets reach the
 * container, a second executor adopts the running container, and the stop grace period holds.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock, TaskState, type Task, type TaskStatus } from '@swarmkit-ts/api'
import { DockerRuntime } from '@swarmkit-ts/engine-adapter'
import { doStep, RuntimeExecutor, TASK_ID_LABEL, type TaskController } from '../src/exec/index.ts'
import { makeDeps, makeSecret, makeTask } from './helpers/exec-fixtures.ts'
import { dockerSkipReason, startDocker, stopDocker, type TestDocker } from './helpers/exec-docker.ts'

const skipped = dockerSkipReason() !== undefined

async function step(t: Task, ctlr: TaskController): Promise<TaskStatus | undefined> {
  return doStep(t, ctlr, { clock: systemClock, signal: AbortSignal.timeout(120_000) })
}

describe.skipIf(skipped)('executor on Docker', () => {
  const dir = skipped ? '' : mkdtempSync(join(tmpdir(), 'swarmkit-exec-docker-'))
  const runtimes: DockerRuntime[] = []
  let docker: TestDocker | undefined
  const runtime = (): DockerRuntime => {
    if (docker === undefined) throw new Error('dockerd not started')
    const rt = new DockerRuntime({ socketPath: docker.socket, instance: 'agent-exec', stateDir: join(dir, 'files'), allowPull: false })
    runtimes.push(rt)
    return rt
  }
  beforeAll(async () => {
    docker = await startDocker()
  }, 300_000)
  afterAll(async () => {
    const rt = runtimes[0]
    if (rt !== undefined) for (const c of await rt.list()) await rt.remove(c.id, { force: true }).catch(() => undefined)
    for (const r of runtimes) await r.close()
    if (docker !== undefined) await stopDocker()
    rmSync(dir, { recursive: true, force: true })
  }, 120_000)

  it('runs a task with a memory limit and a secret, a second executor adopts it, and shutdown kills it after the grace (137)', async () => {
    const image = docker?.image ?? ''
    const deps = makeDeps([makeSecret('s1', 'token', 'tok-123')])
    let t: Task = makeTask(
      {
        image,
        command: ['sh', '-c', 'trap "" TERM; cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; stat -c %a /run/secrets/token; while true; do sleep 1; done'],
        secrets: [{ secretId: 's1', secretName: 'token', file: { name: 'token', mode: 0o400 } }],
        stopGracePeriodMs: 1_000,
      },
      { id: `exec${randomBytes(6).toString('hex')}`, spec: { resources: { limits: { memoryBytes: 64 * 1024 * 1024 } } } },
    )
    const first = new RuntimeExecutor({ runtime: runtime(), clock: systemClock }).controller(t, deps)
    while (t.status.state < TaskState.RUNNING) {
      const s = await step(t, first)
      expect(s).toBeDefined()
      t = { ...t, status: s as TaskStatus }
    }
    expect(t.status.state).toBe(TaskState.RUNNING)
    const id = first.containerStatus()?.containerId ?? ''
    const rt = runtime()
    const lines: string[] = []
    const ac = new AbortController()
    for await (const l of rt.logs(id, { follow: true, signal: ac.signal })) {
      lines.push(l.line)
      if (lines.length === 2) ac.abort()
    }
    expect(lines).toEqual([String(64 * 1024 * 1024), '400'])

    // Another executor (as after an agent restart) replays the task from PREPARING: it adopts.
    const second = new RuntimeExecutor({ runtime: rt, clock: systemClock }).controller(t, deps)
    let replay: Task = { ...t, status: { timestamp: 0, state: TaskState.PREPARING } }
    for (const want of [TaskState.READY, TaskState.STARTING, TaskState.RUNNING]) {
      const s = await step(replay, second)
      expect(s?.state).toBe(want)
      replay = { ...replay, status: s as TaskStatus }
    }
    expect((await rt.list({ labels: { [TASK_ID_LABEL]: t.id } })).map((c) => [c.id, c.state])).toEqual([[id, 'running']])

    const shut = await step({ ...replay, desiredState: TaskState.SHUTDOWN }, second)
    expect(shut?.state).toBe(TaskState.SHUTDOWN)
    expect(shut?.containerStatus).toEqual({ containerId: id, exitCode: 137 })
    await second.remove()
    expect(await rt.list({ labels: { [TASK_ID_LABEL]: t.id } })).toEqual([])
  }, 180_000)
})
