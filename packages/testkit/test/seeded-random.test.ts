import { generateId } from '@swarmkit-ts/api'
import type { Random } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { SeededRandom } from '../src/index.ts'

/** Pearson's chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0)
  const expected = total / counts.length
  return counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0)
}

// chi-square critical value for 9 degrees of freedom at p = 0.001
const CHI2_9DOF_P001 = 27.877

describe('SeededRandom', () => {
  it('is a Random and keeps its seed', () => {
    const r: Random = new SeededRandom(42)
    expect(r).toBeInstanceOf(SeededRandom)
    expect(new SeededRandom(42).seed).toBe(42)
    expect(new SeededRandom(-7).seed).toBe(-7)
  })

  it('produces the frozen golden sequence (xoshiro128** seeded by splitmix64)', () => {
    const r = new SeededRandom(42)
    expect([r.uint32(), r.uint32(), r.uint32(), r.uint32()]).toEqual([1776835114, 4165204688, 17111135, 2317295270])
    expect(Array.from(new SeededRandom(1).bytes(10))).toEqual([186, 65, 9, 101, 1, 3, 211, 84, 33, 243])
    const f = new SeededRandom(7)
    expect([f.float(), f.float(), f.float()]).toEqual([0.4193503198121573, 0.6968158891795393, 0.4836021620754253])
    const d = new SeededRandom(123)
    expect(Array.from({ length: 10 }, () => d.int(6))).toEqual([2, 0, 2, 3, 5, 1, 4, 0, 3, 3])
    const b = new SeededRandom(5)
    expect([b.int(2 ** 53 - 1), b.int(2 ** 40 + 3)]).toEqual([7061141497466311, 416651434103])
    expect(new SeededRandom(0).uint32()).toBe(3737715805)
    expect(new SeededRandom(-1).uint32()).toBe(477689756)
    expect(generateId(new SeededRandom(1))).toBe('6t9t13vcxru1p4rrm846v0tx1')
  })

  it('replays the same mixed sequence from the same seed', () => {
    const run = (seed: number): unknown[] => {
      const r = new SeededRandom(seed)
      return [r.int(1000), Array.from(r.bytes(7)), r.float(), r.int(2 ** 50), r.fork().uint32(), r.uint32()]
    }
    expect(run(2024)).toEqual(run(2024))
    expect(run(2024)).not.toEqual(run(2025))
  })

  it('gives distinct streams to nearby and large seeds', () => {
    const first = (seed: number): number[] => {
      const r = new SeededRandom(seed)
      return [r.uint32(), r.uint32()]
    }
    const seeds = [0, 1, 2, -1, -2, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]
    const streams = new Set(seeds.map((s) => first(s).join(',')))
    expect(streams.size).toBe(seeds.length)
  })

  it('bytes: exact length, and a shorter request is a prefix of a longer one', () => {
    expect(new SeededRandom(3).bytes(0)).toEqual(new Uint8Array(0))
    for (const n of [1, 2, 3, 4, 5, 31]) expect(new SeededRandom(3).bytes(n).length).toBe(n)
    const long = new SeededRandom(9).bytes(8)
    expect(new SeededRandom(9).bytes(5)).toEqual(long.subarray(0, 5))
  })

  it('rejects bad arguments with InvalidArgumentError naming the argument', () => {
    const r = new SeededRandom(1)
    for (const bad of [0, -1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => r.int(bad)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'maxExclusive' }))
    for (const bad of [-1, 1.5, Number.NaN]) expect(() => r.bytes(bad)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'n' }))
    for (const bad of [1.5, 2 ** 53, Number.NaN]) expect(() => new SeededRandom(bad)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'seed' }))
  })

  it('int stays in range for small, 32-bit and 53-bit bounds', () => {
    const r = new SeededRandom(11)
    for (const max of [1, 2, 3, 7, 1000, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 48, 2 ** 53 - 1]) {
      for (let i = 0; i < 2000; i++) {
        const x = r.int(max)
        if (!Number.isSafeInteger(x) || x < 0 || x >= max) throw new Error(`int(${max}) returned ${x}`)
      }
    }
    expect(r.int(1)).toBe(0)
  })

  it('int is uniform enough (chi-square, fixed seed) for small and huge bounds', () => {
    const r = new SeededRandom(2024)
    const small = new Array<number>(10).fill(0)
    for (let i = 0; i < 100_000; i++) small[r.int(10)]! += 1
    expect(chiSquare(small)).toBeLessThan(CHI2_9DOF_P001)

    // A bound just above 2^52 would expose a naive `x % max` over 53 bits (values below 2^53 − max twice as likely).
    const max = 2 ** 52 + 2 ** 51
    const huge = new Array<number>(10).fill(0)
    for (let i = 0; i < 100_000; i++) huge[Math.floor((r.int(max) / max) * 10)]! += 1
    expect(chiSquare(huge)).toBeLessThan(CHI2_9DOF_P001)
  })

  it('float is in [0, 1) and uniform enough', () => {
    const r = new SeededRandom(77)
    const buckets = new Array<number>(10).fill(0)
    for (let i = 0; i < 100_000; i++) {
      const x = r.float()
      if (!(x >= 0 && x < 1)) throw new Error(`float returned ${x}`)
      buckets[Math.floor(x * 10)]! += 1
    }
    expect(chiSquare(buckets)).toBeLessThan(CHI2_9DOF_P001)
  })

  it('fork is deterministic, advances the parent, and yields an independent stream', () => {
    const a = new SeededRandom(99)
    const b = new SeededRandom(99)
    const childA = a.fork()
    const childB = b.fork()
    expect(childA.seed).toBe(3742635199132038)
    expect(childB.seed).toBe(childA.seed)
    expect(childA.uint32()).toBe(childB.uint32())

    // The parent moved on: its next value is not what an unforked twin produces first.
    const twin = new SeededRandom(99)
    expect(a.uint32()).not.toBe(twin.uint32())

    // Child and parent streams do not coincide, and two successive forks differ.
    const parent = new SeededRandom(5)
    const c1 = parent.fork()
    const c2 = parent.fork()
    expect(c1.seed).not.toBe(c2.seed)
    const ps = Array.from({ length: 1000 }, () => parent.uint32())
    const cs = Array.from({ length: 1000 }, () => c1.uint32())
    const same = ps.filter((x, i) => x === cs[i]).length
    expect(same).toBe(0)
    // Bits agree about half of the time between the streams (no correlation).
    let agree = 0
    for (let i = 0; i < 1000; i++) agree += 32 - popcount((ps[i]! ^ cs[i]!) >>> 0)
    expect(agree / 32_000).toBeGreaterThan(0.48)
    expect(agree / 32_000).toBeLessThan(0.52)
  })
})

function popcount(x: number): number {
  let n = 0
  while (x !== 0) {
    n += x & 1
    x >>>= 1
  }
  return n
}
