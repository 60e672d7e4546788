import { TaskState } from '@swarmkit-ts/api'
import type { Resources, Service, Task, TaskSpec } from '@swarmkit-ts/api'
import type { Draft, Frozen } from '@swarmkit-ts/store'
import { afterEach, describe, expect, it } from 'vitest'
import { CONSTRAINT_REJECT_ERR, CONSTRAINT_REJECT_MESSAGE, ConstraintEnforcer, newTask } from '../src/index.ts'
import { Harness, replicatedSpec } from './helpers/harness.ts'

const T0 = 1_700_000_000_000
const GiB = 1024 ** 3

interface TaskOptions {
  readonly nodeId: string
  readonly state?: TaskState
  readonly desired?: TaskState
  readonly spec?: Partial<TaskSpec>
  readonly assigned?: Task['assignedGenericResources']
  readonly serviceless?: boolean
}

/** A hand-made task of `svc` on a node (the driver is off: nothing moves it). */
function task(h: Harness, svc: Frozen<Service>, o: TaskOptions): Frozen<Task> {
  const t = newTask(undefined, svc, 1, o.nodeId, h)
  return {
    ...t,
    ...(o.serviceless === true ? { serviceId: '' } : {}),
    spec: { ...t.spec, ...o.spec },
    desiredState: o.desired ?? TaskState.RUNNING,
    status: {
      timestamp: T0,
      state: o.state ?? TaskState.RUNNING,
      message: 'started',
      containerStatus: { containerId: 'c1', pid: 7 },
      appliedBy: 'manager-1',
      appliedAt: T0,
    },
    ...(o.assigned === undefined ? {} : { assignedGenericResources: o.assigned }),
  } as Frozen<Task>
}

/** A harness with the driver off and only a constraint enforcer running on it. */
class EnforcerSetting {
  readonly h = new Harness({ start: false })
  enforcer: ConstraintEnforcer | undefined

  constructor() {
    this.h.driver.enabled = false
  }

  async start(): Promise<void> {
    this.enforcer = new ConstraintEnforcer({ store: this.h.store, clock: this.h.clock, random: this.h.random, logger: this.h.logger })
    this.enforcer.start()
    await this.h.settle()
  }

  /** Creates tasks one transaction each, a tick of the clock apart (creation order = age). */
  async add(tasks: readonly Frozen<Task>[]): Promise<string[]> {
    for (const t of tasks) {
      await this.h.store.update((tx) => tx.tasks.create(t))
      this.h.clock.advance(1)
    }
    await this.h.settle()
    return tasks.map((t) => t.id)
  }

  task(id: string): Frozen<Task> {
    const t = this.h.store.view((tx) => tx.tasks.get(id))
    if (t === undefined) throw new Error(`no task ${id}`)
    return t
  }

  /** The ids among `ids` observed REJECTED. */
  rejected(ids: readonly string[]): string[] {
    return ids.filter((id) => this.task(id).status.state === TaskState.REJECTED)
  }

  async setResources(nodeId: string, resources: Resources): Promise<void> {
    await this.h.updateNode(nodeId, (n) => {
      n.description ??= {}
      n.description.resources = structuredClone(resources) as Draft<Resources>
    })
    await this.h.settle()
  }

  async setLabels(nodeId: string, labels: Record<string, string>): Promise<void> {
    await this.h.updateNode(nodeId, (n) => {
      n.spec.annotations.labels = labels
    })
    await this.h.settle()
  }
}

const settings: EnforcerSetting[] = []
function setting(): EnforcerSetting {
  const s = new EnforcerSetting()
  settings.push(s)
  return s
}
afterEach(async () => {
  for (const s of settings.splice(0)) await s.enforcer?.stop()
})

const zoneA = { placement: { constraints: ['node.labels.zone==a'] } }

