/**
 * One leader term of the {@link NetworkAllocator}: the {@link AllocationState} rebuilt from the
 * store at start, kept in step with the store's events on a {@link StoreLoop}, and the writes of
 * each tick (networks' IPAM, services' endpoints, tasks NEW → PENDING or why not).
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Cluster, Endpoint, Logger, Network, Service, Task } from '@swarmkit-ts/api'
import { StoreLoop } from '@swarmkit-ts/store'
import type { Draft, Frozen, ObjectEvent, ReadTx, Tx } from '@swarmkit-ts/store'
import { createIngressNetwork } from '../control/network-control.ts'
import { allocateNetworkIpam, subnetPoolInitOf } from '../ipam/network-allocation.ts'
import { AllocationState, allocationInputs, endpointKey } from './allocation-state.ts'
import type { AllocatorSnapshot, NetworkAllocatorInit } from './network-allocator.ts'
import { PENDING_MESSAGE, isDead, wantsAllocation } from './task-rules.ts'
import { applyAllocatorWrites } from './writes.ts'
import type { AllocatorWrite } from './writes.ts'

type Kind = 'network' | 'service' | 'task' | 'cluster'

/** One leader term: the state and the loop. */
export class AllocatorTerm {
  readonly #init: NetworkAllocatorInit
  readonly #logger: Logger
  readonly #loop: StoreLoop<Kind>
  #state = new AllocationState()
  #cluster: Frozen<Cluster> | undefined
  readonly #services = new Map<string, Frozen<Service>>()
  /** Why each service that could not be allocated was not. */
  readonly #serviceErrors = new Map<string, string>()
  readonly #dirtyServices = new Set<string>()
  readonly #unallocatedNetworks = new Set<string>()
  /** Tasks waiting for allocation (the latest object seen), and those not looked at since they changed. */
  readonly #pending = new Map<string, Frozen<Task>>()
  readonly #fresh = new Set<string>()
  /** Something changed that may unblock what failed before: look at every waiting task and failed service. */
  #retry = true
  /** A network's IPAM failed (a new reason) in the writes of the tick in progress. */
  #networkFailed = false
  #bootstrap: boolean

