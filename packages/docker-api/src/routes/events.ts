/**
 * Docker Engine API route `GET /events`: the events recorded since the server started within
 * `since` / `until`, then (unless `until` is past) the live ones, one JSON object per line,
 * flushed per event, until `until`, the client goes, or the server closes — as dockerd serves it.
 *
 * @module
 */
import type { DockerApp, RouteContext } from '../context.ts'
import { DockerApiError } from '../errors.ts'
import { clientGone, startStream, writeChunk } from '../streams.ts'
import { dockerEventJson, msToNano, type DockerEvent } from '../translate/event.ts'
import { matchEvent, parseEventFilters, parseEventTime } from '../translate/event-filter.ts'
import { EventHistory, followStore } from '../translate/event-history.ts'

/** Live events queued for one slow client before its stream is ended (it re-subscribes with `since`). */
export const EVENT_CLIENT_QUEUE_LIMIT = 10_000

/** Longest single timer wait (setTimeout's limit). */
const MAX_TIMER_MS = 2_147_483_647

/** Registers `GET /events` and starts recording the manager's events. */
export function eventsRoutes(app: DockerApp, ctx: RouteContext): void {
  const history = new EventHistory()
  void followStore(ctx.manager.manager.store, history, ctx.signal)

  app.get('/events', async (req, reply) => {
    const q = req.query as Record<string, unknown>
    const since = parseEventTime('since', q['since'])
    const until = parseEventTime('until', q['until'])
    if (since !== undefined && until !== undefined && until < since) {
      throw new DockerApiError(400, `\`since\` time (${String(q['since'])}) cannot be after \`until\` time (${String(q['until'])})`)
    }
    const filters = parseEventFilters(q['filters'])
    const match = (ev: DockerEvent): boolean => matchEvent(filters, ev)
    const onlyPast = until !== undefined && until < msToNano(Date.now())

    // The recorded events and the subscription are taken in one turn: nothing falls between them.
    const recorded = history.recorded(since, until, match)
    const queue: DockerEvent[] = []
    let wake: (() => void) | undefined
    let overflowed = false
    const unsubscribe = onlyPast
      ? () => undefined
      : history.subscribe((ev) => {
          if (!match(ev)) return
          if (queue.length >= EVENT_CLIENT_QUEUE_LIMIT) overflowed = true
          else queue.push(ev)
          wake?.()
        })

    const res = startStream(reply, 'application/json')
    const gone = clientGone(res, ctx.signal)
    let timer: NodeJS.Timeout | undefined
    const ended = new Promise<void>((resolve) => {
      gone.addEventListener('abort', () => resolve(), { once: true })
      if (until !== undefined && !onlyPast) {
        const waitMs = Number((until - msToNano(Date.now())) / 1_000_000n) + 1
        timer = setTimeout(resolve, Math.min(Math.max(waitMs, 0), MAX_TIMER_MS))
      }
    })
    try {
      for (const ev of recorded) if (!(await writeChunk(res, `${dockerEventJson(ev)}\n`))) return
      if (onlyPast) return
      let stop = false
      void ended.then(() => {
        stop = true
        wake?.()
      })
      while (!stop && !overflowed) {
        const ev = queue.shift()
        if (ev === undefined) {
          await new Promise<void>((resolve) => (wake = resolve))
          wake = undefined
          continue
        }
        if (until !== undefined && ev.timeNano > until) continue
        if (!(await writeChunk(res, `${dockerEventJson(ev)}\n`))) return
      }
    } finally {
      unsubscribe()
      if (timer !== undefined) clearTimeout(timer)
      if (!res.writableEnded) res.end()
    }
  })
}
