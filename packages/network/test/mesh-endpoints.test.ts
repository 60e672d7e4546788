// The routing table as computed from store objects: which ports, which tasks, where each task is
// reached; the host-mode path; and the store-fed source following the store live.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { InvalidArgumentError, TaskState } from '@swarmkit-ts/api'
import type { PortConfig } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import { StoreEndpointSource, hostPortBindings, ingressPorts, routingTableOf, routingTablesEqual } from '../src/index.ts'
import type { RoutingTable } from '../src/index.ts'
import { hostPort, id, networkObj, nodeObj, serviceObj, taskObj } from './helpers/mesh-objects.ts'
import { waitFor } from './helpers/mesh-net.ts'

const web = (ports: readonly PortConfig[], allocated?: readonly PortConfig[]): ReturnType<typeof serviceObj> => serviceObj('web', ports, allocated)

function tableOf(store: MemoryStore): RoutingTable {
  return store.view((tx) => routingTableOf({ services: tx.services.find(), tasks: tx.tasks.find(), nodes: tx.nodes.find(), networks: tx.networks.find() }))
}

describe('ingressPorts', () => {
  it('takes the allocated ports when present, else the spec ports with a fixed published port; host, SCTP and unallocated ports are left out', () => {
    const spec: PortConfig[] = [
      { targetPort: 80, publishedPort: 8080 },
      { targetPort: 53, publishedPort: 5353, protocol: 'udp' },
      { targetPort: 81 },
      { targetPort: 82, publishedPort: 8082, publishMode: 'host' },
      { targetPort: 83, publishedPort: 8083, protocol: 'sctp' },
    ]
    expect(ingressPorts({ ...web(spec), meta: { version: { index: 1n }, createdAt: 0, updatedAt: 0 } })).toEqual([
      { publishedPort: 8080, targetPort: 80, protocol: 'tcp' },
      { publishedPort: 5353, targetPort: 53, protocol: 'udp' },
    ])
    const allocated = [{ targetPort: 81, publishedPort: 30001, publishMode: 'ingress' as const, protocol: 'tcp' as const }]
    expect(ingressPorts({ ...web(spec, allocated), meta: { version: { index: 1n }, createdAt: 0, updatedAt: 0 } })).toEqual([{ publishedPort: 30001, targetPort: 81, protocol: 'tcp' }])
  })
})

describe('routingTableOf', () => {
  it("reaches a task on its node's published port, or on its ingress address; only RUNNING tasks meant to run", () => {
    const store = new MemoryStore()
    return store
      .update((tx) => {
        tx.networks.create(networkObj('ingress', true))
        tx.nodes.create(nodeObj('node-a', '192.0.2.10'))
        tx.services.create(web([{ targetPort: 80, publishedPort: 8080 }]))
        tx.tasks.create(taskObj('t1', 'web', { ports: [hostPort(80, 40001)] }))
        tx.tasks.create(taskObj('t2', 'web', { networks: [{ networkId: id('ingress'), addresses: ['10.0.0.7/24'] }] }))
        tx.tasks.create(taskObj('t3', 'web', { state: TaskState.STARTING, ports: [hostPort(80, 40003)] }))
        tx.tasks.create(taskObj('t4', 'web', { desiredState: TaskState.SHUTDOWN, ports: [hostPort(80, 40004)] }))
        tx.tasks.create(taskObj('t5', 'web', { networks: [{ networkId: id('other'), addresses: ['10.0.1.7/24'] }] }))
      })
      .then(() => {
        expect(tableOf(store)).toEqual({
          entries: [
            {
              publishedPort: 8080,
              protocol: 'tcp',
              serviceId: id('web'),
              serviceName: 'web',
              backends: [
                { taskId: id('t1'), host: '192.0.2.10', port: 40001 },
                { taskId: id('t2'), host: '10.0.0.7', port: 80 },
              ],
            },
          ],
        })
      })
  })

  it('gives a published port claimed twice to the lower service id', async () => {
    const store = new MemoryStore()
    await store.update((tx) => {
      tx.services.create(serviceObj('b-svc', [{ targetPort: 80, publishedPort: 8080 }]))
      tx.services.create(serviceObj('a-svc', [{ targetPort: 81, publishedPort: 8080 }]))
    })
    expect(tableOf(store).entries.map((e) => e.serviceName)).toEqual(['a-svc'])
  })
})

