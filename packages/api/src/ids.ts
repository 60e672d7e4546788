import { InvalidArgumentError } from './errors.ts'
import type { Random } from './random.ts'

/** Length of an object ID. */
export const ID_LENGTH = 25
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz'
const ALPHABET_CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0))
const ID_PATTERN = /^[0-9a-z]{25}$/

/**
 * A new object ID: 25 characters of base36 (about 129 bits of entropy) drawn from `random`
 * by rejection sampling, so every character is uniform.
 */
export function generateId(random: Random): string {
  // Character codes joined once: `+=` one character at a time leaves a rope of a dozen string
  // nodes per ID (V8 flattens only short concatenations), kept alive as long as the ID.
  const codes: number[] = []
  while (codes.length < ID_LENGTH) {
    for (const b of random.bytes(ID_LENGTH + 8)) {
      if (b >= 252) continue // 252 = 7 × 36: keep the draw unbiased
      codes.push(ALPHABET_CODES[b % 36] as number)
      if (codes.length === ID_LENGTH) break
    }
  }
  return String.fromCharCode(...codes)
}

/** Whether `s` has the form of an object ID. */
export function isId(s: unknown): s is string {
  return typeof s === 'string' && ID_PATTERN.test(s)
}

/**
 * A Raft member ID: a non-zero unsigned 64-bit integer, kept exact as a `bigint`
 * (never a JS `number`, which would round IDs above 2^53).
 */
export type RaftMemberId = bigint

/** Largest Raft member ID (2^64 − 1). */
export const MAX_RAFT_MEMBER_ID: RaftMemberId = (1n << 64n) - 1n

/** Whether `v` is a valid Raft member ID (a bigint in 1..2^64−1). */
export function isRaftMemberId(v: unknown): v is RaftMemberId {
  return typeof v === 'bigint' && v > 0n && v <= MAX_RAFT_MEMBER_ID
}

/** A new random non-zero Raft member ID. */
export function generateRaftMemberId(random: Random): RaftMemberId {
  for (;;) {
    let v = 0n
    for (const b of random.bytes(8)) v = (v << 8n) | BigInt(b)
    if (v !== 0n) return v
  }
}

/** The canonical text of a Raft member ID: lower-case hexadecimal, as etcd prints it. */
export function formatRaftMemberId(id: RaftMemberId): string {
  return id.toString(16)
}

/**
 * Parses a Raft member ID from hexadecimal (as {@link formatRaftMemberId} writes it, optionally
 * `0x`-prefixed) or from a bigint; rejects zero and anything out of range.
 */
export function parseRaftMemberId(value: string | bigint, field = 'raftId'): RaftMemberId {
  let v: bigint
  if (typeof value === 'bigint') v = value
  else {
    const hex = value.startsWith('0x') ? value.slice(2) : value
    if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw new InvalidArgumentError(field, `not a 64-bit hexadecimal member id: ${JSON.stringify(value)}`)
    v = BigInt(`0x${hex}`)
  }
  if (!isRaftMemberId(v)) throw new InvalidArgumentError(field, `member id must be in 1..2^64-1, got ${String(v)}`)
  return v
}
