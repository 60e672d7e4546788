/**
 * Control tests of the harness's store invariants on hand-built snapshots: each check passes a
 * converged cluster and finds the violation it exists for (a checker that cannot fail proves
 * nothing).
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Node, Service, ServiceMode, Task, TaskSpec, UpdateStatus } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import { ManualClock } from '@swarmkit-ts/testkit'
import { describe, expect, it } from 'vitest'
import { checkStoreInvariants } from '../../src/simulate/harness/store-invariants.ts'
import type { StoreSnapshot } from '../../src/simulate/harness/store-invariants.ts'
import { canonicalJson, checkStoreAgreement } from '../../src/simulate/harness/history-checks.ts'

const meta = { version: { index: 1n }, createdAt: 0, updatedAt: 0 }
const CPU = 1_000_000_000
/** 25-character base36 ids, for objects put in a real store. */
const N1 = 'n1'.padEnd(25, '0')
const WEB = 'web'.padEnd(25, '0')
const API = 'api'.padEnd(25, '0')
const spec: TaskSpec = { container: { image: 'busybox:fake' } }

function node(id: string, extra: { availability?: Node['spec']['availability']; state?: Node['status']['state']; cpus?: number } = {}): Node {
  return {
    id,
    meta,
    spec: { annotations: { name: id }, desiredRole: 'worker', membership: 'accepted', availability: extra.availability ?? 'active' },
    status: { state: extra.state ?? 'ready' },
    description: { hostname: id, resources: { nanoCpus: (extra.cpus ?? 2) * CPU, memoryBytes: 2 ** 30 } },
    role: 'worker',
  }
}

function service(id: string, mode: ServiceMode, extra: { task?: TaskSpec; updateStatus?: UpdateStatus; failureAction?: 'pause' | 'rollback' } = {}): Service {
  return {
    id,
    meta,
    spec: {
      annotations: { name: id },
      mode,
      task: extra.task ?? spec,
      ...(extra.failureAction === undefined ? {} : { update: { failureAction: extra.failureAction } }),
    },
    ...(extra.updateStatus === undefined ? {} : { updateStatus: extra.updateStatus }),
  }
}

function task(id: string, svc: Service, slot: number, nodeId: string, extra: { state?: TaskState; desired?: TaskState; spec?: TaskSpec } = {}): Task {
  return {
    id,
    meta,
    spec: extra.spec ?? svc.spec.task,
    serviceId: svc.id,
    slot,
    nodeId,
    annotations: { name: `${svc.spec.annotations.name}.${slot}` },
    serviceAnnotations: { name: svc.spec.annotations.name },
    status: { timestamp: 0, state: extra.state ?? TaskState.RUNNING },
    desiredState: extra.desired ?? TaskState.RUNNING,
  }
}

const web = service('web', { replicated: { replicas: 2 } })
const converged: StoreSnapshot = {
  nodes: [node('n1'), node('n2')],
  services: [web],
  tasks: [task('t1', web, 1, 'n1'), task('t2', web, 2, 'n2'), task('t0', web, 1, 'n2', { state: TaskState.SHUTDOWN, desired: TaskState.SHUTDOWN })],
}

const messages = (snap: StoreSnapshot, converged = true): string[] => checkStoreInvariants(snap, { converged }).map((v) => `[${v.invariant}] ${v.message}`)

