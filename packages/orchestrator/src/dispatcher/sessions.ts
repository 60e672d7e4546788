/**
 * Node sessions of one dispatcher term: registration (with its rate limit), the session
 * streams, heartbeats and their expiry, the UNKNOWN grace after a leader change, DOWN and
 * DISCONNECTED, and the ORPHANED tasks of nodes DOWN for 24 h. Timers: one for the heartbeat
 * deadlines of every node, one for the down periods (see {@link DeadlineQueue}).
 *
 * @module
 */
import { FailedPreconditionError, NodeAvailability, generateId, NodeMembership, NodeRole, NodeState, TaskState, UnavailableError } from '@swarmkit-ts/api'
import type { Cluster, HeartbeatResponse, Node, SessionMessage, SessionRequest, Task, Timer } from '@swarmkit-ts/api'
import type { Draft, Frozen, Tx } from '@swarmkit-ts/store'
import { Channel } from './channel.ts'
import { GRACE_PERIOD_MULTIPLIER, NODE_DOWN_PERIOD_MS, NodeStatusMessage, UNKNOWN_GRACE_PERIOD_MULTIPLIER, WRITES_PER_TRANSACTION } from './config.ts'
import type { DispatcherContext } from './context.ts'
import { DeadlineQueue } from './deadline-queue.ts'
import { checkRegistration, chooseHeartbeatPeriod } from './heartbeat.ts'
import type { RegistrationRecord } from './heartbeat.ts'

/** A live session: its id and the stream its messages go to. */
export interface Session {
  readonly nodeId: string
  readonly sessionId: string
  readonly channel: Channel<SessionMessage>
  /** The version of the node object last sent; undefined until the registration is written and the first message queued. */
  lastNodeVersion: bigint | undefined
}

/** What sessions need from the rest of the term. */
export interface SessionHooks {
  /** Session `sessionId` of `nodeId` ended: its assignments streams end with `error`. */
  sessionEnded(nodeId: string, sessionId: string, error: Error): void
  /** The cluster object (keys and root CA), as the term last saw it. */
  cluster(): Frozen<Cluster> | undefined
}

/** The error of a call naming a session that is not (or no longer) live. */
export function sessionInvalid(nodeId: string): FailedPreconditionError {
  return new FailedPreconditionError(`session of node ${nodeId} is invalid: register again`, { reason: 'session-invalid' })
}

/** One term's sessions (see the module doc). */
export class SessionRegistry {
  readonly #ctx: DispatcherContext
  readonly #hooks: SessionHooks
  readonly #sessions = new Map<string, Session>()
  readonly #records = new Map<string, RegistrationRecord>()
  /** Nodes marked UNKNOWN at the start of the term that have not registered since. */
  readonly #unknown = new Set<string>()
  /** Nodes whose session stream ended (DISCONNECTED) that have not registered since. */
  readonly #disconnected = new Set<string>()
  /** Heartbeat deadlines: of live sessions, of UNKNOWN nodes and of DISCONNECTED nodes. */
  readonly #heartbeats = new DeadlineQueue()
  /** When each DOWN node's tasks become ORPHANED. */
  readonly #down = new DeadlineQueue()
  #heartbeatTimer: { timer: Timer; at: number } | undefined
  #downTimer: { timer: Timer; at: number } | undefined
  #stopped = false

  constructor(ctx: DispatcherContext, hooks: SessionHooks) {
    this.#ctx = ctx
    this.#hooks = hooks
  }

  /** Live sessions. */
  get size(): number {
    return this.#sessions.size
  }

  /**
   * A new leader term: every node not DOWN becomes UNKNOWN and has 6 periods to register;
   * every DOWN node's down period starts again (SwarmKit's `markNodesUnknown`).
   */
  start(nodes: readonly Frozen<Node>[]): void {
    const now = this.#ctx.clock.now()
    const unknown: string[] = []
    for (const n of nodes) {
      if (n.status.state === NodeState.DOWN) {
        this.#down.set(n.id, now + NODE_DOWN_PERIOD_MS)
        continue
      }
      unknown.push(n.id)
      this.#unknown.add(n.id)
      this.#heartbeats.set(n.id, now + this.#period() * UNKNOWN_GRACE_PERIOD_MULTIPLIER)
    }
    this.#armHeartbeats()
    this.#armDown()
    if (unknown.length > 0) this.#writeStatuses(unknown, NodeState.UNKNOWN, NodeStatusMessage.LEADERSHIP_CHANGE)
  }

