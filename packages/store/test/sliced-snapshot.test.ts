/**
 * `MemoryStore.beginSnapshot`: a snapshot captured at one version and encoded a bounded slice at
 * a time gives exactly the bytes of `snapshot()` at that version, whatever is written meanwhile.
 */
import { OBJECT_KINDS, TaskState, sharedBytes } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryStore, StoreStateMachine } from '../src/index.ts'
import { SlicedSnapshot, decodeSnapshot } from '../src/snapshot.ts'
import { node, service, task, tid } from './fixtures.ts'

/** A write to the store: creates, updates and deletes over a few ids of three kinds. */
type Op =
  | { readonly op: 'service'; readonly i: number; readonly replicas: number }
  | { readonly op: 'task'; readonly i: number; readonly s: number; readonly state: number }
  | { readonly op: 'node'; readonly i: number }
  | { readonly op: 'delete'; readonly kind: 'service' | 'task' | 'node'; readonly i: number }

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('service' as const), i: fc.nat(5), replicas: fc.nat(9) }),
  fc.record({ op: fc.constant('task' as const), i: fc.nat(20), s: fc.nat(5), state: fc.nat(2) }),
  fc.record({ op: fc.constant('node' as const), i: fc.nat(3) }),
  fc.record({ op: fc.constant('delete' as const), kind: fc.constantFrom('service' as const, 'task' as const, 'node' as const), i: fc.nat(20) }),
)

const STATES = [TaskState.NEW, TaskState.ASSIGNED, TaskState.RUNNING]

/** Applies `op` (creating or updating, so every op writes something unless it deletes a missing object). */
async function write(store: MemoryStore, op: Op): Promise<void> {
  await store.update((tx) => {
    switch (op.op) {
      case 'service': {
        const id = tid('s', op.i)
        if (tx.services.get(id) === undefined) tx.services.create(service(id, `svc-${op.i}`))
        else tx.services.update(id, (d) => void (d.spec.mode = { replicated: { replicas: op.replicas } }))
        return
      }
      case 'task': {
        const id = tid('t', op.i)
        const state = STATES[op.state] ?? TaskState.NEW
        if (tx.tasks.get(id) === undefined) tx.tasks.create(task(id, tid('s', op.s), op.i, { state }))
        else tx.tasks.update(id, (d) => void (d.status = { timestamp: 0, state }))
        return
      }
      case 'node': {
        const id = tid('n', op.i)
        if (tx.nodes.get(id) === undefined) tx.nodes.create(node(id, `host-${op.i}`))
        else tx.nodes.update(id, (d) => void (d.spec.availability = d.spec.availability === 'active' ? 'drain' : 'active'))
        return
      }
      case 'delete': {
        const table = op.kind === 'service' ? tx.services : op.kind === 'task' ? tx.tasks : tx.nodes
        const id = tid(op.kind[0] as string, op.i)
        if (table.get(id) !== undefined) table.delete(id)
        return
      }
    }
  })
}

