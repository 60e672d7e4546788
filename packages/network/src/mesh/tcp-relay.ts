/**
 * The two directions of a spliced TCP connection: how bytes read from one socket are written to
 * the other, with backpressure and half-close.
 *
 * @module
 */
import type { OnReadOpts, Socket } from 'node:net'

/** Size of a relay's read buffer: what one read from the kernel may return. */
export const RELAY_READ_SIZE = 64 * 1024

/**
 * One direction relayed without the stream machinery: the source socket reads into this
 * relay's buffer (the socket's `onread` option, so no Buffer is allocated and no 'data' event
 * emitted per read) and each read is written to the target as is. A write the kernel does not
 * take at once keeps a reference to the bytes it still has to send, so the relay then reads into
 * a fresh buffer; it stops reading while the target is over its high-water mark and starts
 * again on the target's 'drain'. The source's FIN becomes the target's FIN.
 */
export class ReadRelay {
  #buffer = Buffer.allocUnsafe(RELAY_READ_SIZE)
  #source: Socket | undefined
  #target: Socket | undefined

  /** The `onread` option for the source socket (created with it, before {@link start}). */
  readonly onread: OnReadOpts = {
    buffer: () => this.#buffer,
    callback: (n: number, buf: Uint8Array): boolean => {
      const target = this.#target as Socket
      const ok = target.write(n === buf.length ? buf : buf.subarray(0, n))
      // Bytes the kernel did not take are still in `buf`: the next read must not overwrite them.
      if (target.writableLength > 0) this.#buffer = Buffer.allocUnsafe(RELAY_READ_SIZE)
      return ok
    },
  }

  /** Starts relaying `source` (the socket created with {@link onread}) to `target`. */
  start(source: Socket, target: Socket): void {
    this.#source = source
    this.#target = target
    target.on('drain', this.#resume)
    source.once('end', () => target.end())
    source.resume()
  }

  readonly #resume = (): void => {
    this.#source?.resume()
  }
}

/**
 * One direction relayed from 'data' events, for a socket that could not be given an `onread`
 * buffer (an accepted one): each chunk is written as is (no copy), `from` paused while `to` is
 * over its high-water mark; `from`'s FIN becomes `to`'s FIN. (What `pipe` does, without its
 * per-chunk bookkeeping.)
 */
export function relayData(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause()
  })
  to.on('drain', () => from.resume())
  from.once('end', () => to.end())
}
