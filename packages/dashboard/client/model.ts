/**
 * The page's copy of the picture, and what changed since the last frame was drawn. Messages only
 * update maps and mark things dirty; the renderer draws the dirty things once per animation
 * frame, so a burst of events costs one layout, never a full re-render.
 */
import type { DeltaMessage, NodeView, RaftView, ServiceView, SnapshotMessage, TaskView } from '../src/view-model.ts'

/** The column of tasks not scheduled yet. */
export const UNASSIGNED = ''

/** What the renderer has to draw again. */
export interface Dirty {
  /** Everything (a snapshot). */
  all: boolean
  /** Columns whose header or task list changed. */
  readonly columns: Set<string>
  /** Columns removed. */
  readonly removedColumns: Set<string>
  /** Task cards changed in place (same column). */
  readonly tasks: Set<string>
  /** Task cards removed. */
  readonly removedTasks: Set<string>
  /** Services table rows. */
  readonly services: Set<string>
  /** Rows removed. */
  readonly removedServices: Set<string>
  /** The Raft panel. */
  raft: boolean
}

const newDirty = (): Dirty => ({ all: false, columns: new Set(), removedColumns: new Set(), tasks: new Set(), removedTasks: new Set(), services: new Set(), removedServices: new Set(), raft: false })

/** The page's model. */
export class Model {
  readonly nodes = new Map<string, NodeView>()
  readonly tasks = new Map<string, TaskView>()
  readonly services = new Map<string, ServiceView>()
  /** Task ids by node id ({@link UNASSIGNED} for tasks without a node). */
  readonly tasksByNode = new Map<string, Set<string>>()
  raft: RaftView = { leader: '0', term: '0', commitIndex: '0', appliedIndex: '0', members: [] }
  /** The cluster clock at the last message. */
  now = 0
  /** Whether the server allows actions. */
  actions = false
  dirty: Dirty = newDirty()

  /** Takes the dirty set (the renderer draws it). */
  takeDirty(): Dirty {
    const d = this.dirty
    this.dirty = newDirty()
    return d
  }

  /** Replaces everything. */
  reset(s: SnapshotMessage): void {
    this.nodes.clear()
    this.tasks.clear()
    this.services.clear()
    this.tasksByNode.clear()
    this.now = s.now
    this.actions = s.actions
    for (const n of s.nodes) this.nodes.set(n.id, n)
    for (const t of s.tasks) this.#putTask(t)
    for (const v of s.services) this.services.set(v.id, v)
    this.raft = s.raft
    this.dirty = newDirty()
    this.dirty.all = true
  }

  /** Applies a delta: upserts, then removals. */
  apply(d: DeltaMessage): void {
    this.now = d.now
    const dirty = this.dirty
    for (const n of d.nodes ?? []) {
      this.nodes.set(n.id, n)
      dirty.columns.add(n.id)
    }
    for (const t of d.tasks ?? []) {
      const old = this.tasks.get(t.id)
      if (old !== undefined && old.nodeId === t.nodeId) {
        this.tasks.set(t.id, t)
        dirty.tasks.add(t.id)
        // The header's resources used depend on the task's state.
        if (old.state !== t.state) dirty.columns.add(t.nodeId)
        continue
      }
      if (old !== undefined) {
        // Moved to another column (scheduled, say): both columns change.
        this.#dropTask(old)
        dirty.columns.add(old.nodeId)
      }
      this.#putTask(t)
      dirty.columns.add(t.nodeId)
    }
    for (const id of d.removedTasks ?? []) {
      const old = this.tasks.get(id)
      if (old === undefined) continue
      this.#dropTask(old)
      dirty.removedTasks.add(id)
      dirty.columns.add(old.nodeId)
    }
    for (const id of d.removedNodes ?? []) {
      this.nodes.delete(id)
      dirty.removedColumns.add(id)
      dirty.columns.delete(id)
    }
    for (const s of d.services ?? []) {
      this.services.set(s.id, s)
      dirty.services.add(s.id)
    }
    for (const id of d.removedServices ?? []) {
      this.services.delete(id)
      dirty.removedServices.add(id)
    }
    if (d.raft !== undefined) {
      const before = this.raftLeaderNodeId()
      this.raft = d.raft
      dirty.raft = true
      const after = this.raftLeaderNodeId()
      if (after !== before) for (const id of [before, after]) if (this.nodes.has(id)) dirty.columns.add(id)
    }
  }

  /** The node of the Raft leader the serving manager knows now ('' when none or not known). */
  raftLeaderNodeId(): string {
    return this.raft.members.find((m) => m.leader)?.nodeId ?? ''
  }

  /**
   * Whether node `id` leads: as the serving manager's Raft sees it now when that names a node,
   * else as the store records it (`managerStatus.leader`, refreshed by the leader every few seconds).
   */
  isLeader(id: string): boolean {
    const fromRaft = this.raftLeaderNodeId()
    return fromRaft !== '' ? fromRaft === id : this.nodes.get(id)?.leader === true
  }

  #putTask(t: TaskView): void {
    this.tasks.set(t.id, t)
    let set = this.tasksByNode.get(t.nodeId)
    if (set === undefined) {
      set = new Set()
      this.tasksByNode.set(t.nodeId, set)
    }
    set.add(t.id)
  }

  #dropTask(t: TaskView): void {
    this.tasks.delete(t.id)
    const set = this.tasksByNode.get(t.nodeId)
    set?.delete(t.id)
    if (set !== undefined && set.size === 0 && t.nodeId === UNASSIGNED) this.tasksByNode.delete(t.nodeId)
  }
}

const STATE_ORDER = ['NEW', 'PENDING', 'ASSIGNED', 'ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING', 'COMPLETE', 'SHUTDOWN', 'FAILED', 'REJECTED', 'REMOVE', 'ORPHANED']

/** Whether a task holds its reservation on its node (assigned and not past RUNNING). */
export function holdsResources(t: TaskView): boolean {
  const i = STATE_ORDER.indexOf(t.state)
  return i >= STATE_ORDER.indexOf('ASSIGNED') && i <= STATE_ORDER.indexOf('RUNNING')
}

/** "3s", "5m", "2h", "4d". */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86_400) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86_400)}d`
}

/** CPUs from nano CPUs, memory in GiB/MiB. */
export function formatResources(nanoCpus: number, memoryBytes: number): string {
  const cpu = (nanoCpus / 1e9).toFixed(nanoCpus % 1e9 === 0 ? 0 : 1)
  const mem = memoryBytes >= 2 ** 30 ? `${(memoryBytes / 2 ** 30).toFixed(1)} GiB` : `${Math.round(memoryBytes / 2 ** 20)} MiB`
  return `${cpu} CPU, ${mem}`
}
