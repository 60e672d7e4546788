/**
 * Root CA rotation in the cluster (SwarmKit's `RootRotation` and its reconciler):
 * {@link startRootRotation} stores the new root and the cross-signed certificate in the Cluster
 * object (from then on the trust bundle holds both roots and the signer issues from the new root
 * with the cross-signed certificate in every chain); the leader's {@link rootRotationReconciler}
 * marks nodes still holding an old-root certificate `rotate` (30 at a time), each node renews
 * (its renewal loop's `renewNow()`), and once every node's certificate is from the new root it
 * replaces the root, drops the rotation and moves the join tokens to the new root's digest.
 * Through the control API a rotation starts as in SwarmKit, by changing `caConfig.forceRotate`
 * ({@link rootCaForClusterSpec}, used by `updateCluster`).
 *
 * @module
 */
import { FailedPreconditionError, IssuanceState, systemClock, type Clock, type Cluster, type ClusterRootCA, type ClusterSpec, type Logger } from '@swarmkit-ts/api'
import { JoinTokens, RootCA, RootRotation, RootRotationReconciler, type RotationNode } from '@swarmkit-ts/pki'
import type { Frozen, MemoryStore } from '@swarmkit-ts/store'
import type { LeaderComponent, LeaderComponentHandle, LeaderContext } from '../manager/leader-component.ts'
import { caCertHash, clusterOf, pemBytes, pemText } from './cluster-ca.ts'

/** Options of {@link startRootRotation}. */
export interface StartRootRotationOptions {
  /** The new root, with its key. @default a new root CA */
  next?: RootCA
  /** @default systemClock */
  clock?: Clock
}

/**
 * Starts a root CA rotation: cross-signs the new root with the current one and stores both in
 * the Cluster object (`rootCa.rootRotation`). Returns the new root.
 *
 * @throws FailedPreconditionError (reason `rotation-in-progress`) when a rotation is running
 *   (SwarmKit replaces it; we refuse), (reason `ca-cannot-sign`) when a root key is missing.
 * @throws InvalidArgumentError (`next`) when the new root is the current one or expires within a year.
 */
export async function startRootRotation(store: MemoryStore, options: StartRootRotationOptions = {}): Promise<RootCA> {
  const cluster = store.view(clusterOf)
  const { next, rootRotation } = await prepareRootRotation(cluster, options)
  await store.update((tx) => {
    const current = clusterOf(tx)
    if (current.rootCa.rootRotation !== undefined || current.rootCa.caCertHash !== cluster.rootCa.caCertHash) {
      throw new FailedPreconditionError('the root CA changed while the rotation was being prepared', { reason: 'rotation-in-progress' })
    }
    tx.clusters.update(current.id, (d) => {
      d.rootCa.rootRotation = rootRotation
    })
  })
  return next
}

/** A rotation ready to store: the new root and the Cluster object's `rootCa.rootRotation` value. */
interface PreparedRotation {
  readonly next: RootCA
  readonly rootRotation: NonNullable<ClusterRootCA['rootRotation']>
}

async function prepareRootRotation(cluster: Frozen<Cluster>, options: StartRootRotationOptions): Promise<PreparedRotation> {
  const clock = options.clock ?? systemClock
  if (cluster.rootCa.rootRotation !== undefined) throw new FailedPreconditionError('a root CA rotation is already in progress', { reason: 'rotation-in-progress' })
  if (cluster.rootCa.caKey === undefined) throw new FailedPreconditionError('the cluster object holds no root CA key', { reason: 'ca-cannot-sign' })
  const old = await RootCA.fromPEM(pemText(cluster.rootCa.caCert), pemText(cluster.rootCa.caKey))
  const next = options.next ?? (await RootCA.create({ clock }))
  const rotation = await RootRotation.start(old, next, { clock })
  const nextKey = next.keyPem ?? ''
  return { next, rootRotation: { caCert: pemBytes(next.certPem), caKey: pemBytes(nextKey), crossSignedCaCert: pemBytes(rotation.crossSignedPem) } }
}

