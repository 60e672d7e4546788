/**
 * Random fault schedules against 3 replicated managers (fast-check): writes from clients that
 * read their own manager's store, interleaved with partitions, isolation, message loss,
 * duplication and reordering, crashes and restarts from storage, leadership transfers and small
 * Raft snapshot intervals. After healing, every manager's store must be identical, every
 * acknowledged write present, and every log index applied to the same change set everywhere.
 * REPLICATED_RUNS sets the number of schedules per store (default 120: the reference store, which
 * checks replication alone, and the real MemoryStore written through update()).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { NotLeaderError, Secret } from '@swarmkit-ts/api'
import { encodeChangeSet } from '../src/replication/change-set-codec.ts'
import type { ManualClock } from '@swarmkit-ts/testkit'
import { MemoryStore } from '../src/memory-store.ts'
import type { ApplyResult, ChangeSet, Proposer } from '../src/proposer.ts'
import type { ReplicableStore } from '../src/replication/store-state-machine.ts'
import { ReplicatedCluster, ReferenceStore, objectId, secret } from './replicated-cluster.ts'
import type { Manager } from './replicated-cluster.ts'

const RUNS = Number(process.env['REPLICATED_RUNS'] ?? 120)
const MEMORY_RUNS = Number(process.env['REPLICATED_RUNS'] ?? 120)
const IDS = [1n, 2n, 3n] as const
const OBJECTS = 4

type Step =
  | { readonly type: 'write'; readonly on: number; readonly object: number; readonly count: number }
  | { readonly type: 'run'; readonly ms: number }
  | { readonly type: 'partition'; readonly alone: number }
  | { readonly type: 'isolate'; readonly who: number }
  | { readonly type: 'heal' }
  | { readonly type: 'faults'; readonly drop: number; readonly duplicate: number; readonly reorder: number }
  | { readonly type: 'crash'; readonly who: number }
  | { readonly type: 'restart'; readonly who: number }
  | { readonly type: 'transfer'; readonly to: number }

const member = fc.integer({ min: 0, max: 2 })
const arbStep: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ type: fc.constant('write' as const), on: member, object: fc.integer({ min: 0, max: OBJECTS - 1 }), count: fc.integer({ min: 1, max: 4 }) }),
  },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('run' as const), ms: fc.integer({ min: 10, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('partition' as const), alone: member }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('isolate' as const), who: member }) },
  { weight: 1, arbitrary: fc.constant({ type: 'heal' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('faults' as const),
      drop: fc.constantFrom(0, 0.05, 0.2),
      duplicate: fc.constantFrom(0, 0.05),
      reorder: fc.constantFrom(0, 0.1),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('crash' as const), who: member }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('restart' as const), who: member }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('transfer' as const), to: member }) },
)

/** A recording MemoryStore: every change set applied (after it applied) and every restore. */
class RecordingMemoryStore extends MemoryStore {
  readonly applied: { index: bigint; changes: ChangeSet }[] = []
  restores = 0
  override applyChangeSet(changes: ChangeSet, index: bigint): ApplyResult {
    const r = super.applyChangeSet(changes, index)
    this.applied.push({ index, changes })
    return r
  }
  override restore(bytes: Uint8Array): void {
    super.restore(bytes)
    this.restores++
  }
}

/** What a schedule needs from one kind of store. */
interface Subject<S extends ReplicableStore & { readonly applied: readonly { index: bigint; changes: ChangeSet }[]; readonly restores: number }> {
  readonly createStore: (proposer: Proposer, clock: ManualClock) => S
  /** Writes `value` into object `object` through manager `m`: resolves when acknowledged, rejects otherwise. */
  readonly write: (m: Manager<S>, object: number, value: number) => Promise<unknown>
  /** The object's version and value in `m`'s store. */
  readonly read: (m: Manager<S>, object: number) => { version: bigint; value: number } | undefined
}

const valueBytes = (v: number): Uint8Array => Uint8Array.of(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff)
const bytesValue = (b: Uint8Array | undefined): number => (b?.[0] ?? 0) | ((b?.[1] ?? 0) << 8) | ((b?.[2] ?? 0) << 16)

