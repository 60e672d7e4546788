import { NotLeaderError } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../src/index.ts'
import type { ApplyResult, ChangeSet, Proposer } from '../src/index.ts'
import { MAX_IN_FLIGHT } from '../src/commit-queue.ts'
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

function held(): { store: MemoryStore; proposer: HeldProposer } {
  const proposer = new HeldProposer()
  const store = new MemoryStore({ proposer })
  proposer.store = store
  return { store, proposer }
}

const sizes = (p: HeldProposer): number[] => p.proposals.map((x) => x.changes.transactions.length)

describe('pipelined change sets', () => {
  it('overlap independent change sets up to MAX_IN_FLIGHT, then queue the rest into one', async () => {
    const { store, proposer } = held()
    const writes: Promise<unknown>[] = []
    for (let i = 0; i < MAX_IN_FLIGHT + 3; i++) {
      writes.push(store.update((tx) => tx.secrets.create(secret(tid('x', i), `sec-${i}`))))
      await flush()
    }
    expect(sizes(proposer)).toEqual(Array.from({ length: MAX_IN_FLIGHT }, () => 1))
    proposer.proposals[0]?.release()
    await flush()
    expect(sizes(proposer)).toEqual([...Array.from({ length: MAX_IN_FLIGHT }, () => 1), 3])
    for (let i = 1; i < proposer.proposals.length; i++) {
      proposer.proposals[i]?.release()
      await flush()
    }
    await Promise.all(writes)
    expect(store.version).toBe(BigInt(MAX_IN_FLIGHT + 1))
    expect(store.view((tx) => tx.secrets.find().length)).toBe(MAX_IN_FLIGHT + 3)
  })

  it('holds a change set that updates an in-flight write until that one is applied, then sends its applied version', async () => {
    const { store, proposer } = held()
    const created = store.update((tx) => tx.services.create(service(tid('s', 1), 'web')))
    await flush()
    const updated = store.update((tx) => tx.services.update(tid('s', 1), (d) => void (d.spec.annotations.labels = { v: '2' })))
    await flush()
    expect(proposer.proposals.length).toBe(1)
    proposer.proposals[0]?.release()
    await created
    await flush()
    expect(proposer.proposals.length).toBe(2)
    expect(proposer.proposals[1]?.changes.transactions[0]?.[0]).toMatchObject({ action: 'update', expectedVersion: 1n })
    proposer.proposals[1]?.release()
    await updated
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
    await flush()
    expect(proposer.proposals.length).toBe(1)
    proposer.proposals[0]?.release()
    await created
    await flush()
    proposer.proposals[1]?.release()
    expect(await counted).toBe(1)
  })

  it('a failed change set fails what was planned on it; an independent one in flight still applies', async () => {
    const { store, proposer } = held()
    const created = store.update((tx) => tx.services.create(service(tid('s', 1), 'web')))
    await flush()
    const independent = store.update((tx) => tx.secrets.create(secret(tid('x', 1), 'sec')))
    await flush()
    const dependent = store.update((tx) => tx.services.update(tid('s', 1), (d) => void (d.spec.annotations.labels = { v: '2' })))
    await flush()
    expect(proposer.proposals.length).toBe(2)
    proposer.proposals[0]?.fail(new NotLeaderError({ leaderAddr: '10.0.0.2:4242' }))
    for (const w of [created, dependent]) {
      const r = await outcome(w)
      expect(!r.ok && r.error).toMatchObject({ name: 'NotLeaderError', leaderAddr: '10.0.0.2:4242' })
    }
    proposer.proposals[1]?.release()
    await independent
    expect(proposer.proposals.length).toBe(2)
    expect(store.view((tx) => [tx.services.find().length, tx.secrets.find().length])).toEqual([0, 1])
  })
})
