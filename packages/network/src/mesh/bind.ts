/**
 * Binding a published port: a port that was just unpublished may still be held by the
 * listener being closed, so EADDRINUSE is retried for a short while before it counts.
 *
 * @module
 */

/** Attempts after the first, and the pause between them. */
const BIND_RETRIES = 20
const BIND_RETRY_MS = 50

/**
 * Calls `attempt` until it reports success, an error other than EADDRINUSE, or the retries run
 * out; rejects with the last error (or with the signal's reason once aborted).
 */
export async function bindWithRetry(signal: AbortSignal, attempt: (done: (err: Error | undefined) => void) => void): Promise<void> {
  for (let i = 0; ; i++) {
    signal.throwIfAborted()
    // An attempt whose socket is closed meanwhile may never call back: the signal ends the wait.
    const err = await new Promise<Error | undefined>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error)
      signal.addEventListener('abort', onAbort, { once: true })
      attempt((e) => {
        signal.removeEventListener('abort', onAbort)
        resolve(e)
      })
    })
    if (err === undefined) return
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || i >= BIND_RETRIES) throw err
    await new Promise<void>((resolve) => setTimeout(resolve, BIND_RETRY_MS))
  }
}
