import { NodeAvailability, NodeRole, NodeState, TASK_STATES, TaskState } from '@swarmkit-ts/api'
import type { JobStatus, Node, Service, ServiceMode, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decideDue, isIterationRunning, planGlobalJob, planReplicatedJob } from '../src/index.ts'


const meta = (createdAt = 0): Service['meta'] => ({ version: { index: 1n }, createdAt, updatedAt: createdAt })

function service(mode: ServiceMode, jobStatus?: JobStatus, createdAt = 0): Frozen<Service> {
  return { id: 'svc', meta: meta(createdAt), spec: { annotations: { name: 'job' }, mode, task: { container: { image: 'busybox' } } }, ...(jobStatus === undefined ? {} : { jobStatus }) }
}

interface TaskInit {
  readonly id: string
  readonly slot?: number
  readonly nodeId?: string
  readonly state: TaskState
  readonly desired?: TaskState
  readonly iteration?: bigint
}

function task(t: TaskInit): Frozen<Task> {
  return {
    id: t.id,
    meta: meta(),
    spec: { container: { image: 'busybox' } },
    serviceId: 'svc',
    slot: t.slot ?? 0,
    nodeId: t.nodeId ?? '',
    annotations: { name: t.id },
    serviceAnnotations: { name: 'job' },
    status: { timestamp: 0, state: t.state },
    desiredState: t.desired ?? TaskState.COMPLETE,
    ...(t.iteration === undefined ? {} : { jobIteration: { index: t.iteration } }),
  }
}

function node(id: string, opts: { state?: Node['status']['state']; availability?: Node['spec']['availability']; createdAt?: number; zone?: string } = {}): Frozen<Node> {
  return {
    id,
    meta: meta(opts.createdAt ?? 0),
    spec: { annotations: { name: id, labels: { zone: opts.zone ?? 'a' } }, desiredRole: NodeRole.WORKER, membership: 'accepted', availability: opts.availability ?? NodeAvailability.ACTIVE },
    status: { state: opts.state ?? NodeState.READY },
    role: NodeRole.WORKER,
  }
}

const at = (i: bigint): JobStatus => ({ jobIteration: { index: i }, lastExecution: 100 })

describe('replicated job plan', () => {
  it('fills the lowest free slots from 0 around running and completed tasks', () => {
    const s = service({ replicatedJob: { maxConcurrent: 3, totalCompletions: 6 } }, at(2n))
    const plan = planReplicatedJob(s, [
      task({ id: 'a', slot: 0, state: TaskState.COMPLETE, iteration: 2n }),
      task({ id: 'b', slot: 2, state: TaskState.RUNNING, iteration: 2n }),
    ])
    expect(plan).toEqual({ create: [1, 3], restart: [], remove: [] })
  })

  it('counts a failed task still desired COMPLETE as running, holding its slot, and hands it to the restart supervisor', () => {
    const s = service({ replicatedJob: { maxConcurrent: 2, totalCompletions: 2 } }, at(0n))
    const plan = planReplicatedJob(s, [task({ id: 'f', slot: 0, state: TaskState.FAILED, iteration: 0n })])
    expect(plan).toEqual({ create: [1], restart: ['f'], remove: [] })
  })

  it('frees the slot of a task already shut down (restart declined) and ignores tasks without an iteration', () => {
    const s = service({ replicatedJob: { maxConcurrent: 1, totalCompletions: 1 } }, at(0n))
    const plan = planReplicatedJob(s, [
      task({ id: 'f', slot: 0, state: TaskState.FAILED, desired: TaskState.SHUTDOWN, iteration: 0n }),
      task({ id: 'x', slot: 0, state: TaskState.RUNNING }),
    ])
    expect(plan).toEqual({ create: [0], restart: [], remove: [] })
  })

  it('removes older iterations’ tasks that may still run, and leaves finished or already removed ones', () => {
    const s = service({ replicatedJob: { maxConcurrent: 1, totalCompletions: 1 } }, at(3n))
    const plan = planReplicatedJob(s, [
      task({ id: 'run', state: TaskState.RUNNING, iteration: 2n }),
      task({ id: 'new', state: TaskState.NEW, iteration: 1n }),
      task({ id: 'done', state: TaskState.COMPLETE, iteration: 2n }),
      task({ id: 'removed', state: TaskState.RUNNING, desired: TaskState.REMOVE, iteration: 2n }),
      task({ id: 'cur', state: TaskState.RUNNING, iteration: 3n }),
    ])
    expect(plan).toEqual({ create: [], restart: [], remove: ['run', 'new'] })
  })

  it('creates nothing for a scheduled job that has not run since its create or update', () => {
    const s = service({ replicatedJob: { maxConcurrent: 2, totalCompletions: 2, schedule: { cron: '* * * * *' } } }, { jobIteration: { index: 1n }, nextExecution: 500 })
    expect(planReplicatedJob(s, [task({ id: 'old', state: TaskState.RUNNING, iteration: 0n })])).toEqual({ create: [], restart: [], remove: ['old'] })
  })

  it('property: never more than maxConcurrent running, never more than totalCompletions, new slots distinct, free and below the total', () => {
    const arbTask = fc.record({
      slot: fc.nat(7),
      state: fc.constantFrom(...TASK_STATES),
      desired: fc.constantFrom(TaskState.READY, TaskState.COMPLETE, TaskState.SHUTDOWN, TaskState.REMOVE),
      iteration: fc.constantFrom(0n, 1n),
    })
    fc.assert(
      fc.property(fc.nat(5), fc.nat(8), fc.array(arbTask, { maxLength: 10 }), (maxConcurrent, total, raw) => {
        const tasks = raw.map((t, i) => task({ id: `t${i}`, ...t }))
        const plan = planReplicatedJob(service({ replicatedJob: { maxConcurrent, totalCompletions: total } }, at(1n)), tasks)
        const current = tasks.filter((t) => t.jobIteration?.index === 1n)
        const completed = current.filter((t) => t.status.state === TaskState.COMPLETE)
        const running = current.filter((t) => t.status.state !== TaskState.COMPLETE && t.desiredState <= TaskState.COMPLETE)
        const used = new Set([...completed, ...running].map((t) => t.slot))
        expect(new Set(plan.create).size).toBe(plan.create.length)
        for (const slot of plan.create) {
          expect(used.has(slot)).toBe(false)
          expect(slot).toBeLessThan(total)
        }
        if (plan.create.length > 0) {
          expect(running.length + plan.create.length).toBeLessThanOrEqual(maxConcurrent)
          expect(completed.length + running.length + plan.create.length).toBeLessThanOrEqual(total)
        }
        expect(plan.create.length).toBe(Math.max(0, Math.min(maxConcurrent - running.length, total - completed.length - running.length)))
      }),
      { numRuns: 500 },
    )
  })
})

