/**
 * One server stream of {@link inProcessDispatcher}: the caller's iterator over what the target's
 * stream yields, after each message crossed the wire codec, its delay and its drop draw.
 * Messages arrive in order (a delay never lets a later message overtake an earlier one); a lost
 * message ends the stream with `UnavailableError` (the agent would otherwise see a gap); a lost
 * connection ends it with `UnavailableError` at once, discarding what was still in transit (and,
 * cut half-open, keeps reading the target's stream into the void instead of cancelling it); the
 * caller's signal (or `return()`) ends it without an error. Internal to the package.
 */
import { UnavailableError } from '@swarmkit-ts/api'
import type { Clock, Timer } from '@swarmkit-ts/api'

/** The fate of one message (or of the request that opens the stream). */
export interface Fate {
  readonly delayMs: number
  readonly lost: boolean
}

/** What a stream needs from its binding. */
export interface StreamWire<M> {
  readonly clock: Clock
  /** The connection when the stream starts: aborts when it is lost (its reason is the error to report). */
  link(): AbortSignal
  /** Whether the connection was cut half-open: the target is not told, its stream stays open. */
  halfOpen(): boolean
  /** The caller's signal. */
  readonly signal: AbortSignal | undefined
  /** Draws the fate of the next message. */
  fate(): Fate
  /** Sends the request (encode, decode) and opens the target's stream with `signal`. */
  open(signal: AbortSignal): AsyncIterable<M>
  /** Carries one message through the wire codec. */
  carry(message: M): M
  /** Carries an error as a gRPC status would. */
  rewire(err: unknown): Error
  /** Counts a started stream or a delivered message (lost ones are counted by `fate`). */
  count(what: 'call' | 'message'): void
}

type Item<M> = { readonly kind: 'message'; readonly value: M } | { readonly kind: 'end' } | { readonly kind: 'error'; readonly error: Error }

