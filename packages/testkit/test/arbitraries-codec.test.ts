import { decodeObject, decodeSpec, decodeStoreEvent, encodeObject, encodeSpec, encodeStoreEvent, OBJECT_KINDS } from '@swarmkit-ts/api'
import type { SpecKind, SpecKinds } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  arbClusterSpec,
  arbConfigSpec,
  arbNetworkSpec,
  arbNodeSpec,
  arbObject,
  arbSecretSpec,
  arbServiceSpec,
  arbStoreEvent,
} from '../src/index.ts'

const RUNS = { numRuns: 1000 }

// Byte arrays compare with Buffer.compare (the generic deep equality takes seconds on the
// ~500 KiB payloads the secret and config arbitraries sometimes produce); classes must match too.
expect.addEqualityTesters([
  (a: unknown, b: unknown): boolean | undefined => {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) return undefined
    return Object.getPrototypeOf(a) === Object.getPrototypeOf(b) && Buffer.compare(a, b) === 0
  },
])

const SPEC_ARBITRARIES: { [K in SpecKind]: () => fc.Arbitrary<SpecKinds[K]> } = {
  service: () => arbServiceSpec(),
  node: arbNodeSpec,
  network: arbNetworkSpec,
  cluster: arbClusterSpec,
  secret: arbSecretSpec,
  config: arbConfigSpec,
}

function roundTripSpec<K extends SpecKind>(kind: K): void {
  fc.assert(
    fc.property(SPEC_ARBITRARIES[kind](), (spec) => {
      expect(decodeSpec(kind, encodeSpec(kind, spec))).toStrictEqual(spec)
    }),
    RUNS,
  )
}

describe('the codec round-trips every arbitrary value exactly', { timeout: 120_000 }, () => {
  for (const kind of OBJECT_KINDS) {
    it(`object ${kind}`, () => {
      fc.assert(
        fc.property(arbObject(kind), (obj) => {
          expect(decodeObject(kind, encodeObject(kind, obj))).toStrictEqual(obj)
        }),
        RUNS,
      )
    })
  }
  for (const kind of Object.keys(SPEC_ARBITRARIES) as SpecKind[]) {
    it(`spec ${kind}`, () => roundTripSpec(kind))
  }
  it('store events', () => {
    fc.assert(
      fc.property(arbStoreEvent(), (ev) => {
        expect(decodeStoreEvent(encodeStoreEvent(ev))).toStrictEqual(ev)
      }),
      RUNS,
    )
  })
})
