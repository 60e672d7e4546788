/**
 * The dashboard page: follows `/api/events` (Server-Sent Events; the browser reconnects by itself
 * and sends `Last-Event-ID`, and the server resumes or sends a snapshot), keeps the model, and
 * draws once per animation frame. With a token in the URL's fragment (`#token=…`, never sent to
 * the server) and a server that allows actions, it shows the scale, rollback and drain buttons.
 */
import { DashboardEvent, type DeltaMessage, type SnapshotMessage } from '../src/view-model.ts'
import { Model } from './model.ts'
import { Renderer, type ActionHandlers } from './render.ts'

/** What the page exposes for tests and benchmarks (`window.__dashboard`). */
interface PageProbe {
  snapshots: number
  deltas: number
  lastEventId: string
  connected: boolean
  /** `performance.now()` when the first snapshot was drawn (page-load benchmarks). */
  firstDrawMs: number
}

declare global {
  interface Window {
    __dashboard: PageProbe
  }
}

const TOKEN_KEY = 'swarmkit-dashboard-token'

function takeToken(): string | undefined {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash)
  if (m !== null) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1] ?? ''))
    history.replaceState(null, '', location.pathname + location.search)
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined
}

function start(): void {
  const probe: PageProbe = { snapshots: 0, deltas: 0, lastEventId: '', connected: false, firstDrawMs: 0 }
  window.__dashboard = probe
  const model = new Model()
  const renderer = new Renderer(model, () => {
    if (probe.firstDrawMs === 0 && probe.snapshots > 0) probe.firstDrawMs = performance.now()
  })
  const token = takeToken()
  const status = document.getElementById('action-status') as HTMLSpanElement
  const connection = document.getElementById('connection') as HTMLSpanElement
  const filter = document.getElementById('node-filter') as HTMLInputElement
  filter.addEventListener('input', () => renderer.setFilter(filter.value))

  const post = (path: string, body: unknown, what: string): void => {
    status.textContent = `${what}…`
    fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? ''}` }, body: JSON.stringify(body) })
      .then(async (res) => {
        const reply = (await res.json()) as { ok?: boolean; message?: string }
        status.textContent = res.ok ? `${what}: done` : `${what}: ${reply.message ?? res.statusText}`
      })
      .catch((err: unknown) => {
        status.textContent = `${what}: ${String(err)}`
      })
  }
  const actions: ActionHandlers = {
    scale: (id, replicas) => post(`/api/services/${encodeURIComponent(id)}/scale`, { replicas }, `scale to ${replicas}`),
    rollback: (id) => post(`/api/services/${encodeURIComponent(id)}/rollback`, {}, 'rollback'),
    setAvailability: (id, availability) => post(`/api/nodes/${encodeURIComponent(id)}/availability`, { availability }, availability),
  }

  const setConnection = (state: 'live' | 'reconnecting'): void => {
    document.body.dataset.connection = state
    connection.textContent = state
    probe.connected = state === 'live'
  }
  const events = new EventSource('/api/events')
  events.addEventListener('open', () => setConnection('live'))
  events.addEventListener('error', () => setConnection('reconnecting'))
  events.addEventListener(DashboardEvent.SNAPSHOT, (e) => {
    const s = JSON.parse(e.data as string) as SnapshotMessage
    model.reset(s)
    probe.snapshots++
    probe.lastEventId = e.lastEventId
    renderer.setActions(s.actions && token !== undefined ? actions : undefined)
    renderer.schedule()
  })
  events.addEventListener(DashboardEvent.DELTA, (e) => {
    model.apply(JSON.parse(e.data as string) as DeltaMessage)
    probe.deltas++
    probe.lastEventId = e.lastEventId
    renderer.schedule()
  })
  setInterval(() => renderer.refreshAges(), 10_000)
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
else start()
