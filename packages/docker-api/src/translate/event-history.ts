/**
 * {@link EventHistory}: the events a Docker API server has seen since it started — a ring of the
 * latest {@link EVENT_HISTORY_LIMIT} (dockerd keeps 256; tasks make many more events here) for
 * `since` / `until` — and the live subscribers of `GET /events`. Fed from the manager's store
 * watch by {@link followStore}.
 *
 * @module
 */
import type { MemoryStore } from '@swarmkit-ts/store'
import { dockerEvents, type DockerEvent } from './event.ts'

/** Events kept for `since` / `until`. */
export const EVENT_HISTORY_LIMIT = 1024

/** Receives each new event. */
export type DockerEventListener = (ev: DockerEvent) => void

/** The recent events and the live listeners. */
export class EventHistory {
  readonly #limit: number
  readonly #ring: DockerEvent[] = []
  #start = 0
  readonly #listeners = new Set<DockerEventListener>()

  constructor(limit = EVENT_HISTORY_LIMIT) {
    this.#limit = limit
  }

  /** Records `ev` (dropping the oldest beyond the limit) and hands it to every listener. */
  publish(ev: DockerEvent): void {
    if (this.#ring.length < this.#limit) this.#ring.push(ev)
    else {
      this.#ring[this.#start] = ev
      this.#start = (this.#start + 1) % this.#limit
    }
    for (const l of this.#listeners) l(ev)
  }

  /**
   * The recorded events with `since <= timeNano <= until` (an absent bound is open) that `match`
   * accepts, oldest recorded first. Like dockerd, nothing when both bounds are absent.
   */
  recorded(since: bigint | undefined, until: bigint | undefined, match: (ev: DockerEvent) => boolean): DockerEvent[] {
    if (since === undefined && until === undefined) return []
    const out: DockerEvent[] = []
    for (let i = 0; i < this.#ring.length; i++) {
      const ev = this.#ring[(this.#start + i) % this.#ring.length]
      if (ev === undefined) continue
      if (since !== undefined && ev.timeNano < since) continue
      if (until !== undefined && ev.timeNano > until) continue
      if (match(ev)) out.push(ev)
    }
    return out
  }

  /** Adds a listener of new events; returns its removal. */
  subscribe(listener: DockerEventListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Listeners now (for tests: a stream unsubscribes when its client goes). */
  get listeners(): number {
    return this.#listeners.size
  }
}

/** Whether `err` is the store's watch overflow, with the version to resume after. */
function overflowVersion(err: unknown): bigint | undefined {
  if (!(err instanceof Error) || err.name !== 'WatchQueueOverflowError') return undefined
  const v = (err as { version?: unknown }).version
  return typeof v === 'bigint' ? v : undefined
}

/**
 * Publishes into `history` the Docker events of every change `store` applies from now until
 * `signal` aborts (or the store closes). The watch is registered before this returns, so nothing
 * applied afterwards is missed; a watch that falls behind resumes after its last commit.
 */
export function followStore(store: MemoryStore, history: EventHistory, signal: AbortSignal, now: () => number = Date.now): Promise<void> {
  const selector = { kinds: ['service', 'node', 'secret', 'config', 'network', 'task'], actions: ['create', 'update', 'delete', 'commit'] } as const
  const open = (since?: bigint): ReturnType<MemoryStore['watch']> => store.watch({ kinds: [...selector.kinds], actions: [...selector.actions] }, since === undefined ? { signal } : { signal, since })
  let watch = open()
  return (async () => {
    for (;;) {
      try {
        for await (const ev of watch) {
          if (ev.action !== 'commit') for (const d of dockerEvents(ev, now())) history.publish(d)
        }
        return // aborted, or the store closed
      } catch (err) {
        // Only an overflow resumes (gap-free, after the last commit it delivered); anything else ends the history.
        const resumeAt = overflowVersion(err)
        if (resumeAt === undefined || signal.aborted) return
        try {
          watch = open(resumeAt)
        } catch {
          return
        }
      }
    }
  })()
}
