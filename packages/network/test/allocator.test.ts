import { FailedPreconditionError, TaskState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import type { Draft } from '@swarmkit-ts/store'
import { afterEach, describe, expect, it } from 'vitest'
import { PENDING_MESSAGE } from '../src/allocator/task-rules.ts'
import { NetworkControl } from '../src/control/network-control.ts'
import { AllocatorFixture, fid, serviceSpec } from './helpers/allocator-fixture.ts'

let f: AllocatorFixture
afterEach(async () => {
  await f.stop()
})

describe('NetworkAllocator: networks', () => {
  it('gives a network written without IPAM a subnet from the default pool and an overlay VXLAN id', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addNetwork('front')
    await f.settle()
    const n = f.network('front')
    expect(n.ipam?.configs).toEqual([{ family: 'ipv4', subnet: '10.0.0.0/24', gateway: '10.0.0.1' }])
    expect(n.driverState).toEqual({ name: 'overlay', options: { 'com.docker.network.driver.overlay.vxlanid_list': '4096' } })
  })

  it('creates the ingress network at start with bootstrapIngress, and only once', async () => {
    f = new AllocatorFixture({ bootstrapIngress: true })
    f.start()
    await f.settle()
    const ingress = f.network('ingress')
    expect(ingress.spec.ingress).toBe(true)
    expect(ingress.ipam?.configs?.[0]?.subnet).toBe('10.0.0.0/24')
    await f.stop()
    f.allocator = f.newAllocator({ bootstrapIngress: true })
    f.start()
    await f.settle()
    expect(f.store.view((tx) => tx.networks.find().length)).toBe(1)
  })

  it('refuses to start twice, and starts again after stop', async () => {
    f = new AllocatorFixture()
    f.start()
    expect(() => f.allocator.start()).toThrow(FailedPreconditionError)
    await f.stop()
    f.start()
    await f.settle()
  })
})

