/**
 * The leader's certificate signer (SwarmKit's CA server loop): signs every node certificate
 * entry in state `pending` (a join) or `renew` (a renewal) with the cluster's signing CA — the
 * root, or during a root rotation the new root with the cross-signed certificate in the chain —
 * and writes it back as `issued` (or `failed` with the reason, e.g. a CSR whose signature does
 * not verify). Identity comes from the store, never from the CSR: CN = node ID, OU = the entry's
 * role, O = the cluster ID, validity `CAConfig.nodeCertExpiryMs` (90 days by default).
 *
 * @module
 */
import { IssuanceState, type Node } from '@swarmkit-ts/api'
import type { Frozen, MemoryStore } from '@swarmkit-ts/store'
import type { LeaderComponent, LeaderComponentHandle, LeaderContext } from '../manager/leader-component.ts'
import { clusterOf, pemBytes, pemText, SigningCACache } from './cluster-ca.ts'

function needsSigning(node: Frozen<Node> | undefined): boolean {
  const s = node?.certificate?.status.state
  return (s === IssuanceState.PENDING || s === IssuanceState.RENEW) && node?.certificate?.csr !== undefined
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && Buffer.from(a).equals(Buffer.from(b))
}

/** Signs one node's pending entry, if it still is pending with the same CSR when written. */
async function signOne(ctx: LeaderContext, cache: SigningCACache, store: MemoryStore, node: Frozen<Node>): Promise<void> {
  const entry = node.certificate
  if (entry?.csr === undefined) return
  const csr = entry.csr
  let result: { state: typeof IssuanceState.ISSUED; certificate: Uint8Array } | { state: typeof IssuanceState.FAILED; err: string }
  try {
    const cluster = store.view(clusterOf)
    const ca = await cache.get(cluster)
    const ttl = cluster.spec.caConfig?.nodeCertExpiryMs
    const issued = ca.issueSync(pemText(csr), { nodeId: node.id, role: entry.role, clusterId: cluster.id, clock: ctx.clock, ...(ttl === undefined ? {} : { ttlMs: ttl }) })
    result = { state: IssuanceState.ISSUED, certificate: pemBytes(issued.chainPem) }
  } catch (err) {
    result = { state: IssuanceState.FAILED, err: err instanceof Error ? err.message : String(err) }
  }
  await store.update((tx) => {
    const current = tx.nodes.get(node.id)
    if (current === undefined || !needsSigning(current) || !sameBytes(current.certificate?.csr, csr)) return
    tx.nodes.update(node.id, (d) => {
      d.certificate =
        result.state === IssuanceState.ISSUED
          ? { role: entry.role, csr, status: { state: IssuanceState.ISSUED }, certificate: result.certificate, cn: node.id }
          : { role: entry.role, csr, status: { state: IssuanceState.FAILED, err: result.err }, cn: node.id }
    })
  })
  if (result.state === IssuanceState.ISSUED) ctx.logger.info('node certificate issued', { nodeId: node.id, role: entry.role })
  else ctx.logger.warn('node certificate refused', { nodeId: node.id, err: result.err })
}

async function run(ctx: LeaderContext): Promise<void> {
  const { store } = ctx
  const cache = new SigningCACache()
  const { result, watch } = store.viewAndWatch((tx) => tx.nodes.find().filter(needsSigning), { kinds: 'node', actions: ['create', 'update'] }, { signal: ctx.signal })
  const sign = async (node: Frozen<Node>): Promise<void> => {
    try {
      await signOne(ctx, cache, store, node)
    } catch (err) {
      // A write refused (leadership lost, a conflict): the next leader or the next update retries.
      if (!ctx.signal.aborted) ctx.logger.warn('signing a node certificate failed', { nodeId: node.id, err: err instanceof Error ? err.message : String(err) })
    }
  }
  try {
    for (const node of result) await sign(node)
    for await (const ev of watch) {
      if (ev.action === 'commit' || ev.action === 'delete') continue
      if (needsSigning(ev.object)) await sign(ev.object)
    }
  } finally {
    watch.close()
  }
}

/**
 * The certificate signer as a {@link LeaderComponent} (name `ca-signer`): give it to the manager,
 * which starts it on the leader for each term and stops it when leadership is lost.
 */
export function caSigner(): LeaderComponent {
  return {
    name: 'ca-signer',
    start(ctx: LeaderContext): LeaderComponentHandle {
      const done = run(ctx).catch((err: unknown) => {
        if (!ctx.signal.aborted) ctx.logger.error('the certificate signer stopped', { err: err instanceof Error ? err.message : String(err) })
      })
      return {
        stop: async () => {
          await done
        },
      }
    },
  }
}
