/**
 * The worker (SwarmKit's `agent/worker.go`): reconciles the node's assignments — secrets and
 * configs in memory, tasks on the executor — and keeps its tasks in the task database so that a
 * restarted worker resumes them.
 *
 * @module
 */
import { TaskState, silentLogger } from '@swarmkit-ts/api'
import type { AssignmentChange, Clock, Config, Logger, NodeDescription, Secret, Task, TaskStatus } from '@swarmkit-ts/api'
import type { TaskController, TaskDependencies } from '../exec/index.ts'
import type { TaskDb } from './task-db.ts'
import { TaskManager, mergeAssignedTask } from './task-manager.ts'

/** What the worker needs of an executor (`RuntimeExecutor` is one). */
export interface TaskExecutor {
  /** The node's description, sent when a session opens. */
  describe(): Promise<NodeDescription>
  /** The controller of `task`; it adopts the task's container when one exists. */
  controller(task: Task, deps: TaskDependencies): TaskController
}

/** Construction options of {@link Worker}. */
export interface WorkerInit {
  readonly executor: TaskExecutor
  readonly db: TaskDb
  /** Takes each new status of a task (the agent's `StatusReporter.report`). */
  readonly report: (taskId: string, status: TaskStatus) => Promise<void>
  /**
   * Called when the managers' copy of a task is behind the status held here (an update they
   * acknowledged was lost, or this worker restarted before sending it): `StatusReporter.resend`.
   */
  readonly resend?: (taskId: string, status: TaskStatus) => void
  /** Called when a task is removed, so its pending status is dropped (`StatusReporter.forget`). */
  readonly forget?: (taskId: string) => void
  readonly clock: Clock
  readonly logger?: Logger
}

/**
 * Reconciles assignments into running tasks. `assign` takes the complete set (anything not in
 * it is removed), `update` incremental changes; calls are applied one at a time in call order.
 *
 * A task removed by the managers is stopped and its container removed; its database entry is
 * first marked unassigned and deleted only once the container is gone, so a crash in between
 * is finished at the next start. At start, assigned tasks that had reached READY (their
 * container exists) resume at once and their controllers adopt the containers; tasks not that
 * far wait for the first complete set, which carries the secrets and configs they need.
 */
export class Worker {
  readonly #init: WorkerInit
  readonly #logger: Logger
  readonly #managers = new Map<string, TaskManager>()
  readonly #secrets = new Map<string, Secret>()
  readonly #configs = new Map<string, Config>()
  readonly #removals = new Set<Promise<void>>()
  readonly #deps: TaskDependencies
  #serial: Promise<void> = Promise.resolve()
  #stopped = false

  constructor(init: WorkerInit) {
    this.#init = init
    this.#logger = init.logger ?? silentLogger
    this.#deps = { secret: (id) => this.#secrets.get(id), config: (id) => this.#configs.get(id) }
  }

