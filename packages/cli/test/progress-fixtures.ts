/**
 * Fixtures of the converge display tests: snapshots built from a short description, and a tiny
 * terminal that applies the TTY screen's output (newline, carriage return, cursor up/down, clear
 * line) so a test can assert the screen a user sees.
 */
import { TaskState, UpdateState } from '@swarmkit-ts/api'
import type { ServiceProgress, SlotProgress, UpdateProgress } from '@swarmkit-ts/core'

/** A slot: `[slot or node id, observed state, options]`. */
export type SlotSketch = readonly [number | string, TaskState, { readonly desired?: TaskState; readonly upToDate?: boolean; readonly err?: string }?]

/** A snapshot of service `svc1` (replicated unless `mode` says otherwise). */
export function snapshot(sketch: {
  readonly desired: number
  readonly slots: readonly SlotSketch[]
  readonly mode?: ServiceProgress['mode']
  readonly update?: readonly [UpdateState, string?]
  readonly deleted?: boolean
}): ServiceProgress {
  const mode = sketch.mode ?? 'replicated'
  const global = mode === 'global' || mode === 'globalJob'
  const slots: SlotProgress[] = sketch.slots.map(([key, state, o = {}]) => ({
    slot: global ? 0 : Number(key),
    nodeId: global ? String(key) : `node${String(key)}`,
    taskId: `task${String(key)}`,
    state,
    message: '',
    ...(o.err === undefined ? {} : { err: o.err }),
    desiredState: o.desired ?? TaskState.RUNNING,
    upToDate: o.upToDate ?? true,
  }))
  const job = mode === 'replicatedJob' || mode === 'globalJob'
  const done = (s: SlotProgress): boolean =>
    job ? s.state === TaskState.COMPLETE : s.state === TaskState.RUNNING && s.desiredState === TaskState.RUNNING
  const running = slots.filter(done).length
  const runningUpToDate = slots.filter((s) => done(s) && s.upToDate).length
  const updateStatus: UpdateProgress | undefined =
    sketch.update === undefined ? undefined : { state: sketch.update[0], ...(sketch.update[1] === undefined ? {} : { message: sketch.update[1] }) }
  return {
    serviceId: 'svc1',
    name: 'web',
    mode,
    desired: sketch.desired,
    running,
    runningUpToDate,
    slots,
    ...(updateStatus === undefined ? {} : { updateStatus }),
    converged: runningUpToDate === sketch.desired && (updateStatus === undefined || updateStatus.state === UpdateState.COMPLETED),
    deleted: sketch.deleted ?? false,
  }
}

/** The 50-column bar of a running task. */
export const FULL = `[${'='.repeat(50)}>]`

/** Applies terminal output to a screen of lines (enough of VT100 for the TTY screen). */
export class VirtualTerminal {
  readonly #lines: string[] = ['']
  #row = 0
  #col = 0

  write(text: string): void {
    let i = 0
    while (i < text.length) {
      const ch = text[i] as string
      if (ch === '\u001b') {
        const m = /^\[(\d*)([ABK])/.exec(text.slice(i + 1))
        if (m === null) throw new Error(`unexpected escape at ${i}: ${JSON.stringify(text.slice(i, i + 8))}`)
        const n = m[1] === '' ? 1 : Number(m[1])
        if (m[2] === 'A') this.#row = Math.max(0, this.#row - n)
        else if (m[2] === 'B') this.#row += n
        else this.#set('')
        this.#ensure()
        i += m[0].length + 1
        continue
      }
      i++
      if (ch === '\n') {
        this.#row++
        this.#col = 0
        this.#ensure()
      } else if (ch === '\r') {
        this.#col = 0
      } else {
        const line = (this.#lines[this.#row] ?? '').padEnd(this.#col)
        this.#set(line.slice(0, this.#col) + ch + line.slice(this.#col + 1))
        this.#col++
      }
    }
  }

  /** The screen's lines, trailing spaces and the empty last lines dropped. */
  screen(): string[] {
    const out = this.#lines.map((l) => l.trimEnd())
    while (out.length > 0 && out[out.length - 1] === '') out.pop()
    return out
  }

  #set(line: string): void {
    this.#lines[this.#row] = line
  }

  #ensure(): void {
    while (this.#lines.length <= this.#row) this.#lines.push('')
  }
}
