/**
 * For the tests that run on real time (real grpc-js, real files): a wait for a condition that
 * guards against hanging (never a timing assertion), and cleanups run after each test.
 */
import { afterEach } from 'vitest'

/** Polls `cond` until it holds; throws naming `what` after `timeoutMs` (a guard, generous on a loaded machine). */
export async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * A list of cleanups run in reverse order after each test of the calling file. Call once at the
 * top level of a test file.
 */
export function cleanupAfterEach(): Array<() => Promise<void> | void> {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f()
  })
  return cleanup
}