describe('constraint enforcer: placement constraints', () => {
  it("rejects a task whose node's labels no longer match, with SwarmKit's message and err, leaving its desired state", async () => {
    const s = setting()
    const n1 = await s.h.addNode('n1', { labels: { zone: 'a' } })
    const n2 = await s.h.addNode('n2', { labels: { zone: 'a' } })
    const svc = await s.h.createService(replicatedSpec('web', 2, { task: { container: { image: 'busybox:1' }, ...zoneA } }))
    const [onN1, onN2] = await s.add([task(s.h, svc, { nodeId: n1 }), task(s.h, svc, { nodeId: n2 })])
    await s.start()
    expect(s.rejected([onN1 as string, onN2 as string])).toEqual([])
    s.h.clock.advance(1_000)
    await s.setLabels(n1, { zone: 'b' })
    const t = s.task(onN1 as string)
    expect(t.status).toEqual({
      timestamp: s.h.clock.now(),
      state: TaskState.REJECTED,
      message: 'task rejected by constraint enforcer',
      err: 'assigned node no longer meets constraints',
      containerStatus: { containerId: 'c1', pid: 7 },
    })
    expect(CONSTRAINT_REJECT_MESSAGE).toBe('task rejected by constraint enforcer')
    expect(CONSTRAINT_REJECT_ERR).toBe('assigned node no longer meets constraints')
    expect(t.desiredState).toBe(TaskState.RUNNING)
    expect(s.task(onN2 as string).status.state).toBe(TaskState.RUNNING)
  })

  it("uses the service's current constraints, not the task's stale ones", async () => {
    const s = setting()
    const n1 = await s.h.addNode('n1', { labels: { zone: 'a' } })
    const n2 = await s.h.addNode('n2', { labels: { zone: 'a' } })
    const svc = await s.h.createService(replicatedSpec('web', 2))
    // The tasks were made before a constraints-only update: their specs have none.
    const [onN1] = await s.add([task(s.h, svc, { nodeId: n1 })])
    const constrained = await s.h.updateService(svc.id, (spec) => ({ ...spec, task: { ...spec.task, ...zoneA } }))
    // And this one carries a constraint the service has since dropped.
    const unconstrained = await s.h.createService(replicatedSpec('api', 1))
    const [stale] = await s.add([task(s.h, unconstrained, { nodeId: n2, spec: { placement: { constraints: ['node.labels.zone==a'] } } })])
    expect(constrained.spec.task.placement?.constraints).toEqual(['node.labels.zone==a'])
    await s.start()
    await s.setLabels(n1, {})
    await s.setLabels(n2, {})
    expect(s.rejected([onN1 as string, stale as string])).toEqual([onN1])
  })

  it('checks a serviceless task against its own constraints', async () => {
    const s = setting()
    const n1 = await s.h.addNode('n1', { labels: { zone: 'a' } })
    const svc = await s.h.createService(replicatedSpec('web', 1))
    const ids = await s.add([task(s.h, svc, { nodeId: n1, serviceless: true, spec: zoneA }), task(s.h, svc, { nodeId: n1, serviceless: true })])
    await s.start()
    await s.setLabels(n1, { zone: 'b' })
    expect(s.rejected(ids)).toEqual([ids[0]])
  })

  it('leaves the tasks of a paused or drained node untouched, and enforces once the node is active again', async () => {
    const s = setting()
    const paused = await s.h.addNode('paused', { labels: { zone: 'a' }, availability: 'pause' })
    const drained = await s.h.addNode('drained', { labels: { zone: 'a' }, availability: 'drain' })
    const svc = await s.h.createService(replicatedSpec('web', 2, { task: { container: { image: 'busybox:1' }, ...zoneA } }))
    const [onPaused, onDrained] = await s.add([task(s.h, svc, { nodeId: paused }), task(s.h, svc, { nodeId: drained })])
    await s.start()
    await s.setLabels(paused, { zone: 'b' })
    await s.setLabels(drained, { zone: 'b' })
    expect(s.rejected([onPaused as string, onDrained as string])).toEqual([])
    await s.h.setAvailability(paused, 'active')
    await s.h.settle()
    expect(s.rejected([onPaused as string, onDrained as string])).toEqual([onPaused])
  })

  it('leaves tasks being stopped and tasks that already stopped alone', async () => {
    const s = setting()
    const n1 = await s.h.addNode('n1', { labels: { zone: 'a' } })
    const svc = await s.h.createService(replicatedSpec('web', 3, { task: { container: { image: 'busybox:1' }, ...zoneA } }))
    const ids = await s.add([
      task(s.h, svc, { nodeId: n1, desired: TaskState.SHUTDOWN }),
      task(s.h, svc, { nodeId: n1, state: TaskState.COMPLETE, desired: TaskState.COMPLETE }),
      task(s.h, svc, { nodeId: n1, state: TaskState.FAILED, desired: TaskState.RUNNING }),
      task(s.h, svc, { nodeId: n1, state: TaskState.ASSIGNED, desired: TaskState.RUNNING }),
    ])
    await s.start()
    await s.setLabels(n1, { zone: 'b' })
    expect(s.rejected(ids)).toEqual([ids[3]])
  })

  it('rejects at start the tasks of a node that no longer fits them', async () => {
    const s = setting()
    const n1 = await s.h.addNode('n1', { labels: { zone: 'b' } })
    const svc = await s.h.createService(replicatedSpec('web', 1, { task: { container: { image: 'busybox:1' }, ...zoneA } }))
    const ids = await s.add([task(s.h, svc, { nodeId: n1 })])
    await s.start()
    expect(s.rejected(ids)).toEqual(ids)
  })
})

