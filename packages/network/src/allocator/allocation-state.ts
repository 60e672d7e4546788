/**
 * What the allocator holds in memory during one leader term: the {@link Ipam} (every network's
 * subnets, every address in use), the {@link PortAllocator}, and per service and per task what
 * it holds. Pure and synchronous; the driver (`network-allocator.ts`) feeds it the store's
 * objects and writes its decisions.
 *
 * Invariant: every address and port in the Ipam and the PortAllocator is held by exactly one
 * entry here (a service's VIPs or ports, a task's attachments), so releasing an entry frees
 * exactly what it took, and a state rebuilt from the store holds what the store records.
 *
 * @module
 */
import { FailedPreconditionError } from '@swarmkit-ts/api'
import type { Endpoint, Network, NetworkAttachment, PortConfig, Service, ServiceSpec, Task, VirtualIP } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { Ipam } from '../ipam/ipam.ts'
import type { IpamInit } from '../ipam/ipam.ts'
import { attachmentsOf, checkEndpointSpec, needsIngress, noIngressNetworkError, portInUseMessage, resolveAttachments } from './endpoint-rules.ts'
import { PortAllocator, normalizePort } from './ports.ts'

/** Why something could not be allocated: the error, and the text written into a task's `status.err`. */
export interface AllocationFailure {
  readonly error: Error
  readonly message: string
}

/** What a service holds. */
export interface ServiceHolding {
  /** The endpoint as allocated (what the service and its tasks get). */
  readonly endpoint: Frozen<Endpoint>
  /** The spec the endpoint was allocated for; undefined until allocated in this term. */
  readonly allocatedFor: Frozen<ServiceSpec> | undefined
}

/** The outcome of an allocation: a value, or why not. */
export type Allocation<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: AllocationFailure }

/** The families of a network's allocated pools, IPv4 first. */
function familiesOf(network: Frozen<Network>): ('ipv4' | 'ipv6')[] {
  const out = new Set<'ipv4' | 'ipv6'>()
  for (const c of network.ipam?.configs ?? []) out.add(c.family ?? ((c.subnet ?? '').includes(':') ? 'ipv6' : 'ipv4'))
  return [...out].sort()
}

function failure(error: unknown, message?: string): AllocationFailure {
  const e = error instanceof Error ? error : new Error(String(error))
  return { error: e, message: message ?? e.message }
}

/** Keys computed for frozen objects (immutable, so a key never goes stale); see {@link memoized}. */
const inputsKeys = new WeakMap<object, string>()
const endpointKeys = new WeakMap<object, string>()

/** `compute(o)`, remembered for `o` when it is frozen (every store object is). */
function memoized<T extends object>(cache: WeakMap<object, string>, o: T, compute: (o: T) => string): string {
  const known = cache.get(o)
  if (known !== undefined) return known
  const key = compute(o)
  if (Object.isFrozen(o)) cache.set(o, key)
  return key
}

/** The inputs of a spec without an endpoint or networks, and the key of no endpoint (see below). */
const NO_INPUTS = JSON.stringify({ mode: 'vip', ports: [], targets: [] })
const NO_ENDPOINT = JSON.stringify({ spec: null, ports: [], vips: [] })

/** A comparable key of what a service's allocation depends on in its spec. */
export function allocationInputs(spec: Frozen<ServiceSpec>): string {
  // Most updates change neither: a spec decoded afresh (as a leader's every update is) would
  // miss the cache and pay a JSON encoding for the same key.
  if (spec.endpoint === undefined && (spec.task.networks?.length ?? 0) === 0 && (spec.networks?.length ?? 0) === 0) return NO_INPUTS
  return memoized(inputsKeys, spec, computeAllocationInputs)
}

function computeAllocationInputs(spec: Frozen<ServiceSpec>): string {
  const e = spec.endpoint
  return JSON.stringify({
    mode: e?.mode ?? 'vip',
    ports: (e?.ports ?? []).map(normalizePort),
    targets: attachmentsOf(spec.task, spec.networks).configs.map((c) => c.target),
  })
}

/** A comparable key of an endpoint (defaults filled in, so a stored copy compares equal to the written one). */
export function endpointKey(e: Frozen<Endpoint> | undefined): string {
  return e === undefined ? NO_ENDPOINT : memoized(endpointKeys, e, computeEndpointKey)
}

