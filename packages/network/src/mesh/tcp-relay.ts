/**
 * The two directions of a spliced TCP connection: how bytes read from one socket are written to
 * the other, with backpressure and half-close, at the least CPU per read.
 *
 * @module
 */
import { Socket } from 'node:net'
import type { OnReadOpts } from 'node:net'

/** Size of a relay's first read buffer: enough for a request or a reply of most protocols. */
export const RELAY_MIN_READ = 4 * 1024
/** The largest read buffer, for bulk transfers (see {@link ReadRelay}). */
export const RELAY_MAX_READ = 256 * 1024

/**
 * One direction relayed without the stream machinery: the source socket reads into this
 * relay's buffer (the socket's `onread` option, so no Buffer is allocated and no 'data' event
 * emitted per read) and each read is written to the target as is, the only work per read.
 *
 * - The buffer starts at {@link RELAY_MIN_READ} (an idle keep-alive connection holds little),
 *   grows to {@link RELAY_MAX_READ} (×4 at a time) while reads fill it (bulk transfers: fewer,
 *   larger reads) and goes back to the small size after a read that would have fitted it.
 * - A write the kernel does not take at once keeps a reference to the bytes it still has to send,
 *   so the relay then reads into a fresh buffer (the held one is the pending write's until done).
 * - Reading stops while the target is over its high-water mark and starts again on 'drain'.
 * - The source's FIN becomes the target's FIN.
 */
export class ReadRelay {
  #buffer: Buffer = Buffer.allocUnsafe(RELAY_MIN_READ)
  #source: Socket | undefined
  #target: Socket | undefined

  /** The `onread` option for the source socket (created with it, before {@link start}). */
  readonly onread: OnReadOpts = {
    buffer: () => this.#buffer,
    callback: (n: number, buf: Uint8Array): boolean => {
      const target = this.#target as Socket
      const full = n === buf.length
      // Every branch below that swaps the buffer leaves the old one to a pending write, if any.
      const ok = target.write(full ? buf : buf.subarray(0, n))
      if (full && buf.length < RELAY_MAX_READ) this.#buffer = Buffer.allocUnsafe(Math.min(buf.length * 4, RELAY_MAX_READ))
      else if (n <= RELAY_MIN_READ && buf.length > RELAY_MIN_READ) this.#buffer = Buffer.allocUnsafe(RELAY_MIN_READ)
      else if (target.writableLength > 0) this.#buffer = Buffer.allocUnsafe(buf.length)
      return ok
    },
  }

  /**
   * Starts relaying `source` (a socket created with {@link onread}) to `target`. Should the
   * source emit 'data' all the same (a Node that ignored `onread`), those chunks are relayed too.
   */
  start(source: Socket, target: Socket): void {
    this.#source = source
    this.#target = target
    target.on('drain', this.#resume)
    source.on('data', (chunk: Buffer) => {
      if (!target.write(chunk)) source.pause()
    })
    source.once('end', () => target.end())
    source.resume()
  }

  readonly #resume = (): void => {
    this.#source?.resume()
  }
}

/**
 * One direction relayed from 'data' events (a socket without an `onread` buffer): each chunk is
 * written as is (no copy), `from` paused while `to` is over its high-water mark; `from`'s FIN
 * becomes `to`'s FIN. (What `pipe` does, without its per-chunk bookkeeping.)
 */
export function relayData(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause()
  })
  to.on('drain', () => from.resume())
  from.once('end', () => to.end())
}

/** The internals {@link adoptAccepted} relies on. */
interface SocketInternals {
  _handle: { readStart?: unknown } | null
}

/**
 * An accepted socket, paused (`pauseOnConnect`), re-wrapped in a socket that reads into
 * `onread`: Node's server takes no `onread` option for the sockets it accepts, so the accepted
 * socket's handle is moved to a new `Socket` (Node's own `handle` and `pauseOnCreate`
 * constructor options, as its child_process uses them). The accepted socket is left as an
 * empty shell, for the server's connection count: destroy it once the new socket closes.
 * Undefined (use the accepted socket as it is) when the socket is not as expected.
 */
export function adoptAccepted(accepted: Socket, onread: OnReadOpts): Socket | undefined {
  const inner = accepted as unknown as SocketInternals
  const handle = inner._handle
  if (handle === null || typeof handle.readStart !== 'function' || accepted.readableFlowing !== false) return undefined
  const options = { handle, onread, allowHalfOpen: accepted.allowHalfOpen, pauseOnCreate: true }
  const socket = new Socket(options)
  inner._handle = null
  return socket
}
