/**
 * The page at 1,000 nodes and 10,000 tasks (a store filled directly), in headless Chromium: a
 * column for every node, every task in the model, cards drawn only near the viewport, and a
 * change on the last column shown once it is scrolled into view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import type { Browser, Page } from 'playwright-core'
import { serveDashboard, type DashboardServer } from '../src/index.ts'
import { SKIP_BROWSER, launchBrowser, screenshot, waitInPage, type PageGlobals } from './browser.ts'
import { StoreCluster, nodeObject, serviceObject, taskObject } from './store-cluster.ts'

const NODES = 1000
const SERVICES = 20
const PER_SERVICE = 500
const STEP_MS = 240_000

describe.skipIf(SKIP_BROWSER)('the dashboard at 1,000 nodes and 10,000 tasks, in Chromium', () => {
  const cluster = new StoreCluster()
  const nodeIds: string[] = []
  let server: DashboardServer
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    const store = cluster.store()
    const nodes = Array.from({ length: NODES }, (_, i) => nodeObject(`node-${String(i).padStart(4, '0')}`))
    nodeIds.push(...nodes.map((n) => n.id))
    await store.batch((b) => {
      for (const n of nodes) b.update((tx) => void tx.nodes.create(n))
    })
    let k = 0
    for (let s = 0; s < SERVICES; s++) {
      const svc = serviceObject(`svc-${s}`, PER_SERVICE)
      await store.batch((b) => {
        b.update((tx) => void tx.services.create(svc))
        for (let slot = 1; slot <= PER_SERVICE; slot++) {
          const t = taskObject(svc, slot, nodes[k++ % NODES]?.id ?? '')
          b.update((tx) => void tx.tasks.create(t))
        }
      })
    }
    server = await serveDashboard(cluster, { listen: '127.0.0.1:0' })
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(server.url)
  }, STEP_MS)

  afterAll(async () => {
    await page?.close()
    await browser?.close()
    await server?.close()
  }, STEP_MS)

  it('has a column for every node and every task in the model, with cards only near the viewport', async () => {
    await waitInPage(page, 'the first draw', () => (globalThis as unknown as PageGlobals).document.querySelector('#summary')?.textContent === '1000 nodes · 10000 tasks · 20 services')
    const counts = await page.evaluate(() => {
      const d = (globalThis as unknown as PageGlobals).document
      return { columns: d.querySelectorAll('#nodes .node').length, cards: d.querySelectorAll('.task').length }
    })
    expect(counts.columns).toBe(NODES)
    expect(counts.cards).toBeGreaterThan(0)
    expect(counts.cards).toBeLessThan(2000)
    await screenshot(page, 'scale-1-first-draw')
  }, STEP_MS)

  it('shows a change on the last column once it is scrolled into view', async () => {
    const last = nodeIds.at(-1) ?? ''
    const task = cluster.store().view((tx) => tx.tasks.find({ nodeId: last })[0])
    if (task === undefined) throw new Error('no task on the last node')
    await cluster.store().update((tx) => tx.tasks.update(task.id, (d) => void (d.status = { timestamp: 1, state: TaskState.STARTING })))
    await page.locator(`.node[data-node-id="${last}"]`).scrollIntoViewIfNeeded()
    await waitInPage(page, 'the changed card', (id) => (globalThis as unknown as PageGlobals).document.querySelector(`.task[data-task-id="${id}"]`)?.getAttribute('data-state') === 'STARTING', task.id)
    expect(await page.locator(`.node[data-node-id="${last}"] .task`).count()).toBe(10)
  }, STEP_MS)
})
