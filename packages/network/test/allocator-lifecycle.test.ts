import { TaskState } from '@swarmkit-ts/api'
import { afterEach, describe, expect, it } from 'vitest'
import { AllocatorFixture, fid, flush } from './helpers/allocator-fixture.ts'
import { heldAddresses, recordedAddresses, storeProblems } from './helpers/allocator-invariants.ts'

let f: AllocatorFixture
afterEach(async () => {
  await f.stop()
})

describe('NetworkAllocator: updates and releases', () => {
  it('on service update keeps the VIPs and ports that still apply, allocates the new and releases the old', async () => {
    f = new AllocatorFixture()
    f.start()
    const ingress = await f.addNetwork('ingress', { subnet: '10.255.0.0/16', ingress: true })
    const a = await f.addNetwork('a', { subnet: '10.1.0.0/24' })
    const b = await f.addNetwork('b', { subnet: '10.2.0.0/24' })
    await f.addService('web', { networks: ['a'], ports: [{ targetPort: 80 }, { targetPort: 443, publishedPort: 8443 }] })
    await f.settle()
    expect(f.service('web').endpoint?.virtualIps).toEqual([
      { networkId: ingress, addr: '10.255.0.2/16' },
      { networkId: a, addr: '10.1.0.2/24' },
    ])
    await f.updateService('web', { networks: ['b'], ports: [{ targetPort: 80 }, { targetPort: 22, publishedPort: 2222 }] })
    await f.settle()
    const s = f.service('web')
    expect(s.endpoint?.virtualIps).toEqual([
      { networkId: ingress, addr: '10.255.0.2/16' },
      { networkId: b, addr: '10.2.0.2/24' },
    ])
    expect(s.endpoint?.ports?.map((p) => p.publishedPort)).toEqual([30000, 2222])
    expect(heldAddresses(f.allocator.snapshot())).toEqual(recordedAddresses(f.store))
    expect(f.allocator.snapshot()?.ports.ingress).toEqual([
      ['2222/tcp', fid('svcweb')],
      ['30000/tcp', fid('svcweb')],
    ])
    // 8443 is free for another service now.
    await f.addService('api', { ports: [{ targetPort: 443, publishedPort: 8443 }] })
    const [t] = await f.addTasks('api', 1)
    await f.settle()
    expect(f.task(t as string).status.state).toBe(TaskState.PENDING)
  })

  it('switching to DNSRR drops the VIPs', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addNetwork('a', { subnet: '10.1.0.0/24' })
    await f.addService('db', { networks: ['a'] })
    await f.settle()
    await f.updateService('db', { networks: ['a'], mode: 'dnsrr' })
    await f.settle()
    expect(f.service('db').endpoint?.virtualIps).toBeUndefined()
    expect(heldAddresses(f.allocator.snapshot())).toEqual({})
  })

  it('releases everything of a deleted service, and a task’s addresses when it is deleted or dead', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addNetwork('ingress', { subnet: '10.255.0.0/16', ingress: true })
    await f.addNetwork('a', { subnet: '10.1.0.0/24' })
    await f.addService('web', { networks: ['a'], ports: [{ targetPort: 80 }] })
    const [t1, t2, t3] = await f.addTasks('web', 3)
    await f.settle()
    expect(recordedAddresses(f.store)[fid('neta')]).toEqual(['10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5'])
    await f.store.update((tx) => tx.tasks.delete(t1 as string))
    // Failed with the restart supervisor yet to shut it down: still holds its addresses.
    await f.updateTask(t2 as string, (d) => void (d.status.state = TaskState.FAILED))
    await f.settle()
    expect(heldAddresses(f.allocator.snapshot())[fid('neta')]).toEqual(['10.1.0.2', '10.1.0.4', '10.1.0.5'])
    await f.updateTask(t2 as string, (d) => void (d.desiredState = TaskState.SHUTDOWN))
    await f.settle()
    expect(heldAddresses(f.allocator.snapshot())[fid('neta')]).toEqual(['10.1.0.2', '10.1.0.5'])
    await f.removeService('web')
    await f.settle()
    expect(heldAddresses(f.allocator.snapshot())[fid('neta')]).toEqual(['10.1.0.5'])
    expect(f.allocator.snapshot()?.ports).toEqual({ ingress: [], host: [] })
    await f.store.update((tx) => tx.tasks.delete(t3 as string))
    await f.settle()
    expect(heldAddresses(f.allocator.snapshot())).toEqual({})
  })

  it('surfaces dynamic port exhaustion (2,768 ports) as ResourceExhaustedError in task status', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addNetwork('ingress', { subnet: '10.128.0.0/16', ingress: true })
    const ports = Array.from({ length: 2768 }, (_, i) => ({ targetPort: 1000 + i }))
    await f.addService('greedy', { ports })
    await f.addService('late', { ports: [{ targetPort: 80 }] })
    const [t] = await f.addTasks('late', 1)
    await f.settle()
    expect(f.service('greedy').endpoint?.ports?.at(-1)?.publishedPort).toBe(32767)
    expect(f.task(t as string).status).toMatchObject({ state: TaskState.NEW, err: 'dynamic ingress ports (30000-32767/tcp): exhausted' })
    await f.updateService('greedy', { ports: ports.slice(1) })
    await f.settle()
    expect(f.task(t as string).status.state).toBe(TaskState.PENDING)
    expect(f.service('late').endpoint?.ports?.[0]?.publishedPort).toBe(30000)
  })

  it('surfaces address exhaustion of a small subnet and allocates once a task is gone', async () => {
    f = new AllocatorFixture()
    f.start()
    // A /29 has 5 host addresses once the gateway is reserved: the VIP and 4 tasks.
    await f.addNetwork('tiny', { subnet: '10.3.0.0/29' })
    await f.addService('web', { networks: ['tiny'] })
    const ids = await f.addTasks('web', 5)
    await f.settle()
    const states = ids.map((id) => f.task(id).status.state)
    expect(states.filter((s) => s === TaskState.PENDING)).toHaveLength(4)
    const stuck = f.task(ids[4] as string)
    expect(stuck.status.err).toMatch(/^addresses of network tiny/)
    await f.store.update((tx) => tx.tasks.delete(ids[0] as string))
    await f.settle()
    expect(f.task(ids[4] as string).status.state).toBe(TaskState.PENDING)
    expect(storeProblems(f.store)).toEqual([])
  })
})