/**
 * What a cluster update does to the root CA (SwarmKit's `validateCAConfig`): when
 * `spec.caConfig.forceRotate` differs from the value of the last forced rotation
 * (`rootCa.lastForcedRotation`, 0 when unset), a root rotation to a new root. Returns a function
 * giving the Cluster object's new `rootCa` from the one current at write time, or `undefined`
 * when the update asks for no rotation. Call before the transaction (making a root is async);
 * apply inside it.
 *
 * @throws FailedPreconditionError (reason `rotation-in-progress`) when a rotation is running
 *   (SwarmKit replaces it; we refuse), or the root changed between preparing and applying;
 *   (reason `ca-cannot-sign`) when the root key is missing.
 */
export async function rootCaForClusterSpec(cluster: Frozen<Cluster>, spec: ClusterSpec, options: { clock?: Clock } = {}): Promise<((current: Frozen<Cluster>) => ClusterRootCA) | undefined> {
  const wanted = spec.caConfig?.forceRotate ?? 0
  if (wanted === (cluster.rootCa.lastForcedRotation ?? 0)) return undefined
  const { rootRotation } = await prepareRootRotation(cluster, options)
  return (current) => {
    if (current.rootCa.rootRotation !== undefined || current.rootCa.caCertHash !== cluster.rootCa.caCertHash) {
      throw new FailedPreconditionError('the root CA changed while the rotation was being prepared', { reason: 'rotation-in-progress' })
    }
    return { ...(current.rootCa as ClusterRootCA), rootRotation, lastForcedRotation: wanted }
  }
}

/** Options of {@link rootRotationReconciler}. */
export interface RootRotationReconcilerOptions {
  /** Time between passes. @default 1000 */
  intervalMs?: number
  /** A node asked to renew and still pending after this long is asked again. @default 60000 */
  retryAfterMs?: number
}

/** The nodes holding a certificate of the cluster (a node whose issuance failed holds none and cannot hold a rotation back). */
function rotationNodes(store: MemoryStore): RotationNode[] {
  const out: RotationNode[] = []
  store.view((tx) => {
    for (const n of tx.nodes.find()) {
      const cert = n.certificate?.certificate
      if (cert !== undefined && cert.length > 0) out.push({ nodeId: n.id, certPem: pemText(cert) })
    }
  })
  return out
}

class RotationDriver {
  readonly #ctx: LeaderContext
  readonly #options: RootRotationReconcilerOptions
  #reconciler: RootRotationReconciler | undefined
  #key: string | undefined
  #syncing: Promise<void> = Promise.resolve()

  constructor(ctx: LeaderContext, options: RootRotationReconcilerOptions) {
    this.#ctx = ctx
    this.#options = options
  }

