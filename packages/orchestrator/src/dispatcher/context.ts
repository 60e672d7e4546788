/**
 * What the parts of one dispatcher term share.
 *
 * @module
 */
import type { Clock, Logger, Random } from '@swarmkit-ts/api'
import type { MemoryStore } from '@swarmkit-ts/store'
import type { ResolvedDispatcherConfig } from './config.ts'

/** The store, the injected effects and the settings of a running dispatcher. */
export interface DispatcherContext {
  readonly store: MemoryStore
  readonly clock: Clock
  readonly random: Random
  readonly logger: Logger
  readonly config: ResolvedDispatcherConfig
  /** Registers a write in flight: `stop()` waits for it; a failure is logged under `what`. */
  track(what: string, write: Promise<unknown>): void
}