describe('NetworkAllocator: services and tasks', () => {
  it('gives a VIP-mode service one VIP per network (by id or name, any case) and its tasks an address on each, then PENDING', async () => {
    f = new AllocatorFixture()
    f.start()
    const front = await f.addNetwork('front', { subnet: '10.1.0.0/24' })
    const back = await f.addNetwork('back', { subnet: '10.2.0.0/24' })
    await f.addService('web', { networks: [{ target: 'Front', aliases: ['www'] }, back] })
    const [t1, t2] = await f.addTasks('web', 2)
    await f.settle()
    const s = f.service('web')
    expect(s.endpoint).toEqual({
      virtualIps: [
        { networkId: front, addr: '10.1.0.2/24' },
        { networkId: back, addr: '10.2.0.2/24' },
      ],
    })
    const a = f.task(t1 as string)
    expect(a.networks).toEqual([
      { networkId: front, addresses: ['10.1.0.3/24'], aliases: ['www'] },
      { networkId: back, addresses: ['10.2.0.3/24'] },
    ])
    expect(a.endpoint).toEqual(s.endpoint)
    expect(a.status).toMatchObject({ state: TaskState.PENDING, message: PENDING_MESSAGE, timestamp: f.clock.now() })
    expect(f.task(t2 as string).networks?.map((n) => n.addresses)).toEqual([['10.1.0.4/24'], ['10.2.0.4/24']])
  })

  it('gives a DNSRR service no VIP, but its tasks their addresses', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addNetwork('front', { subnet: '10.1.0.0/24' })
    await f.addService('db', { networks: ['front'], mode: 'dnsrr' })
    const [t] = await f.addTasks('db', 1)
    await f.settle()
    expect(f.service('db').endpoint).toEqual({ spec: { mode: 'dnsrr' } })
    expect(f.task(t as string).networks).toEqual([{ networkId: fid('netfront'), addresses: ['10.1.0.2/24'] }])
  })

  it('attaches through the deprecated service-level networks too', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addNetwork('front', { subnet: '10.1.0.0/24' })
    await f.addService('old', { legacyNetworks: ['front'] })
    const [t] = await f.addTasks('old', 1)
    await f.settle()
    expect(f.service('old').endpoint?.virtualIps).toEqual([{ networkId: fid('netfront'), addr: '10.1.0.2/24' }])
    expect(f.task(t as string).networks).toEqual([{ networkId: fid('netfront'), addresses: ['10.1.0.3/24'] }])
  })

  it('publishes ingress ports: dynamic from 30000, a VIP on ingress, tasks on ingress first', async () => {
    f = new AllocatorFixture()
    f.start()
    const ingress = await f.addNetwork('ingress', { subnet: '10.255.0.0/16', ingress: true })
    const front = await f.addNetwork('front', { subnet: '10.1.0.0/24' })
    await f.addService('web', { networks: ['front'], ports: [{ targetPort: 80 }, { targetPort: 443, publishedPort: 8443 }, { targetPort: 9000, publishMode: 'host' }] })
    const [t] = await f.addTasks('web', 1)
    await f.settle()
    const s = f.service('web')
    expect(s.endpoint?.ports).toEqual([
      { protocol: 'tcp', targetPort: 80, publishedPort: 30000, publishMode: 'ingress' },
      { protocol: 'tcp', targetPort: 443, publishedPort: 8443, publishMode: 'ingress' },
      { protocol: 'tcp', targetPort: 9000, publishedPort: 0, publishMode: 'host' },
    ])
    expect(s.endpoint?.virtualIps).toEqual([
      { networkId: ingress, addr: '10.255.0.2/16' },
      { networkId: front, addr: '10.1.0.2/24' },
    ])
    expect(f.task(t as string).networks?.map((n) => n.networkId)).toEqual([ingress, front])
  })

  it('keeps a service NEW tasks with status.err when a fixed ingress port is taken, set once; allocates them once it is free', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addNetwork('ingress', { subnet: '10.255.0.0/16', ingress: true })
    await f.addService('web', { ports: [{ targetPort: 80, publishedPort: 8080 }] })
    await f.settle()
    await f.addService('api', { ports: [{ targetPort: 80, publishedPort: 8080 }] })
    const [t] = await f.addTasks('api', 1)
    await f.settle()
    const blocked = f.task(t as string)
    expect(blocked.status.state).toBe(TaskState.NEW)
    expect(blocked.status.err).toBe("port 8080/tcp is already in use by service 'web'")
    expect(f.service('api').endpoint).toBeUndefined()
    // Written once: later commits leave the task alone.
    const version = blocked.meta.version.index
    await f.addNetwork('other', { subnet: '10.9.0.0/24' })
    await f.settle()
    expect(f.task(t as string).meta.version.index).toBe(version)
    await f.removeService('web')
    await f.settle()
    const freed = f.task(t as string)
    expect(freed.status.state).toBe(TaskState.PENDING)
    expect(freed.status.err).toBeUndefined()
    expect(f.service('api').endpoint?.ports).toEqual([{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'ingress' }])
  })

  it('allocates a blocked service in the same pass that frees its port, whatever the order of the events', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addNetwork('ingress', { subnet: '10.255.0.0/16', ingress: true })
    await f.addService('w', { ports: [{ targetPort: 80, publishedPort: 8080 }] })
    await f.settle()
    await f.addService('b', { ports: [{ targetPort: 80, publishedPort: 8080 }] })
    const [t] = await f.addTasks('b', 1)
    await f.settle()
    expect(f.task(t as string).status.state).toBe(TaskState.NEW)
    // One commit: b changes first (still asking for 8080), then w lets 8080 go.
    const b = serviceSpec('b', { ports: [{ targetPort: 80, publishedPort: 8080 }, { targetPort: 81, publishedPort: 9090 }] })
    const w = serviceSpec('w', { ports: [{ targetPort: 80, publishedPort: 7070 }] })
    await f.store.update((tx) => {
      tx.services.update(fid('svcb'), (d) => void (d.spec = b as Draft<ServiceSpec>))
      tx.services.update(fid('svcw'), (d) => void (d.spec = w as Draft<ServiceSpec>))
    })
    await f.settle()
    expect(f.service('b').endpoint?.ports?.map((p) => p.publishedPort)).toEqual([8080, 9090])
    expect(f.task(t as string).status.state).toBe(TaskState.PENDING)
  })

  it("refuses an ingress port equal to another service's host-mode port", async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addNetwork('ingress', { subnet: '10.255.0.0/16', ingress: true })
    await f.addService('h', { ports: [{ targetPort: 80, publishedPort: 8080, publishMode: 'host' }] })
    await f.addService('h2', { ports: [{ targetPort: 80, publishedPort: 8080, publishMode: 'host' }] })
    await f.addService('i', { ports: [{ targetPort: 80, publishedPort: 8080 }] })
    const [t] = await f.addTasks('i', 1)
    await f.addTasks('h2', 1)
    await f.settle()
    expect(f.task(t as string).status.err).toBe("port 8080/tcp is already in use by service 'h'")
    expect(f.tasks().filter((x) => x.status.state === TaskState.PENDING)).toHaveLength(1)
  })

  it('keeps tasks NEW with the reason when a network is unknown or no ingress network exists', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addService('lost', { networks: ['nowhere'] })
    await f.addService('pub', { ports: [{ targetPort: 80 }] })
    const [a] = await f.addTasks('lost', 1)
    const [b] = await f.addTasks('pub', 1)
    await f.settle()
    expect(f.task(a as string).status).toMatchObject({ state: TaskState.NEW, err: 'network nowhere not found' })
    expect(f.task(b as string).status).toMatchObject({ state: TaskState.NEW, err: 'service needs the ingress network, but no ingress network is present' })
    await f.addNetwork('nowhere')
    await f.addNetwork('ingress', { ingress: true })
    await f.settle()
    expect(f.task(a as string).status.state).toBe(TaskState.PENDING)
    expect(f.task(b as string).status.state).toBe(TaskState.PENDING)
  })

  it('reserves a static address from the attachment and refuses it twice', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addNetwork('front', { subnet: '10.1.0.0/24' })
    await f.addService('fixed', { networks: [{ target: 'front', addresses: ['10.1.0.50'] }] })
    const [a, b] = await f.addTasks('fixed', 2)
    await f.settle()
    expect(f.task(a as string).networks).toEqual([{ networkId: fid('netfront'), addresses: ['10.1.0.50/24'] }])
    expect(f.task(b as string).status.state).toBe(TaskState.NEW)
    expect(f.task(b as string).status.err).toMatch(/10\.1\.0\.50/)
  })

  it('allocates job tasks (desired COMPLETE) and NEW tasks already asked to shut down, as SwarmKit does', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addNetwork('front', { subnet: '10.1.0.0/24' })
    await f.addService('web', { networks: ['front'] })
    const [job] = await f.addTasks('web', 1, { desiredState: TaskState.COMPLETE })
    const [old] = await f.addTasks('web', 1, { desiredState: TaskState.SHUTDOWN })
    await f.settle()
    expect(f.task(job as string).status.state).toBe(TaskState.PENDING)
    expect(f.task(old as string).status.state).toBe(TaskState.PENDING)
    expect(f.task(old as string).networks).toEqual([{ networkId: fid('netfront'), addresses: ['10.1.0.4/24'] }])
    // The scheduler shuts the second down: dead, its address is free again.
    await f.updateTask(old as string, (d) => void (d.status.state = TaskState.SHUTDOWN))
    await f.settle()
    expect(f.allocator.snapshot()?.ipam.networks[0]?.pools[0]?.used).toEqual(['10.1.0.2', '10.1.0.3'])
  })
})

