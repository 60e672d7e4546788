/**
 * A deep copy of a Raft message: what an in-memory transport delivers, so that a receiver shares
 * nothing with the sender (as a real transport, which decodes a fresh message) — or, with
 * `shareBytes`, nothing but the bytes it carries.
 *
 * @module
 */
import type { ConfState, Entry, Message } from '../core/types.ts'

/** How {@link copyMessage} copies. */
export interface CopyMessageOptions {
  /**
   * Give the copy the very entry, snapshot and context bytes of `m` instead of copies of them
   * (default false); the message, its entries, snapshot metadata and configuration are still new
   * objects. For an in-process network whose every receiver treats a message's bytes as
   * immutable, as this package does: no part of raft writes into bytes it was given, and a
   * storage keeps the entries it is handed. With several nodes in one process, a shared copy of
   * each entry's bytes is one copy of the log instead of one per node.
   */
  readonly shareBytes?: boolean
}

const copyConfState = (cs: ConfState): ConfState => ({
  voters: [...cs.voters],
  learners: [...cs.learners],
  votersOutgoing: [...cs.votersOutgoing],
  learnersNext: [...cs.learnersNext],
  autoLeave: cs.autoLeave,
})

const copyEntry = (e: Entry): Entry => ({ ...e, data: e.data.slice() })
const shareEntry = (e: Entry): Entry => ({ ...e })

/** A deep copy of `m`: its entries, snapshot, configuration and context bytes are copies too (unless `options.shareBytes`). */
export function copyMessage(m: Message, options?: CopyMessageOptions): Message {
  const share = options?.shareBytes === true
  switch (m.type) {
    case 'app':
    case 'prop':
      return { ...m, entries: m.entries.map(share ? shareEntry : copyEntry) }
    case 'snapshot': {
      const data = share ? m.snapshot.data : m.snapshot.data.slice()
      return { ...m, snapshot: { metadata: { ...m.snapshot.metadata, confState: copyConfState(m.snapshot.metadata.confState) }, data } }
    }
    case 'heartbeat':
    case 'heartbeat-resp':
    case 'read-index':
    case 'read-index-resp':
      return { ...m, context: share ? m.context : m.context.slice() }
    default:
      return { ...m }
  }
}
