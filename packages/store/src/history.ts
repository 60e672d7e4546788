/**
 * A bounded history of recent change sets, for `changesSince` and watch resume.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { StoreEvent } from '@swarmkit-ts/api'
import { HistoryTrimmedError } from './errors.ts'

interface Entry {
  readonly version: bigint
  readonly events: readonly StoreEvent[]
}

/** The events of recent change sets, at most `limit` events (a single larger change set is kept whole). */
export class ChangeHistory {
  private entries: Entry[] = []
  private head = 0
  private total = 0
  /** Changes after this version are all retained. */
  private floor: bigint

  private readonly limit: number

  constructor(limit: number, start: bigint) {
    this.limit = limit
    this.floor = start
  }

  /** Records the events of the change set applied at `version`. */
  add(version: bigint, events: readonly StoreEvent[]): void {
    if (this.limit <= 0) {
      this.floor = version
      return
    }
    if (events.length === 0) return
    this.entries.push({ version, events })
    this.total += events.length
    while (this.total > this.limit && this.entries.length - this.head > 1) {
      const e = this.entries[this.head] as Entry
      this.entries[this.head] = undefined as unknown as Entry
      this.head++
      this.total -= e.events.length
      this.floor = e.version
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.head = 0
    }
  }

  /** Forgets everything; resume works only from `version` on. */
  reset(version: bigint): void {
    this.entries = []
    this.head = 0
    this.total = 0
    this.floor = version
  }

  /** The oldest version `since` accepts. */
  get oldest(): bigint {
    return this.floor
  }

  /** Every event of change sets applied after `version` (which must be ≤ `current`). */
  since(version: bigint, current: bigint): StoreEvent[] {
    if (typeof version !== 'bigint') throw new InvalidArgumentError('version', 'must be a bigint')
    if (version > current) throw new InvalidArgumentError('version', `is ahead of the store (version ${current})`)
    if (version < this.floor) throw new HistoryTrimmedError(version, this.floor)
    const out: StoreEvent[] = []
    // Entries are ordered by version: find the first one after `version` from the end.
    let i = this.entries.length
    while (i > this.head && (this.entries[i - 1] as Entry).version > version) i--
    for (; i < this.entries.length; i++) for (const ev of (this.entries[i] as Entry).events) out.push(ev)
    return out
  }
}