  /**
   * Registers `nodeId` (or resumes its live session `request.sessionId`), writes the node
   * READY (creating it on its first registration) and queues the first session message.
   */
  async register(nodeId: string, request: SessionRequest, addr: string | undefined): Promise<Session> {
    const { clock, random, store } = this.#ctx
    const now = clock.now()
    const current = this.#sessions.get(nodeId)
    const resume = current !== undefined && request.sessionId !== undefined && request.sessionId === current.sessionId
    if (!resume) {
      const decision = checkRegistration(this.#records.get(nodeId), now)
      this.#records.set(nodeId, decision.record)
      if (!decision.allowed) throw new UnavailableError(`node ${nodeId} exceeded the rate limit of registrations; retry later`)
    }
    const sessionId = resume ? current.sessionId : generateId(random)
    const session: Session = { nodeId, sessionId, channel: new Channel(), lastNodeVersion: undefined }
    this.#sessions.set(nodeId, session)
    this.#unknown.delete(nodeId)
    this.#disconnected.delete(nodeId)
    this.#down.delete(nodeId)
    this.#heartbeats.set(nodeId, now + this.#period() * GRACE_PERIOD_MULTIPLIER)
    this.#armHeartbeats()
    // A newer session ends the older stream (quietly: the node is not disconnected).
    current?.channel.end()
    if (current !== undefined && !resume) this.#hooks.sessionEnded(nodeId, current.sessionId, sessionInvalid(nodeId))
    const write = store.update((tx) => {
      const n = tx.nodes.get(nodeId)
      if (n === undefined) {
        tx.nodes.create({
          id: nodeId,
          spec: { annotations: { name: '' }, desiredRole: NodeRole.WORKER, membership: NodeMembership.ACCEPTED, availability: NodeAvailability.ACTIVE },
          description: request.description,
          status: addr === undefined ? { state: NodeState.READY } : { state: NodeState.READY, addr },
          role: NodeRole.WORKER,
        })
        return
      }
      tx.nodes.update(nodeId, (d) => {
        d.status.state = NodeState.READY
        delete d.status.message
        if (addr !== undefined) d.status.addr = addr
        d.description = request.description as NonNullable<Draft<Node>['description']>
      })
    })
    this.#ctx.track('register', write)
    try {
      await write
    } catch (err) {
      // Nothing half-applied: a registration that could not be written leaves no session.
      if (this.#sessions.get(nodeId) === session) this.#invalidate(session, sessionInvalid(nodeId))
      throw err
    }
    if (this.#sessions.get(nodeId) === session) {
      const node = store.view((tx) => tx.nodes.get(nodeId))
      if (node !== undefined) this.#send(session, node)
    }
    return session
  }

  /** The live session `sessionId` of `nodeId`; `session-invalid` otherwise. */
  check(nodeId: string, sessionId: string): Session {
    const s = this.#sessions.get(nodeId)
    if (s === undefined || s.sessionId !== sessionId) throw sessionInvalid(nodeId)
    return s
  }

  /** A heartbeat of session `sessionId`: pushes its deadline to 3 × the period answered. */
  heartbeat(nodeId: string, sessionId: string): HeartbeatResponse {
    this.check(nodeId, sessionId)
    const periodMs = this.#period()
    this.#heartbeats.set(nodeId, this.#ctx.clock.now() + periodMs * GRACE_PERIOD_MULTIPLIER)
    this.#armHeartbeats()
    return { periodMs }
  }

  /**
   * A session stream ended (the agent's signal): if it is still the node's session, the node is
   * DISCONNECTED, and DOWN (its tasks rescheduled) unless it registers again before its heartbeat
   * deadline — as SwarmKit, whose node keeps its heartbeat timer when its stream ends (a killed process).
   */
  streamEnded(session: Session): void {
    if (this.#stopped || this.#sessions.get(session.nodeId) !== session) return
    const deadline = this.#heartbeats.deadlineOf(session.nodeId) ?? this.#ctx.clock.now() + this.#period() * GRACE_PERIOD_MULTIPLIER
    this.#invalidate(session, sessionInvalid(session.nodeId))
    this.#disconnected.add(session.nodeId)
    this.#heartbeats.set(session.nodeId, deadline)
    this.#armHeartbeats()
    this.#writeStatuses([session.nodeId], NodeState.DISCONNECTED, NodeStatusMessage.DISCONNECTED)
  }

  /** The node object changed: its live session gets a message (once per version). */
  nodeChanged(node: Frozen<Node>): void {
    const s = this.#sessions.get(node.id)
    if (s?.lastNodeVersion !== undefined && node.meta.version.index > s.lastNodeVersion) this.#send(s, node)
  }

  /** The node object was deleted: its session ends (`session-invalid`), with no status to write. */
  nodeDeleted(nodeId: string): void {
    const s = this.#sessions.get(nodeId)
    if (s !== undefined) this.#invalidate(s, sessionInvalid(nodeId))
    this.#unknown.delete(nodeId)
    this.#disconnected.delete(nodeId)
    this.#heartbeats.delete(nodeId)
    this.#down.delete(nodeId)
  }

  /** The cluster's keys, its root CA or the manager list changed: every live session gets a message. */
  broadcast(): void {
    const sessions = [...this.#sessions.values()].filter((s) => s.lastNodeVersion !== undefined)
    if (sessions.length === 0) return
    const nodes = this.#ctx.store.view((tx) => sessions.map((s) => tx.nodes.get(s.nodeId)))
    sessions.forEach((s, i) => {
      const n = nodes[i]
      if (n !== undefined) this.#send(s, n)
    })
  }

  /** Ends the term: every session stream fails with `error`; timers are cancelled. */
  stop(error: Error): void {
    this.#stopped = true
    this.#heartbeatTimer?.timer.cancel()
    this.#downTimer?.timer.cancel()
    this.#heartbeatTimer = this.#downTimer = undefined
    for (const s of this.#sessions.values()) s.channel.fail(error)
    this.#sessions.clear()
  }

  #period(): number {
    return chooseHeartbeatPeriod(this.#ctx.config.heartbeatPeriodMs, this.#ctx.random)
  }

  #send(s: Session, node: Frozen<Node>): void {
    s.lastNodeVersion = node.meta.version.index
    const cluster = this.#hooks.cluster()
    s.channel.push({
      sessionId: s.sessionId,
      node,
      managers: [...this.#ctx.config.managers()],
      networkBootstrapKeys: [...(cluster?.networkBootstrapKeys ?? [])],
      rootCa: cluster?.rootCa.caCert ?? new Uint8Array(),
    })
  }

  #invalidate(s: Session, error: Error): void {
    this.#sessions.delete(s.nodeId)
    this.#heartbeats.delete(s.nodeId)
    s.channel.fail(error)
    this.#hooks.sessionEnded(s.nodeId, s.sessionId, error)
  }

  #armHeartbeats(): void {
    this.#heartbeatTimer = this.#arm(this.#heartbeats, this.#heartbeatTimer, () => this.#expireHeartbeats())
  }

  #armDown(): void {
    this.#downTimer = this.#arm(this.#down, this.#downTimer, () => this.#expireDown())
  }

  /** (Re)arms one timer at the earliest deadline of `queue`, keeping it when it is already there or earlier. */
  #arm(queue: DeadlineQueue, armed: { timer: Timer; at: number } | undefined, fire: () => void): { timer: Timer; at: number } | undefined {
    if (this.#stopped) return undefined
    const at = queue.next()
    if (at === undefined) {
      armed?.timer.cancel()
      return undefined
    }
    if (armed !== undefined && armed.at <= at) return armed
    armed?.timer.cancel()
    const timer = this.#ctx.clock.setTimeout(fire, Math.max(0, at - this.#ctx.clock.now()))
    return { timer, at }
  }

  #expireHeartbeats(): void {
    this.#heartbeatTimer = undefined
    const now = this.#ctx.clock.now()
    const down: string[] = []
    const unknownDown: string[] = []
    for (const nodeId of this.#heartbeats.due(now)) {
      const s = this.#sessions.get(nodeId)
      if (s !== undefined) {
        this.#invalidate(s, sessionInvalid(nodeId))
        down.push(nodeId)
      } else if (this.#disconnected.delete(nodeId)) {
        down.push(nodeId)
      } else if (this.#unknown.delete(nodeId)) {
        unknownDown.push(nodeId)
      } else continue
      this.#down.set(nodeId, now + NODE_DOWN_PERIOD_MS)
    }
    this.#armHeartbeats()
    this.#armDown()
    if (down.length > 0) this.#writeStatuses(down, NodeState.DOWN, NodeStatusMessage.HEARTBEAT_FAILURE)
    if (unknownDown.length > 0) this.#writeStatuses(unknownDown, NodeState.DOWN, NodeStatusMessage.UNKNOWN_HEARTBEAT_FAILURE)
  }

  #expireDown(): void {
    this.#downTimer = undefined
    const nodeIds = this.#down.due(this.#ctx.clock.now())
    this.#armDown()
    if (nodeIds.length > 0) this.#ctx.track('orphan tasks', this.#orphan(nodeIds))
  }

