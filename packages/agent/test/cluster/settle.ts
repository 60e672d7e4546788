/**
 * Quiescence for a whole cluster on a ManualClock. Everything in the cluster waits on one of
 * three things: a promise callback, a timer of the virtual clock, or real I/O (the agents' task
 * databases write files). `settle` runs the first and the last until only timers remain and the
 * cluster's fingerprint stays put; `advanceTimerByTimer` then moves virtual time to the next
 * timer, settling after each — the same discipline as the orchestrator's test harness, plus a
 * wait for the file system.
 *
 * @module
 */
import type { ManualClock } from '@swarmkit-ts/testkit'

/** One macrotask turn: every pending promise callback and due I/O callback runs. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Whether a file-system request of this process is in flight (fs callbacks or promises, a FileHandle's close). */
function fsBusy(): boolean {
  return process.getActiveResourcesInfo().some((r) => r.startsWith('FSReq') || r === 'CloseReq')
}

/**
 * Turns the event loop until no file-system request is in flight and one more turn ran after
 * that (so the callbacks of the last request ran). A real-time guard bounds it: a request that
 * never finishes is a bug, reported as an error rather than a hang.
 */
export async function drainIo(guardMs = 30_000): Promise<void> {
  const started = performance.now()
  await turn()
  while (fsBusy()) {
    if (performance.now() - started > guardMs) throw new Error(`drainIo: file-system requests still in flight after ${guardMs} ms`)
    await turn()
  }
  await turn()
}

/** Options of {@link settle}. */
export interface SettleOptions {
  /** Rounds before giving up (an endless loop of work is a bug). @default 20_000 */
  readonly limit?: number
  /** Rounds without change that count as settled. @default 3 */
  readonly quietRounds?: number
}

/**
 * Runs what is not waiting for virtual time until `fingerprint()` stays the same for
 * `quietRounds` rounds; each round fires the timers due now and drains promise callbacks and
 * file I/O. Throws after `limit` rounds.
 */
export async function settle(clock: ManualClock, fingerprint: () => string, options: SettleOptions = {}): Promise<void> {
  const limit = options.limit ?? 20_000
  const quietRounds = options.quietRounds ?? 3
  let quiet = 0
  let last = ''
  for (let i = 0; quiet < quietRounds; i++) {
    if (i >= limit) throw new Error(`settle: still changing after ${limit} rounds`)
    clock.advance(0)
    await drainIo()
    const now = `${fingerprint()}|${clock.pending()}|${clock.nextDueAt() ?? ''}`
    quiet = now === last ? quiet + 1 : 0
    last = now
  }
}

/** Moves `clock` forward by `ms`, timer by timer, running `settleFn` after each. */
export async function advanceTimerByTimer(clock: ManualClock, ms: number, settleFn: () => Promise<void>): Promise<void> {
  const target = clock.now() + ms
  await settleFn()
  for (;;) {
    const due = clock.nextDueAt()
    if (due === undefined || due > target) break
    clock.advance(Math.max(0, due - clock.now()))
    await settleFn()
  }
  clock.advance(target - clock.now())
  await settleFn()
}
