import { NotLeaderError } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { MAX_CHANGE_SET_ACTIONS, MAX_CHANGE_SET_BYTES, MemoryStore } from '../src/index.ts'
import type { ApplyResult, ChangeSet, Proposer } from '../src/index.ts'
import { outcome, secret, service, task, tid } from './fixtures.ts'

/** A proposer that holds each proposal until the test releases it. */
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
  /** Releases proposals until none is pending (each release lets the next one out). */
  async drain(): Promise<void> {
    for (let i = 0; i < 10_000; i++) {
      await flush()
      const p = this.proposals.find((x) => !released.has(x))
      if (p === undefined) return
      released.add(p)
      p.release()
    }
  }
}
const released = new WeakSet<object>()

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

function held(): { store: MemoryStore; proposer: HeldProposer } {
  const proposer = new HeldProposer()
  const store = new MemoryStore({ proposer })
  proposer.store = store
  return { store, proposer }
}

const sizes = (p: HeldProposer): number[][] => p.proposals.map((x) => x.changes.transactions.map((t) => t.length))

describe('group commit', () => {
  it('queues updates while a proposal is in flight and sends them as one change set', async () => {
    const { store, proposer } = held()
    const first = store.update((tx) => tx.services.create(service(tid('s', 1), 'a')))
    const rest = Array.from({ length: 50 }, (_, i) => store.update((tx) => tx.tasks.create(task(tid('t', i), tid('s', 1), i + 1))))
    await flush()
    expect(proposer.proposals.length).toBe(1)
    await proposer.drain()
    await Promise.all([first, ...rest])
    expect(sizes(proposer).map((s) => s.length)).toEqual([1, 50])
    expect(store.version).toBe(2n)
    expect(store.view((tx) => tx.tasks.find({ serviceId: tid('s', 1) }).length)).toBe(50)
  })

  it('splits at 200 actions without splitting a transaction', async () => {
    const { store, proposer } = held()
    const blocker = store.update((tx) => tx.services.create(service(tid('s', 1), 'a')))
    const ps = Array.from({ length: 150 }, (_, i) =>
      store.update((tx) => {
        tx.tasks.create(task(tid('t', 2 * i), tid('s', 1), 2 * i))
        tx.tasks.create(task(tid('t', 2 * i + 1), tid('s', 1), 2 * i + 1))
      }),
    )
    await proposer.drain()
    await Promise.all([blocker, ...ps])
    const actions = sizes(proposer).map((s) => s.reduce((a, b) => a + b, 0))
    expect(actions).toEqual([1, 200, 100])
    for (const a of actions) expect(a).toBeLessThanOrEqual(MAX_CHANGE_SET_ACTIONS)
    expect(store.view((tx) => tx.tasks.find().length)).toBe(300)
  })

  it('a queued transaction sees earlier queued writes, including updates of the same object', async () => {
    const { store, proposer } = held()
    const blocker = store.update((tx) => tx.services.create(service(tid('s', 1), 'a')))
    const create = store.update((tx) => tx.tasks.create(task(tid('t', 1), tid('s', 1), 1)))
    const bumps = Array.from({ length: 5 }, () =>
      store.update((tx) => {
        const t = tx.tasks.get(tid('t', 1))
        if (t === undefined) throw new Error('not visible')
        return tx.tasks.update({ ...t, slot: t.slot + 1 }).slot
      }),
    )
    await proposer.drain()
    await blocker
    await create
    expect(await Promise.all(bumps)).toEqual([2, 3, 4, 5, 6])
    expect(proposer.proposals.length).toBe(2)
    const second = proposer.proposals[1]?.changes.transactions.flat() ?? []
    expect(second.map((a) => (a.action === 'create' ? 'create' : `${a.action}@${a.expectedVersion}`))).toEqual(['create', 'update@0', 'update@0', 'update@0', 'update@0', 'update@0'])
    expect(store.view((tx) => tx.tasks.get(tid('t', 1))?.slot)).toBe(6)
    expect(store.view((tx) => tx.tasks.get(tid('t', 1))?.meta.version.index)).toBe(2n)
  })

  it('a transaction carried to the next proposal gets the applied version of what it read', async () => {
    const { store, proposer } = held()
    const blocker = store.update((tx) => tx.services.create(service(tid('s', 1), 'a')))
    // 199 single creates, then a transaction that updates one of them and creates two more: it does not fit.
    const creates = Array.from({ length: 199 }, (_, i) => store.update((tx) => tx.tasks.create(task(tid('t', i), tid('s', 1), i))))
    const carried = store.update((tx) => {
      tx.tasks.update(tid('t', 5), (d) => void (d.nodeId = tid('m', 1)))
      tx.tasks.create(task(tid('u', 1), tid('s', 1), 1))
    })
    await proposer.drain()
    await Promise.all([blocker, ...creates, carried])
    expect(sizes(proposer).map((s) => s.length)).toEqual([1, 199, 1])
    const update = proposer.proposals[2]?.changes.transactions[0]?.[0]
    expect(update).toMatchObject({ action: 'update', expectedVersion: 2n })
    expect(store.view((tx) => tx.tasks.get(tid('t', 5))?.nodeId)).toBe(tid('m', 1))
  })

  it('a failed proposal rejects every transaction planned against it; later updates run fresh', async () => {
    const { store, proposer } = held()
    const blocker = store.update((tx) => tx.services.create(service(tid('s', 1), 'a')))
    const queued = [1, 2, 3].map((i) => store.update((tx) => tx.tasks.create(task(tid('t', i), tid('s', 1), i))))
    await flush()
    proposer.proposals[0]?.release()
    released.add(proposer.proposals[0] as object)
    await blocker
    await flush()
    expect(proposer.proposals.length).toBe(2)
    proposer.proposals[1]?.fail(new NotLeaderError({ leaderAddr: '10.0.0.2:4242' }))
    released.add(proposer.proposals[1] as object)
    for (const q of queued) {
      const r = await outcome(q)
      expect(!r.ok && r.error).toMatchObject({ name: 'NotLeaderError', leaderAddr: '10.0.0.2:4242' })
    }
    const later = store.update((tx) => tx.tasks.create(task(tid('t', 1), tid('s', 1), 1)))
    await proposer.drain()
    await later
    expect(store.view((tx) => tx.tasks.find().length)).toBe(1)
  })

  it('a transaction larger than 1.5 MiB is refused', async () => {
    const store = new MemoryStore()
    const r = await outcome(
      store.update((tx) => {
        for (let i = 0; i < 4; i++) tx.secrets.create(secret(tid('x', i), `s${i}`, 450 * 1024))
      }),
    )
    expect(!r.ok && r.error).toMatchObject({ name: 'InvalidArgumentError', field: 'transaction' })
    expect(store.version).toBe(0n)
  })
})

