/**
 * Where a routing mesh gets its table from: the {@link EndpointSource} seam, and a source set by
 * hand for embedders and tests.
 *
 * @module
 */
import { EMPTY_ROUTING_TABLE, routingTablesEqual, validateRoutingTable } from './endpoints.ts'
import type { RoutingTable } from './endpoints.ts'

/** Called with the new table each time it changes. */
export type RoutingTableListener = (table: RoutingTable) => void

/**
 * A live routing table. The store-fed {@link StoreEndpointSource} is the first implementation;
 * a source fed by the dispatcher's assignments on a worker implements the same contract.
 *
 * Contract for implementations:
 * 1. `current()` returns the latest table, synchronously, and never throws.
 * 2. `subscribe(listener)` calls `listener` with every later table that differs from the
 *    previous one (per `routingTablesEqual`), in order, synchronously or soon after the change —
 *    never with the table current at subscription time (read `current()` for that).
 * 3. The returned function unsubscribes; after it returns the listener is not called again.
 * 4. A listener that throws does not stop the others or the source.
 */
export interface EndpointSource {
  /** The latest routing table. */
  current(): RoutingTable
  /** Calls `listener` on every later change; returns the unsubscribe function. */
  subscribe(listener: RoutingTableListener): () => void
}

/**
 * Listener bookkeeping shared by the sources: keeps the current table and notifies on change.
 * Not exported from the package.
 */
export class TableBroadcaster {
  #table: RoutingTable = EMPTY_ROUTING_TABLE
  readonly #listeners = new Set<RoutingTableListener>()
  readonly #onError: (err: unknown) => void

  /** @param onError - told about a listener that threw. */
  constructor(onError: (err: unknown) => void) {
    this.#onError = onError
  }

  /** The latest table. */
  current(): RoutingTable {
    return this.#table
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: RoutingTableListener): () => void {
    // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
    const wrapped: RoutingTableListener = (t) => listener(t)
    this.#listeners.add(wrapped)
    return () => void this.#listeners.delete(wrapped)
  }

  /** Replaces the table; notifies the listeners when it differs. Returns whether it did. */
  publish(table: RoutingTable): boolean {
    if (routingTablesEqual(table, this.#table)) return false
    this.#table = table
    for (const l of [...this.#listeners]) {
      if (!this.#listeners.has(l)) continue
      try {
        l(table)
      } catch (err) {
        this.#onError(err)
      }
    }
    return true
  }
}

/** A routing table set by hand (embedders with their own discovery, tests). */
export class StaticEndpointSource implements EndpointSource {
  readonly #b = new TableBroadcaster(() => undefined)

  /**
   * @param table - the initial table (default empty).
   * @throws InvalidArgumentError naming the bad field (see `validateRoutingTable`).
   */
  constructor(table: RoutingTable = EMPTY_ROUTING_TABLE) {
    this.#b.publish(validateRoutingTable(table))
  }

  /** The table last set. */
  current(): RoutingTable {
    return this.#b.current()
  }

  /** Calls `listener` on every later {@link set} that changes the table. A throwing listener is ignored. */
  subscribe(listener: RoutingTableListener): () => void {
    return this.#b.subscribe(listener)
  }

  /**
   * Replaces the table (ordered by port and protocol); listeners are called synchronously when it
   * differs from the current one.
   *
   * @throws InvalidArgumentError naming the bad field (see `validateRoutingTable`); the table is then unchanged.
   */
  set(table: RoutingTable): void {
    this.#b.publish(validateRoutingTable(table))
  }
}
