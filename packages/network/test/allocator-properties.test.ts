/**
 * The allocator's invariants under random sequences of service create/update/delete, task
 * create/delete/death/shutdown, tasks moving on, and leader changes: no address twice on a network, no
 * published port twice, every PENDING task with an address on each of its networks, every
 * waiting task saying why, and — once settled — the allocator holding exactly what the store
 * records (nothing for deleted or dead objects). Failing sequences are kept in
 * `testdata/allocator-regressions.json` and replayed first.
 */
import { readFileSync } from 'node:fs'
import { TaskState } from '@swarmkit-ts/api'
import type { PortConfig, ServiceSpec } from '@swarmkit-ts/api'
import type { Draft } from '@swarmkit-ts/store'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { normalizePort } from '../src/allocator/ports.ts'
import { AllocatorFixture, fid, flush, serviceSpec } from './helpers/allocator-fixture.ts'
import type { ServiceOptions } from './helpers/allocator-fixture.ts'
import { heldAddresses, isLive, recordedAddresses, storeProblems } from './helpers/allocator-invariants.ts'

/** A service spec the sequences use. */
interface SpecChoice {
  readonly networks: readonly string[]
  readonly ports: readonly PortConfig[]
  readonly dnsrr: boolean
}

/** One step of a sequence. */
type Op =
  | { readonly op: 'create' | 'update'; readonly service: number; readonly spec: SpecChoice }
  | { readonly op: 'delete'; readonly service: number }
  /** Two existing services' specs replaced in one commit (their events arrive in that order). */
  | { readonly op: 'updateTwo'; readonly first: number; readonly second: number; readonly a: SpecChoice; readonly b: SpecChoice }
  | { readonly op: 'tasks'; readonly service: number; readonly count: number }
  | { readonly op: 'deleteTask' | 'killTask' | 'runTask' | 'stopTask'; readonly pick: number }
  | { readonly op: 'leader' }
  /** The network the specs call `nowhere` comes into being (without IPAM: the allocator gives it). */
  | { readonly op: 'network' }
  | { readonly op: 'flush'; readonly times: number }

const NETWORKS = ['n1', 'n2', 'tiny', 'nowhere']

const arbSpec: fc.Arbitrary<SpecChoice> = fc.record({
  networks: fc.uniqueArray(fc.constantFrom(...NETWORKS), { maxLength: 3 }),
  ports: fc.array(
    fc.record({
      targetPort: fc.integer({ min: 1, max: 3 }),
      publishedPort: fc.constantFrom(0, 0, 8080, 8081, 30000),
      protocol: fc.constantFrom('tcp' as const, 'udp' as const),
      publishMode: fc.constantFrom('ingress' as const, 'ingress' as const, 'host' as const),
    }),
    { maxLength: 2 },
  ),
  dnsrr: fc.constantFrom(false, false, false, false, true),
})

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('create' as const, 'update' as const), service: fc.integer({ min: 0, max: 3 }), spec: arbSpec }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), service: fc.integer({ min: 0, max: 3 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('updateTwo' as const), first: fc.integer({ min: 0, max: 3 }), second: fc.integer({ min: 0, max: 3 }), a: arbSpec, b: arbSpec }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('tasks' as const), service: fc.integer({ min: 0, max: 3 }), count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('deleteTask' as const, 'killTask' as const, 'runTask' as const, 'stopTask' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('leader' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('network' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('flush' as const), times: fc.integer({ min: 1, max: 3 }) }) },
)

function options(spec: SpecChoice): ServiceOptions {
  return { networks: spec.networks, ports: spec.ports, ...(spec.dnsrr && { mode: 'dnsrr' as const }) }
}

/** The published ports the store records, as the allocator's port snapshot lists them. */
function recordedPorts(f: AllocatorFixture): { ingress: [string, string][]; host: [string, string[]][] } {
  return f.store.view((tx) => {
    const ingress: [string, string][] = []
    const host = new Map<string, string[]>()
    for (const s of tx.services.find()) {
      for (const p of (s.endpoint?.ports ?? []).map(normalizePort)) {
        if (p.publishedPort === 0) continue
        const key = `${p.publishedPort}/${p.protocol}`
        if (p.publishMode === 'ingress') ingress.push([key, s.id])
        else host.set(key, [...(host.get(key) ?? []), s.id].sort())
      }
    }
    const order = (a: string, b: string): number => {
      const [pa, qa] = a.split('/') as [string, string]
      const [pb, qb] = b.split('/') as [string, string]
      return qa !== qb ? (qa < qb ? -1 : 1) : Number(pa) - Number(pb)
    }
    return { ingress: ingress.sort((a, b) => order(a[0], b[0])), host: [...host.entries()].sort((a, b) => order(a[0], b[0])) }
  })
}

