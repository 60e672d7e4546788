import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  SequenceConflictError,
  TaskState,
  UpdateState,
} from '@swarmkit-ts/api'
import type { Task } from '@swarmkit-ts/api'
import type { MemoryStore } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { caught, controlRig, idOf, replicated } from './fixture.ts'

async function addTask(store: MemoryStore, id: string, serviceId: string, slot: number, nodeId: string, desiredState: TaskState = TaskState.RUNNING): Promise<void> {
  const task: Omit<Task, 'meta'> = {
    id: idOf(id),
    spec: { container: { image: 'busybox' } },
    serviceId: idOf(serviceId),
    slot,
    nodeId: idOf(nodeId),
    annotations: { name: `t-${id}`, labels: { tier: slot === 1 ? 'front' : 'back' } },
    serviceAnnotations: { name: 'svc' },
    status: { timestamp: 0, state: TaskState.RUNNING },
    desiredState,
  }
  await store.update((tx) => tx.tasks.create(task))
}

describe('StoreControlApi services', () => {
  it('creates a service and reads it back by id and by name', async () => {
    const { control } = controlRig()
    const s = await control.services.create(replicated('web', 2))
    expect(s.spec.annotations.name).toBe('web')
    expect(s.specVersion).toEqual({ index: 0n })
    expect(await control.services.get(s.id)).toEqual(s)
    expect(await control.services.get('web')).toEqual(s)
    expect(Object.isFrozen(s)).toBe(true)
  })

  it('refuses an invalid spec naming the field, and a taken name, writing nothing', async () => {
    const { control, store } = controlRig()
    await control.services.create(replicated('web', 1))
    const before = store.version
    const bad = await caught(control.services.create(replicated('api', -1)))
    expect(bad).toBeInstanceOf(InvalidArgumentError)
    expect((bad as InvalidArgumentError).field).toBe('mode.replicated.replicas')
    const dup = await caught(control.services.create(replicated('web', 1)))
    expect(dup).toBeInstanceOf(AlreadyExistsError)
    expect(store.version).toBe(before)
  })

  it('refuses a spec referencing a secret, config or network that does not exist, naming the reference', async () => {
    const { control } = controlRig()
    const secretRef = { secretId: 'nosuchsecret', secretName: 'db', file: { name: 'db', uid: '0', gid: '0', mode: 0o444 } }
    const e1 = await caught(control.services.create(replicated('a', 1, { task: { container: { image: 'busybox', secrets: [secretRef] } } })))
    expect(e1).toBeInstanceOf(InvalidArgumentError)
    expect((e1 as InvalidArgumentError).field).toBe('task.container.secrets[0]')
    const e2 = await caught(control.services.create(replicated('b', 1, { task: { container: { image: 'busybox', configs: [{ configId: 'x', configName: 'y' }] } } })))
    expect((e2 as InvalidArgumentError).field).toBe('task.container.configs[0]')
    const e3 = await caught(control.services.create(replicated('c', 1, { task: { container: { image: 'busybox' }, networks: [{ target: 'backend' }] } })))
    expect((e3 as InvalidArgumentError).field).toBe('task.networks[0].target')
    expect(await control.services.list()).toEqual([])
  })

  it('accepts references to existing secrets and networks (by name)', async () => {
    const { control } = controlRig()
    const secret = await control.secrets.create({ annotations: { name: 'db' }, data: new Uint8Array([1]) })
    await control.networks.create({ annotations: { name: 'backend' } })
    const file = { name: 'db', uid: '0', gid: '0', mode: 0o444 }
    const s = await control.services.create(
      replicated('a', 1, { task: { container: { image: 'busybox', secrets: [{ secretId: secret.id, secretName: 'db', file }] }, networks: [{ target: 'backend' }] } }),
    )
    expect(s.spec.task.networks).toEqual([{ target: 'backend' }])
  })

  it('lists services sorted by name through every filter', async () => {
    const { control } = controlRig()
    const web = await control.services.create(replicated('web', 1, { annotations: { name: 'web', labels: { tier: 'front' } } }))
    const api = await control.services.create(replicated('api', 1, { annotations: { name: 'api', labels: { tier: 'back' } } }))
    const mon = await control.services.create({ annotations: { name: 'monitor' }, mode: { global: {} }, task: { container: { image: 'busybox' } } })
    const names = async (f: Parameters<typeof control.services.list>[0]): Promise<string[]> => (await control.services.list(f)).map((s) => s.spec.annotations.name)
    expect(await names(undefined)).toEqual(['api', 'monitor', 'web'])
    expect(await names({ names: ['WEB', 'api'] })).toEqual(['api', 'web'])
    expect(await names({ namePrefixes: ['mo'] })).toEqual(['monitor'])
    expect(await names({ idPrefixes: [web.id.slice(0, 6)] })).toEqual(['web'])
    expect(await names({ labels: { tier: '' } })).toEqual(['api', 'web'])
    expect(await names({ labels: { tier: 'back' } })).toEqual(['api'])
    expect(await names({ modes: ['global'] })).toEqual(['monitor'])
    expect(await names({ modes: ['replicated'], labels: { tier: 'front' } })).toEqual(['web'])
    expect([api.id, mon.id]).toHaveLength(2)
    const bad = await caught(control.services.list({ modes: ['sometimes' as 'global'] }))
    expect((bad as InvalidArgumentError).field).toBe('filters.modes[0]')
  })

  it('updates with the version read, keeps the previous spec, and refuses a stale version', async () => {
    const { control } = controlRig()
    const s = await control.services.create(replicated('web', 1))
    const u = await control.services.update(s.id, replicated('web', 3), { version: s.meta.version.index })
    expect(u.spec.mode).toEqual({ replicated: { replicas: 3 } })
    expect(u.previousSpec?.mode).toEqual({ replicated: { replicas: 1 } })
    const stale = await caught(control.services.update(s.id, replicated('web', 5), { version: s.meta.version.index }))
    expect(stale).toBeInstanceOf(SequenceConflictError)
    expect((await control.services.get(s.id)).spec.mode).toEqual({ replicated: { replicas: 3 } })
    expect(await caught(control.services.update('nope', replicated('web', 1)))).toBeInstanceOf(NotFoundError)
    const v = await caught(control.services.update(s.id, replicated('web', 1), { version: -1n }))
    expect((v as InvalidArgumentError).field).toBe('version')
  })

  it('scales a replicated service, refuses other modes and bad counts', async () => {
    const { control } = controlRig()
    const s = await control.services.create(replicated('web', 1))
    const scaled = await control.services.scale('web', 4)
    expect(scaled.spec.mode).toEqual({ replicated: { replicas: 4 } })
    expect(scaled.previousSpec?.mode).toEqual({ replicated: { replicas: 1 } })
    const g = await control.services.create({ annotations: { name: 'mon' }, mode: { global: {} }, task: { container: { image: 'busybox' } } })
    const notRep = await caught(control.services.scale(g.id, 2))
    expect(notRep).toBeInstanceOf(FailedPreconditionError)
    expect((notRep as FailedPreconditionError).reason).toBe('not-replicated')
    const neg = await caught(control.services.scale(s.id, -1))
    expect((neg as InvalidArgumentError).field).toBe('replicas')
    const frac = await caught(control.services.scale(s.id, 1.5))
    expect((frac as InvalidArgumentError).field).toBe('replicas')
    const stale = await caught(control.services.scale(s.id, 2, { version: s.meta.version.index }))
    expect(stale).toBeInstanceOf(SequenceConflictError)
  })

  it('rolls back to the previous spec, refusing when there is none', async () => {
    const { control } = controlRig()
    const s = await control.services.create(replicated('web', 1))
    const none = await caught(control.services.rollback(s.id))
    expect((none as FailedPreconditionError).reason).toBe('no-previous-spec')
    await control.services.update(s.id, replicated('web', 2))
    const r = await control.services.rollback('web')
    expect(r.spec.mode).toEqual({ replicated: { replicas: 1 } })
    expect(r.updateStatus?.state).toBe(UpdateState.ROLLBACK_STARTED)
  })

  it('removes a service by name; a second removal is NotFound', async () => {
    const { control } = controlRig()
    await control.services.create(replicated('web', 1))
    await control.services.remove('web')
    expect(await control.services.list()).toEqual([])
    const gone = await caught(control.services.remove('web'))
    expect(gone).toBeInstanceOf(NotFoundError)
    expect((gone as NotFoundError).kind).toBe('service')
    expect((await caught(control.services.get(''))) as InvalidArgumentError).toMatchObject({ field: 'id' })
  })
})

