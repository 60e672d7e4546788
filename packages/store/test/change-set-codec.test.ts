import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { OBJECT_KINDS, encodeObject } from '@swarmkit-ts/api'
import type { Secret, StoreObject, Task } from '@swarmkit-ts/api'
import { arbAnyObject, arbId, arbObject, arbUint64 } from '@swarmkit-ts/testkit'
import { decodeChangeSet, encodeChangeSet } from '../src/replication/change-set-codec.ts'
import type { ChangeSet, StoreAction } from '../src/proposer.ts'

const ID = 'abcdefghijklmnopqrstuvwxy'

const secret: Secret = {
  id: ID,
  meta: { version: { index: 7n }, createdAt: 1_700_000_000_000, updatedAt: 1_700_000_000_001 },
  spec: { annotations: { name: 'db-password' }, data: Uint8Array.of(1, 2, 3) },
}

const task = {
  id: 'zyxwvutsrqponmlkjihgfedcb',
  meta: { version: { index: 3n }, createdAt: 5, updatedAt: 6 },
  spec: { container: { image: 'busybox:latest', command: ['sleep', '100'] } },
  serviceId: ID,
  slot: 1,
  nodeId: '',
  annotations: { name: 'web.1' },
  serviceAnnotations: { name: 'web' },
  status: { timestamp: 5, state: 512 },
  desiredState: 512,
} as unknown as Task

const invalid = (field: string): unknown => expect.objectContaining({ name: 'InvalidArgumentError', field })

/** A protobuf varint. */
function varint(n: bigint): number[] {
  const out: number[] = []
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80)
    n >>= 7n
  }
  out.push(Number(n))
  return out
}

/** Frames an action body inside one transaction of a change set. */
function frame(actionBody: readonly number[]): Uint8Array {
  const tx = [0x0a, ...varint(BigInt(actionBody.length)), ...actionBody]
  return Uint8Array.from([0x0a, ...varint(BigInt(tx.length)), ...tx])
}

const bytesField = (field: number, bytes: ArrayLike<number>): number[] => [(field << 3) | 2, ...varint(BigInt(bytes.length)), ...Array.from(bytes)]

function arbAction(): fc.Arbitrary<StoreAction> {
  const create = arbAnyObject().map(({ kind, object }): StoreAction => ({ action: 'create', kind, object }))
  const update = fc.tuple(arbAnyObject(), arbUint64()).map(([{ kind, object }, expectedVersion]): StoreAction => ({ action: 'update', kind, object, expectedVersion }))
  const del = fc
    .tuple(fc.constantFrom(...OBJECT_KINDS), fc.oneof(arbId(), fc.string({ unit: 'grapheme' })), arbUint64())
    .map(([kind, id, expectedVersion]): StoreAction => ({ action: 'delete', kind, id, expectedVersion }))
  return fc.oneof(create, update, del)
}

function arbChangeSet(): fc.Arbitrary<ChangeSet> {
  return fc.array(fc.array(arbAction(), { maxLength: 3 }), { maxLength: 3 }).map((transactions) => ({ transactions }))
}

