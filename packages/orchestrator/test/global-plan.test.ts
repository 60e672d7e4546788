import { NodeAvailability, NodeRole, NodeState, TaskState } from '@swarmkit-ts/api'
import type { Node, Service, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { decideGlobalRestart, planGlobalNode, planGlobalService, withoutManagerStops } from '../src/global/global-reconcile.ts'
import type { Slot } from '../src/index.ts'

const META = { version: { index: 1n }, createdAt: 0, updatedAt: 0 }

function node(id: string, opts: { availability?: Node['spec']['availability']; zone?: string; state?: Node['status']['state'] } = {}): Frozen<Node> {
  return {
    id,
    meta: META,
    spec: {
      annotations: { name: id, labels: { zone: opts.zone ?? 'a' } },
      desiredRole: NodeRole.WORKER,
      membership: 'accepted',
      availability: opts.availability ?? NodeAvailability.ACTIVE,
    },
    description: { hostname: id, platform: { os: 'linux', architecture: 'x86_64' } },
    status: { state: opts.state ?? NodeState.READY },
    role: NodeRole.WORKER,
  }
}

function service(id: string, image: string, version: bigint, constraints?: string[]): Frozen<Service> {
  return {
    id,
    meta: META,
    spec: {
      annotations: { name: id },
      mode: { global: {} },
      task: { container: { image }, ...(constraints === undefined ? {} : { placement: { constraints } }) },
    },
    specVersion: { index: version },
  }
}

function task(id: string, svc: Frozen<Service>, nodeId: string, opts: { image?: string; version?: bigint; desired?: TaskState; state?: TaskState } = {}): Frozen<Task> {
  return {
    id,
    meta: META,
    spec: { container: { image: opts.image ?? svc.spec.task.container?.image ?? '' } },
    specVersion: { index: opts.version ?? svc.specVersion?.index ?? 0n },
    serviceId: svc.id,
    slot: 0,
    nodeId,
    annotations: { name: id },
    serviceAnnotations: svc.spec.annotations,
    status: { timestamp: 0, state: opts.state ?? TaskState.RUNNING, message: '' },
    desiredState: opts.desired ?? TaskState.RUNNING,
  }
}

describe('global orchestrator plans', () => {
  it('planGlobalService creates on nodes without a task, hands the others as one slot each, skips paused nodes and shuts down tasks on nodes that are not valid or do not match', () => {
    const s = service('s', 'img:1', 1n, ['node.labels.zone==a'])
    const nodes = [node('n1'), node('n2'), node('n3', { availability: NodeAvailability.PAUSE }), node('n4', { zone: 'b' })]
    const tasks = [
      task('t1', s, 'n1'),
      task('t1b', s, 'n1', { desired: TaskState.READY }),
      task('t3', s, 'n3'),
      task('t4', s, 'n4'),
      task('tgone', s, 'n9'),
      task('told', s, 'n9', { desired: TaskState.SHUTDOWN, state: TaskState.SHUTDOWN }),
    ]
    const plan = planGlobalService(s, nodes, tasks)
    expect(plan.create).toEqual(['n2'])
    expect(plan.shutdown).toEqual(['t4', 'tgone'])
    expect(plan.slots.map((slot) => slot.map((t) => t.id))).toEqual([['t1', 't1b']])
  })

  it('planGlobalNode shuts down every global task of a node that is not valid, and does nothing on a paused node', () => {
    const s = service('s', 'img:1', 1n)
    const other = service('r', 'img:1', 1n)
    const services = new Map([[s.id, s]])
    const tasks = [task('t1', s, 'n1'), task('t2', s, 'n1', { desired: TaskState.SHUTDOWN }), task('r1', other, 'n1')]
    expect(planGlobalNode(node('n1', { availability: NodeAvailability.DRAIN }), false, services, tasks)).toEqual({ create: [], shutdown: ['t1'] })
    expect(planGlobalNode(node('n1', { availability: NodeAvailability.PAUSE }), true, services, [])).toEqual({ create: [], shutdown: [] })
  })

  it('planGlobalNode replaces a dirty task directly, trims extra clean tasks to one, and creates where a matching service has none', () => {
    const a = service('a', 'img:2', 7n)
    const b = service('b', 'img:1', 1n)
    const c = service('c', 'img:1', 1n)
    const d = service('d', 'img:1', 1n, ['node.labels.zone==b'])
    const services = new Map([a, b, c, d].map((s) => [s.id, s] as const))
    const tasks = [
      task('a-old', a, 'n1', { image: 'img:1', version: 3n }),
      task('b1', b, 'n1'),
      task('b2', b, 'n1'),
      task('d1', d, 'n1'),
    ]
    const plan = planGlobalNode(node('n1'), true, services, tasks)
    expect([...plan.create].sort()).toEqual(['a', 'c'])
    expect([...plan.shutdown].sort()).toEqual(['a-old', 'b2', 'd1'])
  })

  it('planGlobalNode keeps a task whose spec differs from the service only in constraints the node still matches', () => {
    const s = service('s', 'img:1', 5n, ['node.labels.zone==a'])
    const t = { ...task('t', s, 'n1', { version: 2n }), spec: { container: { image: 'img:1' } } }
    expect(planGlobalNode(node('n1'), true, new Map([[s.id, s]]), [t])).toEqual({ create: [], shutdown: [] })
  })

  it('decideGlobalRestart restarts on an active matching node, shuts down on a paused, non-matching or invalid node, and skips handled tasks or deleted services', () => {
    const s = service('s', 'img:1', 1n, ['node.labels.zone==a'])
    const failed = task('t', s, 'n1', { state: TaskState.FAILED })
    expect(decideGlobalRestart(failed, s, node('n1'))).toBe('restart')
    expect(decideGlobalRestart(failed, s, node('n1', { availability: NodeAvailability.PAUSE }))).toBe('shutdown')
    expect(decideGlobalRestart(failed, s, node('n1', { zone: 'b' }))).toBe('shutdown')
    expect(decideGlobalRestart(failed, s, undefined)).toBe('shutdown')
    expect(decideGlobalRestart({ ...failed, desiredState: TaskState.SHUTDOWN }, s, node('n1'))).toBe('skip')
    expect(decideGlobalRestart(failed, undefined, node('n1'))).toBe('skip')
  })

  it('withoutManagerStops counts a node whose only kept task the manager stopped as empty, but keeps a task that ended on its own', () => {
    const s = service('s', 'img:1', 1n)
    const keepNewest = withoutManagerStops((slot: Slot) => slot.slice(-1))
    const drained = task('d', s, 'n1', { desired: TaskState.SHUTDOWN, state: TaskState.SHUTDOWN })
    const unreported = task('u', s, 'n1', { desired: TaskState.SHUTDOWN, state: TaskState.RUNNING })
    const exited = task('e', s, 'n1', { desired: TaskState.SHUTDOWN, state: TaskState.COMPLETE })
    const failed = task('f', s, 'n1', { desired: TaskState.SHUTDOWN, state: TaskState.FAILED })
    const live = task('l', s, 'n1')
    expect(keepNewest([drained], s)).toEqual([])
    expect(keepNewest([unreported], s)).toEqual([])
    expect(keepNewest([exited], s).map((t) => t.id)).toEqual(['e'])
    expect(keepNewest([failed], s).map((t) => t.id)).toEqual(['f'])
    expect(keepNewest([drained, live], s).map((t) => t.id)).toEqual(['l'])
  })
})
