/**
 * The Raft membership of the managers as the leader manages it: the voters and their
 * reachability, `Join` and `Leave` (the membership service's host), the checks the control
 * API's role changes consult (quorum-loss protection), and leadership hand-over.
 *
 * @module
 */
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, generateRaftMemberId } from '@swarmkit-ts/api'
import type { Node, RaftMemberId, Random } from '@swarmkit-ts/api'
import type { NodeIdentity } from '@swarmkit-ts/pki'
import type { GrpcRaftTransport } from '@swarmkit-ts/raft/grpc'
import type { Frozen, MemoryStore, ReplicatedStore } from '@swarmkit-ts/store'
import type { MembershipHooks } from '../control/control-hooks.ts'
import type { MembershipHost } from './membership-service.ts'
import type { JoinResponse } from './membership-wire.ts'
import { decideRemoval, type MemberReachability } from './quorum.ts'

/** A manager of the Raft group, as the leader's membership view (`RaftMembership.members`) reports it. */
export interface ManagerMember {
  /** Raft member id. */
  readonly raftId: RaftMemberId
  /** Address of its node server (as recorded in the log). */
  readonly addr: string
  /** Its node id, when the store records it. */
  readonly nodeId: string | undefined
  /** Whether it is the known leader. */
  readonly leader: boolean
  /** Whether this manager reaches it now (always true for itself). */
  readonly reachable: boolean
}

const ADDRESS = /^.+:\d{1,5}$/

/** Leader-side membership operations of one manager. */
export class RaftMembership implements MembershipHost {
  readonly #replicated: ReplicatedStore<MemoryStore>
  readonly #transport: GrpcRaftTransport
  readonly #random: Random
  readonly #changed: () => void

  /** `changed` is called after every membership change this manager made (the dispatcher's manager list). */
  constructor(replicated: ReplicatedStore<MemoryStore>, transport: GrpcRaftTransport, random: Random, changed: () => void) {
    this.#replicated = replicated
    this.#transport = transport
    this.#random = random
    this.#changed = changed
  }

