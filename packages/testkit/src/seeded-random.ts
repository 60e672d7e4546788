import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { Random } from '@swarmkit-ts/api'

const TWO_32 = 2 ** 32
const TWO_53 = 2 ** 53
const MASK_64 = (1n << 64n) - 1n

/** One splitmix64 step over a 64-bit state held as a bigint (used only while seeding). */
function splitmix64(state: bigint): { state: bigint; value: bigint } {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK_64
  let z = next
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64
  return { state: next, value: z ^ (z >> 31n) }
}

/**
 * A fast deterministic {@link Random}: xoshiro128** (Blackman and Vigna) whose 128-bit state is
 * filled by splitmix64 from the seed, so every distinct seed gives a distinct stream.
 *
 * The same seed always yields the same sequence of `bytes`, `int`, `float` and `fork` results, on
 * every platform. Not for cryptography.
 */
export class SeededRandom implements Random {
  readonly #seed: number
  #s0: number
  #s1: number
  #s2: number
  #s3: number

  /** @param seed - any safe integer (negative seeds are taken modulo 2^64). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new InvalidArgumentError('seed', `must be a safe integer, got ${seed}`)
    this.#seed = seed
    const a = splitmix64(BigInt.asUintN(64, BigInt(seed)))
    const b = splitmix64(a.state)
    this.#s0 = Number(a.value & 0xffffffffn)
    this.#s1 = Number(a.value >> 32n)
    this.#s2 = Number(b.value & 0xffffffffn)
    this.#s3 = Number(b.value >> 32n)
    // xoshiro must not start from the all-zero state (astronomically unlikely, but cheap to rule out).
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1
  }

  /** The seed this generator was created with. */
  get seed(): number {
    return this.#seed
  }

  /** The next 32 random bits as an unsigned integer in `[0, 2^32)`. */
  uint32(): number {
    const s0 = this.#s0
    const s1 = this.#s1
    const s2 = this.#s2
    const s3 = this.#s3
    const m = Math.imul(s1, 5)
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0
    const t = s1 << 9
    const n2 = s2 ^ s0
    const n3 = s3 ^ s1
    this.#s1 = s1 ^ n2
    this.#s0 = s0 ^ n3
    this.#s2 = n2 ^ t
    this.#s3 = (n3 << 11) | (n3 >>> 21)
    return result
  }

  /** `n` random bytes (`n` a non-negative safe integer). */
  bytes(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('n', `must be a non-negative safe integer, got ${n}`)
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i += 4) {
      const x = this.uint32()
      out[i] = x & 0xff
      if (i + 1 < n) out[i + 1] = (x >>> 8) & 0xff
      if (i + 2 < n) out[i + 2] = (x >>> 16) & 0xff
      if (i + 3 < n) out[i + 3] = x >>> 24
    }
    return out
  }

  /**
   * A uniform integer in `[0, maxExclusive)`, for any positive safe integer `maxExclusive`
   * (up to 2^53 − 1). Unbiased: draws outside the largest multiple of `maxExclusive` are rejected.
   */
  int(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0) {
      throw new InvalidArgumentError('maxExclusive', `must be a positive safe integer, got ${maxExclusive}`)
    }
    if (maxExclusive <= TWO_32) {
      const limit = TWO_32 - (TWO_32 % maxExclusive)
      for (;;) {
        const x = this.uint32()
        if (x < limit) return x % maxExclusive
      }
    }
    // 53-bit draws; `%` on doubles is exact, so `limit` is the exact largest multiple.
    const limit = TWO_53 - (TWO_53 % maxExclusive)
    for (;;) {
      const x = this.#uint53()
      if (x < limit) return x % maxExclusive
    }
  }

  /** A uniform float in `[0, 1)` with 53 random bits. */
  float(): number {
    return this.#uint53() / TWO_53
  }

  /**
   * A new generator whose stream is independent of this one, derived deterministically: it
   * consumes two 32-bit draws from this generator to form the child's 53-bit seed.
   */
  fork(): SeededRandom {
    return new SeededRandom(this.#uint53())
  }

  #uint53(): number {
    const hi = this.uint32() >>> 11 // 21 bits
    const lo = this.uint32()
    return hi * TWO_32 + lo
  }
}
