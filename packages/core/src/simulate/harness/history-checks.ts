/**
 * The checks that read the harness's {@link ClusterHistory}: no acknowledged write lost, and the
 * control API linearizable; and the check that managers agree on their stores.
 *
 * @module
 */
import type { MemoryStore } from '@swarmkit-ts/store'
import { checkLinearizability } from '@swarmkit-ts/testkit'
import { HARNESS_TOKEN_LABEL, type ClusterHistory } from './history.ts'
import { serviceModel, type ServiceOpInput } from './service-model.ts'
import { ClusterInvariant, type ClusterViolation } from './violations.ts'

const WRITES: ReadonlySet<ServiceOpInput['type']> = new Set(['create', 'update', 'scale', 'rollback'])

/**
 * Every write the harness saw acknowledged is still in `store`: the store's version reached it,
 * the service exists (unless a removal of it was attempted) at that version or a later one, and
 * when no later write touched it, it holds what was written; every node's availability is
 * that of a write not superseded by an acknowledged write called after it returned.
 */
export function checkAcknowledgedWrites(store: MemoryStore, history: ClusterHistory): ClusterViolation[] {
  const out: ClusterViolation[] = []
  const v = (message: string): void => void out.push({ invariant: ClusterInvariant.ACKNOWLEDGED, message })
  const { services, nodes } = store.view((tx) => ({ services: tx.services.find(), nodes: tx.nodes.find() }))
  const byName = new Map(services.map((s) => [s.spec.annotations.name, s]))
  const calls = history.serviceCalls
  let highest = 0n
  for (const [i, call] of calls.entries()) {
    const { input, output } = call.operation
    if (call.version !== undefined && call.version > highest) highest = call.version
    if (!WRITES.has(input.type) || output === undefined || !output.ok || call.version === undefined) continue
    const later = calls.slice(i + 1).filter((c) => c.operation.input.name === input.name && c.operation.input.type !== 'get')
    // A removal not refused may have undone the write unless it returned before the write was called.
    const call0 = call.operation.call
    const removed = calls.some(
      (c, j) => j !== i && c.operation.input.name === input.name && c.operation.input.type === 'remove' && c.operation.output?.ok !== false && (c.operation.return === undefined || c.operation.return >= call0),
    )
    if (removed) continue
    const s = byName.get(input.name)
    if (s === undefined) {
      v(`service ${input.name}: its acknowledged ${input.type} (version ${call.version}) is lost — the service is gone`)
      continue
    }
    if (s.meta.version.index < call.version) v(`service ${input.name}: its acknowledged ${input.type} wrote version ${call.version}, the store has ${s.meta.version.index}`)
    const token = s.spec.annotations.labels?.[HARNESS_TOKEN_LABEL] ?? ''
    if (later.length === 0 && s.meta.version.index === call.version && (input.type === 'create' || input.type === 'update') && token !== input.value.token)
      v(`service ${input.name}: version ${call.version} holds write ${token}, not the acknowledged ${input.value.token}`)
  }
  if (store.version < highest) v(`the store is at version ${store.version}, below the acknowledged version ${highest}`)
  // A node's availability is that of a write not superseded by an acknowledged one called after it returned.
  const writes = history.availabilityCalls.filter((c) => c.acknowledged !== false)
  for (const nodeId of new Set(writes.filter((c) => c.acknowledged === true).map((c) => c.nodeId))) {
    const mine = writes.filter((c) => c.nodeId === nodeId)
    const candidates = mine.filter((w) => !mine.some((b) => b.acknowledged === true && w.return !== undefined && b.call > w.return))
    const node = nodes.find((n) => n.id === nodeId)
    const allowed = [...new Set(candidates.map((c) => c.availability))].sort()
    if (node === undefined) v(`node ${nodeId}: its acknowledged availability is lost — the node is gone`)
    else if (!allowed.includes(node.spec.availability)) v(`node ${nodeId}: acknowledged availability ${allowed.join(' or ')}, the store has ${node.spec.availability}`)
  }
  return out
}

/** Options of {@link checkHistoryLinearizable}. */
export interface LinearizabilityCheckOptions {
  /** Search steps per service before giving up (no violation reported then). @default 1_000_000 */
  readonly maxSteps?: number
}

/** The service calls of `history` are linearizable against the services model (testkit's checker). */
export function checkHistoryLinearizable(history: ClusterHistory, options: LinearizabilityCheckOptions = {}): ClusterViolation[] {
  const result = checkLinearizability(serviceModel, history.operations(), { maxSteps: options.maxSteps ?? 1_000_000, minimize: true })
  if (result.ok !== false) return []
  const show = (op: (typeof result.operations)[number]): string =>
    `${JSON.stringify(op.input)} @${op.call}..${op.return ?? '?'} → ${op.output === undefined ? 'unknown' : JSON.stringify(op.output)}`
  const culprits = result.counterexample ?? [result.blockedOperation]
  return [{ invariant: ClusterInvariant.LINEARIZABLE, message: `service ${result.partition}: no linearization of ${culprits.map(show).join('; ')}` }]
}

/** A key-sorted JSON of `value` (bigints and bytes written out), equal for equal contents whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'bigint') return `"${value}n"`
  if (value instanceof Uint8Array) return `"b:${Buffer.from(value).toString('base64')}"`
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, x]) => x !== undefined)
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'undefined'
}

/** Every object of `store`, by kind then id, in canonical JSON. */
function contents(store: MemoryStore): Map<string, string> {
  return store.view((tx) => {
    const out = new Map<string, string>()
    const tables: [string, readonly { readonly id: string }[]][] = [
      ['node', tx.nodes.find()],
      ['service', tx.services.find()],
      ['task', tx.tasks.find()],
      ['network', tx.networks.find()],
      ['cluster', tx.clusters.find()],
      ['secret', tx.secrets.find()],
      ['config', tx.configs.find()],
    ]
    for (const [kind, objects] of tables) for (const o of objects) out.set(`${kind} ${o.id}`, canonicalJson(o))
    return out
  })
}

/**
 * Managers whose stores are at the same applied version hold the same objects (compared with
 * `reference`, normally the leader's). Stores at another version are not comparable and skipped.
 */
export function checkStoreAgreement(reference: { readonly nodeId: string; readonly store: MemoryStore }, others: readonly { readonly nodeId: string; readonly store: MemoryStore }[]): ClusterViolation[] {
  const out: ClusterViolation[] = []
  let want: Map<string, string> | undefined
  for (const { nodeId, store } of others) {
    if (store === reference.store || store.version !== reference.store.version) continue
    want ??= contents(reference.store)
    const got = contents(store)
    const differ = [...new Set([...want.keys(), ...got.keys()])].filter((k) => want?.get(k) !== got.get(k)).sort()
    if (differ.length > 0)
      out.push({ invariant: ClusterInvariant.AGREEMENT, message: `manager ${nodeId} differs from ${reference.nodeId} at version ${store.version}: ${differ.slice(0, 5).join(', ')}${differ.length > 5 ? ` and ${differ.length - 5} more` : ''}` })
  }
  return out
}
