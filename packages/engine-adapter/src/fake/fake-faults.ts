import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { RuntimeContainerSpec } from '../runtime.ts'
import { matchesLabels } from '../shared/spec-validation.ts'

/**
 * A failure the fake runtime injects into matching containers or pulls:
 * - `exit`: the process ignores its command and exits with `exitCode` after `afterMs` (default 0);
 * - `start-failure`: `start` rejects with `ContainerStartError` (`exitCode` 127 or 126, default 127);
 * - `crash`: the running process dies with `exitCode` (default 139, a SIGSEGV) after `afterMs`;
 * - `unhealthy`: every healthcheck probe fails;
 * - `slow-pull`: `pullImage` of a matching image takes `ms` on the clock (`match.image` selects it).
 */
export type FakeFault =
  | { kind: 'exit'; exitCode: number; afterMs?: number }
  | { kind: 'start-failure'; message?: string; exitCode?: 126 | 127 }
  | { kind: 'crash'; afterMs: number; exitCode?: number }
  | { kind: 'unhealthy' }
  | { kind: 'slow-pull'; ms: number }

/** Which containers (or pulls) a fault applies to; every given field must match. */
export interface FakeFaultMatch {
  /** The spec's (or pull's) image reference. */
  image?: string
  /** The spec's name. */
  name?: string
  /** Labels the spec must carry. */
  labels?: Readonly<Record<string, string>>
  /** Apply to this many matching containers (or pulls), then retire. @default unlimited */
  times?: number
}

/** Handle of an injected fault. */
export interface FakeFaultHandle {
  /** Stops injecting it. */
  remove(): void
}

interface Entry {
  fault: FakeFault
  match: FakeFaultMatch
  left: number
}

/** The faults registered on a fake runtime, matched in registration order. */
export class FakeFaults {
  #entries: Entry[] = []

  /** Registers a fault. */
  add(fault: FakeFault, match: FakeFaultMatch = {}): FakeFaultHandle {
    if (match.times !== undefined && !(Number.isSafeInteger(match.times) && match.times >= 1)) throw new InvalidArgumentError('times', `must be a positive integer, got ${match.times}`)
    const entry: Entry = { fault, match, left: match.times ?? Infinity }
    this.#entries.push(entry)
    return { remove: () => void (this.#entries = this.#entries.filter((e) => e !== entry)) }
  }

  /** The first matching fault of `kind` for a spec, consuming one use. */
  take<K extends FakeFault['kind']>(kind: K, spec: Pick<RuntimeContainerSpec, 'image' | 'name' | 'labels'>): Extract<FakeFault, { kind: K }> | undefined {
    for (const e of this.#entries) {
      if (e.fault.kind !== kind || e.left <= 0) continue
      const m = e.match
      if (m.image !== undefined && m.image !== spec.image) continue
      if (m.name !== undefined && m.name !== spec.name) continue
      if (!matchesLabels(spec.labels ?? {}, m.labels)) continue
      e.left--
      if (e.left <= 0) this.#entries = this.#entries.filter((x) => x !== e)
      return e.fault as Extract<FakeFault, { kind: K }>
    }
    return undefined
  }
}