function computeEndpointKey(e: Frozen<Endpoint> | undefined): string {
  return JSON.stringify({
    spec: e?.spec === undefined ? null : { mode: e.spec.mode ?? 'vip', ports: (e.spec.ports ?? []).map(normalizePort) },
    ports: (e?.ports ?? []).map(normalizePort),
    vips: (e?.virtualIps ?? []).map((v) => [v.networkId, v.addr]),
  })
}

/** The allocator's state of one leader term. */
export class AllocationState {
  readonly ipam: Ipam
  readonly ports = new PortAllocator()
  /** Known networks by id, and ids by name (lower case: names compare case-insensitively, as the store's name index and SwarmKit's do). */
  readonly networks = new Map<string, Frozen<Network>>()
  readonly #names = new Map<string, string>()
  /** Why a network that lacks IPAM (or whose IPAM was refused) is not usable. */
  readonly networkErrors = new Map<string, string>()
  readonly #services = new Map<string, ServiceHolding>()
  readonly #tasks = new Map<string, readonly Frozen<NetworkAttachment>[]>()

  constructor(init: IpamInit = {}) {
    let ipam: Ipam
    try {
      ipam = new Ipam(init)
    } catch {
      ipam = new Ipam()
    }
    this.ipam = ipam
  }

  // ------------------------------------------------------------ networks

  /** Takes in a network (created or updated): its IPAM when allocated. Returns false when it still needs IPAM. */
  putNetwork(n: Frozen<Network>): boolean {
    const old = this.networks.get(n.id)
    if (old !== undefined && old.spec.annotations.name !== n.spec.annotations.name) this.#names.delete(old.spec.annotations.name.toLowerCase())
    this.networks.set(n.id, n)
    this.#names.set(n.spec.annotations.name.toLowerCase(), n.id)
    if (this.ipam.hasNetwork(n.id)) return true
    if ((n.ipam?.configs ?? []).length === 0) return false
    try {
      this.ipam.addNetwork(n)
      this.networkErrors.delete(n.id)
    } catch (err) {
      this.networkErrors.set(n.id, `network ${n.spec.annotations.name} cannot be used: ${err instanceof Error ? err.message : String(err)}`)
    }
    return true
  }

  /** Forgets a deleted network and every address on it; returns the services that had VIPs on it. */
  removeNetwork(id: string): string[] {
    const n = this.networks.get(id)
    if (n !== undefined && this.#names.get(n.spec.annotations.name.toLowerCase()) === id) this.#names.delete(n.spec.annotations.name.toLowerCase())
    this.networks.delete(id)
    this.networkErrors.delete(id)
    this.ipam.removeNetwork(id)
    for (const [taskId, atts] of this.#tasks) {
      if (atts.some((a) => a.networkId === id)) this.#tasks.set(taskId, atts.filter((a) => a.networkId !== id))
    }
    const touched: string[] = []
    for (const [serviceId, h] of this.#services) {
      if ((h.endpoint.virtualIps ?? []).some((v) => v.networkId === id)) {
        touched.push(serviceId)
        const virtualIps = (h.endpoint.virtualIps ?? []).filter((v) => v.networkId !== id)
        this.#services.set(serviceId, { endpoint: { ...h.endpoint, virtualIps }, allocatedFor: undefined })
      }
    }
    return touched
  }

  /** The network `target` names (an id, else a name). */
  lookup(target: string): Frozen<Network> | undefined {
    const byId = this.networks.get(target)
    if (byId !== undefined) return byId
    const id = this.#names.get(target.toLowerCase())
    return id === undefined ? undefined : this.networks.get(id)
  }

  /** The ingress network, if known. */
  ingressNetwork(): Frozen<Network> | undefined {
    for (const n of this.networks.values()) if (n.spec.ingress === true) return n
    return undefined
  }

  #usable(n: Frozen<Network>): AllocationFailure | undefined {
    const err = this.networkErrors.get(n.id)
    if (err !== undefined) return failure(new FailedPreconditionError(err, { reason: 'network-unusable' }))
    if (!this.ipam.hasNetwork(n.id)) {
      const msg = `network ${n.spec.annotations.name} is not allocated yet`
      return failure(new FailedPreconditionError(msg, { reason: 'network-not-allocated' }))
    }
    return undefined
  }

  // ------------------------------------------------------------ services

  /** What service `id` holds, if anything. */
  service(id: string): ServiceHolding | undefined {
    return this.#services.get(id)
  }

