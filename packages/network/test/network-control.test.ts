import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, TaskState, generateId } from '@swarmkit-ts/api'
import type { NetworkSpec, ServiceSpec } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { describe, expect, test } from 'vitest'
import { NetworkControl, PREDEFINED_NETWORK_LABEL, createIngressNetwork, ensureIngressNetwork } from '../src/control/network-control.ts'
import { VXLAN_ID_OPTION } from '../src/ipam/index.ts'

function setup(cluster?: { defaultAddressPool: readonly string[]; subnetSize: number }): { store: MemoryStore; control: NetworkControl; random: SeededRandom } {
  const clock = new ManualClock(1_000)
  const random = new SeededRandom(7)
  const store = new MemoryStore({ clock })
  if (cluster !== undefined) {
    void store.update((tx) =>
      tx.clusters.create({
        id: generateId(random),
        spec: { annotations: { name: 'default' } },
        rootCa: { caCert: new Uint8Array([1]), caCertHash: 'x', joinTokens: { worker: 'w', manager: 'm' } },
        ...cluster,
      }),
    )
  }
  return { store, control: new NetworkControl({ store, clock, random }), random }
}

const named = (name: string, extra: Partial<NetworkSpec> = {}): NetworkSpec => ({ annotations: { name }, ...extra })

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

function serviceSpec(name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { annotations: { name }, task: { container: { image: 'busybox' } }, mode: { replicated: { replicas: 1 } }, ...extra }
}

describe('NetworkControl.create', () => {
  test('a network gets a subnet from the pool, a gateway and a VXLAN id, and is stored', async () => {
    const { control, store } = setup()
    const n = await control.create(named('web-net'))
    expect(n.ipam).toEqual({ driver: { name: 'default' }, configs: [{ family: 'ipv4', subnet: '10.0.0.0/24', gateway: '10.0.0.1' }] })
    expect(n.driverState).toEqual({ name: 'overlay', options: { [VXLAN_ID_OPTION]: '4096' } })
    expect(store.view((tx) => tx.networks.get(n.id))?.spec.annotations.name).toBe('web-net')
  })

  test("the cluster's address pool and subnet size apply", async () => {
    const { control } = setup({ defaultAddressPool: ['172.20.0.0/16'], subnetSize: 28 })
    const n = await control.create(named('web-net'))
    expect(n.ipam?.configs).toEqual([{ family: 'ipv4', subnet: '172.20.0.0/28', gateway: '172.20.0.1' }])
  })

  test('concurrent creates never get overlapping subnets or equal VXLAN ids', async () => {
    const { control } = setup()
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => control.create(named(`n${i}`))))
    const subnets = created.map((n) => n.ipam?.configs?.[0]?.subnet)
    expect(new Set(subnets).size).toBe(20)
    expect(subnets).toEqual(Array.from({ length: 20 }, (_, i) => `10.0.${i}.0/24`))
    expect(created.map((n) => n.driverState?.options?.[VXLAN_ID_OPTION])).toEqual(Array.from({ length: 20 }, (_, i) => String(4096 + i)))
  })

  test('of two concurrent creates with overlapping user subnets exactly one succeeds', async () => {
    const { control, store } = setup()
    const other = new NetworkControl({ store, clock: new ManualClock(0), random: new SeededRandom(99) })
    const results = await Promise.allSettled([
      control.create(named('a', { ipam: { configs: [{ subnet: '10.7.0.0/16' }] } })),
      other.create(named('b', { ipam: { configs: [{ subnet: '10.7.3.0/24' }] } })),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected'])
    expect(((results[1] as PromiseRejectedResult).reason as Error).message).toBe('ipam.configs[0].subnet: 10.7.3.0/24 overlaps network "a" (10.7.0.0/16)')
    expect(control.list().map((n) => n.spec.annotations.name)).toEqual(['a'])
  })

  test('an invalid spec is refused naming the field, with nothing written', async () => {
    const { control } = setup()
    const err = await rejection(control.create(named('Bad_Name!')))
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('annotations.name')
    expect(control.list()).toEqual([])
  })

  test('a taken name is an AlreadyExistsError', async () => {
    const { control } = setup()
    await control.create(named('web-net'))
    const err = await rejection(control.create(named('web-net')))
    expect(err).toBeInstanceOf(AlreadyExistsError)
    expect((err as AlreadyExistsError).kind).toBe('network')
    expect((err as AlreadyExistsError).key).toBe('web-net')
  })

  test("a user subnet overlapping another network's is refused naming it, with nothing written", async () => {
    const { control } = setup()
    await control.create(named('web-net', { ipam: { configs: [{ subnet: '10.1.0.0/16' }] } }))
    const err = await rejection(control.create(named('db-net', { ipam: { configs: [{ subnet: '10.1.2.0/24' }] } })))
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect(err.message).toBe('ipam.configs[0].subnet: 10.1.2.0/24 overlaps network "web-net" (10.1.0.0/16)')
    expect(control.list().map((n) => n.spec.annotations.name)).toEqual(['web-net'])
  })

  test('a second ingress network is refused with reason ingress-exists', async () => {
    const { control } = setup()
    const ingress = await control.create(named('ingress', { ingress: true }))
    const err = await rejection(control.create(named('ingress2', { ingress: true })))
    expect(err).toBeInstanceOf(FailedPreconditionError)
    expect((err as FailedPreconditionError).reason).toBe('ingress-exists')
    expect(err.message).toBe(`ingress network ingress (${ingress.id}) is already present`)
  })
})

