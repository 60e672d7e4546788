/**
 * The nodes in SwarmKit's ranking for a service that has no task and no failure on them: fewest
 * active tasks, then node id. Kept lazily in heaps: a change pushes a new entry, and an entry
 * whose count is outdated (or whose node is gone) is dropped when it comes up. Besides the order
 * of all nodes, one order per set of static filters ({@link NodeScope}) keeps only the nodes that
 * pass them, so a filter passing few nodes does not walk past the others for every group.
 *
 * @module
 */
import { Heap } from './heap.ts'
import type { NodeInfo } from './node-info.ts'

/** Static filters shared by many groups. */
export interface NodeScope {
  /** Equal for scopes that pass the same nodes. */
  readonly key: string
  /** Whether a node is in the scope (depends on the node object alone). */
  readonly passes: (info: NodeInfo) => boolean
}

/** A node and its active task count when pushed. */
interface LoadEntry {
  readonly info: NodeInfo
  readonly count: number
}

/** The nodes of one scope and their order. */
interface View {
  readonly members: Set<NodeInfo>
  load: Heap<LoadEntry>
}

/** Most scopes kept at once; one more clears them all. */
const MAX_VIEWS = 32

const loadLess = (a: LoadEntry, b: LoadEntry): boolean => a.count < b.count || (a.count === b.count && a.info.id < b.info.id)

function loadHeap(nodes: Iterable<NodeInfo>): Heap<LoadEntry> {
  const entries: LoadEntry[] = []
  for (const info of nodes) entries.push({ info, count: info.activeTasks })
  return new Heap(entries, loadLess)
}

/** The load order of a NodeSet's nodes (see the module doc). */
export class LoadOrder {
  readonly #nodes: ReadonlyMap<string, NodeInfo>
  #load: Heap<LoadEntry> = loadHeap([])
  readonly #views = new Map<string, View>()

  /** The order of the nodes in `nodes` (the NodeSet's live map). */
  constructor(nodes: ReadonlyMap<string, NodeInfo>) {
    this.#nodes = nodes
  }

  /** Drops every scope: call when a node is added, changed or removed. */
  invalidate(): void {
    this.#views.clear()
  }

  /** Records that `info` is new or its active task count changed. */
  push(info: NodeInfo): void {
    const entry = { info, count: info.activeTasks }
    for (const view of this.#views.values()) {
      if (!view.members.has(info)) continue
      if (view.load.size > 2 * view.members.size + 1024) view.load = loadHeap(view.members)
      else view.load.push(entry)
    }
    if (this.#load.size > 2 * this.#nodes.size + 1024) this.#load = loadHeap(this.#nodes.values())
    else this.#load.push(entry)
  }

  /** Up to `limit` nodes (of `scope`, if given) that `accept` takes, in order; each node once. */
  first(limit: number, accept: (info: NodeInfo) => boolean, scope?: NodeScope): NodeInfo[] {
    const load = scope === undefined ? this.#load : this.#view(scope).load
    const out: NodeInfo[] = []
    const seen: LoadEntry[] = []
    const visited = new Set<NodeInfo>()
    while (out.length < limit) {
      const e = load.pop()
      if (e === undefined) break
      const info = e.info
      // Stale (removed node, outdated count) or a second entry of a node already seen: dropped.
      if (this.#nodes.get(info.id) !== info || e.count !== info.activeTasks || visited.has(info)) continue
      visited.add(info)
      seen.push(e)
      if (accept(info)) out.push(info)
    }
    for (const e of seen) load.push(e)
    return out
  }

  #view(scope: NodeScope): View {
    let view = this.#views.get(scope.key)
    if (view === undefined) {
      if (this.#views.size >= MAX_VIEWS) this.#views.clear()
      const members = new Set<NodeInfo>()
      for (const info of this.#nodes.values()) if (scope.passes(info)) members.add(info)
      view = { members, load: loadHeap(members) }
      this.#views.set(scope.key, view)
    }
    return view
  }
}