describe('encodeChangeSet / decodeChangeSet', () => {
  it('round-trips every action shape, empty transactions and an empty change set', () => {
    const cs: ChangeSet = {
      transactions: [
        [
          { action: 'create', kind: 'secret', object: secret },
          { action: 'update', kind: 'task', object: task, expectedVersion: 3n },
        ],
        [],
        [{ action: 'delete', kind: 'node', id: ID, expectedVersion: 0n }],
      ],
    }
    expect(decodeChangeSet(encodeChangeSet(cs))).toStrictEqual(cs)
    expect(encodeChangeSet({ transactions: [] })).toStrictEqual(new Uint8Array(0))
    expect(decodeChangeSet(new Uint8Array(0))).toStrictEqual({ transactions: [] })
    expect(decodeChangeSet(encodeChangeSet({ transactions: [[]] }))).toStrictEqual({ transactions: [[]] })
  })

  it('writes the documented protobuf layout', () => {
    const bytes = encodeChangeSet({ transactions: [[{ action: 'delete', kind: 'service', id: 'ab', expectedVersion: 300n }]] })
    // ChangeSet.transactions (len 13) → Transaction.actions (len 11) → action=3, kind=2, id="ab", expected_version=300
    expect([...bytes]).toStrictEqual([0x0a, 13, 0x0a, 11, 0x08, 3, 0x10, 2, 0x22, 2, 0x61, 0x62, 0x28, 0xac, 0x02])
    const object = encodeObject('secret', secret)
    const create = encodeChangeSet({ transactions: [[{ action: 'create', kind: 'secret', object: secret }]] })
    expect([...create]).toStrictEqual([...frame([0x08, 1, 0x10, 6, ...bytesField(3, object)])])
  })

  it('keeps expectedVersion exact over 0..2^64-1', () => {
    const edges = [0n, 1n, 127n, 128n, 2n ** 49n - 1n, 2n ** 49n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 2n, 2n ** 64n - 1n]
    for (const v of edges) {
      const cs: ChangeSet = { transactions: [[{ action: 'delete', kind: 'task', id: ID, expectedVersion: v }, { action: 'update', kind: 'secret', object: secret, expectedVersion: v }]] }
      expect(decodeChangeSet(encodeChangeSet(cs))).toStrictEqual(cs)
    }
  })

  it('round-trips any change set (property)', () => {
    fc.assert(
      fc.property(arbChangeSet(), (cs) => {
        expect(decodeChangeSet(encodeChangeSet(cs))).toStrictEqual(cs)
      }),
      { numRuns: 120 },
    )
  }, 60_000)

  it('round-trips an object of every kind', () => {
    for (const kind of OBJECT_KINDS) {
      fc.assert(
        fc.property(arbObject(kind), (object: StoreObject) => {
          const cs: ChangeSet = { transactions: [[{ action: 'create', kind, object }]] }
          expect(decodeChangeSet(encodeChangeSet(cs))).toStrictEqual(cs)
        }),
        { numRuns: 20 },
      )
    }
  }, 60_000)

  it('never throws anything but InvalidArgumentError on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeChangeSet(bytes)
        } catch (err) {
          expect(err).toMatchObject({ name: 'InvalidArgumentError' })
        }
      }),
      { numRuns: 500 },
    )
  })

  it('refuses every proper prefix of an encoding', () => {
    const bytes = encodeChangeSet({ transactions: [[{ action: 'update', kind: 'task', object: task, expectedVersion: 2n ** 64n - 1n }]] })
    for (let n = 1; n < bytes.length; n++) {
      expect(() => decodeChangeSet(bytes.subarray(0, n))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
    }
  })
})

describe('encodeChangeSet bad input', () => {
  const enc = (cs: unknown): Uint8Array => encodeChangeSet(cs as ChangeSet)
  const tx = (action: unknown): unknown => ({ transactions: [[{ action: 'delete', kind: 'task', id: ID, expectedVersion: 1n }, action]] })

  it('names each offending field', () => {
    expect(() => enc(null)).toThrow(invalid(''))
    expect(() => enc({})).toThrow(invalid('transactions'))
    expect(() => enc({ transactions: [{}] })).toThrow(invalid('transactions[0]'))
    expect(() => enc(tx('create'))).toThrow(invalid('transactions[0][1]'))
    expect(() => enc(tx({ action: 'upsert', kind: 'task', object: task }))).toThrow(invalid('transactions[0][1].action'))
    expect(() => enc(tx({ action: 'create', kind: 'widget', object: task }))).toThrow(invalid('transactions[0][1].kind'))
    expect(() => enc(tx({ action: 'create', kind: 'task' }))).toThrow(invalid('transactions[0][1].object'))
    expect(() => enc(tx({ action: 'create', kind: 'task', object: task, expectedVersion: 1n }))).toThrow(invalid('transactions[0][1].expectedVersion'))
    expect(() => enc(tx({ action: 'update', kind: 'task', object: task }))).toThrow(invalid('transactions[0][1].expectedVersion'))
    expect(() => enc(tx({ action: 'update', kind: 'task', object: task, expectedVersion: 1 }))).toThrow(invalid('transactions[0][1].expectedVersion'))
    expect(() => enc(tx({ action: 'update', kind: 'task', object: task, expectedVersion: -1n }))).toThrow(invalid('transactions[0][1].expectedVersion'))
    expect(() => enc(tx({ action: 'update', kind: 'task', object: task, expectedVersion: 2n ** 64n }))).toThrow(invalid('transactions[0][1].expectedVersion'))
    expect(() => enc(tx({ action: 'update', kind: 'task', object: task, id: ID, expectedVersion: 1n }))).toThrow(invalid('transactions[0][1].id'))
    expect(() => enc(tx({ action: 'delete', kind: 'task', expectedVersion: 1n }))).toThrow(invalid('transactions[0][1].id'))
    expect(() => enc(tx({ action: 'delete', kind: 'task', id: ID, object: task, expectedVersion: 1n }))).toThrow(invalid('transactions[0][1].object'))
  })

  it('names the field inside a bad object', () => {
    const bad = { ...task, meta: { ...task.meta, version: { index: -1n } } }
    expect(() => enc(tx({ action: 'create', kind: 'task', object: bad }))).toThrow(invalid('transactions[0][1].object.meta.version.index'))
    // A secret passed as a task: the task codec refuses the secret's fields.
    expect(() => enc(tx({ action: 'create', kind: 'task', object: secret }))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: expect.stringMatching(/^transactions\[0\]\[1\]\.object/) as unknown }))
  })
})

