/**
 * DriverTaskNetworking over ProcessNetworkDriver, the network sources, and NodeExecutor's
 * description: networks are made on the node before a task is prepared on them and removed
 * after its last task is released, whatever the interleaving (a property).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { NotFoundError, TaskState, cryptoRandom, systemClock } from '@swarmkit-ts/api'
import type { NetworkAttachment, NodeDescription, Task } from '@swarmkit-ts/api'
import { RuntimeExecutor } from '@swarmkit-ts/agent'
import { FakeRuntime } from '@swarmkit-ts/engine-adapter'
import { NetworkControl, ProcessNetworkDriver } from '@swarmkit-ts/network'
import { MemoryStore } from '@swarmkit-ts/store'
import { AttachmentNetworkSource, DriverTaskNetworking, NodeExecutor, StoreNetworkSource } from '../src/worker/index.ts'

function task(id: string, networks: readonly NetworkAttachment[], ports: readonly number[] = []): Task {
  return {
    id,
    meta: { version: { index: 1n }, createdAt: 0, updatedAt: 0 },
    spec: { container: { image: 'busybox:fake', command: ['httpd', '-f', '-p', '80'] } },
    serviceId: 'svc1',
    slot: 1,
    nodeId: 'node1',
    annotations: { name: '' },
    serviceAnnotations: { name: 'web' },
    status: { timestamp: 0, state: TaskState.ASSIGNED },
    desiredState: TaskState.RUNNING,
    networks,
    ...(ports.length === 0 ? {} : { endpoint: { ports: ports.map((targetPort) => ({ targetPort, protocol: 'tcp' as const, publishMode: 'ingress' as const, publishedPort: 30000 + targetPort })) } }),
  }
}

const NETS = ['neta', 'netb', 'netc'] as const
/** Task `i`'s attachment to network `n` (index into NETS): an address in 10.0.<n>.0/24. */
const attach = (n: number, i: number): NetworkAttachment => ({ networkId: NETS[n] ?? 'neta', addresses: [`10.0.${String(n)}.${String(i + 2)}/24`] })

const signal = new AbortController().signal

describe('AttachmentNetworkSource', () => {
  it('derives the subnet from the address and prefix and the gateway as its first host, and keeps the first derivation', () => {
    const source = new AttachmentNetworkSource()
    const a: NetworkAttachment = { networkId: 'n1', addresses: ['10.0.1.5/24', 'fd00:1::7/64'] }
    expect(source.network(a, task('t1', [a]))).toEqual({ id: 'n1', name: 'n1', subnet: '10.0.1.0/24', gateway: '10.0.1.1', ipv6: { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' } })
    const b: NetworkAttachment = { networkId: 'n1', addresses: ['10.0.1.9/24'] }
    expect(source.network(b, task('t2', [b]))).toEqual({ id: 'n1', name: 'n1', subnet: '10.0.1.0/24', gateway: '10.0.1.1', ipv6: { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' } })
  })

  it('refuses an attachment without an IPv4 address (FailedPreconditionError network-unknown) and names a malformed address', () => {
    const source = new AttachmentNetworkSource()
    const none: NetworkAttachment = { networkId: 'n2' }
    expect(() => source.network(none, task('t1', [none]))).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'network-unknown' }) as Error)
    const bad: NetworkAttachment = { networkId: 'n3', addresses: ['10.0.1.300/24'] }
    expect(() => source.network(bad, task('t1', [{ networkId: 'n0' }, bad]))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'task.networks[1].addresses[0]' }) as Error)
  })
})

describe('AttachmentNetworkSource property', () => {
  it('any host address the allocator could give (not the network, gateway or broadcast address) yields a network the process driver accepts the task on', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 8, max: 29 }), fc.integer({ min: 0, max: 0xffffffff }), fc.double({ min: 0, max: 1, noNaN: true }), async (prefix, base, at) => {
        const size = 2 ** (32 - prefix)
        const network = Math.floor(base / size) * size
        const host = network + 2 + Math.min(size - 4, Math.floor(at * (size - 3))) // from the second host to the last before broadcast
        const text = [24, 16, 8, 0].map((shift) => String(Math.floor(host / 2 ** shift) % 256)).join('.')
        const a: NetworkAttachment = { networkId: 'n1', addresses: [`${text}/${String(prefix)}`] }
        const t = task('t1', [a])
        const derived = new AttachmentNetworkSource().network(a, t)
        const driver = new ProcessNetworkDriver()
        await driver.createNetwork(derived)
        await driver.prepareTask({ taskId: 't1', attachments: [a], ports: [] })
        expect((await driver.listNetworks()).map((n) => [n.subnet, n.tasks])).toEqual([[derived.subnet, ['t1']]])
      }),
      { numRuns: 300 },
    )
  })
})

