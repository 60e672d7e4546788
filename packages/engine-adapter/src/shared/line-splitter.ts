/**
 * Splitting engine output (a container's stdout/stderr) into log lines, for the Docker and
 * containerd runtimes.
 * @internal
 */

/** Splits a byte stream into lines (UTF-8, `\n`-terminated, `\r\n` tolerated). */
export class LineSplitter {
  #pending: Buffer = Buffer.alloc(0)

  /** Feeds bytes; returns the complete lines they finish. */
  push(chunk: Buffer): string[] {
    const buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    const lines: string[] = []
    let start = 0
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, start)) {
      const end = i > start && buf[i - 1] === 13 ? i - 1 : i
      lines.push(buf.toString('utf8', start, end))
      start = i + 1
    }
    this.#pending = Buffer.from(buf.subarray(start))
    return lines
  }

  /** The final unterminated line, if any (and clears it). */
  flush(): string[] {
    if (this.#pending.length === 0) return []
    const last = this.#pending.toString('utf8')
    this.#pending = Buffer.alloc(0)
    return [last]
  }
}