describe('hostPortBindings', () => {
  it("lists the task's host-mode ports as runtime port mappings (0: the runtime picks) and nothing else", () => {
    const ports: PortConfig[] = [
      { targetPort: 80, publishedPort: 30000, publishMode: 'ingress' },
      { targetPort: 81, publishedPort: 8081, publishMode: 'host' },
      { targetPort: 53, publishMode: 'host', protocol: 'udp' },
    ]
    expect(hostPortBindings({ endpoint: { ports } })).toEqual([
      { target: 81, published: 8081, protocol: 'tcp' },
      { target: 53, published: 0, protocol: 'udp' },
    ])
    expect(hostPortBindings({})).toEqual([])
  })

  it('refuses an SCTP host port, naming the field', () => {
    const ports: PortConfig[] = [{ targetPort: 80, publishMode: 'host' }, { targetPort: 81, publishMode: 'host', protocol: 'sctp' }]
    expect(() => hostPortBindings({ endpoint: { ports } })).toThrow(InvalidArgumentError)
    expect(() => hostPortBindings({ endpoint: { ports } })).toThrow(expect.objectContaining({ field: 'endpoint.ports[1].protocol' }) as Error)
  })
})

describe('StoreEndpointSource', () => {
  it('is current once started, and calls listeners once per commit that changes the table', async () => {
    const store = new MemoryStore()
    await store.update((tx) => {
      tx.nodes.create(nodeObj('node-a', '127.0.0.1'))
      tx.services.create(web([{ targetPort: 80, publishedPort: 8080 }]))
      tx.tasks.create(taskObj('t1', 'web', { ports: [hostPort(80, 40001)] }))
    })
    const source = new StoreEndpointSource({ store })
    source.start()
    expect(source.current().entries[0]?.backends.map((b) => b.port)).toEqual([40001])
    const seen: number[][] = []
    source.subscribe((t) => seen.push(t.entries[0]?.backends.map((b) => b.port) ?? []))
    await store.update((tx) => tx.tasks.create(taskObj('t2', 'web', { state: TaskState.STARTING, ports: [hostPort(80, 40002)] })))
    await store.update((tx) => tx.tasks.update(id('t2'), (t) => void (t.status.state = TaskState.RUNNING)))
    await store.update((tx) => tx.tasks.update(id('t1'), (t) => void (t.status.message = 'still running')))
    await store.update((tx) => tx.tasks.update(id('t1'), (t) => void (t.desiredState = TaskState.SHUTDOWN)))
    await waitFor(() => seen.length === 2, 'two table changes')
    expect(seen).toEqual([[40001, 40002], [40002]])
    await source.stop()
  })

  it('follows node address changes and the ingress network', async () => {
    const store = new MemoryStore()
    await store.update((tx) => {
      tx.nodes.create(nodeObj('node-a', '192.0.2.1'))
      tx.services.create(web([{ targetPort: 80, publishedPort: 8080 }]))
      tx.tasks.create(taskObj('t1', 'web', { ports: [hostPort(80, 40001)] }))
      tx.tasks.create(taskObj('t2', 'web', { networks: [{ networkId: id('ingress'), addresses: ['10.0.0.2/24'] }] }))
    })
    const source = new StoreEndpointSource({ store })
    source.start()
    expect(source.current().entries[0]?.backends).toEqual([{ taskId: id('t1'), host: '192.0.2.1', port: 40001 }])
    await store.update((tx) => {
      tx.nodes.update(id('node-a'), (n) => void (n.status.addr = '192.0.2.2'))
      tx.networks.create(networkObj('ingress', true))
    })
    await waitFor(() => source.current().entries[0]?.backends.length === 2, 'the ingress address to count')
    expect(source.current().entries[0]?.backends).toEqual([
      { taskId: id('t1'), host: '192.0.2.2', port: 40001 },
      { taskId: id('t2'), host: '10.0.0.2', port: 80 },
    ])
    await source.stop()
  })

  it('property: after any sequence of writes its table equals the one computed from a fresh view', async () => {
    const svc = fc.constantFrom('s0', 's1', 's2')
    const port: fc.Arbitrary<PortConfig> = fc.record({
      targetPort: fc.constantFrom(80, 53),
      publishedPort: fc.constantFrom(30000, 30000, 30001, 0),
      protocol: fc.constantFrom('tcp' as const, 'tcp' as const, 'udp' as const),
      publishMode: fc.constantFrom('ingress' as const, 'ingress' as const, 'host' as const),
    })
    const op = fc.oneof(
      fc.record({ k: fc.constant('service' as const), name: svc, ports: fc.array(port, { minLength: 1, maxLength: 2 }), allocated: fc.option(fc.array(port, { maxLength: 2 }), { nil: undefined }) }),
      fc.record({ k: fc.constant('deleteService' as const), name: svc }),
      fc.record({
        k: fc.constant('task' as const),
        name: fc.constantFrom('t0', 't1', 't2', 't3', 't4'),
        service: svc,
        state: fc.constantFrom(TaskState.RUNNING, TaskState.RUNNING, TaskState.NEW, TaskState.SHUTDOWN),
        desired: fc.constantFrom(TaskState.RUNNING, TaskState.RUNNING, TaskState.SHUTDOWN),
        node: fc.constantFrom('n0', 'n1'),
        hostPorts: fc.option(fc.array(fc.record({ t: fc.constantFrom(80, 53), p: fc.integer({ min: 40000, max: 40003 }), proto: fc.constantFrom('tcp' as const, 'udp' as const) }), { maxLength: 2 }), { nil: undefined }),
        ingressAddr: fc.option(fc.constantFrom('10.0.0.5/24', '10.0.0.6/24'), { nil: undefined }),
      }),
      fc.record({ k: fc.constant('deleteTask' as const), name: fc.constantFrom('t0', 't1', 't2', 't3', 't4') }),
      fc.record({ k: fc.constant('node' as const), name: fc.constantFrom('n0', 'n1'), addr: fc.option(fc.constantFrom('192.0.2.1', '192.0.2.2'), { nil: undefined }) }),
      fc.record({ k: fc.constant('ingress' as const), present: fc.boolean() }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), fc.boolean(), async (ops, startFirst) => {
        const store = new MemoryStore()
        const source = new StoreEndpointSource({ store })
        if (startFirst) source.start()
        for (const o of ops) {
          await store.update((tx) => {
            switch (o.k) {
              case 'service': {
                const obj = serviceObj(o.name, o.ports, o.allocated)
                const cur = tx.services.get(obj.id)
                if (cur === undefined) tx.services.create(obj)
                else tx.services.update({ ...obj, meta: cur.meta })
                return
              }
              case 'deleteService':
                if (tx.services.get(id(o.name)) !== undefined) tx.services.delete(id(o.name))
                return
              case 'task': {
                const obj = taskObj(o.name, o.service, {
                  state: o.state,
                  desiredState: o.desired,
                  nodeId: id(o.node),
                  ...(o.hostPorts === undefined ? {} : { ports: o.hostPorts.map((h) => hostPort(h.t, h.p, h.proto)) }),
                  ...(o.ingressAddr === undefined ? {} : { networks: [{ networkId: id('ingress'), addresses: [o.ingressAddr] }] }),
                })
                const cur = tx.tasks.get(obj.id)
                if (cur === undefined) tx.tasks.create(obj)
                else tx.tasks.update({ ...obj, meta: cur.meta })
                return
              }
              case 'deleteTask':
                if (tx.tasks.get(id(o.name)) !== undefined) tx.tasks.delete(id(o.name))
                return
              case 'node': {
                const obj = nodeObj(o.name, o.addr)
                const cur = tx.nodes.get(obj.id)
                if (cur === undefined) tx.nodes.create(obj)
                else tx.nodes.update({ ...obj, meta: cur.meta })
                return
              }
              case 'ingress': {
                const cur = tx.networks.get(id('ingress'))
                if (o.present && cur === undefined) tx.networks.create(networkObj('ingress', true))
                if (!o.present && cur !== undefined) tx.networks.delete(id('ingress'))
                return
              }
            }
          })
        }
        if (!startFirst) source.start()
        const expected = tableOf(store)
        await waitFor(() => routingTablesEqual(source.current(), expected), 'the source to catch up', 5_000)
        await source.stop()
      }),
      { numRuns: 150 },
    )
    // 150 runs, each waiting for the source: a loaded CI machine took over the 5 s default.
  }, 60_000)
})
