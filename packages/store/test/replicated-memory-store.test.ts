/**
 * Replication of the real MemoryStore: 3 managers built with `createReplicatedStore` over
 * MemoryNetwork, written through `store.update` (group commit) on the leader.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { sharedBytes } from '@swarmkit-ts/api'
import type { ByteAllocator, Secret, StoreEvent } from '@swarmkit-ts/api'
import { MemoryStore } from '../src/memory-store.ts'
import { createReplicatedStore } from '../src/replication/replicated-store.ts'
import { ReplicatedCluster, objectId } from './replicated-cluster.ts'
import type { Manager } from './replicated-cluster.ts'

const clusters: ReplicatedCluster<MemoryStore>[] = []
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stop()
})

async function cluster(options: { seed?: number; snapshotInterval?: number; allocBytes?: ByteAllocator } = {}): Promise<ReplicatedCluster<MemoryStore>> {
  const c = new ReplicatedCluster<MemoryStore>({
    seed: options.seed ?? 1,
    createMember: (raft) => createReplicatedStore({ raft }),
    raft: { snapshotInterval: options.snapshotInterval ?? 0, logEntriesForSlowFollowers: 1, ...(options.allocBytes === undefined ? {} : { allocBytes: options.allocBytes }) },
  })
  clusters.push(c)
  await c.start()
  return c
}

type M = Manager<MemoryStore>

function newSecret(n: number, value: number): Omit<Secret, 'meta'> {
  return { id: objectId(n), spec: { annotations: { name: `secret-${n}` }, data: Uint8Array.of(value) } }
}

const create = (m: M, n: number, value: number): Promise<Secret> => m.member.store.update((tx) => tx.secrets.create(newSecret(n, value)))
const setValue = (m: M, n: number, value: number): Promise<Secret> =>
  m.member.store.update((tx) =>
    tx.secrets.update(objectId(n), (d) => {
      d.spec.data = Uint8Array.of(value)
    }),
  )
const read = (m: M, n: number): Secret | undefined => m.member.store.view((tx) => tx.secrets.get(objectId(n)))
const valueOf = (m: M, n: number): number | undefined => read(m, n)?.spec.data?.[0]

function expectIdentical(c: ReplicatedCluster<MemoryStore>): void {
  const snaps = [...c.managers.values()].map((m) => [...m.member.store.snapshot()])
  for (const s of snaps.slice(1)) expect(s).toStrictEqual(snaps[0])
}

function others(c: ReplicatedCluster<MemoryStore>, m: M): M[] {
  return [...c.managers.values()].filter((x) => x !== m)
}

/** Collects a watch's events in the background. */
function collect(store: MemoryStore): StoreEvent[] {
  const events: StoreEvent[] = []
  const w = store.watch({ kinds: 'secret' })
  void (async () => {
    for await (const ev of w) events.push(ev)
  })()
  return events
}

