import fc from 'fast-check'
import type { NodeSpec } from '@swarmkit-ts/api'
import { arbAnnotationsNamed, arbDnsLabel } from './primitives.ts'

/** A valid {@link NodeSpec}: the name is empty or a DNS label; role, membership and availability are known values. */
export function arbNodeSpec(): fc.Arbitrary<NodeSpec> {
  return fc
    .tuple(
      arbAnnotationsNamed(fc.oneof(fc.constant(''), arbDnsLabel())),
      fc.constantFrom('worker', 'manager'),
      fc.constantFrom('pending', 'accepted'),
      fc.constantFrom('active', 'pause', 'drain'),
    )
    .map(([annotations, desiredRole, membership, availability]): NodeSpec => ({ annotations, desiredRole, membership, availability }))
}