  /** Resumes the tasks of the database: see the class description. */
  init(): Promise<void> {
    return this.#enqueue(() => {
      for (const { task, assigned } of this.#init.db.entries()) {
        if (!assigned) this.#remove(task.id, task)
        else if (task.status.state >= TaskState.READY) this.#startManager(task)
      }
      return Promise.resolve()
    })
  }

  /** Applies the node's complete set of assignments. */
  assign(changes: readonly AssignmentChange[]): Promise<void> {
    return this.#enqueue(() => this.#reconcile(changes, true))
  }

  /** Applies incremental changes of the node's assignments. */
  update(changes: readonly AssignmentChange[]): Promise<void> {
    return this.#enqueue(() => this.#reconcile(changes, false))
  }

  /** The tasks being run, each with its latest local status. */
  tasks(): Task[] {
    return [...this.#managers.values()].map((m) => m.task)
  }

  /** The ids of the secrets and configs held (in memory only). */
  dependencies(): { secrets: string[]; configs: string[] } {
    return { secrets: [...this.#secrets.keys()], configs: [...this.#configs.keys()] }
  }

  /**
   * Stops every task loop, leaving the containers as they are (a restarted worker adopts them),
   * and waits for removals in progress and the database.
   */
  async stop(): Promise<void> {
    this.#stopped = true
    await this.#serial
    const managers = [...this.#managers.values()]
    this.#managers.clear()
    await Promise.all(managers.map((m) => m.close()))
    for (const m of managers) m.controller.close()
    await Promise.allSettled([...this.#removals])
    await this.#init.db.close()
  }

  #enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.#serial.then(() => (this.#stopped ? undefined : fn()))
    this.#serial = next.catch(() => undefined)
    return next
  }

  async #reconcile(changes: readonly AssignmentChange[], complete: boolean): Promise<void> {
    if (complete) {
      this.#secrets.clear()
      this.#configs.clear()
    }
    const updated: Task[] = []
    const removed: Task[] = []
    for (const { action, assignment } of changes) {
      if ('secret' in assignment) {
        if (action === 'update') this.#secrets.set(assignment.secret.id, assignment.secret)
        else this.#secrets.delete(assignment.secret.id)
      } else if ('config' in assignment) {
        if (action === 'update') this.#configs.set(assignment.config.id, assignment.config)
        else this.#configs.delete(assignment.config.id)
      } else if (action === 'update') updated.push(assignment.task)
      else removed.push(assignment.task)
    }

    // Every task of the set is written at once (SwarmKit writes a set in one transaction): one
    // durable write after another held the set's last task back by the whole chain of fsyncs.
    // A new task starts only once its entry is durable, so a restarted worker adopts its container.
    const assigned = new Set<string>()
    const writes: Promise<void>[] = []
    const starts = new Map<string, { incoming: Task; task: Task }>()
    for (const incoming of updated) {
      assigned.add(incoming.id)
      const manager = this.#managers.get(incoming.id)
      if (manager !== undefined) {
        manager.update(incoming)
        writes.push(this.#init.db.put({ task: manager.task, assigned: true }).then(() => this.#resendIfBehind(incoming, manager.task.status)))
        continue
      }
      const known = this.#init.db.get(incoming.id)
      const task = known === undefined ? incoming : mergeAssignedTask(known.task, incoming)
      writes.push(this.#init.db.put({ task, assigned: true }))
      starts.set(incoming.id, { incoming, task })
    }
    await Promise.all(writes)
    for (const { incoming, task } of starts.values()) {
      this.#resendIfBehind(incoming, task.status)
      this.#startManager(task)
    }

    if (complete) {
      for (const entry of this.#init.db.entries()) if (entry.assigned && !assigned.has(entry.task.id)) this.#remove(entry.task.id, entry.task)
    } else {
      for (const task of removed) {
        const known = this.#init.db.get(task.id)
        if (known?.assigned === true) this.#remove(task.id, known.task)
      }
    }
  }

  #resendIfBehind(incoming: Task, local: TaskStatus): void {
    if (local.state > incoming.status.state && local.state > TaskState.ASSIGNED) this.#init.resend?.(incoming.id, local)
  }

  #startManager(task: Task): void {
    const controller = this.#init.executor.controller(task, this.#deps)
    const manager = new TaskManager({
      task,
      controller,
      clock: this.#init.clock,
      report: (status) => this.#init.report(task.id, status),
      logger: this.#logger,
    })
    this.#managers.set(task.id, manager)
    manager.start()
  }

  /** Stops the task, removes its container, then forgets it (in the background, tracked). */
  #remove(taskId: string, task: Task): void {
    const manager = this.#managers.get(taskId)
    this.#managers.delete(taskId)
    this.#init.forget?.(taskId)
    const removal = (async () => {
      await this.#init.db.setAssigned(taskId, false)
      await manager?.close()
      const controller = manager?.controller ?? this.#init.executor.controller(task, this.#deps)
      try {
        await controller.remove()
        // Unless the managers assigned the task again meanwhile (a new entry to keep).
        if (this.#init.db.get(taskId)?.assigned === false) await this.#init.db.delete(taskId)
      } catch (err) {
        this.#logger.error('worker: could not remove the container of a removed task; retried at the next start', { taskId, err: String(err) })
      } finally {
        controller.close()
      }
    })()
    this.#removals.add(removal)
    void removal.finally(() => this.#removals.delete(removal))
  }
}
