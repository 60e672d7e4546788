import { describe, expect, it } from 'vitest'
import {
  cryptoRandom,
  formatRaftMemberId,
  generateId,
  generateRaftMemberId,
  isId,
  isRaftMemberId,
  MAX_RAFT_MEMBER_ID,
  parseRaftMemberId,
  type Random,
} from '../src/index.ts'

/** A Random that returns the given bytes in a cycle. */
function cycling(bytes: number[]): Random {
  let i = 0
  return {
    bytes: (n) => Uint8Array.from({ length: n }, () => bytes[i++ % bytes.length] ?? 0),
    int: () => 0,
    float: () => 0,
  }
}

describe('object IDs', () => {
  it('are 25 characters of lower-case base36', () => {
    for (let i = 0; i < 200; i++) {
      const id = generateId(cryptoRandom)
      expect(id).toMatch(/^[0-9a-z]{25}$/)
      expect(isId(id)).toBe(true)
    }
  })

  it('map bytes to characters without bias, skipping bytes ≥ 252', () => {
    expect(generateId(cycling([0, 35, 36, 251, 252, 255]))).toBe('0z0z0z0z0z0z0z0z0z0z0z0z0')
  })

  it('rejects malformed IDs', () => {
    for (const bad of ['', 'ABCDEFGHIJKLMNOPQRSTUVWXY', 'abc', '0123456789abcdefghijklmnop', 42]) expect(isId(bad)).toBe(false)
  })

  it('are distinct across many draws', () => {
    const seen = new Set(Array.from({ length: 10_000 }, () => generateId(cryptoRandom)))
    expect(seen.size).toBe(10_000)
  })
})

describe('Raft member IDs', () => {
  it('keep all 64 bits exact', () => {
    const id = generateRaftMemberId(cycling([0xff]))
    expect(id).toBe(MAX_RAFT_MEMBER_ID)
    expect(formatRaftMemberId(id)).toBe('ffffffffffffffff')
    expect(parseRaftMemberId('ffffffffffffffff')).toBe(18446744073709551615n)
    expect(parseRaftMemberId('0x8000000000000001')).toBe(2n ** 63n + 1n)
  })

  it('are never zero', () => {
    expect(generateRaftMemberId(cycling([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))).toBe(1n)
    expect(isRaftMemberId(0n)).toBe(false)
  })

  it('reject out-of-range and malformed input with the field named', () => {
    expect(() => parseRaftMemberId('0')).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'raftId' }))
    expect(() => parseRaftMemberId(2n ** 64n, 'member.id')).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'member.id' }))
    expect(() => parseRaftMemberId('10000000000000000')).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
    expect(() => parseRaftMemberId('xyz')).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
    expect(isRaftMemberId(1)).toBe(false)
  })
})
