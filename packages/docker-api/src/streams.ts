/**
 * Streamed responses: Docker's multiplexed stdout/stderr framing (logs of a container or service
 * without a TTY) and newline-delimited JSON (events, progress).
 *
 * @module
 */
import type { ServerResponse } from 'node:http'
import type { FastifyReply } from 'fastify'

/** Stream ids of Docker's multiplexed framing. */
export const StdStream = { stdin: 0, stdout: 1, stderr: 2 } as const
/** A stream id of Docker's multiplexed framing. */
export type StdStream = (typeof StdStream)[keyof typeof StdStream]

/**
 * One frame of Docker's multiplexed stream: an 8-byte header (stream id, three zero bytes, the
 * payload length as big-endian uint32) and the payload.
 */
export function stdFrame(stream: StdStream, payload: Uint8Array | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  const header = Buffer.alloc(8)
  header.writeUInt8(stream, 0)
  header.writeUInt32BE(body.length, 4)
  return Buffer.concat([header, body])
}

/**
 * Takes over `reply` for a streamed body: writes the status and headers now (so a client waiting
 * for them — `docker logs -f`, `docker events` — starts reading) and returns the raw response.
 * The caller writes chunks and ends it; the server's error mapping no longer applies.
 */
export function startStream(reply: FastifyReply, contentType: string, extraHeaders: Readonly<Record<string, string>> = {}): ServerResponse {
  reply.hijack()
  const res = reply.raw
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value)
  res.writeHead(200, { 'Content-Type': contentType, ...extraHeaders })
  res.flushHeaders()
  return res
}

/**
 * Writes `chunk` and waits for the socket to drain when its buffer is full; resolves false when
 * the client went away (the caller stops producing).
 */
export function writeChunk(res: ServerResponse, chunk: Buffer | string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false)
  if (res.write(chunk)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      res.off('drain', onDrain)
      res.off('close', onClose)
      resolve(ok)
    }
    const onDrain = (): void => done(true)
    const onClose = (): void => done(false)
    res.once('drain', onDrain)
    res.once('close', onClose)
  })
}

/**
 * An AbortSignal that aborts when the client closes the connection of `res` (or `parent` aborts):
 * stop following logs or events then.
 */
export function clientGone(res: ServerResponse, parent?: AbortSignal): AbortSignal {
  const ac = new AbortController()
  const abort = (): void => {
    // Drop the listener on the server's long-lived signal, or every stream would leave one behind.
    parent?.removeEventListener('abort', abort)
    ac.abort(new Error('the client closed the connection'))
  }
  res.once('close', abort)
  if (parent !== undefined) {
    if (parent.aborted) abort()
    else parent.addEventListener('abort', abort, { once: true })
  }
  return ac.signal
}
