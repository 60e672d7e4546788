/**
 * A grpc-js server stream, read on the client as an `AsyncIterable` that honours an
 * `AbortSignal`.
 *
 * @module
 */
import { status as GrpcCode, type ClientReadableStream } from '@grpc/grpc-js'
import { fromGrpcError } from './errors.ts'

function isCancelled(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === GrpcCode.CANCELLED
}

/**
 * Yields each message of `call` decoded by `decode`, with the stream's flow control (the stream
 * pauses while the consumer is busy). Ends normally when the server ends the stream or `signal`
 * aborts (the call is cancelled); a consumer that stops early (`break`) cancels the call too.
 * A failed call throws its typed error (see {@link fromGrpcError}).
 */
export async function* readServerStream<T>(call: ClientReadableStream<Buffer>, decode: (bytes: Buffer) => T, signal?: AbortSignal): AsyncGenerator<T, void, undefined> {
  const onAbort = (): void => call.cancel()
  // A function, not a narrowed property: the signal aborts while the loop awaits.
  const aborted = (): boolean => signal?.aborted === true
  if (aborted()) {
    call.cancel()
    return
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    for await (const chunk of call as AsyncIterable<Buffer>) {
      if (aborted()) return
      yield decode(chunk)
    }
  } catch (err) {
    if (aborted() && isCancelled(err)) return
    throw fromGrpcError(err)
  } finally {
    signal?.removeEventListener('abort', onAbort)
    call.cancel()
  }
}

/** A gRPC stream that writes with backpressure (server or client side). */
interface Drainable {
  on(event: 'drain', listener: () => void): unknown
  off(event: 'drain', listener: () => void): unknown
}

/** Resolves once `call` drains its write buffer (after `write` returned false), or `signal` aborts. */
export function drained(call: Drainable, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    call.on('drain', done)
    signal.addEventListener('abort', done, { once: true })
  })
}
