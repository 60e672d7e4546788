/**
 * The assertions of the real-process tests over the members' dumps: acknowledged writes are
 * everywhere, the states are equal, the logs match entry by entry, and no process applied an
 * index twice or out of order.
 */
import { expect } from 'vitest'
import type { KvNodeDump, LogEntryDump } from './protocol.ts'

/** Stored entries `lo..hi` of a dump (its log must hold them). */
function slice(d: KvNodeDump, lo: number, hi: number): LogEntryDump[] {
  return d.log.filter((e) => e.index >= lo && e.index <= hi)
}

/**
 * Asserts that every acknowledged write is present with its value on every member, that the
 * members' states are equal, and that their logs match over the range all of them still store.
 * Returns that range.
 */
export function expectConsistent(dumps: ReadonlyMap<bigint, KvNodeDump>, acked: ReadonlyMap<string, string>): { lo: number; hi: number } {
  const all = [...dumps.entries()]
  const [, ref] = all[0] ?? []
  if (ref === undefined) throw new Error('no dumps')
  for (const [id, d] of all) {
    const kv = new Map(d.kv)
    const missing = [...acked].filter(([k, v]) => kv.get(k) !== v).map(([k, v]) => `${k}=${v} (found ${kv.get(k) ?? 'nothing'})`)
    expect({ member: id, missing: missing.slice(0, 10), count: missing.length }).toEqual({ member: id, missing: [], count: 0 })
    expect({ member: id, applied: d.applied, kv: d.kv }).toEqual({ member: id, applied: ref.applied, kv: ref.kv })
  }

  // The logs: each dump holds firstIndex..applied, contiguous.
  for (const [id, d] of all) {
    const first = d.log[0]?.index ?? d.applied + 1
    expect({ member: id, indexes: d.log.map((e) => e.index) }).toEqual({ member: id, indexes: Array.from({ length: d.applied - first + 1 }, (_, i) => first + i) })
  }
  const lo = Math.max(...all.map(([, d]) => d.log[0]?.index ?? d.applied + 1))
  const hi = Math.min(...all.map(([, d]) => d.applied))
  for (const [id, d] of all) expect({ member: id, log: slice(d, lo, hi) }).toEqual({ member: id, log: slice(ref, lo, hi) })

  // What each process applied: entries in increasing index order (one entry may carry a batch
  // of proposals), and the same proposals at an index wherever more than one process applied it.
  const byIndex = new Map<number, string>()
  for (const [id, d] of all) {
    const idx = d.appliedEntries.map((e) => e.index)
    expect({ member: id, nonDecreasing: idx.every((v, i) => i === 0 || v >= (idx[i - 1] as number)) }).toEqual({ member: id, nonDecreasing: true })
    const perIndex = new Map<number, string[]>()
    for (const e of d.appliedEntries) {
      const list = perIndex.get(e.index) ?? []
      list.push(`${e.term}|${e.payload}`)
      perIndex.set(e.index, list)
    }
    for (const [index, list] of perIndex) {
      const key = list.join('\n')
      const seen = byIndex.get(index)
      if (seen === undefined) byIndex.set(index, key)
      else expect({ member: id, index, entry: key }).toEqual({ member: id, index, entry: seen })
    }
  }
  return { lo, hi }
}
