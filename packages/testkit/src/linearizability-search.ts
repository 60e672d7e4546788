/**
 * The Wing & Gong search with Lowe's memoization, over one partition of a history: the engine
 * behind `checkLinearizability`. Internal to the package.
 *
 * The events of the operations sit in a doubly-linked list sorted by time. The search walks the
 * list from its head: at a call it tries to linearize that operation next (the model must accept
 * it, and the configuration reached must be new); on success the operation's events are lifted
 * out of the list and the walk restarts at the head. Reaching a return event means that operation
 * had to be linearized before everything after it and was not, so the search backtracks: it
 * undoes the last linearization (lifting its events back in) and tries the next candidate after
 * it. A history is linearizable once every returned operation is linearized; indeterminate
 * operations (no return, so no return event) may be linearized after their call or never.
 *
 * A configuration is (linearized returned operations D, linearized indeterminate operations X,
 * model state). Two orders of search share this code:
 *
 * - `time-order` walks every call in time order and prunes exact repeats of a configuration.
 *   Close to how the history really ran, it finds a linearization quickly.
 * - `exhaustive` keeps indeterminate calls in a second list that is only tried at a return event
 *   (after every returned candidate), records all of them as visited before exploring any, and
 *   prunes a configuration when one with the same D and state and a subset of X was visited (any
 *   completion of the larger one completes the smaller one, which has more options left). It
 *   proves a violation much faster when lost writes are pending.
 */
import { InternalError } from '@swarmkit-ts/api'
import type { Model, Operation } from './linearizability-types.ts'

const CALL = 0
const RETURN = 1

/** One event of a linked list; a head sentinel has `op === -1`. */
interface EventNode {
  readonly kind: typeof CALL | typeof RETURN
  readonly op: number
  readonly time: number
  prev: EventNode | null
  next: EventNode | null
  /** For a call of a returned operation: its return event. */
  match: EventNode | null
}

/** An indeterminate operation that can be linearized at a stop, and the state it leads to. */
interface Child<S> {
  readonly node: EventNode
  readonly state: S
}

/** A linearization on the search stack, with what is needed to undo it. */
interface Frame<S> {
  readonly node: EventNode
  /** The state before this linearization. */
  readonly state: S
  /** For an indeterminate operation: the candidates generated at the stop, and the next to try. */
  readonly siblings: readonly Child<S>[] | null
  readonly next: number
}

/** Which order of search to run (see the file comment). */
export type SearchMode = 'time-order' | 'exhaustive'

/** The outcome of searching one partition. */
export type SearchOutcome =
  | { readonly kind: 'ok'; readonly steps: number }
  | { readonly kind: 'unknown'; readonly steps: number }
  | {
      readonly kind: 'fail'
      readonly steps: number
      /** Indexes (into the partition) of the longest sequence linearized, in order. */
      readonly longest: readonly number[]
      /** The operation whose return stopped the search at that depth. */
      readonly blocked: number
    }

/** Whether an operation has returned. */
export function isDeterminate<I, O>(op: Operation<I, O>): boolean {
  return op.return !== undefined
}

function node(kind: typeof CALL | typeof RETURN, op: number, time: number): EventNode {
  return { kind, op, time, prev: null, next: null, match: null }
}

/** Links `nodes` (sorted in place: by time, calls before returns at equal times) after a new head. */
function linkSorted(nodes: EventNode[]): EventNode {
  nodes.sort((a, b) => a.time - b.time || a.kind - b.kind || a.op - b.op)
  const head = node(CALL, -1, Number.NEGATIVE_INFINITY)
  let last = head
  for (const n of nodes) {
    last.next = n
    n.prev = last
    last = n
  }
  return head
}

function unlink(n: EventNode): void {
  ;(n.prev as EventNode).next = n.next
  if (n.next !== null) n.next.prev = n.prev
}

function relink(n: EventNode): void {
  ;(n.prev as EventNode).next = n
  if (n.next !== null) n.next.prev = n
}

/** Removes a call event and its return event from their list. */
function lift(call: EventNode): void {
  unlink(call)
  if (call.match !== null) unlink(call.match)
}

/** Undoes {@link lift} (in reverse order, so the neighbours' pointers are exact again). */
function unlift(call: EventNode): void {
  if (call.match !== null) relink(call.match)
  relink(call)
}

/** A 32-bit mixing function (lowbias32): spreads small integers over the whole range. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d)
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b)
  return (x ^ (x >>> 16)) >>> 0
}

function isEqual(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function isSubset(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (((a[i] as number) & ~(b[i] as number)) !== 0) return false
  return true
}

/** A search of one partition that can run in slices. */
export interface PartitionSearch {
  /**
   * Runs about `budget` more steps (one step is one visit of an event; generating the candidates
   * at a return event is not interrupted), and returns `unknown` when still undecided. Steps in
   * the outcome count from the start; once decided, the outcome never changes.
   */
  run(budget: number): SearchOutcome
}

/**
 * Prepares a search for a linearization of `ops` under `model`. Both modes are exact; they differ
 * only in speed.
 */
