/**
 * The dashboard server without a browser: the page and its headers, the snapshot, the SSE stream
 * (framing, deltas, resuming from Last-Event-ID, a new store), and the actions' authorization.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidArgumentError, TaskState } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import { serveDashboard, type DashboardServer, type DeltaMessage, type ServeDashboardOptions, type SnapshotMessage } from '../src/index.ts'
import { SseReader } from './sse-client.ts'
import { StoreCluster, nodeObject, serviceObject, taskObject } from './store-cluster.ts'

const open: { close(): unknown }[] = []
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close()
})

async function serve(cluster: StoreCluster, options: Partial<ServeDashboardOptions> = {}): Promise<DashboardServer> {
  const server = await serveDashboard(cluster, { listen: '127.0.0.1:0', sampleIntervalMs: 50, ...options })
  open.push(server)
  return server
}

async function sse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const r = await SseReader.open(`${url}api/events`, headers)
  open.push(r)
  return r
}

/** A store with one manager, one worker, a service `web` of 2 running tasks. */
async function filled(): Promise<{ cluster: StoreCluster; nodeIds: string[]; serviceId: string; taskIds: string[] }> {
  const cluster = new StoreCluster()
  const m = nodeObject('m1', { role: 'manager', leader: true })
  const w = nodeObject('w1', { labels: { zone: 'a' } })
  const s = serviceObject('web', 2)
  const t1 = taskObject(s, 1, m.id)
  const t2 = taskObject(s, 2, w.id)
  await cluster.store().update((tx) => {
    tx.nodes.create(m)
    tx.nodes.create(w)
    tx.services.create(s)
    tx.tasks.create(t1)
    tx.tasks.create(t2)
  })
  return { cluster, nodeIds: [m.id, w.id], serviceId: s.id, taskIds: [t1.id, t2.id] }
}

const post = (url: string, body: unknown, token?: string): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) }, body: JSON.stringify(body) })

