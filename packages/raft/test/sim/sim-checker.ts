/**
 * Raft's safety invariants (paper Figure 3, etcd's TLA+ spec), checked by the simulation after
 * every event and on every message sent, write made, sync completed and entry applied:
 *
 * - **election safety**: at most one leader per term (from roles and from leader-only messages);
 * - **log matching**: an (index, term) pair always names the same entry after the same prefix,
 *   checked incrementally on every append (by induction this is the full property);
 * - **leader completeness**: a leader of term T holds every entry seen committed before T;
 * - **state-machine safety**: no two members apply different entries at one index, and a
 *   committed index never changes term;
 * - **committed is durable**: the members *not* durably holding a member's last applied entry
 *   never form a quorum of that member's configuration; an append acknowledgement is durable
 *   before it is sent;
 * - **vote durability**: a member grants at most one vote per term across crashes, its vote is
 *   durable before it is sent, and its durable term never goes back.
 */
import type { RaftMemberId } from '@swarmkit-ts/api'
import type { Entry, HardState, Message, RaftStatus, RaftStorage } from '../../src/index.ts'
import type { SimDisk } from './sim-disk.ts'

/** A broken invariant. */
export class SimViolation extends Error {
  override readonly name = 'SimViolation'
  readonly invariant: string
  constructor(invariant: string, message: string) {
    super(`${invariant}: ${message}`)
    this.invariant = invariant
  }
}

/** What the checker reads of a live member. */
export interface CheckedMember {
  readonly id: RaftMemberId
  readonly incarnation: number
  readonly disk: SimDisk
  status(): RaftStatus
  readonly applied: number
}

/** Which groups of invariants run. */
export interface CheckerOptions {
  /**
   * Checks on durable state (committed-is-durable, durable acks and votes, durable term). Off
   * only to show that the end-to-end checks catch a broken disk by themselves. @default true
   */
  durability?: boolean
  /** Entries committed by fiat at bootstrap (exempt from committed-is-durable). */
  bootstrapEntries: number
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

/** The term of the entry at `i` as `store` knows it (from its log or its snapshot), if it does. */
export function termAt(store: RaftStorage, i: number): number | undefined {
  if (i >= store.firstIndex() - 1 && i <= store.lastIndex()) return store.term(i)
  const snap = store.snapshot().metadata
  return snap.index === i ? snap.term : undefined
}

function fail(invariant: string, message: string): never {
  throw new SimViolation(invariant, message)
}

const LEADER_ONLY = new Set<Message['type']>(['app', 'heartbeat', 'snapshot', 'timeout-now'])

/** Accumulates observations over a run and checks each new one against them. */
export class SimChecker {
  readonly #opts: CheckerOptions
  /** term → the member that led it. */
  readonly leaders = new Map<number, RaftMemberId>()
  /** "voter/term" → the candidate that got its vote. */
  readonly #granted = new Map<string, RaftMemberId>()
  /** "index/term" → the entry and the term before it. */
  readonly #entries = new Map<string, { prevTerm: number; entry: Entry }>()
  /** "index/position" → the command applied there by some member (payload and term). */
  readonly #applied = new Map<string, { term: number; payload: Uint8Array }>()
  /** index → term of the committed entry, and the highest leader term seen when it was first seen committed. */
  readonly #committed = new Map<number, { term: number; leaderTerm: number }>()
  #maxCommitted = 0
  #maxLeaderTerm = 0
  /** "member/term" pairs whose leader completeness was checked. */
  readonly #checkedLeaders = new Set<string>()
  /** member → last durable hard state seen (across incarnations). */
  readonly #durableHs = new Map<RaftMemberId, HardState>()
  /** member → last (incarnation, commit) seen. */
  readonly #commits = new Map<RaftMemberId, { incarnation: number; commit: number }>()
  /** member → the committed prefix already read from its log (per incarnation). */
  readonly #scanned = new Map<RaftMemberId, { incarnation: number; upTo: number }>()
  /** member → last (applied, config, crash count) checked for committed-is-durable. */
  readonly #durableChecked = new Map<RaftMemberId, string>()
  #crashes = 0
  /** Number of checks run (for reports). */
  steps = 0

  constructor(opts: CheckerOptions) {
    this.#opts = opts
  }

  get #durability(): boolean {
    return this.#opts.durability ?? true
  }