export function createSearch<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], mode: SearchMode): PartitionSearch {
  const exhaustive = mode === 'exhaustive'
  // Returned operations get slots in the bitset D, indeterminate ones in X.
  const slot: number[] = []
  const main: EventNode[] = []
  const pending: EventNode[] = []
  let determinate = 0
  let indeterminate = 0
  ops.forEach((op, i) => {
    const call = node(CALL, i, op.call)
    if (op.return === undefined) {
      slot.push(indeterminate++)
      ;(exhaustive ? pending : main).push(call)
    } else {
      slot.push(determinate++)
      call.match = node(RETURN, i, op.return)
      main.push(call, call.match)
    }
  })
  if (determinate === 0) {
    const trivial: SearchOutcome = { kind: 'ok', steps: 0 }
    return { run: () => trivial }
  }
  const head = linkSorted(main)
  const pendingHead = linkSorted(pending)
  const dBits = new Uint32Array((determinate + 31) >>> 5)
  const xBits = new Uint32Array((indeterminate + 31) >>> 5)
  const stack: Frame<S>[] = []

  // The memo: configurations hashed by Zobrist hashes of D (and X in time order) and the state's
  // id, then compared exactly. In exhaustive mode one entry per (D, state) holds an antichain of
  // the X sets visited with it.
  const stateIds = new Map<string, number>()
  const seen = new Map<number, { readonly d: Uint32Array; readonly state: number; xs: Uint32Array[] }[]>()
  let dHash = 0
  let xHash = 0

  /** Flips the bit of operation `op` in D or X, and in their hashes. */
  const toggle = (op: number): void => {
    const s = slot[op] as number
    if ((ops[op] as Operation<I, O>).return === undefined) {
      ;(xBits[s >>> 5] as number) ^= 1 << (s & 31)
      xHash ^= mix32(2 * s + 2)
    } else {
      ;(dBits[s >>> 5] as number) ^= 1 << (s & 31)
      dHash ^= mix32(2 * s + 1)
    }
  }
  /** Records the configuration (D, X, `state`); false when it, or one that subsumes it, was seen. */
  const visit = (state: S): boolean => {
    const key = model.key(state)
    let id = stateIds.get(key)
    if (id === undefined) {
      id = stateIds.size
      stateIds.set(key, id)
    }
    const hash = (dHash ^ mix32(id ^ 0x5bd1e995) ^ (exhaustive ? 0 : xHash)) >>> 0
    let bucket = seen.get(hash)
    if (bucket === undefined) {
      bucket = []
      seen.set(hash, bucket)
    }
    const entry = bucket.find((e) => e.state === id && isEqual(e.d, dBits) && (exhaustive || isEqual(e.xs[0] as Uint32Array, xBits)))
    if (entry === undefined) {
      bucket.push({ d: dBits.slice(), state: id, xs: [xBits.slice()] })
      return true
    }
    if (!exhaustive || entry.xs.some((x) => isSubset(x, xBits))) return false
    // Drop the sets the new one makes redundant.
    entry.xs = entry.xs.filter((x) => !isSubset(xBits, x))
    entry.xs.push(xBits.slice())
    return true
  }

  let remaining = determinate
  let state = model.init()
  let entry = head.next
  let steps = 0
  let longest: number[] = []
  let blocked: number | undefined

  /** Linearizes `node` (leading to `next`) on top of the current configuration. */
  const push = (node: EventNode, next: S, siblings: readonly Child<S>[] | null, index: number): void => {
    stack.push({ node, state, siblings, next: index })
    state = next
    if (node.match !== null) remaining--
    lift(node)
    if (stack.length > longest.length) {
      longest = stack.map((f) => f.node.op)
      blocked = undefined
    }
    entry = head.next
  }

  let outcome: SearchOutcome | undefined

  const run = (budget: number): SearchOutcome => {
    outcome ??= search(steps + budget)
    return outcome ?? { kind: 'unknown', steps }
  }

  /** Searches until decided (the outcome) or `limit` steps were taken (undefined). */
  const search = (limit: number): SearchOutcome | undefined => {
    while (remaining > 0) {
      if (steps >= limit) return undefined
      steps++
      // Invariant: while a returned operation is unlinearized its return event is in the list,
      // and the walk reaches it before running off the end.
      if (entry === null) throw new InternalError('linearizability search: ran past the last event')
      if (entry.kind === CALL) {
        const op = ops[entry.op] as Operation<I, O>
        const result = model.step(state, op.input, op.return === undefined ? undefined : op.output)
        if (result.ok) {
          toggle(entry.op)
          if (visit(result.state)) {
            push(entry, result.state, null, 0)
            continue
          }
          toggle(entry.op)
        }
        entry = entry.next
        continue
      }

      // A return event: every returned candidate has been tried from this configuration. Now the
      // indeterminate operations called by then; all of them are recorded as visited before any
      // is explored, so that linearizing a and then b is pruned when b alone reaches that state.
      const stop = entry
      const children: Child<S>[] = []
      for (let p = pendingHead.next; p !== null && p.time <= stop.time; p = p.next) {
        steps++
        const result = model.step(state, (ops[p.op] as Operation<I, O>).input, undefined)
        if (!result.ok) continue
        toggle(p.op)
        if (visit(result.state)) children.push({ node: p, state: result.state })
        toggle(p.op)
      }
      const first = children[0]
      if (first !== undefined) {
        toggle(first.node.op)
        push(first.node, first.state, children, 1)
        continue
      }

      // Nothing left to try from this configuration: backtrack.
      if (stack.length === longest.length && blocked === undefined) blocked = stop.op
      for (;;) {
        const top = stack.pop()
        if (top === undefined) return { kind: 'fail', steps, longest, blocked: blocked ?? stop.op }
        state = top.state
        toggle(top.node.op)
        if (top.node.match !== null) remaining++
        unlift(top.node)
        if (top.siblings === null) {
          entry = top.node.next
          break
        }
        const sibling = top.siblings[top.next]
        if (sibling !== undefined) {
          toggle(sibling.node.op)
          push(sibling.node, sibling.state, top.siblings, top.next + 1)
          break
        }
        // All indeterminate candidates of that configuration are exhausted too: keep going up.
      }
    }
    return { kind: 'ok', steps }
  }
  return { run }
}
