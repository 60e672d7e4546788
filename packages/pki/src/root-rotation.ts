/**
 * Root CA rotation through a cross-signed intermediate (SwarmKit's `RootRotation`): while it
 * runs, both roots are trusted and new certificates come from the new root with the
 * cross-signed certificate in their chain, so nodes that still trust only the old root accept
 * them. It completes once every node holds a certificate from the new root.
 */
import { FailedPreconditionError, InvalidArgumentError, systemClock, type Clock, type Timer } from '@swarmkit-ts/api'
import { MIN_ROOT_VALIDITY_FOR_ROTATION_MS } from './constants.ts'
import type { RootCA } from './root-ca.ts'

/** A node and the certificate it currently holds (as reported in its TLS info). */
export interface RotationNode {
  readonly nodeId: string
  /** The node's current certificate, PEM; `undefined` when unknown. */
  readonly certPem?: string | undefined
}

/** An ongoing root rotation. Immutable (apart from an internal cache of signature checks). */
export class RootRotation {
  /** The root being replaced. */
  readonly old: RootCA
  /** The new root (with its key). */
  readonly next: RootCA
  /** The new root's certificate signed by the old root's key, PEM. */
  readonly crossSignedPem: string

  private constructor(old: RootCA, next: RootCA, crossSignedPem: string) {
    this.old = old
    this.next = next
    this.crossSignedPem = crossSignedPem
  }

  /**
   * Starts a rotation from `old` to `next`.
   *
   * @throws FailedPreconditionError when either CA lacks its key.
   * @throws InvalidArgumentError (`next`) when `next` is valid for less than a year from now, or is `old`.
   */
  static async start(old: RootCA, next: RootCA, options?: { clock?: Clock }): Promise<RootRotation> {
    const clock = options?.clock ?? systemClock
    if (!next.canSign) throw new FailedPreconditionError('the new root CA has no private key', { reason: 'ca-cannot-sign' })
    if (next.certPem === old.certPem) throw new InvalidArgumentError('next', 'is the current root CA')
    if (next.notAfter - clock.now() < MIN_ROOT_VALIDITY_FOR_ROTATION_MS) throw new InvalidArgumentError('next', 'must stay valid for at least one year')
    return new RootRotation(old, next, await old.crossSign(next, { clock }))
  }

  /** Restores a rotation from stored parts (e.g. `Cluster.rootCa.rootRotation`). */
  static resume(old: RootCA, next: RootCA, crossSignedPem: string): RootRotation {
    if (!old.signed(crossSignedPem)) throw new InvalidArgumentError('crossSignedPem', 'is not signed by the old root')
    return new RootRotation(old, next, crossSignedPem)
  }

  /** The CA that issues during the rotation: the new root, with the cross-signed certificate in every chain. */
  get signer(): RootCA {
    return this.next.withIntermediates(this.crossSignedPem)
  }

  /** Roots to trust during the rotation: old and new. */
  get trustBundlePem(): string {
    return this.old.certPem + this.next.certPem
  }

  // Signature checks are memoized per certificate: a reconciler asks about every node each pass.
  readonly #verdicts = new Map<string, boolean>()

  /** Whether `certPem` was issued by the new root. */
  onNewRoot(certPem: string | undefined): boolean {
    if (certPem === undefined) return false
    let v = this.#verdicts.get(certPem)
    if (v === undefined) {
      v = this.next.signed(certPem)
      if (this.#verdicts.size >= 100_000) this.#verdicts.clear()
      this.#verdicts.set(certPem, v)
    }
    return v
  }

  /** IDs of the nodes that do not hold a certificate from the new root yet, in input order. */
  pending(nodes: Iterable<RotationNode>): string[] {
    const out: string[] = []
    for (const n of nodes) if (!this.onNewRoot(n.certPem)) out.push(n.nodeId)
    return out
  }

  /**
   * Completes the rotation: the new root alone, without intermediates.
   *
   * @throws FailedPreconditionError (reason `rotation-pending`) while some node is not on the new root.
   */
  finish(nodes: Iterable<RotationNode>): RootCA {
    const left = this.pending(nodes)
    if (left.length > 0) throw new FailedPreconditionError(`${left.length} node(s) still hold certificates from the old root: ${left.slice(0, 5).join(', ')}`, { reason: 'rotation-pending' })
    return this.next.withIntermediates('')
  }
}

/** Construction options of {@link RootRotationReconciler}. */
export interface RootRotationReconcilerInit {
  rotation: RootRotation
  clock: Clock
  /** The cluster's nodes with their current certificates. */
  listNodes: () => readonly RotationNode[]
  /** Tells these nodes to renew their certificates now (SwarmKit: issuance state ROTATE). */
  requestRenewal: (nodeIds: readonly string[]) => void
  /** Called once, when every node is on the new root, with the new root CA. */
  onComplete: (root: RootCA) => void
  /** Time between passes. @default 1000 */
  intervalMs?: number
  /** Most nodes asked to renew and not yet done at a time. @default 30 */
  batchSize?: number
  /** A node asked this long ago and still pending is asked again. @default 60000 */
  retryAfterMs?: number
}

/**
 * Drives a {@link RootRotation} to completion on a clock: each pass asks up to `batchSize`
 * pending nodes to renew, re-asks nodes that did not within `retryAfterMs`, and completes the
 * rotation when no node is pending.
 */
export class RootRotationReconciler {
  readonly #init: RootRotationReconcilerInit
  readonly #asked = new Map<string, number>()
  #timer: Timer | undefined
  #done = false

  constructor(init: RootRotationReconcilerInit) {
    const batch = init.batchSize ?? 30
    if (!Number.isSafeInteger(batch) || batch < 1) throw new InvalidArgumentError('batchSize', 'must be a positive integer')
    this.#init = init
  }

  /** Whether the rotation has completed. */
  get done(): boolean {
    return this.#done
  }

  /** Runs a pass now and then every `intervalMs` until complete or stopped. */
  start(): void {
    this.#pass()
  }

  /** Stops scheduling passes. */
  stop(): void {
    this.#timer?.cancel()
    this.#timer = undefined
  }

  /** One reconciliation pass; returns the node IDs asked to renew in it. */
  reconcileOnce(): string[] {
    if (this.#done) return []
    const { rotation, clock } = this.#init
    const nodes = this.#init.listNodes()
    const pending = rotation.pending(nodes)
    if (pending.length === 0) {
      this.#done = true
      this.stop()
      this.#init.onComplete(rotation.finish(nodes))
      return []
    }
    const now = clock.now()
    const pendingSet = new Set(pending)
    for (const id of this.#asked.keys()) if (!pendingSet.has(id)) this.#asked.delete(id)
    const retryAfter = this.#init.retryAfterMs ?? 60_000
    const batch = this.#init.batchSize ?? 30
    let outstanding = 0
    for (const at of this.#asked.values()) if (now - at < retryAfter) outstanding++
    const ask: string[] = []
    for (const id of pending) {
      if (outstanding + ask.length >= batch) break
      const at = this.#asked.get(id)
      if (at !== undefined && now - at < retryAfter) continue
      ask.push(id)
    }
    for (const id of ask) this.#asked.set(id, now)
    if (ask.length > 0) this.#init.requestRenewal(ask)
    return ask
  }

  #pass(): void {
    this.reconcileOnce()
    if (this.#done) return
    this.#timer = this.#init.clock.setTimeout(() => this.#pass(), this.#init.intervalMs ?? 1000)
  }
}
