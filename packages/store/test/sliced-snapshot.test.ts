/**
 * `MemoryStore.beginSnapshot`: a snapshot captured at one version and encoded a bounded slice at
 * a time gives exactly the bytes of `snapshot()` at that version, whatever is written meanwhile.
 */
import { OBJECT_KINDS, TaskState } from '@swarmkit-ts/api'
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
        fc.boolean(),
        async (before, sliceObjects, between, parts) => {
          const store = new MemoryStore()
          for (const op of before) await write(store, op)
          const expected = store.snapshot()
          const version = store.version
          const objects = decodeSnapshot(expected).objects.length
          // With `parts`, the last step gives the parts unjoined: their concatenation is the bytes.
          const sliced = store.beginSnapshot({ sliceObjects, parts })
          expect(sliced.version).toBe(version)
          let bytes: Uint8Array | readonly Uint8Array[] | undefined
          let steps = 0
          for (;;) {
            bytes = sliced.step()
            steps++
            if (bytes !== undefined) break
            // Writes between slices never reach the snapshot.
            for (const op of between[steps % Math.max(1, between.length)] ?? []) await write(store, op)
          }
          expect(bytes instanceof Uint8Array).toBe(!parts)
          expect(bytes instanceof Uint8Array ? bytes : Buffer.concat(bytes)).toEqual(parts ? Buffer.from(expected) : expected)
          // One step per slice of objects, then one that joins them (or, with parts, returns them).
          expect(steps).toBe(Math.ceil(objects / sliceObjects) + 1)
          expect(() => sliced.step()).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
        },
      ),
      { numRuns: 60 },
    )
  })

  it('encodes at most sliceObjects objects per step', async () => {
    const store = new MemoryStore()
    for (let i = 0; i < 10; i++) await write(store, { op: 'task', i, s: 0, state: 0 })
    for (let i = 0; i < 3; i++) await write(store, { op: 'node', i })
    const sliced = store.beginSnapshot({ sliceObjects: 4 })
    expect(sliced).toBeInstanceOf(SlicedSnapshot)
    const s = sliced as SlicedSnapshot
    expect(s.objects).toBe(13)
    const perStep: number[] = []
    let last = 0
    while (s.step() === undefined) {
      perStep.push(s.encoded - last)
      last = s.encoded
    }
    expect(perStep).toEqual([4, 4, 4, 1])
    expect(() => s.step()).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
  })

  it('joins the encoded parts into the snapshot in steps of about joinBytes', async () => {
    const store = new MemoryStore()
    // Objects above 4 KiB are parts of their own in the encoder: one part per task and one between.
    for (let i = 0; i < 5; i++) await store.update((tx) => void tx.tasks.create(task(tid('t', i), tid('s', 0), i, { labels: { big: 'x'.repeat(5_000 + i) } })))
    const expected = store.snapshot()
    const tasks = store.view((tx) => tx.tasks.find())
    const sliced = new SlicedSnapshot(store.version, OBJECT_KINDS.map((k) => [k, k === 'task' ? tasks : []] as const), 100, 1)
    let bytes: Uint8Array | undefined
    let steps = 1
    while ((bytes = sliced.step()) === undefined) steps++
    expect(bytes).toEqual(expected)
    // One step encodes the five tasks, then one part per step: each task's key and length (the
    // first with the snapshot's header), and each task's body.
    expect(steps).toBe(1 + 10)
    expect(() => new SlicedSnapshot(0n, [], 1, 0)).toThrow(expect.objectContaining({ field: 'joinBytes' }))
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
    for (let i = 0; i < 4; i++) results.push(sliced.step())
    expect(results.slice(0, 3)).toEqual([undefined, undefined, undefined])
    // The parts, unjoined, for the RaftNode to copy into its envelope.
    const last = results[3]
    expect(Array.isArray(last)).toBe(true)
    expect(Buffer.concat(last as readonly Uint8Array[])).toEqual(Buffer.from(expected))
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
