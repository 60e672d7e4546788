/**
 * The random operations of the cluster property test, as data (so a failing case prints
 * readably), with their arbitraries and how each is applied to an {@link InProcessCluster}.
 *
 * @module
 */
import fc from 'fast-check'
import type { InProcessCluster } from './in-process-cluster.ts'
import { clusterServiceSpec, withEnv } from './in-process-cluster.ts'

/** One operation on the cluster. A `service` picks among the live services by index (modulo). */
export type ClusterOp =
  | { readonly op: 'create'; readonly replicas: number }
  | { readonly op: 'scale'; readonly service: number; readonly replicas: number }
  | { readonly op: 'update'; readonly service: number }
  | { readonly op: 'remove'; readonly service: number }
  | { readonly op: 'crash'; readonly node: number; readonly machine: boolean }
  | { readonly op: 'restart'; readonly node: number }
  | { readonly op: 'faults'; readonly node: number; readonly dropRate: number; readonly delayMs: number }
  | { readonly op: 'disconnect'; readonly node: number }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'leader' }

/** Sequences of 1..12 operations on a cluster of `nodes` nodes. */
export function arbOps(nodes: number): fc.Arbitrary<ClusterOp[]> {
  const node = fc.integer({ min: 0, max: nodes - 1 })
  const service = fc.nat({ max: 7 })
  const op: fc.Arbitrary<ClusterOp> = fc.oneof(
    fc.record({ op: fc.constant('create' as const), replicas: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ op: fc.constant('scale' as const), service, replicas: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ op: fc.constant('update' as const), service }),
    fc.record({ op: fc.constant('remove' as const), service }),
    fc.record({ op: fc.constant('crash' as const), node, machine: fc.boolean() }),
    fc.record({ op: fc.constant('restart' as const), node }),
    fc.record({ op: fc.constant('faults' as const), node, dropRate: fc.constantFrom(0, 0.05, 0.2), delayMs: fc.constantFrom(0, 20, 300) }),
    fc.record({ op: fc.constant('disconnect' as const), node }),
    fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(100, 1_000, 6_000, 20_000) }),
    fc.record({ op: fc.constant('leader' as const) }),
  )
  return fc.array(op, { minLength: 1, maxLength: 12 })
}

/** Applies `op` to `c`; `services` holds the live services' ids (updated by create and remove). */
export async function applyOp(c: InProcessCluster, services: string[], op: ClusterOp): Promise<void> {
  const pick = (i: number): string | undefined => (services.length === 0 ? undefined : services[i % services.length])
  switch (op.op) {
    case 'create': {
      const s = await c.createService(clusterServiceSpec(c.serviceName(), op.replicas))
      services.push(s.id)
      return
    }
    case 'scale': {
      const id = pick(op.service)
      if (id !== undefined) await c.scale(id, op.replicas)
      return
    }
    case 'update': {
      const id = pick(op.service)
      if (id !== undefined) await c.updateService(id, (spec) => withEnv(spec, [`V=${c.clock.now()}`]))
      return
    }
    case 'remove': {
      const id = pick(op.service)
      if (id === undefined) return
      await c.removeService(id)
      services.splice(services.indexOf(id), 1)
      return
    }
    case 'crash':
      return c.crashNode(op.node, { machine: op.machine })
    case 'restart':
      return c.restartNode(op.node)
    case 'faults':
      c.nodes[op.node]?.link.setFaults({ dropRate: op.dropRate, delayMs: op.delayMs })
      return c.settle()
    case 'disconnect':
      c.nodes[op.node]?.link.disconnect()
      return c.settle()
    case 'advance':
      return c.advance(op.ms)
    case 'leader':
      await c.stopManager()
      c.startManager()
      return c.settle()
  }
}
