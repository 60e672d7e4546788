/**
 * The service resolver on a MemoryStore: every name form Docker's embedded DNS answers, scoped
 * by network, VIP and DNSRR services, and live changes.
 */
import { FailedPreconditionError, TaskState } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import { ManualClock } from '@swarmkit-ts/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { DNS_TASK_TTL_SECONDS, DNS_VIP_TTL_SECONDS, ServiceResolver } from '../src/index.ts'
import type { DnsLookupResult, DnsQueryType, DnsScope } from '../src/index.ts'
import { network, service, task, until, write } from './dns-fixtures.ts'

const FRONT = 'netfront00000000000000001'
const BACK = 'netback000000000000000001'
const INGRESS = 'netingress000000000000001'

let running: ServiceResolver[] = []
afterEach(async () => {
  await Promise.all(running.map((r) => r.stop()))
  running = []
})

/** A store with networks front, back and ingress, after `fill`; and a started resolver on it. */
async function setup(fill: Parameters<MemoryStore['update']>[0] = () => {}): Promise<{ store: MemoryStore; resolver: ServiceResolver }> {
  const store = new MemoryStore({ clock: new ManualClock(1_700_000_000_000) })
  await store.update((tx) => {
    tx.networks.create(network(FRONT, 'front'))
    tx.networks.create(network(BACK, 'back'))
    tx.networks.create(network(INGRESS, 'ingress', { ingress: true }))
    fill(tx)
  })
  const resolver = new ServiceResolver({ store })
  resolver.start()
  running.push(resolver)
  return { store, resolver }
}

/** The addresses of a lookup's answers, sorted. */
function addrs(r: DnsLookupResult): string[] {
  return r.answers.map((a) => (a.type === 'SRV' ? `${a.target}:${a.port}` : a.address)).sort()
}

function ask(resolver: ServiceResolver, name: string, type: DnsQueryType, scope: DnsScope): { found: boolean; addrs: string[] } {
  const r = resolver.lookup(name, type, scope)
  return { found: r.found, addrs: addrs(r) }
}

const web = (shape: Parameters<typeof service>[2] = {}): ReturnType<typeof service> =>
  service('svcweb0000000000000000001', 'web', { networks: [{ target: 'front' }], vips: [{ networkId: FRONT, addr: '10.0.1.2/24' }], ...shape })

