/**
 * The schedule of deadlines per key (heartbeat expiry per node, the 24 h down period per
 * node): setting a key's deadline replaces the previous one, and `due(now)` hands out the keys
 * whose deadline has passed. A min-heap with lazy deletion: a replaced or cleared entry stays in
 * the heap until it reaches the top, so a heartbeat costs O(log n) and never a timer of its
 * own — the driver arms one timer, at {@link DeadlineQueue.next}.
 *
 * @module
 */

interface Entry {
  readonly at: number
  readonly key: string
  readonly generation: number
}

/** Deadlines per key (pure; no timers). */
export class DeadlineQueue {
  readonly #heap: Entry[] = []
  /** The live generation of each key with a deadline. */
  readonly #live = new Map<string, { readonly at: number; readonly generation: number }>()
  #generation = 0

  /** Keys with a deadline. */
  get size(): number {
    return this.#live.size
  }

  /** The deadline of `key`, if it has one. */
  deadlineOf(key: string): number | undefined {
    return this.#live.get(key)?.at
  }

  /** Sets (or replaces) the deadline of `key`. */
  set(key: string, at: number): void {
    const generation = ++this.#generation
    this.#live.set(key, { at, generation })
    this.#push({ at, key, generation })
    // Compact when stale entries dominate, so the heap stays O(live keys).
    if (this.#heap.length > 64 && this.#heap.length > 4 * this.#live.size) this.#rebuild()
  }

  /** Removes the deadline of `key` (no-op without one). */
  delete(key: string): void {
    this.#live.delete(key)
  }

  /** The earliest live deadline, or undefined when there is none. */
  next(): number | undefined {
    this.#dropStale()
    return this.#heap[0]?.at
  }

  /** Removes and returns the keys whose deadline is at or before `now`, earliest first. */
  due(now: number): string[] {
    const out: string[] = []
    for (;;) {
      this.#dropStale()
      const top = this.#heap[0]
      if (top === undefined || top.at > now) return out
      this.#pop()
      this.#live.delete(top.key)
      out.push(top.key)
    }
  }

  #isStale(e: Entry): boolean {
    return this.#live.get(e.key)?.generation !== e.generation
  }

  #dropStale(): void {
    while (this.#heap.length > 0 && this.#isStale(this.#heap[0] as Entry)) this.#pop()
  }

  #rebuild(): void {
    const live = this.#heap.filter((e) => !this.#isStale(e))
    this.#heap.length = 0
    for (const e of live) this.#push(e)
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.generation < b.generation)
  }

  #push(e: Entry): void {
    const h = this.#heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.#less(h[i] as Entry, h[p] as Entry)) break
      ;[h[i], h[p]] = [h[p] as Entry, h[i] as Entry]
      i = p
    }
  }

  #pop(): void {
    const h = this.#heap
    const last = h.pop() as Entry
    if (h.length === 0) return
    h[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < h.length && this.#less(h[l] as Entry, h[m] as Entry)) m = l
      if (r < h.length && this.#less(h[r] as Entry, h[m] as Entry)) m = r
      if (m === i) return
      ;[h[i], h[m]] = [h[m] as Entry, h[i] as Entry]
      i = m
    }
  }
}