describe('decodeChangeSet bad input', () => {
  const header = [0x08, 2, 0x10, 3] // update, task
  const taskBytes = encodeObject('task', task)

  it('refuses a value that is not bytes', () => {
    expect(() => decodeChangeSet('abc' as unknown as Uint8Array)).toThrow(invalid(''))
  })

  it('names the framing level that is broken', () => {
    expect(() => decodeChangeSet(Uint8Array.of(0x12, 0))).toThrow(invalid(''))
    expect(() => decodeChangeSet(Uint8Array.of(0x08, 0))).toThrow(invalid('transactions[0]'))
    expect(() => decodeChangeSet(Uint8Array.of(0x0a, 5, 0x0a))).toThrow(invalid('transactions[0]'))
    expect(() => decodeChangeSet(Uint8Array.of(0x0a, 2, 0x12, 0))).toThrow(invalid('transactions[0]'))
    expect(() => decodeChangeSet(Uint8Array.of(0x0a, 2, 0x0a, 1))).toThrow(invalid('transactions[0][0]'))
    expect(() => decodeChangeSet(Uint8Array.of(0x0a, 0x80))).toThrow(invalid('transactions[0]'))
    expect(() => decodeChangeSet(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x0f))).toThrow(invalid(''))
  })

  it('names the offending field of an action', () => {
    const v = [0x28, 5]
    expect(() => decodeChangeSet(frame([0x10, 3, ...bytesField(3, taskBytes), ...v]))).toThrow(invalid('transactions[0][0].action'))
    expect(() => decodeChangeSet(frame([0x08, 9, 0x10, 3]))).toThrow(invalid('transactions[0][0].action'))
    expect(() => decodeChangeSet(frame([0x08, 2, ...bytesField(3, taskBytes), ...v]))).toThrow(invalid('transactions[0][0].kind'))
    expect(() => decodeChangeSet(frame([0x08, 2, 0x10, 10, ...bytesField(3, taskBytes), ...v]))).toThrow(invalid('transactions[0][0].kind'))
    expect(() => decodeChangeSet(frame([...header, ...v]))).toThrow(invalid('transactions[0][0].object'))
    expect(() => decodeChangeSet(frame([...header, ...bytesField(3, taskBytes)]))).toThrow(invalid('transactions[0][0].expectedVersion'))
    expect(() => decodeChangeSet(frame([0x08, 1, 0x10, 3, ...bytesField(3, taskBytes), ...v]))).toThrow(invalid('transactions[0][0].expectedVersion'))
    expect(() => decodeChangeSet(frame([...header, ...bytesField(3, taskBytes), ...bytesField(4, [0x61]), ...v]))).toThrow(invalid('transactions[0][0].id'))
    expect(() => decodeChangeSet(frame([0x08, 3, 0x10, 3, ...v]))).toThrow(invalid('transactions[0][0].id'))
    expect(() => decodeChangeSet(frame([0x08, 3, 0x10, 3, ...bytesField(4, [0xff]), ...v]))).toThrow(invalid('transactions[0][0].id'))
    expect(() => decodeChangeSet(frame([0x08, 3, 0x10, 3, ...bytesField(4, [0x61]), ...bytesField(3, taskBytes), ...v]))).toThrow(invalid('transactions[0][0].object'))
    expect(() => decodeChangeSet(frame([...header, 0x10, 3, ...bytesField(3, taskBytes), ...v]))).toThrow(invalid('transactions[0][0].kind'))
    expect(() => decodeChangeSet(frame([...header, 0x18, 1]))).toThrow(invalid('transactions[0][0].object'))
    expect(() => decodeChangeSet(frame([...header, 0x30, 1]))).toThrow(invalid('transactions[0][0]'))
  })

  it('refuses a version beyond 2^64-1 or longer than 10 bytes', () => {
    const body = (version: readonly number[]): Uint8Array => frame([0x08, 3, 0x10, 3, ...bytesField(4, [0x61]), 0x28, ...version])
    expect(decodeChangeSet(body(varint(2n ** 64n - 1n)))).toStrictEqual({ transactions: [[{ action: 'delete', kind: 'task', id: 'a', expectedVersion: 2n ** 64n - 1n }]] })
    expect(() => decodeChangeSet(body(varint(2n ** 64n)))).toThrow(invalid('transactions[0][0].expectedVersion'))
    expect(() => decodeChangeSet(body([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]))).toThrow(invalid('transactions[0][0].expectedVersion'))
  })

  it('names the field inside a malformed object', () => {
    const broken = bytesField(3, [0x0a, 0x05, 0x61]) // Task.id claims 5 bytes, has 1
    expect(() => decodeChangeSet(frame([0x08, 1, 0x10, 3, ...broken]))).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: expect.stringMatching(/^transactions\[0\]\[0\]\.object/) as unknown }),
    )
  })
})
