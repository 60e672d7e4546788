/**
 * A deep copy of a Raft message: what an in-memory transport delivers, so that a receiver shares
 * nothing with the sender (as a real transport, which decodes a fresh message).
 *
 * @module
 */
import type { ConfState, Entry, Message } from '../core/types.ts'

const copyEntry = (e: Entry): Entry => ({ ...e, data: e.data.slice() })
const copyConfState = (cs: ConfState): ConfState => ({
  voters: [...cs.voters],
  learners: [...cs.learners],
  votersOutgoing: [...cs.votersOutgoing],
  learnersNext: [...cs.learnersNext],
  autoLeave: cs.autoLeave,
})

/** A deep copy of `m`: its entries, snapshot, configuration and context bytes are copies too. */
export function copyMessage(m: Message): Message {
  switch (m.type) {
    case 'app':
    case 'prop':
      return { ...m, entries: m.entries.map(copyEntry) }
    case 'snapshot':
      return { ...m, snapshot: { metadata: { ...m.snapshot.metadata, confState: copyConfState(m.snapshot.metadata.confState) }, data: m.snapshot.data.slice() } }
    case 'heartbeat':
    case 'heartbeat-resp':
    case 'read-index':
    case 'read-index-resp':
      return { ...m, context: m.context.slice() }
    default:
      return { ...m }
  }
}