describe('service resolver: names', () => {
  it('answers a VIP service name with its VIP on the scope network, in any case and with a trailing dot, keeping the name as asked', async () => {
    const { resolver } = await setup((tx) => tx.services.create(web()))
    expect(resolver.lookup('web', 'A', [FRONT])).toEqual({
      found: true,
      answers: [{ type: 'A', name: 'web', ttl: DNS_VIP_TTL_SECONDS, address: '10.0.1.2' }],
      additionals: [],
    })
    expect(resolver.lookup('WeB.', 'A', ['front']).answers).toEqual([{ type: 'A', name: 'WeB', ttl: 600, address: '10.0.1.2' }])
  })

  it('answers only from the networks of the scope: NXDOMAIN where the service is not attached, NXDOMAIN for unknown names', async () => {
    const { resolver } = await setup((tx) => tx.services.create(web()))
    expect(ask(resolver, 'web', 'A', [BACK])).toEqual({ found: false, addrs: [] })
    expect(ask(resolver, 'web', 'A', [])).toEqual({ found: false, addrs: [] })
    expect(ask(resolver, 'web', 'A', ['no-such-network'])).toEqual({ found: false, addrs: [] })
    expect(ask(resolver, 'nosuch', 'A', [FRONT])).toEqual({ found: false, addrs: [] })
    expect(ask(resolver, 'web', 'A', 'all')).toEqual({ found: true, addrs: ['10.0.1.2'] })
  })

  it('gives a service on two networks one VIP per scope network it is attached to', async () => {
    const { resolver } = await setup((tx) =>
      tx.services.create(
        web({
          networks: [{ target: FRONT }, { target: 'back' }],
          vips: [
            { networkId: FRONT, addr: '10.0.1.2/24' },
            { networkId: BACK, addr: '10.0.2.2/24' },
          ],
        }),
      ),
    )
    expect(ask(resolver, 'web', 'A', [FRONT, BACK])).toEqual({ found: true, addrs: ['10.0.1.2', '10.0.2.2'] })
    expect(ask(resolver, 'web', 'A', ['back'])).toEqual({ found: true, addrs: ['10.0.2.2'] })
  })

  it('serves no names on the ingress network, even when it is in the scope', async () => {
    const { resolver } = await setup((tx) => {
      tx.services.create(web({ networks: [], vips: [{ networkId: INGRESS, addr: '10.0.0.2/24' }] }))
      tx.tasks.create(task('task000000000000000000001', 'svcweb0000000000000000001', 'web', 1, { [INGRESS]: ['10.0.0.5/24'] }))
    })
    expect(ask(resolver, 'web', 'A', [INGRESS])).toEqual({ found: false, addrs: [] })
    expect(ask(resolver, 'tasks.web', 'A', 'all')).toEqual({ found: false, addrs: [] })
  })

  it('answers tasks.<service> with the addresses of running tasks only (not starting, not asked to stop), with the short task TTL', async () => {
    const svc = 'svcweb0000000000000000001'
    const { resolver } = await setup((tx) => {
      tx.services.create(web())
      tx.tasks.create(task('task000000000000000000001', svc, 'web', 1, { [FRONT]: ['10.0.1.5/24'] }))
      tx.tasks.create(task('task000000000000000000002', svc, 'web', 2, { [FRONT]: ['10.0.1.6/24'] }))
      tx.tasks.create(task('task000000000000000000003', svc, 'web', 3, { [FRONT]: ['10.0.1.7/24'] }, { state: TaskState.STARTING }))
      tx.tasks.create(task('task000000000000000000004', svc, 'web', 4, { [FRONT]: ['10.0.1.8/24'] }, { desired: TaskState.SHUTDOWN }))
      tx.tasks.create(task('task000000000000000000005', svc, 'web', 5, { [BACK]: ['10.0.2.9/24'] }))
    })
    const r = resolver.lookup('tasks.web', 'A', [FRONT])
    expect(addrs(r)).toEqual(['10.0.1.5', '10.0.1.6'])
    expect(r.answers.map((a) => a.ttl)).toEqual([DNS_TASK_TTL_SECONDS, DNS_TASK_TTL_SECONDS])
    expect(ask(resolver, 'web', 'A', [FRONT])).toEqual({ found: true, addrs: ['10.0.1.2'] })
  })

  it('answers a DNSRR service name with its running tasks’ addresses, rotated by one from each answer to the next', async () => {
    const svc = 'svcdb00000000000000000001'
    const { resolver } = await setup((tx) => {
      tx.services.create(service(svc, 'db', { mode: 'dnsrr', networks: [{ target: FRONT }] }))
      for (let i = 1; i <= 3; i++) tx.tasks.create(task(`task00000000000000000000${i}`, svc, 'db', i, { [FRONT]: [`10.0.1.${10 + i}/24`] }))
    })
    const orders = [0, 1, 2, 3].map(() => resolver.lookup('db', 'A', [FRONT]).answers.map((a) => (a.type === 'A' ? a.address : '')))
    expect(orders).toEqual([
      ['10.0.1.11', '10.0.1.12', '10.0.1.13'],
      ['10.0.1.12', '10.0.1.13', '10.0.1.11'],
      ['10.0.1.13', '10.0.1.11', '10.0.1.12'],
      ['10.0.1.11', '10.0.1.12', '10.0.1.13'],
    ])
    expect(resolver.lookup('db', 'A', [FRONT]).answers[0]?.ttl).toBe(DNS_TASK_TTL_SECONDS)
  })

  it('resolves network aliases like the service name, on the network they are given for only, tasks.<alias> included', async () => {
    const svc = 'svcweb0000000000000000001'
    const { resolver } = await setup((tx) => {
      tx.services.create(
        web({
          networks: [{ target: 'front', aliases: ['www', 'Site'] }, { target: BACK }],
          vips: [
            { networkId: FRONT, addr: '10.0.1.2/24' },
            { networkId: BACK, addr: '10.0.2.2/24' },
          ],
        }),
      )
      tx.tasks.create(task('task000000000000000000001', svc, 'web', 1, { [FRONT]: ['10.0.1.5/24'], [BACK]: ['10.0.2.5/24'] }))
    })
    expect(ask(resolver, 'www', 'A', [FRONT, BACK])).toEqual({ found: true, addrs: ['10.0.1.2'] })
    expect(ask(resolver, 'site', 'A', [FRONT])).toEqual({ found: true, addrs: ['10.0.1.2'] })
    expect(ask(resolver, 'www', 'A', [BACK])).toEqual({ found: false, addrs: [] })
    expect(ask(resolver, 'tasks.www', 'A', [FRONT, BACK])).toEqual({ found: true, addrs: ['10.0.1.5'] })
  })

  it('restricts a name qualified by a network of the scope (<name>.<network>) to that network', async () => {
    const svc = 'svcweb0000000000000000001'
    const { resolver } = await setup((tx) => {
      tx.services.create(
        web({
          networks: [{ target: FRONT }, { target: BACK }],
          vips: [
            { networkId: FRONT, addr: '10.0.1.2/24' },
            { networkId: BACK, addr: '10.0.2.2/24' },
          ],
        }),
      )
      tx.tasks.create(task('task000000000000000000001', svc, 'web', 1, { [FRONT]: ['10.0.1.5/24'], [BACK]: ['10.0.2.5/24'] }))
    })
    expect(ask(resolver, 'web.back', 'A', [FRONT, BACK])).toEqual({ found: true, addrs: ['10.0.2.2'] })
    expect(ask(resolver, 'tasks.web.front.', 'A', [FRONT, BACK])).toEqual({ found: true, addrs: ['10.0.1.5'] })
    expect(ask(resolver, 'web.back', 'A', [FRONT])).toEqual({ found: false, addrs: [] })
  })

  it('resolves a task by its container name <service>.<slot>.<task id> while it runs, and a global task by <service>.<node id>.<task id>', async () => {
    const svc = 'svcweb0000000000000000001'
    const { resolver } = await setup((tx) => {
      tx.services.create(web())
      tx.tasks.create(task('task0a0000000000000000001', svc, 'web', 1, { [FRONT]: ['10.0.1.5/24'] }))
      tx.tasks.create(task('task0b0000000000000000001', svc, 'web', 0, { [FRONT]: ['10.0.1.6/24'] }, { nodeId: 'nodex' }))
      tx.tasks.create(task('task0c0000000000000000001', svc, 'web', 3, { [FRONT]: ['10.0.1.7/24'] }, { state: TaskState.FAILED, desired: TaskState.SHUTDOWN }))
    })
    expect(ask(resolver, 'web.1.task0a0000000000000000001', 'A', [FRONT])).toEqual({ found: true, addrs: ['10.0.1.5'] })
    expect(ask(resolver, 'WEB.nodex.task0b0000000000000000001', 'A', [FRONT])).toEqual({ found: true, addrs: ['10.0.1.6'] })
    expect(ask(resolver, 'web.3.task0c0000000000000000001', 'A', [FRONT])).toEqual({ found: true, addrs: [] })
    expect(ask(resolver, 'web.1.task0a0000000000000000001', 'A', [BACK])).toEqual({ found: false, addrs: [] })
  })

  it('answers AAAA with IPv6 addresses, and a name with no address of the family asked is found with no answers (NODATA)', async () => {
    const svc = 'svcweb0000000000000000001'
    const { resolver } = await setup((tx) => {
      tx.services.create(web({ vips: [{ networkId: FRONT, addr: '10.0.1.2/24' }, { networkId: FRONT, addr: 'fd00::2/64' }] }))
      tx.tasks.create(task('task000000000000000000001', svc, 'web', 1, { [FRONT]: ['10.0.1.5/24', 'fd00::5/64'] }))
      tx.services.create(service('svcv4only0000000000000001', 'v4only', { networks: [{ target: FRONT }], vips: [{ networkId: FRONT, addr: '10.0.1.3/24' }] }))
    })
    expect(ask(resolver, 'web', 'AAAA', [FRONT])).toEqual({ found: true, addrs: ['fd00::2'] })
    expect(ask(resolver, 'tasks.web', 'AAAA', [FRONT])).toEqual({ found: true, addrs: ['fd00::5'] })
    expect(ask(resolver, 'v4only', 'AAAA', [FRONT])).toEqual({ found: true, addrs: [] })
    expect(ask(resolver, 'web', 'SRV', [FRONT])).toEqual({ found: true, addrs: [] })
  })

  it('answers _<port>._<proto>.<service> with one SRV record per port of that name (target the service, port the target port), its VIP as additional', async () => {
    const ports = [
      { name: 'http', protocol: 'tcp', targetPort: 80, publishedPort: 30080 },
      { name: 'HTTP', protocol: 'tcp', targetPort: 8080, publishedPort: 30081 },
      { name: 'dns', protocol: 'udp', targetPort: 53, publishedPort: 30053 },
    ] as const
    const { resolver } = await setup((tx) => tx.services.create(web({ ports })))
    const r = resolver.lookup('_http._tcp.Web', 'SRV', [FRONT])
    expect(r).toEqual({
      found: true,
      answers: [
        { type: 'SRV', name: '_http._tcp.Web', ttl: 600, priority: 0, weight: 0, port: 80, target: 'Web' },
        { type: 'SRV', name: '_http._tcp.Web', ttl: 600, priority: 0, weight: 0, port: 8080, target: 'Web' },
      ],
      additionals: [{ type: 'A', name: 'Web', ttl: 600, address: '10.0.1.2' }],
    })
    expect(ask(resolver, '_dns._udp.web.front', 'SRV', [FRONT, BACK])).toEqual({ found: true, addrs: ['web.front:53'] })
    expect(ask(resolver, '_dns._tcp.web', 'SRV', [FRONT])).toEqual({ found: false, addrs: [] })
    expect(ask(resolver, '_http._tcp.web', 'A', [FRONT])).toEqual({ found: true, addrs: [] })
  })
})

