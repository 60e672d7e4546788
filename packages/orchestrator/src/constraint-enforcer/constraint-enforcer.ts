/**
 * The constraint enforcer (SwarmKit's manager/orchestrator/constraintenforcer): rejects tasks
 * whose node no longer fits them. The decision is in `node-compliance.ts`; this driver watches
 * the nodes and writes the rejections.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Service } from '@swarmkit-ts/api'
import type { Frozen, ObjectEvent, ReadTx } from '@swarmkit-ts/store'
import type { Component, OrchestratorContext } from '../common/context.ts'
import { StoreLoop } from '../common/store-loop.ts'
import { CONSTRAINT_REJECT_ERR, CONSTRAINT_REJECT_MESSAGE, noncompliantTasks } from './node-compliance.ts'

/** Rejections per transaction of the enforcer's batch. */
const REJECTS_PER_TRANSACTION = 100

/**
 * The constraint enforcer (SwarmKit's manager/orchestrator/constraintenforcer). At start for
 * every node, then on every node update, it checks the tasks on an ACTIVE node against the node
 * (see `noncompliantTasks`) and sets those that no longer fit to observed REJECTED
 * ("task rejected by constraint enforcer", err "assigned node no longer meets constraints").
 * It never touches the desired state: the orchestrators see a failed task and replace it
 * elsewhere, through the restart supervisor.
 */
export class ConstraintEnforcer implements Component {
  readonly #ctx: OrchestratorContext
  readonly #loop: StoreLoop<'node'>
  /** Nodes to check at the next commit. */
  #pending = new Set<string>()

  constructor(ctx: OrchestratorContext) {
    this.#ctx = ctx
    this.#loop = new StoreLoop(ctx, 'constraint enforcer', ['node'], {
      resync: (tx) => this.#resync(tx),
      event: (ev) => this.#event(ev),
      tick: () => this.#check(),
    })
  }

  /** Reads its state from the store and starts reacting to changes. */
  start(): void {
    this.#loop.start()
  }

  /** Stops; resolves once nothing of it runs any more (a write in progress finishes first). */
  async stop(): Promise<void> {
    await this.#loop.stop()
  }

  #resync(tx: ReadTx): void {
    for (const n of tx.nodes.find()) this.#pending.add(n.id)
  }

  #event(ev: ObjectEvent<'node'>): void {
    if (ev.action === 'update') this.#pending.add(ev.object.id)
  }

  /** Checks the pending nodes on one view and rejects what no longer fits, in one batch. */
  async #check(): Promise<void> {
    if (this.#pending.size === 0) return
    const nodeIds = [...this.#pending]
    this.#pending = new Set()
    const reject = this.#ctx.store.view((tx) => {
      const out: string[] = []
      const services = new Map<string, Frozen<Service> | undefined>()
      const service = (id: string): Frozen<Service> | undefined => {
        if (!services.has(id)) services.set(id, tx.services.get(id))
        return services.get(id)
      }
      for (const id of nodeIds) {
        const node = tx.nodes.get(id)
        if (node === undefined) continue
        for (const t of noncompliantTasks(node, tx.tasks.find({ nodeId: id }), service)) out.push(t.id)
      }
      return out
    })
    if (reject.length === 0) return
    const now = this.#ctx.clock.now()
    const result = await this.#ctx.store.batch((b) => {
      for (let i = 0; i < reject.length; i += REJECTS_PER_TRANSACTION) {
        const chunk = reject.slice(i, i + REJECTS_PER_TRANSACTION)
        b.update((tx) => {
          for (const id of chunk) {
            const t = tx.tasks.get(id)
            // Re-read: a task the orchestrator is stopping, or that stopped meanwhile, is left alone.
            if (t === undefined || t.desiredState > TaskState.COMPLETE || t.status.state >= TaskState.COMPLETE) continue
            tx.tasks.update(id, (d) => {
              // Container and port status stay; appliedBy/appliedAt go (they tell when an
              // agent's report was applied, and this status is the manager's own).
              d.status.state = TaskState.REJECTED
              d.status.message = CONSTRAINT_REJECT_MESSAGE
              d.status.err = CONSTRAINT_REJECT_ERR
              d.status.timestamp = now
              delete d.status.appliedBy
              delete d.status.appliedAt
            })
          }
        })
      }
    })
    for (const f of result.failures) {
      this.#ctx.logger.warn('constraint enforcer: a reject transaction failed', { transaction: f.transaction, error: String(f.error) })
    }
    this.#ctx.logger.info('constraint enforcer: rejected tasks', { count: reject.length })
  }
}

