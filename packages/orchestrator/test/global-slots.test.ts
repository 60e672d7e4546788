/**
 * The global orchestrator alone on a store, with an update supervisor that only records what it
 * is handed: proves which slots a service reconciliation passes on, independently of the
 * rolling updater.
 */
import { NodeAvailability, NodeRole, NodeState, TaskState, generateId, silentLogger } from '@swarmkit-ts/api'
import type { Cluster, Service, ServiceSpec } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import type { Frozen } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { describe, expect, it } from 'vitest'
import { GlobalOrchestrator, RestartSupervisor, ServiceControl, UpdateSupervisor } from '../src/index.ts'
import type { OrchestratorContext, Slot } from '../src/index.ts'
import { flush, globalSpec } from './helpers/harness.ts'
import { TaskDriver } from './helpers/task-driver.ts'

class RecordingUpdates extends UpdateSupervisor {
  readonly calls: { service: Frozen<Service>; slots: readonly Slot[] }[] = []
  override update(_cluster: Frozen<Cluster> | undefined, service: Frozen<Service>, slots: readonly Slot[]): void {
    this.calls.push({ service, slots })
  }
}

function setup(): { ctx: OrchestratorContext; updates: RecordingUpdates; control: ServiceControl; driver: TaskDriver; orchestrator: GlobalOrchestrator; settle: () => Promise<void>; addNode: (name: string, zone: string, availability?: NodeAvailability) => Promise<string> } {
  const clock = new ManualClock(1_700_000_000_000)
  const random = new SeededRandom(7)
  const store = new MemoryStore({ clock })
  const ctx: OrchestratorContext = { store, clock, random, logger: silentLogger }
  const restarts = new RestartSupervisor(ctx)
  const updates = new RecordingUpdates(ctx, restarts)
  const orchestrator = new GlobalOrchestrator(ctx, restarts, updates)
  const driver = new TaskDriver({ store, clock })
  const control = new ServiceControl({ store, clock, random })
  const settle = async (): Promise<void> => {
    for (let quiet = 0; quiet < 3; ) {
      const before = store.version
      await flush()
      await driver.step()
      await flush()
      quiet = store.version === before ? quiet + 1 : 0
    }
  }
  const addNode = async (name: string, zone: string, availability: NodeAvailability = NodeAvailability.ACTIVE): Promise<string> => {
    const id = generateId(random)
    await store.update((tx) =>
      tx.nodes.create({
        id,
        spec: { annotations: { name, labels: { zone } }, desiredRole: NodeRole.WORKER, membership: 'accepted', availability },
        description: { hostname: name, platform: { os: 'linux', architecture: 'x86_64' } },
        status: { state: NodeState.READY },
        role: NodeRole.WORKER,
      }),
    )
    return id
  }
  return { ctx, updates, control, driver, orchestrator, settle, addNode }
}

describe('global orchestrator and the update supervisor', () => {
  it('hands the update supervisor one slot per active matching node after a service update, none for paused or non-matching nodes', async () => {
    const { updates, control, orchestrator, settle, addNode } = setup()
    const n1 = await addNode('n1', 'a')
    const n2 = await addNode('n2', 'a')
    await addNode('n3', 'b')
    const n4 = await addNode('n4', 'a')
    orchestrator.start()
    const spec: ServiceSpec = globalSpec('agent', { task: { container: { image: 'busybox:1' }, placement: { constraints: ['node.labels.zone==a'] } } })
    const svc = await control.create(spec)
    await settle()
    await control.update(svc.id, { ...spec, task: { ...spec.task, container: { image: 'busybox:2' } } })
    await settle()
    const last = updates.calls.at(-1)
    expect(last?.service.spec.task.container?.image).toBe('busybox:2')
    expect(last?.slots.map((s) => s.length)).toEqual([1, 1, 1])
    expect(last?.slots.map((s) => s[0]?.nodeId).sort()).toEqual([n1, n2, n4].sort())
    expect(last?.slots.every((s) => s[0]?.spec.container?.image === 'busybox:1' && s[0]?.desiredState === TaskState.RUNNING)).toBe(true)
    await orchestrator.stop()
  })

  it('leaves the slot of a paused node out of the rolling update', async () => {
    const { ctx, updates, control, orchestrator, settle, addNode } = setup()
    const n1 = await addNode('n1', 'a')
    const n2 = await addNode('n2', 'a')
    orchestrator.start()
    const spec = globalSpec('agent')
    const svc = await control.create(spec)
    await settle()
    await ctx.store.update((tx) => tx.nodes.update(n2, (n) => void (n.spec.availability = NodeAvailability.PAUSE)))
    await settle()
    await control.update(svc.id, { ...spec, task: { container: { image: 'busybox:2' } } })
    await settle()
    expect(updates.calls.at(-1)?.slots.map((s) => s[0]?.nodeId)).toEqual([n1])
    await orchestrator.stop()
  })
})
