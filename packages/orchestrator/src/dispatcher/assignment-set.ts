/**
 * What one node has been assigned, and the changes not yet sent (SwarmKit's `assignmentSet`):
 * its tasks in state ASSIGNED or later, plus the secrets and configs those tasks reference
 * while they may still run. Pure: the driver feeds it the node's task events and takes the
 * changes for each assignments message.
 *
 * Rules (as in SwarmKit):
 * - A task below ASSIGNED is not the node's yet (the scheduler may still move it; its
 *   secrets must not leak to a node that fails its constraints).
 * - A change of a task's status alone (the agent's own report, state above ASSIGNED) is not
 *   sent back; any other change of the task is.
 * - A task entering the set at RUNNING or below brings its secrets and configs; when it
 *   moves past RUNNING, or is removed, each dependency no other task of the set uses is
 *   withdrawn (a `remove` change).
 *
 * @module
 */
import type { Assignment, AssignmentChange, Config, Secret, Task } from '@swarmkit-ts/api'
import { TaskState } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { specEqual } from '../common/equality.ts'

/** Reads the secrets and configs a task references. */
export interface DependencyLookup {
  secret(id: string): Frozen<Secret> | undefined
  config(id: string): Frozen<Config> | undefined
}

type DependencyKey = `secret:${string}` | `config:${string}`
type ChangeKey = `task:${string}` | DependencyKey

/** Whether `a` and `b` differ only in status and meta (SwarmKit's `TasksEqualStable`). */
export function tasksEqualStable(a: Frozen<Task>, b: Frozen<Task>): boolean {
  const { status: _sa, meta: _ma, ...restA } = a
  const { status: _sb, meta: _mb, ...restB } = b
  return specEqual(restA, restB)
}

/** The dependencies `task` references: secret and config ids, each once. */
export function taskDependencies(task: Frozen<Task>): DependencyKey[] {
  const c = task.spec.container
  if (c === undefined) return []
  const keys = new Set<DependencyKey>()
  for (const s of c.secrets ?? []) keys.add(`secret:${s.secretId}`)
  for (const cfg of c.configs ?? []) keys.add(`config:${cfg.configId}`)
  return [...keys]
}

/** One node's assignments and its pending changes. */
export class AssignmentSet {
  readonly #tasks = new Map<string, Frozen<Task>>()
  /** The tasks of the set using each dependency. */
  readonly #users = new Map<DependencyKey, Set<string>>()
  /** Each dependency as last sent (a removal carries it). */
  readonly #assigned = new Map<DependencyKey, Assignment>()
  #changes = new Map<ChangeKey, AssignmentChange>()

  /** Tasks in the set. */
  get taskCount(): number {
    return this.#tasks.size
  }

  /** Whether the set holds task `id`. */
  hasTask(id: string): boolean {
    return this.#tasks.has(id)
  }

  /** The ids of the tasks in the set. */
  taskIds(): string[] {
    return [...this.#tasks.keys()]
  }

  /** The ids of the secrets currently assigned. */
  secretIds(): string[] {
    return [...this.#assigned.keys()].filter((k) => k.startsWith('secret:')).map((k) => k.slice('secret:'.length))
  }

  /** Adds or updates `task`; true when this makes a change to send. */
  addOrUpdateTask(task: Frozen<Task>, lookup: DependencyLookup): boolean {
    if (task.status.state < TaskState.ASSIGNED) return false
    const old = this.#tasks.get(task.id)
    if (old !== undefined) {
      if (tasksEqualStable(old, task) && task.status.state > TaskState.ASSIGNED) {
        this.#tasks.set(task.id, task)
        return task.status.state > TaskState.RUNNING ? this.#release(task) : false
      }
    } else if (task.status.state <= TaskState.RUNNING) {
      this.#addDependencies(task, lookup)
    }
    this.#tasks.set(task.id, task)
    this.#changes.set(`task:${task.id}`, { action: 'update', assignment: { task } })
    return true
  }

  /** Removes task `task.id` (deleted, or no longer the node's); true when it was in the set. */
  removeTask(task: Frozen<Task>): boolean {
    const old = this.#tasks.get(task.id)
    if (old === undefined) return false
    this.#tasks.delete(task.id)
    this.#changes.set(`task:${task.id}`, { action: 'remove', assignment: { task } })
    this.#release(old)
    return true
  }

  /** Removes task `id` as last added (when its deletion was missed); true when it was in the set. */
  removeTaskId(id: string): boolean {
    const old = this.#tasks.get(id)
    return old !== undefined && this.removeTask(old)
  }

  /** The changes since the last call, in a stable order (tasks, then secrets, then configs). */
  takeChanges(): AssignmentChange[] {
    const changes = [...this.#changes.entries()]
    this.#changes = new Map()
    const rank = (k: ChangeKey): number => (k.startsWith('task:') ? 0 : k.startsWith('secret:') ? 1 : 2)
    changes.sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
    return changes.map(([, c]) => c)
  }

  #addDependencies(task: Frozen<Task>, lookup: DependencyLookup): void {
    for (const key of taskDependencies(task)) {
      let users = this.#users.get(key)
      if (users === undefined) this.#users.set(key, (users = new Set()))
      if (users.size === 0) this.#assign(key, lookup)
      users.add(task.id)
    }
  }

  #assign(key: DependencyKey, lookup: DependencyLookup): void {
    if (key.startsWith('secret:')) {
      const secret = lookup.secret(key.slice('secret:'.length))
      if (secret === undefined) return
      this.#assigned.set(key, { secret })
      this.#changes.set(key, { action: 'update', assignment: { secret } })
    } else {
      const config = lookup.config(key.slice('config:'.length))
      if (config === undefined) return
      this.#assigned.set(key, { config })
      this.#changes.set(key, { action: 'update', assignment: { config } })
    }
  }

  /** Releases `task`'s dependencies; true when one was withdrawn. */
  #release(task: Frozen<Task>): boolean {
    let modified = false
    for (const key of taskDependencies(task)) {
      const users = this.#users.get(key)
      if (users === undefined || !users.delete(task.id) || users.size > 0) continue
      this.#users.delete(key)
      const last = this.#assigned.get(key)
      if (last === undefined) continue
      this.#assigned.delete(key)
      modified = true
      this.#changes.set(key, { action: 'remove', assignment: last })
    }
    return modified
  }
}
