/**
 * `logs()` of the Docker runtime: `GET /containers/{id}/logs?timestamps=1`, demultiplexed by hand
 * (Docker returns a Buffer when not following and a stream when following; both are framed).
 *
 * Long lines: Docker's log copier cuts a line longer than 16 KiB into partial messages of 16 KiB
 * (the last one ends with the newline; a line of exactly 16 KiB ends with an empty message holding
 * just the newline), and each message comes back as its own frame with its own timestamp prefix.
 * Every partial message of one line carries the timestamp of its first message. The
 * {@link DockerLogAssembler} strips each message's timestamp and joins the messages of a stream
 * until one ends with a newline, so a line comes back exactly as the process wrote it, whatever
 * its length, with the time of its first message.
 *
 * Consequences handled here: Docker's `tail=N` counts messages, not lines, and its window can start
 * inside a long line — so `tail` is resolved by reading a window and, when a line at its start may
 * have begun before it, reading again from that line's timestamp (`since` keeps or drops whole lines,
 * as all messages of a line share the timestamp); following with a tail continues from the first
 * tailed line's timestamp. An unterminated last line is only returned once the container has exited
 * (while it runs, it is a line still being written).
 * @internal
 */
import type Docker from 'dockerode'
import { LineSplitter } from '../shared/line-splitter.ts'
import { DockerDemuxer, parseTimestampedLine, splitTimestamp, stampToSince } from './docker-wire.ts'
import { validateLogsOptions } from '../shared/logs-options.ts'
import type { ContainerInfo, LogLine, LogsOptions } from '../runtime.ts'

/** What {@link dockerLogs} needs from the runtime. */
export interface DockerLogsContext {
  readonly id: string
  readonly options: LogsOptions
  readonly inspect: () => Promise<ContainerInfo>
  readonly container: () => Docker.Container
  readonly untilStarted: (signal?: AbortSignal) => Promise<void>
  readonly ready: () => Promise<void>
}

type Stream = 'stdout' | 'stderr'

/** A line put back together from Docker's messages. */
export interface AssembledLine {
  readonly log: LogLine
  /** Docker's timestamp of the line's first message (shared by all its messages); undefined without one. */
  readonly stamp: string | undefined
  /**
   * The line started with the first message of its stream that this assembler saw: when the input
   * is a window that may start inside a line (a `tail`), such a line may be missing its beginning.
   */
  readonly opensStream: boolean
}

interface OpenLine {
  readonly parts: Buffer[]
  readonly time: number
  readonly stamp: string | undefined
  readonly opensStream: boolean
}

/**
 * Turns framed, timestamped Docker log bytes into lines: one frame is one Docker log message;
 * messages of one stream are joined until one ends with a newline (Docker's partial messages).
 * An unframed (TTY) stream is split into lines as it comes.
 */
export class DockerLogAssembler {
  readonly #demux = new DockerDemuxer()
  readonly #unframed = { stdout: new LineSplitter(), stderr: new LineSplitter() }
  readonly #open: Record<Stream, OpenLine | undefined> = { stdout: undefined, stderr: undefined }
  readonly #seen: Record<Stream, boolean> = { stdout: false, stderr: false }
  #messages = 0

  /** Messages (frames) read so far; lines for an unframed stream. */
  get messages(): number {
    return this.#messages
  }

  /** Lines completed by `chunk`, in the order they completed. */
  push(chunk: Buffer): AssembledLine[] {
    const out: AssembledLine[] = []
    for (const { stream, data } of this.#demux.push(chunk)) {
      if (this.#demux.raw) {
        for (const raw of this.#unframed[stream].push(data)) out.push(this.#unframedLine(stream, raw))
      } else {
        this.#messages++
        this.#message(out, stream, data)
      }
    }
    return out
  }

  /** The lines still open at the end of the input (a last line written without a newline). */
  end(): AssembledLine[] {
    const out: AssembledLine[] = []
    for (const stream of ['stdout', 'stderr'] as const) {
      for (const raw of this.#unframed[stream].flush()) out.push(this.#unframedLine(stream, raw))
      const open = this.#open[stream]
      this.#open[stream] = undefined
      if (open !== undefined) out.push(lineOf(stream, open, Buffer.concat(open.parts)))
    }
    return out
  }

  #message(out: AssembledLine[], stream: Stream, message: Buffer): void {
    const split = splitTimestamp(message)
    const text = split?.text ?? message
    const time = split?.time ?? Date.now()
    const stamp = split?.stamp
    // Only the piece before the message's first newline can continue a line begun earlier.
    let opens = !this.#seen[stream]
    this.#seen[stream] = true
    let start = 0
    for (let nl = text.indexOf(10); nl !== -1; nl = text.indexOf(10, start)) {
      const piece = text.subarray(start, nl)
      const open = this.#open[stream]
      this.#open[stream] = undefined
      out.push(open === undefined
        ? lineOf(stream, { parts: [], time, stamp, opensStream: opens }, piece)
        : lineOf(stream, open, Buffer.concat([...open.parts, piece])))
      opens = false
      start = nl + 1
    }
    if (start === text.length) return
    const rest = text.subarray(start)
    const open = this.#open[stream]
    if (open !== undefined) open.parts.push(rest)
    else this.#open[stream] = { parts: [rest], time, stamp, opensStream: opens }
  }

  #unframedLine(stream: Stream, raw: string): AssembledLine {
    this.#messages++
    const parsed = parseTimestampedLine(raw)
    const log = parsed === undefined ? { stream, line: raw, time: Date.now() } : { stream, line: parsed.text, time: parsed.time }
    return { log, stamp: undefined, opensStream: false }
  }
}