  constructor(init: NetworkAllocatorInit, logger: Logger) {
    this.#init = init
    this.#logger = logger
    this.#bootstrap = init.bootstrapIngress ?? false
    this.#loop = new StoreLoop({ store: init.store, logger }, 'network allocator', ['network', 'service', 'task', 'cluster'], {
      resync: (tx) => this.#resync(tx),
      event: (ev) => this.#event(ev),
      tick: () => this.#tick(),
    })
  }

  start(): void {
    this.#loop.start()
  }

  stop(): Promise<void> {
    return this.#loop.stop()
  }

  snapshot(): AllocatorSnapshot {
    return { ipam: this.#state.ipam.snapshot(), ports: this.#state.ports.snapshot() }
  }

  // ------------------------------------------------------------ state from the store

  /** Rebuilds everything from a fresh view: at start, and after the watch overflowed. */
  #resync(tx: ReadTx): void {
    this.#cluster = pickCluster(tx.clusters.find())
    const state = new AllocationState(subnetPoolInitOf(this.#cluster))
    this.#state = state
    this.#services.clear()
    this.#serviceErrors.clear()
    this.#dirtyServices.clear()
    this.#unallocatedNetworks.clear()
    this.#pending.clear()
    this.#fresh.clear()
    for (const n of tx.networks.find()) if (!state.putNetwork(n)) this.#unallocatedNetworks.add(n.id)
    for (const s of tx.services.find()) {
      this.#services.set(s.id, s)
      state.reserveService(s)
      // Allocated again at the first tick: that keeps what the store records and fills in what is missing.
      this.#dirtyServices.add(s.id)
    }
    for (const t of tx.tasks.find()) {
      if (isDead(t)) continue
      if ((t.networks ?? []).length > 0) state.reserveTask(t)
      if (wantsAllocation(t)) this.#pending.set(t.id, t)
    }
    this.#retry = true
  }

  #event(ev: ObjectEvent<Kind>): void {
    switch (ev.kind) {
      case 'network':
        return this.#networkEvent(ev.action, ev.object)
      case 'service':
        return this.#serviceEvent(ev.action, ev.object)
      case 'task':
        return this.#taskEvent(ev.action, ev.object)
      case 'cluster':
        if (ev.action !== 'delete') this.#cluster = ev.object
        return
    }
  }

  #networkEvent(action: 'create' | 'update' | 'delete', n: Frozen<Network>): void {
    this.#retry = true
    if (action === 'delete') {
      this.#unallocatedNetworks.delete(n.id)
      for (const id of this.#state.removeNetwork(n.id)) this.#dirtyServices.add(id)
      return
    }
    if (this.#state.putNetwork(n)) this.#unallocatedNetworks.delete(n.id)
    else this.#unallocatedNetworks.add(n.id)
  }

  #serviceEvent(action: 'create' | 'update' | 'delete', s: Frozen<Service>): void {
    if (action === 'delete') {
      this.#services.delete(s.id)
      this.#serviceErrors.delete(s.id)
      this.#dirtyServices.delete(s.id)
      this.#state.releaseService(s.id)
      this.#retry = true
      return
    }
    this.#services.set(s.id, s)
    const held = this.#state.service(s.id)
    if (held?.allocatedFor === undefined || allocationInputs(held.allocatedFor) !== allocationInputs(s.spec)) {
      this.#dirtyServices.add(s.id)
      this.#retry = true
    } else if (endpointKey(held.endpoint) !== endpointKey(s.endpoint)) {
      // The store does not record what it holds (an older commit's event, or a write from elsewhere): write it again.
      this.#dirtyServices.add(s.id)
    }
  }

  #taskEvent(action: 'create' | 'update' | 'delete', t: Frozen<Task>): void {
    if (action === 'delete' || isDead(t)) {
      this.#pending.delete(t.id)
      this.#fresh.delete(t.id)
      if (this.#state.releaseTask(t.id)) this.#retry = true
      return
    }
    const held = this.#state.task(t.id)
    if (held === undefined && (t.networks ?? []).length > 0) this.#state.reserveTask(t)
    if (wantsAllocation(t) && (held === undefined || (t.networks ?? []).length > 0)) {
      // (A NEW task without networks while its attachments are held is an event older than the
      // allocator's own write, which follows.)
      this.#pending.set(t.id, t)
      this.#fresh.add(t.id)
    } else {
      this.#pending.delete(t.id)
      this.#fresh.delete(t.id)
    }
  }

  // ------------------------------------------------------------ allocation

  async #tick(): Promise<void> {
    if (this.#loop.stopping) return
    // Allocate once the new ingress network's event is in (the commit brings another tick).
    if (this.#bootstrap && (await this.#bootstrapIngress())) return
    const writes: AllocatorWrite[] = []
    for (const id of this.#unallocatedNetworks) writes.push(this.#networkWrite(id))
    this.#allocateServices(writes)
    this.#allocateTasks(writes)
    this.#retry = false
    await applyAllocatorWrites(this.#init.store, writes, this.#logger)
    // A network's IPAM is decided in its write, after this tick looked at the tasks: those of a
    // network that failed there wait with "not allocated yet". Look at them again for the reason.
    if (!this.#networkFailed || this.#loop.stopping) return
    this.#networkFailed = false
    this.#retry = true
    const again: AllocatorWrite[] = []
    this.#allocateServices(again)
    this.#allocateTasks(again)
    this.#retry = false
    await applyAllocatorWrites(this.#init.store, again, this.#logger)
  }

  /** Creates the ingress network if none exists; true when it wrote one. */
  async #bootstrapIngress(): Promise<boolean> {
    this.#bootstrap = false
    if (this.#state.ingressNetwork() !== undefined) return false
    try {
      const before = this.#init.store.version
      await this.#init.store.update((tx) => createIngressNetwork(tx, this.#init.random))
      return this.#init.store.version !== before
    } catch (err) {
      this.#logger.error('network allocator: creating the ingress network failed', { error: String(err) })
      return false
    }
  }

  /** Gives network `id` its IPAM, decided in the transaction against every network then stored. */
  #networkWrite(id: string): AllocatorWrite {
    const cluster = this.#cluster
    return {
      apply: (tx: Tx) => {
        const n = tx.networks.get(id)
        if (n === undefined || (n.ipam?.configs ?? []).length > 0) return false
        const existing = tx.networks
          .find()
          .filter((x) => x.id !== id && (x.ipam?.configs ?? []).length > 0)
          .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        let decided
        try {
          decided = allocateNetworkIpam(n.spec, existing, cluster)
        } catch (err) {
          const reason = `network ${n.spec.annotations.name} cannot be allocated: ${err instanceof Error ? err.message : String(err)}`
          if (this.#state.networkErrors.get(id) !== reason) this.#networkFailed = true
          this.#state.networkErrors.set(id, reason)
          return false
        }
        this.#state.networkErrors.delete(id)
        tx.networks.update(id, (d) => {
          d.ipam = decided.ipam as NonNullable<Draft<Network>['ipam']>
          d.driverState = decided.driverState
        })
        return true
      },
    }
  }

  /**
   * Allocates the services that changed (and, on a retry, those that failed before). When one
   * allocation changes what a service holds (freeing a port or an address, say), the services
   * that failed in this pass are tried again, so their order within a commit does not matter.
   */
  #allocateServices(writes: AllocatorWrite[]): void {
    if (this.#retry) for (const id of this.#serviceErrors.keys()) this.#dirtyServices.add(id)
    let pass = [...this.#dirtyServices]
    this.#dirtyServices.clear()
    const nameOf = (id: string): string => this.#services.get(id)?.spec.annotations.name ?? id
    while (pass.length > 0) {
      let freed = false
      const failed: string[] = []
      for (const id of pass) {
        const s = this.#services.get(id)
        if (s === undefined) continue
        const before = endpointKey(this.#state.service(id)?.endpoint)
        const r = this.#state.allocateService(s, nameOf)
        if (!r.ok) {
          this.#serviceErrors.set(id, r.failure.message)
          failed.push(id)
          this.#state.resetService(s)
          if (endpointKey(this.#state.service(id)?.endpoint) !== before) freed = true
          continue
        }
        this.#serviceErrors.delete(id)
        const endpoint = r.value
        if (endpointKey(endpoint) !== before) freed = true
        if (endpointKey(s.endpoint) !== endpointKey(endpoint)) writes.push(this.#endpointWrite(id, allocationInputs(s.spec), endpoint))
      }
      // Each further pass follows a change of holdings, and a service that succeeds leaves the
      // failed list: this ends. A change may also unblock waiting tasks: look at all of them.
      if (freed) this.#retry = true
      pass = freed ? failed : []
    }
  }

  /** Records a service's endpoint, unless its spec changed meanwhile (it is allocated again on that event). */
  #endpointWrite(id: string, inputs: string, endpoint: Frozen<Endpoint>): AllocatorWrite {
    return {
      apply: (tx) => {
        const cur = tx.services.get(id)
        if (cur === undefined || allocationInputs(cur.spec) !== inputs || endpointKey(cur.endpoint) === endpointKey(endpoint)) return false
        tx.services.update(id, (d) => void (d.endpoint = endpoint as NonNullable<Draft<Service>['endpoint']>))
        return true
      },
    }
  }

  #allocateTasks(writes: AllocatorWrite[]): void {
    const ids = this.#retry ? [...this.#pending.keys()] : [...this.#fresh]
    this.#fresh.clear()
    const now = this.#init.clock.now()
    for (const id of ids) {
      const t = this.#pending.get(id)
      if (t === undefined) continue
      const service = t.serviceId === '' ? undefined : this.#services.get(t.serviceId)
      // A task of a service not (or no longer) in the store waits: the orchestrator removes it.
      if (t.serviceId !== '' && service === undefined) continue
      if (service !== undefined) {
        const err = this.#serviceErrors.get(service.id)
        if (err !== undefined) {
          this.#errorWrite(writes, t, err)
          continue
        }
      }
      const endpoint = service === undefined ? undefined : this.#state.service(service.id)
      if (service !== undefined && endpoint?.allocatedFor === undefined) continue
      const r = this.#state.allocateTask(t, service, endpoint?.endpoint)
      if (!r.ok) {
        this.#errorWrite(writes, t, r.failure.message)
        continue
      }
      this.#pending.delete(id)
      const networks = r.value
      const ep = endpoint?.endpoint !== undefined && Object.keys(endpoint.endpoint).length > 0 ? endpoint.endpoint : undefined
      writes.push({
        apply: (tx) => {
          const cur = tx.tasks.get(id)
          if (cur === undefined || !wantsAllocation(cur)) return false
          tx.tasks.update(id, (d) => {
            d.networks = networks as NonNullable<Draft<Task>['networks']>
            if (ep !== undefined) d.endpoint = ep as NonNullable<Draft<Task>['endpoint']>
            d.status = { ...d.status, state: TaskState.PENDING, message: PENDING_MESSAGE, timestamp: now }
            delete d.status.err
          })
          return true
        },
        undo: () => {
          // Not written (the task changed or went away meanwhile): give the addresses back and look again.
          this.#state.releaseTask(id)
          const latest = this.#init.store.view((tx) => tx.tasks.get(id))
          if (latest !== undefined && wantsAllocation(latest)) {
            this.#pending.set(id, latest)
            this.#fresh.add(id)
          }
        },
      })
    }
  }

  /** Records why task `t` stays NEW, once (no write when its status already says so). */
  #errorWrite(writes: AllocatorWrite[], t: Frozen<Task>, message: string): void {
    if (t.status.err === message) return
    const id = t.id
    writes.push({
      apply: (tx) => {
        const cur = tx.tasks.get(id)
        if (cur === undefined || !wantsAllocation(cur) || cur.status.err === message) return false
        tx.tasks.update(id, (d) => void (d.status.err = message))
        return true
      },
    })
  }
}

/** The cluster object: the one named "default", else the first. */
function pickCluster(clusters: readonly Frozen<Cluster>[]): Frozen<Cluster> | undefined {
  return clusters.find((c) => c.spec.annotations.name === 'default') ?? clusters[0]
}
