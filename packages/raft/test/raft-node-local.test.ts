import { InvalidArgumentError } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { DriverCluster, flush } from './helpers/driver-cluster.ts'
import type { DriverMember } from './helpers/driver-cluster.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

/** Records, per applied payload, the `local` handle the driver passed to `m`'s state machine. */
function recordLocal(m: DriverMember): Map<string, object | undefined> {
  const seen = new Map<string, object | undefined>()
  const apply = m.sm.apply.bind(m.sm)
  m.sm.apply = (payload: Uint8Array, entry?: unknown, local?: object): unknown => {
    seen.set(dec(payload), local)
    return apply(payload)
  }
  return seen
}

describe('RaftNode.propose hands a local handle back to its own state machine only', () => {
  it('gives the handle to the proposing member and nothing to the others', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    const follower = c.follower(leader)
    const other = [...c.members.values()].find((m) => m !== leader && m !== follower) as DriverMember
    const seen = new Map([leader, follower, other].map((m) => [m.id, recordLocal(m)]))
    const mine = { tag: 'leader' }
    const forwarded = { tag: 'follower' }

    await c.settle(leader.node.propose(enc('a=1'), { local: mine }))
    await c.settle(follower.node.propose(enc('b=2'), { local: forwarded }))
    await c.settle(leader.node.propose(enc('c=3')))
    await c.run(500)

    expect(Object.fromEntries(seen.get(leader.id) ?? [])).toEqual({ 'a=1': mine, 'b=2': undefined, 'c=3': undefined })
    expect(seen.get(leader.id)?.get('a=1')).toBe(mine)
    expect(seen.get(follower.id)?.get('b=2')).toBe(forwarded)
    expect(Object.fromEntries(seen.get(follower.id) ?? [])).toEqual({ 'a=1': undefined, 'b=2': forwarded, 'c=3': undefined })
    expect(Object.fromEntries(seen.get(other.id) ?? [])).toEqual({ 'a=1': undefined, 'b=2': undefined, 'c=3': undefined })
  })

  it('gives no handle for a proposal whose caller stopped waiting (aborted before it committed)', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n, 2n, 3n])
    const leader = await c.waitLeader()
    const seen = recordLocal(leader)
    for (const m of c.members.values()) if (m !== leader) c.bus.isolated.add(m.id)
    const ac = new AbortController()
    const p = leader.node.propose(enc('x=1'), { local: { tag: 'aborted' }, signal: ac.signal })
    const outcome = p.then(
      () => 'resolved',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    )
    await c.run(50) // proposed and appended, but no quorum
    expect(seen.has('x=1')).toBe(false)
    ac.abort(new Error('caller gave up'))
    expect(await outcome).toBe('caller gave up')
    c.bus.isolated.clear()
    for (let t = 0; t < 20_000 && !seen.has('x=1'); t += 100) await c.run(100)
    expect(seen.has('x=1')).toBe(true)
    expect(seen.get('x=1')).toBeUndefined()
  })

  it('gives no handle when a restarted member applies its own earlier entries again', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n])
    const m = await c.waitLeader()
    await c.settle(m.node.propose(enc('k=1'), { local: { tag: 'first life' } }))
    await m.node.stop()
    await flush()
    const again = c.create(1n, m.storage)
    const seen = recordLocal(again)
    await again.node.start()
    await c.waitLeader()
    await c.settle(again.node.propose(enc('k=2')))
    expect(Object.fromEntries(seen)).toEqual({ 'k=1': undefined, 'k=2': undefined })
    expect(again.sm.data.get('k')).toBe('2')
  })

  it('rejects a handle that is not an object with InvalidArgumentError naming local', async () => {
    const c = new DriverCluster()
    await c.bootstrap([1n])
    const m = await c.waitLeader()
    const err: unknown = await m.node.propose(enc('k=1'), { local: 'token' as unknown as object }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('local')
  })
})