describe('predefined networks', () => {
  test('the predefined-network label is refused to users; a network carrying it cannot be removed', async () => {
    const { control, store, random } = setup()
    const err = await rejection(control.create(named('mine', { annotations: { name: 'mine', labels: { [PREDEFINED_NETWORK_LABEL]: 'true' } } })))
    expect(err).toBeInstanceOf(PermissionDeniedError)
    expect(err.message).toBe('label com.docker.swarm.predefined is for internally created predefined networks and cannot be applied by users')
    const id = generateId(random)
    await store.update((tx) => tx.networks.create({ id, spec: { annotations: { name: 'host', labels: { [PREDEFINED_NETWORK_LABEL]: 'true' } }, driverConfig: { name: 'host' } } }))
    const refused = await rejection(control.remove('host'))
    expect((refused as FailedPreconditionError).reason).toBe('predefined-network')
    expect(refused.message).toBe(`network host (${id}) is a swarm predefined network and cannot be removed`)
  })
})

describe('NetworkControl.remove', () => {
  test('removes an unused network by id or by name; its subnet is free again', async () => {
    const { control } = setup()
    const a = await control.create(named('a'))
    await control.create(named('b'))
    await control.remove(a.id)
    await control.remove('b')
    expect(control.list()).toEqual([])
    expect((await control.create(named('c'))).ipam?.configs?.[0]?.subnet).toBe('10.0.0.0/24')
  })

  test('an unknown network is a NotFoundError', async () => {
    const { control } = setup()
    const err = await rejection(control.remove('nope'))
    expect(err).toBeInstanceOf(NotFoundError)
    expect(err.message).toBe('network nope not found')
  })

  test('a network a service attaches to (by name or id) is in use, naming the service', async () => {
    const { control, store, random } = setup()
    const net = await control.create(named('web-net'))
    await store.update((tx) => tx.services.create({ id: generateId(random), spec: serviceSpec('web', { task: { container: { image: 'busybox' }, networks: [{ target: 'web-net' }] } }) }))
    const err = await rejection(control.remove(net.id))
    expect(err).toBeInstanceOf(FailedPreconditionError)
    expect((err as FailedPreconditionError).reason).toBe('network-in-use')
    expect(err.message).toBe('network web-net is in use by service web')
    const other = await control.create(named('old-net'))
    await store.update((tx) => tx.services.create({ id: generateId(random), spec: serviceSpec('legacy', { networks: [{ target: other.id }] }) }))
    expect((await rejection(control.remove('old-net'))).message).toBe('network old-net is in use by service legacy')
  })

  test('a task still running on the network keeps it; a shut-down one does not', async () => {
    const { control, store, random } = setup()
    const net = await control.create(named('web-net'))
    const id = generateId(random)
    await store.update((tx) =>
      tx.tasks.create({
        id,
        spec: { container: { image: 'busybox' } },
        serviceId: 'gone',
        slot: 1,
        nodeId: '',
        annotations: { name: 'web.1' },
        serviceAnnotations: { name: 'web' },
        status: { state: TaskState.RUNNING, message: '', timestamp: 0 },
        desiredState: TaskState.RUNNING,
        networks: [{ networkId: net.id, addresses: ['10.0.0.2/24'] }],
      }),
    )
    const err = await rejection(control.remove('web-net'))
    expect((err as FailedPreconditionError).reason).toBe('network-in-use')
    expect(err.message).toBe(`network web-net is in use by task ${id}`)
    await store.update((tx) =>
      tx.tasks.update(id, (t) => {
        t.desiredState = TaskState.SHUTDOWN
        t.status = { state: TaskState.SHUTDOWN, message: 'shutdown', timestamp: 0 }
      }),
    )
    await control.remove('web-net')
    expect(control.list()).toEqual([])
  })

  test('the ingress network is kept while a service publishes a port through the mesh', async () => {
    const { control, store, random } = setup()
    await ensureIngressNetwork(store, random)
    const sid = generateId(random)
    await store.update((tx) => tx.services.create({ id: sid, spec: serviceSpec('web', { endpoint: { ports: [{ targetPort: 80, publishedPort: 8080 }] } }) }))
    const err = await rejection(control.remove('ingress'))
    expect((err as FailedPreconditionError).reason).toBe('network-in-use')
    expect(err.message).toBe('ingress network ingress is in use by service web, which publishes a port through the routing mesh')
    await store.update((tx) => tx.services.update(sid, (s) => void (s.spec.endpoint = { ports: [{ targetPort: 80, publishedPort: 8080, publishMode: 'host' }] })))
    await control.remove('ingress')
    expect(control.list()).toEqual([])
  })
})

