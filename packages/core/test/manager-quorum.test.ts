import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decideRemoval, quorumOf } from '../src/manager/quorum.ts'

const m = (raftId: bigint, reachable: boolean): { raftId: bigint; reachable: boolean } => ({ raftId, reachable })

describe('decideRemoval', () => {
  it('allows removing a follower of three when the leader reaches the other one', () => {
    expect(decideRemoval([m(1n, true), m(2n, true), m(3n, true)], 3n, 1n)).toEqual({ allowed: true, reachableAfter: 2, quorumAfter: 2 })
  })

  it('refuses removing a reachable follower of three when the third is down (quorum)', () => {
    expect(decideRemoval([m(1n, true), m(2n, true), m(3n, false)], 2n, 1n)).toEqual({ allowed: false, reason: 'quorum', reachableAfter: 1, quorumAfter: 2 })
  })

  it('allows removing the member that is down when the other two are up', () => {
    expect(decideRemoval([m(1n, true), m(2n, true), m(3n, false)], 3n, 1n)).toEqual({ allowed: true, reachableAfter: 2, quorumAfter: 2 })
  })

  it('counts the deciding leader reachable even when its own flag says otherwise', () => {
    expect(decideRemoval([m(1n, false), m(2n, true)], 2n, 1n)).toEqual({ allowed: true, reachableAfter: 1, quorumAfter: 1 })
  })

  it('refuses removing the last manager', () => {
    expect(decideRemoval([m(1n, true)], 1n, 1n)).toEqual({ allowed: false, reason: 'last-manager', reachableAfter: 0, quorumAfter: 1 })
  })

  it('refuses removing an id that is not a member', () => {
    expect(decideRemoval([m(1n, true), m(2n, true)], 9n, 1n)).toMatchObject({ allowed: false, reason: 'not-a-member' })
  })

  it('quorumOf is the strict majority', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(quorumOf)).toEqual([1, 2, 2, 3, 3, 4, 4])
  })
})

/** 1 to 9 distinct members with random reachability, one of them the deciding leader, one removed. */
const scenario = fc
  .uniqueArray(fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }), { minLength: 1, maxLength: 9 })
  .chain((ids) =>
    fc.record({
      members: fc.tuple(...ids.map((id) => fc.boolean().map((reachable) => m(id, reachable)))),
      self: fc.constantFrom(...ids),
      removing: fc.constantFrom(...ids),
    }),
  )

describe('decideRemoval properties', () => {
  it('an allowed removal leaves a reachable majority of the remaining members', () => {
    fc.assert(
      fc.property(scenario, ({ members, self, removing }) => {
        const d = decideRemoval(members, removing, self)
        const remaining = members.filter((x) => x.raftId !== removing)
        const reachable = remaining.filter((x) => x.raftId === self || x.reachable).length
        if (d.allowed) {
          expect(remaining.length).toBeGreaterThan(0)
          expect(reachable * 2).toBeGreaterThan(remaining.length)
        } else {
          expect(remaining.length === 0 || reachable * 2 <= remaining.length).toBe(true)
        }
      }),
    )
  })

  it('reaching one more member never turns an allowed removal into a refusal', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ({ members, self, removing }, pick) => {
        const i = pick % members.length
        const better = members.map((x, j) => (j === i ? m(x.raftId, true) : x))
        if (decideRemoval(members, removing, self).allowed) expect(decideRemoval(better, removing, self).allowed).toBe(true)
      }),
    )
  })
})
