/**
 * A service's logs followed across a task restart, nodes as separate processes: a worker on the
 * 'process' runtime runs a task that prints numbered lines and fails; the restart policy replaces
 * it. A client of a follower manager's local control socket follows the service's logs and reads the
 * first task's lines, then its replacement's, each tagged with its task; `tail` and `since` hold.
 */
import { describe, expect, it } from 'vitest'
import { NodeState, RestartCondition, TaskState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import type { LogMessage, SubscribeLogsRequest } from '../../src/index.ts'
import { controlOf, ProcessRig, until } from './processes.ts'

const counter: ServiceSpec = {
  annotations: { name: 'counter' },
  mode: { replicated: { replicas: 1 } },
  task: {
    container: { image: 'busybox', command: ['sh', '-c', 'for i in 1 2 3; do echo "line $i"; sleep 1; done; exit 3'] },
    placement: { constraints: ['node.role == worker'] },
    // One restart: the first task and its replacement, then the service rests.
    restart: { condition: RestartCondition.ON_FAILURE, delayMs: 1000, maxAttempts: 1 },
  },
}

const LINES = ['line 1', 'line 2', 'line 3']

/** What matters of a message here. */
const brief = (m: LogMessage): [string, string] => [m.taskId, m.line]

describe('multi-process logs across a task restart', () => {
  const rig = new ProcessRig()

  it("follows a service's logs through a follower's control socket: the first task's numbered lines, then its replacement's, each with its task id; tail and since honoured", async () => {
    const m1 = await rig.init('m1')
    const m2 = await rig.join('m2', m1, 'manager')
    const w1 = await rig.join('w1', m1, 'worker', ['--runtime', 'process'])
    // Through the follower's socket: it forwards the subscription to the leader's broker.
    const control = controlOf(m2)
    await until(async () => (await control.nodes.get(w1.ready.nodeId)).status.state === NodeState.READY, 'the worker ready')
    expect((await control.nodes.get(m2.ready.nodeId)).managerStatus?.leader).toBe(false)

    const service = await control.services.create(counter)
    const selector = { serviceIds: [service.id] }
    const stop = new AbortController()
    const guard = AbortSignal.timeout(150_000) // a guard only: the loop below stops on its own
    const followed: LogMessage[] = []
    for await (const m of control.logs({ selector, options: { follow: true } }, { signal: AbortSignal.any([stop.signal, guard]) })) {
      followed.push(m)
      const tasks = [...new Set(followed.map((x) => x.taskId))]
      if (tasks.length === 2 && followed.filter((x) => x.taskId === tasks[1]).length === LINES.length) stop.abort()
    }
    expect(guard.aborted).toBe(false)

    // The two tasks of slot 1, oldest first: the first failed, its replacement ran after it.
    await until(async () => (await control.tasks.list({ serviceIds: [service.id] })).filter((t) => t.status.state === TaskState.FAILED).length === 2, 'both tasks failed')
    const tasks = [...(await control.tasks.list({ serviceIds: [service.id] }))].sort((a, b) => a.meta.createdAt - b.meta.createdAt)
    expect(tasks).toHaveLength(2)
    const [first, second] = tasks.map((t) => t.id) as [string, string]
    expect(followed.map(brief)).toEqual([...LINES.map((l) => [first, l]), ...LINES.map((l) => [second, l])])
    expect(new Set(followed.map((m) => [m.serviceId, m.nodeId, m.stream].join(' ')))).toEqual(new Set([`${service.id} ${w1.ready.nodeId} stdout`]))

    // Without follow: tail 1 is the last line of each task; since the replacement's first line, its lines only.
    const read = async (request: SubscribeLogsRequest): Promise<[string, string][]> => {
      const out: LogMessage[] = []
      for await (const m of control.logs(request, { signal: AbortSignal.timeout(60_000) })) out.push(m)
      return out.map(brief).sort((a, b) => (a[0] === b[0] ? a[1].localeCompare(b[1]) : a[0] === first ? -1 : 1))
    }
    expect(await read({ selector, options: { tail: 1 } })).toEqual([
      [first, 'line 3'],
      [second, 'line 3'],
    ])
    const since = followed.find((m) => m.taskId === second)?.time ?? 0
    expect(await read({ selector, options: { since } })).toEqual(LINES.map((l) => [second, l]))
    expect(await read({ selector: { taskIds: [first] }, options: { tail: 2 } })).toEqual([
      [first, 'line 2'],
      [first, 'line 3'],
    ])
  }, 240_000)
})
