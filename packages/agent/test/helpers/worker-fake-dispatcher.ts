/**
 * A scripted `DispatcherApi` for the worker's tests: the test pushes session messages and
 * assignments, reads the status updates and heartbeats it received, and injects errors into the
 * next calls. Streams end (without an error) when their signal aborts, as the contract says.
 */
import { FailedPreconditionError, TaskState } from '@swarmkit-ts/api'
import type {
  AssignmentChange,
  AssignmentsMessage,
  Config,
  DispatcherApi,
  DispatcherStreamOptions,
  HeartbeatRequest,
  HeartbeatResponse,
  Node,
  Secret,
  SessionMessage,
  SessionRequest,
  Task,
  TaskStatusUpdate,
  UpdateTaskStatusRequest,
  WeightedManager,
} from '@swarmkit-ts/api'

/** An async queue: `push` values, `end` it (optionally with an error); iteration stops when the signal aborts. */
export class Channel<T> implements AsyncIterable<T> {
  readonly #items: T[] = []
  #ended = false
  #error: Error | undefined
  #wake: (() => void) | undefined
  readonly #signal: AbortSignal | undefined

  constructor(signal?: AbortSignal) {
    this.#signal = signal
    signal?.addEventListener('abort', () => this.#wake?.(), { once: true })
  }

  push(item: T): void {
    this.#items.push(item)
    this.#wake?.()
  }

  end(error?: Error): void {
    this.#ended = true
    this.#error = error
    this.#wake?.()
  }

  get ended(): boolean {
    return this.#ended || this.#signal?.aborted === true
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.#signal?.aborted === true) return
      const item = this.#items.shift()
      if (item !== undefined) {
        yield item
        continue
      }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error
        return
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
      this.#wake = undefined
    }
  }
}

/** The minimal valid node object the fake sends in session messages. */
export function fakeNode(id: string): Node {
  return {
    id,
    meta: { version: { index: 1n }, createdAt: 0, updatedAt: 0 },
    spec: { annotations: { name: id }, desiredRole: 'worker', membership: 'accepted', availability: 'active' },
    status: { state: 'ready' },
    role: 'worker',
  }
}

/** One manager's fake dispatcher. */
export class FakeDispatcher implements DispatcherApi {
  readonly nodeId: string
  /** The manager list sent in session messages. */
  managers: WeightedManager[] = []
  /** The cluster's root CA sent in session messages (empty: none). */
  rootCa: Uint8Array = new Uint8Array()
  /** The heartbeat period answered. */
  periodMs = 5000
  /** Every session request received. */
  readonly sessionRequests: SessionRequest[] = []
  /** Every status update received and acknowledged, in order. */
  readonly updates: TaskStatusUpdate[] = []
  /** When true, acknowledged statuses are not applied to the tasks (lost, as by a leader change). */
  loseStatuses = false
  /** When true, heartbeats never answer (a partitioned manager). */
  hangHeartbeats = false
  /** Number of heartbeats answered. */
  heartbeats = 0
  /** Errors thrown by the next calls, per method (taken first in, first out). */
  readonly errors: { session: Error[]; heartbeat: Error[]; assignments: Error[]; updateTaskStatus: Error[] } = {
    session: [],
    heartbeat: [],
    assignments: [],
    updateTaskStatus: [],
  }
  /** The open session stream, if any. */
  session$: Channel<SessionMessage> | undefined
  /** The open assignments stream, if any. */
  assignments$: Channel<AssignmentsMessage> | undefined
  /** Number of assignments streams opened. */
  assignmentStreams = 0
  #sessions = 0
  #sessionId: string | undefined
  #seq = 0
  readonly #tasks = new Map<string, Task>()
  readonly #secrets = new Map<string, Secret>()
  readonly #configs = new Map<string, Config>()

  constructor(nodeId = 'node1') {
    this.nodeId = nodeId
  }

  /** The current session id. */
  get sessionId(): string | undefined {
    return this.#sessionId
  }

  /** Ends the session: open streams end, later calls with the old id get `session-invalid`. */
  endSession(error?: Error): void {
    this.#sessionId = undefined
    this.session$?.end(error)
    this.assignments$?.end(error)
  }