describe('global job plan', () => {
  const mode: ServiceMode = { globalJob: {} }

  it('creates a task on each READY, ACTIVE node that existed when the iteration started, in node id order', () => {
    const s = service(mode, { jobIteration: { index: 0n }, lastExecution: 100 })
    const nodes = [node('c'), node('a', { createdAt: 100 }), node('late', { createdAt: 101 }), node('p', { availability: NodeAvailability.PAUSE }), node('d', { state: NodeState.DOWN })]
    expect(planGlobalJob(s, [], nodes).create).toEqual(['a', 'c'])
  })

  it('uses the service creation time when the job has no last execution, and honours constraints', () => {
    const s: Frozen<Service> = { ...service(mode, undefined, 50), spec: { ...service(mode).spec, task: { container: { image: 'b' }, placement: { constraints: ['node.labels.zone==a'] } } } }
    const nodes = [node('a', { createdAt: 50 }), node('b', { zone: 'b' }), node('late', { createdAt: 51 })]
    expect(planGlobalJob(s, [], nodes).create).toEqual(['a'])
  })

  it('restarts failed tasks on valid nodes, shuts down running ones on drained, down or deleted nodes, removes older iterations', () => {
    const s = service(mode, at(1n))
    const nodes = [node('ok'), node('failed'), node('drained', { availability: NodeAvailability.DRAIN }), node('down', { state: NodeState.DOWN })]
    const plan = planGlobalJob(s, [
      task({ id: 'ok1', nodeId: 'ok', state: TaskState.RUNNING, iteration: 1n }),
      task({ id: 'f1', nodeId: 'failed', state: TaskState.FAILED, iteration: 1n }),
      task({ id: 'dr1', nodeId: 'drained', state: TaskState.RUNNING, iteration: 1n }),
      task({ id: 'dn1', nodeId: 'down', state: TaskState.ASSIGNED, iteration: 1n }),
      task({ id: 'gone1', nodeId: 'gone', state: TaskState.RUNNING, iteration: 1n }),
      task({ id: 'old', nodeId: 'ok', state: TaskState.RUNNING, iteration: 0n }),
    ], nodes)
    expect(plan).toEqual({ create: [], restart: ['f1'], shutdown: ['dr1', 'dn1', 'gone1'], remove: ['old'] })
  })
})

describe('schedule decisions', () => {
  const cron = { cron: '*/10 * * * *' }
  const T = Date.UTC(2026, 0, 1, 0, 0)
  const scheduled = (status: JobStatus): Frozen<Service> => service({ replicatedJob: { maxConcurrent: 1, totalCompletions: 2, schedule: cron } }, status, T - 1)

  it('an iteration runs until totalCompletions tasks completed', () => {
    const s = scheduled({ jobIteration: { index: 0n }, lastExecution: T })
    expect(isIterationRunning(s, [task({ id: 'a', state: TaskState.COMPLETE, iteration: 0n })])).toBe(true)
    expect(isIterationRunning(s, [task({ id: 'a', state: TaskState.COMPLETE, iteration: 0n }), task({ id: 'b', slot: 1, state: TaskState.COMPLETE, iteration: 0n })])).toBe(false)
  })

  it('nothing is due before nextExecution; at it, an idle job starts its current iteration', () => {
    const s = scheduled({ jobIteration: { index: 4n }, nextExecution: T + 600_000 })
    expect(decideDue(s, [], T + 599_999)).toEqual({ outcome: 'none' })
    expect(decideDue(s, [], T + 600_000)).toEqual({ outcome: 'run', status: { jobIteration: { index: 4n }, lastExecution: T + 600_000, nextExecution: T + 1_200_000 } })
  })

  it('without a recorded nextExecution, the next due time follows the last execution, skip or creation', () => {
    const s = scheduled({ jobIteration: { index: 0n }, lastExecution: T, lastSkippedExecution: T + 600_000, skippedExecutions: 1 })
    expect(decideDue(s, [], T + 600_000)).toEqual({ outcome: 'none' })
    const done = [task({ id: 'a', state: TaskState.COMPLETE, iteration: 0n }), task({ id: 'b', slot: 1, state: TaskState.COMPLETE, iteration: 0n })]
    expect(decideDue(s, done, T + 1_200_000)).toEqual({
      outcome: 'run',
      status: { jobIteration: { index: 1n }, lastExecution: T + 1_200_000, nextExecution: T + 1_800_000, skippedExecutions: 1, lastSkippedExecution: T + 600_000 },
    })
  })
})