  /** Takes back what the store records for a service (a rebuild): its VIPs and ports, as far as they are free. */
  reserveService(s: Frozen<Service>): void {
    const virtualIps: VirtualIP[] = []
    for (const [i, v] of (s.endpoint?.virtualIps ?? []).entries()) {
      try {
        this.ipam.reserve(v.networkId, v.addr, `endpoint.virtualIps[${i}].addr`)
        virtualIps.push({ networkId: v.networkId, addr: v.addr })
      } catch {
        // Held by another object, or its network is gone: the service is allocated again.
      }
    }
    const recorded = s.endpoint?.ports ?? []
    const skipped = new Set(this.ports.reserve(s.id, recorded))
    const ports = recorded.filter((_, i) => !skipped.has(i))
    this.#services.set(s.id, { endpoint: { ...(s.endpoint?.spec && { spec: s.endpoint.spec }), ports, virtualIps }, allocatedFor: undefined })
  }

  /**
   * Allocates service `s` for its current spec, keeping what still applies (published ports,
   * VIPs on networks it still uses) and releasing what no longer does. All or nothing: on
   * failure the service keeps what it held. `nameOf` names a service id in conflict messages.
   */
  allocateService(s: Frozen<Service>, nameOf: (serviceId: string) => string): Allocation<Frozen<Endpoint>> {
    const spec = s.spec
    let targets: Frozen<Network>[]
    try {
      checkEndpointSpec(spec.endpoint)
      targets = resolveAttachments(attachmentsOf(spec.task, spec.networks), (t) => this.lookup(t))
    } catch (err) {
      return { ok: false, failure: failure(err) }
    }
    const vipMode = (spec.endpoint?.mode ?? 'vip') === 'vip'
    if (needsIngress(spec.endpoint)) {
      const ingress = this.ingressNetwork()
      if (ingress === undefined) return { ok: false, failure: failure(noIngressNetworkError()) }
      targets = [ingress, ...targets]
    }
    for (const n of targets) {
      const bad = this.#usable(n)
      if (bad !== undefined) return { ok: false, failure: bad }
    }
    const plan = this.ports.plan(s.id, spec.endpoint?.ports ?? [])
    if (!plan.ok) {
      if (plan.reason === 'exhausted') return { ok: false, failure: failure(plan.error) }
      const message = plan.reason === 'in-use' ? portInUseMessage(plan.port, plan.protocol, nameOf(plan.owner)) : `duplicate published port ${plan.port}/${plan.protocol}`
      return { ok: false, failure: failure(new FailedPreconditionError(message, { reason: 'port-in-use' }), message) }
    }
    const held = this.#services.get(s.id)?.endpoint.virtualIps ?? []
    const kept: VirtualIP[] = []
    const fresh: VirtualIP[] = []
    const virtualIps: VirtualIP[] = []
    try {
      for (const n of vipMode ? targets : []) {
        const mine = held.filter((v) => v.networkId === n.id)
        if (mine.length > 0) {
          kept.push(...mine)
          virtualIps.push(...mine)
          continue
        }
        for (const family of familiesOf(n)) {
          const vip = { networkId: n.id, addr: this.ipam.allocate(n.id, family) }
          fresh.push(vip)
          virtualIps.push(vip)
        }
      }
    } catch (err) {
      for (const v of fresh) this.ipam.release(v.networkId, v.addr)
      return { ok: false, failure: failure(err) }
    }
    for (const v of held) if (!kept.includes(v)) this.ipam.release(v.networkId, v.addr)
    this.ports.commit(s.id, plan.ports)
    const ports: PortConfig[] = [...plan.ports]
    const endpoint: Frozen<Endpoint> = {
      ...(spec.endpoint !== undefined && { spec: spec.endpoint }),
      ...(ports.length > 0 && { ports }),
      ...(virtualIps.length > 0 && { virtualIps }),
    }
    this.#services.set(s.id, { endpoint, allocatedFor: spec })
    return { ok: true, value: endpoint }
  }

  /**
   * Makes what service `s` holds what the store records for it (a failed allocation of a new
   * spec whose earlier allocation never reached the store must not hold it on: a new leader
   * would not).
   */
  resetService(s: Frozen<Service>): void {
    const h = this.#services.get(s.id)
    if (h !== undefined && endpointKey(h.endpoint) === endpointKey(s.endpoint)) return
    this.releaseService(s.id)
    this.reserveService(s)
  }