describe('ingress bootstrap', () => {
  test('ensureIngressNetwork creates the ingress network once, from the pool', async () => {
    const { store, random, control } = setup()
    const a = await ensureIngressNetwork(store, random)
    const b = await ensureIngressNetwork(store, random)
    expect(b.id).toBe(a.id)
    expect(a.spec).toEqual({ annotations: { name: 'ingress' }, ingress: true })
    expect(a.ipam?.configs).toEqual([{ family: 'ipv4', subnet: '10.0.0.0/24', gateway: '10.0.0.1' }])
    expect(control.get('ingress').id).toBe(a.id)
  })

  test('createIngressNetwork returns an existing ingress network whatever its name', async () => {
    const { store, random, control } = setup()
    const mine = await control.create(named('my-ingress', { ingress: true }))
    expect((await store.update((tx) => createIngressNetwork(tx, random))).id).toBe(mine.id)
    expect(control.list().map((n) => n.spec.annotations.name)).toEqual(['my-ingress'])
  })
})

describe('NetworkControl.get and list', () => {
  test('get finds by id or name; an unknown one is a NotFoundError; list is sorted by name', async () => {
    const { control } = setup()
    const b = await control.create(named('b'))
    await control.create(named('a'))
    expect(control.get(b.id).spec.annotations.name).toBe('b')
    expect(control.get('a').spec.annotations.name).toBe('a')
    expect(() => control.get('zzz')).toThrow(NotFoundError)
    expect(control.list().map((n) => n.spec.annotations.name)).toEqual(['a', 'b'])
  })
})
