/**
 * A task database whose writes take virtual time: a `MemoryTaskDb` (reads see a write at once,
 * as `FileTaskDb`'s do) whose write promises resolve `delayMs` later on the clock, in call
 * order. It stands for a disk that is slow while the rest of the cluster goes on — the
 * interleavings real files produce, but replayable from a seed.
 *
 * @module
 */
import type { Clock, TaskStatus } from '@swarmkit-ts/api'
import { MemoryTaskDb } from '../../src/worker/index.ts'
import type { TaskDb, TaskDbEntry } from '../../src/worker/index.ts'

/** See the module doc. */
export class SlowTaskDb implements TaskDb {
  readonly #inner = new MemoryTaskDb()
  readonly #clock: Clock
  readonly #delayMs: number
  readonly #pending = new Set<() => void>()
  #fast = false

  constructor(clock: Clock, delayMs: number) {
    this.#clock = clock
    this.#delayMs = delayMs
  }

  #later(write: () => Promise<void>): Promise<void> {
    void write()
    if (this.#fast) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        timer.cancel()
        this.#pending.delete(done)
        resolve()
      }
      this.#pending.add(done)
      const timer = this.#clock.setTimeout(done, this.#delayMs)
    })
  }

  /**
   * While on, writes complete at once and the ones in flight complete now: an agent that is
   * being stopped (a crash) must not wait for virtual time that nobody moves meanwhile.
   */
  fast(on: boolean): void {
    this.#fast = on
    if (on) for (const done of [...this.#pending]) done()
  }

  entries(): readonly TaskDbEntry[] {
    return this.#inner.entries()
  }
  get(taskId: string): TaskDbEntry | undefined {
    return this.#inner.get(taskId)
  }
  put(entry: TaskDbEntry): Promise<void> {
    return this.#later(() => this.#inner.put(entry))
  }
  putStatus(taskId: string, status: TaskStatus): Promise<void> {
    return this.#later(() => this.#inner.putStatus(taskId, status))
  }
  setAssigned(taskId: string, assigned: boolean): Promise<void> {
    return this.#later(() => this.#inner.setAssigned(taskId, assigned))
  }
  delete(taskId: string): Promise<void> {
    return this.#later(() => this.#inner.delete(taskId))
  }
  /** Resolves at once: what was written is already readable, and a crash loses nothing of it here. */
  close(): Promise<void> {
    return Promise.resolve()
  }
}