describe('serveDashboard', () => {
  it('serves the page with the title escaped, its script and style, and strict security headers', async () => {
    const { cluster } = await filled()
    const server = await serve(cluster, { title: '<script>alert(1)</script>' })
    const res = await fetch(server.url)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    const html = await res.text()
    expect(html).toContain('<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>')
    expect(html).not.toContain('<script>alert(1)')
    const js = await fetch(`${server.url}assets/app.js`)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect((await js.text()).length).toBeGreaterThan(1000)
    expect((await fetch(`${server.url}assets/app.css`)).status).toBe(200)
    expect(server.token).toBeUndefined()
  })

  it('answers the whole picture as JSON: nodes, shown tasks, services with counts, the Raft view', async () => {
    const { cluster, serviceId, taskIds } = await filled()
    await cluster.store().update((tx) => tx.tasks.update(taskIds[1] ?? '', (d) => void ((d.desiredState = TaskState.SHUTDOWN), (d.status = { timestamp: 1, state: TaskState.SHUTDOWN }))))
    const server = await serve(cluster)
    const state = (await (await fetch(`${server.url}api/state`)).json()) as SnapshotMessage
    expect(state.nodes.map((n) => n.hostname).sort()).toEqual(['m1', 'w1'])
    expect(state.nodes.find((n) => n.hostname === 'm1')?.leader).toBe(true)
    expect(state.tasks.map((t) => t.id)).toEqual([taskIds[0]])
    expect(state.services).toEqual([{ id: serviceId, name: 'web', mode: 'replicated', image: 'busybox:fake', labels: {}, desired: 2, running: 1 }])
    expect(state.raft).toMatchObject({ leader: '1', term: '1', commitIndex: '2' })
    expect(state.actions).toBe(false)
  })

  it('streams a snapshot, then one delta per burst of commits, each with an event id', async () => {
    const { cluster, serviceId, nodeIds } = await filled()
    const server = await serve(cluster)
    const r = await sse(server.url)
    const first = await r.next()
    expect(first.event).toBe('snapshot')
    expect(first.id).toMatch(/^[0-9a-f]+-1$/)
    expect(r.raw.startsWith('retry: 1000\n\n')).toBe(true)
    const s = cluster.store().view((tx) => tx.services.get(serviceId))
    if (s === undefined) throw new Error('no service')
    const t3 = taskObject(s, 3, nodeIds[1] ?? '', TaskState.RUNNING)
    await cluster.store().update((tx) => {
      tx.services.update(serviceId, (d) => void (d.spec.mode = { replicated: { replicas: 3 } }))
      tx.tasks.create(t3)
    })
    const delta = await r.next()
    expect(delta.event).toBe('delta')
    expect(delta.id).toBe(`${first.id.split('-')[0]}-2`)
    const d = JSON.parse(delta.data) as DeltaMessage
    expect(d.tasks?.map((t) => [t.id, t.state, t.slot, t.serviceName])).toEqual([[t3.id, 'RUNNING', 3, 'web']])
    expect(d.services?.map((v) => [v.running, v.desired])).toEqual([[3, 3]])
    expect(d.raft?.commitIndex).toBe('2')
  })

  it('keeps a hostile label inside one data line: no forged field or message', async () => {
    const { cluster, nodeIds } = await filled()
    const server = await serve(cluster)
    const r = await sse(server.url)
    await r.next()
    const evil = 'x\n\nevent: snapshot\ndata: {"forged":true}\r\nid: 0-0\n'
    await cluster.store().update((tx) => tx.nodes.update(nodeIds[1] ?? '', (d) => void (d.spec.annotations.labels = { evil })))
    const m = await r.next()
    expect(m.event).toBe('delta')
    expect((JSON.parse(m.data) as DeltaMessage).nodes?.[0]?.labels).toEqual({ evil })
    expect(r.pending()).toBe(0)
  })

  it('resumes a reconnecting page from Last-Event-ID with only the deltas it missed; an unknown id gets a snapshot', async () => {
    const { cluster, nodeIds } = await filled()
    const server = await serve(cluster)
    const a = await sse(server.url)
    const snap = await a.next()
    a.close()
    await cluster.store().update((tx) => tx.nodes.update(nodeIds[0] ?? '', (d) => void (d.spec.availability = 'drain')))
    await cluster.store().update((tx) => tx.nodes.update(nodeIds[1] ?? '', (d) => void (d.spec.availability = 'pause')))
    const b = await sse(server.url, { 'last-event-id': snap.id })
    // The two commits may come as one delta or two (a burst is one message): read up to version 3.
    const seen: { event: string; availability: Record<string, string> }[] = []
    for (let m = await b.next(); ; m = await b.next()) {
      seen.push({ event: m.event, availability: Object.fromEntries(((JSON.parse(m.data) as DeltaMessage).nodes ?? []).map((n) => [n.hostname, n.availability])) })
      if (m.id === `${snap.id.split('-')[0]}-3`) break
    }
    expect(seen.every((x) => x.event === 'delta')).toBe(true)
    expect(Object.assign({}, ...seen.map((x) => x.availability))).toEqual({ m1: 'drain', w1: 'pause' })
    const c = await sse(server.url, { 'last-event-id': 'abc-1' })
    const m = await c.next()
    expect(m.event).toBe('snapshot')
    expect((JSON.parse(m.data) as SnapshotMessage).nodes.map((n) => n.availability).sort()).toEqual(['drain', 'pause'])
  })

  it('sends a new snapshot under a new epoch when the source answers with another store', async () => {
    const { cluster } = await filled()
    const server = await serve(cluster)
    const r = await sse(server.url)
    const snap = await r.next()
    const other = new MemoryStore()
    await other.update((tx) => void tx.nodes.create(nodeObject('only')))
    cluster.replaceStore(other)
    const next = await r.next()
    expect(next.event).toBe('snapshot')
    expect(next.id.split('-')[0]).not.toBe(snap.id.split('-')[0])
    expect((JSON.parse(next.data) as SnapshotMessage).nodes.map((n) => n.hostname)).toEqual(['only'])
  })

  it('refuses every action with 403 when read-only, and changes nothing', async () => {
    const { cluster, serviceId, nodeIds } = await filled()
    const server = await serve(cluster)
    const res = await post(`${server.url}api/services/${serviceId}/scale`, { replicas: 5 }, 'any-token-at-all-here')
    expect(res.status).toBe(403)
    expect(await res.json()).toEqual({ error: 'PermissionDeniedError', message: 'actions are disabled: this dashboard is read-only (serve it with actions: true)' })
    expect((await post(`${server.url}api/nodes/${nodeIds[0]}/availability`, { availability: 'drain' })).status).toBe(403)
    expect((await post(`${server.url}api/services/${serviceId}/rollback`, {})).status).toBe(403)
    expect(cluster.calls).toEqual([])
  })

  it('with actions, refuses a missing or wrong token (403) and acts with the right one', async () => {
    const { cluster, serviceId, nodeIds } = await filled()
    const server = await serve(cluster, { actions: true })
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(server.actionsUrl).toBe(`${server.url}#token=${server.token}`)
    const url = `${server.url}api/services/${serviceId}/scale`
    expect((await post(url, { replicas: 5 })).status).toBe(403)
    expect((await post(url, { replicas: 5 }, `${server.token}x`)).status).toBe(403)
    expect(cluster.calls).toEqual([])
    const ok = await post(url, { replicas: 5 }, server.token)
    expect([ok.status, await ok.json()]).toEqual([200, { ok: true }])
    expect((await post(`${server.url}api/nodes/${nodeIds[1]}/availability`, { availability: 'drain' }, server.token)).status).toBe(200)
    expect((await post(`${server.url}api/services/${serviceId}/rollback`, {}, server.token)).status).toBe(200)
    expect(cluster.calls).toEqual([`scale ${serviceId} 5`, `availability ${nodeIds[1]} drain`, `rollback ${serviceId}`])
    const state = cluster.store().view((tx) => ({ s: tx.services.get(serviceId), n: tx.nodes.get(nodeIds[1] ?? '') }))
    expect(state.s?.spec.mode).toEqual({ replicated: { replicas: 5 } })
    expect(state.n?.spec.availability).toBe('drain')
  })

  it('answers a bad action with the typed error naming the field, and an unknown object with 404', async () => {
    const { cluster, serviceId, nodeIds } = await filled()
    const server = await serve(cluster, { actions: true, token: 'a-token-of-my-own-choosing' })
    expect(server.token).toBe('a-token-of-my-own-choosing')
    const bad = await post(`${server.url}api/services/${serviceId}/scale`, { replicas: -1 }, server.token)
    expect([bad.status, await bad.json()]).toEqual([400, { error: 'InvalidArgumentError', message: 'replicas: must be a non-negative integer', field: 'replicas' }])
    const avail = await post(`${server.url}api/nodes/${nodeIds[0]}/availability`, { availability: 'off' }, server.token)
    expect([avail.status, ((await avail.json()) as { field: string }).field]).toEqual([400, 'availability'])
    expect((await post(`${server.url}api/services/nosuchservice/rollback`, {}, server.token)).status).toBe(404)
  })

  it('rejects bad options with InvalidArgumentError naming the field, before listening', async () => {
    const cluster = new StoreCluster()
    const bad = async (options: ServeDashboardOptions, field: string): Promise<void> => {
      const err = await serveDashboard(cluster, options).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(InvalidArgumentError)
      expect((err as InvalidArgumentError).field).toBe(field)
    }
    await bad({ listen: 'localhost' }, 'listen')
    await bad({ listen: '127.0.0.1:70000' }, 'listen')
    await bad({ listen: '127.0.0.1:0', token: 'a-token-of-my-own-choosing' }, 'token')
    await bad({ listen: '127.0.0.1:0', actions: true, token: 'short' }, 'token')
    await bad({ listen: '127.0.0.1:0', sampleIntervalMs: 0 }, 'sampleIntervalMs')
    const notCluster = await serveDashboard({} as StoreCluster, { listen: '127.0.0.1:0' }).catch((e: unknown) => e)
    expect((notCluster as InvalidArgumentError).field).toBe('source')
  })

  it('closes when its signal aborts, ending open streams', async () => {
    const { cluster } = await filled()
    const ac = new AbortController()
    const server = await serve(cluster, { signal: ac.signal })
    const r = await sse(server.url)
    await r.next()
    ac.abort()
    await expect(r.next(10_000)).rejects.toThrow('stream ended')
    await expect(fetch(server.url)).rejects.toThrow()
  })
})
