/**
 * The waiting primitive shared by the bounded in-memory feeds (event journal, log buffer): a
 * reader parks on a list of wakers until the feed changes or its signal aborts.
 *
 * @internal
 */

/** Reads the flag through a call, so narrowing does not survive an `await`/`yield`. */
export function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

/**
 * Resolves when one of `wakers` is called (the owner calls and clears them all on a change) or
 * when `signal` aborts — whichever comes first; never rejects.
 */
export function waitForChange(wakers: (() => void)[], signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    if (aborted(signal)) {
      resolve()
      return
    }
    const waker = (): void => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }
    // An aborted reader takes its waker back, so a feed nobody writes to keeps no handle of it.
    const onAbort = (): void => {
      const i = wakers.indexOf(waker)
      if (i >= 0) wakers.splice(i, 1)
      resolve()
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    wakers.push(waker)
  })
}
