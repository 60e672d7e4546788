import { InvalidArgumentError, NotLeaderError } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { DEFAULT_CHANGE_SETS_IN_FLIGHT, MemoryStore } from '../src/index.ts'
import type { ApplyResult, ChangeSet, Proposer } from '../src/index.ts'
import { MIN_PIPELINED_TRANSACTIONS } from '../src/commit-queue.ts'
import { outcome, secret, service, task, tid } from './fixtures.ts'

/** A proposer that holds each proposal until the test releases or fails it (releases apply in call order). */
class HeldProposer implements Proposer {
  readonly proposals: { changes: ChangeSet; release: () => void; fail: (e: Error) => void }[] = []
  store: MemoryStore | undefined
  propose(changes: ChangeSet): Promise<ApplyResult> {
    return new Promise((resolve, reject) => {
      this.proposals.push({
        changes,
        release: () => {
          const s = this.store as MemoryStore
          resolve(s.applyChangeSet(changes, s.version + 1n))
        },
        fail: reject,
      })
    })
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

/** The window these tests give their stores. */
const MAX_IN_FLIGHT = 4

function held(): { store: MemoryStore; proposer: HeldProposer } {
  const proposer = new HeldProposer()
  const store = new MemoryStore({ proposer, changeSetsInFlight: MAX_IN_FLIGHT })
  proposer.store = store
  return { store, proposer }
}

const sizes = (p: HeldProposer): number[] => p.proposals.map((x) => x.changes.transactions.length)

/** `n` independent secret creates, in this turn. */
function creates(store: MemoryStore, ns: string, n: number): Promise<unknown>[] {
  return Array.from({ length: n }, (_, i) => store.update((tx) => tx.secrets.create(secret(tid(ns, i), `${ns}-${i}`))))
}
const MIN = MIN_PIPELINED_TRANSACTIONS

describe('pipelined change sets', () => {
  it('are off by default (one change set in flight) and the window is validated', () => {
    expect(DEFAULT_CHANGE_SETS_IN_FLIGHT).toBe(1)
    for (const bad of [0, 65, 1.5]) {
      expect(() => new MemoryStore({ changeSetsInFlight: bad })).toThrow(InvalidArgumentError)
      expect(() => new MemoryStore({ changeSetsInFlight: bad })).toThrow(/changeSetsInFlight/)
    }
  })

  it('overlap independent change sets of enough transactions, up to MAX_IN_FLIGHT; the rest queue into one', async () => {
    const { store, proposer } = held()
    const writes = creates(store, 'f', 1)
    await flush()
    for (let k = 1; k < MAX_IN_FLIGHT + 2; k++) {
      writes.push(...creates(store, String.fromCharCode(103 + k), MIN))
      await flush()
    }
    expect(sizes(proposer)).toEqual([1, ...Array.from({ length: MAX_IN_FLIGHT - 1 }, () => MIN)])
    proposer.proposals[0]?.release()
    await flush()
    expect(sizes(proposer)).toEqual([1, ...Array.from({ length: MAX_IN_FLIGHT - 1 }, () => MIN), 2 * MIN])
    for (let i = 1; i < proposer.proposals.length; i++) {
      proposer.proposals[i]?.release()
      await flush()
    }
    await Promise.all(writes)
    expect(store.version).toBe(BigInt(MAX_IN_FLIGHT + 1))
    expect(store.view((tx) => tx.secrets.find().length)).toBe(1 + (MAX_IN_FLIGHT + 1) * MIN)
  })

  it('holds a small change set while another is in flight, and sends it once that one is applied', async () => {
    const { store, proposer } = held()
    const first = creates(store, 'a', 1)
    await flush()
    const small = creates(store, 'b', MIN - 1)
    await flush()
    expect(sizes(proposer)).toEqual([1])
    proposer.proposals[0]?.release()
    await Promise.all(first)
    await flush()
    expect(sizes(proposer)).toEqual([1, MIN - 1])
    proposer.proposals[1]?.release()
    await Promise.all(small)
  })

  it('holds a change set that updates an in-flight write until that one is applied, then sends its applied version', async () => {
    const { store, proposer } = held()
    const created = store.update((tx) => tx.services.create(service(tid('s', 1), 'web')))
    await flush()
    const updated = store.update((tx) => tx.services.update(tid('s', 1), (d) => void (d.spec.annotations.labels = { v: '2' })))
    const padding = creates(store, 'p', MIN)
    await flush()
    expect(proposer.proposals.length).toBe(1)
    proposer.proposals[0]?.release()
    await created
    await flush()
    expect(sizes(proposer)).toEqual([1, MIN + 1])
    expect(proposer.proposals[1]?.changes.transactions[0]?.[0]).toMatchObject({ action: 'update', expectedVersion: 1n })
    proposer.proposals[1]?.release()
    await Promise.all([updated, ...padding])
    expect(store.view((tx) => tx.services.get(tid('s', 1))?.spec.annotations.labels)).toEqual({ v: '2' })
  })

  it('holds a change set whose find saw an in-flight write', async () => {
    const { store, proposer } = held()
    const created = store.update((tx) => tx.tasks.create(task(tid('t', 1), tid('s', 1), 1)))
    await flush()
    const counted = store.update((tx) => {
      const n = tx.tasks.find({ serviceId: tid('s', 1) }).length
      tx.secrets.create(secret(tid('x', 1), `count-${n}`))
      return n
    })
    const padding = creates(store, 'p', MIN)
    await flush()
    expect(proposer.proposals.length).toBe(1)
    proposer.proposals[0]?.release()
    await created
    await flush()
    proposer.proposals[1]?.release()
    expect(await counted).toBe(1)
    await Promise.all(padding)
  })

  it('a failed change set fails what was planned on it; an independent one in flight still applies', async () => {
    const { store, proposer } = held()
    const created = store.update((tx) => tx.services.create(service(tid('s', 1), 'web')))
    await flush()
    const independent = creates(store, 'x', MIN)
    await flush()
    const dependent = store.update((tx) => tx.services.update(tid('s', 1), (d) => void (d.spec.annotations.labels = { v: '2' })))
    const padding = creates(store, 'p', MIN)
    await flush()
    expect(proposer.proposals.length).toBe(2)
    proposer.proposals[0]?.fail(new NotLeaderError({ leaderAddr: '10.0.0.2:4242' }))
    for (const w of [created, dependent, ...padding]) {
      const r = await outcome(w)
      expect(!r.ok && r.error).toMatchObject({ name: 'NotLeaderError', leaderAddr: '10.0.0.2:4242' })
    }
    proposer.proposals[1]?.release()
    await Promise.all(independent)
    expect(proposer.proposals.length).toBe(2)
    expect(store.view((tx) => [tx.services.find().length, tx.secrets.find().length])).toEqual([0, MIN])
  })
})