/** The caller's side of one stream; starts on the first `next()`, like an async generator. */
export class BoundStream<M> implements AsyncIterableIterator<M> {
  readonly #wire: StreamWire<M>
  /** Cancels the target's stream. */
  readonly #inner = new AbortController()
  /** Items ready for the caller, in order. */
  readonly #ready: Item<M>[] = []
  /** Items in transit, in order, with the clock time they arrive. */
  readonly #transit: { at: number; item: Item<M> }[] = []
  #timer: Timer | undefined
  /** Callers waiting in `next()`, first come first served. */
  readonly #waiters: { resolve: (r: IteratorResult<M>) => void; reject: (e: unknown) => void }[] = []
  #started = false
  /** No more items will be queued (ended, failed or cancelled). */
  #closed = false
  /** The end (or error) has arrived. */
  #finished = false
  /** The caller has seen the end (or error). */
  #done = false
  readonly #onAbort = (): void => this.#cancel()
  readonly #onLinkLost = (): void => {
    this.#held = this.#wire.halfOpen()
    const reason: unknown = this.#link?.reason
    this.#fail(reason instanceof Error ? reason : new UnavailableError('dispatcher binding: disconnected'))
  }
  #link: AbortSignal | undefined
  /** Cut half-open: the target's stream is kept open and read, its messages lost. */
  #held = false

  constructor(wire: StreamWire<M>) {
    this.#wire = wire
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<M> {
    return this
  }

  next(): Promise<IteratorResult<M>> {
    if (!this.#started) this.#start()
    const item = this.#ready.shift()
    if (item !== undefined) return this.#settle(item)
    if (this.#done) return Promise.resolve({ done: true, value: undefined })
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject })
    })
  }

  return(): Promise<IteratorResult<M>> {
    this.#started = true
    this.#cancel()
    this.#ready.length = 0
    this.#done = true
    return Promise.resolve({ done: true, value: undefined })
  }

  #settle(item: Item<M>): Promise<IteratorResult<M>> {
    switch (item.kind) {
      case 'message':
        return Promise.resolve({ done: false, value: item.value })
      case 'end':
        this.#done = true
        return Promise.resolve({ done: true, value: undefined })
      case 'error':
        this.#done = true
        return Promise.reject(item.error)
    }
  }

  #start(): void {
    this.#started = true
    const signal = this.#wire.signal
    const link = this.#wire.link()
    this.#link = link
    if (signal?.aborted === true) return this.#cancel()
    if (link.aborted) return this.#onLinkLost()
    signal?.addEventListener('abort', this.#onAbort, { once: true })
    link.addEventListener('abort', this.#onLinkLost, { once: true })
    this.#wire.count('call')
    const fate = this.#wire.fate()
    this.#schedule(fate.delayMs, () => {
      if (fate.lost) this.#lose('the stream request')
      else void this.#pump()
    })
  }

  async #pump(): Promise<void> {
    try {
      for await (const message of this.#wire.open(this.#inner.signal)) {
        if (this.#closed) {
          if (this.#held) continue
          return
        }
        const value = this.#wire.carry(message)
        const fate = this.#wire.fate()
        if (fate.lost) return this.#lose('a stream message')
        this.#send(fate.delayMs, { kind: 'message', value })
      }
      if (!this.#closed) this.#send(0, { kind: 'end' })
    } catch (err) {
      if (!this.#closed) this.#send(0, { kind: 'error', error: this.#wire.rewire(err) })
    }
  }

  /** Puts an item in transit for `delayMs`, never ahead of one sent before it. */
  #send(delayMs: number, item: Item<M>): void {
    const last = this.#transit.at(-1)
    const at = Math.max(this.#wire.clock.now() + delayMs, last?.at ?? 0)
    if (item.kind !== 'message') this.#closed = true
    if (last === undefined && delayMs === 0) return this.#arrive(item)
    this.#transit.push({ at, item })
    if (this.#timer === undefined) this.#arm()
  }

  #arm(): void {
    const head = this.#transit[0]
    if (head === undefined) return
    this.#timer = this.#wire.clock.setTimeout(
      () => {
        this.#timer = undefined
        const now = this.#wire.clock.now()
        while (this.#transit[0] !== undefined && this.#transit[0].at <= now) this.#arrive(this.#transit.shift()?.item ?? { kind: 'end' })
        this.#arm()
      },
      Math.max(0, head.at - this.#wire.clock.now()),
    )
  }

  /** Runs `then` after `delayMs` on the clock (at once for 0), unless the stream closes first. */
  #schedule(delayMs: number, then: () => void): void {
    if (delayMs === 0) return then()
    this.#timer = this.#wire.clock.setTimeout(() => {
      this.#timer = undefined
      if (!this.#closed) then()
    }, delayMs)
  }

  #arrive(item: Item<M>): void {
    if (item.kind === 'message') this.#wire.count('message')
    else {
      this.#finished = true
      this.#release()
    }
    const waiter = this.#waiters.shift()
    if (waiter === undefined) {
      this.#ready.push(item)
      return
    }
    this.#settle(item).then(waiter.resolve, waiter.reject)
    // Callers waiting behind the end see the end.
    if (item.kind !== 'message') for (const w of this.#waiters.splice(0)) w.resolve({ done: true, value: undefined })
  }

  /** Ends the stream without an error (the caller's signal or `return()`), dropping what is unread. */
  #cancel(): void {
    if (this.#done) return
    this.#closed = true
    this.#transit.length = 0
    this.#ready.length = 0
    this.#arrive({ kind: 'end' })
  }

  /** The connection is lost: ends the stream with `error` after what already arrived, discarding what is in transit. */
  #fail(error: Error): void {
    if (this.#done || this.#finished) return
    this.#closed = true
    this.#transit.length = 0
    this.#arrive({ kind: 'error', error })
  }

  /** A lost message or request: ends the stream with an error after what was sent before it, and cancels the target's stream. */
  #lose(what: string): void {
    this.#inner.abort()
    this.#send(0, { kind: 'error', error: new UnavailableError(`dispatcher binding: ${what} was lost`) })
  }

  /** Stops the timer, cancels the target's stream (unless held half-open) and forgets the signals. */
  #release(): void {
    this.#closed = true
    this.#timer?.cancel()
    this.#timer = undefined
    this.#transit.length = 0
    if (!this.#held) this.#inner.abort()
    this.#wire.signal?.removeEventListener('abort', this.#onAbort)
    this.#link?.removeEventListener('abort', this.#onLinkLost)
  }
}
