/**
 * A service's progress read through the control API: the snapshots of orchestrator's
 * `computeProgress`, re-read each time a commit touches the service or one of its tasks (the
 * control API's `watch`), coalesced while the reader is busy, through leader elections.
 *
 * @module
 */
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, NotLeaderError, UnavailableError } from '@swarmkit-ts/api'
import { computeProgress, globalServiceNodes, progressEqual } from '@swarmkit-ts/core'
import type { ControlApi, ServiceProgress } from '@swarmkit-ts/core'

/** A store event as the control API's watch yields it. */
type WatchEvent = ReturnType<ControlApi['watch']> extends AsyncIterable<infer E> ? E : never
/** A service as the control API returns it. */
type ServiceObject = Awaited<ReturnType<ControlApi['services']['get']>>

/** Options of {@link followProgress}. */
export interface FollowProgressOptions {
  /** Ends the stream quietly when aborted. */
  readonly signal: AbortSignal
  /**
   * How long reads may keep failing with `UnavailableError` or `NotLeaderError` (a leader
   * election, a manager restarting) before the stream gives up with that error. @default 30 000
   */
  readonly retryMs?: number
}

/** The default of {@link FollowProgressOptions.retryMs}. */
export const FOLLOW_RETRY_MS = 30_000

/** The pause before reading or watching again after a transient failure. */
const RETRY_PAUSE_MS = 250

/**
 * The progress of service `idOrName` (an id or an exact name), as snapshots: the first at once
 * (rejects with `NotFoundError` when there is no such service), then one after each change of
 * the service or its tasks that shows something new; the last shows the service deleted
 * (`deleted: true`). Ends quietly when `options.signal` aborts or the caller stops.
 *
 * The watch starts from the version of the service first read (`since`) and resumes after the
 * last commit it saw, so no change is missed; when the manager cannot resume from there, it
 * starts afresh and reads again. A watch or a read that fails with `UnavailableError` or
 * `NotLeaderError` is tried again (every 250 ms); reads give up after `options.retryMs`.
 */
export async function* followProgress(control: ControlApi, idOrName: string, options: FollowProgressOptions): AsyncGenerator<ServiceProgress, void, undefined> {
  const { signal } = options
  const retryMs = options.retryMs ?? FOLLOW_RETRY_MS
  if (signal.aborted) return
  let service: ServiceObject = await control.services.get(idOrName)
  const serviceId = service.id
  const stop = new AbortController()
  const pending = new Wakeup()
  // Aborting wakes the reader too, wherever it waits.
  const onAbort = (): void => {
    stop.abort()
    pending.set()
  }
  signal.addEventListener('abort', onAbort, { once: true })
  let failure: { readonly error: unknown } | undefined

  const pump = async (from: bigint): Promise<void> => {
    let since: bigint | undefined = from
    for (;;) {
      let touched = false
      try {
        const events = control.watch({ kinds: ['service', 'task'] }, { signal: stop.signal, ...(since === undefined ? {} : { since }) })
        for await (const ev of events) {
          if (ev.action !== 'commit') {
            touched ||= concerns(ev, serviceId)
            continue
          }
          since = ev.version.index
          if (touched) pending.set()
          touched = false
        }
        if (stop.signal.aborted) return
        // The manager ended the stream (it is closing, or lost its leadership): watch again.
      } catch (err) {
        if (stop.signal.aborted) return
        if (since !== undefined && cannotResume(err)) {
          // Start afresh and read again (the read covers what the watch cannot replay).
          since = undefined
          pending.set()
          continue
        }
        if (!transient(err)) {
          failure = { error: err }
          pending.set()
          return
        }
      }
      await pause(stop.signal)
      if (stop.signal.aborted) return
      pending.set()
    }
  }
  const pumping = pump(service.meta.version.index).finally(() => pending.set())

  try {
    let last: ServiceProgress | undefined
    let failingSince: number | undefined
    for (;;) {
      pending.clear()
      let p: ServiceProgress
      try {
        service = await control.services.get(serviceId)
        const [tasks, nodes] = await Promise.all([control.tasks.list({ serviceIds: [serviceId] }), control.nodes.list()])
        const byId = new Map(nodes.map((n) => [n.id, n]))
        p = computeProgress(service, tasks, (id) => byId.get(id), false, globalServiceNodes(service, nodes))
        failingSince = undefined
      } catch (err) {
        if (signal.aborted) return
        if (transient(err)) {
          failingSince ??= Date.now()
          if (Date.now() - failingSince >= retryMs) throw err
          await pause(stop.signal)
          continue
        }
        if (!(err instanceof NotFoundError)) throw err
        p = computeProgress(service, [], () => undefined, true)
      }
      if (signal.aborted) return
      if (last === undefined || !progressEqual(p, last)) {
        last = p
        yield p
      }
      if (p.deleted) return
      await pending.wait()
      if (signal.aborted) return
      if (failure !== undefined) throw failure.error
    }
  } finally {
    stop.abort()
    signal.removeEventListener('abort', onAbort)
    await pumping
  }
}

/** Whether an error may pass by itself (the manager is electing a leader or restarting). */
function transient(err: unknown): boolean {
  return err instanceof UnavailableError || err instanceof NotLeaderError
}

/** Whether a watch failed because the manager cannot replay the changes since the version asked. */
function cannotResume(err: unknown): boolean {
  return err instanceof FailedPreconditionError || err instanceof InvalidArgumentError || (err as Error).name === 'HistoryTrimmedError'
}

/** Resolves after the retry pause, or at once when `signal` aborts. */
function pause(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, RETRY_PAUSE_MS)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Whether a store event is about service `serviceId` or one of its tasks. */
function concerns(ev: WatchEvent, serviceId: string): boolean {
  if (ev.action === 'commit') return false
  switch (ev.kind) {
    case 'service':
      return ev.object.id === serviceId
    case 'task':
      return ev.object.serviceId === serviceId || (ev.action === 'update' && ev.oldObject?.serviceId === serviceId)
    default:
      return false
  }
}

/** A flag one side sets and the other awaits (set before `wait` resolves it at once). */
class Wakeup {
  #set = false
  #resolve: (() => void) | undefined

  set(): void {
    this.#set = true
    const r = this.#resolve
    this.#resolve = undefined
    r?.()
  }

  clear(): void {
    this.#set = false
  }

  wait(): Promise<void> {
    if (this.#set) return Promise.resolve()
    return new Promise((resolve) => {
      this.#resolve = resolve
    })
  }
}
