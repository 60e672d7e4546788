/**
 * The window of append messages sent to one follower and not yet acknowledged, used for flow
 * control in the replicate state.
 */

/** A bounded FIFO of the last index of each in-flight append message. */
export class Inflights {
  /** Maximum number of messages in flight. */
  readonly capacity: number
  #buf: number[] = []
  #start = 0

  constructor(capacity: number) {
    this.capacity = capacity
  }

  /** Number of messages in flight. */
  get count(): number {
    return this.#buf.length - this.#start
  }

  /** Whether no more messages may be sent. */
  full(): boolean {
    return this.count >= this.capacity
  }

  /** Records a message whose last entry is `index` (indexes must increase). */
  add(index: number): void {
    this.#buf.push(index)
  }

  /** Frees every message whose last index is ≤ `index` (they were acknowledged). */
  freeLE(index: number): void {
    while (this.#start < this.#buf.length && (this.#buf[this.#start] as number) <= index) this.#start++
    if (this.#start > 64 && this.#start * 2 > this.#buf.length) {
      this.#buf = this.#buf.slice(this.#start)
      this.#start = 0
    }
  }

  /** An independent copy. */
  clone(): Inflights {
    const c = new Inflights(this.capacity)
    c.#buf = this.#buf.slice(this.#start)
    return c
  }

  /** Frees everything. */
  reset(): void {
    this.#buf = []
    this.#start = 0
  }
}