describe('NetworkAllocator: more network cases', () => {
  it('gives tasks and VIPs one address per family on a dual-stack network', async () => {
    f = new AllocatorFixture()
    f.start()
    const id = await f.addNetwork('dual', { subnet: '10.4.0.0/24', ipv6: 'fd00:4::/64' })
    await f.addService('web', { networks: ['dual'] })
    const [t] = await f.addTasks('web', 1)
    await f.settle()
    expect(f.service('web').endpoint?.virtualIps).toEqual([
      { networkId: id, addr: '10.4.0.2/24' },
      { networkId: id, addr: 'fd00:4::2/64' },
    ])
    expect(f.task(t as string).networks).toEqual([{ networkId: id, addresses: ['10.4.0.3/24', 'fd00:4::3/64'] }])
  })

  it('moves a task of a service without networks to PENDING with no attachment', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addService('plain')
    const [t] = await f.addTasks('plain', 1)
    await f.settle()
    expect(f.task(t as string).status.state).toBe(TaskState.PENDING)
    expect(f.task(t as string).networks).toEqual([])
    // Nothing to record: no endpoint on the service or the task.
    expect(f.service('plain').endpoint).toBeUndefined()
    expect(f.task(t as string).endpoint).toBeUndefined()
  })

  it('takes a NEW task written with addresses as they are, and moves it on', async () => {
    f = new AllocatorFixture()
    const net = await f.addNetwork('front', { subnet: '10.1.0.0/24' })
    await f.addService('web', { networks: ['front'] })
    const [t] = await f.addTasks('web', 1)
    await f.updateTask(t as string, (d) => void (d.networks = [{ networkId: net, addresses: ['10.1.0.77/24'] }]))
    f.start()
    await f.addTasks('web', 1)
    await f.settle()
    expect(f.task(t as string).networks).toEqual([{ networkId: net, addresses: ['10.1.0.77/24'] }])
    expect(f.task(t as string).status.state).toBe(TaskState.PENDING)
    expect(f.allocator.snapshot()?.ipam.networks[0]?.pools[0]?.used).toEqual(['10.1.0.2', '10.1.0.3', '10.1.0.77'])
  })

  it('keeps tasks NEW with the reason when their network cannot get IPAM', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addNetwork('a', { subnet: '10.5.0.0/16' })
    await f.store.update((tx) =>
      tx.networks.create({ id: fid('netclash'), spec: { annotations: { name: 'clash' }, ipam: { configs: [{ subnet: '10.5.1.0/24' }] } } }),
    )
    await f.addService('web', { networks: ['clash'] })
    const [t] = await f.addTasks('web', 1)
    await f.settle()
    expect(f.network('clash').ipam).toBeUndefined()
    expect(f.task(t as string).status.state).toBe(TaskState.NEW)
    expect(f.task(t as string).status.err).toMatch(/^network clash cannot be allocated: ipam\.configs\[0\]\.subnet: /)
  })

  it('drops a deleted network from its state', async () => {
    f = new AllocatorFixture()
    f.start()
    await f.addNetwork('a', { subnet: '10.1.0.0/24' })
    const b = await f.addNetwork('b', { subnet: '10.2.0.0/24' })
    await f.addService('web', { networks: ['b'] })
    await f.settle()
    expect(f.allocator.snapshot()?.ipam.networks.map((n) => n.id)).toEqual([fid('neta'), b])
    await f.store.update((tx) => tx.networks.delete(fid('neta')))
    await f.settle()
    expect(f.allocator.snapshot()?.ipam.networks.map((n) => n.id)).toEqual([b])
  })
})