  /** Releases everything service `id` holds (deleted). */
  releaseService(id: string): void {
    const h = this.#services.get(id)
    if (h === undefined) return
    for (const v of h.endpoint.virtualIps ?? []) this.ipam.release(v.networkId, v.addr)
    this.ports.release(id)
    this.#services.delete(id)
  }

  // ------------------------------------------------------------ tasks

  /** The attachments task `id` holds, if any. */
  task(id: string): readonly Frozen<NetworkAttachment>[] | undefined {
    return this.#tasks.get(id)
  }

  /** Takes back the addresses the store records for a live task (a rebuild, or a task written already allocated). */
  reserveTask(t: Frozen<Task>): void {
    const atts: Frozen<NetworkAttachment>[] = []
    for (const [i, a] of (t.networks ?? []).entries()) {
      const addresses: string[] = []
      for (const [j, addr] of (a.addresses ?? []).entries()) {
        try {
          addresses.push(this.ipam.reserve(a.networkId, addr, `networks[${i}].addresses[${j}]`))
        } catch {
          // Taken twice in the store, or its network is gone: not ours to free later.
        }
      }
      atts.push({ ...a, addresses })
    }
    this.#tasks.set(t.id, atts)
  }

  /**
   * Allocates task `t`'s attachments: the ingress network first when its service publishes
   * through the mesh, then each network of its spec with the spec's aliases, and either the
   * user's static addresses or one address per address family of the network. All or nothing.
   */
  allocateTask(t: Frozen<Task>, service: Frozen<Service> | undefined, endpoint: Frozen<Endpoint> | undefined): Allocation<readonly Frozen<NetworkAttachment>[]> {
    const held = this.#tasks.get(t.id)
    if (held !== undefined) return { ok: true, value: held }
    const list = attachmentsOf(t.spec, service?.spec.networks)
    let targets: Frozen<Network>[]
    try {
      targets = resolveAttachments(list, (x) => this.lookup(x))
    } catch (err) {
      return { ok: false, failure: failure(err) }
    }
    const plan: { network: Frozen<Network>; index: number | undefined }[] = targets.map((network) => ({
      network,
      index: list.configs.findIndex((c) => this.lookup(c.target)?.id === network.id),
    }))
    if ((endpoint?.ports ?? []).some((p) => (p.publishMode ?? 'ingress') === 'ingress')) {
      const ingress = this.ingressNetwork()
      if (ingress === undefined) return { ok: false, failure: failure(noIngressNetworkError()) }
      plan.unshift({ network: ingress, index: undefined })
    }
    const taken: [string, string][] = []
    const atts: Frozen<NetworkAttachment>[] = []
    try {
      for (const { network, index } of plan) {
        const bad = this.#usable(network)
        if (bad !== undefined) return { ok: false, failure: bad }
        const config = index === undefined ? undefined : list.configs[index]
        const addresses: string[] = []
        const statics = config?.addresses ?? []
        if (statics.length > 0) {
          for (const [j, a] of statics.entries()) {
            addresses.push(this.ipam.reserve(network.id, a, `${list.field}[${index}].addresses[${j}]`))
            taken.push([network.id, addresses[addresses.length - 1] as string])
          }
        } else {
          for (const family of familiesOf(network)) {
            const a = this.ipam.allocate(network.id, family)
            addresses.push(a)
            taken.push([network.id, a])
          }
        }
        atts.push({
          networkId: network.id,
          addresses,
          ...(config?.aliases !== undefined && config.aliases.length > 0 && { aliases: config.aliases }),
          ...(config?.driverAttachmentOpts !== undefined && { driverAttachmentOpts: config.driverAttachmentOpts }),
        })
      }
    } catch (err) {
      return { ok: false, failure: failure(err) }
    } finally {
      // Not all attachments made (a failure returned or thrown): give back what was taken.
      if (atts.length !== plan.length) for (const [n, a] of taken) this.ipam.release(n, a)
    }
    this.#tasks.set(t.id, atts)
    return { ok: true, value: atts }
  }

  /** Releases the addresses task `id` holds (deleted, dead, or its write did not apply); false when it held none. */
  releaseTask(id: string): boolean {
    const atts = this.#tasks.get(id)
    if (atts === undefined) return false
    for (const a of atts) for (const addr of a.addresses ?? []) this.ipam.release(a.networkId, addr)
    this.#tasks.delete(id)
    return true
  }
}