describe('replicated MemoryStore (createReplicatedStore, 3 managers)', () => {
  it('replicates an update() made on the leader to every manager at the same version', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    const followerEvents = collect(others(c, leader)[0]?.member.store ?? new MemoryStore())
    const created = await c.settle(create(leader, 1, 7))
    expect(created.id).toBe(objectId(1))
    await c.converge()
    const version = leader.member.store.version
    expect(version).toBe(BigInt(leader.member.raft.applied))
    for (const m of c.managers.values()) {
      expect(m.member.store.version).toBe(version)
      expect(read(m, 1)?.meta.version.index).toBe(version)
      expect(valueOf(m, 1)).toBe(7)
    }
    expectIdentical(c)
    await c.run(10)
    expect(followerEvents.map((e) => e.action)).toStrictEqual(['create', 'commit'])
    expect(followerEvents[1]).toStrictEqual({ action: 'commit', version: { index: version } })
  })

  it("applies the leader's own transaction objects without decoding; every follower decodes the entry", async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    const created = await c.settle(create(leader, 1, 7))
    await c.converge()
    // The leader stores the very (frozen) parts its transaction made: no decode happened there.
    expect(read(leader, 1)?.spec).toBe(created.spec)
    for (const f of others(c, leader)) {
      const copy = read(f, 1)
      expect(copy?.spec).not.toBe(created.spec)
      expect(copy).toStrictEqual(read(leader, 1))
    }
    expectIdentical(c)
  })

  it('group-commits concurrent updates into few log entries', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    await c.converge()
    const before = leader.member.raft.status().lastIndex
    const writes = Array.from({ length: 100 }, (_, n) => create(leader, n, n))
    const results = await c.settle(Promise.all(writes))
    expect(results.map((s) => s.id)).toStrictEqual(Array.from({ length: 100 }, (_, n) => objectId(n)))
    const entries = leader.member.raft.status().lastIndex - before
    expect(entries).toBeGreaterThanOrEqual(1)
    expect(entries).toBeLessThanOrEqual(3)
    await c.converge()
    for (const m of c.managers.values()) expect(m.member.store.view((tx) => tx.secrets.find().length)).toBe(100)
    expectIdentical(c)
  })

  it('fails update() on a follower fast with NotLeaderError carrying the leader address; the store stays usable', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    await c.converge()
    const follower = others(c, leader)[0]
    if (follower === undefined) throw new Error('no follower')
    const expected = { name: 'NotLeaderError', leaderId: leader.id, leaderAddr: `manager-${leader.id}:4242` }
    await expect(create(follower, 1, 1)).rejects.toMatchObject(expected)
    await expect(create(follower, 2, 2)).rejects.toMatchObject(expected)
    expect(read(follower, 1)).toBeUndefined()
    // Leadership moves to the follower: its store now accepts writes.
    await c.settle(leader.member.raft.transferLeadership(follower.id))
    await c.waitLeader({ not: leader.id })
    await c.settle(create(follower, 3, 3))
    await c.converge()
    for (const m of c.managers.values()) {
      expect(read(m, 1)).toBeUndefined()
      expect(valueOf(m, 3)).toBe(3)
    }
    await expect(create(leader, 4, 4)).rejects.toMatchObject({ name: 'NotLeaderError', leaderId: follower.id, leaderAddr: `manager-${follower.id}:4242` })
    expectIdentical(c)
  })

  it('reports a stale write from a lagging manager view as SequenceConflictError at apply time', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    await c.settle(create(leader, 1, 1))
    await c.converge()
    const follower = others(c, leader)[0]
    if (follower === undefined) throw new Error('no follower')
    const stale = read(follower, 1)
    if (stale === undefined) throw new Error('not replicated')
    await c.settle(setValue(leader, 1, 2))
    const attempt = leader.member.store.update((tx) => tx.secrets.update({ ...stale, spec: { ...stale.spec, data: Uint8Array.of(9) } }))
    await expect(c.settle(attempt)).rejects.toMatchObject({ name: 'SequenceConflictError', kind: 'secret', id: objectId(1) })
    await c.converge()
    for (const m of c.managers.values()) expect(valueOf(m, 1)).toBe(2)
  })

  it('fails the writes in flight on a cut-off leader; the new leader goes on; every manager ends identical', async () => {
    const c = await cluster({ seed: 5 })
    const first = await c.waitLeader()
    await c.settle(create(first, 1, 1))
    await c.converge()
    c.net.isolate(first.id)
    const lost = [setValue(first, 1, 50), create(first, 2, 50)]
    for (const p of lost) p.catch(() => {})
    const second = await c.waitLeader({ not: first.id })
    await c.settle(setValue(second, 1, 2))
    for (const p of lost) await expect(c.settle(p)).rejects.toMatchObject({ name: expect.stringMatching(/^(LeadershipLostError|NotLeaderError)$/) as unknown })
    c.net.heal()
    await c.converge()
    for (const m of c.managers.values()) {
      expect(valueOf(m, 1)).toBe(2)
      expect(read(m, 2)).toBeUndefined()
    }
    expectIdentical(c)
    // The old leader's store is a follower now and still works as one.
    await expect(create(first, 3, 3)).rejects.toMatchObject({ name: 'NotLeaderError', leaderId: second.id })
  })

  it('restores a lagging manager from a Raft snapshot of the MemoryStore; its watchers see the difference', async () => {
    const c = await cluster({ snapshotInterval: 3 })
    const leader = await c.waitLeader()
    await c.settle(create(leader, 0, 0))
    await c.converge()
    const lagging = others(c, leader)[0]
    if (lagging === undefined) throw new Error('no follower')
    const events = collect(lagging.member.store)
    c.net.isolate(lagging.id)
    for (let n = 1; n <= 12; n++) await c.settle(create(leader, n, n))
    await c.settle(setValue(leader, 0, 99))
    c.net.heal()
    await c.converge()
    expectIdentical(c)
    for (let n = 1; n <= 12; n++) expect(valueOf(lagging, n)).toBe(n)
    expect(valueOf(lagging, 0)).toBe(99)
    await c.run(10)
    // The restore arrives as the difference (creates, and the update if the snapshot holds it)
    // under one commit at the snapshot's version; entries the snapshot does not hold follow, a
    // commit each (where the last snapshot falls depends on every entry of the log, the driver's
    // incarnation bindings included). In all: 12 creates and one update, each seen once.
    const firstCommit = events.findIndex((e) => e.action === 'commit')
    expect(firstCommit).toBeGreaterThan(1) // several objects under one commit: a snapshot, not single entries
    expect(events.slice(0, firstCommit).every((e) => e.action === 'create' || e.action === 'update')).toBe(true)
    expect(events.filter((e) => e.action === 'create').length).toBe(12)
    expect(events.filter((e) => e.action === 'update').map((e) => (e.action === 'update' ? e.object.id : ''))).toStrictEqual([objectId(0)])
    expect(events.at(-1)?.action).toBe('commit')
  })

  it('with allocBytes: the log, the store snapshots and the envelopes on shared arrays; a lagging manager restores from one', async () => {
    const taken: number[] = []
    const c = await cluster({
      snapshotInterval: 3,
      allocBytes: (n) => {
        taken.push(n)
        return sharedBytes(n)
      },
    })
    const leader = await c.waitLeader()
    await c.settle(create(leader, 0, 0))
    await c.converge()
    const lagging = others(c, leader)[0]
    if (lagging === undefined) throw new Error('no follower')
    c.net.isolate(lagging.id)
    for (let n = 1; n <= 12; n++) await c.settle(create(leader, n, n))
    c.net.heal()
    await c.converge()
    expectIdentical(c)
    for (let n = 0; n <= 12; n++) expect(valueOf(lagging, n)).toBe(n)
    const snap = leader.storage.snapshot()
    expect(snap.metadata.index).toBeGreaterThan(0)
    expect(snap.data.buffer).toBeInstanceOf(SharedArrayBuffer)
    const entries = leader.storage.entries(leader.storage.firstIndex(), leader.storage.lastIndex() + 1).filter((e) => e.data.byteLength > 0)
    for (const e of entries) if (e.type === 'normal') expect(e.data.buffer).toBeInstanceOf(SharedArrayBuffer)
    // Entries, and per snapshot the store's array and the envelope.
    expect(taken.length).toBeGreaterThanOrEqual(13 + 2)
  })

  it('recovers every MemoryStore from Raft storage after the whole cluster restarts', async () => {
    const c = await cluster({ snapshotInterval: 4 })
    const leader = await c.waitLeader()
    for (let n = 0; n < 10; n++) await c.settle(create(leader, n, n))
    for (let n = 0; n < 10; n += 2) await c.settle(setValue(leader, n, 100 + n))
    await c.converge()
    const before = [...c.managers.values()].map((m) => [...m.member.store.snapshot()])
    for (const id of c.managers.keys()) await c.crash(id)
    for (const id of c.managers.keys()) await c.restart(id)
    const next = await c.waitLeader()
    await c.converge()
    expect([...c.managers.values()].map((m) => [...m.member.store.snapshot()])).toStrictEqual(before)
    await c.settle(create(next, 20, 20))
    await c.converge()
    for (const m of c.managers.values()) {
      expect(valueOf(m, 20)).toBe(20)
      expect(valueOf(m, 4)).toBe(104)
    }
    expectIdentical(c)
  })

  it('defaults the store clock to the Raft clock (timestamps are identical on every manager)', async () => {
    const c = await cluster()
    const leader = await c.waitLeader()
    const created = await c.settle(create(leader, 1, 1))
    expect(created.meta.createdAt).toBeGreaterThanOrEqual(1_700_000_000_000)
    await c.converge()
    for (const m of c.managers.values()) expect(read(m, 1)?.meta.createdAt).toBe(created.meta.createdAt)
  })
})
