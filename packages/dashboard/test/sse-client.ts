/**
 * A minimal Server-Sent Events reader over fetch, for the server's tests: messages as
 * `{ id, event, data }`, awaited one by one.
 */

/** One SSE message. */
export interface SseMessage {
  readonly id: string
  readonly event: string
  readonly data: string
}

/** An open stream; `close()` aborts it. */
export class SseReader {
  readonly #queue: SseMessage[] = []
  readonly #waiters: (() => void)[] = []
  readonly #abort = new AbortController()
  #buffer = ''
  #ended = false
  /** The raw text received so far. */
  raw = ''

  private constructor() {}

  /** Opens `url` with the given headers (`Last-Event-ID`). */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const r = new SseReader()
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: r.#abort.signal })
    if (res.body === null) throw new Error('no body')
    void r.#read(res.body.getReader())
    return r
  }

  async #read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        const text = decoder.decode(value, { stream: true })
        this.raw += text
        this.#buffer += text
        let end: number
        while ((end = this.#buffer.indexOf('\n\n')) >= 0) {
          const block = this.#buffer.slice(0, end)
          this.#buffer = this.#buffer.slice(end + 2)
          const fields: Record<string, string> = {}
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue
            const i = line.indexOf(': ')
            if (i > 0) fields[line.slice(0, i)] = line.slice(i + 2)
          }
          if (fields.data !== undefined) this.#queue.push({ id: fields.id ?? '', event: fields.event ?? 'message', data: fields.data })
        }
        this.#wake()
      }
    } catch {
      // aborted
    }
    this.#ended = true
    this.#wake()
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w()
  }

  /** The next message (rejects when the stream ended first or after `guardMs`). */
  async next(guardMs = 30_000): Promise<SseMessage> {
    const deadline = Date.now() + guardMs
    for (;;) {
      const m = this.#queue.shift()
      if (m !== undefined) return m
      if (this.#ended) throw new Error('stream ended')
      if (Date.now() > deadline) throw new Error('no SSE message in time')
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve)
        setTimeout(resolve, 250)
      })
    }
  }

  /** Messages already received and not read. */
  pending(): number {
    return this.#queue.length
  }

  /** Whether the server ended the stream. */
  get ended(): boolean {
    return this.#ended
  }

  close(): void {
    this.#abort.abort()
  }
}
