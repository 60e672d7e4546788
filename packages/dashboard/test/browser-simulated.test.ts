/**
 * The page in headless Chromium against a simulated cluster (`Cluster.simulate`: 3 managers and
 * 3 workers on a virtual clock). The test moves virtual time; the dashboard follows the leader's
 * store, and after a leader crash the new leader's. In order: every node and task shown; an XSS
 * label rendered as text; a scale-up through the page's own form; a drain through the page's
 * button; the leader's mark moving after the leader crashes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import { Cluster } from '@swarmkit-ts/core'
import type { SimulatedCluster } from '@swarmkit-ts/core/testing'
import type { Browser, Page } from 'playwright-core'
import { serveDashboard, type DashboardServer } from '../src/index.ts'
import { SKIP_BROWSER, cardsByNode, launchBrowser, screenshot, waitInPage, type PageGlobals } from './browser.ts'

const XSS = '<img src=x onerror="window.__xss=1">'
const STEP_MS = 240_000

describe.skipIf(SKIP_BROWSER)('the dashboard of a simulated cluster, in Chromium', () => {
  let sim: SimulatedCluster
  let server: DashboardServer
  let browser: Browser
  let page: Page
  let webId = ''

  const running = async (): Promise<string[]> =>
    (await sim.tasks.list({ serviceIds: [webId] })).filter((t) => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING).map((t) => t.id).sort()
  const runningCards = (): Promise<number> => page.evaluate(() => (globalThis as unknown as PageGlobals).document.querySelectorAll('.task[data-state="RUNNING"]').length)

  /** Moves virtual time in steps until the page shows what `check` wants (a guard, never a timing assertion). */
  const advanceUntilPage = async (what: string, check: () => Promise<boolean>, guardMs = 120_000): Promise<void> => {
    const deadline = Date.now() + guardMs
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await sim.advance(500)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  beforeAll(async () => {
    sim = await Cluster.simulate({ managers: 3, workers: 3, seed: 22 })
    const web = await sim.services.create({
      annotations: { name: 'web', labels: { xss: XSS } },
      mode: { replicated: { replicas: 6 } },
      task: { container: { image: 'busybox:fake' } },
    })
    webId = web.id
    await sim.services.waitConverged(web.id)
    server = await serveDashboard(sim, { listen: '127.0.0.1:0', actions: true, sampleIntervalMs: 100, title: 'simulated' })
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(server.actionsUrl ?? '')
  }, STEP_MS)

  afterAll(async () => {
    await page?.close()
    await browser?.close()
    await server?.close()
    await sim?.close()
  }, STEP_MS)

  it('shows every node and every running task, in its node', async () => {
    const ids = await running()
    expect(ids.length).toBe(6)
    await waitInPage(page, 'six running cards', (n) => (globalThis as unknown as PageGlobals).document.querySelectorAll('.task[data-state="RUNNING"]').length === n, ids.length)
    const byNode = await cardsByNode(page)
    expect(Object.keys(byNode).sort()).toEqual(sim.members().map((m) => m.id).sort())
    for (const t of (await sim.tasks.list({ serviceIds: [webId] })).filter((x) => ids.includes(x.id))) expect(byNode[t.nodeId]).toContain(t.id)
    const leader = sim.leader()
    expect(await page.getAttribute(`.node[data-node-id="${leader?.id}"]`, 'data-leader')).toBe('true')
    expect(await page.getAttribute('#raft-summary', 'data-leader')).toBe(leader?.raftId?.toString())
    await screenshot(page, 'simulated-1-converged')
  }, STEP_MS)

  it('renders a label holding markup as text, and runs none of it', async () => {
    expect(await page.textContent(`#services tr[data-service-id="${webId}"] .labels .chip`)).toBe(`xss=${XSS}`)
    expect(await page.evaluate(() => ({ xss: (globalThis as unknown as PageGlobals).__xss, imgs: (globalThis as unknown as PageGlobals).document.querySelectorAll('img').length }))).toEqual({ xss: undefined, imgs: 0 })
  }, STEP_MS)

  it("scales up through the page's form, and shows the new tasks without a reload", async () => {
    const row = `#services tr[data-service-id="${webId}"]`
    await page.fill(`${row} input.replicas`, '9')
    await page.click(`${row} button.scale`)
    await waitInPage(page, 'the scale to be done', () => (globalThis as unknown as PageGlobals).document.querySelector('#action-status')?.textContent === 'scale to 9: done')
    await sim.services.waitConverged(webId)
    await advanceUntilPage('nine running cards', async () => (await runningCards()) === 9)
    expect(Object.values(await cardsByNode(page)).flat().sort()).toEqual(await running())
    expect(await page.textContent(`${row} .count`)).toBe('9/9')
    await screenshot(page, 'simulated-2-scaled')
  }, STEP_MS)

  it("drains a worker through the page's button: its column empties", async () => {
    const worker = sim.members().find((m) => m.role === 'worker')
    if (worker === undefined) throw new Error('no worker')
    await page.click(`.node[data-node-id="${worker.id}"] button.availability-action`)
    await waitInPage(page, 'the drain to be done', () => (globalThis as unknown as PageGlobals).document.querySelector('#action-status')?.textContent === 'drain: done')
    await advanceUntilPage('an empty drained column and nine running cards', async () => {
      const byNode = await cardsByNode(page)
      return byNode[worker.id]?.length === 0 && (await runningCards()) === 9
    })
    expect(await page.getAttribute(`.node[data-node-id="${worker.id}"]`, 'data-availability')).toBe('drain')
    expect(Object.values(await cardsByNode(page)).flat().sort()).toEqual(await running())
    await screenshot(page, 'simulated-3-drained')
  }, STEP_MS)

  it("moves the leader's mark to the new leader after the leader crashes", async () => {
    const old = sim.leader()
    if (old === undefined) throw new Error('no leader')
    sim.crash(old.id)
    await sim.runUntil(() => sim.leader() !== undefined && sim.leader()?.id !== old.id)
    const next = sim.leader()
    await advanceUntilPage('the mark on the new leader', async () =>
      page.evaluate(
        (ids) => {
          const d = (globalThis as unknown as PageGlobals).document
          return d.querySelector(`.node[data-node-id="${ids.next}"]`)?.getAttribute('data-leader') === 'true' && d.querySelector(`.node[data-node-id="${ids.old}"]`)?.getAttribute('data-leader') === 'false'
        },
        { next: next?.id ?? '', old: old.id },
      ),
    )
    expect(await page.getAttribute('#raft-summary', 'data-leader')).toBe(next?.raftId?.toString())
    await screenshot(page, 'simulated-4-new-leader')
  }, STEP_MS)
})