const referenceSubject: Subject<ReferenceStore> = {
  createStore: (proposer) => new ReferenceStore(proposer),
  write: async (m, object, value) => {
    const id = objectId(object)
    const current = m.member.store.get('secret', id)
    const cs: ChangeSet =
      current === undefined
        ? { transactions: [[{ action: 'create', kind: 'secret', object: secret(id, value) }]] }
        : { transactions: [[{ action: 'update', kind: 'secret', object: secret(id, value, current.meta.version.index), expectedVersion: current.meta.version.index }]] }
    const r = await m.member.proposer.propose(cs)
    const first = r.results[0]
    if (first?.ok !== true) throw first?.error ?? new Error('no result')
  },
  read: (m, object) => {
    const s = m.member.store.get('secret', objectId(object)) as Secret | undefined
    return s === undefined ? undefined : { version: s.meta.version.index, value: bytesValue(s.spec.data) }
  },
}

const memorySubject: Subject<RecordingMemoryStore> = {
  createStore: (proposer, clock) => new RecordingMemoryStore({ proposer, clock }),
  write: (m, object, value) =>
    m.member.store.update((tx) => {
      const id = objectId(object)
      if (tx.secrets.get(id) === undefined) tx.secrets.create({ id, spec: { annotations: { name: `secret-${object}` }, data: valueBytes(value) } })
      else
        tx.secrets.update(id, (d) => {
          d.spec.data = valueBytes(value)
        })
    }),
  read: (m, object) => {
    const s = m.member.store.view((tx) => tx.secrets.get(objectId(object)))
    return s === undefined ? undefined : { version: s.meta.version.index, value: bytesValue(s.spec.data) }
  },
}

/** Rejections a client may see: the write was not acknowledged (its outcome may be unknown). */
const CLIENT_ERRORS = ['NotLeaderError', 'LeadershipLostError', 'RaftStoppedError', 'UnavailableError', 'SequenceConflictError', 'AlreadyExistsError', 'NotFoundError']

async function runSchedule<S extends ReplicableStore & { readonly applied: readonly { index: bigint; changes: ChangeSet }[]; readonly restores: number }>(
  subject: Subject<S>,
  seed: number,
  snapshotInterval: number,
  steps: readonly Step[],
): Promise<void> {
  const stores: S[] = []
  const failures: unknown[] = []
  const c = new ReplicatedCluster<S>({
    seed,
    createStore: (proposer, clock) => {
      const s = subject.createStore(proposer, clock)
      stores.push(s)
      return s
    },
    raft: { snapshotInterval, logEntriesForSlowFollowers: 2 },
  })
  await c.start()
  const watchFailures = (): void => {
    for (const m of c.managers.values()) if (m.member.raft.listenerCount('node:failed') === 0) m.member.raft.on('node:failed', (e) => failures.push(e))
  }
  watchFailures()
  const acked: { object: number; value: number }[] = []
  const unexpected: unknown[] = []
  const pending: Promise<void>[] = []
  let nextValue = 1
  let redirects = 0

  /** A client: writes through manager `on`; on NotLeaderError it retries once on the leader it names. */
  const client = async (on: bigint, object: number, value: number): Promise<void> => {
    try {
      try {
        await subject.write(c.get(on), object, value)
      } catch (err) {
        const leaderId = (err as NotLeaderError).leaderId
        if ((err as Error).name !== 'NotLeaderError' || leaderId === undefined || !c.get(leaderId).running) throw err
        if ((err as NotLeaderError).leaderAddr !== `manager-${leaderId}:4242`) unexpected.push(err)
        redirects++
        await subject.write(c.get(leaderId), object, value)
      }
      acked.push({ object, value })
    } catch (err) {
      if (!CLIENT_ERRORS.includes((err as Error).name)) unexpected.push(err)
    }
  }
  await c.waitLeader()
  try {
    for (const step of steps) {
      switch (step.type) {
        case 'write':
          for (let k = 0; k < step.count; k++) pending.push(client(IDS[step.on] ?? 1n, (step.object + k) % OBJECTS, nextValue++))
          break
        case 'run':
          await c.run(step.ms)
          break
        case 'partition':
          c.net.partition([IDS[step.alone] ?? 1n])
          break
        case 'isolate':
          c.net.isolate(IDS[step.who] ?? 1n)
          break
        case 'heal':
          c.net.heal()
          break
        case 'faults':
          c.net.setFaults({ drop: step.drop, duplicate: step.duplicate, reorder: step.reorder })
          break
        case 'crash':
          await c.crash(IDS[step.who] ?? 1n)
          break
        case 'restart':
          await c.restart(IDS[step.who] ?? 1n)
          watchFailures()
          break
        case 'transfer': {
          const l = c.leader()
          if (l !== undefined) l.member.raft.transferLeadership(IDS[step.to] ?? 1n).catch(() => {})
          break
        }
      }
    }
    // Heal everything and let the cluster settle.
    c.net.heal()
    c.net.setFaults({})
    for (const id of IDS) if (!c.get(id).running) await c.restart(id)
    watchFailures()
    await c.waitLeader({ maxMs: 60_000 })
    await c.converge()
    await c.settle(Promise.allSettled(pending))
    await c.converge()

    expect(failures).toStrictEqual([])
    if (unexpected.length > 0) console.log('unexpected client errors', unexpected)
    expect(unexpected).toStrictEqual([])
    if (process.env['REPLICATED_STATS'] === '1') {
      console.log(`acks ${acked.length}/${nextValue - 1} redirects ${redirects} restores ${stores.reduce((n, s) => n + s.restores, 0)} stores ${stores.length} applied ${c.get(1n).member.raft.applied}`)
    }
    const snaps = IDS.map((id) => [...c.get(id).member.store.snapshot()])
    for (const s of snaps.slice(1)) expect(s).toStrictEqual(snaps[0])

    // Every log index was applied to the same change sets on every store that applied it.
    const byIndex = new Map<bigint, string>()
    /** Where each written value was applied: log index, and transaction position in its change set. */
    const appliedAt = new Map<number, { index: bigint; position: number }>()
    for (const store of stores) {
      const mine = new Map<bigint, string>()
      for (const { index, changes } of store.applied) {
        mine.set(index, `${mine.get(index) ?? ''}/${Buffer.from(encodeChangeSet(changes)).toString('hex')}`)
        changes.transactions.forEach((tx, position) => {
          for (const a of tx) if (a.action !== 'delete') appliedAt.set(bytesValue((a.object as Secret).spec.data), { index, position })
        })
      }
      for (const [index, bytes] of mine) {
        const seen = byIndex.get(index)
        if (seen === undefined) byIndex.set(index, bytes)
        else expect(bytes).toBe(seen)
      }
    }
    // Every acknowledged write is present: the object holds its value, or a later write's (a later
    // log index, or a later transaction of the same group-committed change set).
    for (const m of c.managers.values()) {
      for (const ack of acked) {
        const at = appliedAt.get(ack.value)
        const now = subject.read(m, ack.object)
        expect(at).toBeDefined()
        expect(now).toBeDefined()
        if (at === undefined || now === undefined) continue
        expect(now.version >= at.index).toBe(true)
        if (now.version === at.index) {
          const holder = appliedAt.get(now.value)
          expect(holder?.index).toBe(at.index)
          expect((holder?.position ?? -1) >= at.position).toBe(true)
        }
      }
    }
  } finally {
    await c.stop()
  }
}