describe('NetworkAllocator: leader changes', () => {
  it('a new leader rebuilds the same state and writes nothing', async () => {
    f = new AllocatorFixture({ bootstrapIngress: true })
    f.start()
    await f.addNetwork('a')
    await f.addNetwork('b', { subnet: '10.20.0.0/16' })
    await f.settle()
    await f.addService('web', { networks: ['a', 'b'], ports: [{ targetPort: 80 }, { targetPort: 53, protocol: 'udp', publishedPort: 53 }] })
    await f.addService('db', { networks: ['b'], mode: 'dnsrr' })
    await f.addTasks('web', 5)
    await f.addTasks('db', 3)
    await f.settle()
    const before = f.allocator.snapshot()
    await f.stop()
    const version = f.store.version
    f.allocator = f.newAllocator({ bootstrapIngress: true })
    f.start()
    await f.settle()
    expect(f.store.version).toBe(version)
    expect(f.allocator.snapshot()).toEqual(before)
  })

  it('a leader change mid-allocation allocates the rest and nothing twice', async () => {
    f = new AllocatorFixture()
    await f.addNetwork('ingress', { ingress: true, subnet: '10.100.0.0/16' })
    await f.addNetwork('a')
    await f.addNetwork('b', { subnet: '10.200.0.0/16' })
    f.start()
    await f.settle()
    await f.addService('web', { networks: ['a', 'b'], ports: [{ targetPort: 80 }] })
    await f.addService('api', { networks: ['b'], ports: [{ targetPort: 81 }] })
    await f.settle()
    await f.addTasks('web', 150)
    // Let the allocator take the first batch, then lose leadership with more tasks arriving.
    while (f.tasks().every((t) => t.status.state === TaskState.NEW)) await flush()
    await f.addTasks('api', 120)
    await f.stop()
    const pendingBefore = f.tasks().filter((t) => t.status.state === TaskState.PENDING).length
    expect(pendingBefore).toBeGreaterThan(0)
    expect(pendingBefore).toBeLessThan(270)
    f.allocator = f.newAllocator()
    f.start()
    await f.settle()
    expect(f.tasks().filter((t) => t.status.state !== TaskState.PENDING).map((t) => t.status)).toEqual([])
    expect(storeProblems(f.store)).toEqual([])
    expect(heldAddresses(f.allocator.snapshot())).toEqual(recordedAddresses(f.store))
    // And a third leader agrees with the second.
    const second = f.allocator.snapshot()
    await f.stop()
    f.allocator = f.newAllocator()
    f.start()
    await f.settle()
    expect(f.allocator.snapshot()).toEqual(second)
  })

  it('allocates many tasks across many networks, each address once', async () => {
    f = new AllocatorFixture()
    f.start()
    const names = Array.from({ length: 20 }, (_, i) => `n${i}`)
    for (const n of names) await f.addNetwork(n)
    for (let i = 0; i < 10; i++) await f.addService(`s${i}`, { networks: names.slice(i, i + 5) })
    for (let i = 0; i < 10; i++) await f.addTasks(`s${i}`, 40)
    await f.settle()
    const tasks = f.tasks()
    expect(tasks).toHaveLength(400)
    expect(tasks.every((t) => t.status.state === TaskState.PENDING && t.networks?.length === 5)).toBe(true)
    expect(storeProblems(f.store)).toEqual([])
    expect(heldAddresses(f.allocator.snapshot())).toEqual(recordedAddresses(f.store))
  })
})
