/**
 * The service resolver: the names Docker's embedded DNS answers in swarm mode, read from the
 * store and kept live by its watches.
 *
 * @module
 */
import { FailedPreconditionError, InvalidArgumentError, silentLogger } from '@swarmkit-ts/api'
import type { Logger } from '@swarmkit-ts/api'
import { StoreLoop } from '@swarmkit-ts/store'
import type { MemoryStore, ObjectEvent, ReadTx } from '@swarmkit-ts/store'
import { taskChangeMatters } from './resolver-names.ts'
import { NameTable } from './resolver-table.ts'
import { DNS_TASK_TTL_SECONDS, DNS_VIP_TTL_SECONDS } from './resolver-types.ts'
import type { DnsLookupResult, DnsQueryType, DnsScope, DnsTtls, NameLookup } from './resolver-types.ts'

type Kind = 'service' | 'task' | 'network'

/** Construction options of a {@link ServiceResolver}. */
export interface ServiceResolverInit {
  /** The store it reads services, tasks and networks from (a manager's, or a worker's replica). */
  readonly store: MemoryStore
  /** @default silentLogger */
  readonly logger?: Logger
  /** Seconds clients may cache answers. */
  readonly ttls?: DnsTtls
}

/**
 * Service discovery, as Docker's embedded DNS answers it in swarm mode, scoped by network:
 *
 * - `<service>` → its virtual IP on each network of the scope it is attached to (VIP mode), or
 *   the addresses of its running tasks there (DNSRR mode, rotated from one answer to the next);
 * - `tasks.<service>` → the addresses of its running tasks (state RUNNING, desired ≤ RUNNING);
 * - the service's network aliases (`spec.task.networks[].aliases`) like its name, on the
 *   network they are given for (`tasks.<alias>` too);
 * - `<name>.<network>`: any of these names on that network only;
 * - `<service>.<slot>.<task id>` (`<service>.<node id>.<task id>` for a global task): the task's
 *   addresses while it runs, as Docker resolves container names;
 * - `_<port name>._<protocol>.<service>` → one SRV record per named port of the service
 *   (target: the service name, port: the target port), its addresses as additional records.
 *
 * Names match in any case, with or without a trailing dot. A name that exists with no record of
 * the type asked is found with no answers (NODATA) — a service scaled to zero included; others
 * are not found (NXDOMAIN). Lookups are synchronous and see whole store transactions only.
 */
export class ServiceResolver implements NameLookup {
  readonly #store: MemoryStore
  readonly #logger: Logger
  readonly #table: NameTable
  readonly #loop: StoreLoop<Kind>
  readonly #listeners = new Set<() => void>()
  #pending: ObjectEvent<Kind>[] = []
  /** A resync replaced the tables since listeners were last told. */
  #changed = false
  #started = false

  constructor(init: ServiceResolverInit) {
    this.#store = init.store
    this.#logger = init.logger ?? silentLogger
    const vip = init.ttls?.vip ?? DNS_VIP_TTL_SECONDS
    const task = init.ttls?.task ?? DNS_TASK_TTL_SECONDS
    for (const [field, v] of [['ttls.vip', vip], ['ttls.task', task]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new InvalidArgumentError(field, 'must be an integer number of seconds from 0 to 2^31-1')
    }
    this.#table = new NameTable({ vip, task })
    this.#loop = new StoreLoop(
      { store: this.#store, logger: this.#logger },
      'service resolver',
      ['service', 'task', 'network'],
      { resync: (tx) => this.#resync(tx), event: (ev) => this.#pending.push(ev), tick: () => this.#apply() },
      { where: (ev) => ev.kind !== 'task' || ev.action !== 'update' || taskChangeMatters(ev.oldObject, ev.object) },
    )
  }

  /** Reads the store's services, tasks and networks and follows their changes until stopped. */
  start(): void {
    if (this.#started) throw new FailedPreconditionError('the service resolver was already started')
    this.#started = true
    this.#loop.start()
  }

  /** Stops following the store (lookups keep answering from the last state). */
  async stop(): Promise<void> {
    await this.#loop.stop()
  }

  /**
   * Calls `listener` after each store transaction that may have changed an answer (and after a
   * resync). Returns the function that removes it.
   */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Answers `name` for `type` from the networks of `scope`; see the class description for the names. */
  lookup(name: string, type: DnsQueryType, scope: DnsScope): DnsLookupResult {
    return this.#table.lookup(name, type, scope)
  }

  #resync(tx: ReadTx): void {
    this.#pending = []
    this.#table.clear()
    for (const n of tx.networks.find()) this.#table.putNetwork(n)
    for (const s of tx.services.find()) this.#table.putService(s)
    for (const t of tx.tasks.find()) this.#table.putTask(t)
    this.#changed = true
  }

  /** Applies one transaction's events at once, so a lookup never sees half of it. */
  #apply(): void {
    const events = this.#pending
    this.#pending = []
    for (const ev of events) {
      switch (ev.kind) {
        case 'network':
          if (ev.action === 'delete') this.#table.removeNetwork(ev.object.id)
          else this.#table.putNetwork(ev.object)
          break
        case 'service':
          if (ev.action === 'delete') this.#table.removeService(ev.object.id)
          else this.#table.putService(ev.object)
          break
        case 'task':
          if (ev.action === 'delete') this.#table.removeTask(ev.object.id)
          else this.#table.putTask(ev.object)
          break
      }
    }
    if (events.length === 0 && !this.#changed) return
    this.#changed = false
    for (const l of this.#listeners) {
      try {
        l()
      } catch (err) {
        this.#logger.warn('service resolver: a change listener threw', { error: String(err) })
      }
    }
  }
}
