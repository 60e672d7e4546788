/**
 * The queue behind each stream the dispatcher serves: the dispatcher pushes, the caller's
 * `for await` pulls. Ending it lets the reader drain what was pushed and then finish; failing
 * it hands the error to the reader after the messages already queued.
 *
 * @module
 */

/** A one-reader queue of messages with an end (normal or with an error). */
export class Channel<T> implements AsyncIterable<T> {
  readonly #queue: T[] = []
  #head = 0
  #ended = false
  #error: Error | undefined
  #wake: (() => void) | undefined

  /** Whether the channel was ended or failed (no message is accepted afterwards). */
  get ended(): boolean {
    return this.#ended
  }

  /** Queues `value`; ignored once the channel has ended. */
  push(value: T): void {
    if (this.#ended) return
    this.#queue.push(value)
    this.#notify()
  }

  /** Ends the channel: the reader finishes after the queued messages. Idempotent. */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.#notify()
  }

  /** Ends the channel with `error`, thrown to the reader after the queued messages. */
  fail(error: Error): void {
    if (this.#ended) return
    this.#error = error
    this.end()
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      if (this.#head < this.#queue.length) {
        const value = this.#queue[this.#head] as T
        this.#head++
        if (this.#head === this.#queue.length) {
          this.#queue.length = 0
          this.#head = 0
        }
        yield value
        continue
      }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error
        return
      }
      await new Promise<void>((resolve) => (this.#wake = resolve))
    }
  }
}