  get #raft(): ReplicatedStore<MemoryStore>['raft'] {
    return this.#replicated.raft
  }

  /** The voters, with the leader's reachability of each (see quorum.ts). */
  reachability(): MemberReachability[] {
    const self = this.#raft.id
    return this.#raft.status().config.voters.map((raftId) => ({ raftId, reachable: raftId === self || this.#transport.peerStats(raftId)?.stream === 'open' }))
  }

  /** The managers of the Raft group (voters), with address, node id, leadership and reachability. */
  members(): ManagerMember[] {
    const byRaftId = new Map<RaftMemberId, string>()
    for (const n of this.#replicated.store.view((tx) => tx.nodes.find())) {
      if (n.managerStatus !== undefined) byRaftId.set(n.managerStatus.raftId, n.id)
    }
    const leader = this.#raft.leader
    return this.reachability().map(({ raftId, reachable }) => ({ raftId, addr: this.#raft.members.get(raftId) ?? '', nodeId: byRaftId.get(raftId), leader: raftId === leader, reachable }))
  }

  /** @throws NotLeaderError (with the leader's address when known) unless this manager leads. */
  requireLeader(): void {
    const err = this.#replicated.notLeaderError()
    if (err !== undefined) throw err
  }

  /** Adds `caller` as a voter at `addr` (leader only), records it in its Node, returns the members. */
  async join(caller: NodeIdentity, addr: string, rejoin = false): Promise<JoinResponse> {
    this.requireLeader()
    if (typeof addr !== 'string' || !ADDRESS.test(addr)) throw new InvalidArgumentError('addr', `must be host:port, got ${String(addr)}`)
    if (rejoin) return this.#rejoin(caller, addr)
    const store = this.#replicated.store
    // A certificate issued before a demotion must not undo it.
    if (store.view((tx) => tx.nodes.get(caller.nodeId))?.spec.desiredRole === 'worker') throw new FailedPreconditionError(`node ${caller.nodeId} is to be a worker: promote it first`, { reason: 'demoted' })
    const oldId = store.view((tx) => tx.nodes.get(caller.nodeId))?.managerStatus?.raftId
    if (oldId !== undefined && this.#raft.status().config.voters.includes(oldId)) throw new AlreadyExistsError('raft member', caller.nodeId)
    let raftId = generateRaftMemberId(this.#random)
    while (this.#raft.members.has(raftId)) raftId = generateRaftMemberId(this.#random)
    // The Node first, under the current configuration: once the new voter counts, nothing more
    // commits until it runs, and it starts only after this call returns.
    const before = store.view((tx) => tx.nodes.get(caller.nodeId))
    const managerStatus = { raftId, addr, leader: false, reachability: 'reachable' as const }
    await store.update((tx) => {
      if (tx.nodes.get(caller.nodeId) === undefined) {
        tx.nodes.create({
          id: caller.nodeId,
          spec: { annotations: { name: '' }, desiredRole: 'manager', membership: 'accepted', availability: 'active' },
          role: 'manager',
          status: { state: 'unknown' },
          managerStatus,
        })
      } else {
        tx.nodes.update(caller.nodeId, (d) => {
          d.role = 'manager'
          d.spec.desiredRole = 'manager'
          d.managerStatus = managerStatus
        })
      }
    })
    try {
      await this.#raft.addMember(raftId, addr)
    } catch (err) {
      // Nothing half-applied: the Node goes back to what it was (best effort: leadership may be gone).
      await store
        .update((tx) => {
          if (before === undefined) tx.nodes.delete(caller.nodeId)
          else tx.nodes.update(caller.nodeId, (d) => {
            d.role = before.role
            d.spec.desiredRole = before.spec.desiredRole
            if (before.managerStatus === undefined) delete d.managerStatus
            else d.managerStatus = { ...before.managerStatus }
          })
        })
        .catch(() => undefined)
      throw err
    }
    this.#changed()
    return { raftId, members: this.members().map((m) => ({ raftId: m.raftId, addr: m.addr, nodeId: m.nodeId ?? '' })) }
  }

  /** A voter restarted on a new address: the log (and its Node) record the new one. */
  async #rejoin(caller: NodeIdentity, addr: string): Promise<JoinResponse> {
    const store = this.#replicated.store
    const raftId = store.view((tx) => tx.nodes.get(caller.nodeId))?.managerStatus?.raftId
    if (raftId === undefined || !this.#raft.status().config.voters.includes(raftId)) throw new NotFoundError('raft member', caller.nodeId)
    if (this.#raft.members.get(raftId) !== addr) {
      await this.#raft.updateMember(raftId, addr)
      await store.update((tx) => {
        const ms = tx.nodes.get(caller.nodeId)?.managerStatus
        if (ms !== undefined) tx.nodes.update(caller.nodeId, (d) => void (d.managerStatus = { ...ms, addr }))
      })
      this.#changed()
    }
    return { raftId, members: this.members().map((m) => ({ raftId: m.raftId, addr: m.addr, nodeId: m.nodeId ?? '' })) }
  }

  /** Removes `caller` from the voters (leader only; not the leader itself), quorum permitting. */
  async leave(caller: NodeIdentity): Promise<void> {
    this.requireLeader()
    const store = this.#replicated.store
    const raftId = store.view((tx) => tx.nodes.get(caller.nodeId))?.managerStatus?.raftId
    if (raftId === undefined || !this.#raft.status().config.voters.includes(raftId)) throw new NotFoundError('raft member', caller.nodeId)
    if (raftId === this.#raft.id) throw new FailedPreconditionError('the leader cannot leave through itself: hand leadership over first', { reason: 'leader' })
    this.#refuseUnsafeRemoval(raftId, caller.nodeId)
    await this.#raft.removeMember(raftId)
    await store.update((tx) => {
      if (tx.nodes.get(caller.nodeId) === undefined) return
      tx.nodes.update(caller.nodeId, (d) => {
        d.role = 'worker'
        d.spec.desiredRole = 'worker'
        delete d.managerStatus
      })
    })
    this.#changed()
  }

  /** Hands leadership to the reachable voter with the most replicated log. */
  async transferLeadership(): Promise<void> {
    this.requireLeader()
    const self = this.#raft.id
    const progress = this.#raft.status().progress
    const candidates = this.reachability()
      .filter((m) => m.raftId !== self && m.reachable)
      .sort((a, b) => (progress.get(b.raftId)?.match ?? 0) - (progress.get(a.raftId)?.match ?? 0))
    const to = candidates[0]
    if (to === undefined) throw new FailedPreconditionError('no other reachable manager to hand leadership to', { reason: 'quorum' })
    await this.#raft.transferLeadership(to.raftId)
  }

  /** The checks the control API consults before committing a role change or a removal. */
  hooks(): MembershipHooks {
    return {
      promote: () => Promise.resolve(),
      demote: (node) =>
        settle(() => {
          const raftId = this.#memberOf(node)
          if (raftId !== undefined) this.#refuseUnsafeRemoval(raftId, node.id)
        }),
      remove: (node) =>
        settle(() => {
          if (this.#memberOf(node) !== undefined) throw new FailedPreconditionError(`node ${node.id} is still a member of the Raft group: wait for its demotion to complete`, { reason: 'raft-member' })
        }),
      isRaftMember: (node) => this.#memberOf(node) !== undefined,
    }
  }

  /** The node's Raft member id when it is a voter. */
  #memberOf(node: Frozen<Node>): RaftMemberId | undefined {
    const raftId = node.managerStatus?.raftId
    return raftId !== undefined && this.#raft.status().config.voters.includes(raftId) ? raftId : undefined
  }

  /** @throws FailedPreconditionError (reason `quorum` or `last-manager`) when removing `raftId` now is unsafe. */
  #refuseUnsafeRemoval(raftId: RaftMemberId, nodeId: string): void {
    const d = decideRemoval(this.reachability(), raftId, this.#raft.id)
    if (d.allowed) return
    if (d.reason === 'last-manager') throw new FailedPreconditionError(`node ${nodeId} is the last manager of the swarm`, { reason: 'last-manager' })
    throw new FailedPreconditionError(
      `removing manager ${nodeId} would lose quorum: ${d.reachableAfter} of the remaining managers reachable, ${d.quorumAfter} needed`,
      { reason: 'quorum' },
    )
  }
}

function settle(fn: () => void): Promise<void> {
  try {
    fn()
    return Promise.resolve()
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)))
  }
}
