/**
 * Progress of a service for users: what the CLI's converge display and
 * `Cluster.services.progress` show — a stream of {@link ServiceProgress} snapshots, one per
 * change the consumer has not seen yet, coalesced while the consumer is busy.
 *
 * @module
 */
import { NotFoundError } from '@swarmkit-ts/api'
import type { Service } from '@swarmkit-ts/api'
import type { Frozen, MemoryStore, ReadTx, Watch, WatchSelector } from '@swarmkit-ts/store'
import { WatchQueueOverflowError } from '@swarmkit-ts/store'
import { computeProgress, globalServiceNodes, progressEqual } from './progress-snapshot.ts'
import type { ServiceProgress } from './progress-snapshot.ts'

/** Options of {@link serviceProgress}. */
export interface ServiceProgressOptions {
  /** Ends the stream quietly when aborted (at once if already aborted). */
  readonly signal?: AbortSignal
}

/**
 * Events the stream's watch may hold while its consumer is busy (then it starts again from a
 * fresh view: a slow consumer costs one re-read, never unbounded memory).
 */
export const PROGRESS_QUEUE_LIMIT = 10_000

/**
 * The progress of service `serviceId` on `store`, as snapshots:
 * - the first at once, from a consistent view (the first `next()` rejects with `NotFoundError`
 *   when the service does not exist then);
 * - then one after each commit that touched the service or its tasks — coalesced: commits that
 *   arrive while the consumer has not asked yet give one snapshot of the latest state; a
 *   snapshot equal to the previous one is never emitted;
 * - the last one shows the service deleted (`deleted: true`), and the stream ends after it.
 *
 * The stream also ends, quietly, when `options.signal` aborts, or when the consumer stops
 * (`break`). Each iteration of the returned iterable is a stream of its own. No timers: it moves
 * only when the store commits.
 */
export function serviceProgress(store: MemoryStore, serviceId: string, options: ServiceProgressOptions = {}): AsyncIterable<ServiceProgress> {
  return {
    [Symbol.asyncIterator]: (): AsyncIterator<ServiceProgress, void, undefined> => {
      const live: LiveWatch = { current: undefined }
      const stream = progressStream(store, serviceId, options.signal, live)
      return {
        next: () => stream.next(),
        // An async generator runs return() only after a pending next(): closing the watch first
        // ends that next() (as done), so a consumer can stop while it waits.
        return: () => {
          live.current?.close()
          return stream.return(undefined)
        },
      }
    },
  }
}

/** The watch a stream currently reads (it changes after an overflow). */
interface LiveWatch {
  current: Watch<Kinds> | undefined
}

type Kinds = 'service' | 'task'

/** What one read of the store gives: the service (or its absence) and the snapshot at `version`. */
interface Reading {
  readonly version: bigint
  readonly service: Frozen<Service> | undefined
  readonly progress: ServiceProgress | undefined
}

async function* progressStream(
  store: MemoryStore,
  serviceId: string,
  signal: AbortSignal | undefined,
  live: LiveWatch,
): AsyncGenerator<ServiceProgress, void, undefined> {
  const aborted = (): boolean => signal?.aborted === true
  if (aborted()) return
  let lastService: Frozen<Service> | undefined
  const read = (tx: ReadTx): Reading => {
    const current = tx.services.get(serviceId)
    const service = current ?? lastService
    const progress =
      service === undefined
        ? undefined
        : computeProgress(service, tx.tasks.find({ serviceId }), (id) => tx.nodes.get(id), current === undefined, current === undefined ? undefined : globalServiceNodes(service, tx.nodes.find()))
    return { version: store.version, service: current, progress }
  }
  const selector: WatchSelector<Kinds> = {
    kinds: ['service', 'task'],
    where: (ev) => (ev.kind === 'service' ? ev.object.id === serviceId : ev.object.serviceId === serviceId),
  }
  const subscribe = (): { reading: Reading; watch: Watch<Kinds> } => {
    const { result, watch } = store.viewAndWatch(read, selector, { queueLimit: PROGRESS_QUEUE_LIMIT, ...(signal === undefined ? {} : { signal }) })
    live.current = watch
    return { reading: result, watch }
  }

  const first = subscribe()
  const reading = first.reading
  let watch = first.watch
  try {
    if (reading.service === undefined || reading.progress === undefined) throw new NotFoundError('service', serviceId)
    lastService = reading.service
    let last = reading.progress
    let seen = reading.version
    yield last
    // Object events precede the commit event of their transaction: `touched` says whether the
    // commit to come changed the service or its tasks. A commit at or below `seen` is already
    // in the last reading (the backlog of a busy consumer), so it costs nothing.
    let touched = false
    for (;;) {
      if (aborted()) return
      let fresh: Reading | undefined
      try {
        const r = await watch.next()
        if (r.done === true) return
        const ev = r.value
        if (ev.action !== 'commit') {
          touched = true
          continue
        }
        const due = touched && ev.version.index > seen
        touched = false
        if (!due) continue
        fresh = store.view(read)
      } catch (err) {
        if (!(err instanceof WatchQueueOverflowError)) throw err
        ;({ reading: fresh, watch } = subscribe())
        touched = false
      }
      seen = fresh.version
      if (fresh.service !== undefined) lastService = fresh.service
      const p = fresh.progress
      if (p === undefined || progressEqual(p, last)) continue
      last = p
      yield p
      if (p.deleted) return
    }
  } finally {
    watch.close()
  }
}
