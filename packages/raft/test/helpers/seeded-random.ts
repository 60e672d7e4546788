import type { Random } from '@swarmkit-ts/api'

/** A small deterministic PRNG (mulberry32) for tests. */
export class TestRandom implements Random {
  #s: number
  constructor(seed: number) {
    this.#s = seed >>> 0
  }
  #next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0
    let t = this.#s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  float(): number {
    return this.#next()
  }
  int(maxExclusive: number): number {
    return Math.floor(this.#next() * maxExclusive)
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }
}

/** A Random whose `int` returns queued values in turn (then `fallback`): forces election timeouts. */
export class ScriptedRandom implements Random {
  readonly #values: number[]
  readonly #fallback: number
  constructor(values: number[] = [], fallback = 0) {
    this.#values = [...values]
    this.#fallback = fallback
  }
  /** Queues more values for `int`. */
  push(...v: number[]): void {
    this.#values.push(...v)
  }
  float(): number {
    return 0
  }
  int(maxExclusive: number): number {
    const v = this.#values.shift() ?? this.#fallback
    return Math.min(v, maxExclusive - 1)
  }
  bytes(n: number): Uint8Array {
    return new Uint8Array(n)
  }
}
