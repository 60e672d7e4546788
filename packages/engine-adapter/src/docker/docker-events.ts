/**
 * A Docker `/events` subscription that survives its stream ending: on end or error it reconnects
 * with `since` = the last event's time and drops the events it already delivered (keyed by
 * id, action and nanosecond time), so each engine event is delivered once and in order.
 * @internal
 */
import type { Readable } from 'node:stream'
import { NdjsonSplitter, nanosToSince } from './docker-wire.ts'

/** The fields of a Docker container event the runtime reads. */
export interface DockerEngineEvent {
  readonly id: string
  readonly action: string
  readonly attributes: Readonly<Record<string, string>>
  /** Event time in nanoseconds since the epoch, as a decimal string (exact). */
  readonly timeNano: string
  /** Event time in ms. */
  readonly time: number
}

/** Opens the raw `/events` stream (dockerode `getEvents`). */
export type OpenEventStream = (query: { since?: string; filters: Record<string, string[]> }) => Promise<Readable>

/** Options of {@link DockerEventFeed}. */
export interface DockerEventFeedInit {
  readonly open: OpenEventStream
  readonly filters: Record<string, string[]>
  readonly onEvent: (event: DockerEngineEvent) => void
  /** Called with each stream failure before the feed reconnects (for logging). */
  readonly onReconnect?: (reason: unknown) => void
  /**
   * Called each time a reconnect has established the stream again. Events the engine never
   * published — a restarted dockerd does not announce the exit of a container that ended while it
   * was down — are for the caller to find (e.g. by inspecting what it believed running).
   */
  readonly onResubscribed?: () => void
  /** Delay before a reconnect, ms. @default 100 */
  readonly retryDelayMs?: number
}

const DEDUP_KEEP = 4096

function parseEvent(raw: string, value: unknown): DockerEngineEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const v = value as { Type?: unknown; Action?: unknown; Actor?: { ID?: unknown; Attributes?: unknown }; id?: unknown }
  if (v.Type !== undefined && v.Type !== 'container') return undefined
  const id = typeof v.Actor?.ID === 'string' ? v.Actor.ID : typeof v.id === 'string' ? v.id : undefined
  if (id === undefined || typeof v.Action !== 'string') return undefined
  // timeNano exceeds 2^53: read it from the raw text, not from the parsed number.
  const nano = /"timeNano"\s*:\s*(\d+)/.exec(raw)?.[1] ?? '0'
  const attrs: Record<string, string> = {}
  if (typeof v.Actor?.Attributes === 'object' && v.Actor.Attributes !== null) {
    for (const [k, val] of Object.entries(v.Actor.Attributes as Record<string, unknown>)) if (typeof val === 'string') attrs[k] = val
  }
  return { id, action: v.Action, attributes: attrs, timeNano: nano, time: Number(BigInt(nano) / 1_000_000n) }
}

/** The reconnecting feed. `start()` resolves once the first subscription is established. */
export class DockerEventFeed {
  readonly #opts: DockerEventFeedInit
  #stream: Readable | undefined
  #closed = false
  #lastNano: string | undefined
  readonly #seen = new Set<string>()
  #reconnects = 0

  constructor(opts: DockerEventFeedInit) {
    this.#opts = opts
  }

  /** How many times the stream was re-established. */
  get reconnects(): number {
    return this.#reconnects
  }

  /** Subscribes; resolves when the engine accepted the subscription (events from then on are seen). */
  async start(): Promise<void> {
    // Until an event arrives, a reconnect resumes from the subscription time (same host clock).
    this.#lastNano = (BigInt(Date.now()) * 1_000_000n).toString()
    await this.#connect(undefined)
  }

  /** Ends the feed. */
  close(): void {
    this.#closed = true
    this.#stream?.destroy()
    this.#stream = undefined
  }

  /** Destroys the current HTTP stream as a network failure would (the feed reconnects). */
  interrupt(): void {
    this.#stream?.destroy(new Error('event stream interrupted'))
  }

  async #connect(since: string | undefined): Promise<void> {
    const stream = await this.#opts.open({ ...(since !== undefined ? { since } : {}), filters: this.#opts.filters })
    if (this.#closed) {
      stream.destroy()
      return
    }
    this.#stream = stream
    const splitter = new NdjsonSplitter()
    let ended = false
    const onGone = (reason: unknown): void => {
      if (ended) return
      ended = true
      stream.removeAllListeners('data')
      if (this.#stream === stream) this.#stream = undefined
      if (!this.#closed) this.#scheduleReconnect(reason)
    }
    stream.on('data', (chunk: Buffer) => {
      for (const { raw, value } of splitter.push(chunk)) {
        const ev = parseEvent(raw, value)
        if (ev !== undefined) this.#deliver(ev)
      }
    })
    stream.once('end', () => onGone(new Error('event stream ended')))
    stream.once('close', () => onGone(new Error('event stream closed')))
    stream.once('error', onGone)
  }

  #deliver(ev: DockerEngineEvent): void {
    const key = `${ev.id}|${ev.action}|${ev.timeNano}`
    if (this.#seen.has(key)) return
    this.#seen.add(key)
    if (this.#seen.size > DEDUP_KEEP) {
      const first = this.#seen.values().next()
      if (first.done !== true) this.#seen.delete(first.value)
    }
    if (this.#lastNano === undefined || BigInt(ev.timeNano) > BigInt(this.#lastNano)) this.#lastNano = ev.timeNano
    this.#opts.onEvent(ev)
  }

  #scheduleReconnect(reason: unknown): void {
    this.#opts.onReconnect?.(reason)
    const retry = (): void => {
      if (this.#closed) return
      this.#reconnects++
      const since = this.#lastNano === undefined ? undefined : nanosToSince(this.#lastNano)
      this.#connect(since).then(() => {
        if (!this.#closed) this.#opts.onResubscribed?.()
      }, (err: unknown) => {
        this.#opts.onReconnect?.(err)
        setTimeout(retry, Math.max(this.#opts.retryDelayMs ?? 100, 500)).unref()
      })
    }
    setTimeout(retry, this.#opts.retryDelayMs ?? 100).unref()
  }
}
