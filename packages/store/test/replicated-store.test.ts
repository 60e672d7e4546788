import { afterEach, describe, expect, it } from 'vitest'
import type { Secret } from '@swarmkit-ts/api'
import type { ApplyResult, ChangeSet } from '../src/proposer.ts'
import { ReplicatedCluster, ReferenceStore, objectId, secret } from './replicated-cluster.ts'
import type { Manager } from './replicated-cluster.ts'

const clusters: ReplicatedCluster<ReferenceStore>[] = []
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stop()
})

async function cluster(options: { seed?: number; snapshotInterval?: number; logEntriesForSlowFollowers?: number } = {}): Promise<ReplicatedCluster<ReferenceStore>> {
  const c = new ReplicatedCluster<ReferenceStore>({
    seed: options.seed ?? 1,
    createStore: (proposer) => new ReferenceStore(proposer),
    raft: { snapshotInterval: options.snapshotInterval ?? 0, logEntriesForSlowFollowers: options.logEntriesForSlowFollowers ?? 500 },
  })
  clusters.push(c)
  await c.start()
  return c
}

const create = (n: number, value = 0): ChangeSet => ({ transactions: [[{ action: 'create', kind: 'secret', object: secret(objectId(n), value) }]] })
const update = (n: number, value: number, expectedVersion: bigint): ChangeSet => ({
  transactions: [[{ action: 'update', kind: 'secret', object: secret(objectId(n), value, expectedVersion), expectedVersion }]],
})

function write(m: Manager<ReferenceStore>, cs: ChangeSet): Promise<ApplyResult> {
  return m.member.proposer.propose(cs)
}

/** Every running manager's snapshot, as arrays (for readable diffs). */
function snapshots(c: ReplicatedCluster<ReferenceStore>): number[][] {
  return [...c.managers.values()].filter((m) => m.running).map((m) => [...m.member.store.snapshot()])
}

function dataOf(m: Manager<ReferenceStore>, n: number): number[] | undefined {
  const s = m.member.store.get('secret', objectId(n)) as Secret | undefined
  return s === undefined ? undefined : [...(s.spec.data ?? [])]
}

