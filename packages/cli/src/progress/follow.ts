/**
 * A service's progress read through the control API: the snapshots of orchestrator's
 * `computeProgress`, re-read each time a commit touches the service or one of its tasks (the
 * control API's `watch`), coalesced while the reader is busy.
 *
 * @module
 */
import { FailedPreconditionError, NotFoundError, UnavailableError } from '@swarmkit-ts/api'
import { computeProgress, progressEqual } from '@swarmkit-ts/core'
import type { ControlApi, ServiceProgress } from '@swarmkit-ts/core'

/** A store event as the control API's watch yields it. */
type WatchEvent = ReturnType<ControlApi['watch']> extends AsyncIterable<infer E> ? E : never
/** A service as the control API returns it. */
type ServiceObject = Awaited<ReturnType<ControlApi['services']['get']>>

/**
 * The progress of service `idOrName` (an id or an exact name), as snapshots: the first at once
 * (rejects with `NotFoundError` when there is no such service), then one after each change of
 * the service or its tasks that shows something new; the last shows the service deleted
 * (`deleted: true`). Ends quietly when `signal` aborts or the caller stops; rejects with
 * `UnavailableError` when the manager ends the watch (it is shutting down), and with the control
 * API's errors.
 *
 * The watch starts from the version of the service first read (`since`), so no change between
 * that read and the watch is missed; when the manager no longer holds that history, it starts
 * afresh and reads again.
 */
export async function* followProgress(control: ControlApi, idOrName: string, signal: AbortSignal): AsyncGenerator<ServiceProgress, void, undefined> {
  if (signal.aborted) return
  let service: ServiceObject = await control.services.get(idOrName)
  const serviceId = service.id
  const stop = new AbortController()
  const onAbort = (): void => stop.abort()
  signal.addEventListener('abort', onAbort, { once: true })
  const pending = new Wakeup()
  let failure: { readonly error: unknown } | undefined

  const pump = async (since: bigint | undefined): Promise<void> => {
    const events = control.watch({ kinds: ['service', 'task'] }, { signal: stop.signal, ...(since === undefined ? {} : { since }) })
    let touched = false
    try {
      for await (const ev of events) {
        if (ev.action !== 'commit') {
          touched ||= concerns(ev, serviceId)
          continue
        }
        if (touched) pending.set()
        touched = false
      }
      // The manager ended the stream (it is closing): the progress can no longer be followed.
      if (!stop.signal.aborted) failure = { error: new UnavailableError('the manager ended the watch of the service') }
    } catch (err) {
      if (stop.signal.aborted) return
      if (since !== undefined && (err instanceof FailedPreconditionError || (err as Error).name === 'HistoryTrimmedError')) {
        pending.set()
        return pump(undefined)
      }
      failure = { error: err }
    }
    pending.set()
  }
  const pumping = pump(service.meta.version.index)

  try {
    let last: ServiceProgress | undefined
    for (;;) {
      pending.clear()
      let p: ServiceProgress
      try {
        service = await control.services.get(serviceId)
        const [tasks, nodes] = await Promise.all([control.tasks.list({ serviceIds: [serviceId] }), control.nodes.list()])
        const byId = new Map(nodes.map((n) => [n.id, n]))
        p = computeProgress(service, tasks, (id) => byId.get(id))
      } catch (err) {
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