function lineOf(stream: Stream, open: OpenLine, bytes: Buffer): AssembledLine {
  // A CR before the newline is part of the line ending, as for the other runtimes' line splitters.
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length
  return { log: { stream, line: bytes.toString('utf8', 0, end), time: open.time }, stamp: open.stamp, opensStream: open.opensStream }
}

/** {@link DockerLogAssembler} as plain {@link LogLine}s, keeping those with `time >= since`. */
export class DockerLogDecoder {
  readonly #assembler = new DockerLogAssembler()
  readonly #since: number | undefined

  constructor(since: number | undefined) {
    this.#since = since
  }

  /** Lines completed by `chunk`. */
  push(chunk: Buffer): LogLine[] {
    return this.#keep(this.#assembler.push(chunk))
  }

  /** Final unterminated lines. */
  end(): LogLine[] {
    return this.#keep(this.#assembler.end())
  }

  #keep(lines: AssembledLine[]): LogLine[] {
    const since = this.#since
    return lines.map((l) => l.log).filter((l) => since === undefined || l.time >= since)
  }
}

/** Reads the flag afresh (TypeScript would otherwise narrow it after the first check). */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

/** A timestamp as one comparable number of nanoseconds. */
function stampNanos(stamp: string): bigint {
  const [s = '0', ns = '0'] = stampToSince(stamp).split('.')
  return BigInt(s) * 1_000_000_000n + BigInt(ns)
}

interface LogQuery {
  readonly tail?: string
  readonly since?: string | number
}

interface Window {
  readonly lines: AssembledLine[]
  readonly messages: number
}

/** The last `n` lines (n ≥ 1) and the lines before them in the window that was read, for a follow to skip. */
interface TailResult {
  readonly lines: AssembledLine[]
  readonly before: AssembledLine[]
}

class DockerLogReader {
  readonly #c: Docker.Container
  readonly #signal: AbortSignal | undefined
  readonly #final: boolean

  /** @param final - the container has exited: its unterminated last line is complete. */
  constructor(c: Docker.Container, signal: AbortSignal | undefined, final: boolean) {
    this.#c = c
    this.#signal = signal
    this.#final = final
  }

  #query(q: LogQuery): Record<string, unknown> {
    return {
      stdout: true,
      stderr: true,
      timestamps: true,
      tail: q.tail ?? 'all',
      ...(q.since !== undefined ? { since: q.since } : {}),
      ...(this.#signal !== undefined ? { abortSignal: this.#signal } : {}),
    }
  }

