/**
 * The role reconciler (SwarmKit's `roleManager`), a leader component: turns each node's
 * committed `spec.desiredRole` into its observed `role` and its Raft membership.
 *
 * - desired `manager`, role `worker`: the role becomes `manager` (the CA then issues a manager
 *   certificate at the node's next renewal, and the node joins the Raft group itself).
 * - desired `worker`, role `manager`: the node's Raft member is removed first when quorum
 *   allows it (else retried later); the leader demoting itself hands leadership over first, and
 *   the next leader finishes; then the role becomes `worker` and `managerStatus` goes.
 *
 * @module
 */
import type { Clock, Logger, Node, RaftMemberId, Timer } from '@swarmkit-ts/api'
import { StoreLoop, type Frozen, type MemoryStore } from '@swarmkit-ts/store'
import type { LeaderComponent, LeaderComponentHandle, LeaderContext } from './leader-component.ts'
import { decideRemoval, type MemberReachability } from './quorum.ts'

/** What the role reconciler needs of the Raft member. */
export interface RoleManagerRaft {
  /** This member's id. */
  readonly raftId: RaftMemberId
  /** The voters, with whether this leader reaches each. */
  members(): readonly MemberReachability[]
  /** Removes a member; resolves once the change is applied here. */
  removeMember(raftId: RaftMemberId): Promise<void>
  /** Hands leadership to another reachable member. */
  transferLeadership(): Promise<void>
}

/** Options of {@link roleManager}. */
export interface RoleManagerInit {
  readonly raft: RoleManagerRaft
  /** How long to wait before retrying a demotion refused for quorum, or failed. @default 1000 */
  readonly retryMs?: number
}

/** The role reconciler as a {@link LeaderComponent}. */
export function roleManager(init: RoleManagerInit): LeaderComponent {
  return {
    name: 'role-manager',
    start: (ctx: LeaderContext): LeaderComponentHandle => new RoleReconciler(ctx.store, ctx.clock, ctx.logger, init.raft, init.retryMs ?? 1000).start(),
  }
}

class RoleReconciler {
  readonly #store: MemoryStore
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #raft: RoleManagerRaft
  readonly #retryMs: number
  readonly #loop: StoreLoop<'node'>
  #retry: Timer | undefined
  #stopped = false
  #running: Promise<void> = Promise.resolve()

  constructor(store: MemoryStore, clock: Clock, logger: Logger, raft: RoleManagerRaft, retryMs: number) {
    this.#store = store
    this.#clock = clock
    this.#logger = logger
    this.#raft = raft
    this.#retryMs = retryMs
    this.#loop = new StoreLoop({ store, logger }, 'role-manager', ['node'], {
      resync: () => {},
      event: () => {},
      tick: () => this.#schedule(),
    })
  }

  start(): LeaderComponentHandle {
    this.#loop.start()
    return {
      stop: async () => {
        this.#stopped = true
        this.#retry?.cancel()
        await this.#loop.stop()
        await this.#running
      },
    }
  }

  #schedule(): Promise<void> {
    this.#running = this.#running.then(() => this.#reconcile())
    return this.#running
  }

  async #reconcile(): Promise<void> {
    if (this.#stopped) return
    const nodes = this.#store.view((tx) => tx.nodes.find())
    let pending = false
    for (const node of nodes) {
      if (this.#stopped) return
      try {
        if (!(await this.#reconcileNode(node))) pending = true
      } catch (err) {
        pending = true
        this.#logger.warn('role manager: reconciling a node failed; will retry', { node: node.id, err: String(err) })
      }
    }
    if (pending && !this.#stopped) {
      this.#retry?.cancel()
      this.#retry = this.#clock.setTimeout(() => void this.#schedule(), this.#retryMs)
    }
  }

  /** Reconciles one node; `false` when work is left for later. */
  async #reconcileNode(node: Frozen<Node>): Promise<boolean> {
    if (node.spec.desiredRole === node.role) return true
    if (node.spec.desiredRole === 'manager') {
      await this.#store.update((tx) => {
        const cur = tx.nodes.get(node.id)
        if (cur !== undefined && cur.spec.desiredRole === 'manager' && cur.role === 'worker') tx.nodes.update(node.id, (d) => void (d.role = 'manager'))
      })
      return true
    }
    const raftId = node.managerStatus?.raftId
    const members = this.#raft.members()
    if (raftId !== undefined && members.some((m) => m.raftId === raftId)) {
      if (raftId === this.#raft.raftId) {
        this.#logger.info('role manager: demoting the leader; handing leadership over first', { node: node.id })
        await this.#raft.transferLeadership()
        return false
      }
      const d = decideRemoval(members, raftId, this.#raft.raftId)
      if (!d.allowed) {
        this.#logger.warn('role manager: demotion waits: removing the member now would lose quorum', { node: node.id, reason: d.reason })
        return false
      }
      await this.#raft.removeMember(raftId)
    }
    await this.#store.update((tx) => {
      const cur = tx.nodes.get(node.id)
      if (cur === undefined || cur.spec.desiredRole !== 'worker' || cur.role !== 'manager') return
      tx.nodes.update(node.id, (draft) => {
        draft.role = 'worker'
        delete draft.managerStatus
      })
    })
    return true
  }
}
