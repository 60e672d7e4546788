/**
 * {@link ChannelPool}: at most one open channel per address, counted by the calls using it.
 * Invariants (checked by a property test): a channel is never closed while a call uses it; every
 * open channel is either in use or the current address's; each channel opened is closed exactly
 * once, at the latest by `close()`. The pool decides only when to open and close: the channel
 * itself (a grpc-js client) is the caller's.
 *
 * @internal
 */
import { UnavailableError } from '@swarmkit-ts/api'

/** How the pool opens and closes the caller's channels. */
export interface ChannelOps<C> {
  open(address: string): C
  close(channel: C): void
}

interface Entry<C> {
  readonly channel: C
  calls: number
}

/** Channels by address, reference-counted; the current address's channel outlives its calls. */
export class ChannelPool<C> {
  readonly #ops: ChannelOps<C>
  readonly #entries = new Map<string, Entry<C>>()
  #current: string | undefined
  #closed = false

  constructor(ops: ChannelOps<C>) {
    this.#ops = ops
  }

  /** The address in use from now on (undefined: none); channels no call uses of other addresses are closed. */
  use(address: string | undefined): void {
    this.#current = address
    for (const [a, e] of [...this.#entries]) if (e.calls <= 0 && a !== address) this.#close(a)
  }

  /** The channel to `address` for a call that starts now, opened if needed. @throws UnavailableError once closed. */
  acquire(address: string): C {
    if (this.#closed) throw new UnavailableError('the dispatcher connector is closed')
    let e = this.#entries.get(address)
    if (e === undefined) {
      e = { channel: this.#ops.open(address), calls: 0 }
      this.#entries.set(address, e)
    }
    e.calls++
    return e.channel
  }

  /** A call on `address` ended; its channel is closed if no call uses it and it is not the current one. */
  release(address: string): void {
    const e = this.#entries.get(address)
    if (e === undefined) return
    e.calls--
    if (e.calls <= 0 && address !== this.#current) this.#close(address)
  }

  /** The open channel of `address`, if any. */
  channel(address: string): C | undefined {
    return this.#entries.get(address)?.channel
  }

  /** The addresses with an open channel, in the order they were opened. */
  get addresses(): readonly string[] {
    return [...this.#entries.keys()]
  }

  /** Closes every channel (calls in progress included); later `acquire`s throw. Idempotent. */
  close(): void {
    this.#closed = true
    for (const a of [...this.#entries.keys()]) this.#close(a)
  }

  #close(address: string): void {
    const e = this.#entries.get(address)
    if (e === undefined) return
    this.#entries.delete(address)
    this.#ops.close(e.channel)
  }
}