async function run(ops: readonly Op[]): Promise<void> {
  const f = new AllocatorFixture({ bootstrapIngress: true })
  try {
    await f.addNetwork('n1', { subnet: '10.1.0.0/26' })
    await f.addNetwork('n2')
    await f.addNetwork('tiny', { subnet: '10.3.0.0/29' })
    f.start()
    const exists = new Set<number>()
    for (const o of ops) {
      switch (o.op) {
        case 'create':
        case 'update':
          if (exists.has(o.service)) await f.updateService(`s${o.service}`, options(o.spec))
          else await f.addService(`s${o.service}`, options(o.spec))
          exists.add(o.service)
          break
        case 'updateTwo': {
          if (o.first === o.second || !exists.has(o.first) || !exists.has(o.second)) break
          const specs: [number, SpecChoice][] = [
            [o.first, o.a],
            [o.second, o.b],
          ]
          await f.store.update((tx) => {
            for (const [i, spec] of specs) tx.services.update(fid(`svcs${i}`), (d) => void (d.spec = serviceSpec(`s${i}`, options(spec)) as Draft<ServiceSpec>))
          })
          break
        }
        case 'delete':
          if (exists.has(o.service)) await f.removeService(`s${o.service}`)
          exists.delete(o.service)
          break
        case 'tasks':
          if (exists.has(o.service)) await f.addTasks(`s${o.service}`, o.count)
          break
        case 'deleteTask':
        case 'killTask':
        case 'runTask':
        case 'stopTask': {
          const tasks = f.tasks()
          const t = tasks[o.pick % Math.max(1, tasks.length)]
          if (t === undefined) break
          if (o.op === 'deleteTask') await f.store.update((tx) => tx.tasks.delete(t.id))
          else if (o.op === 'killTask') {
            await f.updateTask(t.id, (d) => {
              d.status.state = TaskState.FAILED
              d.desiredState = TaskState.SHUTDOWN
            })
          } else if (o.op === 'stopTask') await f.updateTask(t.id, (d) => void (d.desiredState = TaskState.SHUTDOWN))
          else if (t.status.state === TaskState.PENDING) await f.updateTask(t.id, (d) => void (d.status.state = TaskState.RUNNING))
          break
        }
        case 'leader':
          await f.stop()
          f.allocator = f.newAllocator({ bootstrapIngress: true })
          f.start()
          break
        case 'network':
          if (f.store.view((tx) => tx.networks.find({ name: 'nowhere' }).length) === 0) await f.addNetwork('nowhere')
          break
        case 'flush':
          for (let i = 0; i < o.times; i++) await flush()
          break
      }
      // Never, not even before settling: an address or a port twice, a PENDING task missing an address.
      expect(storeProblems(f.store)).toEqual([])
    }
    await f.settle()
    expect(storeProblems(f.store)).toEqual([])
    expect(heldAddresses(f.allocator.snapshot())).toEqual(recordedAddresses(f.store))
    expect(f.allocator.snapshot()?.ports).toEqual(recordedPorts(f))
    // Every task still waiting says why (unless its service is gone: the orchestrator removes it).
    const waiting = f.store.view((tx) =>
      tx.tasks.find().filter((t) => isLive(t) && t.status.state === TaskState.NEW && tx.services.get(t.serviceId) !== undefined),
    )
    for (const t of waiting) expect(t.status.err ?? '').not.toBe('')
    // A new leader holds the same, and finds nothing to do (nothing was left waiting that could go).
    const before = f.allocator.snapshot()
    await f.stop()
    const version = f.store.version
    f.allocator = f.newAllocator()
    f.start()
    await f.settle()
    expect(f.allocator.snapshot()).toEqual(before)
    expect(f.store.version).toBe(version)
  } finally {
    await f.stop()
  }
}

const regressions = JSON.parse(readFileSync(new URL('./testdata/allocator-regressions.json', import.meta.url), 'utf8')) as { name: string; ops: Op[] }[]

describe('NetworkAllocator properties', () => {
  for (const r of regressions) {
    it(`regression: ${r.name}`, async () => {
      await run(r.ops)
    })
  }

  it('keeps its invariants under random service, task and leader changes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbOp, { minLength: 1, maxLength: 30 }), async (ops) => {
        await run(ops)
      }),
      { numRuns: 200 },
    )
  }, 120_000)

  it('the checker can fail: a duplicated address is reported', async () => {
    const f = new AllocatorFixture()
    await f.addNetwork('n1', { subnet: '10.1.0.0/26' })
    await f.addService('s', { networks: ['n1'] })
    const [a, b] = await f.addTasks('s', 2)
    for (const id of [a, b] as string[]) {
      await f.updateTask(id, (d) => {
        d.networks = [{ networkId: fid('netn1'), addresses: ['10.1.0.9/26'] }]
        d.status.state = TaskState.PENDING
      })
    }
    expect(storeProblems(f.store)).toEqual([`10.1.0.9 on ${fid('netn1')} held by task ${a} and task ${b}`])
  })
})
