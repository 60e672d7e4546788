// ChannelPool (the connector's channels by address): its invariants under any sequence of
// connections, calls starting and calls ending, then close().
import { UnavailableError } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ChannelPool } from '../src/dispatcher/channel-pool.ts'

const ADDRESSES = ['10.0.0.1:2377', '10.0.0.2:2377', '10.0.0.3:2377'] as const

type Op = { readonly kind: 'use'; readonly address: string | undefined } | { readonly kind: 'acquire'; readonly address: string } | { readonly kind: 'release'; readonly pick: number }

const address = fc.constantFrom(...ADDRESSES)
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('use' as const), address: fc.option(address, { nil: undefined }) }),
  fc.record({ kind: fc.constant('acquire' as const), address }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
)

/** A channel as the fake ops see it. */
interface FakeChannel {
  readonly address: string
  closes: number
}

describe('ChannelPool', () => {
  it('never closes a channel in use, keeps only channels in use or current, closes each exactly once', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const opened: FakeChannel[] = []
        const pool = new ChannelPool<FakeChannel>({
          open: (a) => {
            const c = { address: a, closes: 0 }
            opened.push(c)
            return c
          },
          close: (c) => {
            c.closes++
          },
        })
        let current: string | undefined
        const held: FakeChannel[] = []
        for (const o of ops) {
          switch (o.kind) {
            case 'use':
              current = o.address
              pool.use(o.address)
              break
            case 'acquire':
              held.push(pool.acquire(o.address))
              break
            case 'release': {
              if (held.length === 0) break
              const [c] = held.splice(o.pick % held.length, 1)
              if (c !== undefined) pool.release(c.address)
              break
            }
          }
          const open = opened.filter((c) => c.closes === 0)
          // Never closed under a call; never closed twice.
          for (const c of held) expect(c.closes).toBe(0)
          expect(opened.every((c) => c.closes <= 1)).toBe(true)
          // One channel per address, and only those in use or current.
          expect(new Set(open.map((c) => c.address)).size).toBe(open.length)
          expect([...pool.addresses].sort()).toStrictEqual(open.map((c) => c.address).sort())
          for (const c of open) expect(c.address === current || held.some((h) => h.address === c.address)).toBe(true)
        }
        pool.close()
        expect(opened.map((c) => c.closes)).toStrictEqual(opened.map(() => 1))
        expect(pool.addresses).toStrictEqual([])
        expect(() => pool.acquire(ADDRESSES[0])).toThrow(UnavailableError)
      }),
      { numRuns: 300 },
    )
  })

  it('keeps the current address open between its calls and closes the one left once its calls end', () => {
    const closed: string[] = []
    const pool = new ChannelPool<string>({ open: (a) => a, close: (c) => closed.push(c) })
    pool.use('a:1')
    pool.acquire('a:1')
    pool.release('a:1')
    expect(pool.addresses).toStrictEqual(['a:1'])
    pool.acquire('a:1')
    pool.use('b:1')
    expect(pool.addresses).toStrictEqual(['a:1'])
    pool.release('a:1')
    expect([pool.addresses, closed]).toStrictEqual([[], ['a:1']])
  })
})
