/**
 * The requests of a {@link RaftNode} that wait for the log: proposals and membership changes
 * (settled when their entry is applied) and ReadIndex reads (settled once the state machine has
 * applied up to the read's index). Each request gets a sequence number and a 16-byte request id
 * — this driver's random 8-byte nonce, then the number — that travels in the entry or the read
 * context, so that only this driver's own requests are ever matched.
 *
 * @internal
 */
import type { ReadState } from '../core/read-only.ts'
import type { RaftNodeCallOptions } from './raft-node-types.ts'

/** A caller waiting for its request. */
export interface Waiter {
  /** The request's sequence number (its key in its table). */
  readonly seq: number
  resolve(v: unknown): void
  reject(e: unknown): void
  /** A proposal's `local` handle, handed back to the state machine when its entry is applied. */
  readonly local: object | undefined
}

/** Which table a request waits in. */
export type RequestKind = 'proposal' | 'read'

/** The waiting requests of one driver, by sequence number. */
export class RequestWaiters {
  readonly #nonce: Uint8Array
  readonly #submitted: () => void
  #seq = 0
  /** Proposals and membership changes, settled when applied. */
  readonly #waiters = new Map<number, Waiter>()
  /** Reads; `index` is set once the core has told the read's index. */
  readonly #reads = new Map<number, Waiter & { index?: number }>()

  /**
   * `nonce`: this driver's 8 random bytes, the first half of every request id it makes;
   * `submitted`: called after each request is submitted (the driver wakes its loop).
   */
  constructor(nonce: Uint8Array, submitted: () => void) {
    this.#nonce = nonce
    this.#submitted = submitted
  }

  /** This driver's nonce. */
  get nonce(): Uint8Array {
    return this.#nonce
  }

  /**
   * Registers a request and runs `submit(seq)`, then the `submitted` hook; the promise settles
   * when the request is settled here, rejects when `options.signal` aborts (removing the
   * request), or rejects with what `submit` throws. `unusable` (the node cannot take requests
   * now) rejects at once. `local`: a proposal's local handle (see {@link Waiter.local}).
   */
  request(kind: RequestKind, submit: (seq: number) => void, options: RaftNodeCallOptions | undefined, unusable: Error | undefined, local?: object): Promise<unknown> {
    if (unusable !== undefined) return Promise.reject(unusable)
    const signal = options?.signal
    if (signal?.aborted === true) return Promise.reject(abortReason(signal))
    const table: Map<number, Waiter> = kind === 'read' ? this.#reads : this.#waiters
    const key = this.#seq++
    return new Promise((resolve, reject) => {
      let waiter: Waiter = { seq: key, resolve, reject: (e) => reject(toError(e)), local }
      if (signal !== undefined) {
        const onAbort = (): void => {
          table.delete(key)
          reject(abortReason(signal))
        }
        waiter = {
          seq: key,
          resolve: (v) => {
            signal.removeEventListener('abort', onAbort)
            resolve(v)
          },
          reject: (e) => {
            signal.removeEventListener('abort', onAbort)
            reject(toError(e))
          },
          local,
        }
        signal.addEventListener('abort', onAbort, { once: true })
      }
      table.set(key, waiter)
      try {
        submit(key)
      } catch (err) {
        table.delete(key)
        waiter.reject(err)
        return
      }
      this.#submitted()
    })
  }

  /** Whether proposal `seq` is still awaited (not aborted, not settled). */
  isWaiting(seq: number): boolean {
    return this.#waiters.has(seq)
  }

  /** Rejects proposal `seq`, if still awaited. */
  rejectSeq(seq: number, err: unknown): void {
    const w = this.#waiters.get(seq)
    this.#waiters.delete(seq)
    w?.reject(err)
  }

  /** A request id: this driver's 8-byte nonce, then the sequence number (so other members' ids never match ours). */
  requestId(seq: number): Uint8Array {
    const id = new Uint8Array(16)
    id.set(this.#nonce, 0)
    const dv = new DataView(id.buffer)
    dv.setUint32(8, Math.floor(seq / 2 ** 32))
    dv.setUint32(12, seq >>> 0)
    return id
  }

  /** The sequence number of one of our request ids, or undefined for another member's. */
  ourSeq(id: Uint8Array): number | undefined {
    if (id.byteLength !== 16 || !sameNonce(id, this.#nonce)) return undefined
    return requestSeq(id)
  }

  /** The waiter of our proposal with this request id, while it is awaited (settle it with {@link resolveWaiter}). */
  proposalWaiter(requestId: Uint8Array): Waiter | undefined {
    const seq = this.ourSeq(requestId)
    return seq === undefined ? undefined : this.#waiters.get(seq)
  }

  /** Resolves proposal waiter `w` (from {@link proposalWaiter}) with `value`, if it is still awaited. */
  resolveWaiter(w: Waiter, value: unknown): void {
    if (this.#waiters.delete(w.seq)) w.resolve(value)
  }

  /** Settles our proposal with this request id (resolves with `value`, or rejects with `err`); others' ids are ignored. */
  settle(requestId: Uint8Array, value: unknown, err?: Error): void {
    const key = this.ourSeq(requestId)
    if (key === undefined) return
    const w = this.#waiters.get(key)
    if (w === undefined) return
    this.#waiters.delete(key)
    if (err === undefined) w.resolve(value)
    else w.reject(err)
  }

  /** Records the indexes the core told for our reads. */
  readIndexes(states: readonly ReadState[]): void {
    for (const rs of states) {
      const seq = this.ourSeq(rs.requestCtx)
      const w = seq === undefined ? undefined : this.#reads.get(seq)
      if (w !== undefined) w.index = rs.index
    }
  }

  /** Resolves the reads whose index is at most `applied`. */
  serveReads(applied: number): void {
    for (const [key, w] of this.#reads) {
      if (w.index !== undefined && w.index <= applied) {
        this.#reads.delete(key)
        w.resolve(undefined)
      }
    }
  }

  /** Rejects every proposal with a sequence number at most `last`. */
  rejectUpTo(last: number, err: Error): void {
    for (const [seq, w] of [...this.#waiters]) {
      if (seq > last) continue
      this.#waiters.delete(seq)
      w.reject(err)
    }
  }

  /** Rejects every waiting request. */
  rejectAll(err: Error): void {
    for (const table of [this.#waiters, this.#reads] as Map<number, Waiter>[]) {
      const ws = [...table.values()]
      table.clear()
      for (const w of ws) w.reject(err)
    }
  }
}

/** Whether the first 8 bytes of request id `id` are `nonce`. */
export function sameNonce(id: Uint8Array, nonce: Uint8Array): boolean {
  for (let i = 0; i < 8; i++) if (id[i] !== nonce[i]) return false
  return true
}

/** The sequence number of a 16-byte request id (its big-endian low 8 bytes). */
export function requestSeq(id: Uint8Array): number {
  const hi = (((id[8] ?? 0) << 24) | ((id[9] ?? 0) << 16) | ((id[10] ?? 0) << 8) | (id[11] ?? 0)) >>> 0
  const lo = (((id[12] ?? 0) << 24) | ((id[13] ?? 0) << 16) | ((id[14] ?? 0) << 8) | (id[15] ?? 0)) >>> 0
  return hi * 2 ** 32 + lo
}

/** The reason of an aborted signal, as an Error (a DOMException `AbortError` unless the caller gave one). */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason
  return r instanceof Error ? r : new DOMException(typeof r === 'string' ? r : 'This operation was aborted', 'AbortError')
}

/** `e` as an Error. */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(typeof e === 'string' ? e : 'non-error rejection')
}