describe('MemoryStore.beginSnapshot', () => {
  it('gives the bytes of snapshot() at the capture, with writes interleaved between its slices (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbOp, { maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.array(arbOp, { maxLength: 3 }), { maxLength: 30 }),
        async (before, sliceObjects, between) => {
          const store = new MemoryStore()
          for (const op of before) await write(store, op)
          const expected = store.snapshot()
          const version = store.version
          const objects = decodeSnapshot(expected).objects.length
          const sliced = store.beginSnapshot({ sliceObjects })
          expect(sliced.version).toBe(version)
          let bytes: Uint8Array | undefined
          let steps = 0
          for (;;) {
            bytes = sliced.step()
            steps++
            if (bytes !== undefined) break
            // Writes between slices never reach the snapshot.
            for (const op of between[steps % Math.max(1, between.length)] ?? []) await write(store, op)
          }
          expect(bytes).toEqual(expected)
          // One step per slice of objects measured, then one per slice written (one step in all when empty).
          expect(steps).toBe(objects === 0 ? 1 : 2 * Math.ceil(objects / sliceObjects))
          // One array, of the snapshot's exact size.
          expect(bytes.byteOffset).toBe(0)
          expect(bytes.buffer.byteLength).toBe(bytes.length)
          expect(() => sliced.step()).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
        },
      ),
      { numRuns: 60 },
    )
  })

  it('measures, then writes, at most sliceObjects objects per step', async () => {
    const store = new MemoryStore()
    for (let i = 0; i < 10; i++) await write(store, { op: 'task', i, s: 0, state: 0 })
    for (let i = 0; i < 3; i++) await write(store, { op: 'node', i })
    const sliced = store.beginSnapshot({ sliceObjects: 4 })
    expect(sliced).toBeInstanceOf(SlicedSnapshot)
    const s = sliced as SlicedSnapshot
    expect(s.objects).toBe(13)
    const perStep: [number, number][] = []
    let last: [number, number] = [0, 0]
    let bytes: Uint8Array | undefined
    while ((bytes = s.step()) === undefined) {
      perStep.push([s.measured - last[0], s.encoded - last[1]])
      last = [s.measured, s.encoded]
    }
    // The step that discovers every object was measured writes the first slice.
    expect(perStep).toEqual([
      [4, 0],
      [4, 0],
      [4, 0],
      [1, 0],
      [0, 4],
      [0, 4],
      [0, 4],
    ])
    expect([s.measured, s.encoded]).toEqual([13, 13])
    expect(bytes).toEqual(store.snapshot())
    expect(() => s.step()).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
  })

  it('writes objects of every size, big ones included, in place', async () => {
    const store = new MemoryStore()
    // Bodies from a few bytes to past the 4 KiB and 16 KiB marks (where encoders switch to parts and pools their own arrays).
    for (let i = 0; i < 5; i++) await store.update((tx) => void tx.tasks.create(task(tid('t', i), tid('s', 0), i, { labels: { big: 'x'.repeat(i * 5_000) } })))
    for (let i = 0; i < 3; i++) await write(store, { op: 'service', i, replicas: i })
    const expected = store.snapshot()
    const tasks = store.view((tx) => tx.tasks.find())
    const services = store.view((tx) => tx.services.find())
    const sliced = new SlicedSnapshot(store.version, OBJECT_KINDS.map((k) => [k, k === 'task' ? tasks : k === 'service' ? services : []] as const), 3)
    let bytes: Uint8Array | undefined
    let steps = 1
    while ((bytes = sliced.step()) === undefined) steps++
    expect(bytes).toEqual(expected)
    expect(steps).toBe(2 * 3)
    const inOrder: readonly { readonly id: string }[] = OBJECT_KINDS.flatMap((k): readonly { readonly id: string }[] => (k === 'task' ? tasks : k === 'service' ? services : []))
    expect(decodeSnapshot(bytes).objects.map((o) => o.object.id)).toEqual(inOrder.map((o) => o.id))
  })

  it('is unaffected by a restore after the capture', async () => {
    const store = new MemoryStore()
    for (let i = 0; i < 5; i++) await write(store, { op: 'service', i, replicas: 1 })
    const expected = store.snapshot()
    const sliced = store.beginSnapshot({ sliceObjects: 2 })
    expect(sliced.step()).toBeUndefined()
    const other = new MemoryStore()
    await write(other, { op: 'node', i: 0 })
    store.restore(other.snapshot())
    let bytes: Uint8Array | undefined
    while ((bytes = sliced.step()) === undefined);
    expect(bytes).toEqual(expected)
    expect(store.snapshot()).toEqual(other.snapshot())
  })

  it('of an empty store: one step, the bytes of snapshot()', () => {
    const store = new MemoryStore({ version: 7n })
    expect(store.beginSnapshot().step()).toEqual(store.snapshot())
  })

  it('refuses a slice size that is not a positive integer', () => {
    const store = new MemoryStore()
    for (const sliceObjects of [0, -1, 1.5, Number.NaN]) {
      expect(() => store.beginSnapshot({ sliceObjects })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'sliceObjects' }))
    }
  })
})

describe('StoreStateMachine.beginSnapshot', () => {
  it('slices the store snapshot by snapshotSliceObjects', async () => {
    const store = new MemoryStore()
    for (let i = 0; i < 5; i++) await write(store, { op: 'task', i, s: 0, state: 0 })
    const sm = new StoreStateMachine(store, { snapshotSliceObjects: 2 })
    const expected = sm.snapshot()
    const sliced = sm.beginSnapshot()
    const results: (Uint8Array | readonly Uint8Array[] | undefined)[] = []
    for (let i = 0; i < 6; i++) results.push(sliced.step())
    // Three slices measured, three written.
    expect(results.slice(0, 5)).toEqual([undefined, undefined, undefined, undefined, undefined])
    expect(results[5]).toEqual(expected)
  })

  it("takes the snapshot's array from snapshotAlloc", async () => {
    const store = new MemoryStore()
    for (let i = 0; i < 5; i++) await write(store, { op: 'task', i, s: 0, state: 0 })
    const sizes: number[] = []
    const sm = new StoreStateMachine(store, {
      snapshotAlloc: (n) => {
        sizes.push(n)
        return sharedBytes(n)
      },
    })
    const expected = sm.snapshot()
    const sliced = sm.beginSnapshot()
    let bytes: Uint8Array | readonly Uint8Array[] | undefined
    while ((bytes = sliced.step()) === undefined);
    expect(bytes).toEqual(expected)
    expect((bytes as Uint8Array).buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(sizes).toEqual([expected.length])
  })

  it('encodes a store without beginSnapshot whole at the capture', () => {
    const bytes = new Uint8Array([1, 2, 3])
    let snapshots = 0
    const sm = new StoreStateMachine({
      applyChangeSet: () => ({ version: 1n, results: [] }),
      applyEncodedChangeSet: () => ({ version: 1n, results: [] }),
      snapshot: () => {
        snapshots++
        return bytes
      },
      restore: () => undefined,
    })
    const sliced = sm.beginSnapshot()
    expect(snapshots).toBe(1)
    expect(sliced.step()).toBe(bytes)
  })
})
