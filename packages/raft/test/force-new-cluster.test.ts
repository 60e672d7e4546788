/**
 * forceNewCluster: the log of one member of a three-member group that lost the other two becomes
 * a one-member group's log — every committed entry kept (across a snapshot), the uncommitted tail
 * dropped — the member elects itself, commits again, and a new member can join it.
 */
import { describe, expect, it } from 'vitest'
import { FailedPreconditionError, InvalidArgumentError } from '@swarmkit-ts/api'
import { MemoryRaftStorage, forceNewCluster } from '../src/index.ts'
import { DriverCluster, flush } from './helpers/driver-cluster.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('forceNewCluster', () => {
  it('keeps every committed entry, drops the uncommitted tail, leaves this member alone in the group; it elects itself, commits, and a new member joins', async () => {
    const old = new DriverCluster({ snapshotInterval: 3, logEntriesForSlowFollowers: 1 })
    await old.bootstrap([1n, 2n, 3n])
    const leader = await old.waitLeader()
    for (const kv of ['a=1', 'b=2', 'c=3', 'd=4']) await old.settle(leader.node.propose(enc(kv)))
    await old.run(500) // every member applies everything
    const survivor = old.get(1n)
    expect(survivor.sm.data.get('d')).toBe('4')
    // The other two are lost; a write on the survivor cannot commit any more.
    await old.get(2n).node.stop()
    await old.get(3n).node.stop()
    await old.run(5000)
    const appended = survivor.storage.lastIndex()
    if (survivor.node.isLeader) {
      const lost = survivor.node.propose(enc('e=5')).catch((err: unknown) => err)
      await old.run(500)
      expect(survivor.storage.lastIndex()).toBe(appended + 1)
      await survivor.node.stop()
      expect(await lost).toBeInstanceOf(Error)
    } else {
      await survivor.node.stop()
    }
    const storage = survivor.storage
    expect(storage.snapshot().metadata.index).toBeGreaterThan(0) // a snapshot holds part of it

    const result = await forceNewCluster(storage, 1n, 'node-1')
    expect(result.removed).toEqual([2n, 3n])
    expect(result.added).toBe(false)
    expect(storage.initialState().hardState.commit).toBe(result.commit)
    expect(storage.lastIndex()).toBe(result.commit)

    const fresh = new DriverCluster({ snapshotInterval: 3, logEntriesForSlowFollowers: 1 })
    const m1 = fresh.create(1n, storage)
    await m1.node.start()
    await flush()
    const elected = await fresh.waitLeader()
    expect(elected.id).toBe(1n)
    expect(m1.node.status().config.voters).toEqual([1n])
    expect([...m1.node.members.keys()]).toEqual([1n])
    expect([...m1.sm.data]).toEqual([['a', '1'], ['b', '2'], ['c', '3'], ['d', '4']])
    expect(await fresh.settle(m1.node.propose(enc('f=6')))).toBe('6')

    const m4 = fresh.create(4n)
    await fresh.settle(m1.node.addMember(4n, 'node-4'))
    await m4.node.start()
    await fresh.run(2000)
    expect([...m4.sm.data]).toEqual([['a', '1'], ['b', '2'], ['c', '3'], ['d', '4'], ['f', '6']])
    expect(m1.node.status().config.voters).toEqual([1n, 4n])
    for (const m of [m1, m4]) await m.node.stop()
  }, 60_000)

  it('adds this member when the log does not count it, and refuses an empty storage and a bad id', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n])
    const leader = await c.waitLeader()
    await c.settle(leader.node.propose(enc('a=1')))
    await c.run(500)
    for (const id of [1n, 2n]) await c.get(id).node.stop()
    const result = await forceNewCluster(c.get(1n).storage, 9n, 'node-9')
    expect(result).toMatchObject({ removed: [1n, 2n], added: true })
    const fresh = new DriverCluster()
    const m9 = fresh.create(9n, c.get(1n).storage)
    await m9.node.start()
    await fresh.waitLeader()
    expect(m9.node.status().config.voters).toEqual([9n])
    expect(m9.node.members.get(9n)).toBe('node-9')
    expect(m9.sm.data.get('a')).toBe('1')
    await m9.node.stop()

    await expect(forceNewCluster(new MemoryRaftStorage(), 1n, 'x')).rejects.toMatchObject({ name: FailedPreconditionError.name, reason: 'empty-log' })
    await expect(forceNewCluster(new MemoryRaftStorage(), 0n, 'x')).rejects.toMatchObject({ name: InvalidArgumentError.name, field: 'self' })
    await expect(forceNewCluster(new MemoryRaftStorage(), 1n, '')).rejects.toMatchObject({ name: InvalidArgumentError.name, field: 'address' })
  }, 60_000)
})
