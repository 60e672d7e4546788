import { NodeAvailability, NodeState, TaskState, matchConstraints, parseConstraints } from '@swarmkit-ts/api'
import type { GenericResource, Node, Task, TaskSpec } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { normalizeArch } from '../src/scheduler/filters.ts'
import { NodeSet } from '../src/scheduler/node-info.ts'
import { placeGroup } from '../src/scheduler/placement.ts'
import { makeNode, makeTask, runningOn } from './helpers/scheduler-fixtures.ts'

const NOW = 1_700_000_000_000
const GB = 1024 ** 3

interface NodeCase {
  readonly cpus: number | undefined
  readonly gbs: number | undefined
  readonly zone: string | undefined
  readonly arch: string
  readonly availability: Node['spec']['availability']
  readonly ready: boolean
  readonly gpus: number
  readonly ssd: number
}

interface GroupCase {
  readonly cpus: number
  readonly gbs: number
  readonly constraint: string | undefined
  readonly spread: boolean
  readonly maxReplicas: number
  readonly arch: string | undefined
  readonly count: number
  readonly binpack: boolean
  readonly gpu: number
  readonly ssd: number
}

interface Case {
  readonly nodes: readonly NodeCase[]
  readonly existing: readonly { readonly node: number; readonly group: number }[]
  readonly groups: readonly GroupCase[]
}

const arbNode: fc.Arbitrary<NodeCase> = fc.record({
  cpus: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
  gbs: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
  zone: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
  arch: fc.constantFrom('x86_64', 'amd64', 'aarch64'),
  availability: fc.constantFrom(NodeAvailability.ACTIVE, NodeAvailability.ACTIVE, NodeAvailability.ACTIVE, NodeAvailability.PAUSE, NodeAvailability.DRAIN),
  ready: fc.constantFrom(true, true, true, true, false),
  gpus: fc.nat(2),
  ssd: fc.nat(3),
})

const arbGroup: fc.Arbitrary<GroupCase> = fc.record({
  cpus: fc.integer({ min: 0, max: 2 }),
  gbs: fc.integer({ min: 0, max: 2 }),
  constraint: fc.option(fc.constantFrom('node.labels.zone == a', 'node.labels.zone != b', 'node.platform.arch == aarch64'), { nil: undefined }),
  spread: fc.boolean(),
  maxReplicas: fc.integer({ min: 0, max: 3 }),
  arch: fc.option(fc.constantFrom('amd64', 'arm64', 'x86_64'), { nil: undefined }),
  count: fc.integer({ min: 1, max: 12 }),
  binpack: fc.boolean(),
  gpu: fc.nat(1),
  ssd: fc.nat(2),
})

const arbCase: fc.Arbitrary<Case> = fc.record({
  nodes: fc.array(arbNode, { minLength: 0, maxLength: 8 }),
  existing: fc.array(fc.record({ node: fc.nat(7), group: fc.nat(3) }), { maxLength: 6 }),
  groups: fc.array(arbGroup, { minLength: 1, maxLength: 4 }),
})

function nodeOf(c: NodeCase, i: number): Node {
  return makeNode(`n${String(i)}`, {
    ...(c.zone === undefined ? {} : { labels: { zone: c.zone } }),
    resources: {
      ...(c.cpus === undefined ? {} : { nanoCpus: c.cpus * 1e9 }),
      ...(c.gbs === undefined ? {} : { memoryBytes: c.gbs * GB }),
      generic: [
        ...Array.from({ length: c.gpus }, (_, g) => ({ kind: 'GPU', namedValue: `gpu${String(g)}` })),
        ...(c.ssd > 0 ? [{ kind: 'SSD', discreteValue: c.ssd }] : []),
      ],
    },
    platform: { os: 'linux', architecture: c.arch },
    availability: c.availability,
    state: c.ready ? NodeState.READY : NodeState.DOWN,
  })
}

function specOf(g: GroupCase): TaskSpec {
  return {
    container: { image: 'busybox' },
    resources: {
      reservations: {
        nanoCpus: g.cpus * 1e9,
        memoryBytes: g.gbs * GB,
        generic: [...(g.gpu > 0 ? [{ kind: 'GPU', discreteValue: g.gpu }] : []), ...(g.ssd > 0 ? [{ kind: 'SSD', discreteValue: g.ssd }] : [])],
      },
    },
    placement: {
      ...(g.constraint === undefined ? {} : { constraints: [g.constraint] }),
      ...(g.spread ? { preferences: [{ spread: { spreadDescriptor: 'node.labels.zone' } }] } : {}),
      maxReplicas: g.maxReplicas,
      ...(g.arch === undefined ? {} : { platforms: [{ os: 'linux', architecture: g.arch }] }),
    },
  }
}