describe('service resolver: live changes', () => {
  it('follows scaling: tasks.<service> gains a task once it runs and loses it once it stops; zero tasks is NODATA', async () => {
    const svc = 'svcweb0000000000000000001'
    const { store, resolver } = await setup((tx) => {
      tx.services.create(web())
      tx.tasks.create(task('task000000000000000000001', svc, 'web', 1, { [FRONT]: ['10.0.1.5/24'] }))
    })
    expect(ask(resolver, 'tasks.web', 'A', [FRONT]).addrs).toEqual(['10.0.1.5'])
    await write(store, resolver, (tx) => tx.tasks.create(task('task000000000000000000002', svc, 'web', 2, { [FRONT]: ['10.0.1.6/24'] }, { state: TaskState.STARTING })))
    expect(ask(resolver, 'tasks.web', 'A', [FRONT]).addrs).toEqual(['10.0.1.5'])
    await write(store, resolver, (tx) => tx.tasks.update('task000000000000000000002', (t) => void (t.status = { timestamp: 1, state: TaskState.RUNNING })))
    expect(ask(resolver, 'tasks.web', 'A', [FRONT]).addrs).toEqual(['10.0.1.5', '10.0.1.6'])
    await write(store, resolver, (tx) => tx.tasks.update('task000000000000000000001', (t) => void (t.desiredState = TaskState.SHUTDOWN)))
    expect(ask(resolver, 'tasks.web', 'A', [FRONT]).addrs).toEqual(['10.0.1.6'])
    await write(store, resolver, (tx) => tx.tasks.delete('task000000000000000000002'))
    expect(ask(resolver, 'tasks.web', 'A', [FRONT])).toEqual({ found: true, addrs: [] })
  })

  it('answers NXDOMAIN once a service is removed, and resolves a service whose network is created after it', async () => {
    const { store, resolver } = await setup((tx) => {
      tx.services.create(web())
      tx.services.create(service('svclate000000000000000001', 'late', { networks: [{ target: 'later' }] }))
    })
    expect(ask(resolver, 'late', 'A', ['later'])).toEqual({ found: false, addrs: [] })
    await write(store, resolver, (tx) => tx.networks.create(network('netlater00000000000000001', 'later')))
    expect(ask(resolver, 'late', 'A', ['later'])).toEqual({ found: true, addrs: [] })
    await write(store, resolver, (tx) => tx.services.delete('svcweb0000000000000000001'))
    expect(ask(resolver, 'web', 'A', [FRONT])).toEqual({ found: false, addrs: [] })
  })

  it('picks up a VIP the allocator writes after the service was created', async () => {
    const { store, resolver } = await setup((tx) => tx.services.create(web({ vips: [] })))
    expect(ask(resolver, 'web', 'A', [FRONT])).toEqual({ found: true, addrs: [] })
    await write(store, resolver, (tx) =>
      tx.services.update('svcweb0000000000000000001', (s) => {
        s.endpoint = { virtualIps: [{ networkId: FRONT, addr: '10.0.1.9/24' }] }
      }),
    )
    expect(ask(resolver, 'web', 'A', [FRONT])).toEqual({ found: true, addrs: ['10.0.1.9'] })
  })

  it('is not told of task updates that change no answer (status reports of a running task)', async () => {
    const svc = 'svcweb0000000000000000001'
    const { store, resolver } = await setup((tx) => {
      tx.services.create(web())
      tx.tasks.create(task('task000000000000000000001', svc, 'web', 1, { [FRONT]: ['10.0.1.5/24'] }))
    })
    let changes = 0
    resolver.onChange(() => changes++)
    await store.update((tx) => tx.tasks.update('task000000000000000000001', (t) => void (t.status = { timestamp: 2, state: TaskState.RUNNING, message: 'still up' })))
    await write(store, resolver, (tx) => tx.tasks.update('task000000000000000000001', (t) => void (t.desiredState = TaskState.SHUTDOWN)))
    expect(changes).toBe(1)
    await until(resolver, () => ask(resolver, 'tasks.web', 'A', [FRONT]).addrs.length === 0)
  })
})

