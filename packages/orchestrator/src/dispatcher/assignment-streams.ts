/**
 * The assignments streams of one term. The term's store loop keeps every assigned task
 * indexed by node ({@link AssignmentHub.apply}); a stream opened for a node starts from that
 * index (a `complete` message), then receives the node's task changes as `incremental`
 * messages chained by sequence numbers, batched: sent once {@link ASSIGNMENT_BATCH_LIMIT}
 * modifications are pending, or `assignmentBatchMs` (default `ASSIGNMENT_BATCH_WAIT_MS`)
 * after the latest one.
 *
 * @module
 */
import type { AssignmentsMessage, Task, Timer } from '@swarmkit-ts/api'
import type { Frozen, ReadTx } from '@swarmkit-ts/store'
import { AssignmentSet } from './assignment-set.ts'
import type { DependencyLookup } from './assignment-set.ts'
import { Channel } from './channel.ts'
import { ASSIGNMENT_BATCH_LIMIT } from './config.ts'
import type { DispatcherContext } from './context.ts'

/** One open assignments stream. */
export class AssignmentStream {
  readonly nodeId: string
  readonly sessionId: string
  readonly channel = new Channel<AssignmentsMessage>()
  readonly set = new AssignmentSet()
  readonly #ctx: DispatcherContext
  #sequence = 0
  #pending = 0
  #lastChangeAt = 0
  #timer: Timer | undefined

  constructor(ctx: DispatcherContext, nodeId: string, sessionId: string) {
    this.#ctx = ctx
    this.nodeId = nodeId
    this.sessionId = sessionId
  }

  /** Sends the first message: the whole set. */
  sendComplete(): void {
    this.#send('complete')
  }

  /** Counts one modification of the set: sends at the batch limit, else (re)starts the idle wait. */
  modified(): void {
    this.#pending++
    this.#lastChangeAt = this.#ctx.clock.now()
    if (this.#pending >= ASSIGNMENT_BATCH_LIMIT) {
      this.#flush()
      return
    }
    // One timer per batch: when it fires early (a later change moved the idle deadline), it re-arms.
    this.#timer ??= this.#ctx.clock.setTimeout(() => this.#onTimer(), this.#ctx.config.assignmentBatchMs)
  }

  /** Ends the stream (`error` for the reader, or a normal end). Pending changes are dropped. */
  close(error?: Error): void {
    this.#timer?.cancel()
    this.#timer = undefined
    if (error === undefined) this.channel.end()
    else this.channel.fail(error)
  }

  #onTimer(): void {
    this.#timer = undefined
    const wait = this.#lastChangeAt + this.#ctx.config.assignmentBatchMs - this.#ctx.clock.now()
    if (wait > 0) this.#timer = this.#ctx.clock.setTimeout(() => this.#onTimer(), wait)
    else this.#flush()
  }

  #flush(): void {
    this.#timer?.cancel()
    this.#timer = undefined
    if (this.#pending === 0) return
    this.#pending = 0
    this.#send('incremental')
  }

  #send(type: AssignmentsMessage['type']): void {
    const appliesTo = type === 'complete' ? '' : String(this.#sequence)
    this.#sequence++
    this.channel.push({ type, appliesTo, resultsIn: String(this.#sequence), changes: this.set.takeChanges() })
  }
}

/** The assigned tasks per node and the open streams. */
export class AssignmentHub {
  readonly #ctx: DispatcherContext
  readonly #byNode = new Map<string, Map<string, Frozen<Task>>>()
  readonly #streams = new Map<string, Set<AssignmentStream>>()
  readonly #lookup: DependencyLookup

  constructor(ctx: DispatcherContext) {
    this.#ctx = ctx
    this.#lookup = {
      secret: (id) => ctx.store.view((tx) => tx.secrets.get(id)),
      config: (id) => ctx.store.view((tx) => tx.configs.get(id)),
    }
  }

  /** Open streams. */
  get streamCount(): number {
    let n = 0
    for (const s of this.#streams.values()) n += s.size
    return n
  }

  /** Rebuilds the index from a view; open streams are brought in line with it. */
  resync(tx: ReadTx): void {
    this.#byNode.clear()
    for (const t of tx.tasks.find()) if (t.nodeId !== '') this.#index(t)
    for (const [nodeId, streams] of this.#streams) {
      const tasks = this.#byNode.get(nodeId) ?? new Map<string, Frozen<Task>>()
      for (const s of streams) {
        let changed = 0
        for (const id of s.set.taskIds()) {
          if (!tasks.has(id) && s.set.removeTaskId(id)) changed++
        }
        for (const t of tasks.values()) if (s.set.addOrUpdateTask(t, this.#lookup)) changed++
        for (let i = 0; i < changed; i++) s.modified()
      }
    }
  }

  /** A task was created, updated or deleted (in commit order). */
  apply(action: 'create' | 'update' | 'delete', task: Frozen<Task>, old: Frozen<Task> | undefined): void {
    if (old !== undefined && old.nodeId !== '' && old.nodeId !== task.nodeId) {
      this.#unindex(old)
      for (const s of this.#streams.get(old.nodeId) ?? []) if (s.set.removeTask(old)) s.modified()
    }
    if (task.nodeId === '') return
    if (action === 'delete') {
      this.#unindex(task)
      for (const s of this.#streams.get(task.nodeId) ?? []) if (s.set.removeTask(task)) s.modified()
      return
    }
    this.#index(task)
    for (const s of this.#streams.get(task.nodeId) ?? []) if (s.set.addOrUpdateTask(task, this.#lookup)) s.modified()
  }

  /** Opens a stream for session `sessionId` of `nodeId`, its `complete` message queued. */
  open(nodeId: string, sessionId: string): AssignmentStream {
    const s = new AssignmentStream(this.#ctx, nodeId, sessionId)
    for (const t of this.#byNode.get(nodeId)?.values() ?? []) s.set.addOrUpdateTask(t, this.#lookup)
    s.sendComplete()
    let set = this.#streams.get(nodeId)
    if (set === undefined) this.#streams.set(nodeId, (set = new Set<AssignmentStream>()))
    set.add(s)
    return s
  }

  /** The reader of `s` is gone. */
  detach(s: AssignmentStream): void {
    s.close()
    const set = this.#streams.get(s.nodeId)
    set?.delete(s)
    if (set?.size === 0) this.#streams.delete(s.nodeId)
  }

  /** Session `sessionId` of `nodeId` ended: its streams fail with `error`. */
  endSession(nodeId: string, sessionId: string, error: Error): void {
    for (const s of [...(this.#streams.get(nodeId) ?? [])]) {
      if (s.sessionId !== sessionId) continue
      s.close(error)
      this.detach(s)
    }
  }

  /** Ends the term: every stream fails with `error`. */
  stop(error: Error): void {
    for (const set of this.#streams.values()) for (const s of set) s.close(error)
    this.#streams.clear()
  }

  #index(t: Frozen<Task>): void {
    let m = this.#byNode.get(t.nodeId)
    if (m === undefined) this.#byNode.set(t.nodeId, (m = new Map<string, Frozen<Task>>()))
    m.set(t.id, t)
  }

  #unindex(t: Frozen<Task>): void {
    const m = this.#byNode.get(t.nodeId)
    m?.delete(t.id)
    if (m?.size === 0) this.#byNode.delete(t.nodeId)
  }
}
