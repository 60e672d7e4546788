/**
 * fast-check arbitraries of Raft messages: one per type (`byType`, the `Record` makes the compiler
 * insist on every type) and any message (`arbMessage`), with ids over the whole uint64 range and
 * terms and indexes up to 2^53 − 1.
 */
import fc from 'fast-check'
import type { ConfState, Entry, Message, MessageType, Snapshot } from '../../src/core/types.ts'

export const U64_MAX = 2n ** 64n - 1n
export const ID_2_63_PLUS_1 = 2n ** 63n + 1n

export const arbId = fc.oneof(
  fc.constantFrom(0n, 1n, U64_MAX, ID_2_63_PLUS_1, 2n ** 63n, 2n ** 32n, 2n ** 32n - 1n),
  fc.bigInt({ min: 0n, max: U64_MAX }),
)
export const arbNum = fc.oneof(fc.constantFrom(0, 1, 2 ** 32, Number.MAX_SAFE_INTEGER), fc.maxSafeNat(), fc.nat(1000))
export const arbBytes = fc.uint8Array({ maxLength: 48 })
const arbEntry: fc.Arbitrary<Entry> = fc.record({ term: arbNum, index: arbNum, type: fc.constantFrom('normal', 'conf-change'), data: arbBytes })
const arbEntries = fc.array(arbEntry, { maxLength: 5 })
const arbIds = fc.array(arbId, { maxLength: 4 })
const arbConfState: fc.Arbitrary<ConfState> = fc.record({ voters: arbIds, learners: arbIds, votersOutgoing: arbIds, learnersNext: arbIds, autoLeave: fc.boolean() })
const arbSnapshot: fc.Arbitrary<Snapshot> = fc.record({ metadata: fc.record({ index: arbNum, term: arbNum, confState: arbConfState }), data: fc.uint8Array({ maxLength: 256 }) })
const base = { from: arbId, to: arbId, term: arbNum }

/** One arbitrary per message type; the `Record` makes the compiler insist on every type. */
export const byType: { [T in MessageType]: fc.Arbitrary<Message & { type: T }> } = {
  app: fc.record({ ...base, type: fc.constant('app'), logTerm: arbNum, index: arbNum, entries: arbEntries, commit: arbNum }),
  'app-resp': fc.record({ ...base, type: fc.constant('app-resp'), index: arbNum, reject: fc.boolean(), rejectHint: arbNum, logTerm: arbNum }),
  vote: fc.record({ ...base, type: fc.constant('vote'), logTerm: arbNum, index: arbNum, transfer: fc.boolean() }),
  'pre-vote': fc.record({ ...base, type: fc.constant('pre-vote'), logTerm: arbNum, index: arbNum, transfer: fc.boolean() }),
  'vote-resp': fc.record({ ...base, type: fc.constant('vote-resp'), reject: fc.boolean() }),
  'pre-vote-resp': fc.record({ ...base, type: fc.constant('pre-vote-resp'), reject: fc.boolean() }),
  heartbeat: fc.record({ ...base, type: fc.constant('heartbeat'), commit: arbNum, context: arbBytes }),
  'heartbeat-resp': fc.record({ ...base, type: fc.constant('heartbeat-resp'), context: arbBytes }),
  snapshot: fc.record({ ...base, type: fc.constant('snapshot'), snapshot: arbSnapshot }),
  'timeout-now': fc.record({ ...base, type: fc.constant('timeout-now') }),
  'read-index': fc.record({ ...base, type: fc.constant('read-index'), context: arbBytes }),
  'read-index-resp': fc.record({ ...base, type: fc.constant('read-index-resp'), index: arbNum, context: arbBytes }),
  'transfer-leader': fc.record({ ...base, type: fc.constant('transfer-leader') }),
  prop: fc.record({ ...base, type: fc.constant('prop'), entries: arbEntries }),
  unreachable: fc.record({ ...base, type: fc.constant('unreachable') }),
  'snap-status': fc.record({ ...base, type: fc.constant('snap-status'), reject: fc.boolean() }),
}
export const arbMessage: fc.Arbitrary<Message> = fc.oneof(...Object.values(byType))