describe('StoreNetworkSource', () => {
  it('describes an allocated network from the store, and refuses an unknown one with NotFoundError', async () => {
    const store = new MemoryStore()
    const net = await new NetworkControl({ store, clock: systemClock, random: cryptoRandom }).create({ annotations: { name: 'front', labels: { tier: 'a' } }, internal: true })
    const source = new StoreNetworkSource(store)
    const a: NetworkAttachment = { networkId: net.id, addresses: ['10.0.0.2/24'] }
    expect(source.network(a)).toEqual({ id: net.id, name: 'front', subnet: '10.0.0.0/24', gateway: '10.0.0.1', internal: true, vxlanId: 4096, labels: { tier: 'a' } })
    const err = ((): unknown => {
      try {
        return source.network({ networkId: 'nope' })
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(NotFoundError)
    expect(err).toMatchObject({ kind: 'network', id: 'nope' })
  })
})

describe('DriverTaskNetworking', () => {
  it('creates a network before its first task, keeps it while a task uses it, and removes it after the last release', async () => {
    const driver = new ProcessNetworkDriver()
    const networking = new DriverTaskNetworking({ driver, networks: new AttachmentNetworkSource() })
    const t1 = task('t1', [attach(0, 0)], [80])
    const spec = await networking.prepareTask(t1, { image: 'busybox:fake', env: { A: '1' } }, signal)
    expect(spec).toEqual({ image: 'busybox:fake', env: { A: '1' }, ports: [{ target: 80, published: 0, protocol: 'tcp' }] })
    await networking.prepareTask(task('t2', [attach(0, 1), attach(1, 1)]), { image: 'busybox:fake' }, signal)
    const held = async (): Promise<[string, readonly string[]][]> => (await driver.listNetworks()).map((n) => [n.id, [...n.tasks].sort()] as [string, readonly string[]]).sort()
    expect(await held()).toEqual([['neta', ['t1', 't2']], ['netb', ['t2']]])
    await networking.releaseTask('t2')
    expect(await held()).toEqual([['neta', ['t1']]])
    await networking.releaseTask('t1')
    expect(await held()).toEqual([])
    await networking.releaseTask('t1') // idempotent
    expect(networking.preparedTasks().size).toBe(0)
  })

  it('reports the node port of a running container as its port status, and none for a task without ports', async () => {
    const runtime = new FakeRuntime({ clock: systemClock })
    try {
      const networking = new DriverTaskNetworking({ driver: new ProcessNetworkDriver(), networks: new AttachmentNetworkSource() })
      const t = task('t1', [attach(0, 0)], [80])
      const id = await runtime.create(await networking.prepareTask(t, { image: 'busybox:fake', command: ['httpd', '-f', '-p', '80'] }, signal))
      await runtime.start(id)
      const info = await runtime.inspect(id)
      expect(await networking.portStatus(t, info)).toEqual({ ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: info.ports[0]?.published, publishMode: 'host' }] })
      expect(await networking.portStatus(task('t2', []), info)).toBeUndefined()
      await runtime.remove(id, { force: true })
    } finally {
      await runtime.close()
    }
  })

  it('a network the source cannot describe rejects the task and leaves nothing prepared', async () => {
    const driver = new ProcessNetworkDriver()
    const networking = new DriverTaskNetworking({ driver, networks: new StoreNetworkSource(new MemoryStore()) })
    await expect(networking.prepareTask(task('t1', [attach(0, 0)]), { image: 'busybox:fake' }, signal)).rejects.toMatchObject({ name: 'NotFoundError', kind: 'network', id: 'neta' })
    expect(networking.preparedTasks().size).toBe(0)
    expect(await driver.listNetworks()).toEqual([])
  })

  it('a driver refusal rejects the task and removes the network made for it', async () => {
    const driver = new ProcessNetworkDriver()
    const networking = new DriverTaskNetworking({ driver, networks: new AttachmentNetworkSource() })
    const bad = task('t1', [attach(0, 0)])
    const withBadPort = { ...bad, endpoint: { ports: [{ targetPort: 0 }] } }
    await expect(networking.prepareTask(withBadPort, { image: 'busybox:fake' }, signal)).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'ports[0].targetPort' })
    expect(await driver.listNetworks()).toEqual([])
  })

  it('a task prepared again without a network removes the network only its earlier preparation used (found by the property)', async () => {
    const driver = new ProcessNetworkDriver()
    const networking = new DriverTaskNetworking({ driver, networks: new AttachmentNetworkSource() })
    await networking.prepareTask(task('t1', [attach(1, 0)]), { image: 'busybox:fake' }, signal)
    await networking.prepareTask(task('t1', []), { image: 'busybox:fake' }, signal)
    expect(await driver.listNetworks()).toEqual([])
    expect([...networking.preparedTasks()]).toEqual([['t1', []]])
  })

  it('a new instance (a restarted node) takes on an adopted task at its first port status: its network stays until that task is released', async () => {
    const runtime = new FakeRuntime({ clock: systemClock })
    try {
      const t1 = task('t1', [attach(0, 0)], [80])
      const before = new DriverTaskNetworking({ driver: new ProcessNetworkDriver(), networks: new AttachmentNetworkSource() })
      const id = await runtime.create(await before.prepareTask(t1, { image: 'busybox:fake', command: ['httpd', '-f', '-p', '80'] }, signal))
      await runtime.start(id)

      const driver = new ProcessNetworkDriver()
      const after = new DriverTaskNetworking({ driver, networks: new AttachmentNetworkSource() })
      const info = await runtime.inspect(id)
      expect(await after.portStatus(t1, info)).toEqual({ ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: info.ports[0]?.published, publishMode: 'host' }] })
      expect([...after.preparedTasks()]).toEqual([['t1', ['neta']]])
      await after.prepareTask(task('t2', [attach(0, 1)]), { image: 'busybox:fake' }, signal)
      await after.releaseTask('t2')
      expect((await driver.listNetworks()).map((n) => n.id)).toEqual(['neta'])
      await runtime.remove(id, { force: true })
      await after.releaseTask('t1')
      expect(await driver.listNetworks()).toEqual([])
    } finally {
      await runtime.close()
    }
  })

  it('property: after any interleaving of prepares and releases, the driver holds exactly the networks of the prepared tasks', async () => {
    const op = fc.record({ release: fc.boolean(), task: fc.integer({ min: 0, max: 4 }), nets: fc.subarray([0, 1, 2]), await: fc.boolean() })
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const driver = new ProcessNetworkDriver()
        const networking = new DriverTaskNetworking({ driver, networks: new AttachmentNetworkSource() })
        const prepared = new Map<string, number[]>()
        const pending: Promise<unknown>[] = []
        // Operations on one task are awaited in order (as the agent's controller does); others interleave.
        const perTask = new Map<number, Promise<unknown>>()
        for (const o of ops) {
          const id = `t${String(o.task)}`
          const before = perTask.get(o.task) ?? Promise.resolve()
          const next = before.then(async (): Promise<void> => {
            if (o.release) await networking.releaseTask(id)
            else await networking.prepareTask(task(id, o.nets.map((n) => attach(n, o.task))), { image: 'busybox:fake' }, signal)
          })
          if (o.release) prepared.delete(id)
          else prepared.set(id, o.nets)
          perTask.set(o.task, next)
          pending.push(next)
          if (o.await) await next
        }
        await Promise.all(pending)
        const expected = new Map<string, string[]>()
        for (const [id, nets] of prepared) for (const n of nets) expected.set(NETS[n] ?? '', [...(expected.get(NETS[n] ?? '') ?? []), id].sort())
        const held = new Map((await driver.listNetworks()).map((n) => [n.id, [...n.tasks].sort()]))
        expect(held).toEqual(expected)
      }),
      { numRuns: 200 },
    )
  })
})

