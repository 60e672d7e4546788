/**
 * Pending ReadIndex requests on the leader (Raft thesis §6.4): each records the commit index
 * at the time it arrived and is released once a quorum has acknowledged a heartbeat carrying
 * its context, which proves the leader was still the leader.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import type { ReadIndexMessage } from './types.ts'

/** How ReadIndex requests are served. */
export const ReadOnlyOption = {
  /** Confirm leadership with a heartbeat quorum (linearizable under any clock behaviour). */
  safe: 'safe',
  /**
   * Answer at once while the leader holds a lease: a quorum acknowledged a heartbeat sent less
   * than `electionTick − 1` ticks ago, and followers refuse votes for an election timeout after
   * hearing from the leader or restarting (see lease.ts). Linearizable only if every member
   * ticks at the same rate, with the same `electionTick`; otherwise (and during a leadership
   * transfer) reads are confirmed as with `safe`. Needs `checkQuorum`.
   */
  leaseBased: 'lease-based',
} as const
/** How ReadIndex requests are served. */
export type ReadOnlyOption = (typeof ReadOnlyOption)[keyof typeof ReadOnlyOption]

/** A read request whose index is known: the application may serve it once applied ≥ `index`. */
export interface ReadState {
  /** The commit index at the time the read was confirmed by a quorum. */
  index: number
  /** The context passed to `readIndex`. */
  requestCtx: Uint8Array
}

/** A pending read: the request, the commit index when it arrived, and who acknowledged it. */
export interface ReadIndexStatus {
  req: ReadIndexMessage
  index: number
  acks: Map<RaftMemberId, boolean>
}

/** A map key for a request context. */
export function contextKey(ctx: Uint8Array): string {
  let s = ''
  for (const b of ctx) s += b.toString(16).padStart(2, '0')
  return s
}

/** The queue of pending ReadIndex requests. */
export class ReadOnly {
  readonly option: ReadOnlyOption
  readonly #pending = new Map<string, ReadIndexStatus>()
  #queue: string[] = []

  constructor(option: ReadOnlyOption) {
    this.option = option
  }

  /** Adds a request that must wait for `index` (ignored if the same context is already pending). */
  addRequest(index: number, req: ReadIndexMessage): void {
    const key = contextKey(req.context)
    if (this.#pending.has(key)) return
    this.#pending.set(key, { req, index, acks: new Map() })
    this.#queue.push(key)
  }

  /** Records a heartbeat acknowledgement from `id` for `ctx`; returns the acks so far, if pending. */
  recvAck(id: RaftMemberId, ctx: Uint8Array): Map<RaftMemberId, boolean> | undefined {
    const rs = this.#pending.get(contextKey(ctx))
    if (rs === undefined) return undefined
    rs.acks.set(id, true)
    return rs.acks
  }

  /** Releases the request with `ctx` and every request queued before it. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(ctx)
    const at = this.#queue.indexOf(key)
    if (at < 0) return []
    const released: ReadIndexStatus[] = []
    for (const k of this.#queue.slice(0, at + 1)) {
      const rs = this.#pending.get(k)
      if (rs !== undefined) released.push(rs)
      this.#pending.delete(k)
    }
    this.#queue = this.#queue.slice(at + 1)
    return released
  }

  /** Context of the newest pending request (sent with heartbeats), or undefined. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    const key = this.#queue[this.#queue.length - 1]
    return key === undefined ? undefined : this.#pending.get(key)?.req.context
  }

  /** Number of pending requests. */
  get size(): number {
    return this.#queue.length
  }
}
