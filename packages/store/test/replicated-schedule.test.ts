/**
 * Random fault schedules against 3 replicated managers (fast-check): writes from clients that
 * read their own manager's store, interleaved with partitions, isolation, message loss,
 * duplication and reordering, crashes and restarts from storage, leadership transfers and small
 * Raft snapshot intervals. After healing, every manager's store must be identical, every
 * acknowledged write present, and every log index applied to the same change set everywhere.
 * REPLICATED_RUNS sets the number of schedules (default 200).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { NotLeaderError, Secret } from '@swarmkit-ts/api'
import { encodeChangeSet } from '../src/change-set-codec.ts'
import type { ApplyResult, ChangeSet } from '../src/proposer.ts'
import { ReplicatedCluster, ReferenceStore, objectId, secret } from './replicated-cluster.ts'
import type { Manager } from './replicated-cluster.ts'

const RUNS = Number(process.env['REPLICATED_RUNS'] ?? 200)
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

interface Ack {
  readonly object: number
  readonly value: number
  readonly version: bigint
}

async function runSchedule(seed: number, snapshotInterval: number, steps: readonly Step[]): Promise<void> {
  const stores: ReferenceStore[] = []
  const failures: unknown[] = []
  const c = new ReplicatedCluster<ReferenceStore>({
    seed,
    createStore: (proposer) => {
      const s = new ReferenceStore(proposer)
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
  const acks: Ack[] = []
  const pending: Promise<void>[] = []
  let nextValue = 1
  let redirects = 0

  /** A client: writes through manager `on`; on NotLeaderError it retries once on the leader it names. */
  const client = async (on: bigint, object: number, value: number): Promise<void> => {
    const attempt = (m: Manager<ReferenceStore>): Promise<ApplyResult> => {
      const id = objectId(object)
      const current = m.member.store.get('secret', id)
      const cs: ChangeSet =
        current === undefined
          ? { transactions: [[{ action: 'create', kind: 'secret', object: secret(id, value) }]] }
          : { transactions: [[{ action: 'update', kind: 'secret', object: secret(id, value, current.meta.version.index), expectedVersion: current.meta.version.index }]] }
      return m.member.proposer.propose(cs)
    }
    try {
      let r: ApplyResult
      try {
        r = await attempt(c.get(on))
      } catch (err) {
        const leaderId = (err as NotLeaderError).leaderId
        if ((err as Error).name !== 'NotLeaderError' || leaderId === undefined || !c.get(leaderId).running) throw err
        expect((err as NotLeaderError).leaderAddr).toBe(`manager-${leaderId}:4242`)
        redirects++
        r = await attempt(c.get(leaderId))
      }
      if (r.results[0]?.ok === true) acks.push({ object, value, version: r.version })
    } catch (err) {
      expect(['NotLeaderError', 'LeadershipLostError', 'RaftStoppedError', 'UnavailableError']).toContain((err as Error).name)
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
    if (process.env['REPLICATED_STATS'] === '1') console.log(`acks ${acks.length}/${nextValue - 1} redirects ${redirects} restores ${stores.reduce((n, s) => n + s.restores, 0)} stores ${stores.length} applied ${c.get(1n).member.raft.applied} term ${c.get(1n).member.raft.status().hardState.term}`)
    const snaps = IDS.map((id) => [...c.get(id).member.store.snapshot()])
    for (const s of snaps.slice(1)) expect(s).toStrictEqual(snaps[0])
    // Every acknowledged write is present: the object is at that version with that value, or later.
    const final = c.get(1n).member.store
    for (const ack of acks) {
      const s = final.get('secret', objectId(ack.object)) as Secret | undefined
      expect(s).toBeDefined()
      if (s === undefined) continue
      expect(s.meta.version.index >= ack.version).toBe(true)
      if (s.meta.version.index === ack.version) expect(s.spec.data?.[0]).toBe(ack.value & 0xff)
    }
    // Every log index was applied to the same change sets on every store that applied it.
    const byIndex = new Map<bigint, string>()
    for (const store of stores) {
      const mine = new Map<bigint, string>()
      for (const { index, changes } of store.applied) mine.set(index, `${mine.get(index) ?? ''}/${Buffer.from(encodeChangeSet(changes)).toString('hex')}`)
      for (const [index, bytes] of mine) {
        const seen = byIndex.get(index)
        if (seen === undefined) byIndex.set(index, bytes)
        else expect(bytes).toBe(seen)
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
        (seed, snapshotInterval, steps) => runSchedule(seed, snapshotInterval, steps),
      ),
      { numRuns: RUNS },
    )
  }, 300_000)

  it('keeps a schedule with a lost leader, a crash and a restart at a small snapshot interval (regression shape)', async () => {
    await runSchedule(7, 3, [
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
