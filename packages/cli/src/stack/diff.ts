/**
 * What a redeploy changes, computed as data: a service is created when absent, updated (with the
 * version read) only when its spec differs from the cluster's, and removed with `--prune` when the
 * files no longer name it; secrets and configs are created when absent and updated when their
 * labels (or a config's data) differ; networks are created when absent.
 *
 * @module
 */
import type { Config, ConfigSpec, Network, NetworkSpec, Secret, SecretSpec, Service, ServiceSpec } from '@swarmkit-ts/api'
import type { StackObject } from './convert-stack.ts'

type Deep<T> = T extends (infer U)[] ? readonly Deep<U>[] : T extends object ? { readonly [K in keyof T]: Deep<T[K]> } : T

/** One change of a deploy. */
export type StackAction =
  | { readonly kind: 'create-network'; readonly name: string; readonly spec: NetworkSpec }
  | { readonly kind: 'create-secret'; readonly name: string; readonly spec: SecretSpec }
  | { readonly kind: 'update-secret'; readonly name: string; readonly id: string; readonly version: bigint; readonly spec: SecretSpec }
  | { readonly kind: 'create-config'; readonly name: string; readonly spec: ConfigSpec }
  | { readonly kind: 'update-config'; readonly name: string; readonly id: string; readonly version: bigint; readonly spec: ConfigSpec }
  | { readonly kind: 'create-service'; readonly name: string; readonly spec: ServiceSpec }
  | { readonly kind: 'update-service'; readonly name: string; readonly id: string; readonly version: bigint; readonly spec: ServiceSpec }
  | { readonly kind: 'remove-service'; readonly name: string; readonly id: string }

/** Networks to create: those absent from `existing` (a network is never updated, as docker's). */
export function planNetworks(desired: readonly StackObject<NetworkSpec>[], existing: readonly Deep<Network>[]): StackAction[] {
  const have = new Set(existing.map((n) => n.spec.annotations.name))
  return desired.filter((n) => !have.has(n.name)).map((n) => ({ kind: 'create-network', name: n.name, spec: n.spec }))
}

/** Secrets (or configs) to create, and those whose labels changed to update. */
export function planPayloads(kind: 'secret' | 'config', desired: readonly StackObject<SecretSpec | ConfigSpec>[], existing: readonly Deep<Secret | Config>[]): StackAction[] {
  const byName = new Map(existing.map((o) => [o.spec.annotations.name, o]))
  const out: StackAction[] = []
  for (const d of desired) {
    const cur = byName.get(d.name)
    if (cur === undefined) out.push(kind === 'secret' ? { kind: 'create-secret', name: d.name, spec: d.spec } : { kind: 'create-config', name: d.name, spec: d.spec })
    else if (!sameSpec(cur.spec.annotations.labels ?? {}, d.spec.annotations.labels ?? {}) || (kind === 'config' && !sameSpec(cur.spec.data, d.spec.data))) {
      // A changed config payload is sent too: the control API refuses it (only labels may
      // change, as docker's), which tells the user instead of keeping the old data silently.
      // Secrets come back without data, so only their labels can be compared.
      const base = { name: d.name, id: cur.id, version: cur.meta.version.index, spec: d.spec }
      out.push(kind === 'secret' ? { kind: 'update-secret', ...base } : { kind: 'update-config', ...base })
    }
  }
  return out
}

/** Services to create, update (only when changed) and, with `prune`, remove; `existing` are the stack's services. */
export function planServices(desired: readonly StackObject<ServiceSpec>[], existing: readonly Deep<Service>[], prune: boolean): StackAction[] {
  const byName = new Map(existing.map((s) => [s.spec.annotations.name, s]))
  const wanted = new Set(desired.map((s) => s.name))
  const out: StackAction[] = []
  if (prune) {
    for (const s of existing) if (!wanted.has(s.spec.annotations.name)) out.push({ kind: 'remove-service', name: s.spec.annotations.name, id: s.id })
  }
  for (const d of desired) {
    const cur = byName.get(d.name)
    if (cur === undefined) {
      out.push({ kind: 'create-service', name: d.name, spec: d.spec })
      continue
    }
    // A compose file has no `--force`: keep the service's forceUpdate, as docker does, so that a
    // `service update --force` done since is neither undone nor a reason to redeploy the tasks.
    const force = cur.spec.task.forceUpdate
    const spec: ServiceSpec = force === undefined ? d.spec : { ...d.spec, task: { ...d.spec.task, forceUpdate: force } }
    if (!sameSpec(cur.spec, spec)) out.push({ kind: 'update-service', name: d.name, id: cur.id, version: cur.meta.version.index, spec })
  }
  return out
}

/**
 * Whether two specs ask for the same thing: compared as canonical data, where an absent field,
 * `undefined` and an empty list are the same (the wire drops empty lists).
 */
export function sameSpec(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))
}

function canonical(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64')
  if (typeof v === 'bigint') return v.toString()
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(canonical)
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v).sort()) {
      const c = canonical((v as Record<string, unknown>)[k])
      if (c !== undefined) out[k] = c
    }
    return out
  }
  return v
}
