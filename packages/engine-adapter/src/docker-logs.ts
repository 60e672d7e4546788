/**
 * `logs()` of the Docker runtime: `GET /containers/{id}/logs?timestamps=1`, demultiplexed by hand
 * (Docker returns a Buffer when not following and a stream when following; both are framed), split
 * into lines per stream, with Docker's own receive time of each line.
 * @internal
 */
import type Docker from 'dockerode'
import { LineSplitter } from './docker-containerd-host.ts'
import { DockerDemuxer, parseTimestampedLine } from './docker-wire.ts'
import type { ContainerInfo, LogLine, LogsOptions } from './runtime.ts'

/** What {@link dockerLogs} needs from the runtime. */
export interface DockerLogsContext {
  readonly id: string
  readonly options: LogsOptions
  readonly inspect: () => Promise<ContainerInfo>
  readonly container: () => Docker.Container
  readonly untilStarted: (signal?: AbortSignal) => Promise<void>
  readonly ready: () => Promise<void>
}

/** Turns framed, timestamped Docker log bytes into {@link LogLine}s. */
export class DockerLogDecoder {
  readonly #demux = new DockerDemuxer()
  readonly #split = { stdout: new LineSplitter(), stderr: new LineSplitter() }
  readonly #since: number | undefined

  constructor(since: number | undefined) {
    this.#since = since
  }

  /** Lines completed by `chunk`. */
  push(chunk: Buffer): LogLine[] {
    const out: LogLine[] = []
    for (const { stream, data } of this.#demux.push(chunk)) {
      for (const raw of this.#split[stream].push(data)) this.#emit(out, stream, raw)
    }
    return out
  }

  /** Final unterminated lines. */
  end(): LogLine[] {
    const out: LogLine[] = []
    for (const stream of ['stdout', 'stderr'] as const) for (const raw of this.#split[stream].flush()) this.#emit(out, stream, raw)
    return out
  }

  #emit(out: LogLine[], stream: 'stdout' | 'stderr', raw: string): void {
    const parsed = parseTimestampedLine(raw)
    const line = parsed === undefined ? { stream, line: raw, time: Date.now() } : { stream, line: parsed.text, time: parsed.time }
    if (this.#since === undefined || line.time >= this.#since) out.push(line)
  }
}

/** Reads the flag afresh (TypeScript would otherwise narrow it after the first check). */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

/** The log iterable (errors such as NotFoundError surface from the first `next()`). */
export async function* dockerLogs(ctx: DockerLogsContext): AsyncGenerator<LogLine> {
  const { options } = ctx
  const signal = options.signal
  await ctx.ready()
  const info = await ctx.inspect()
  if (isAborted(signal)) return
  const follow = options.follow === true
  if (follow && info.state === 'created') {
    await ctx.untilStarted(signal)
    if (isAborted(signal)) return
  }
  const decoder = new DockerLogDecoder(options.since)
  const query = {
    stdout: true,
    stderr: true,
    timestamps: true,
    tail: options.tail === undefined ? 'all' : String(options.tail),
    ...(options.since !== undefined ? { since: Math.floor(options.since / 1000) } : {}),
    ...(signal !== undefined ? { abortSignal: signal } : {}),
  }
  const c = ctx.container()
  if (!follow) {
    // Not following, dockerode hands back a Buffer — still multiplexed.
    const buf = (await c.logs({ ...query, follow: false } as unknown as Docker.ContainerLogsOptions & { follow: false })) as unknown
    const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf))
    yield* decoder.push(bytes)
    yield* decoder.end()
    return
  }
  let stream: NodeJS.ReadableStream
  try {
    stream = await c.logs({ ...query, follow: true } as unknown as Docker.ContainerLogsOptions & { follow: true })
  } catch (err) {
    if (isAborted(signal)) return
    throw err
  }
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      yield* decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
      if (isAborted(signal)) return
    }
  } catch (err) {
    if (isAborted(signal)) return
    throw err
  } finally {
    const s = stream as NodeJS.ReadableStream & { destroy?: () => void }
    s.destroy?.()
  }
  yield* decoder.end()
}
