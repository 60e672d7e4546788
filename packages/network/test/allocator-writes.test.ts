import { SequenceConflictError, TaskState, silentLogger } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import type { MemoryStoreInit, Tx } from '@swarmkit-ts/store'
import { ManualClock } from '@swarmkit-ts/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { ALLOCATOR_WRITES_PER_TRANSACTION, applyAllocatorWrites } from '../src/allocator/writes.ts'
import type { AllocatorWrite } from '../src/allocator/writes.ts'
import { AllocatorFixture, fid, flush, newTask } from './helpers/allocator-fixture.ts'
import { heldAddresses, recordedAddresses } from './helpers/allocator-invariants.ts'

/** A write that records what happened to it (and writes a network when it says it wrote). */
function probe(result: boolean | 'throw', log: string[], name: string, txs?: Set<Tx>): AllocatorWrite {
  return {
    apply: (tx) => {
      txs?.add(tx)
      if (result === 'throw') throw new Error('boom')
      if (result) tx.networks.create({ id: fid(`net${name}`), spec: { annotations: { name } } })
      return result
    },
    undo: () => void log.push(`undo ${name}`),
  }
}

describe('applyAllocatorWrites', () => {
  it('undoes the writes that did not write or threw, and keeps the others', async () => {
    const store = new MemoryStore({ clock: new ManualClock(0) })
    const log: string[] = []
    await applyAllocatorWrites(store, [probe(true, log, 'a'), probe(false, log, 'b'), probe('throw', log, 'c'), probe(true, log, 'd')], silentLogger)
    expect(log).toEqual(['undo b', 'undo c'])
  })

  it(`puts at most ${ALLOCATOR_WRITES_PER_TRANSACTION} writes in one transaction`, async () => {
    const store = new MemoryStore({ clock: new ManualClock(0) })
    const txs = new Set<Tx>()
    await applyAllocatorWrites(store, Array.from({ length: 250 }, (_, i) => probe(true, [], `w${i}`, txs)), silentLogger)
    expect(txs.size).toBe(3)
    expect(store.view((tx) => tx.networks.find().length)).toBe(250)
  })

  it('undoes the writes of a transaction that fails when applied, counting only transactions that write', async () => {
    // A proposer that applies a change set but the second of its transactions, reported failed
    // (as a conflicting write from elsewhere would make it).
    const proposer: MemoryStoreInit['proposer'] = (s) => ({
      propose: (changes, local) => {
        if (changes.transactions.length < 2) return Promise.resolve(s.applyChangeSet(changes, s.version + 1n, local))
        const r = s.applyChangeSet({ transactions: changes.transactions.filter((_, i) => i !== 1) }, s.version + 1n)
        const failed = { ok: false as const, error: new SequenceConflictError('network', 'x') }
        return Promise.resolve({ version: r.version, results: [...r.results.slice(0, 1), failed, ...r.results.slice(1)] })
      },
    })
    const store = new MemoryStore({ clock: new ManualClock(0), proposer })
    const log: string[] = []
    const n = ALLOCATOR_WRITES_PER_TRANSACTION
    // Transaction 1 writes nothing (the store does not count it); 2 and 3 go out together and 3 fails; 4 applies.
    const none = Array.from({ length: n }, (_, i) => probe(false, [], `n${i}`))
    const applied = Array.from({ length: n }, (_, i) => probe(true, log, `a${i}`))
    const failing = Array.from({ length: n }, (_, i) => probe(true, log, `f${i}`))
    await applyAllocatorWrites(store, [...none, ...applied, ...failing, probe(true, log, 'last')], silentLogger)
    expect(log).toEqual(failing.map((_, i) => `undo f${i}`))
    expect(store.view((tx) => tx.networks.find().length)).toBe(n + 1)
  })

  it('undoes every write when the proposal fails (leadership lost)', async () => {
    const proposer: MemoryStoreInit['proposer'] = { propose: () => Promise.reject(new Error('not the leader')) }
    const store = new MemoryStore({ clock: new ManualClock(0), proposer })
    const log: string[] = []
    await applyAllocatorWrites(store, [probe(true, log, 'a'), probe(false, log, 'b')], silentLogger)
    expect(log.sort()).toEqual(['undo a', 'undo b'])
  })
})

/**
 * A proposer that can hold one proposal: `holdAfter(n)` lets `n` proposals through and holds the
 * next one until `release()`.
 */
function gatedProposer(): { proposer: MemoryStoreInit['proposer']; holdAfter(n: number): void; release(): void } {
  let pass: number | undefined
  let open: (() => void) | undefined
  return {
    proposer: (s) => ({
      propose: async (changes, local) => {
        if (pass !== undefined && pass-- === 0) {
          pass = undefined
          await new Promise<void>((resolve) => (open = resolve))
        }
        return s.applyChangeSet(changes, s.version + 1n, local)
      },
    }),
    holdAfter: (n) => void (pass = n),
    release: () => open?.(),
  }
}

describe('NetworkAllocator writes', () => {
  let f: AllocatorFixture
  afterEach(async () => {
    await f.stop()
  })

  /**
   * Creates a task and, queued right behind it, `change`: the change's proposal is held while
   * the allocator decides on the task (its write then waits behind the change). Resolves once the
   * allocator holds the task's address, after releasing the change.
   */
  async function raceTask(gate: ReturnType<typeof gatedProposer>, change: (tx: Tx, id: string) => void): Promise<string> {
    const s = f.service('web')
    const id = fid('racer')
    gate.holdAfter(1)
    const created = f.store.update((tx) => tx.tasks.create(newTask(id, s, 1, f.clock.now())))
    const changed = f.store.update((tx) => change(tx, id))
    await created
    while ((heldAddresses(f.allocator.snapshot())[fid('netfront')] ?? []).length < 2) await flush()
    expect(heldAddresses(f.allocator.snapshot())[fid('netfront')]).toEqual(['10.1.0.2', '10.1.0.3'])
    gate.release()
    await changed
    await f.settle()
    return id
  }

  async function setup(): Promise<ReturnType<typeof gatedProposer>> {
    const gate = gatedProposer()
    f = new AllocatorFixture({ proposer: gate.proposer })
    await f.addNetwork('front', { subnet: '10.1.0.0/24' })
    await f.addService('web', { networks: ['front'] })
    f.start()
    await f.settle()
    return gate
  }

  it('gives back the addresses of a task deleted between the decision and the write', async () => {
    const gate = await setup()
    await raceTask(gate, (tx, id) => tx.tasks.delete(id))
    expect(f.store.view((tx) => tx.tasks.find())).toEqual([])
    expect(heldAddresses(f.allocator.snapshot())).toEqual(recordedAddresses(f.store))
    expect(heldAddresses(f.allocator.snapshot())[fid('netfront')]).toEqual(['10.1.0.2'])
  })

  it('does not move a task that left NEW between the decision and the write, and gives its address back', async () => {
    const gate = await setup()
    const id = await raceTask(gate, (tx, t) => tx.tasks.update(t, (d) => void (d.status.state = TaskState.REJECTED)))
    expect(f.task(id).status.state).toBe(TaskState.REJECTED)
    expect(f.task(id).networks).toBeUndefined()
    expect(heldAddresses(f.allocator.snapshot())[fid('netfront')]).toEqual(['10.1.0.2'])
  })
})
