/**
 * Invariants of the allocator's outcome, read from the store: what every allocator test and
 * the property check after each step.
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Network, Task } from '@swarmkit-ts/api'
import type { Frozen, MemoryStore } from '@swarmkit-ts/store'
import type { AllocatorSnapshot } from '../../src/allocator/network-allocator.ts'
import { normalizePort } from '../../src/allocator/ports.ts'

/** A task whose addresses are still held: not (observed and desired) past RUNNING. */
export function isLive(t: Frozen<Task>): boolean {
  return !(t.status.state > TaskState.RUNNING && t.desiredState > TaskState.RUNNING)
}

/** The address without its prefix. */
function bare(addr: string): string {
  return addr.split('/')[0] as string
}

/**
 * The problems found in the store (empty when none): an address held twice on a network (live
 * tasks and VIPs), an ingress port held by two services or meeting another's host-mode port,
 * a PENDING task without an address on one of the networks its spec names (or on ingress when
 * it publishes through the mesh).
 */
export function storeProblems(store: MemoryStore): string[] {
  return store.view((tx) => {
    const problems: string[] = []
    const networks = tx.networks.find()
    const byTarget = (target: string): Frozen<Network> | undefined => networks.find((n) => n.id === target || n.spec.annotations.name === target)
    const seen = new Map<string, string>()
    const hold = (networkId: string, addr: string, who: string): void => {
      const key = `${networkId} ${bare(addr)}`
      const other = seen.get(key)
      if (other !== undefined) problems.push(`${bare(addr)} on ${networkId} held by ${other} and ${who}`)
      seen.set(key, who)
    }
    for (const s of tx.services.find()) for (const v of s.endpoint?.virtualIps ?? []) hold(v.networkId, v.addr, `service ${s.id}`)
    for (const t of tx.tasks.find()) {
      if (!isLive(t)) continue
      for (const a of t.networks ?? []) for (const addr of a.addresses ?? []) hold(a.networkId, addr, `task ${t.id}`)
    }
    const ports = new Map<string, { ingress: string[]; host: string[] }>()
    for (const s of tx.services.find()) {
      for (const raw of s.endpoint?.ports ?? []) {
        const p = normalizePort(raw)
        if (p.publishedPort === 0) continue
        const key = `${p.publishedPort}/${p.protocol}`
        const h = ports.get(key) ?? { ingress: [], host: [] }
        h[p.publishMode].push(s.id)
        ports.set(key, h)
      }
    }
    for (const [key, h] of ports) {
      if (h.ingress.length > 1 || (h.ingress.length === 1 && h.host.some((s) => s !== h.ingress[0]))) problems.push(`port ${key} held by ${[...h.ingress, ...h.host].join(', ')}`)
    }
    for (const t of tx.tasks.find()) {
      if (t.status.state !== TaskState.PENDING) continue
      const attached = new Map((t.networks ?? []).map((a) => [a.networkId, a.addresses ?? []]))
      const wanted = (t.spec.networks ?? []).map((c) => byTarget(c.target)?.id ?? c.target)
      if ((t.endpoint?.ports ?? []).some((p) => (p.publishMode ?? 'ingress') === 'ingress')) {
        const ingress = networks.find((n) => n.spec.ingress === true)
        wanted.push(ingress?.id ?? 'ingress')
      }
      for (const id of wanted) if ((attached.get(id) ?? []).length === 0) problems.push(`PENDING task ${t.id} has no address on ${id}`)
    }
    return problems
  })
}

/**
 * The addresses the store records (live tasks' and VIPs), per network, sorted as the allocator's
 * snapshot lists them: after settling, the allocator holds exactly these (nothing for deleted or
 * dead objects).
 */
export function recordedAddresses(store: MemoryStore): Record<string, string[]> {
  return store.view((tx) => {
    const out: Record<string, string[]> = {}
    const add = (n: string, a: string): void => void (out[n] ??= []).push(bare(a))
    for (const s of tx.services.find()) for (const v of s.endpoint?.virtualIps ?? []) add(v.networkId, v.addr)
    for (const t of tx.tasks.find()) if (isLive(t)) for (const a of t.networks ?? []) for (const addr of a.addresses ?? []) add(a.networkId, addr)
    for (const list of Object.values(out)) list.sort(compareAddresses)
    return out
  })
}

/** The used addresses of an allocator snapshot, per network (networks with none left out). */
export function heldAddresses(snapshot: AllocatorSnapshot | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const n of snapshot?.ipam.networks ?? []) {
    const used = n.pools.flatMap((p) => p.used)
    if (used.length > 0) out[n.id] = [...used].sort(compareAddresses)
  }
  return out
}

function compareAddresses(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < 4; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0)
  return a < b ? -1 : a > b ? 1 : 0
}