  /** Log matching, incrementally: each (index, term) has one entry and one predecessor term. */
  onAppend(member: RaftMemberId, entries: readonly Entry[], prevTerm: number): void {
    let prev = prevTerm
    for (const e of entries) {
      const key = `${e.index}/${e.term}`
      const seen = this.#entries.get(key)
      if (seen === undefined) {
        this.#entries.set(key, { prevTerm: prev, entry: e })
      } else {
        if (seen.entry.type !== e.type || !sameBytes(seen.entry.data, e.data)) fail('log matching', `member ${member} wrote a different entry at index ${e.index} term ${e.term}`)
        if (prev !== -1 && seen.prevTerm !== -1 && seen.prevTerm !== prev) {
          fail('log matching', `member ${member} has term ${prev} before (${e.index}, ${e.term}), another member had ${seen.prevTerm}`)
        }
      }
      prev = e.term
    }
  }

  /** State-machine safety: every member applies the same commands at an index. */
  onApply(member: RaftMemberId, index: number, term: number, payload: Uint8Array, position = 0): void {
    const key = `${index}/${position}`
    const seen = this.#applied.get(key)
    if (seen === undefined) this.#applied.set(key, { term, payload })
    else if (seen.term !== term || !sameBytes(seen.payload, payload)) fail('state-machine safety', `member ${member} applied a different entry at index ${index} (term ${term}, another applied term ${seen.term})`)
  }

  /** Checks what a member's messages claim at the moment they leave. */
  onSend(from: RaftMemberId, disk: SimDisk, msgs: readonly Message[]): void {
    for (const m of msgs) {
      if (LEADER_ONLY.has(m.type)) this.#leader(m.term, from)
      if (m.type === 'vote-resp' && !m.reject) {
        const key = `${from}/${m.term}`
        const prev = this.#granted.get(key)
        if (prev !== undefined && prev !== m.to) fail('vote durability', `member ${from} voted for ${prev} and ${m.to} in term ${m.term}`)
        this.#granted.set(key, m.to)
        if (this.#durability) {
          const hs = disk.durable.hardState()
          if (hs.term < m.term || (hs.term === m.term && hs.vote !== m.to)) {
            fail('vote durability', `member ${from} sent its vote for ${m.to} in term ${m.term} before it was durable (durable term ${hs.term}, vote ${hs.vote})`)
          }
        }
      }
      // An acknowledgement from an earlier term than the sender's durable one is harmless even if
      // what it acknowledged never reached the disk: a leader of a later term superseded that
      // entry first (as in the Raft model, where the entry could have been written, acknowledged
      // and then overwritten), and the sender can never vote in the earlier term again.
      if (m.type === 'app-resp' && !m.reject && this.#durability && m.index > 0 && disk.durable.hardState().term <= m.term) {
        const term = termAt(disk.live, m.index) ?? this.#committed.get(m.index)?.term
        const ok = term === undefined ? disk.durable.snapshot().metadata.index >= m.index : disk.durablyHolds(m.index, term)
        if (!ok) {
          const d = disk.durable
          fail(
            'committed is durable',
            `member ${from} acknowledged index ${m.index} (term ${term ?? '?'}) to ${m.to} in term ${m.term} before it was durable (durable log ${d.firstIndex()}..${d.lastIndex()}, term there ${termAt(d, m.index) ?? '-'}, snapshot ${d.snapshot().metadata.index}; ${disk.unsyncedOps} unsynced writes)`,
          )
        }
      }
    }
  }