/** Independent accounting: what each node holds (tasks with their specs). */
class Ledger {
  readonly byNode = new Map<string, Task[]>()
  readonly gpus = new Map<string, string[]>()
  readonly ssd = new Map<string, number>()
  assign(nodeId: string, generic: readonly GenericResource[]): void {
    for (const g of generic) {
      if ('namedValue' in g) this.gpus.set(nodeId, [...(this.gpus.get(nodeId) ?? []), g.namedValue])
      else this.ssd.set(nodeId, (this.ssd.get(nodeId) ?? 0) + g.discreteValue)
    }
  }
  add(task: Task, nodeId: string): void {
    const list = this.byNode.get(nodeId) ?? []
    list.push(task)
    this.byNode.set(nodeId, list)
  }
  used(nodeId: string): { cpu: number; mem: number } {
    let cpu = 0
    let mem = 0
    for (const t of this.byNode.get(nodeId) ?? []) {
      cpu += t.spec.resources?.reservations?.nanoCpus ?? 0
      mem += t.spec.resources?.reservations?.memoryBytes ?? 0
    }
    return { cpu, mem }
  }
  count(nodeId: string, serviceId: string): number {
    return (this.byNode.get(nodeId) ?? []).filter((t) => t.serviceId === serviceId).length
  }
}

/** Whether `node` may take one more task with `spec` of `serviceId`, judged from the ledger. */
function eligible(node: Node, spec: TaskSpec, serviceId: string, ledger: Ledger): boolean {
  if (node.status.state !== NodeState.READY || node.spec.availability !== NodeAvailability.ACTIVE) return false
  const { cpu, mem } = ledger.used(node.id)
  const r = spec.resources?.reservations
  if ((r?.nanoCpus ?? 0) > (node.description?.resources?.nanoCpus ?? 0) - cpu) return false
  if ((r?.memoryBytes ?? 0) > (node.description?.resources?.memoryBytes ?? 0) - mem) return false
  const constraints = spec.placement?.constraints ?? []
  if (constraints.length > 0 && !matchConstraints(parseConstraints(constraints), node)) return false
  const platforms = spec.placement?.platforms ?? []
  if (platforms.length > 0 && !platforms.some((p) => normalizeArch(p.architecture) === normalizeArch(node.description?.platform?.architecture))) return false
  const generic = node.description?.resources?.generic ?? []
  const gpuTotal = generic.filter((g) => g.kind === 'GPU').length
  const ssdTotal = generic.reduce((n, g) => n + (g.kind === 'SSD' && 'discreteValue' in g ? g.discreteValue : 0), 0)
  for (const g of r?.generic ?? []) {
    if ('namedValue' in g) continue
    if (g.kind === 'GPU' && g.discreteValue > gpuTotal - (ledger.gpus.get(node.id)?.length ?? 0)) return false
    if (g.kind === 'SSD' && g.discreteValue > ssdTotal - (ledger.ssd.get(node.id) ?? 0)) return false
  }
  const max = spec.placement?.maxReplicas ?? 0
  return max === 0 || ledger.count(node.id, serviceId) < max
}

function check(c: Case): void {
  const nodes = c.nodes.map(nodeOf)
  const ledger = new Ledger()
  const existing: Task[] = []
  c.existing.forEach((e, i) => {
    const node = nodes[e.node]
    const g = c.groups[e.group]
    if (node === undefined || g === undefined) return
    // Existing tasks reserve nothing (they may predate the node's resources being known).
    const t = runningOn(`x${String(i)}`, node.id, { serviceId: `s${String(e.group)}`, spec: { container: { image: 'busybox' } } })
    existing.push(t)
    ledger.add(t, node.id)
  })
  const set = NodeSet.from(nodes, existing)
  c.groups.forEach((g, gi) => {
    const serviceId = `s${String(gi)}`
    const spec = specOf(g)
    const tasks = Array.from({ length: g.count }, (_, i) => makeTask(`g${String(gi)}t${String(i)}`, { serviceId, spec }))
    const r = placeGroup(set, { tasks }, { strategy: g.binpack ? 'binpack' : 'spread', now: NOW })
    expect(r.placed.length + r.unplaced.size).toBe(g.count)
    const byId = new Map(tasks.map((t) => [t.id, t]))
    const receivedBranch = new Set<string>()
    for (const p of r.placed) {
      const node = nodes.find((n) => n.id === p.nodeId) as Node
      const task = byId.get(p.taskId) as Task
      // Each placement is legal against the ledger before it is added.
      expect(eligible(node, spec, serviceId, ledger)).toBe(true)
      ledger.add(task, node.id)
      ledger.assign(node.id, p.genericResources)
      expect(p.genericResources.filter((x) => x.kind === 'GPU').length).toBe(g.gpu)
      expect(p.genericResources.reduce((n, x) => n + ('discreteValue' in x ? x.discreteValue : 0), 0)).toBe(g.ssd)
      receivedBranch.add(node.spec.annotations.labels?.['zone'] ?? '')
    }
    // No node over its resources.
    for (const n of nodes) {
      const { cpu, mem } = ledger.used(n.id)
      expect(cpu).toBeLessThanOrEqual(n.description?.resources?.nanoCpus ?? 0)
      expect(mem).toBeLessThanOrEqual(n.description?.resources?.memoryBytes ?? 0)
      const gpus = ledger.gpus.get(n.id) ?? []
      const advertised = (n.description?.resources?.generic ?? []).flatMap((x) => ('namedValue' in x ? [x.namedValue] : []))
      expect(new Set(gpus).size).toBe(gpus.length)
      for (const v of gpus) expect(advertised).toContain(v)
      const ssd = (n.description?.resources?.generic ?? []).reduce((k, x) => k + ('discreteValue' in x ? x.discreteValue : 0), 0)
      expect(ledger.ssd.get(n.id) ?? 0).toBeLessThanOrEqual(ssd)
    }
    // An unplaced task truly has no eligible node.
    if (r.unplaced.size > 0) for (const n of nodes) expect(eligible(n, spec, serviceId, ledger)).toBe(false)
    // Spread: a branch that received a task is at most one above any branch that can still take one.
    if (g.spread) {
      const totals = new Map<string, number>()
      const open = new Set<string>()
      for (const n of nodes) {
        const z = n.spec.annotations.labels?.['zone'] ?? ''
        totals.set(z, (totals.get(z) ?? 0) + ledger.count(n.id, serviceId))
        if (eligible(n, spec, serviceId, ledger)) open.add(z)
      }
      for (const x of receivedBranch) for (const y of open) expect(totals.get(x) ?? 0).toBeLessThanOrEqual((totals.get(y) ?? 0) + 1)
    }
  })
}

