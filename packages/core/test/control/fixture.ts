import type { Cluster, Node, NodeRole, NodeState, ServiceSpec } from '@swarmkit-ts/api'
import { FailedPreconditionError } from '@swarmkit-ts/api'
import { createCsr, generateNodeKey, RootCA } from '@swarmkit-ts/pki'
import { MemoryStore, type Frozen } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import type { KeyHooks, MembershipHooks } from '../../src/control/control-hooks.ts'
import { StoreControlApi } from '../../src/control/store-control-api.ts'

/** A PEM standing in for the root CA certificate (join tokens only hash it). */
export const ROOT_PEM = '-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n'

/** Membership hooks that record each call and refuse demotions of the nodes in `refuseDemote`. */
export class RecordingMembership implements MembershipHooks {
  readonly calls: string[] = []
  readonly refuseDemote = new Set<string>()
  readonly refuseRemove = new Set<string>()

  promote(node: Frozen<Node>): Promise<void> {
    this.calls.push(`promote ${node.id}`)
    return Promise.resolve()
  }

  demote(node: Frozen<Node>): Promise<void> {
    this.calls.push(`demote ${node.id}`)
    if (this.refuseDemote.has(node.id)) return Promise.reject(new FailedPreconditionError('demoting would lose quorum', { reason: 'quorum' }))
    return Promise.resolve()
  }

  remove(node: Frozen<Node>): Promise<void> {
    this.calls.push(`remove ${node.id}`)
    if (this.refuseRemove.has(node.id)) return Promise.reject(new FailedPreconditionError('still a raft member', { reason: 'raft-member' }))
    return Promise.resolve()
  }
}

/** A StoreControlApi on a fresh MemoryStore (virtual clock, seeded random). */
export interface ControlRig {
  readonly store: MemoryStore
  readonly clock: ManualClock
  readonly random: SeededRandom
  readonly membership: RecordingMembership
  readonly control: StoreControlApi
}

export function controlRig(options: { keys?: KeyHooks; membership?: boolean } = {}): ControlRig {
  const clock = new ManualClock(1_700_000_000_000)
  const random = new SeededRandom(18)
  const store = new MemoryStore({ clock })
  const membership = new RecordingMembership()
  const control = new StoreControlApi({
    store,
    clock,
    random,
    ...(options.membership === false ? {} : { membership }),
    ...(options.keys === undefined ? {} : { keys: options.keys }),
  })
  return { store, clock, random, membership, control }
}

/** Writes the cluster object (with keys that must never be handed out). */
export async function seedCluster(store: MemoryStore, autolock = false): Promise<Frozen<Cluster>> {
  const written = await store.update((tx) =>
    tx.clusters.create({
      id: 'cluster000000000000000001',
      spec: { annotations: { name: 'default' }, caConfig: { signingCaKey: 'secret-key', signingCaCert: 'cert' }, encryptionConfig: { autoLockManagers: autolock } },
      rootCa: {
        caKey: new Uint8Array([1, 2, 3]),
        caCert: new TextEncoder().encode(ROOT_PEM),
        caCertHash: 'ab'.repeat(32),
        joinTokens: { worker: 'SWMTKN-1-worker', manager: 'SWMTKN-1-manager' },
      },
      networkBootstrapKeys: [{ subsystem: 'networking:gossip', algorithm: 'aes_128_gcm', key: new Uint8Array([9]), lamportTime: 1n }],
      unlockKeys: [{ subsystem: 'manager', key: new Uint8Array([7]) }],
    }),
  )
  return applied(store.view((tx) => tx.clusters.get(written.id)))
}

function applied<T>(v: T | undefined): T {
  if (v === undefined) throw new Error('the written object is not in the store')
  return v
}

/** Writes a node. */
export async function addNode(
  store: MemoryStore,
  id: string,
  o: { role?: NodeRole; state?: NodeState; hostname?: string; certificate?: Uint8Array; labels?: Record<string, string> } = {},
): Promise<Frozen<Node>> {
  const role = o.role ?? 'worker'
  await store.update((tx) =>
    tx.nodes.create({
      id,
      spec: { annotations: { name: '', ...(o.labels === undefined ? {} : { labels: o.labels }) }, desiredRole: role, membership: 'accepted', availability: 'active' },
      status: { state: o.state ?? 'ready' },
      role,
      description: { hostname: o.hostname ?? `host-${id}` },
      ...(o.certificate === undefined ? {} : { certificate: { role, status: { state: 'issued' }, cn: id, certificate: o.certificate } }),
    }),
  )
  return applied(store.view((tx) => tx.nodes.get(id)))
}

/** A real certificate of node `id`, PEM bytes, and its notAfter. */
export async function nodeCertificate(id: string): Promise<{ pem: Uint8Array; notAfter: number }> {
  const ca = await RootCA.create()
  const key = await generateNodeKey()
  const cert = await ca.issue(await createCsr(key), { nodeId: id, role: 'worker', clusterId: 'c1' })
  return { pem: new TextEncoder().encode(cert.certPem), notAfter: cert.notAfter }
}

/** A replicated service spec. */
export function replicated(name: string, replicas: number, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { annotations: { name }, mode: { replicated: { replicas } }, task: { container: { image: 'busybox' } }, ...extra }
}

/** The rejection of `p` (fails the test when it resolves). */
export async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    if (err instanceof Error) return err
    throw new Error(`rejected with a non-Error: ${String(err)}`)
  }
  throw new Error('expected a rejection')
}

/** A valid 25-character id made from a short name (`task1` → `task100000…`). */
export function idOf(name: string): string {
  return name.toLowerCase().padEnd(25, '0')
}

/** Resolves once `cond()` holds, checking after each macrotask; rejects after `guardMs` (a failure guard, not a timing). */
export async function waitFor(cond: () => boolean, what: string, guardMs = 10_000): Promise<void> {
  const until = Date.now() + guardMs
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
