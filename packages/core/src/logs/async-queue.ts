/**
 * A bounded queue between one producer that awaits room and one consumer that iterates.
 *
 * @module
 */

/**
 * Values in, one `for await` out. `push` resolves once the value is queued below `limit`
 * (backpressure); after `end()`/`fail()` or the consumer's `return()`, pushes are dropped and
 * resolve at once. The consumer sees every queued value, then the end (or the error of `fail`).
 *
 * @internal
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  readonly #limit: number
  readonly #onReturn: (() => void) | undefined
  #items: T[] = []
  #closed = false
  #returned = false
  #error: { err: Error } | undefined
  #reader: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void } | undefined
  #writers: (() => void)[] = []

  /**
   * @param limit - values held before `push` waits.
   * @param onReturn - called once when the consumer stops early (`break`, `return()`).
   */
  constructor(limit = 256, onReturn?: () => void) {
    this.#limit = limit
    this.#onReturn = onReturn
  }

  /** Whether `end`, `fail` or the consumer's `return` happened. */
  get closed(): boolean {
    return this.#closed
  }

  /** Queues `value`; resolves when there is room (at once when the queue is closed: dropped). */
  push(value: T): Promise<void> {
    if (this.#closed) return Promise.resolve()
    const reader = this.#reader
    if (reader !== undefined) {
      this.#reader = undefined
      reader.resolve({ value, done: false })
      return Promise.resolve()
    }
    this.#items.push(value)
    if (this.#items.length < this.#limit) return Promise.resolve()
    return new Promise((resolve) => this.#writers.push(resolve))
  }

  /** No more values: the consumer finishes after the queued ones. */
  end(): void {
    this.#close(undefined)
  }

  /** No more values: the consumer gets `err` after the queued ones. */
  fail(err: Error): void {
    this.#close({ err })
  }

  #close(error: { err: Error } | undefined): void {
    if (this.#closed) return
    this.#closed = true
    this.#error = error
    this.#releaseWriters()
    const reader = this.#reader
    if (reader === undefined) return
    this.#reader = undefined
    if (error === undefined) reader.resolve({ value: undefined, done: true })
    else {
      this.#error = undefined
      reader.reject(error.err)
    }
  }

  #releaseWriters(): void {
    const writers = this.#writers
    this.#writers = []
    for (const w of writers) w()
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) {
      const value = this.#items.shift() as T
      if (this.#items.length < this.#limit) {
        const w = this.#writers.shift()
        if (w !== undefined) w()
      }
      return Promise.resolve({ value, done: false })
    }
    if (this.#closed) {
      const e = this.#error
      if (e !== undefined && !this.#returned) {
        this.#error = undefined
        return Promise.reject(e.err)
      }
      return Promise.resolve({ value: undefined, done: true })
    }
    return new Promise((resolve, reject) => {
      this.#reader = { resolve, reject }
    })
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.#returned) {
      this.#returned = true
      this.#items = []
      this.#close(undefined)
      this.#onReturn?.()
    }
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this
  }
}
