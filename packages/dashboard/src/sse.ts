/**
 * Server-Sent Events framing (WHATWG HTML, "Server-sent events"): one `id`, one `event`, one
 * `data` line per message. Data is JSON, which never holds a raw CR or LF (JSON.stringify escapes
 * both inside strings), so a user string cannot end a line and forge a field or a message.
 *
 * Event ids are `<epoch>-<version>`: the epoch names one attachment of the server to one store
 * (a new store, a restarted server: a new epoch), the version is the store's commit version the
 * message brings the page to. A reconnecting `EventSource` sends the last one in `Last-Event-ID`.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

/** How long a disconnected `EventSource` waits before reconnecting (the `retry` field). */
export const SSE_RETRY_MS = 1000

/** The position of a page in the stream, from its last event id. */
export interface StreamPosition {
  /** The attachment the id came from. */
  readonly epoch: string
  /** The store version the page has. */
  readonly version: bigint
}

const FIELD_SAFE = /^[^\r\n]*$/

/** One SSE message: `event`, `data` (JSON, one line) and, when given, `id`. */
export function sseFrame(event: string, data: unknown, id?: string): string {
  if (event === '' || !FIELD_SAFE.test(event)) throw new InvalidArgumentError('event', 'must be a non-empty line without CR or LF')
  if (id !== undefined && (!FIELD_SAFE.test(id) || id.includes('\u0000'))) throw new InvalidArgumentError('id', 'must be one line without CR, LF or NUL')
  const json = JSON.stringify(data)
  if (json === undefined) throw new InvalidArgumentError('data', 'must be JSON-serializable')
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${json}\n\n`
}

/** The first bytes of a stream: how long the browser waits before reconnecting. */
export function sseRetry(ms: number = SSE_RETRY_MS): string {
  return `retry: ${ms}\n\n`
}

/** A comment line that keeps an idle connection open through proxies. */
export const SSE_KEEPALIVE = ': keep-alive\n\n'

/** The id of a message that brings the page to `version` of `epoch`. */
export function eventId(epoch: string, version: bigint): string {
  return `${epoch}-${version}`
}

/** Parses a `Last-Event-ID` header; undefined when absent or not one of ours (the page then gets a snapshot). */
export function parseLastEventId(header: string | readonly string[] | undefined): StreamPosition | undefined {
  const value: unknown = typeof header === 'string' || header === undefined ? header : header[0]
  if (typeof value !== 'string') return undefined
  const m = /^([a-z0-9]{1,32})-(\d{1,20})$/.exec(value)
  if (m === null) return undefined
  return { epoch: m[1] ?? '', version: BigInt(m[2] ?? '0') }
}