describe('NodeExecutor', () => {
  it('adds the network plugins to the node description once, keeping the runtime plugin', async () => {
    const runtime = new FakeRuntime({ clock: systemClock })
    const inner = new RuntimeExecutor({ runtime, clock: systemClock, hostname: 'n1' })
    const described: NodeDescription = await new NodeExecutor({ inner, networkPlugins: ['overlay', 'overlay', 'bridge'] }).describe()
    expect(described.engine?.plugins).toEqual([{ type: 'Runtime', name: 'fake' }, { type: 'Network', name: 'overlay' }, { type: 'Network', name: 'bridge' }])
    expect((await new NodeExecutor({ inner }).describe()).engine?.plugins).toEqual([{ type: 'Runtime', name: 'fake' }])
    await runtime.close()
  })

  it('knows a task\'s container once its controller created it, says so, and forgets it when the controller is removed', async () => {
    const runtime = new FakeRuntime({ clock: systemClock })
    try {
      let changes = 0
      const executor = new NodeExecutor({ inner: new RuntimeExecutor({ runtime, clock: systemClock }), onChange: () => void changes++ })
      const ctlr = executor.controller(task('t1', []), { secret: () => undefined, config: () => undefined })
      expect([executor.containerOf('t1'), changes]).toEqual([undefined, 0])
      await ctlr.prepare(signal)
      const [container] = await runtime.list()
      expect([executor.containerOf('t1'), changes]).toEqual([container?.id, 1])
      await ctlr.remove()
      expect([executor.containerOf('t1'), changes, (await runtime.list()).length]).toEqual([undefined, 2, 0])
    } finally {
      await runtime.close()
    }
  })
})
