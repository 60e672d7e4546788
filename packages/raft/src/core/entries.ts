/**
 * Helpers for sizing and checking log entries, shared by the core and storage implementations.
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { Entry } from './types.ts'
import { MAX_INDEX } from './types.ts'

/** Bytes counted per entry on top of its payload (term, index, type as they go on the wire). */
export const ENTRY_OVERHEAD_BYTES = 16

/**
 * The size of an entry for `maxBytes`/`maxSizePerMsg` limits: its payload plus
 * {@link ENTRY_OVERHEAD_BYTES}. Every storage must use this definition.
 */
export function entrySize(e: Entry): number {
  return e.data.byteLength + ENTRY_OVERHEAD_BYTES
}

/** The payload size of an entry, as counted against `maxUncommittedEntriesSize`. */
export function payloadSize(e: Entry): number {
  return e.data.byteLength
}

/**
 * The longest prefix of `ents` whose total {@link entrySize} is ≤ `maxBytes`, but always at
 * least one entry when `ents` is not empty. `undefined` means no limit. Returns `ents` itself
 * when nothing is cut.
 */
export function limitSize(ents: Entry[], maxBytes: number | undefined): Entry[] {
  if (maxBytes === undefined || ents.length <= 1) return ents
  let size = 0
  for (let i = 0; i < ents.length; i++) {
    size += entrySize(ents[i] as Entry)
    if (size > maxBytes) return ents.slice(0, Math.max(i, 1))
  }
  return ents
}

/**
 * Throws `InvalidArgumentError(field)` unless `n` is an integer in `[0, 2^53 − 1]`: terms and
 * indexes are JS numbers and must stay exact.
 */
export function assertIndex(n: number, field: string): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_INDEX) {
    throw new InvalidArgumentError(field, `must be an integer in 0..2^53-1, got ${String(n)}`)
  }
}

/** Throws `InvalidArgumentError` unless `ents` have safe, contiguous indexes and safe terms. */
export function assertEntries(ents: readonly Entry[], field = 'entries'): void {
  for (let i = 0; i < ents.length; i++) {
    const e = ents[i] as Entry
    assertIndex(e.index, `${field}[${i}].index`)
    assertIndex(e.term, `${field}[${i}].term`)
    if (i > 0 && e.index !== (ents[i - 1] as Entry).index + 1) {
      throw new InvalidArgumentError(`${field}[${i}].index`, `indexes must be contiguous, got ${e.index} after ${(ents[i - 1] as Entry).index}`)
    }
  }
}
