/**
 * {@link DashboardFeed}: the live picture of one source, kept from one store watch and fanned out
 * to every connected page as SSE messages — a snapshot first, then one delta per burst of
 * commits (everything applied in the same turn of the event loop goes out as one message).
 *
 * Resuming: the feed keeps its last {@link REPLAY_FRAMES} deltas; a page reconnecting with a
 * `Last-Event-ID` they cover gets just the deltas it missed, any other page a fresh snapshot.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { Service, Task } from '@swarmkit-ts/api'
import type { Frozen, MemoryStore, Watch, WatchEvent } from '@swarmkit-ts/store'
import { taskShown, toNodeView, toServiceView, toTaskView } from './convert.ts'
import { NO_RAFT, type DashboardSource } from './source.ts'
import { SSE_KEEPALIVE, eventId, sseFrame, type StreamPosition } from './sse.ts'
import { DashboardEvent } from './view-model.ts'
import type { DeltaMessage, NodeView, RaftView, ServiceView, SnapshotMessage, TaskView } from './view-model.ts'

/** Deltas kept for pages that reconnect. */
export const REPLAY_FRAMES = 512
/** A page whose connection holds more unsent bytes than this is dropped (it reconnects and gets a snapshot). */
export const MAX_CLIENT_BUFFER_BYTES = 32 * 1024 * 1024
/** How often the feed re-reads the Raft view and checks whether the source's store changed. */
export const DEFAULT_SAMPLE_INTERVAL_MS = 1000
/** How often an idle stream gets a keep-alive comment. */
const KEEPALIVE_MS = 15_000

/** One connected page. */
export interface FeedClient {
  /** Writes SSE text; returns the bytes still buffered on the connection. */
  write(text: string): number
  /** Ends the connection. */
  close(): void
}

interface Frame {
  /** The version the page had before this delta. */
  readonly from: bigint
  /** The version it has after. */
  readonly to: bigint
  readonly text: string
}

interface Pending {
  nodes: Map<string, NodeView | null>
  tasks: Map<string, TaskView | null>
  services: Set<string>
}

const emptyPending = (): Pending => ({ nodes: new Map(), tasks: new Map(), services: new Set() })

/** The picture of one source, its watch, and the pages that follow it. */
export class DashboardFeed {
  readonly #source: DashboardSource
  readonly #actions: boolean
  readonly #sampleMs: number
  readonly #clients = new Set<FeedClient>()
  readonly #nodes = new Map<string, NodeView>()
  readonly #tasks = new Map<string, TaskView>()
  readonly #services = new Map<string, ServiceView>()
  readonly #frames: Frame[] = []
  readonly #instance = randomBytes(4).toString('hex')
  #attachments = 0
  #epoch = ''
  #store: MemoryStore | undefined
  #watch: Watch | undefined
  #version = 0n
  #flushed = 0n
  #replayFrom = 0n
  #raft: RaftView = NO_RAFT
  #raftJson = ''
  #pending: Pending = emptyPending()
  #flushScheduled = false
  #sampleTimer: NodeJS.Timeout | undefined
  #keepAliveTimer: NodeJS.Timeout | undefined
  #unsubscribe: (() => void) | undefined
  #closed = false

  constructor(source: DashboardSource, options: { readonly actions: boolean; readonly sampleIntervalMs?: number }) {
    this.#source = source
    this.#actions = options.actions
    this.#sampleMs = options.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS
  }

  /** Attaches to the source's store and starts sampling the Raft view. */
  start(): void {
    this.#attach()
    this.#sampleTimer = setInterval(() => this.#sample(), this.#sampleMs)
    this.#keepAliveTimer = setInterval(() => this.#broadcast(SSE_KEEPALIVE), KEEPALIVE_MS)
    this.#unsubscribe = this.#source.onLeaderChange(() => setImmediate(() => this.#sample()))
  }

  /** The current epoch (changes when the feed re-attaches to a store). */
  get epoch(): string {
    return this.#epoch
  }

  /** Number of connected pages. */
  get clientCount(): number {
    return this.#clients.size
  }

