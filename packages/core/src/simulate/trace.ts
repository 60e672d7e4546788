/**
 * The simulation's trace: one line per thing that happened — leader changes, crashes, restarts,
 * partitions, control writes, and the store changes every manager applies (recorded once, by
 * the first manager to apply each log index) — each stamped with the virtual ms since the
 * cluster started. Nothing in it depends on real time, so the same seed and the same calls give
 * the same text, byte for byte.
 *
 * @module
 */
import { taskStateName } from '@swarmkit-ts/api'
import type { Clock } from '@swarmkit-ts/api'
import type { MemoryStore, WatchEvent } from '@swarmkit-ts/store'

/** Records trace lines (or nothing, when off). */
export class TraceLog {
  readonly #clock: Clock
  readonly #start: number
  readonly #on: boolean
  readonly #lines: string[] = []
  /** The highest store version (log index) whose changes are recorded. */
  #applied = 0n

  constructor(clock: Clock, on: boolean) {
    this.#clock = clock
    this.#start = clock.now()
    this.#on = on
  }

  /** Whether lines are recorded. */
  get on(): boolean {
    return this.#on
  }

  /** Records one line. */
  add(line: string): void {
    if (this.#on) this.#lines.push(`${this.#clock.now() - this.#start} ${line}`)
  }

  /** The trace so far, one line per event, each ending in a newline. */
  text(): string {
    return this.#lines.length === 0 ? '' : `${this.#lines.join('\n')}\n`
  }

  /**
   * Records the changes of `store` (one manager's) until `signal` aborts: each transaction's
   * changes once its commit arrives, unless another manager recorded that log index already.
   */
  async follow(store: MemoryStore, signal: AbortSignal): Promise<void> {
    if (!this.#on) return
    const pending: string[] = []
    try {
      // No queue limit: the trace is the record, and an overflow would cut it short. The loop
      // drains the queue every turn, so it holds at most what one turn applied.
      for await (const ev of store.watch({}, { signal, queueLimit: Number.MAX_SAFE_INTEGER })) {
        if (ev.action === 'commit') {
          if (ev.version.index > this.#applied) {
            this.#applied = ev.version.index
            for (const line of pending) this.add(line)
          }
          pending.length = 0
          continue
        }
        const line = describe(ev)
        if (line !== undefined) pending.push(line)
      }
    } catch (err) {
      if (!signal.aborted) this.add(`trace: a store watch failed: ${String(err)}`)
    }
  }
}

/** One line for an object change, or undefined for changes not worth a line. */
function describe(ev: Exclude<WatchEvent, { action: 'commit' }>): string | undefined {
  if (ev.kind === 'task') {
    const t = ev.object
    const where = `${t.serviceId.slice(0, 6)}.${t.slot === 0 ? t.nodeId.slice(0, 6) : t.slot}`
    if (ev.action === 'create') return `task ${t.id.slice(0, 8)} ${where} created`
    if (ev.action === 'delete') return `task ${t.id.slice(0, 8)} ${where} deleted`
    const old = ev.oldObject
    if (old !== undefined && old.status.state === t.status.state && old.desiredState === t.desiredState && old.nodeId === t.nodeId) return undefined
    const node = t.nodeId === '' ? '' : ` on ${t.nodeId.slice(0, 6)}`
    return `task ${t.id.slice(0, 8)} ${where} ${taskStateName(t.status.state)} (desired ${taskStateName(t.desiredState)})${node}`
  }
  if (ev.kind === 'node') {
    const n = ev.object
    if (ev.action !== 'update') return `node ${n.id.slice(0, 6)} ${ev.action}d`
    const old = ev.oldObject
    if (old !== undefined && old.status.state === n.status.state && old.spec.availability === n.spec.availability) return undefined
    return `node ${n.id.slice(0, 6)} ${n.status.state} ${n.spec.availability}`
  }
  if (ev.kind === 'service') return `service ${ev.object.id.slice(0, 6)} ${ev.object.spec.annotations.name} ${ev.action}d`
  return undefined
}