describe('StoreControlApi tasks', () => {
  it('gets a task and lists tasks by service, node, desired state, name and label, sorted by service and slot', async () => {
    const { control, store } = controlRig()
    await addTask(store, 'task3', 'svcA', 2, 'n1')
    await addTask(store, 'task1', 'svcA', 1, 'n2')
    await addTask(store, 'task2', 'svcB', 1, 'n1', TaskState.SHUTDOWN)
    const ids = async (f: Parameters<typeof control.tasks.list>[0]): Promise<string[]> => (await control.tasks.list(f)).map((t) => t.id.replace(/0+$/, ''))
    expect(await ids(undefined)).toEqual(['task1', 'task3', 'task2'])
    expect(await ids({ serviceIds: [idOf('svcA')] })).toEqual(['task1', 'task3'])
    expect(await ids({ nodeIds: [idOf('n1')] })).toEqual(['task3', 'task2'])
    expect(await ids({ serviceIds: [idOf('svcA'), idOf('svcB')], nodeIds: [idOf('n1')] })).toEqual(['task3', 'task2'])
    expect(await ids({ desiredStates: [TaskState.RUNNING] })).toEqual(['task1', 'task3'])
    expect(await ids({ names: ['t-task2'] })).toEqual(['task2'])
    expect(await ids({ labels: { tier: 'front' } })).toEqual(['task1', 'task2'])
    expect((await control.tasks.get(idOf('task2'))).serviceId).toBe(idOf('svcB'))
    expect(await caught(control.tasks.get(idOf('task9')))).toBeInstanceOf(NotFoundError)
    const bad = await caught(control.tasks.list({ desiredStates: [999 as TaskState] }))
    expect((bad as InvalidArgumentError).field).toBe('filters.desiredStates[0]')
  })
})
