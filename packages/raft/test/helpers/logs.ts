import type { RaftMemberId } from '@swarmkit-ts/api'
import { MemoryRaftStorage, emptyConfState } from '../../src/index.ts'
import type { Message, StateMachine } from '../../src/index.ts'

const enc = new TextEncoder()

/**
 * A storage holding a log with the given terms at indexes 1..n (data "term.index"), a
 * configuration of `voters`, and the hard state (term, no vote, commit).
 */
export function storageWithLog(terms: number[], voters: RaftMemberId[], term: number, commit: number): MemoryRaftStorage {
  return new MemoryRaftStorage({
    snapshot: { metadata: { index: 0, term: 0, confState: { ...emptyConfState(), voters } }, data: enc.encode('[]') },
    entries: terms.map((t, i) => ({ term: t, index: i + 1, type: 'normal', data: enc.encode(`${t}.${i + 1}`) })),
    hardState: { term, vote: 0n, commit },
  })
}

/** A compact description of a message for assertions. */
export function describe(m: Message): string {
  const base = `${m.from}->${m.to} ${m.type} t${m.term}`
  switch (m.type) {
    case 'app':
      return `${base} i${m.index} lt${m.logTerm} c${m.commit} [${m.entries.map((e) => `${e.term}/${e.index}`).join(',')}]`
    case 'app-resp':
      return `${base} i${m.index}${m.reject ? ` reject hint ${m.rejectHint}/${m.logTerm}` : ''}`
    case 'vote':
    case 'pre-vote':
      return `${base} i${m.index} lt${m.logTerm}${m.transfer ? ' transfer' : ''}`
    case 'vote-resp':
    case 'pre-vote-resp':
      return `${base}${m.reject ? ' reject' : ''}`
    case 'heartbeat':
      return `${base} c${m.commit}`
    case 'snapshot':
      return `${base} snap i${m.snapshot.metadata.index} lt${m.snapshot.metadata.term}`
    case 'read-index-resp':
      return `${base} i${m.index}`
    default:
      return base
  }
}

/** Records applied payloads (as text); its snapshot is that list. */
export class TextLog implements StateMachine {
  applied: string[] = []
  apply(payload: Uint8Array): unknown {
    this.applied.push(new TextDecoder().decode(payload))
    return this.applied.length
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.applied))
  }
  restore(data: Uint8Array): void {
    this.applied = JSON.parse(new TextDecoder().decode(data)) as string[]
  }
}
