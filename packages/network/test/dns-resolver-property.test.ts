/**
 * Properties of the resolver's name tables: after any sequence of network, service and task
 * changes, applied one by one, every answer equals a naive oracle computed from the final
 * objects alone (so incremental upkeep never drifts from a rebuild), and answers never repeat an
 * address. And of the message layer: no byte string makes it throw, and every response it gives
 * carries the query's id and decodes.
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Meta, Network, Service, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import dnsPacket from 'dns-packet'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { answerQuery } from '../src/index.ts'
import { NameTable } from '../src/dns/resolver-table.ts'
import { network, service, task } from './dns-fixtures.ts'

const META: Meta = { version: { index: 1n }, createdAt: 0, updatedAt: 0 }
const NETS = ['neta0000000000000000000001', 'netb0000000000000000000001', 'netc0000000000000000000001'].map((id) => id.slice(0, 25))
const NET_NAMES = ['alpha', 'beta', 'ingress']
const SVC_NAMES = ['web', 'db', 'cache']
const ALIASES = ['www', 'db', 'store']
const SVC_IDS = SVC_NAMES.map((n) => `svc${n}`.padEnd(25, '0'))
const TASK_IDS = Array.from({ length: 8 }, (_, i) => `task${i}`.padEnd(25, '0'))

interface SvcShape {
  readonly dnsrr: boolean
  /** Per network index: attached (by id or by name), aliases, and whether it has a VIP there. */
  readonly nets: readonly { readonly attach: 'no' | 'id' | 'name'; readonly aliases: readonly number[]; readonly vip: boolean; readonly v6: boolean }[]
}
interface TaskShape {
  readonly svc: number
  readonly state: 'running' | 'starting' | 'stopping'
  readonly nets: readonly boolean[]
}
type Op =
  | { readonly kind: 'net'; readonly i: number; readonly put: boolean }
  | { readonly kind: 'svc'; readonly i: number; readonly put: boolean; readonly shape: SvcShape }
  | { readonly kind: 'task'; readonly i: number; readonly put: boolean; readonly shape: TaskShape }

const svcShape = fc.record({
  dnsrr: fc.boolean(),
  nets: fc.tuple(
    ...NETS.map(() =>
      fc.record({ attach: fc.constantFrom('no' as const, 'id' as const, 'name' as const), aliases: fc.subarray([0, 1, 2]), vip: fc.boolean(), v6: fc.boolean() }),
    ),
  ),
})
const taskShape = fc.record({
  svc: fc.nat(SVC_IDS.length - 1),
  state: fc.constantFrom('running' as const, 'starting' as const, 'stopping' as const),
  nets: fc.tuple(...NETS.map(() => fc.boolean())),
})
/** Mostly puts, so that the final state holds enough to answer. */
const put = fc.nat(3).map((n) => n > 0)
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('net' as const), i: fc.nat(NETS.length - 1), put }),
  fc.record({ kind: fc.constant('svc' as const), i: fc.nat(SVC_IDS.length - 1), put, shape: svcShape }),
  fc.record({ kind: fc.constant('task' as const), i: fc.nat(TASK_IDS.length - 1), put, shape: taskShape }),
)
/** Every object created first, then a run of changes. */
const history: fc.Arbitrary<Op[]> = fc
  .tuple(fc.tuple(...SVC_IDS.map(() => svcShape)), fc.tuple(...TASK_IDS.map(() => taskShape)), fc.array(op, { minLength: 5, maxLength: 60 }))
  .map(([svcs, tasks, rest]) => [
    ...NETS.map((_, i): Op => ({ kind: 'net', i, put: true })),
    ...svcs.map((shape, i): Op => ({ kind: 'svc', i, put: true, shape })),
    ...tasks.map((shape, i): Op => ({ kind: 'task', i, put: true, shape })),
    ...rest,
  ])

function netObj(i: number): Frozen<Network> {
  return { ...network(NETS[i]!, NET_NAMES[i]!, { ingress: i === 2 }), meta: META }
}
const vipOf = (s: number, n: number, v6: boolean): string => (v6 ? `fd0${n}::${s + 2}` : `10.${n}.0.${s + 2}`)
const taskIp = (t: number, n: number): string => `10.${n}.1.${t + 10}`
function svcObj(i: number, shape: SvcShape): Frozen<Service> {
  const networks = shape.nets.flatMap((n, k) =>
    n.attach === 'no' ? [] : [{ target: n.attach === 'id' ? NETS[k]! : NET_NAMES[k]!.toUpperCase(), aliases: n.aliases.map((a) => ALIASES[a]!) }],
  )
  const vips = shape.nets.flatMap((n, k) => (n.vip ? [{ networkId: NETS[k]!, addr: `${vipOf(i, k, n.v6)}/24` }] : []))
  return { ...service(SVC_IDS[i]!, SVC_NAMES[i]!, { mode: shape.dnsrr ? 'dnsrr' : 'vip', networks, vips }), meta: META }
}
function taskObj(i: number, shape: TaskShape): Frozen<Task> {
  const addresses = Object.fromEntries(shape.nets.flatMap((on, k) => (on ? [[NETS[k]!, [`${taskIp(i, k)}/24`]]] : [])))
  const state = shape.state === 'starting' ? TaskState.STARTING : TaskState.RUNNING
  const desired = shape.state === 'stopping' ? TaskState.SHUTDOWN : TaskState.RUNNING
  return { ...task(TASK_IDS[i]!, SVC_IDS[shape.svc]!, SVC_NAMES[shape.svc]!, i + 1, addresses, { state, desired }), meta: META }
}

