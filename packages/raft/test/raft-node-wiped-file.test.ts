/**
 * Issue 12 #3 on real files and real grpc-js: a member whose FileRaftStorage directory is
 * deleted, started again under its old id and address (bootstrapped as on a first start), stops
 * with MemberIdentityError; the other two keep committing, and every acknowledged write is
 * applied on both, in order. A member restarted on its intact directory keeps its incarnation
 * and rejoins as before.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { GrpcRaftTransport } from '../src/transport/grpc-transport.ts'
import { allowAnyRaftPeer } from '../src/transport/grpc-transport-auth.ts'
import { FileRaftStorage, MemberIdentityError, RaftNode } from '../src/index.ts'
import { until, cleanupAfterEach } from './helpers/real-time.ts'
import { TextLog } from './helpers/logs.ts'

const cleanup = cleanupAfterEach()

interface Member {
  id: bigint
  dir: string
  address: string
  storage: FileRaftStorage
  transport: GrpcRaftTransport
  node: RaftNode
  sm: TextLog
  failures: unknown[]
  refused: Array<[bigint, bigint]>
}

const IDS = [0x101n, (1n << 63n) + 0x202n, 0x303n]

async function startMember(id: bigint, dir: string, listen: string, peers: Array<{ id: bigint; address: string }> | undefined): Promise<Member> {
  const storage = await FileRaftStorage.open(dir)
  const transport = new GrpcRaftTransport({ id, listenAddress: listen, authorize: allowAnyRaftPeer, backoff: { initialMs: 20, maxMs: 200 } })
  const address = await transport.listen()
  const sm = new TextLog()
  const node = new RaftNode({ id, storage, transport, stateMachine: sm, tickMs: 20, electionTick: 10 })
  const m: Member = { id, dir, address, storage, transport, node, sm, failures: [], refused: [] }
  node.on('node:failed', (err) => m.failures.push(err))
  node.on('member:refused', (member, incarnation) => m.refused.push([member, incarnation]))
  if (peers !== undefined) node.bootstrap(peers)
  await node.start()
  cleanup.push(() => stopMember(m))
  return m
}

async function stopMember(m: Member): Promise<void> {
  await m.node.stop()
  await m.transport.stop()
  await m.storage.close()
}

describe('RaftNode on FileRaftStorage over gRPC: a member whose directory was deleted', () => {
  it('is refused and stops with MemberIdentityError; the others keep every acknowledged write; an intact restart rejoins', async () => {
    const root = await mkdtemp(join(tmpdir(), 'raft-wiped-'))
    cleanup.push(() => rm(root, { recursive: true, force: true }))
    // Reserve the addresses first: every member is bootstrapped with all of them.
    const probes = await Promise.all(IDS.map(async (id) => {
      const t = new GrpcRaftTransport({ id, listenAddress: '127.0.0.1:0', authorize: allowAnyRaftPeer })
      const address = await t.listen()
      await t.stop()
      return address
    }))
    const peers = IDS.map((id, i) => ({ id, address: probes[i] as string }))
    let members = await Promise.all(IDS.map((id, i) => startMember(id, join(root, String(i)), probes[i] as string, peers)))
    const leader = (): Member | undefined => members.find((m) => m.node.isLeader && m.failures.length === 0)
    await until(() => leader() !== undefined, 'a leader')
    const acked: string[] = []
    for (const w of ['w=1', 'w=2', 'w=3']) {
      await (leader() as Member).node.propose(new TextEncoder().encode(w))
      acked.push(w)
    }
    await until(() => members.every((m) => m.node.memberIncarnations.size === 3), 'every incarnation bound everywhere')
    for (const m of members) for (const other of members) expect(m.node.memberIncarnations.get(other.id)).toBe(other.storage.incarnation)

    // A follower loses its directory and starts again under its id and address.
    const victim = members.find((m) => !m.node.isLeader) as Member
    const oldIncarnation = victim.storage.incarnation
    await stopMember(victim)
    await rm(victim.dir, { recursive: true })
    const wiped = await startMember(victim.id, victim.dir, victim.address, peers)
    expect(wiped.storage.incarnation).not.toBe(oldIncarnation)
    members = members.map((m) => (m.id === victim.id ? wiped : m))
    await until(() => wiped.failures.length > 0, 'the wiped member to stop')
    expect(wiped.failures).toHaveLength(1)
    expect(wiped.failures[0]).toBeInstanceOf(MemberIdentityError)
    expect(wiped.failures[0]).toMatchObject({ memberId: victim.id, boundIncarnation: oldIncarnation, incarnation: wiped.storage.incarnation })

    // The other two go on; everything acknowledged is applied on both, in order.
    const live = members.filter((m) => m !== wiped)
    await until(() => leader() !== undefined, 'a leader among the live members')
    for (const w of ['w=4', 'w=5']) {
      await (leader() as Member).node.propose(new TextEncoder().encode(w))
      acked.push(w)
    }
    await until(() => live.every((m) => m.sm.applied.length === acked.length), 'every write applied on the live members')
    for (const m of live) expect(m.sm.applied).toEqual(acked)
    for (const m of live) expect(m.node.memberIncarnations.get(victim.id)).toBe(oldIncarnation)
    for (const m of live) for (const [member, incarnation] of m.refused) expect([member, incarnation]).toEqual([victim.id, wiped.storage.incarnation])

    // A live follower restarted on its intact directory keeps its incarnation and catches up.
    const follower = live.find((m) => !m.node.isLeader) as Member
    const kept = follower.storage.incarnation
    await stopMember(follower)
    const back = await startMember(follower.id, follower.dir, follower.address, undefined)
    members = members.map((m) => (m.id === follower.id ? back : m))
    expect(back.storage.incarnation).toBe(kept)
    await until(() => leader() !== undefined, 'a leader after the restart')
    await (leader() as Member).node.propose(new TextEncoder().encode('w=6'))
    acked.push('w=6')
    await until(() => back.sm.applied.length === acked.length, 'the restarted member to catch up')
    expect(back.sm.applied).toEqual(acked)
    expect(back.failures).toEqual([])
  }, 120_000)
})
