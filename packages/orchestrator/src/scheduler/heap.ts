/**
 * A binary min-heap over a `less` order: the scheduler's candidate nodes, best first. Only the
 * top changes between picks, so {@link Heap.updateTop} re-sifts just that one entry.
 *
 * @module
 */

/** A binary min-heap ordered by `less`. */
export class Heap<T> {
  readonly #items: T[]
  readonly #less: (a: T, b: T) => boolean

  /** A heap of `items` (taken over, heapified in O(n)). */
  constructor(items: T[], less: (a: T, b: T) => boolean) {
    this.#items = items
    this.#less = less
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.#down(i)
  }

  /** Number of entries. */
  get size(): number {
    return this.#items.length
  }

  /** The least entry, if any. */
  peek(): T | undefined {
    return this.#items[0]
  }

  /** Removes and returns the least entry. */
  pop(): T | undefined {
    const items = this.#items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) {
      items[0] = last
      this.#down(0)
    }
    return top
  }

  /** Adds an entry. */
  push(item: T): void {
    const items = this.#items
    let i = items.length
    items.push(item)
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = items[parent] as T
      if (!this.#less(item, p)) break
      items[i] = p
      i = parent
    }
    items[i] = item
  }

  /** Removes every entry. */
  clear(): void {
    this.#items.length = 0
  }

  /** Restores the order after the top entry's key changed (in either direction). */
  updateTop(): void {
    this.#down(0)
  }

  #down(i: number): void {
    const items = this.#items
    const n = items.length
    const item = items[i]
    if (item === undefined) return
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let c = l
      if (r < n && this.#less(items[r] as T, items[l] as T)) c = r
      const child = items[c] as T
      if (!this.#less(child, item)) break
      items[i] = child
      i = c
    }
    items[i] = item
  }
}