/** The final objects, and a straightforward reading of the rules over them. */
class Model {
  readonly nets = new Map<number, true>()
  readonly svcs = new Map<number, SvcShape>()
  readonly tasks = new Map<number, TaskShape>()

  apply(o: Op): void {
    if (o.kind === 'net') {
      if (o.put) this.nets.set(o.i, true)
      else this.nets.delete(o.i)
    } else if (o.kind === 'svc') {
      if (o.put) this.svcs.set(o.i, o.shape)
      else this.svcs.delete(o.i)
    } else if (o.put) this.tasks.set(o.i, o.shape)
    else this.tasks.delete(o.i)
  }

  /** Found, and the set of addresses, for an unqualified name on networks `scope` (indexes). */
  answer(name: string, v6: boolean, scope: readonly number[]): { found: boolean; addrs: string[] } {
    const nets = scope.filter((n) => this.nets.has(n) && n !== 2)
    const tasksOf = name.startsWith('tasks.')
    const key = tasksOf ? name.slice(6) : name
    let found = false
    const out = new Set<string>()
    for (const [s, shape] of this.svcs) {
      for (const n of nets) {
        const att = shape.nets[n]!
        const attached = att.attach !== 'no' || att.vip
        const byName = SVC_NAMES[s] === key && attached
        const byAlias = att.attach !== 'no' && att.aliases.some((a) => ALIASES[a] === key)
        if (!byName && !byAlias) continue
        found = true
        if (!tasksOf && !shape.dnsrr) {
          if (att.vip && att.v6 === v6) out.add(vipOf(s, n, v6))
          continue
        }
        if (v6) continue
        for (const [t, ts] of this.tasks) if (ts.svc === s && ts.state === 'running' && ts.nets[n] === true) out.add(taskIp(t, n))
      }
    }
    return { found, addrs: [...out].sort() }
  }
}

const QUERIES = [...SVC_NAMES, ...ALIASES, ...SVC_NAMES.map((n) => `tasks.${n}`), ...ALIASES.map((a) => `tasks.${a}`), 'nosuch', 'tasks.nosuch']
const SCOPES = [[0], [1], [0, 1], [0, 1, 2], [2]]

describe('resolver tables: properties', () => {
  it('answer every name like an oracle over the final objects, after any sequence of changes, without repeating an address', () => {
    fc.assert(
      fc.property(history, (ops) => {
        const table = new NameTable({ vip: 600, task: 5 })
        const model = new Model()
        for (const o of ops) {
          model.apply(o)
          if (o.kind === 'net') {
            if (o.put) table.putNetwork(netObj(o.i))
            else table.removeNetwork(NETS[o.i]!)
          } else if (o.kind === 'svc') {
            if (o.put) table.putService(svcObj(o.i, o.shape))
            else table.removeService(SVC_IDS[o.i]!)
          } else if (o.put) table.putTask(taskObj(o.i, o.shape))
          else table.removeTask(TASK_IDS[o.i]!)
        }
        for (const name of QUERIES) {
          for (const scope of SCOPES) {
            for (const type of ['A', 'AAAA'] as const) {
              const got = table.lookup(name, type, scope.map((n) => NETS[n]!))
              const ips = got.answers.map((a) => (a.type === 'SRV' ? '' : a.address))
              expect(new Set(ips).size).toBe(ips.length)
              expect({ name, scope, type, found: got.found, addrs: [...ips].sort() }).toEqual({ name, scope, type, ...model.answer(name, type === 'AAAA', scope) })
            }
          }
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('dns messages: properties', () => {
  const lookup = { lookup: () => ({ found: true, answers: [{ type: 'A' as const, name: 'x', ttl: 5, address: '10.0.0.1' }], additionals: [] }) }

  it('never throw on any bytes, and every response carries the query id, QR set, and decodes', () => {
    const header = fc.uint8Array({ minLength: 12, maxLength: 12 })
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(header, fc.uint8Array({ maxLength: 64 })).map(([h, rest]) => new Uint8Array([...h, ...rest])),
      fc.tuple(fc.nat(0xffff), fc.stringMatching(/^[a-z]{1,10}(\.[a-z]{1,5}){0,2}$/), fc.nat(40)).map(([id, name, cut]) => {
        const q = dnsPacket.encode({ type: 'query', id, questions: [{ type: 'A', name }] })
        return new Uint8Array(q.subarray(0, Math.max(0, q.length - cut)))
      }),
    )
    fc.assert(
      fc.property(bytes, fc.constantFrom('udp' as const, 'tcp' as const), (raw, transport) => {
        const query = Buffer.from(raw)
        const res = answerQuery(query, lookup, 'all', transport)
        if (res === undefined) {
          expect(query.length < 3 || (query[2]! & 0x80) !== 0).toBe(true)
          return
        }
        expect(res.readUInt16BE(0)).toBe(query.readUInt16BE(0))
        expect(res[2]! & 0x80).toBe(0x80)
        expect(() => dnsPacket.decode(res)).not.toThrow()
      }),
      { numRuns: 2000 },
    )
  })
})
