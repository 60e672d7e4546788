import { describe, expect, it } from 'vitest'
import { DriverCluster, flush, recordSends } from './helpers/driver-cluster.ts'
import type { Entry } from '../src/index.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('RaftNode leader: replication starts before its own write', () => {
  it('sends the appends of a new entry to every follower before appending the entry to its own storage', async () => {
    const c = new DriverCluster()
    const events: string[] = []
    // Every member's transport records the appends it is handed.
    recordSends(c.bus, (_from, msgs) => {
      for (const m of msgs) if (m.type === 'app') for (const e of m.entries) events.push(`send ${m.to} ${e.index}`)
    })
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    const append = leader.storage.append.bind(leader.storage)
    leader.storage.append = (entries: readonly Entry[]) => {
      for (const e of entries) events.push(`append ${e.index}`)
      append(entries)
    }
    events.length = 0

    const p = leader.node.propose(enc('k=v'))
    await flush()
    const index = leader.storage.lastIndex()
    const followers = [1n, 2n, 3n].filter((id) => id !== leader.id)
    expect(events.filter((e) => e.endsWith(` ${index}`))).toEqual([...followers.map((id) => `send ${id} ${index}`), `append ${index}`])

    await c.run(100)
    expect(await p).toBe('v')
  })
})
