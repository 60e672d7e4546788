/**
 * The executor's optional TaskNetworking seam on FakeRuntime: the spec is extended before create,
 * the running task's port status rides on its status, the task is released on remove, and a
 * networking error rejects the task.
 */
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, TaskState, type PortStatus } from '@swarmkit-ts/api'
import { FakeRuntime, type ContainerInfo } from '@swarmkit-ts/engine-adapter'
import { ManualClock } from '@swarmkit-ts/testkit'
import { RuntimeExecutor, type TaskNetworking } from '../src/exec/index.ts'
import { makeDeps, makeTask, run, settle, step } from './helpers/exec-fixtures.ts'

/** Publishes the task's host-mode endpoint ports on the node and reports them as Docker does. */
function hostPorts(log: string[], fail?: Error): TaskNetworking {
  return {
    prepareTask: (task, spec) => {
      log.push(`prepare ${task.id}`)
      if (fail !== undefined) return Promise.reject(fail)
      const ports = (task.endpoint?.ports ?? []).map((p) => ({ target: p.targetPort, published: p.publishedPort ?? 0 }))
      return Promise.resolve({ ...spec, ports, env: { ...spec.env, NET: 'host' } })
    },
    portStatus: (_task, c: ContainerInfo): Promise<PortStatus> =>
      Promise.resolve({ ports: c.ports.map((p) => ({ targetPort: p.target, publishedPort: p.published, protocol: p.protocol, publishMode: 'host' as const })) }),
    releaseTask: (id) => {
      log.push(`release ${id}`)
      return Promise.resolve()
    },
  }
}

describe('TaskNetworking', () => {
  it('extends the spec before create, puts the port status on the statuses from RUNNING on, and releases the task on remove', async () => {
    const clock = new ManualClock(1_000)
    const fake = new FakeRuntime({ clock })
    const log: string[] = []
    const executor = new RuntimeExecutor({ runtime: fake, clock, networking: hostPorts(log) })
    const task = makeTask({ command: ['sh', '-c', 'echo $NET; sleep 10'] }, { endpoint: { ports: [{ targetPort: 8080, publishMode: 'host' }] } })
    const ctlr = executor.controller(task, makeDeps())
    const seen: [TaskState, PortStatus | undefined][] = []
    let t = task
    for (;;) {
      const s = await step(t, ctlr, clock)
      if (s === undefined) break
      seen.push([s.state, s.portStatus])
      t = { ...t, status: s }
    }
    const [c] = await fake.list()
    const published = c?.ports[0]?.published ?? 0
    expect(published).toBeGreaterThan(0) // allocated by the runtime
    const ports: PortStatus = { ports: [{ targetPort: 8080, publishedPort: published, protocol: 'tcp', publishMode: 'host' }] }
    expect(seen).toEqual([
      [TaskState.ACCEPTED, undefined],
      [TaskState.PREPARING, undefined],
      [TaskState.READY, undefined],
      [TaskState.STARTING, undefined],
      [TaskState.RUNNING, ports],
      [TaskState.COMPLETE, ports],
    ])
    const lines: string[] = []
    for await (const l of fake.logs(c?.id ?? '')) lines.push(l.line)
    expect(lines).toEqual(['host'])
    await settle(ctlr.remove(), clock)
    expect(log).toEqual(['prepare task1', 'release task1'])
    expect(ctlr.portStatus?.()).toBeUndefined()
  })

  it('a networking error rejects the task', async () => {
    const clock = new ManualClock(1_000)
    const fake = new FakeRuntime({ clock })
    const executor = new RuntimeExecutor({ runtime: fake, clock, networking: hostPorts([], new InvalidArgumentError('networks[0]', 'network n1 is not on this node')) })
    const task = makeTask()
    const { task: done } = await run(task, executor.controller(task, makeDeps()), clock)
    expect(done.status.state).toBe(TaskState.REJECTED)
    expect(done.status.err).toBe('networks[0]: network n1 is not on this node')
    expect(fake.size).toBe(0)
  })
})