describe('constraint enforcer: resources', () => {
  const reserve = (memoryBytes: number, nanoCpus = 0): Partial<TaskSpec> => ({ resources: { reservations: { memoryBytes, nanoCpus } } })

  it('rejects the newest task whose memory reservation no longer fits when the node shrinks, keeping the others', async () => {
    const s = setting()
    const n1 = await s.h.addNode('n1', { resources: { nanoCpus: 4e9, memoryBytes: 3 * GiB } })
    const svc = await s.h.createService(replicatedSpec('web', 3))
    const ids = await s.add([1, 2, 3].map(() => task(s.h, svc, { nodeId: n1, spec: reserve(GiB) })))
    await s.start()
    expect(s.rejected(ids)).toEqual([])
    await s.setResources(n1, { nanoCpus: 4e9, memoryBytes: 2 * GiB })
    expect(s.rejected(ids)).toEqual([ids[2]])
  })

  it('rejects the tasks whose CPU reservation no longer fits, the others keep their share', async () => {
    const s = setting()
    const n1 = await s.h.addNode('n1', { resources: { nanoCpus: 4e9, memoryBytes: 8 * GiB } })
    const svc = await s.h.createService(replicatedSpec('web', 3))
    const ids = await s.add([
      task(s.h, svc, { nodeId: n1, spec: reserve(0, 2e9) }),
      task(s.h, svc, { nodeId: n1, spec: reserve(0, 2e9) }),
      task(s.h, svc, { nodeId: n1, spec: reserve(0, 1e9) }),
      task(s.h, svc, { nodeId: n1 }),
    ])
    await s.start()
    expect(s.rejected(ids)).toEqual([ids[2]])
    await s.setResources(n1, { nanoCpus: 2e9, memoryBytes: 8 * GiB })
    expect(s.rejected(ids)).toEqual([ids[1], ids[2]])
    expect(s.task(ids[0] as string).status.state).toBe(TaskState.RUNNING)
  })

  it('rejects a task whose assigned named generic resource the node no longer advertises', async () => {
    const s = setting()
    const n1 = await s.h.addNode('n1', { resources: { generic: [{ kind: 'gpu', namedValue: 'uuid-1' }, { kind: 'gpu', namedValue: 'uuid-2' }] } })
    const svc = await s.h.createService(replicatedSpec('web', 2))
    const ids = await s.add([
      task(s.h, svc, { nodeId: n1, assigned: [{ kind: 'gpu', namedValue: 'uuid-1' }] }),
      task(s.h, svc, { nodeId: n1, assigned: [{ kind: 'gpu', namedValue: 'uuid-2' }] }),
    ])
    await s.start()
    expect(s.rejected(ids)).toEqual([])
    await s.setResources(n1, { generic: [{ kind: 'gpu', namedValue: 'uuid-2' }] })
    expect(s.rejected(ids)).toEqual([ids[0]])
  })

  it('rejects the newest task whose discrete generic resource is no longer available in total', async () => {
    const s = setting()
    const n1 = await s.h.addNode('n1', { resources: { generic: [{ kind: 'ssd', discreteValue: 2 }] } })
    const svc = await s.h.createService(replicatedSpec('web', 2))
    const ids = await s.add([1, 2].map(() => task(s.h, svc, { nodeId: n1, assigned: [{ kind: 'ssd', discreteValue: 1 }] })))
    await s.start()
    expect(s.rejected(ids)).toEqual([])
    await s.setResources(n1, { generic: [{ kind: 'ssd', discreteValue: 1 }] })
    expect(s.rejected(ids)).toEqual([ids[1]])
  })
})
