import { describe, expect, it } from 'vitest'
import type { Clock } from '@swarmkit-ts/api'
import { DriverCluster, flush, recordSends } from './helpers/driver-cluster.ts'
import type { DriverMember } from './helpers/driver-cluster.ts'
import { LIGHT_READY_ENTRIES } from '../src/driver/run-loop.ts'
import type { Entry, SyncOptions } from '../src/index.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Records the member's appends, syncs (with their `inline` hint) and applied indexes into `events`. */
function watchMember(m: DriverMember, events: string[]): void {
  const append = m.storage.append.bind(m.storage)
  m.storage.append = (entries: readonly Entry[]) => {
    for (const e of entries) events.push(`${m.id} append ${e.index}`)
    append(entries)
  }
  const sync = m.storage.sync.bind(m.storage)
  m.storage.sync = (options?: SyncOptions) => {
    events.push(`${m.id} sync inline=${String(options?.inline)}`)
    return sync(options)
  }
  const apply = m.sm.apply.bind(m.sm)
  m.sm.apply = (payload: Uint8Array) => {
    events.push(`${m.id} apply ${new TextDecoder().decode(payload)}`)
    return apply(payload)
  }
}

/** A cluster whose clock yields to I/O (as the system clock does), recording each yield. */
async function yieldingCluster(events: string[], options: ConstructorParameters<typeof DriverCluster>[0] = {}): Promise<{ c: DriverCluster; leader: DriverMember; followers: DriverMember[] }> {
  const c = new DriverCluster(options)
  recordSends(c.bus, (from, msgs) => {
    for (const m of msgs) {
      if (m.type === 'app') for (const e of m.entries) events.push(`${from} send app ${e.index} to ${m.to}`)
      if (m.type === 'app-resp') events.push(`${from} send app-resp ${m.index}`)
    }
  })
  await c.bootstrap([1n, 2n, 3n])
  const leader = await c.waitLeader()
  const followers = [1n, 2n, 3n].filter((id) => id !== leader.id).map((id) => c.get(id))
  ;(c.clock as Clock).yieldToIo = () => {
    events.push('yield')
    return Promise.resolve()
  }
  for (const m of [leader, ...followers]) watchMember(m, events)
  return { c, leader, followers }
}

describe('RaftNode: sends leave before the work that need not delay them (Clock.yieldToIo)', () => {
  it('a leader yields to I/O after handing its appends to the transport, before appending to its own storage', async () => {
    const events: string[] = []
    const { c, leader, followers } = await yieldingCluster(events)
    events.length = 0
    const p = leader.node.propose(enc('k=v'))
    await flush()
    const index = leader.storage.lastIndex()
    const mine = events.filter((e) => e === 'yield' || e.startsWith(`${leader.id} `))
    expect(mine.slice(0, 4)).toEqual([...followers.map((f) => `${leader.id} send app ${index} to ${f.id}`), 'yield', `${leader.id} append ${index}`])
    await c.run(100)
    expect(await p).toBe('v')
  })

  it('a follower sends its acknowledgement, yields, and only then applies the committed entries', async () => {
    const events: string[] = []
    const { c, leader, followers } = await yieldingCluster(events)
    const f = followers[0] as DriverMember
    events.length = 0
    const p = leader.node.propose(enc('a=1'))
    await c.run(100)
    expect(await p).toBe('1')
    // The follower applies the entry in the Ready that brings the commit index: its
    // acknowledgement of that Ready goes out first, then a yield, then the apply.
    // (The other follower's events interleave: look at this follower's and the yields.)
    const seen = events.filter((e) => e === 'yield' || e.startsWith(`${f.id} `))
    const at = seen.indexOf(`${f.id} apply a=1`)
    expect(at).toBeGreaterThan(1)
    expect(seen[at - 1]).toBe('yield')
    expect(seen.slice(0, at - 1).filter((e) => e !== 'yield').at(-1)).toMatch(new RegExp(`^${f.id} send app-resp \\d+$`))
  })

  it('with a clock that cannot yield (ManualClock), the order is the same without the yields', async () => {
    const c = new DriverCluster()
    const events: string[] = []
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    watchMember(leader, events)
    const p = leader.node.propose(enc('k=v'))
    await c.run(100)
    expect(await p).toBe('v')
    expect(events).not.toContain('yield')
    expect(events.filter((e) => e.includes('append'))).toEqual([`${leader.id} append ${leader.storage.lastIndex()}`])
  })
})

describe('RaftNode: which writes may be made durable inline (SyncOptions.inline)', () => {
  it('a follower always asks for an inline sync, a leader never; a leader yields only for a handful of entries', async () => {
    const events: string[] = []
    // One proposal per entry, so that several proposals make several entries.
    const { c, leader, followers } = await yieldingCluster(events, { maxBatchProposals: 1 })
    events.length = 0
    const small = leader.node.propose(enc('a=1'))
    await c.run(100)
    await small
    const few = events.filter((e) => e.startsWith(`${leader.id} sync`))
    expect(few).toEqual([`${leader.id} sync inline=false`])
    for (const f of followers) expect(events.filter((e) => e.startsWith(`${f.id} sync`)).every((e) => e.endsWith('inline=true'))).toBe(true)

    events.length = 0
    const many = Array.from({ length: LIGHT_READY_ENTRIES + 2 }, (_, i) => leader.node.propose(enc(`k${i}=${i}`)))
    await c.run(100)
    await Promise.all(many)
    const appends = events.filter((e) => e.startsWith(`${leader.id} append`))
    expect(appends).toHaveLength(LIGHT_READY_ENTRIES + 2)
    expect(events.filter((e) => e.startsWith(`${leader.id} sync`))[0]).toBe(`${leader.id} sync inline=false`)
    // ...and it does not yield between handing over its appends and its own write.
    const mine = events.filter((e) => e === 'yield' || e.startsWith(`${leader.id} `))
    const firstAppend = mine.indexOf(appends[0] as string)
    expect(mine[firstAppend - 1]).toMatch(/ send app /)
  })
})