  /** Follows the Cluster object: starts, replaces or stops the reconciler (one sync at a time). */
  sync(): Promise<void> {
    this.#syncing = this.#syncing
      .then(() => this.#sync())
      .catch((err: unknown) => {
        if (!this.#ctx.signal.aborted) this.#log().error('following the root rotation failed', { err: err instanceof Error ? err.message : String(err) })
      })
    return this.#syncing
  }

  async #sync(): Promise<void> {
    const { store } = this.#ctx
    const cluster = store.view((tx) => tx.clusters.find()[0])
    const rot = cluster?.rootCa.rootRotation
    if (cluster === undefined || rot === undefined) {
      this.stop()
      return
    }
    const key = `${cluster.rootCa.caCertHash}|${caCertHash(pemText(rot.caCert))}`
    if (key === this.#key && this.#reconciler !== undefined && !this.#reconciler.done) return
    this.stop()
    this.#key = key
    const old = await RootCA.fromPEM(pemText(cluster.rootCa.caCert))
    const next = await RootCA.fromPEM(pemText(rot.caCert), rot.caKey === undefined ? undefined : pemText(rot.caKey))
    const rotation = RootRotation.resume(old, next, pemText(rot.crossSignedCaCert))
    if (this.#ctx.signal.aborted || this.#key !== key) return
    this.#reconciler = new RootRotationReconciler({
      rotation,
      clock: this.#ctx.clock,
      listNodes: () => rotationNodes(store),
      requestRenewal: (ids) => void this.#askToRenew(ids),
      onComplete: (root) => void this.#complete(root, key),
      ...(this.#options.intervalMs === undefined ? {} : { intervalMs: this.#options.intervalMs }),
      ...(this.#options.retryAfterMs === undefined ? {} : { retryAfterMs: this.#options.retryAfterMs }),
    })
    this.#reconciler.start()
  }

  stop(): void {
    this.#reconciler?.stop()
    this.#reconciler = undefined
    this.#key = undefined
  }

  #log(): Logger {
    return this.#ctx.logger
  }

  async #askToRenew(ids: readonly string[]): Promise<void> {
    try {
      await this.#ctx.store.update((tx) => {
        for (const id of ids) {
          const state = tx.nodes.get(id)?.certificate?.status.state
          if (state !== IssuanceState.ISSUED) continue
          tx.nodes.update(id, (d) => {
            if (d.certificate !== undefined) d.certificate.status = { state: IssuanceState.ROTATE }
          })
        }
      })
    } catch (err) {
      if (!this.#ctx.signal.aborted) this.#log().warn('asking nodes to renew for the root rotation failed', { err: err instanceof Error ? err.message : String(err) })
    }
  }

  async #complete(root: RootCA, key: string): Promise<void> {
    try {
      await this.#ctx.store.update((tx) => {
        const cluster = clusterOf(tx)
        const rot = cluster.rootCa.rootRotation
        if (rot === undefined || `${cluster.rootCa.caCertHash}|${caCertHash(pemText(rot.caCert))}` !== key) return
        const tokens = JoinTokens.from(cluster.rootCa.joinTokens).forRootCA(root.certPem)
        tx.clusters.update(cluster.id, (d) => {
          d.rootCa = {
            caCert: pemBytes(root.certPem),
            ...(rot.caKey === undefined ? {} : { caKey: rot.caKey }),
            caCertHash: caCertHash(root.certPem),
            joinTokens: tokens.toJSON(),
            ...(cluster.rootCa.lastForcedRotation === undefined ? {} : { lastForcedRotation: cluster.rootCa.lastForcedRotation }),
          }
        })
      })
      this.#log().info('root CA rotation completed', { caCertHash: caCertHash(root.certPem) })
    } catch (err) {
      if (this.#ctx.signal.aborted) return
      this.#log().warn('completing the root rotation failed; retrying', { err: err instanceof Error ? err.message : String(err) })
      this.stop()
      await this.sync()
    }
  }
}

/**
 * The root rotation reconciler as a {@link LeaderComponent} (name `root-rotation`): follows the
 * Cluster object and drives any rotation in it to completion with pki's `RootRotationReconciler`.
 */
export function rootRotationReconciler(options: RootRotationReconcilerOptions = {}): LeaderComponent {
  return {
    name: 'root-rotation',
    start(ctx: LeaderContext): LeaderComponentHandle {
      const driver = new RotationDriver(ctx, options)
      const { watch } = ctx.store.viewAndWatch(() => undefined, { kinds: 'cluster', actions: ['create', 'update'] }, { signal: ctx.signal })
      const loop = (async () => {
        await driver.sync()
        for await (const ev of watch) {
          if (ev.action !== 'commit') await driver.sync()
        }
      })().catch((err: unknown) => {
        if (!ctx.signal.aborted) ctx.logger.error('the root rotation reconciler stopped', { err: err instanceof Error ? err.message : String(err) })
      })
      return {
        stop: async () => {
          watch.close()
          await loop
          driver.stop()
        },
      }
    },
  }
}