describe('the harness store invariants', () => {
  it('pass a converged cluster: each slot one RUNNING task, nothing on drained nodes, resources kept', () => {
    expect(messages(converged)).toEqual([])
  })

  it('find a replicated service short of replicas while a node has room, and one with two tasks in a slot', () => {
    const short: StoreSnapshot = { ...converged, tasks: [task('t1', web, 1, 'n1')] }
    expect(messages(short)).toEqual(['[replicas] service web: 1 tasks RUNNING, want 2 (nodes with room: n1, n2)'])
    const doubled: StoreSnapshot = { ...converged, tasks: [task('t1', web, 1, 'n1'), task('t2', web, 1, 'n2')] }
    expect(messages(doubled)).toEqual(['[replicas] service web: slot 1 runs 2 tasks'])
    const over: StoreSnapshot = { ...converged, tasks: [...converged.tasks, task('t3', web, 3, 'n1')] }
    expect(messages(over)).toEqual(['[replicas] service web: 3 tasks RUNNING, want 2'])
  })

  it('accept fewer replicas when no eligible node has room (drained, down, full, max replicas per node)', () => {
    const big = service('big', { replicated: { replicas: 3 } }, { task: { ...spec, resources: { reservations: { nanoCpus: CPU } } } })
    const full: StoreSnapshot = { nodes: [node('n1')], services: [big], tasks: [task('b1', big, 1, 'n1'), task('b2', big, 2, 'n1'), task('b3', big, 3, '', { state: TaskState.PENDING })] }
    expect(messages(full)).toEqual([])
    const one = service('one', { replicated: { replicas: 3 } }, { task: { ...spec, placement: { maxReplicas: 1 } } })
    const spread: StoreSnapshot = { nodes: [node('n1'), node('n2', { availability: 'drain' }), node('n3', { state: 'down' })], services: [one], tasks: [task('o1', one, 1, 'n1')] }
    expect(messages(spread)).toEqual([])
    const room: StoreSnapshot = { ...spread, nodes: [node('n1'), node('n2')] }
    expect(messages(room)).toEqual(['[replicas] service one: 1 tasks RUNNING, want 3 (nodes with room: n2)'])
  })

  it('find a global service missing on an eligible node, and one running twice on a node', () => {
    const g = service('g', { global: {} })
    const nodes = [node('n1'), node('n2'), node('n3', { availability: 'drain' })]
    expect(messages({ nodes, services: [g], tasks: [task('g1', g, 0, 'n1'), task('g2', g, 0, 'n2')] })).toEqual([])
    expect(messages({ nodes, services: [g], tasks: [task('g1', g, 0, 'n1')] })).toEqual(['[global] service g: no task RUNNING on eligible node n2'])
    expect(messages({ nodes, services: [g], tasks: [task('g1', g, 0, 'n1'), task('g2', g, 0, 'n2'), task('g3', g, 0, 'n2')] })).toEqual(['[global] service g: 2 tasks RUNNING on node n2'])
  })

  it('find a node over its resources, at any time (converged or not)', () => {
    const big = service('big', { replicated: { replicas: 3 } }, { task: { ...spec, resources: { reservations: { nanoCpus: CPU } } } })
    const over: StoreSnapshot = { nodes: [node('n1')], services: [big], tasks: [task('b1', big, 1, 'n1'), task('b2', big, 2, 'n1', { state: TaskState.ASSIGNED }), task('b3', big, 3, 'n1', { state: TaskState.PREPARING })] }
    expect(messages(over, false)).toEqual([`[resources] node n1 is over its resources by ${CPU} nano CPUs and 0 bytes`])
    const shutDown: StoreSnapshot = { ...over, tasks: [...over.tasks.slice(0, 2), task('b3', big, 3, 'n1', { state: TaskState.SHUTDOWN, desired: TaskState.SHUTDOWN })] }
    expect(messages(shutDown, false)).toEqual([])
  })

  it('find a task meant to run on a drained node, a down node, a gone node, or for a gone service', () => {
    const snap: StoreSnapshot = {
      nodes: [node('n1', { availability: 'drain' }), node('n2', { state: 'down' }), node('n3')],
      services: [service('web', { replicated: { replicas: 0 } })],
      tasks: [
        task('t1', web, 1, 'n1', { state: TaskState.ASSIGNED }),
        task('t2', web, 2, 'n2', { state: TaskState.ASSIGNED }),
        task('t3', web, 3, 'n9', { state: TaskState.ASSIGNED }),
        task('t4', service('old', { replicated: { replicas: 1 } }), 1, 'n3', { state: TaskState.ASSIGNED }),
      ],
    }
    expect(messages(snap)).toEqual([
      '[placement] task t1 (service web, slot 1) is meant to run on drained node n1',
      '[placement] task t2 (service web, slot 2) is meant to run on down node n2',
      '[placement] task t3 (service web, slot 3) is meant to run on node n9, which is gone',
      '[placement] task t4 (service old, slot 1) is meant to run though its service is gone',
    ])
    expect(messages(snap, false)).toEqual([])
  })

  it('find an update still running, paused against its failure action, or ended with tasks on the old spec (a global task on a paused node excepted)', () => {
    const next: TaskSpec = { container: { image: 'busybox:fake', env: ['V=2'] } }
    const updating = service('web', { replicated: { replicas: 1 } }, { task: next, updateStatus: { state: 'updating' } })
    expect(messages({ nodes: [node('n1')], services: [updating], tasks: [task('t1', updating, 1, 'n1')] })).toEqual(['[update] service web: update still updating after converging'])
    const pausedRollback = service('web', { replicated: { replicas: 1 } }, { task: next, updateStatus: { state: 'paused' }, failureAction: 'rollback' })
    expect(messages({ nodes: [node('n1')], services: [pausedRollback], tasks: [task('t1', pausedRollback, 1, 'n1', { spec })] })).toEqual([
      '[update] service web: paused though its update failure action is rollback',
    ])
    const paused = service('web', { replicated: { replicas: 1 } }, { task: next, updateStatus: { state: 'paused' } })
    expect(messages({ nodes: [node('n1')], services: [paused], tasks: [task('t1', paused, 1, 'n1', { spec })] })).toEqual([])
    const done = service('web', { replicated: { replicas: 1 } }, { task: next, updateStatus: { state: 'completed' } })
    expect(messages({ nodes: [node('n1')], services: [done], tasks: [task('t1', done, 1, 'n1', { spec })] })).toEqual([
      '[update] service web: task t1 (slot 1) runs an old spec though the update is completed',
    ])
    expect(messages({ nodes: [node('n1')], services: [done], tasks: [task('t1', done, 1, 'n1')] })).toEqual([])
    const global = service('g', { global: {} }, { task: next, updateStatus: { state: 'completed' } })
    const onPaused = [node('n1', { availability: 'pause' }), node('n2')]
    expect(messages({ nodes: onPaused, services: [global], tasks: [task('g1', global, 0, 'n1', { spec }), task('g2', global, 0, 'n2')] })).toEqual([])
    expect(messages({ nodes: onPaused, services: [global], tasks: [task('g1', global, 0, 'n1'), task('g2', global, 0, 'n2', { spec })] })).toEqual([
      '[update] service g: task g2 (slot 0) runs an old spec though the update is completed',
    ])
  })

  it('accept an update still running while its new task fits on no node (start-first at max replicas per node)', () => {
    const next: TaskSpec = { container: { image: 'busybox:fake', env: ['V=2'] }, placement: { maxReplicas: 1 } }
    const stuck = service('web', { replicated: { replicas: 1 } }, { task: next, updateStatus: { state: 'updating' } })
    const tasks = [task('t1', stuck, 1, 'n1', { spec: { ...spec, placement: { maxReplicas: 1 } } }), task('t2', stuck, 1, '', { state: TaskState.PENDING })]
    expect(messages({ nodes: [node('n1')], services: [stuck], tasks })).toEqual([])
    expect(messages({ nodes: [node('n1'), node('n2')], services: [stuck], tasks })).toEqual(['[update] service web: update still updating after converging'])
  })

  it('read a MemoryStore as well as a snapshot', async () => {
    const store = new MemoryStore()
    await store.update((tx) => {
      tx.nodes.create({ ...node('n1'), id: N1 })
      tx.services.create({ ...web, id: WEB })
    })
    expect(checkStoreInvariants(store).map((v) => v.message)).toEqual([`service web: 0 tasks RUNNING, want 2 (nodes with room: ${N1})`])
  })
})