  session(request: SessionRequest, options?: DispatcherStreamOptions): AsyncIterable<SessionMessage> {
    this.sessionRequests.push(request)
    const error = this.errors.session.shift()
    const channel = new Channel<SessionMessage>(options?.signal)
    if (error !== undefined) channel.end(error)
    else {
      this.#sessionId = `s${++this.#sessions}`
      this.session$ = channel
      channel.push(this.#sessionMessage())
    }
    return channel
  }

  /** Sends a new session message (e.g. a changed manager list). */
  pushSession(): void {
    this.session$?.push(this.#sessionMessage())
  }

  heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse> {
    const error = this.errors.heartbeat.shift()
    if (error !== undefined) return Promise.reject(error)
    if (this.hangHeartbeats) return new Promise<HeartbeatResponse>(() => undefined)
    this.#check(request.sessionId)
    this.heartbeats++
    return Promise.resolve({ periodMs: this.periodMs })
  }

  assignments(request: { readonly sessionId: string }, options?: DispatcherStreamOptions): AsyncIterable<AssignmentsMessage> {
    const channel = new Channel<AssignmentsMessage>(options?.signal)
    const error = this.errors.assignments.shift()
    if (error !== undefined) {
      channel.end(error)
      return channel
    }
    if (request.sessionId !== this.#sessionId) {
      channel.end(sessionInvalid())
      return channel
    }
    this.assignmentStreams++
    this.assignments$ = channel
    channel.push({ type: 'complete', appliesTo: '', resultsIn: String(++this.#seq), changes: this.#complete() })
    return channel
  }

  updateTaskStatus(request: UpdateTaskStatusRequest): Promise<void> {
    const error = this.errors.updateTaskStatus.shift()
    if (error !== undefined) return Promise.reject(error)
    if (request.sessionId !== this.#sessionId) return Promise.reject(sessionInvalid())
    this.updates.push(...request.updates)
    if (!this.loseStatuses) {
      for (const { taskId, status } of request.updates) {
        const t = this.#tasks.get(taskId)
        if (t !== undefined && status.state >= t.status.state) this.#tasks.set(taskId, { ...t, status })
      }
    }
    return Promise.resolve()
  }

  /** Assigns (or updates) objects: an incremental message on the open stream. */
  assign(...objects: ({ task: Task } | { secret: Secret } | { config: Config })[]): void {
    this.#change(objects.map((assignment) => ({ action: 'update', assignment })))
  }

  /** Removes objects: an incremental message on the open stream. */
  unassign(...objects: ({ task: Task } | { secret: Secret } | { config: Config })[]): void {
    this.#change(objects.map((assignment) => ({ action: 'remove', assignment })))
  }

  /** Sends an incremental message whose `appliesTo` does not chain (a lost message). */
  pushGap(): void {
    this.#seq += 2
    this.assignments$?.push({ type: 'incremental', appliesTo: String(this.#seq - 1), resultsIn: String(this.#seq), changes: [] })
  }

  /** The last status received for `taskId`. */
  lastStatus(taskId: string): TaskState | undefined {
    for (let i = this.updates.length - 1; i >= 0; i--) {
      const u = this.updates[i]
      if (u?.taskId === taskId) return u.status.state
    }
    return undefined
  }

  /** The states received for `taskId`, in order. */
  states(taskId: string): TaskState[] {
    return this.updates.filter((u) => u.taskId === taskId).map((u) => u.status.state)
  }

  #change(changes: AssignmentChange[]): void {
    const sent: AssignmentChange[] = []
    for (const { action, assignment } of changes) {
      if ('task' in assignment) {
        const known = this.#tasks.get(assignment.task.id)
        // The managers own everything but the status, which they keep as last reported.
        const task = known === undefined ? assignment.task : { ...assignment.task, status: known.status }
        if (action === 'update') this.#tasks.set(task.id, task)
        else this.#tasks.delete(task.id)
        sent.push({ action, assignment: { task } })
        continue
      }
      if ('secret' in assignment) {
        if (action === 'update') this.#secrets.set(assignment.secret.id, assignment.secret)
        else this.#secrets.delete(assignment.secret.id)
      } else if (action === 'update') this.#configs.set(assignment.config.id, assignment.config)
      else this.#configs.delete(assignment.config.id)
      sent.push({ action, assignment })
    }
    if (this.assignments$ === undefined || this.assignments$.ended) return
    const appliesTo = String(this.#seq)
    this.assignments$.push({ type: 'incremental', appliesTo, resultsIn: String(++this.#seq), changes: sent })
  }

  #complete(): AssignmentChange[] {
    return [
      ...[...this.#secrets.values()].map((secret): AssignmentChange => ({ action: 'update', assignment: { secret } })),
      ...[...this.#configs.values()].map((config): AssignmentChange => ({ action: 'update', assignment: { config } })),
      ...[...this.#tasks.values()].map((task): AssignmentChange => ({ action: 'update', assignment: { task } })),
    ]
  }

  #sessionMessage(): SessionMessage {
    return { sessionId: this.#sessionId ?? '', node: fakeNode(this.nodeId), managers: this.managers, networkBootstrapKeys: [], rootCa: this.rootCa }
  }

  #check(sessionId: string): void {
    if (sessionId !== this.#sessionId) throw sessionInvalid()
  }
}


/** The error a dispatcher reports for an unknown or ended session. */
export function sessionInvalid(): FailedPreconditionError {
  return new FailedPreconditionError('session invalid', { reason: 'session-invalid' })
}

/** Whether every state in `states` is at least the one before it. */
export function nonDecreasing(states: readonly TaskState[]): boolean {
  return states.every((s, i) => i === 0 || s >= (states[i - 1] ?? TaskState.NEW))
}