describe('replicated store under random fault schedules', () => {
  it('ends with identical stores holding every acknowledged write', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom(0, 3, 8),
        fc.array(arbStep, { minLength: 5, maxLength: 40 }),
        (seed, snapshotInterval, steps) => runSchedule(referenceSubject, seed, snapshotInterval, steps),
      ),
      { numRuns: RUNS },
    )
  }, 300_000)

  it('ends with identical MemoryStores holding every acknowledged update() (group commit on the leader)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom(0, 3, 8),
        fc.array(arbStep, { minLength: 5, maxLength: 40 }),
        (seed, snapshotInterval, steps) => runSchedule(memorySubject, seed, snapshotInterval, steps),
      ),
      { numRuns: MEMORY_RUNS },
    )
  }, 300_000)

  it('keeps a schedule with a lost leader, a crash and a restart at a small snapshot interval (regression shape)', async () => {
    await runSchedule(memorySubject, 7, 3, [
      { type: 'write', on: 0, object: 0, count: 1 },
      { type: 'run', ms: 2000 },
      { type: 'write', on: 0, object: 0, count: 2 },
      { type: 'write', on: 1, object: 1, count: 1 },
      { type: 'write', on: 2, object: 2, count: 3 },
      { type: 'run', ms: 500 },
      { type: 'isolate', who: 0 },
      { type: 'write', on: 0, object: 3, count: 4 },
      { type: 'crash', who: 1 },
      { type: 'run', ms: 3000 },
      { type: 'restart', who: 1 },
      { type: 'heal' },
      { type: 'run', ms: 3000 },
      { type: 'write', on: 1, object: 0, count: 1 },
      { type: 'write', on: 2, object: 0, count: 2 },
      { type: 'transfer', to: 2 },
      { type: 'run', ms: 1000 },
    ])
  }, 60_000)
})
