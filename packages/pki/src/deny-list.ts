/**
 * Certificates of removed nodes: refused by node ID until their last certificate would have
 * expired anyway (SwarmKit's `Cluster.blacklisted_certificates`).
 */
import { InvalidArgumentError, type Clock } from '@swarmkit-ts/api'

/** One denied node: refused until `expiresAt` (ms since the epoch), or forever when absent. */
export interface DenyListEntry {
  readonly nodeId: string
  readonly expiresAt?: number
}

/** A set of node IDs whose certificates are refused. Mutable; read it on every authorization. */
export class CertificateDenyList {
  readonly #entries = new Map<string, number | undefined>()

  constructor(entries?: Iterable<DenyListEntry>) {
    for (const e of entries ?? []) this.add(e.nodeId, e.expiresAt)
  }

  /** Refuses `nodeId`'s certificates until `expiresAt` (ms since the epoch; forever when omitted). */
  add(nodeId: string, expiresAt?: number): void {
    if (typeof nodeId !== 'string' || nodeId === '') throw new InvalidArgumentError('nodeId', 'must be a non-empty string')
    if (expiresAt !== undefined && !Number.isFinite(expiresAt)) throw new InvalidArgumentError('expiresAt', 'must be a finite number of ms')
    this.#entries.set(nodeId, expiresAt)
  }

  /** Stops refusing `nodeId`. */
  remove(nodeId: string): void {
    this.#entries.delete(nodeId)
  }

  /** Whether `nodeId` is refused at time `now`. */
  denies(nodeId: string, now: number): boolean {
    if (!this.#entries.has(nodeId)) return false
    const until = this.#entries.get(nodeId)
    return until === undefined || now < until
  }

  /** Drops entries that expired before `clock.now()`; returns how many were dropped. */
  prune(clock: Clock): number {
    const now = clock.now()
    let n = 0
    for (const [id, until] of this.#entries) {
      if (until !== undefined && now >= until) {
        this.#entries.delete(id)
        n++
      }
    }
    return n
  }

  /** The entries, for storage. */
  entries(): DenyListEntry[] {
    return [...this.#entries].map(([nodeId, expiresAt]) => (expiresAt === undefined ? { nodeId } : { nodeId, expiresAt }))
  }
}
