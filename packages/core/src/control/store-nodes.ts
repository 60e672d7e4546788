/**
 * Nodes of {@link StoreControlApi}: SwarmKit's controlapi/node.go — spec updates with promotion
 * and demotion through the manager's {@link MembershipHooks}, and removal that denies the node's
 * certificate in the same write.
 *
 * @module
 */
import { X509Certificate } from 'node:crypto'
import { FailedPreconditionError, InvalidArgumentError, NodeMembership, NodeRole, NodeState, NotFoundError, SequenceConflictError, validateNodeSpec } from '@swarmkit-ts/api'
import type { Node, NodeSpec } from '@swarmkit-ts/api'
import type { Frozen, MemoryStore, ReadTx } from '@swarmkit-ts/store'
import type { NodeFilters, NodeRemoveOptions, NodesApi, VersionOptions } from './control-api.ts'
import type { MembershipHooks } from './control-hooks.ts'
import { readBack, settle } from './settle.ts'
import { compareStrings, matchesNode, validateNodeFilters } from './filters.ts'
import { requireId, versionOf } from './store-services.ts'

/** The node `idOrName` names in `tx`: by id first, then by hostname (case-insensitive). */
export function lookupNode(tx: ReadTx, idOrName: string): Frozen<Node> | undefined {
  return tx.nodes.get(idOrName) ?? tx.nodes.find({ name: idOrName })[0]
}

/** When the node's certificate expires (ms since the epoch), or undefined when it has none readable. */
export function certificateExpiry(node: Frozen<Node>): number | undefined {
  const bytes = node.certificate?.certificate
  if (bytes === undefined || bytes.byteLength === 0) return undefined
  try {
    const t = Date.parse(new X509Certificate(Buffer.from(bytes)).validTo)
    return Number.isNaN(t) ? undefined : t
  } catch {
    return undefined
  }
}

/**
 * Why demoting `node` is refused whatever Raft says, or undefined: it is the only node whose
 * desired role is manager (a cluster needs one manager).
 */
export function lastManagerRefusal(tx: ReadTx, node: Frozen<Node>): FailedPreconditionError | undefined {
  const others = tx.nodes.find().filter((n) => n.id !== node.id && n.spec.desiredRole === NodeRole.MANAGER)
  if (others.length > 0) return undefined
  return new FailedPreconditionError(`node ${node.id} is the last manager of the cluster and cannot be demoted`, { reason: 'last-manager' })
}

/** The nodes of a store-backed control API. */
export class StoreNodes implements NodesApi {
  readonly #store: MemoryStore
  readonly #membership: MembershipHooks | undefined

  constructor(store: MemoryStore, membership: MembershipHooks | undefined) {
    this.#store = store
    this.#membership = membership
  }

  get(idOrName: string): Promise<Frozen<Node>> {
    return settle(() => {
      return this.#resolve(requireId(idOrName, 'id'))
    })
  }

  list(filters?: NodeFilters): Promise<readonly Frozen<Node>[]> {
    return settle(() => {
      validateNodeFilters(filters)
      return this.#store
        .view((tx) => tx.nodes.find())
        .filter((n) => matchesNode(filters, n))
        .sort((a, b) => compareStrings(a.id, b.id))
    })
  }

  async update(id: string, spec: NodeSpec, options?: VersionOptions): Promise<Frozen<Node>> {
    const version = versionOf(options)
    const node = this.#resolve(requireId(id, 'id'))
    validateNodeSpec(spec)
    checkVersion(node, version)
    if (node.spec.membership === NodeMembership.ACCEPTED && spec.membership === NodeMembership.PENDING) {
      throw new InvalidArgumentError('membership', 'an accepted node cannot go back to pending')
    }
    const roleChange = spec.desiredRole !== node.spec.desiredRole
    if (roleChange && spec.desiredRole === NodeRole.WORKER) {
      const refusal = this.#store.view((tx) => lastManagerRefusal(tx, node))
      if (refusal !== undefined) throw refusal
      await this.#membership?.demote(node)
    } else if (roleChange) {
      await this.#membership?.promote(node)
    }
    const written = await this.#store.update((tx) => {
      const cur = tx.nodes.get(node.id)
      if (cur === undefined) throw new NotFoundError('node', node.id)
      checkVersion(cur, version)
      // The hooks decided on the desired role read above: refuse if it changed meanwhile.
      if (roleChange && cur.spec.desiredRole !== node.spec.desiredRole) {
        throw new SequenceConflictError('node', node.id, { expected: node.meta.version.index, actual: cur.meta.version.index })
      }
      return tx.nodes.update({ ...cur, spec })
    })
    return readBack(() => this.#store.view((tx) => tx.nodes.get(written.id)), written)
  }

  async remove(id: string, options?: NodeRemoveOptions): Promise<void> {
    const force = options?.force ?? false
    if (typeof force !== 'boolean') throw new InvalidArgumentError('force', 'must be a boolean')
    const node = this.#resolve(requireId(id, 'id'))
    const isMember = (n: Frozen<Node>): boolean => this.#membership?.isRaftMember?.(n) ?? true
    refuseRemoval(node, force, isMember(node))
    await this.#membership?.remove(node)
    await this.#store.update((tx) => {
      const cur = tx.nodes.get(node.id)
      if (cur === undefined) throw new NotFoundError('node', node.id)
      refuseRemoval(cur, force, isMember(cur))
      const cluster = tx.clusters.find()[0]
      if (cluster !== undefined) {
        const expiry = certificateExpiry(cur)
        tx.clusters.update({
          ...cluster,
          blacklistedCertificates: { ...cluster.blacklistedCertificates, [cur.id]: expiry === undefined ? {} : { expiry } },
        })
      }
      tx.nodes.delete(cur.id)
    })
  }

  #resolve(idOrName: string): Frozen<Node> {
    const n = this.#store.view((tx) => lookupNode(tx, idOrName))
    if (n === undefined) throw new NotFoundError('node', idOrName)
    return n
  }
}

function checkVersion(node: Frozen<Node>, version: bigint | undefined): void {
  if (version !== undefined && version !== node.meta.version.index) {
    throw new SequenceConflictError('node', node.id, { expected: version, actual: node.meta.version.index })
  }
}

/**
 * Refuses removing a manager that is a Raft member (whatever `force`: demote it first) or a node
 * that is up (unless `force`).
 */
function refuseRemoval(node: Frozen<Node>, force: boolean, raftMember: boolean): void {
  if ((node.role === NodeRole.MANAGER || node.spec.desiredRole === NodeRole.MANAGER) && raftMember) {
    throw new FailedPreconditionError(`node ${node.id} is a cluster manager and a member of the raft cluster: it must be demoted to worker before removal`, {
      reason: 'manager',
    })
  }
  if (!force && node.status.state === NodeState.READY) {
    throw new FailedPreconditionError(`node ${node.id} is not down and can't be removed (use force)`, { reason: 'node-up' })
  }
}
