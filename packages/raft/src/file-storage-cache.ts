/**
 * What `file-storage-recovery.ts` imports to rebuild the in-memory log. The log itself is
 * {@link LogCache} in `log-cache.ts`; this file goes once recovery constructs it from there.
 *
 * @internal
 */
import { LogCache as Log } from './log-cache.ts'
import type { LogCacheState } from './log-cache.ts'

/** The in-memory log of a `FileRaftStorage`. */
export type LogCache = Log

/** Builds the in-memory log of a `FileRaftStorage`. */
export const LogCache = {
  /** A log holding exactly `st`. */
  restore: (st: LogCacheState): Log => new Log(st),
}
