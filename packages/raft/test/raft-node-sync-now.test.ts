import { describe, expect, it } from 'vitest'
import { DriverCluster } from './helpers/driver-cluster.ts'
import { MemoryRaftStorage } from '../src/index.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Memory storage that offers `syncNow` and counts which barrier each call used. */
class CountingStorage extends MemoryRaftStorage {
  syncs = 0
  inline = 0
  /** What `syncNow` answers (false: it could not, the driver must fall back to `sync()`). */
  inlineWorks = true
  override sync(): Promise<void> {
    this.syncs++
    return super.sync()
  }
  syncNow(): boolean {
    if (!this.inlineWorks) return false
    this.inline++
    return true
  }
}

async function cluster(inlineWorks: boolean): Promise<{ c: DriverCluster; storages: Map<bigint, CountingStorage> }> {
  const c = new DriverCluster({ tickMs: 1000 })
  const storages = new Map<bigint, CountingStorage>()
  const ids = [1n, 2n, 3n]
  for (const id of ids) {
    const s = new CountingStorage({ incarnation: null })
    s.inlineWorks = inlineWorks
    storages.set(id, s)
    c.create(id, s).node.bootstrap(ids.map((p) => ({ id: p, address: `node-${p}` })))
  }
  for (const id of ids) await c.get(id).node.start()
  return { c, storages }
}

describe('RaftNode with a storage offering syncNow()', () => {
  it('makes a follower\'s appends durable on its own thread, the leader\'s through sync(); every write is applied everywhere', async () => {
    const { c, storages } = await cluster(true)
    const leader = await c.waitLeader(60_000)
    await c.run(3000)
    for (const s of storages.values()) {
      s.syncs = 0
      s.inline = 0
    }
    for (let i = 0; i < 5; i++) expect(await c.settle(leader.node.propose(enc(`k${i}=${i}`)))).toBe(String(i))
    await c.run(3000)
    const ls = storages.get(leader.id) as CountingStorage
    expect(ls.inline).toBe(0)
    expect(ls.syncs).toBeGreaterThanOrEqual(5)
    for (const [id, s] of storages) {
      if (id === leader.id) continue
      expect(s.inline).toBeGreaterThanOrEqual(5)
      expect(s.syncs).toBe(0)
      expect(c.get(id).sm.data.get('k4')).toBe('4')
    }
  })

  it('falls back to sync() when syncNow() cannot do it', async () => {
    const { c, storages } = await cluster(false)
    const leader = await c.waitLeader(60_000)
    await c.run(3000)
    for (const s of storages.values()) s.syncs = 0
    expect(await c.settle(leader.node.propose(enc('a=1')))).toBe('1')
    await c.run(3000)
    for (const [id, s] of storages) {
      expect(s.inline).toBe(0)
      expect(s.syncs).toBeGreaterThanOrEqual(1)
      expect(c.get(id).sm.data.get('a')).toBe('1')
    }
  })
})
