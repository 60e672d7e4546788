/**
 * Container output for the containerd runtime. The runc shim hands the task's stdout and stderr
 * pipes to a tiny logging binary (`binary://` stdio: a `/bin/sh` script running one unbuffered
 * `sed` per stream) that appends every line, tagged `o ` or `e `, to one plain file — so lines keep
 * their arrival order across the two streams, there are no FIFOs for us to drain, and nothing blocks
 * when nobody reads (the shim's `file://` scheme would merge both streams untagged). This store ingests
 * that file into a timestamped journal (`log.jsonl`, one `{s,t,l}` object per line): while the task
 * runs (polled) and whenever logs are read. A line's time is when the runtime received it.
 * @internal
 */
import { appendFile, open, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { LineSplitter } from '../shared/line-splitter.ts'
import { validateLogsOptions } from '../shared/logs-options.ts'
import type { LogLine, LogsOptions } from '../runtime.ts'

interface Stored { s: 'o' | 'e'; t: number; l: string }

/** The log files and journal of one container. */
export class ContainerLogStore {
  readonly dir: string
  #offset = 0
  readonly #split = new LineSplitter()
  #queue: Promise<void> = Promise.resolve()
  #finished = false

  constructor(dir: string) {
    this.dir = dir
  }

  /** Path of the raw file the logger appends tagged lines to. */
  get rawPath(): string {
    return join(this.dir, 'output.raw')
  }

  /** `binary://` URI for Tasks.Create (the shim passes the query as arguments: `d <dir>`). */
  uri(logger: string): string {
    return `binary://${logger}?d=${encodeURIComponent(this.dir)}`
  }

  get journalPath(): string {
    return join(this.dir, 'log.jsonl')
  }

  /** True once the final ingestion (after the process exited) ran. */
  get finished(): boolean {
    return this.#finished
  }

  /** Moves new raw output into the journal; `final` also takes unterminated last lines. Serialised. */
  ingest(final = false): Promise<void> {
    const run = this.#queue.then(() => this.#ingest(final))
    this.#queue = run.catch(() => undefined)
    return run
  }

  async #ingest(final: boolean): Promise<void> {
    const now = Date.now()
    const lines = this.#split.push(await this.#readNew())
    if (final) lines.push(...this.#split.flush())
    const out: string[] = []
    for (const tagged of lines) {
      const s = tagged.startsWith('e ') ? 'e' : 'o'
      out.push(JSON.stringify({ s, t: now, l: tagged.startsWith('o ') || tagged.startsWith('e ') ? tagged.slice(2) : tagged } satisfies Stored))
    }
    if (out.length > 0) await appendFile(this.journalPath, `${out.join('\n')}\n`)
    if (final) this.#finished = true
  }

  async #readNew(): Promise<Buffer> {
    let size: number
    try {
      size = (await stat(this.rawPath)).size
    } catch {
      return Buffer.alloc(0)
    }
    const from = this.#offset
    if (size <= from) return Buffer.alloc(0)
    const fh = await open(this.rawPath, 'r')
    try {
      const buf = Buffer.alloc(size - from)
      const { bytesRead } = await fh.read(buf, 0, buf.length, from)
      this.#offset = from + bytesRead
      return buf.subarray(0, bytesRead)
    } finally {
      await fh.close()
    }
  }

  /** Journal lines from byte `position` on; returns them and the next position. */
  async readFrom(position: number): Promise<{ lines: LogLine[]; next: number }> {
    let fh
    try {
      fh = await open(this.journalPath, 'r')
    } catch {
      return { lines: [], next: position }
    }
    try {
      const { size } = await fh.stat()
      if (size <= position) return { lines: [], next: position }
      const buf = Buffer.alloc(size - position)
      const { bytesRead } = await fh.read(buf, 0, buf.length, position)
      const text = buf.toString('utf8', 0, bytesRead)
      const end = text.lastIndexOf('\n')
      if (end === -1) return { lines: [], next: position }
      const lines = text.slice(0, end).split('\n').map(parseStored)
      return { lines, next: position + Buffer.byteLength(text.slice(0, end + 1)) }
    } finally {
      await fh.close()
    }
  }
}

/**
 * The logging binary's source: fd 3 is stdout, fd 4 stderr; closing fd 5 tells the shim it is ready.
 * `sed -u` writes each line as it arrives (O_APPEND keeps lines of the two streams whole).
 */
export const LOGGER_SCRIPT = `#!/bin/sh
# swarmkit-ts containerd logger: $2 is the container's log directory.
out="$2/output.raw"
sed -u 's/^/o /' <&3 >>"$out" 4>&- 5>&- &
sed -u 's/^/e /' <&4 >>"$out" 3>&- 5>&- &
exec 3>&- 4>&- 5>&-
wait
`

function parseStored(raw: string): LogLine {
  const v = JSON.parse(raw) as Stored
  return { stream: v.s === 'e' ? 'stderr' : 'stdout', line: v.l, time: v.t }
}

/** What {@link containerdLogs} needs from the runtime. */
export interface ContainerdLogsContext {
  readonly store: () => ContainerLogStore
  /** True while the process may still write (created or running). */
  readonly live: () => boolean
  readonly options: LogsOptions
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

/** The log iterable of one container (lookup errors surface from the first `next()`). */
export async function* containerdLogs(ctx: ContainerdLogsContext): AsyncGenerator<LogLine> {
  validateLogsOptions(ctx.options)
  const { follow = false, tail, since, signal } = ctx.options
  const store = ctx.store()
  if (isAborted(signal)) return
  await store.ingest(!ctx.live())
  const first = await store.readFrom(0)
  let lines = first.lines
  let position = first.next
  if (tail !== undefined) lines = tail === 0 ? [] : lines.slice(-tail)
  for (const l of lines) if (since === undefined || l.time >= since) yield l
  if (!follow) return
  for (;;) {
    if (isAborted(signal)) return
    const live = ctx.live()
    await store.ingest(!live)
    const { lines: fresh, next } = await store.readFrom(position)
    position = next
    for (const l of fresh) {
      if (isAborted(signal)) return
      if (since === undefined || l.time >= since) yield l
    }
    if (!live && store.finished && fresh.length === 0) return
    if (fresh.length === 0) await sleep(50, signal)
  }
}
