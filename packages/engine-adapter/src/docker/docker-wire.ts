/**
 * Docker wire formats handled by hand (dockerode traps): the multiplexed stdout/stderr framing of
 * `/logs` and `/attach` — returned as a Buffer when not following and as a stream when following,
 * multiplexed in both cases — and newline-delimited JSON streams (`/events`, `/images/create`)
 * whose chunks are not line-aligned.
 * @internal
 */
import { InternalError } from '@swarmkit-ts/api'

/** A decoded piece of container output. */
export interface DemuxedChunk {
  readonly stream: 'stdout' | 'stderr'
  readonly data: Buffer
}

const HEADER = 8

/**
 * Incremental decoder of Docker's stream framing: `[stream, 0, 0, 0, size(4, big-endian)]` then
 * `size` bytes. Stream 0 (stdin) and 1 are stdout, 2 is stderr. A first header that is not valid
 * (a TTY container's raw output) switches to passthrough as stdout.
 */
export class DockerDemuxer {
  #buf: Buffer = Buffer.alloc(0)
  #raw = false
  #checked = false

  /** Feeds bytes; returns every complete frame they finish. */
  push(chunk: Buffer): DemuxedChunk[] {
    if (this.#raw) return chunk.length > 0 ? [{ stream: 'stdout', data: chunk }] : []
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    if (!this.#checked && this.#buf.length >= 4) {
      this.#checked = true
      const b = this.#buf
      if ((b[0] ?? 9) > 2 || b[1] !== 0 || b[2] !== 0 || b[3] !== 0) {
        this.#raw = true
        const all = this.#buf
        this.#buf = Buffer.alloc(0)
        return [{ stream: 'stdout', data: all }]
      }
    }
    const out: DemuxedChunk[] = []
    let off = 0
    while (this.#buf.length - off >= HEADER) {
      const size = this.#buf.readUInt32BE(off + 4)
      if (this.#buf.length - off - HEADER < size) break
      const kind = this.#buf[off]
      const data = Buffer.from(this.#buf.subarray(off + HEADER, off + HEADER + size))
      out.push({ stream: kind === 2 ? 'stderr' : 'stdout', data })
      off += HEADER + size
    }
    this.#buf = off === 0 ? this.#buf : Buffer.from(this.#buf.subarray(off))
    return out
  }

  /** Bytes of an unfinished frame left over at the end of the input. */
  get pending(): number {
    return this.#buf.length
  }

  /** True once the input turned out to be unframed (a TTY container): chunks are then not messages. */
  get raw(): boolean {
    return this.#raw
  }
}

/** Splits a chunked byte stream into complete lines of NDJSON and parses them. */
export class NdjsonSplitter {
  #pending = ''

  /** Feeds a chunk; returns the lines it completes, raw and parsed (unparseable lines are skipped). */
  push(chunk: Buffer | string): { raw: string; value: unknown }[] {
    const text = this.#pending + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'))
    const parts = text.split('\n')
    this.#pending = parts.pop() ?? ''
    const out: { raw: string; value: unknown }[] = []
    for (const raw of parts) {
      const t = raw.trim()
      if (t === '') continue
      try {
        out.push({ raw: t, value: JSON.parse(t) as unknown })
      } catch {
        // A corrupt line is dropped; the stream goes on.
      }
    }
    return out
  }
}

/** A Docker log line as sent with `timestamps=true`: RFC 3339 (nano) time, a space, the text. */
export function parseTimestampedLine(line: string): { time: number; text: string } | undefined {
  const sp = line.indexOf(' ')
  const stamp = sp === -1 ? line : line.slice(0, sp)
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(stamp)
  if (m === null) return undefined
  const frac = m[2] === undefined ? '' : m[2].slice(0, 4)
  const time = Date.parse(`${m[1]}${frac}${m[3]}`)
  if (Number.isNaN(time)) return undefined
  return { time, text: sp === -1 ? '' : line.slice(sp + 1) }
}

/** A log message's timestamp as Docker writes it with `timestamps=true` (RFC 3339, nanoseconds, UTC). */
const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/

/**
 * Splits one log message (one frame of `/logs?timestamps=1`: `<stamp> <text>`) into its timestamp
 * and its text bytes (kept as bytes: a 16 KiB chunk may end inside a UTF-8 character). Undefined
 * when the message does not start with a timestamp.
 */
export function splitTimestamp(message: Buffer): { stamp: string; time: number; text: Buffer } | undefined {
  const sp = message.indexOf(32)
  if (sp < 20 || sp > 40) return undefined
  const stamp = message.toString('latin1', 0, sp)
  const m = STAMP.exec(stamp)
  if (m === null) return undefined
  const time = Date.parse(`${m[1]}${m[2] === undefined ? '' : m[2].slice(0, 4)}${m[3]}`)
  if (Number.isNaN(time)) return undefined
  return { stamp, time, text: message.subarray(sp + 1) }
}

/**
 * Docker's `since`/`until` query value (`<unix seconds>.<nanoseconds>`) for a message timestamp, so
 * a read can start exactly at one message: Docker keeps messages whose time is not before it.
 */
export function stampToSince(stamp: string): string {
  const m = STAMP.exec(stamp)
  if (m === null) throw new InternalError(`not a Docker log timestamp: ${stamp}`)
  const seconds = Date.parse(`${m[1]}${m[3]}`) / 1000
  const nanos = (m[2] ?? '.').slice(1).padEnd(9, '0')
  return `${seconds}.${nanos}`
}

/** Unix seconds with nanoseconds (Docker's `since` format) from a nanosecond timestamp string. */
export function nanosToSince(nanos: string): string {
  const n = BigInt(nanos)
  const s = n / 1_000_000_000n
  const ns = n % 1_000_000_000n
  return `${s}.${ns.toString().padStart(9, '0')}`
}

/** Docker's Go zero time, used for "never" in `State.StartedAt` / `FinishedAt`. */
export function dockerTime(value: string | undefined): number | undefined {
  if (value === undefined || value === '' || value.startsWith('0001-01-01')) return undefined
  const t = Date.parse(value)
  return Number.isNaN(t) ? undefined : t
}