describe('scheduler placement properties', () => {
  it('random nodes and services: no node over its resources (CPU, memory, GPUs by name, SSD amounts), filters and max replicas hold, unplaced tasks have no eligible node, spread branches even', () => {
    fc.assert(fc.property(arbCase, check), { numRuns: 600, seed: 15 })
  })
})

describe('scheduler placement: the fast path ranks as the full scan', () => {
  const arbOps = fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('group' as const), service: fc.nat(4), count: fc.integer({ min: 1, max: 6 }), gbs: fc.nat(2), zoneA: fc.boolean() }),
      fc.record({ kind: fc.constant('fail' as const), service: fc.nat(4), node: fc.nat(7), times: fc.integer({ min: 1, max: 6 }) }),
      fc.record({ kind: fc.constant('done' as const), pick: fc.nat(50) }),
      fc.record({ kind: fc.constant('drain' as const), node: fc.nat(7) }),
    ),
    { minLength: 1, maxLength: 12 },
  )

  it('placements are the same with no preference and with a preference no node has a label for', () => {
    fc.assert(
      fc.property(fc.array(arbNode, { minLength: 1, maxLength: 8 }), arbOps, (nodeCases, ops) => {
        const nodes = nodeCases.map(nodeOf)
        const run = (prefs: boolean): string[] => {
          const set = NodeSet.from(nodes, [])
          const log: string[] = []
          const placed: Task[] = []
          ops.forEach((op, oi) => {
            if (op.kind === 'fail') {
              const n = nodes[op.node]
              for (let i = 0; i < op.times && n !== undefined; i++) set.recordFailure(`s${String(op.service)}`, n.id, NOW - i)
            } else if (op.kind === 'done') {
              const t = placed[op.pick % Math.max(1, placed.length)]
              if (t !== undefined) set.applyTask({ ...t, status: { ...t.status, state: TaskState.COMPLETE } })
            } else if (op.kind === 'drain') {
              const n = nodes[op.node]
              if (n !== undefined) set.updateNode({ ...n, spec: { ...n.spec, availability: NodeAvailability.DRAIN } })
            } else {
              const serviceId = `s${String(op.service)}`
              const spec: TaskSpec = {
                container: { image: 'busybox' },
                resources: { reservations: { memoryBytes: op.gbs * GB } },
                placement: {
                  ...(op.zoneA ? { constraints: ['node.labels.zone == a'] } : {}),
                  ...(prefs ? { preferences: [{ spread: { spreadDescriptor: 'node.labels.nothing' } }] } : {}),
                },
              }
              const tasks = Array.from({ length: op.count }, (_, i) => makeTask(`o${String(oi)}t${String(i)}`, { serviceId, spec }))
              const r = placeGroup(set, { tasks }, { strategy: 'spread', now: NOW })
              for (const p of r.placed) {
                log.push(`${p.taskId}@${p.nodeId}`)
                const t = tasks.find((x) => x.id === p.taskId) as Task
                placed.push({ ...t, nodeId: p.nodeId, status: { ...t.status, state: TaskState.ASSIGNED } })
              }
              for (const [id, why] of r.unplaced) log.push(`${id}: ${why}`)
            }
          })
          return log
        }
        expect(run(false)).toEqual(run(true))
      }),
      { numRuns: 500, seed: 151 },
    )
  })
})
