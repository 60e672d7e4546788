import { randomBytes, randomInt } from 'node:crypto'
import { InvalidArgumentError } from './errors.ts'

/**
 * A source of randomness. Deterministic cores take a `Random` (never `Math.random()`), so tests
 * can replay a run from a seed (`SeededRandom` in `@swarmkit-ts/testkit`).
 */
export interface Random {
  /** `n` uniformly random bytes. */
  bytes(n: number): Uint8Array
  /** A uniformly random integer in `[0, maxExclusive)`; `maxExclusive` is a positive safe integer. */
  int(maxExclusive: number): number
  /** A uniformly random float in `[0, 1)`. */
  float(): number
}

/** Randomness from Node's cryptographic generator. */
export class CryptoRandom implements Random {
  bytes(n: number): Uint8Array {
    return new Uint8Array(randomBytes(n))
  }
  int(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0) throw new InvalidArgumentError('maxExclusive', `must be a positive safe integer, got ${maxExclusive}`)
    if (maxExclusive <= 2 ** 48 - 1) return randomInt(maxExclusive)
    return Math.floor(this.float() * maxExclusive)
  }
  float(): number {
    // 53 random bits → a float in [0, 1) with every representable step equally likely.
    const b = randomBytes(7)
    let x = 0
    for (const byte of b) x = x * 256 + byte
    return Math.floor(x / 8) / 2 ** 53
  }
}

/** A shared {@link CryptoRandom}; it holds no state. */
export const cryptoRandom: Random = new CryptoRandom()