describe('the harness store agreement check', () => {
  it('passes managers with equal stores at one version, skips other versions, and names the differing objects', async () => {
    const clock = new ManualClock()
    const [a, b, c] = [new MemoryStore({ clock }), new MemoryStore({ clock }), new MemoryStore({ clock })] as const
    for (const s of [a, b, c]) await s.update((tx) => tx.nodes.create({ ...node('n1'), id: N1 }))
    expect(checkStoreAgreement({ nodeId: 'a', store: a }, [{ nodeId: 'b', store: b }])).toEqual([])
    await c.update((tx) => tx.services.create({ ...web, id: WEB }))
    expect(checkStoreAgreement({ nodeId: 'a', store: a }, [{ nodeId: 'c', store: c }])).toEqual([])
    await a.update((tx) => tx.services.create({ ...web, id: WEB }))
    await b.update((tx) => tx.services.create({ ...service('api', { global: {} }), id: API }))
    expect(checkStoreAgreement({ nodeId: 'a', store: a }, [{ nodeId: 'b', store: b }, { nodeId: 'c', store: c }]).map((v) => v.message)).toEqual([
      `manager b differs from a at version 2: service ${API}, service ${WEB}`,
    ])
  })

  it('compares contents whatever the key order, with bigints and bytes', () => {
    expect(canonicalJson({ b: 1n, a: new Uint8Array([1, 2]), c: [undefined, { y: 1, x: 2 }] })).toBe(canonicalJson({ c: [undefined, { x: 2, y: 1 }], a: new Uint8Array([1, 2]), b: 1n }))
    expect(canonicalJson({ b: 1n })).not.toBe(canonicalJson({ b: 2n }))
  })
})