describe('service resolver: options and lifecycle', () => {
  it('gives the TTLs it is configured with, rejects a bad TTL naming the field, and cannot start twice', async () => {
    const store = new MemoryStore({ clock: new ManualClock(1_700_000_000_000) })
    await store.update((tx) => {
      tx.networks.create(network(FRONT, 'front'))
      tx.services.create(web())
      tx.tasks.create(task('task000000000000000000001', 'svcweb0000000000000000001', 'web', 1, { [FRONT]: ['10.0.1.5/24'] }))
    })
    const resolver = new ServiceResolver({ store, ttls: { vip: 30, task: 0 } })
    resolver.start()
    running.push(resolver)
    expect(resolver.lookup('web', 'A', [FRONT]).answers.map((r) => r.ttl)).toEqual([30])
    expect(resolver.lookup('tasks.web', 'A', [FRONT]).answers.map((r) => r.ttl)).toEqual([0])
    expect(() => resolver.start()).toThrow(FailedPreconditionError)
    expect(() => new ServiceResolver({ store, ttls: { vip: -1 } })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'ttls.vip' }) as Error)
    expect(() => new ServiceResolver({ store, ttls: { task: 1.5 } })).toThrow(expect.objectContaining({ field: 'ttls.task' }) as Error)
  })
})
