/**
 * A bounded queue between one producer that awaits room and one consumer that iterates.
 *
 * @module
 */

/**
 * Values in, one `for await` out. `push` resolves once fewer than `limit` values are ahead of
 * the pushed one (backpressure); after `end()`/`fail()` or the consumer's `return()`, pushes are dropped and
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
    // Waiting writers own the last queued values; a writer is released once its value's index is below the limit.
    if (this.#items.length <= this.#limit) return Promise.resolve()
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
      while (this.#writers.length > 0 && this.#items.length - this.#writers.length < this.#limit) (this.#writers.shift() as () => void)()
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

/**
 * The next value of `it`, or `'aborted'` as soon as `signal` aborts (the pending `next()` is left
 * to settle on its own). Leaves no listener behind, so a long stream can call it per value.
 *
 * @internal
 */
export function nextOrAbort<T>(it: AsyncIterator<T>, signal: AbortSignal): Promise<IteratorResult<T> | 'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted')
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve('aborted')
    signal.addEventListener('abort', onAbort, { once: true })
    it.next().then(
      (r) => {
        signal.removeEventListener('abort', onAbort)
        resolve(r)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err instanceof Error ? err : new Error(String(err)))
      },
    )
  })
}