describe('batch', () => {
  it('splits into proposals of at most 200 actions and 1.5 MiB, each transaction whole', async () => {
    const { store, proposer } = held()
    const done = store.batch((b) => {
      for (let i = 0; i < 450; i++) b.update((tx) => tx.tasks.create(task(tid('t', i), tid('s', 1), i)))
      for (let i = 0; i < 10; i++) b.update((tx) => tx.secrets.create(secret(tid('x', i), `big-${i}`, 400 * 1024)))
      return 'recorded'
    })
    await proposer.drain()
    const r = await done
    expect(r).toEqual({ value: 'recorded', transactions: 460, proposals: 6, failures: [] })
    const actions = sizes(proposer).map((s) => s.reduce((a, b) => a + b, 0))
    expect(actions).toEqual([200, 200, 53, 3, 3, 1])
    for (const p of proposer.proposals) {
      let bytes = 0
      for (const t of p.changes.transactions) for (const a of t) if (a.action === 'create' && a.kind === 'secret') bytes += 400 * 1024
      expect(bytes).toBeLessThanOrEqual(MAX_CHANGE_SET_BYTES)
    }
    expect(store.view((tx) => [tx.tasks.find().length, tx.secrets.find().length])).toEqual([450, 10])
  })

  it('later batch transactions see earlier ones, across proposals', async () => {
    const { store, proposer } = held()
    const done = store.batch((b) => {
      for (let i = 0; i < 250; i++) b.update((tx) => tx.tasks.create(task(tid('t', i), tid('s', 1), i)))
      // Updates an object created in the first proposal, from the second one.
      b.update((tx) => tx.tasks.update(tid('t', 0), (d) => void (d.slot = 999)))
    })
    await proposer.drain()
    await done
    const upd = proposer.proposals[1]?.changes.transactions.at(-1)?.[0]
    expect(upd).toMatchObject({ action: 'update', expectedVersion: 1n })
    expect(store.view((tx) => tx.tasks.get(tid('t', 0))?.slot)).toBe(999)
  })

  it('is not atomic as a whole: an apply failure fails only its transaction', async () => {
    const { store, proposer } = held()
    const done = store.batch((b) => {
      b.update((tx) => tx.services.create(service(tid('s', 1), 'web')))
      b.update((tx) => tx.services.create(service(tid('s', 2), 'api')))
    })
    await flush()
    // A foreign change lands first (e.g. replicated from an earlier leader): the name 'api' is taken.
    store.applyChangeSet({ transactions: [[{ action: 'create', kind: 'service', object: { ...service(tid('s', 3), 'API'), meta: { version: { index: 0n }, createdAt: 0, updatedAt: 0 } } }]] }, 1n)
    await proposer.drain()
    const r = await done
    expect(r.failures.map((f) => [f.transaction, f.error.name])).toEqual([[1, 'AlreadyExistsError']])
    expect(store.view((tx) => tx.services.find().map((s) => s.spec.annotations.name).sort())).toEqual(['API', 'web'])
  })

  it('a throwing batch callback proposes nothing', async () => {
    const { store, proposer } = held()
    const r = await outcome(
      store.batch((b) => {
        b.update((tx) => tx.tasks.create(task(tid('t', 1), tid('s', 1), 1)))
        throw new Error('stop')
      }),
    )
    expect(!r.ok && r.error.message).toBe('stop')
    await flush()
    expect(proposer.proposals.length).toBe(0)
    expect(store.version).toBe(0n)
  })

  it('a throwing transaction inside a batch can be caught; the rest goes on', async () => {
    const store = new MemoryStore()
    const r = await store.batch((b) => {
      b.update((tx) => tx.tasks.create(task(tid('t', 1), tid('s', 1), 1)))
      try {
        b.update((tx) => tx.tasks.create(task(tid('t', 1), tid('s', 1), 1)))
      } catch (err) {
        return (err as Error).name
      }
      return 'no error'
    })
    expect(r).toEqual({ value: 'AlreadyExistsError', transactions: 1, proposals: 1, failures: [] })
    expect(store.view((tx) => tx.tasks.find().length)).toBe(1)
  })

  it('a batch that records no change, queued behind a proposal, does not hold up the writes queued after it', async () => {
    const { store, proposer } = held()
    const first = store.update((tx) => tx.services.create(service(tid('s', 1), 'a')))
    const empty = store.batch(() => 'nothing')
    const noop = store.batch((b) => {
      b.update(() => {})
    })
    const after = store.update((tx) => tx.services.create(service(tid('s', 2), 'b')))
    await proposer.drain()
    expect(await empty).toEqual({ value: 'nothing', transactions: 0, proposals: 0, failures: [] })
    expect(await noop).toEqual({ value: undefined, transactions: 0, proposals: 0, failures: [] })
    await first
    await after
    expect(store.view((tx) => tx.services.find().length)).toBe(2)
  })
})
