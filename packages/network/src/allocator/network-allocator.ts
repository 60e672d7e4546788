/**
 * The network allocator (SwarmKit's manager/allocator): on the leader, gives networks their
 * IPAM, services their VIPs and published ports, tasks their network attachments, and moves
 * tasks NEW → PENDING. The decisions are in `allocation-state.ts`; each leader term
 * (`allocator-term.ts`) feeds it the store's events and writes the outcome in batches.
 *
 * @module
 */
import { FailedPreconditionError, silentLogger } from '@swarmkit-ts/api'
import type { Clock, Logger, Random } from '@swarmkit-ts/api'
import type { MemoryStore } from '@swarmkit-ts/store'
import type { IpamSnapshot } from '../ipam/ipam.ts'
import { AllocatorTerm } from './allocator-term.ts'
import type { PortSnapshot } from './ports.ts'

/** Construction options of {@link NetworkAllocator}. */
export interface NetworkAllocatorInit {
  /** The store to allocate in. */
  readonly store: MemoryStore
  /** Time for task status timestamps. */
  readonly clock: Clock
  /** Randomness for the ids of networks it creates (the ingress network). */
  readonly random: Random
  /** Where it reports; silent by default. */
  readonly logger?: Logger
  /** Create the `ingress` network at start when none exists (cluster bootstrap). */
  readonly bootstrapIngress?: boolean
}

/** A running allocator. */
export interface NetworkAllocatorHandle {
  /** Stops and resolves once nothing of it runs (a write in progress completes or fails first). Idempotent. */
  stop(): Promise<void>
}

/** What the allocator holds: equal for two allocators that hold the same allocations. */
export interface AllocatorSnapshot {
  readonly ipam: IpamSnapshot
  readonly ports: PortSnapshot
}

/**
 * The network allocator: leader-only, like the orchestrator — `start()` when the node becomes
 * leader, `stop()` when it stops being one. Each start rebuilds its whole state from the store
 * (every network's subnets, every live task's and service's addresses, VIPs and ports), so a new
 * leader allocates nothing twice, then allocates what is missing:
 * 1. networks without `ipam` (written directly, or the ingress network) get it;
 * 2. services get their endpoint: one VIP per attached network in VIP mode (the ingress network
 *    first when it publishes through the mesh), none in DNSRR mode, published ports filled in;
 *    a service that breaks a rule (unknown network, port in use…) is not allocated;
 * 3. NEW tasks of allocated services get their attachments and the service's endpoint and move
 *    to PENDING; a task of a service that cannot be allocated stays NEW with `status.err`
 *    saying why, and is tried again whenever anything changes.
 * Addresses of deleted and dead tasks, and everything of deleted services, are released.
 */
export class NetworkAllocator {
  readonly #init: NetworkAllocatorInit
  readonly #logger: Logger
  #term: AllocatorTerm | undefined
  #running = false

  constructor(init: NetworkAllocatorInit) {
    this.#init = init
    this.#logger = init.logger ?? silentLogger
  }

  /** Starts a leader term (`FailedPreconditionError` if running). After `stop()` it may start again. */
  start(): NetworkAllocatorHandle {
    if (this.#running) throw new FailedPreconditionError('the network allocator is already running')
    const term = new AllocatorTerm(this.#init, this.#logger)
    this.#running = true
    this.#term = term
    try {
      term.start()
    } catch (err) {
      this.#running = false
      throw err
    }
    let stopping: Promise<void> | undefined
    return {
      stop: () =>
        (stopping ??= (async () => {
          await term.stop()
          this.#running = false
        })()),
    }
  }

  /** What the current (or last) term holds; undefined before the first start. */
  snapshot(): AllocatorSnapshot | undefined {
    return this.#term?.snapshot()
  }
}
