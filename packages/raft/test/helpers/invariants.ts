/**
 * Global safety invariants of Raft, checked by the simulator (Raft paper Figure 3 and etcd's
 * TLA+ invariants): election safety, one vote per term, log matching, leader completeness and
 * state-machine safety.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import type { AppliedEntry, Sim, SimNode } from './sim.ts'

/** Thrown when an invariant breaks. */
export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation'
}

/** Accumulates what was observed and checks new observations against it. */
export class InvariantChecker {
  /** term → leader seen in that term. */
  readonly leaders = new Map<number, RaftMemberId>()
  /** "id/term" → vote persisted for that term. */
  readonly votes = new Map<string, RaftMemberId>()
  /** index → the entry some node applied there. */
  readonly applied = new Map<number, AppliedEntry>()
  /** index → highest leader term seen when the entry was first applied (it was committed in that term or before). */
  readonly #committedBy = new Map<number, number>()
  readonly #checkedUpTo = new Map<RaftMemberId, number>()

  /** State-machine safety: every node applies the same entry at each index. */
  afterReady(n: SimNode): void {
    let from = this.#checkedUpTo.get(n.id) ?? 0
    if (n.appliedIndex < from) from = n.appliedIndex
    for (let i = from + 1; i <= n.appliedIndex; i++) {
      const e = n.applied.get(i)
      if (e === undefined) continue // covered by a snapshot that carried no entry here
      const seen = this.applied.get(i)
      if (seen === undefined) {
        this.applied.set(i, e)
        this.#committedBy.set(i, Math.max(0, ...this.leaders.keys()))
      }
      else if (seen.term !== e.term || seen.data !== e.data || seen.type !== e.type) {
        throw new InvariantViolation(`state machine safety: node ${n.id} applied ${JSON.stringify(e)} at ${i}, another applied ${JSON.stringify(seen)}`)
      }
    }
    this.#checkedUpTo.set(n.id, n.appliedIndex)
    const hs = n.storage.hardState()
    if (hs.vote !== 0n) {
      const key = `${n.id}/${hs.term}`
      const prev = this.votes.get(key)
      if (prev !== undefined && prev !== hs.vote) throw new InvariantViolation(`node ${n.id} voted for ${prev} and ${hs.vote} in term ${hs.term}`)
      this.votes.set(key, hs.vote)
    }
  }

  /**
   * Election safety, log matching and leader completeness (a leader holds every entry committed
   * in an earlier term) over the live nodes.
   */
  check(sim: Sim, full = false): void {
    for (const n of sim.nodes.values()) {
      if (!n.alive || n.state !== 'leader') continue
      const prev = this.leaders.get(n.term)
      if (prev !== undefined && prev !== n.id) throw new InvariantViolation(`election safety: ${prev} and ${n.id} both led term ${n.term}`)
      this.leaders.set(n.term, n.id)
      if (full) this.#leaderCompleteness(n)
    }
    if (full) this.#logMatching(sim)
  }

  #leaderCompleteness(l: SimNode): void {
    const s = l.storage
    const first = s.firstIndex()
    const last = s.lastIndex()
    for (const [i, e] of this.applied) {
      // Only leaders of later terms than the one that committed the entry must hold it.
      if (i < first || (this.#committedBy.get(i) ?? 0) >= l.term) continue
      if (i > last) throw new InvariantViolation(`leader completeness: leader ${l.id} (term ${l.term}) lacks committed index ${i}`)
      if (s.term(i) !== e.term) throw new InvariantViolation(`leader completeness: leader ${l.id} has term ${s.term(i)} at committed index ${i}, want ${e.term}`)
    }
  }

  #logMatching(sim: Sim): void {
    const nodes = [...sim.nodes.values()]
    for (let a = 0; a < nodes.length; a++) {
      for (let b = a + 1; b < nodes.length; b++) {
        const x = (nodes[a] as SimNode).storage
        const y = (nodes[b] as SimNode).storage
        const lo = Math.max(x.firstIndex(), y.firstIndex())
        const hi = Math.min(x.lastIndex(), y.lastIndex())
        if (lo > hi) continue
        const xs = x.entries(lo, hi + 1)
        const ys = y.entries(lo, hi + 1)
        // Find the last index where the terms agree; everything before must agree too.
        let lastMatch = -1
        for (let k = xs.length - 1; k >= 0; k--) {
          if (xs[k]?.term === ys[k]?.term) {
            lastMatch = k
            break
          }
        }
        for (let k = 0; k <= lastMatch; k++) {
          const ex = xs[k]
          const ey = ys[k]
          if (ex === undefined || ey === undefined) continue
          if (ex.term !== ey.term || ex.type !== ey.type || !bytesEqual(ex.data, ey.data)) {
            throw new InvariantViolation(`log matching: ${(nodes[a] as SimNode).id} and ${(nodes[b] as SimNode).id} agree at ${lo + lastMatch} but differ at ${ex.index}`)
          }
        }
      }
    }
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
