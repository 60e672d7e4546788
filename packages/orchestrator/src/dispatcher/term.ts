/**
 * One leader term of the dispatcher: its sessions, assignments streams and status queue, and
 * the store loop that feeds them (tasks to the assignments, node objects and the cluster's
 * keys to the session streams). Created by `Dispatcher.start()`, ended by its handle's `stop()`.
 *
 * @module
 */
import type { Cluster, ObjectKind } from '@swarmkit-ts/api'
import { NotLeaderError } from '@swarmkit-ts/api'
import { StoreLoop } from '@swarmkit-ts/store'
import type { Frozen, ObjectEvent, ReadTx } from '@swarmkit-ts/store'
import { specEqual } from '../common/equality.ts'
import { pickCluster } from '../common/writes.ts'
import { AssignmentHub } from './assignment-streams.ts'
import type { DispatcherContext } from './context.ts'
import { SessionRegistry } from './sessions.ts'
import { StatusQueue } from './status-queue.ts'

type Kinds = Extract<ObjectKind, 'task' | 'node' | 'cluster'>

/** A running dispatcher (see the module doc). */
export class DispatcherTerm {
  readonly sessions: SessionRegistry
  readonly hub: AssignmentHub
  readonly status: StatusQueue
  readonly #ctx: DispatcherContext
  readonly #loop: StoreLoop<Kinds>
  readonly #writes = new Set<Promise<unknown>>()
  #events: ObjectEvent<Kinds>[] = []
  #cluster: Frozen<Cluster> | undefined
  #stopping: Promise<void> | undefined

  constructor(ctx: Omit<DispatcherContext, 'track'>) {
    const full: DispatcherContext = { ...ctx, track: (what, write) => this.#track(what, write) }
    this.#ctx = full
    this.hub = new AssignmentHub(full)
    this.status = new StatusQueue(full)
    this.sessions = new SessionRegistry(full, {
      sessionEnded: (nodeId, sessionId, error) => this.hub.endSession(nodeId, sessionId, error),
      cluster: () => this.#cluster,
    })
    this.#loop = new StoreLoop<Kinds>(full, 'dispatcher', ['task', 'node', 'cluster'], {
      resync: (tx) => this.#resync(tx),
      event: (ev) => void this.#events.push(ev),
      tick: () => this.#tick(),
    })
  }

  /** Whether `stop()` was called. */
  get stopped(): boolean {
    return this.#stopping !== undefined
  }

  /** Loads the store's tasks and cluster, marks the nodes UNKNOWN and starts following changes. */
  start(): void {
    this.#loop.start()
    this.sessions.start(this.#ctx.store.view((tx) => tx.nodes.find()))
  }

  /**
   * Ends the term: the loop stops, queued status updates are written, every stream fails
   * with `NotLeaderError`, and it resolves once no write is in flight. Idempotent.
   */
  stop(): Promise<void> {
    return (this.#stopping ??= (async () => {
      await this.#loop.stop()
      this.status.stop()
      const error = new NotLeaderError({ message: 'the dispatcher stopped: not the leader' })
      this.sessions.stop(error)
      this.hub.stop(error)
      while (this.#writes.size > 0) await Promise.allSettled([...this.#writes])
    })())
  }

  #track(what: string, write: Promise<unknown>): void {
    this.#writes.add(write)
    write.then(
      () => this.#writes.delete(write),
      (err: unknown) => {
        this.#writes.delete(write)
        this.#ctx.logger.error(`dispatcher: ${what} failed`, { error: String(err) })
      },
    )
  }

  #resync(tx: ReadTx): void {
    this.#events = []
    this.#cluster = pickCluster(tx.clusters.find())
    this.hub.resync(tx)
  }

  #tick(): void {
    const events = this.#events
    this.#events = []
    let clusterTouched = false
    for (const ev of events) {
      switch (ev.kind) {
        case 'task':
          this.hub.apply(ev.action, ev.object, ev.action === 'update' ? ev.oldObject : undefined)
          break
        case 'node':
          if (ev.action === 'delete') this.sessions.nodeDeleted(ev.object.id)
          else this.sessions.nodeChanged(ev.object)
          break
        case 'cluster':
          clusterTouched = true
          break
      }
    }
    if (clusterTouched) {
      const before = this.#cluster
      this.#cluster = this.#ctx.store.view((tx) => pickCluster(tx.clusters.find()))
      if (!specEqual(sessionPart(before), sessionPart(this.#cluster))) this.sessions.broadcast()
    }
  }
}

/** What of the cluster a session message carries. */
function sessionPart(c: Frozen<Cluster> | undefined): unknown {
  return c === undefined ? undefined : { keys: c.networkBootstrapKeys ?? [], rootCa: c.rootCa.caCert }
}