describe('NetworkAllocator with NetworkControl', () => {
  it('allocates on networks created through NetworkControl, next to ones it gave IPAM itself, without overlap', async () => {
    f = new AllocatorFixture({ bootstrapIngress: true })
    f.start()
    await f.settle()
    const control = new NetworkControl({ store: f.store, clock: f.clock, random: f.random })
    const made = await control.create({ annotations: { name: 'made' } })
    await f.addNetwork('raw')
    await f.addService('web', { networks: ['made', 'raw'], ports: [{ targetPort: 80 }] })
    const [t] = await f.addTasks('web', 1)
    await f.settle()
    const subnets = f.store.view((tx) => tx.networks.find().map((n) => [n.spec.annotations.name, n.ipam?.configs?.[0]?.subnet]))
    expect(Object.fromEntries(subnets)).toEqual({ ingress: '10.0.0.0/24', made: '10.0.1.0/24', raw: '10.0.2.0/24' })
    expect(f.task(t as string).networks?.map((n) => n.addresses)).toEqual([['10.0.0.3/24'], ['10.0.1.3/24'], ['10.0.2.3/24']])
    expect(f.task(t as string).networks?.[1]?.networkId).toBe(made.id)
    // The network is in use: NetworkControl refuses to remove it.
    await expect(control.remove('made')).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'network-in-use' })
  })
})
