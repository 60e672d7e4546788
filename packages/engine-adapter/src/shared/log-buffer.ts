import type { LogLine, LogsOptions } from '../runtime.ts'
import { aborted, waitForChange } from './wait-for-change.ts'

/**
 * The captured output of one container run: text chunks are split into lines per stream, a final
 * unterminated line is flushed on `close()`. Implements the `logs()` semantics of the contract
 * (tail, since, follow until closed, abort ends quietly) for runtimes that capture output themselves.
 */
export class LogBuffer {
  readonly #lines: LogLine[] = []
  readonly #partial = { stdout: '', stderr: '' }
  #closed = false
  #discarded = false
  #wakers: (() => void)[] = []
  readonly #now: () => number

  /** @param now - the time source for line timestamps. */
  constructor(now: () => number) {
    this.#now = now
  }

  /** True once the writer is done (the process exited). */
  get closed(): boolean {
    return this.#closed
  }

  /** Lines captured so far. */
  get length(): number {
    return this.#lines.length
  }

  /** Adds lines directly (a runtime restoring logs from disk). */
  push(line: LogLine): void {
    this.#lines.push(line)
    this.#wake()
  }

  /** Appends output text of one stream. */
  write(stream: 'stdout' | 'stderr', text: string): void {
    if (this.#closed) return
    const parts = (this.#partial[stream] + text).split('\n')
    this.#partial[stream] = parts.pop() ?? ''
    if (parts.length === 0) return
    const time = this.#now()
    for (const line of parts) this.#lines.push({ stream, line, time })
    this.#wake()
  }

  /** Flushes unterminated lines and ends every follower. */
  close(): void {
    if (this.#closed) return
    const time = this.#now()
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.#partial[stream] !== '') this.#lines.push({ stream, line: this.#partial[stream], time })
      this.#partial[stream] = ''
    }
    this.#closed = true
    this.#wake()
  }

  /** Closes and drops everything (the container was removed); followers end. */
  discard(): void {
    this.close()
    this.#discarded = true
    this.#lines.length = 0
  }

  #wake(): void {
    const w = this.#wakers
    this.#wakers = []
    for (const f of w) f()
  }

  /** The index `tail` lines from the end (0 without a tail): pass it to {@link read} to fix the start at call time. */
  mark(tail: number | undefined): number {
    return tail === undefined ? 0 : Math.max(0, this.#lines.length - tail)
  }

  /** Iterates per {@link LogsOptions}, from `start` (default: {@link mark} at the first `next()`). */
  async *read(options: LogsOptions = {}, start?: number): AsyncGenerator<LogLine> {
    const { follow = false, since, signal } = options
    let i = start ?? this.mark(options.tail)
    for (;;) {
      if (aborted(signal) || this.#discarded) return
      while (i < this.#lines.length) {
        const line = this.#lines[i++]
        if (line !== undefined && (since === undefined || line.time >= since)) {
          yield line
          if (aborted(signal) || this.#discarded) return
        }
      }
      if (!follow || this.#closed) return
      await waitForChange(this.#wakers, signal)
    }
  }
}
