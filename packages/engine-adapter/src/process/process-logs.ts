import { open, readFile, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import type { LogBuffer } from '../shared/log-buffer.ts'

const STREAMS = ['stdout', 'stderr'] as const

/**
 * Feeds a container's `stdout.log`/`stderr.log` (written directly by the process, so they survive a
 * runtime restart) into its {@link LogBuffer}. Lines are timestamped when read; `poll()` reads
 * whatever was appended since the last poll. Polls never overlap.
 */
export class LogTailer {
  readonly #dir: string
  readonly #buffer: LogBuffer
  readonly #offsets = { stdout: 0, stderr: 0 }
  readonly #decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') }
  readonly #handles: Partial<Record<'stdout' | 'stderr', FileHandle>> = {}
  #tail: Promise<void> = Promise.resolve()
  #queued: Promise<void> | undefined
  #closed = false

  constructor(dir: string, buffer: LogBuffer) {
    this.#dir = dir
    this.#buffer = buffer
  }

  /** Reads new output: resolves after a read that started after this call (reads never overlap). */
  poll(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    if (this.#queued !== undefined) return this.#queued
    const queued = this.#tail.then(() => {
      this.#queued = undefined
      return this.#closed ? undefined : this.#read()
    })
    this.#queued = queued
    this.#tail = queued.catch(() => undefined)
    return queued
  }

  async #read(): Promise<void> {
    const chunk = Buffer.allocUnsafe(64 * 1024)
    for (const stream of STREAMS) {
      let handle = this.#handles[stream]
      if (handle === undefined) {
        try {
          handle = await open(join(this.#dir, `${stream}.log`), 'r')
        } catch {
          continue
        }
        this.#handles[stream] = handle
      }
      for (;;) {
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, this.#offsets[stream])
        if (bytesRead === 0) break
        this.#offsets[stream] += bytesRead
        this.#buffer.write(stream, this.#decoders[stream].write(chunk.subarray(0, bytesRead)))
      }
    }
  }

  /** Reads the rest, then closes the files and the buffer (flushing unterminated lines). */
  async finish(): Promise<void> {
    await this.poll()
    this.#closed = true
    for (const stream of STREAMS) {
      this.#buffer.write(stream, this.#decoders[stream].end())
      await this.#handles[stream]?.close()
      delete this.#handles[stream]
    }
    this.#buffer.close()
  }

  /** Closes the files without touching the buffer (the container is being removed). */
  async abandon(): Promise<void> {
    this.#closed = true
    await this.#tail
    for (const stream of STREAMS) {
      await this.#handles[stream]?.close()
      delete this.#handles[stream]
    }
  }
}

/** Loads a finished container's logs in one go, timestamping lines with each file's mtime. */
export async function loadFinishedLogs(dir: string, buffer: LogBuffer): Promise<void> {
  for (const stream of STREAMS) {
    const path = join(dir, `${stream}.log`)
    try {
      const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)])
      const lines = text.split('\n')
      if (lines[lines.length - 1] === '') lines.pop()
      for (const line of lines) buffer.push({ stream, line, time: info.mtimeMs })
    } catch {
      // no output file: nothing was written
    }
  }
  buffer.close()
}
