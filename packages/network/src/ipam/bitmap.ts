/**
 * A compact bitmap over `size` positions (one bit each, in 32-bit words) with a count of set
 * bits and a find-next-clear that skips full words.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

const FULL = 0xffffffff

/** A fixed-size set of small integers `0 ≤ i < size`, one bit each. */
export class Bitmap {
  /** Number of positions. */
  readonly size: number
  readonly #words: Uint32Array
  #count = 0

  /** A bitmap of `size` clear positions (`size` a non-negative safe integer). */
  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgumentError('size', `${size} is not a valid bitmap size`)
    this.size = size
    this.#words = new Uint32Array(Math.ceil(size / 32))
  }

  /** Number of set positions. */
  get count(): number {
    return this.#count
  }

  /** True when position `i` is set. */
  get(i: number): boolean {
    this.#check(i)
    return ((this.#words[i >>> 5] ?? 0) & (1 << (i & 31))) !== 0
  }

  /** Sets position `i`; returns false (and changes nothing) when it was already set. */
  set(i: number): boolean {
    this.#check(i)
    const w = i >>> 5
    const bit = 1 << (i & 31)
    const word = this.#words[w] ?? 0
    if ((word & bit) !== 0) return false
    this.#words[w] = word | bit
    this.#count++
    return true
  }

  /** Clears position `i`; returns false when it was already clear. */
  clear(i: number): boolean {
    this.#check(i)
    const w = i >>> 5
    const bit = 1 << (i & 31)
    const word = this.#words[w] ?? 0
    if ((word & bit) === 0) return false
    this.#words[w] = word & ~bit
    this.#count--
    return true
  }

  /**
   * The first clear position in `[from, to)`, or -1. Full words are skipped whole, so a scan
   * costs O((to − from) / 32) at worst.
   */
  findClear(from: number, to: number = this.size): number {
    const end = Math.min(to, this.size)
    let i = Math.max(0, from)
    while (i < end) {
      const w = i >>> 5
      // Bits below `i` in this word count as set.
      const word = ((this.#words[w] ?? 0) | ((1 << (i & 31)) - 1)) >>> 0
      if (word !== FULL) {
        const free = ~word & (word + 1) // lowest clear bit, isolated
        const pos = (w << 5) + (31 - Math.clz32(free))
        return pos < end ? pos : -1
      }
      i = (w + 1) << 5
    }
    return -1
  }

  /** The first clear position at or after `from`, wrapping around to 0; -1 when the bitmap is full. */
  findClearWrapping(from: number): number {
    if (this.#count >= this.size) return -1
    const start = from >= this.size || from < 0 ? 0 : from
    const found = this.findClear(start)
    return found >= 0 ? found : this.findClear(0, start)
  }

  /** The set positions, ascending. */
  *setPositions(): IterableIterator<number> {
    for (let w = 0; w < this.#words.length; w++) {
      let word = this.#words[w] ?? 0
      while (word !== 0) {
        const low = word & -word
        yield (w << 5) + (31 - Math.clz32(low))
        word = (word & ~low) >>> 0
      }
    }
  }

  #check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new InvalidArgumentError('position', `${i} is outside the bitmap (size ${this.size})`)
  }
}