  /** Vote durability on disk: the durable term never decreases and a durable vote never changes within its term. */
  onSynced(member: RaftMemberId, disk: SimDisk): void {
    if (!this.#durability) return
    const hs = disk.durable.hardState()
    const prev = this.#durableHs.get(member)
    if (prev !== undefined) {
      if (hs.term < prev.term) fail('vote durability', `member ${member}'s durable term went back from ${prev.term} to ${hs.term}`)
      if (hs.term === prev.term && prev.vote !== 0n && hs.vote !== prev.vote) fail('vote durability', `member ${member}'s durable vote in term ${hs.term} changed from ${prev.vote} to ${hs.vote}`)
    }
    this.#durableHs.set(member, hs)
  }

  /** A process crashed: durability of every applied entry is checked again. */
  onCrash(): void {
    this.#crashes++
  }

  #leader(term: number, id: RaftMemberId): void {
    const prev = this.leaders.get(term)
    if (prev !== undefined && prev !== id) fail('election safety', `members ${prev} and ${id} both led term ${term}`)
    this.leaders.set(term, id)
    if (term > this.#maxLeaderTerm) this.#maxLeaderTerm = term
  }

  /**
   * The per-event check over the live members; `disks` holds every member's disk (live, crashed
   * or removed), the possible holders of durable copies.
   */
  step(live: readonly CheckedMember[], disks: ReadonlyMap<RaftMemberId, SimDisk>): void {
    this.steps++
    const statuses = live.map((m) => ({ m, st: m.status() }))
    for (const { m, st } of statuses) if (st.softState.state === 'leader') this.#leader(st.hardState.term, m.id)
    for (const { m, st } of statuses) this.#commitSeen(m, st)
    for (const { m, st } of statuses) {
      if (st.softState.state === 'leader') this.#leaderCompleteness(m, st.hardState.term)
      if (this.#durability) this.#committedIsDurable(m, st, disks)
    }
  }

  #commitSeen(m: CheckedMember, st: RaftStatus): void {
    const commit = st.hardState.commit
    const prev = this.#commits.get(m.id)
    if (prev !== undefined && prev.incarnation === m.incarnation && commit < prev.commit) fail('commit monotonic', `member ${m.id}'s commit went back from ${prev.commit} to ${commit}`)
    this.#commits.set(m.id, { incarnation: m.incarnation, commit })
    const scanned = this.#scanned.get(m.id)
    const from = scanned !== undefined && scanned.incarnation === m.incarnation ? scanned.upTo + 1 : 1
    const live = m.disk.live
    const first = live.firstIndex() - 1
    const last = Math.min(commit, live.lastIndex())
    const snap = live.snapshot().metadata
    // Read the committed range this member can show; a committed entry never changes term.
    for (let i = Math.max(from, Math.min(first, snap.index)); i <= last; i++) {
      const term = i >= first ? live.term(i) : i === snap.index ? snap.term : undefined
      if (term === undefined || i === 0) continue
      const seen = this.#committed.get(i)
      if (seen === undefined) {
        if (i > this.#maxCommitted) this.#maxCommitted = i
        this.#committed.set(i, { term, leaderTerm: this.#maxLeaderTerm })
      } else if (seen.term !== term) {
        fail('state-machine safety', `member ${m.id} has term ${term} at committed index ${i}, committed with term ${seen.term}`)
      }
    }
    if (last >= from) this.#scanned.set(m.id, { incarnation: m.incarnation, upTo: last })
  }

  #leaderCompleteness(m: CheckedMember, term: number): void {
    const key = `${m.id}/${term}`
    if (this.#checkedLeaders.has(key)) return
    this.#checkedLeaders.add(key)
    const live = m.disk.live
    const covered = live.snapshot().metadata.index
    for (const [i, c] of this.#committed) {
      if (c.leaderTerm >= term || i <= covered || i < live.firstIndex() - 1) continue
      if (i > live.lastIndex()) fail('leader completeness', `leader ${m.id} of term ${term} lacks committed index ${i}`)
      if (live.term(i) !== c.term) fail('leader completeness', `leader ${m.id} of term ${term} has term ${live.term(i)} at committed index ${i}, want ${c.term}`)
    }
  }

  #committedIsDurable(m: CheckedMember, st: RaftStatus, disks: ReadonlyMap<RaftMemberId, SimDisk>): void {
    const a = m.applied
    if (a <= this.#opts.bootstrapEntries) return
    // The configuration only changes with the applied index (or a restart).
    const key = `${a}/${m.incarnation}/${this.#crashes}`
    if (this.#durableChecked.get(m.id) === key) return
    this.#durableChecked.set(m.id, key)
    const term = this.#committed.get(a)?.term
    if (term === undefined) return
    const cfg = st.config
    const missing = (ids: readonly RaftMemberId[]): number => ids.filter((id) => disks.get(id)?.durablyHolds(a, term) !== true).length
    const quorumMissing = (ids: readonly RaftMemberId[]): boolean => ids.length > 0 && missing(ids) >= Math.floor(ids.length / 2) + 1
    if (quorumMissing(cfg.voters) && (cfg.votersOutgoing.length === 0 || quorumMissing(cfg.votersOutgoing))) {
      fail('committed is durable', `member ${m.id} applied index ${a} (term ${term}) but a quorum of its configuration does not durably hold it`)
    }
  }

  /** The highest index seen committed. */
  get maxCommitted(): number {
    return this.#maxCommitted
  }
}