  /** The whole picture now (after sending what is pending). */
  snapshot(): SnapshotMessage {
    this.#flush()
    return {
      now: this.#source.now(),
      actions: this.#actions,
      nodes: [...this.#nodes.values()],
      tasks: [...this.#tasks.values()],
      services: [...this.#services.values()],
      raft: this.#raft,
    }
  }

  /** Adds a page: the deltas since `from` when the feed still has them, else a snapshot. */
  subscribe(client: FeedClient, from?: StreamPosition): void {
    if (this.#closed) {
      client.close()
      return
    }
    this.#flush()
    this.#clients.add(client)
    if (from !== undefined && from.epoch === this.#epoch && from.version >= this.#replayFrom && from.version <= this.#flushed) {
      for (const f of this.#frames) if (f.to > from.version) this.#send(client, f.text)
      return
    }
    this.#send(client, sseFrame(DashboardEvent.SNAPSHOT, this.snapshot(), eventId(this.#epoch, this.#flushed)))
  }

  /** Removes a page (its connection closed). */
  unsubscribe(client: FeedClient): void {
    this.#clients.delete(client)
  }

  /** Stops the watch and the timers and ends every page's stream. */
  close(): void {
    this.#closed = true
    clearInterval(this.#sampleTimer)
    clearInterval(this.#keepAliveTimer)
    this.#unsubscribe?.()
    this.#watch?.close()
    for (const c of this.#clients) c.close()
    this.#clients.clear()
  }

  #attach(): void {
    this.#watch?.close()
    const store = this.#source.store()
    this.#store = store
    this.#attachments++
    this.#epoch = `${this.#instance}${this.#attachments.toString(36)}`
    const { result, watch } = store.viewAndWatch(
      (tx) => ({ nodes: tx.nodes.find(), tasks: tx.tasks.find(), services: tx.services.find(), version: store.version }),
      { kinds: ['node', 'task', 'service'] },
      { queueLimit: 1_000_000 },
    )
    this.#watch = watch
    this.#nodes.clear()
    this.#tasks.clear()
    this.#services.clear()
    this.#frames.length = 0
    this.#pending = emptyPending()
    const nodesById = new Map(result.nodes.map((n) => [n.id, n]))
    const byService = new Map<string, Frozen<Task>[]>()
    for (const n of result.nodes) this.#nodes.set(n.id, toNodeView(n))
    for (const t of result.tasks) {
      if (taskShown(t)) this.#tasks.set(t.id, toTaskView(t))
      const list = byService.get(t.serviceId)
      if (list === undefined) byService.set(t.serviceId, [t])
      else list.push(t)
    }
    for (const s of result.services) this.#services.set(s.id, toServiceView(s, byService.get(s.id) ?? [], (id) => nodesById.get(id), () => result.nodes))
    this.#version = result.version
    this.#flushed = result.version
    this.#replayFrom = result.version
    this.#raft = this.#readRaft()
    this.#raftJson = JSON.stringify(this.#raft)
    void this.#pump(watch)
  }

  async #pump(watch: Watch): Promise<void> {
    try {
      for await (const ev of watch) this.#onEvent(ev)
    } catch {
      // Overflowed (a burst larger than the queue): start again from a fresh view.
      if (!this.#closed && this.#watch === watch) this.#reattach()
    }
  }

  #reattach(): void {
    this.#attach()
    if (this.#clients.size === 0) return
    const text = sseFrame(DashboardEvent.SNAPSHOT, this.snapshot(), eventId(this.#epoch, this.#flushed))
    for (const c of this.#clients) this.#send(c, text)
  }

  #onEvent(ev: WatchEvent): void {
    const p = this.#pending
    switch (ev.action) {
      case 'commit':
        this.#version = ev.version.index
        this.#scheduleFlush()
        return
      case 'create':
      case 'update':
        if (ev.kind === 'node') p.nodes.set(ev.object.id, toNodeView(ev.object))
        else if (ev.kind === 'task') {
          const t = ev.object
          if (taskShown(t)) p.tasks.set(t.id, toTaskView(t))
          else if (this.#tasks.has(t.id) || p.tasks.has(t.id)) p.tasks.set(t.id, null)
          p.services.add(t.serviceId)
        } else if (ev.kind === 'service') p.services.add(ev.object.id)
        return
      case 'delete':
        if (ev.kind === 'node') p.nodes.set(ev.object.id, null)
        else if (ev.kind === 'task') {
          p.tasks.set(ev.object.id, null)
          p.services.add(ev.object.serviceId)
        } else if (ev.kind === 'service') p.services.add(ev.object.id)
        return
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    setImmediate(() => {
      this.#flushScheduled = false
      this.#flush()
    })
  }

  /** Applies what is pending to the picture and sends it as one delta (nothing when nothing changed). */
  #flush(): void {
    if (this.#closed) return
    const p = this.#pending
    this.#pending = emptyPending()
    const delta: { -readonly [K in keyof DeltaMessage]: DeltaMessage[K] } = { now: this.#source.now() }
    const nodes: NodeView[] = []
    const removedNodes: string[] = []
    for (const [id, v] of p.nodes) {
      if (v === null) {
        if (this.#nodes.delete(id)) removedNodes.push(id)
      } else if (!sameJson(this.#nodes.get(id), v)) {
        this.#nodes.set(id, v)
        nodes.push(v)
      }
    }
    const tasks: TaskView[] = []
    const removedTasks: string[] = []
    for (const [id, v] of p.tasks) {
      if (v === null) {
        if (this.#tasks.delete(id)) removedTasks.push(id)
      } else {
        this.#tasks.set(id, v)
        tasks.push(v)
      }
    }
    const { services, removedServices } = this.#refreshServices(p.services)
    const raft = this.#readRaft()
    const raftJson = JSON.stringify(raft)
    if (raftJson !== this.#raftJson) {
      this.#raft = raft
      this.#raftJson = raftJson
      delta.raft = raft
    }
    if (nodes.length > 0) delta.nodes = nodes
    if (removedNodes.length > 0) delta.removedNodes = removedNodes
    if (tasks.length > 0) delta.tasks = tasks
    if (removedTasks.length > 0) delta.removedTasks = removedTasks
    if (services.length > 0) delta.services = services
    if (removedServices.length > 0) delta.removedServices = removedServices
    const from = this.#flushed
    const to = this.#version > from ? this.#version : from
    if (Object.keys(delta).length === 1) {
      // Nothing the page shows changed: the page's version still covers these commits.
      if (this.#frames.length === 0) this.#replayFrom = to
      this.#flushed = to
      return
    }
    this.#flushed = to
    const text = sseFrame(DashboardEvent.DELTA, delta, eventId(this.#epoch, to))
    this.#frames.push({ from, to, text })
    if (this.#frames.length > REPLAY_FRAMES) {
      this.#frames.shift()
      this.#replayFrom = this.#frames[0]?.from ?? to
    }
    this.#broadcast(text)
  }

  #refreshServices(ids: ReadonlySet<string>): { services: ServiceView[]; removedServices: string[] } {
    const services: ServiceView[] = []
    const removedServices: string[] = []
    if (ids.size === 0 || this.#store === undefined) return { services, removedServices }
    this.#store.view((tx) => {
      for (const id of ids) {
        const s: Frozen<Service> | undefined = tx.services.get(id)
        if (s === undefined) {
          if (this.#services.delete(id)) removedServices.push(id)
          continue
        }
        const v = toServiceView(s, tx.tasks.find({ serviceId: id }), (n) => tx.nodes.get(n), () => tx.nodes.find())
        if (sameJson(this.#services.get(id), v)) continue
        this.#services.set(id, v)
        services.push(v)
      }
    })
    return { services, removedServices }
  }

  #readRaft(): RaftView {
    try {
      return this.#source.raft()
    } catch {
      return NO_RAFT
    }
  }

  /** Re-reads the Raft view, and re-attaches when the source's store is another one now. */
  #sample(): void {
    if (this.#closed) return
    let store: MemoryStore | undefined
    try {
      store = this.#source.store()
    } catch {
      store = undefined
    }
    if (store !== undefined && store !== this.#store) {
      this.#reattach()
      return
    }
    const raftJson = JSON.stringify(this.#readRaft())
    if (raftJson !== this.#raftJson) this.#scheduleFlush()
  }

  #broadcast(text: string): void {
    for (const c of this.#clients) this.#send(c, text)
  }

  #send(client: FeedClient, text: string): void {
    if (client.write(text) > MAX_CLIENT_BUFFER_BYTES) {
      this.#clients.delete(client)
      client.close()
    }
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b)
}
