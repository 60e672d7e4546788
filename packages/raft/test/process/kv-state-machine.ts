/**
 * The replicated key-value map of the fixture process: a proposal is the UTF-8 string
 * `key=value`; applying it sets the key and returns the value.
 */
import type { StateMachine } from '@swarmkit-ts/raft'
import type { AppliedDump } from './protocol.ts'

const decoder = new TextDecoder()

/** A deterministic key-value {@link StateMachine} that remembers what it applied. */
export class KvStateMachine implements StateMachine {
  data = new Map<string, string>()
  readonly applied: AppliedDump[] = []

  apply(payload: Uint8Array, entry: { index: number; term: number }): unknown {
    const text = decoder.decode(payload)
    const eq = text.indexOf('=')
    if (eq < 0) throw new Error(`kv: malformed proposal ${JSON.stringify(text)}`)
    const value = text.slice(eq + 1)
    this.data.set(text.slice(0, eq), value)
    this.applied.push({ index: entry.index, term: entry.term, payload: text })
    return value
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([...this.data]))
  }

  restore(data: Uint8Array): void {
    this.data = new Map(JSON.parse(new TextDecoder().decode(data)) as Array<[string, string]>)
  }
}
