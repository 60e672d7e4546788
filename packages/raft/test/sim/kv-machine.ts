/**
 * The replicated application of the simulation: a key-value store of string registers with put
 * and compare-and-set. Every command carries a unique operation id; RaftNode must never apply
 * one twice (a network that duplicates a forwarded proposal can put it in the log twice), so a
 * command seen again is reported to `onDuplicate` (the simulation fails the run) and skipped.
 */
import type { StateMachine } from '../../src/index.ts'

/** A write command as proposed through Raft. */
export type KvCommand =
  | { readonly op: number; readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly op: number; readonly type: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string }

/** The result of applying a command (the proposer's `propose` resolves with it). */
export type KvResult = { readonly type: 'put' } | { readonly type: 'cas'; readonly ok: boolean } | { readonly type: 'duplicate' }

const enc = new TextEncoder()
const dec = new TextDecoder()

/** Encodes a command as a proposal payload. */
export function encodeCommand(cmd: KvCommand): Uint8Array {
  return enc.encode(JSON.stringify(cmd))
}

/** Decodes a proposal payload. */
export function decodeCommand(payload: Uint8Array): KvCommand {
  return JSON.parse(dec.decode(payload)) as KvCommand
}

/**
 * Sees every command a state machine applies (for state-machine safety); `position` counts the
 * commands applied before it at the same index (a driver may batch several into one entry).
 */
export type ApplyObserver = (index: number, term: number, payload: Uint8Array, position: number) => void

/** The key-value state machine. */
export class KvMachine implements StateMachine {
  data = new Map<string, string>()
  /** Ids of the commands applied so far (part of the replicated state). */
  seen = new Set<number>()
  /** Commands that arrived again after being applied. */
  duplicates = 0
  readonly #observer: ApplyObserver | undefined
  #lastIndex = 0
  #position = 0

  readonly #onDuplicate: ((op: number, index: number) => void) | undefined

  constructor(observer?: ApplyObserver, onDuplicate?: (op: number, index: number) => void) {
    this.#observer = observer
    this.#onDuplicate = onDuplicate
  }

  apply(payload: Uint8Array, entry: { index: number; term: number }): KvResult {
    this.#position = entry.index === this.#lastIndex ? this.#position + 1 : 0
    this.#lastIndex = entry.index
    this.#observer?.(entry.index, entry.term, payload, this.#position)
    const cmd = decodeCommand(payload)
    if (this.seen.has(cmd.op)) {
      this.duplicates++
      this.#onDuplicate?.(cmd.op, entry.index)
      return { type: 'duplicate' }
    }
    this.seen.add(cmd.op)
    if (cmd.type === 'put') {
      this.data.set(cmd.key, cmd.value)
      return { type: 'put' }
    }
    const current = this.data.get(cmd.key) ?? null
    if (current !== cmd.expected) return { type: 'cas', ok: false }
    this.data.set(cmd.key, cmd.value)
    return { type: 'cas', ok: true }
  }

  /** The value of `key` (`null` when absent). */
  get(key: string): string | null {
    return this.data.get(key) ?? null
  }

  snapshot(): Uint8Array {
    return enc.encode(JSON.stringify({ data: [...this.data], seen: [...this.seen] }))
  }

  restore(data: Uint8Array): void {
    const s = JSON.parse(dec.decode(data)) as { data: [string, string][]; seen: number[] }
    this.data = new Map(s.data)
    this.seen = new Set(s.seen)
  }

  /** A canonical text of the state (to compare members). */
  digest(): string {
    return JSON.stringify([...this.data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }
}
