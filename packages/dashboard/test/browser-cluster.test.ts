/**
 * The page in headless Chromium against a real 3-manager localhost cluster (`Cluster.init` and two
 * `Cluster.join`s in this process: gRPC over mutual TLS, Raft on files, the fake runtime), served
 * by a follower. The steps build on each other, in order: every node and task shown; an XSS label
 * rendered as text; a scale-up appearing without reload; the stream resuming after a cut
 * connection; a drain through the page's own button (actions with the token); a read-only server
 * refusing; the leader's mark moving when the leader is closed.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import { Cluster, type ManagerCluster } from '@swarmkit-ts/core'
import type { Browser, Page } from 'playwright-core'
import { serveDashboard, type DashboardServer } from '../src/index.ts'
import { CuttableProxy, SKIP_BROWSER, type PageGlobals, cardsByNode, launchBrowser, screenshot, waitInPage } from './browser.ts'

const FAST = { runtime: 'fake', raft: { tickMs: 50, electionTick: 20, heartbeatTick: 1 }, heartbeatPeriodMs: 1000 } as const
const XSS = '<img src=x onerror="window.__xss=1">'
const STEP_MS = 240_000

/** Polls `cond` in this process until it holds (a guard, never a timing assertion). */
async function until(cond: () => boolean | Promise<boolean>, what: string, guardMs = 120_000): Promise<void> {
  const deadline = Date.now() + guardMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe.skipIf(SKIP_BROWSER)('the dashboard of a real 3-manager cluster, in Chromium', () => {
  const dirs: string[] = []
  const managers: ManagerCluster[] = []
  let m1: ManagerCluster
  let m2: ManagerCluster
  let m3: ManagerCluster
  let server: DashboardServer
  let proxy: CuttableProxy
  let browser: Browser
  let page: Page
  let webId = ''

  const stateDir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'dash-'))
    dirs.push(d)
    return join(d, 's')
  }
  const runningIds = async (): Promise<string[]> =>
    (await m2.tasks.list({ serviceIds: [webId] })).filter((t) => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING).map((t) => t.id).sort()

  beforeAll(async () => {
    m1 = await Cluster.init({ stateDir: await stateDir(), listenAddr: '127.0.0.1:0', ...FAST })
    managers.push(m1)
    const tokens = await m1.joinTokens()
    for (let i = 0; i < 2; i++) {
      const n = await Cluster.join({ stateDir: await stateDir(), joinAddr: m1.address, token: tokens.manager, ...FAST })
      if (n.role !== 'manager') throw new Error('joined as a worker')
      managers.push(n)
    }
    ;[, m2, m3] = managers as [ManagerCluster, ManagerCluster, ManagerCluster]
    const web = await m1.services.create({
      annotations: { name: 'web', labels: { xss: XSS } },
      mode: { replicated: { replicas: 3 } },
      task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'] } },
    })
    webId = web.id
    await m1.services.waitConverged(web.id, { signal: AbortSignal.timeout(STEP_MS) })
    // Served by a follower: it shows the store it replicated, and survives the leader's close.
    server = await serveDashboard(m2, { listen: '127.0.0.1:0', actions: true, sampleIntervalMs: 200 })
    proxy = new CuttableProxy(Number(new URL(server.url).port))
    const base = await proxy.listen()
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(`${base}#token=${server.token}`)
  }, STEP_MS)

  afterAll(async () => {
    await page?.close()
    await browser?.close()
    await proxy?.close()
    await server?.close()
    for (const m of managers.reverse()) await m.close()
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  }, STEP_MS)

  it('shows every node (with the leader marked) and every running task', async () => {
    const nodes = await m2.nodes.list()
    const ids = await runningIds()
    await waitInPage(page, 'three running cards', (n) => (globalThis as unknown as PageGlobals).document.querySelectorAll('.task[data-state="RUNNING"]').length === n, ids.length)
    const byNode = await cardsByNode(page)
    expect(Object.keys(byNode).sort()).toEqual(nodes.map((n) => n.id).sort())
    expect(Object.values(byNode).flat().sort()).toEqual(ids)
    const tasks = await m2.tasks.list({ serviceIds: [webId] })
    for (const t of tasks.filter((x) => ids.includes(x.id))) expect(byNode[t.nodeId]).toContain(t.id)
    expect(await page.getAttribute(`.node[data-node-id="${m1.nodeId}"]`, 'data-leader')).toBe('true')
    expect(await page.textContent(`.node[data-node-id="${m1.nodeId}"] .leader-mark`)).toBe('★ leader')
    expect(await page.textContent(`#services tr[data-service-id="${webId}"] .count`)).toBe('3/3')
    expect(await page.locator('#raft tbody tr').count()).toBe(3)
    await screenshot(page, 'cluster-1-converged')
  }, STEP_MS)

  it('renders a label holding markup as text, and runs none of it', async () => {
    const chip = page.locator(`#services tr[data-service-id="${webId}"] .labels .chip`)
    expect(await chip.textContent()).toBe(`xss=${XSS}`)
    expect(await page.evaluate(() => ({ xss: (globalThis as unknown as PageGlobals).__xss, imgs: (globalThis as unknown as PageGlobals).document.querySelectorAll('img').length }))).toEqual({ xss: undefined, imgs: 0 })
  }, STEP_MS)

  it('shows a scale-up without a reload', async () => {
    await page.evaluate(() => void ((globalThis as unknown as PageGlobals).__sameDocument = true))
    await m1.services.scale(webId, 6)
    await waitInPage(page, 'six running cards', () => (globalThis as unknown as PageGlobals).document.querySelectorAll('.task[data-state="RUNNING"]').length === 6)
    expect(Object.values(await cardsByNode(page)).flat().sort()).toEqual(await runningIds())
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__sameDocument)).toBe(true)
    await screenshot(page, 'cluster-2-scaled')
  }, STEP_MS)

  it('resumes the stream after a cut connection with the deltas it missed (no new snapshot)', async () => {
    const before = await page.evaluate(() => (globalThis as unknown as PageGlobals).__dashboard.snapshots)
    proxy.cut()
    await waitInPage(page, 'the page to notice', () => (globalThis as unknown as PageGlobals).document.body.dataset.connection === 'reconnecting')
    await m1.services.scale(webId, 4)
    await until(async () => (await runningIds()).length === 4 && (await m2.tasks.list({ serviceIds: [webId] })).filter((t) => t.status.state <= TaskState.RUNNING).length === 4, 'scale-down to 4 on m2')
    proxy.mend()
    await waitInPage(page, 'four running cards', () => (globalThis as unknown as PageGlobals).document.body.dataset.connection === 'live' && (globalThis as unknown as PageGlobals).document.querySelectorAll('.task[data-state="RUNNING"]').length === 4)
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__dashboard.snapshots)).toBe(before)
    expect(Object.values(await cardsByNode(page)).flat().sort()).toEqual(await runningIds())
  }, STEP_MS)

  it("drains a node through the page's button (with the token): its column empties", async () => {
    await page.click(`.node[data-node-id="${m3.nodeId}"] button.availability-action`)
    await waitInPage(page, "m3's column to empty", (id) => (globalThis as unknown as PageGlobals).document.querySelector(`.node[data-node-id="${id}"]`)?.getAttribute('data-availability') === 'drain' && (globalThis as unknown as PageGlobals).document.querySelectorAll(`.node[data-node-id="${id}"] .task`).length === 0, m3.nodeId)
    await until(async () => (await runningIds()).length === 4, 'four running again')
    await waitInPage(page, 'four running cards elsewhere', () => (globalThis as unknown as PageGlobals).document.querySelectorAll('.task[data-state="RUNNING"]').length === 4)
    expect((await m2.nodes.get(m3.nodeId)).spec.availability).toBe('drain')
    expect(await page.textContent('#action-status')).toBe('drain: done')
    await screenshot(page, 'cluster-3-drained')
  }, STEP_MS)

  it('read-only: no action buttons, and every action refused with 403', async () => {
    const readOnly = await serveDashboard(m2, { listen: '127.0.0.1:0' })
    try {
      const other = await browser.newPage()
      await other.goto(`${readOnly.url}#token=${server.token}`)
      await waitInPage(other, 'the snapshot', () => (globalThis as unknown as PageGlobals).__dashboard?.snapshots === 1)
      expect(await other.locator('button.availability-action:visible').count()).toBe(0)
      const status = await other.evaluate(async (url) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"replicas":9}' })).status, `${readOnly.url}api/services/${webId}/scale`)
      expect(status).toBe(403)
      await other.close()
      expect((await m2.services.get(webId)).spec.mode).toEqual({ replicated: { replicas: 4 } })
    } finally {
      await readOnly.close()
    }
  }, STEP_MS)

  it("moves the leader's mark when the leader is closed", async () => {
    await m1.close()
    await until(() => m2.manager.leaderAddress() !== undefined && !m2.manager.leaderAddress()?.endsWith(m1.address.split(':')[1] ?? ''), 'a new leader')
    const newLeader = m2.isLeader ? m2 : m3
    await waitInPage(page, 'the mark on the new leader', (ids) => (globalThis as unknown as PageGlobals).document.querySelector(`.node[data-node-id="${ids.next}"]`)?.getAttribute('data-leader') === 'true' && (globalThis as unknown as PageGlobals).document.querySelector(`.node[data-node-id="${ids.old}"]`)?.getAttribute('data-leader') === 'false', { next: newLeader.nodeId, old: m1.nodeId })
    const raftLeader = await page.getAttribute('#raft-summary', 'data-leader')
    expect(raftLeader).toBe(newLeader.manager.raftId.toString())
    await screenshot(page, 'cluster-4-new-leader')
  }, STEP_MS)
})