  /**
   * SwarmKit's `moveTasksToOrphaned`: the tasks of nodes still DOWN that could have made
   * progress while unreachable (ASSIGNED..RUNNING) get state ORPHANED; nothing else changes.
   */
  async #orphan(nodeIds: readonly string[]): Promise<void> {
    const ids = this.#ctx.store.view((tx) =>
      nodeIds
        .filter((id) => tx.nodes.get(id)?.status.state === NodeState.DOWN)
        .flatMap((id) => tx.tasks.find({ nodeId: id }))
        .filter((t) => isOrphanable(t))
        .map((t) => t.id),
    )
    await this.#inBatches(ids, (tx, id) => {
      const t = tx.tasks.get(id)
      if (t === undefined || !isOrphanable(t) || tx.nodes.get(t.nodeId)?.status.state !== NodeState.DOWN) return
      tx.tasks.update(id, (d) => void (d.status.state = TaskState.ORPHANED))
    })
  }

  /** Writes `state` (with `message`) on the nodes `ids`, skipping missing ones and nodes whose session came back. */
  #writeStatuses(ids: readonly string[], state: NodeState, message: string): void {
    const write = this.#inBatches(ids, (tx, id) => {
      const n = tx.nodes.get(id)
      if (n === undefined || (n.status.state === state && n.status.message === message)) return
      if (state !== NodeState.READY && this.#sessions.has(id)) return
      tx.nodes.update(id, (d) => {
        d.status.state = state
        d.status.message = message
      })
    })
    this.#ctx.track(`mark nodes ${state}`, write)
  }

  async #inBatches(ids: readonly string[], write: (tx: Tx, id: string) => void): Promise<void> {
    if (ids.length === 0) return
    const result = await this.#ctx.store.batch((b) => {
      for (let i = 0; i < ids.length; i += WRITES_PER_TRANSACTION) {
        const chunk = ids.slice(i, i + WRITES_PER_TRANSACTION)
        b.update((tx) => {
          for (const id of chunk) write(tx, id)
        })
      }
    })
    for (const f of result.failures) this.#ctx.logger.error('dispatcher: a transaction failed', { error: String(f.error) })
  }
}

function isOrphanable(t: Frozen<Task>): boolean {
  return t.status.state >= TaskState.ASSIGNED && t.status.state <= TaskState.RUNNING
}
