/**
 * Small waits of the dispatcher tests: a condition polled until it holds (the time limit is only
 * a failure guard), a promise's rejection, and cleanups run after each test.
 */

/** Polls `probe` every 20 ms until it returns true; fails after `guardMs`. */
export async function until(what: string, probe: () => boolean | Promise<boolean>, guardMs = 20_000): Promise<void> {
  const giveUp = Date.now() + guardMs
  for (;;) {
    if (await probe()) return
    if (Date.now() > giveUp) throw new Error(`${what} did not happen within ${guardMs} ms`)
    await new Promise<void>((resolve) => setTimeout(resolve, 20))
  }
}

/** The rejection of `promise` (fails if it resolves). */
export async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

/** Cleanups registered during a test, run in reverse order after it. */
export class Cleanup {
  readonly #steps: (() => unknown)[] = []

  add(step: () => unknown): void {
    this.#steps.push(step)
  }

  async run(): Promise<void> {
    const errors: unknown[] = []
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step()
      } catch (err) {
        errors.push(err)
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed')
  }
}
