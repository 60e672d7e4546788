/**
 * Test helpers for storage tests. The storage behaviour suite itself is published as
 * `describeRaftStorageCompliance` from `@swarmkit-ts/raft/compliance` (src/compliance/storage.ts).
 */
import type { Entry } from '../../src/index.ts'

/** A normal entry with a 1-byte payload. */
export function ent(index: number, term: number, byte = index & 0xff): Entry {
  return { index, term, type: 'normal', data: new Uint8Array([byte]) }
}