describe('ReplicatedStore on 3 managers', () => {
  it('applies a write on every manager at its log index and settles the leader with its apply result', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    const result = await c.settle(write(leader, create(1, 7)))
    expect(result.results).toStrictEqual([{ ok: true }])
    expect(result.version).toBe(BigInt(leader.member.raft.applied))
    await c.converge()
    for (const m of c.managers.values()) {
      const s = m.member.store.get('secret', objectId(1))
      expect(s?.meta.version.index).toBe(result.version)
      expect(dataOf(m, 1)).toStrictEqual([7, 0, 0])
      expect(m.member.store.applied.map((a) => a.index)).toStrictEqual([result.version])
    }
    const [first, ...rest] = snapshots(c)
    for (const s of rest) expect(s).toStrictEqual(first)
  })

  it('returns per-transaction failures from the apply on the leader (a stale version, a duplicate)', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    const created = await c.settle(write(leader, create(1)))
    const stale = await c.settle(write(leader, { transactions: [update(1, 1, created.version - 1n).transactions[0] ?? [], create(1).transactions[0] ?? [], update(1, 2, created.version).transactions[0] ?? []] }))
    expect(stale.results).toStrictEqual([
      { ok: false, error: expect.objectContaining({ name: 'SequenceConflictError', kind: 'secret', id: objectId(1), expected: created.version - 1n, actual: created.version }) as unknown },
      { ok: false, error: expect.objectContaining({ name: 'AlreadyExistsError', kind: 'secret', key: objectId(1) }) as unknown },
      { ok: true },
    ])
    await c.converge()
    for (const m of c.managers.values()) expect(dataOf(m, 1)).toStrictEqual([2, 0, 0])
  })

  it('gives concurrent proposals a log entry (and so a store version) each', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    const results = await c.settle(Promise.all([1, 2, 3, 4, 5].map((n) => write(leader, create(n, n)))))
    const versions = results.map((r) => r.version)
    expect(versions.map((v) => v - (versions[0] ?? 0n))).toStrictEqual([0n, 1n, 2n, 3n, 4n])
    await c.converge()
    for (const m of c.managers.values()) expect(m.member.store.applied.map((a) => a.index)).toStrictEqual(versions)
  })

  it('fails a write on a follower fast with NotLeaderError naming the leader, proposing nothing', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    await c.converge()
    const follower = [...c.managers.values()].find((m) => m !== leader)
    if (follower === undefined) throw new Error('no follower')
    const lastIndex = leader.member.raft.status().lastIndex
    await expect(write(follower, create(1))).rejects.toMatchObject({
      name: 'NotLeaderError',
      leaderId: leader.id,
      leaderAddr: `manager-${leader.id}:4242`,
    })
    expect(follower.member.leaderAddress).toBe(`manager-${leader.id}:4242`)
    expect(follower.member.notLeaderError()).toMatchObject({ name: 'NotLeaderError', leaderId: leader.id, leaderAddr: `manager-${leader.id}:4242` })
    expect(leader.member.notLeaderError()).toBeUndefined()
    await c.run(1000)
    expect(leader.member.raft.status().lastIndex).toBe(lastIndex)
  })

  it('fails a write with NotLeaderError without an address while no leader is known', async () => {
    const c = await cluster()
    const m = c.get(1n)
    expect(m.member.leader).toBe(0n)
    await expect(write(m, create(1))).rejects.toMatchObject({ name: 'NotLeaderError', leaderId: undefined, leaderAddr: undefined })
    expect(m.member.leaderAddress).toBeUndefined()
  })

  it('refuses a change set that cannot be encoded with InvalidArgumentError naming the field', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    const bad = { transactions: [[{ action: 'update', kind: 'secret', object: secret(objectId(1), 1), expectedVersion: -1n }]] } as ChangeSet
    await expect(write(leader, bad)).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'transactions[0][0].expectedVersion' })
  })

  it('rejects a write in flight when the leader is cut off; it is applied nowhere or once everywhere', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    await c.converge()
    c.net.isolate(leader.id)
    const pending = write(leader, create(1, 1))
    await expect(c.settle(pending)).rejects.toMatchObject({ name: 'LeadershipLostError' })
    c.net.heal()
    const next = await c.waitLeader()
    await c.settle(write(next, create(2, 2)))
    await c.converge()
    const [first, ...rest] = snapshots(c)
    for (const s of rest) expect(s).toStrictEqual(first)
    for (const m of c.managers.values()) {
      const creates = m.member.store.applied.filter((a) => a.changes.transactions[0]?.[0]?.action === 'create' && a.changes.transactions[0][0].object.id === objectId(1))
      expect(creates.length).toBe(0) // the isolated leader's entry never reached a majority and was overwritten
      expect(dataOf(m, 2)).toStrictEqual([2, 0, 0])
    }
  })

  it('rejects a write pending on a manager that stops with RaftStoppedError', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    c.net.isolate(leader.id)
    const pending = write(leader, create(1))
    pending.catch(() => {})
    await c.crash(leader.id)
    await expect(pending).rejects.toMatchObject({ name: 'RaftStoppedError' })
  })

  it('converges after a partition, a leader change and writes on both sides', async () => {
    const c = await cluster({ seed: 3 })
    const acked = new Map<number, number>()
    const first = await c.waitLeader()
    for (let n = 0; n < 5; n++) {
      await c.settle(write(first, create(n, n)))
      acked.set(n, n)
    }
    const others = [...c.managers.keys()].filter((id) => id !== first.id)
    c.net.partition([first.id], others)
    const minorityWrite = write(first, create(100, 100))
    minorityWrite.catch(() => {})
    const second = await c.waitLeader({ not: first.id })
    for (let n = 5; n < 10; n++) {
      await c.settle(write(second, create(n, n)))
      acked.set(n, n)
    }
    await expect(c.settle(minorityWrite)).rejects.toMatchObject({ name: 'LeadershipLostError' })
    c.net.heal()
    await c.converge()
    const [snap, ...rest] = snapshots(c)
    for (const s of rest) expect(s).toStrictEqual(snap)
    for (const m of c.managers.values()) {
      for (const [n, v] of acked) expect(dataOf(m, n)).toStrictEqual([v, 0, 0])
      expect(dataOf(m, 100)).toBeUndefined()
    }
  })

  it('recovers every manager from its Raft storage after a restart of the whole cluster', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    let version = (await c.settle(write(leader, create(1, 1)))).version
    for (let v = 2; v <= 10; v++) version = (await c.settle(write(leader, update(1, v, version)))).version
    await c.converge()
    const before = snapshots(c)
    for (const id of c.managers.keys()) await c.crash(id)
    for (const id of c.managers.keys()) await c.restart(id)
    await c.waitLeader()
    await c.converge()
    expect(snapshots(c)).toStrictEqual(before)
    for (const m of c.managers.values()) expect(dataOf(m, 1)).toStrictEqual([10, 0, 0])
  })

  it('catches up a restarted follower that missed writes', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    const follower = [...c.managers.values()].find((m) => m !== leader)
    if (follower === undefined) throw new Error('no follower')
    await c.crash(follower.id)
    for (let n = 0; n < 10; n++) await c.settle(write(leader, create(n, n)))
    await c.restart(follower.id)
    await c.converge()
    const [snap, ...rest] = snapshots(c)
    for (const s of rest) expect(s).toStrictEqual(snap)
    for (let n = 0; n < 10; n++) expect(dataOf(follower, n)).toStrictEqual([n, 0, 0])
  })

  it('restores a lagging member from a Raft snapshot of the store', async () => {
    const c = await cluster({ snapshotInterval: 4, logEntriesForSlowFollowers: 1 })
    const leader = await c.waitLeader()
    await c.converge()
    const lagging = [...c.managers.values()].find((m) => m !== leader)
    if (lagging === undefined) throw new Error('no follower')
    c.net.isolate(lagging.id)
    for (let n = 0; n < 20; n++) await c.settle(write(leader, create(n, n)))
    expect(leader.member.raft.status().lastIndex).toBeGreaterThan(20)
    expect(lagging.member.store.restores).toBe(0)
    c.net.heal()
    await c.converge()
    expect(lagging.member.store.restores).toBe(1)
    // The member skipped the compacted entries: it applied only what came after the snapshot.
    expect(lagging.member.store.applied.length).toBeLessThan(20)
    const [snap, ...rest] = snapshots(c)
    for (const s of rest) expect(s).toStrictEqual(snap)
    for (let n = 0; n < 20; n++) expect(dataOf(lagging, n)).toStrictEqual([n, 0, 0])
    // It keeps applying entries after the snapshot.
    await c.settle(write(leader, create(50, 50)))
    await c.converge()
    expect(dataOf(lagging, 50)).toStrictEqual([50, 0, 0])
  })

  it('restarts a member whose storage holds a snapshot: store restored, then the log after it applied', async () => {
    const c = await cluster({ snapshotInterval: 4, logEntriesForSlowFollowers: 1 })
    const leader = await c.waitLeader()
    for (let n = 0; n < 10; n++) await c.settle(write(leader, create(n, n)))
    await c.converge()
    const before = snapshots(c)
    const id = leader.id
    await c.restart(id)
    const restarted = c.get(id)
    expect(restarted.member.store.restores).toBe(1)
    await c.waitLeader()
    await c.converge()
    expect(snapshots(c)).toStrictEqual(before)
  })
})
