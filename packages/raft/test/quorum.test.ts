import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jointCommitted, jointVoteResult, majorityCommitted, majorityVoteResult } from '../src/core/quorum.ts'

const set = (...ids: bigint[]): Set<bigint> => new Set(ids)
const acked = (m: Record<string, number>) => (id: bigint): number | undefined => m[String(id)]

describe('majority quorum', () => {
  it('commits the highest index held by a majority', () => {
    expect(majorityCommitted(set(), acked({}))).toBe(Infinity)
    expect(majorityCommitted(set(1n), acked({ 1: 5 }))).toBe(5)
    expect(majorityCommitted(set(1n, 2n), acked({ 1: 5, 2: 3 }))).toBe(3)
    expect(majorityCommitted(set(1n, 2n, 3n), acked({ 1: 5, 2: 3 }))).toBe(3)
    expect(majorityCommitted(set(1n, 2n, 3n), acked({ 1: 5 }))).toBe(0)
    expect(majorityCommitted(set(1n, 2n, 3n, 4n), acked({ 1: 9, 2: 8, 3: 2, 4: 1 }))).toBe(2)
    expect(majorityCommitted(set(1n, 2n, 3n, 4n, 5n), acked({ 1: 9, 2: 8, 3: 7, 4: 1 }))).toBe(7)
  })

  it('agrees with a brute-force definition', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 9 }), (idx) => {
        const ids = idx.map((_, i) => BigInt(i + 1))
        const got = majorityCommitted(new Set(ids), (id) => idx[Number(id) - 1])
        // the largest x such that more than half of the voters have acked ≥ x
        let want = 0
        for (const x of idx) if (idx.filter((y) => y >= x).length > idx.length / 2) want = Math.max(want, x)
        expect(got).toBe(want)
      }),
    )
  })

  it('decides elections', () => {
    const v = (m: Record<string, boolean>): Map<bigint, boolean> => new Map(Object.entries(m).map(([k, b]) => [BigInt(k), b]))
    expect(majorityVoteResult(set(), v({}))).toBe('won')
    expect(majorityVoteResult(set(1n, 2n, 3n), v({ 1: true }))).toBe('pending')
    expect(majorityVoteResult(set(1n, 2n, 3n), v({ 1: true, 2: true }))).toBe('won')
    expect(majorityVoteResult(set(1n, 2n, 3n), v({ 1: true, 2: false, 3: false }))).toBe('lost')
    expect(majorityVoteResult(set(1n, 2n, 3n, 4n), v({ 1: true, 2: true, 3: false }))).toBe('pending')
    expect(majorityVoteResult(set(1n, 2n, 3n, 4n), v({ 1: true, 2: false, 3: false }))).toBe('lost')
    expect(majorityVoteResult(set(1n, 2n), v({ 1: true, 9: true }))).toBe('pending') // non-voters do not count
  })
})

describe('joint quorum', () => {
  it('needs both halves to commit and to win', () => {
    const m = acked({ 1: 10, 2: 10, 3: 1, 4: 1 })
    expect(jointCommitted(set(2n, 3n, 4n), set(1n, 2n, 3n), m)).toBe(1)
    expect(jointCommitted(set(1n, 2n, 3n), set(), m)).toBe(10)
    const v = new Map<bigint, boolean>([[1n, true], [2n, true]])
    expect(jointVoteResult(set(2n, 3n, 4n), set(1n, 2n, 3n), v)).toBe('pending')
    v.set(3n, true)
    expect(jointVoteResult(set(2n, 3n, 4n), set(1n, 2n, 3n), v)).toBe('won')
    const lost = new Map<bigint, boolean>([[3n, false], [4n, false], [1n, true], [2n, true]])
    expect(jointVoteResult(set(2n, 3n, 4n), set(1n, 2n, 3n), lost)).toBe('lost')
  })
})