  /** One non-followed read. */
  async read(q: LogQuery): Promise<Window> {
    // Not following, dockerode hands back a Buffer — still multiplexed.
    const opts = { ...this.#query(q), follow: false } as unknown as Docker.ContainerLogsOptions & { follow: false }
    const buf = (await this.#c.logs(opts)) as unknown
    const assembler = new DockerLogAssembler()
    const lines = assembler.push(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)))
    if (this.#final) lines.push(...assembler.end())
    return { lines, messages: assembler.messages }
  }

  /** The last `n` whole lines (n ≥ 1), however many Docker messages they took. */
  async tail(n: number): Promise<TailResult> {
    const result = (w: Window): TailResult => {
      const from = Math.max(0, w.lines.length - n)
      return { lines: w.lines.slice(from), before: w.lines.slice(0, from) }
    }
    // One message more than lines wanted: with short lines, the line a window may cut sits outside the tail.
    let t = n + 1
    for (;;) {
      const w = await this.read({ tail: String(t) })
      // Fewer messages than asked: the whole log.
      if (w.messages < t) return result(w)
      const last = w.lines.slice(-n)
      const doubtful = last.filter((l) => l.opensStream && l.stamp !== undefined)
      if (doubtful.length === 0 && last.length === n) return result(w)
      if (doubtful.length > 0) {
        // Read again from the earliest doubtful line: `since` keeps whole lines only.
        let from = doubtful[0]?.stamp ?? ''
        for (const l of doubtful) if (stampNanos(l.stamp ?? from) < stampNanos(from)) from = l.stamp ?? from
        const whole = await this.read({ since: stampToSince(from) })
        if (whole.lines.length >= n) return result(whole)
        t = Math.max(2 * t, whole.messages + n)
      } else {
        t *= 2
      }
    }
  }

  /** A followed read. */
  async follow(q: LogQuery): Promise<NodeJS.ReadableStream> {
    return this.#c.logs({ ...this.#query(q), follow: true } as unknown as Docker.ContainerLogsOptions & { follow: true })
  }
}

/** Docker's `since` value for a time in ms. */
function sinceOfMs(ms: number): string {
  const whole = Math.floor(ms)
  return `${Math.floor(whole / 1000)}.${String((whole % 1000) * 1_000_000).padStart(9, '0')}`
}

/** The log iterable (errors such as NotFoundError surface from the first `next()`). */
export async function* dockerLogs(ctx: DockerLogsContext): AsyncGenerator<LogLine> {
  const { options } = ctx
  const signal = options.signal
  validateLogsOptions(options)
  await ctx.ready()
  const info = await ctx.inspect()
  if (isAborted(signal)) return
  const follow = options.follow === true
  if (follow && info.state === 'created') {
    await ctx.untilStarted(signal)
    if (isAborted(signal)) return
  }
  const since = options.since
  const keep = (l: AssembledLine): boolean => since === undefined || l.log.time >= since
  // Docker's `since` is safe for whole lines: all messages of a line carry its first message's time.
  const serverSince = since === undefined ? undefined : Math.max(0, Math.floor(since / 1000))
  // Docker marks a container exited only once its output is logged: then every line is complete.
  const reader = new DockerLogReader(ctx.container(), signal, info.state === 'exited')
  const tail = options.tail
  // Aborting ends the iteration quietly, also while a read is under way.
  const quietly = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read()
    } catch (err) {
      if (isAborted(signal)) return undefined
      throw err
    }
  }
  if (!follow) {
    const lines = tail === undefined
      ? (await quietly(() => reader.read(serverSince === undefined ? {} : { since: serverSince })))?.lines
      : tail === 0 ? [] : (await quietly(() => reader.tail(tail)))?.lines
    for (const l of lines ?? []) if (keep(l)) yield l.log
    return
  }
  let query: LogQuery
  let skip = 0
  const first = tail !== undefined && tail > 0 ? await quietly(() => reader.tail(tail)) : undefined
  if (isAborted(signal)) return
  const start = first?.lines[0]?.stamp
  if (tail === undefined || (first !== undefined && first.lines.length === 0)) {
    // Everything (also when no line is complete yet: then nothing can be missed by starting at the top).
    query = serverSince === undefined ? {} : { since: serverSince }
  } else if (tail === 0) {
    // Only lines that begin from now on.
    query = { since: sinceOfMs(Date.now()) }
  } else if (first !== undefined && start !== undefined) {
    // From the first tailed line on; lines that completed before it but began after it are skipped.
    const from = stampNanos(start)
    skip = first.before.filter((l) => l.stamp !== undefined && stampNanos(l.stamp) >= from).length
    query = { since: stampToSince(start) }
  } else {
    query = { tail: String(tail) }
  }
  if (isAborted(signal)) return
  let stream: NodeJS.ReadableStream
  try {
    stream = await reader.follow(query)
  } catch (err) {
    if (isAborted(signal)) return
    throw err
  }
  const assembler = new DockerLogAssembler()
  const emit = function* (lines: AssembledLine[]): Generator<LogLine> {
    for (const l of lines) {
      if (skip > 0) {
        skip--
        continue
      }
      if (keep(l)) yield l.log
    }
  }
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      yield* emit(assembler.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk))
      if (isAborted(signal)) return
    }
  } catch (err) {
    if (isAborted(signal)) return
    throw err
  } finally {
    const s = stream as NodeJS.ReadableStream & { destroy?: () => void }
    s.destroy?.()
  }
  // The followed stream ends when the container exits: its last unterminated line is complete.
  yield* emit(assembler.end())
}
