/**
 * The dashboard's benchmark, in headless Chromium against the built package (`pnpm bench`):
 *
 * 1. Latency: from a task's state change written to the store to its card changing in the page
 *    (a MutationObserver in the page stamps the change; both stamps are the machine's clock,
 *    `performance.timeOrigin + performance.now()` on each side), over BENCH_CHANGES (default 300)
 *    sequential changes — on a small cluster (3 nodes, 30 tasks) and on 1,000 nodes / 10,000 tasks.
 * 2. Page load at 1,000 nodes / 10,000 tasks: navigation to the first snapshot drawn, the
 *    snapshot's size, the page's JS heap and DOM nodes (CDP `Performance.getMetrics`).
 *
 * The cluster is a store filled directly (test/store-cluster.ts: nodes, services and tasks written
 * in batches, no Raft or agents), so the figures are the dashboard's own cost. Prints a table and
 * writes bench-results/dashboard.json; also reports the server process's CPU time.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { TaskState } from '@swarmkit-ts/api'
import type { Task } from '@swarmkit-ts/api'
import { serveDashboard } from '@swarmkit-ts/dashboard'
import type { Frozen } from '@swarmkit-ts/store'
import { chromium, type Page } from 'playwright-core'
import { StoreCluster, nodeObject, serviceObject, taskObject } from '../test/store-cluster.ts'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const CHANGES = Number(process.env.BENCH_CHANGES ?? 300)
const OUT = fileURLToPath(new URL('../../../bench-results/', import.meta.url))

const epochMs = (): number => performance.timeOrigin + performance.now()

/** A cluster of `nodes` nodes (3 managers) and `services` services of `perService` tasks each, spread round-robin. */
async function fill(nodes: number, services: number, perService: number): Promise<{ cluster: StoreCluster; nodeIds: string[] }> {
  const cluster = new StoreCluster()
  const store = cluster.store()
  const ns = Array.from({ length: nodes }, (_, i) => nodeObject(`node-${String(i).padStart(4, '0')}`, i < 3 ? { role: 'manager', leader: i === 0 } : { labels: { rack: `r${i % 20}` } }))
  await store.batch((b) => {
    for (const n of ns) b.update((tx) => void tx.nodes.create(n))
  })
  let k = 0
  for (let s = 0; s < services; s++) {
    const svc = serviceObject(`svc-${s}`, perService)
    await store.batch((b) => {
      b.update((tx) => void tx.services.create(svc))
      for (let slot = 1; slot <= perService; slot++) {
        const t = taskObject(svc, slot, ns[k++ % nodes]?.id ?? '')
        b.update((tx) => void tx.tasks.create(t))
      }
    })
  }
  return { cluster, nodeIds: ns.map((n) => n.id) }
}

interface Sample {
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly n: number
}

function percentiles(xs: number[]): Sample {
  const s = [...xs].sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(s.at(-1) ?? Number.NaN), n: s.length }
}
const round = (x: number): number => Math.round(x * 10) / 10

/** Installs the page's observer: each card whose data-state changes pushes (task id, state, time). */
async function observe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as unknown as { __changes: [string, string, number][]; MutationObserver: new (cb: (records: { target: { dataset?: Record<string, string> } }[]) => void) => { observe(el: unknown, o: object): void }; document: { getElementById(id: string): unknown } }
    g.__changes = []
    new g.MutationObserver((records) => {
      const t = performance.timeOrigin + performance.now()
      for (const r of records) {
        const d = r.target.dataset
        if (d?.taskId !== undefined && d.state !== undefined) g.__changes.push([d.taskId, d.state, t])
      }
    }).observe(g.document.getElementById('nodes'), { subtree: true, attributes: true, attributeFilter: ['data-state'] })
  })
}

/** `CHANGES` sequential state flips of tasks on the first column; the latency of each. */
async function latency(page: Page, cluster: StoreCluster, tasks: readonly Frozen<Task>[]): Promise<Sample> {
  await observe(page)
  const store = cluster.store()
  const out: number[] = []
  for (let i = 0; i < CHANGES; i++) {
    const task = tasks[i % tasks.length]
    if (task === undefined) throw new Error('no task')
    const current = store.view((tx) => tx.tasks.get(task.id))
    const next = current?.status.state === TaskState.RUNNING ? TaskState.STARTING : TaskState.RUNNING
    const name = next === TaskState.RUNNING ? 'RUNNING' : 'STARTING'
    const t0 = epochMs()
    await store.update((tx) => tx.tasks.update(task.id, (d) => void (d.status = { timestamp: t0, state: next })))
    const seen = await page.waitForFunction(
      ([id, state]) => (globalThis as unknown as { __changes: [string, string, number][] }).__changes.find((c) => c[0] === id && c[1] === state)?.[2] ?? 0,
      [task.id, name] as const,
      { polling: 5, timeout: 60_000 },
    ).catch(async (err: unknown) => {
      const probe = await page.evaluate((id) => {
        const g = globalThis as unknown as { __dashboard: unknown; __changes: unknown; document: { querySelectorAll(s: string): { length: number }; querySelector(s: string): { getAttribute(n: string): string | null; textContent: string | null } | null } }
        return JSON.stringify({ d: g.__dashboard, c: g.__changes, cards: g.document.querySelectorAll('.task').length, card: g.document.querySelector(`[data-task-id="${id}"]`)?.getAttribute('data-state'), first: g.document.querySelector('#nodes .node')?.textContent })
      }, task.id)
      throw new Error(`no card change for task ${task.id} → ${name} (page: ${probe})`, { cause: err })
    })
    out.push((await seen.jsonValue()) - t0)
    await page.evaluate(() => void ((globalThis as unknown as { __changes: unknown[] }).__changes.length = 0))
  }
  return percentiles(out)
}

async function main(): Promise<void> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
  const results: Record<string, unknown> = {}
  const cpu0 = process.cpuUsage()
  try {
    for (const [label, nodes, services, perService] of [
      ['small', 3, 3, 10],
      ['large', 1000, 100, 100],
    ] as const) {
      const built = Date.now()
      const { cluster, nodeIds } = await fill(nodes, services, perService)
      const fillMs = Date.now() - built
      const server = await serveDashboard(cluster, { listen: '127.0.0.1:0', sampleIntervalMs: 1000 })
      const snapshotBytes = (await (await fetch(`${server.url}api/state`)).arrayBuffer()).byteLength
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
      const cdp = await page.context().newCDPSession(page)
      await cdp.send('Performance.enable')
      const navStart = Date.now()
      await page.goto(server.url)
      await page.waitForFunction(() => (globalThis as unknown as { __dashboard?: { firstDrawMs: number } }).__dashboard?.firstDrawMs !== 0, undefined, { timeout: 120_000 })
      const wallLoadMs = Date.now() - navStart
      const firstDrawMs = await page.evaluate(() => (globalThis as unknown as { __dashboard: { firstDrawMs: number } }).__dashboard.firstDrawMs)
      const { metrics } = await cdp.send('Performance.getMetrics')
      const metric = (name: string): number => metrics.find((m) => m.name === name)?.value ?? Number.NaN
      // Tasks of the first column (managers sort first, node-0000 leads), scrolled into view: only
      // columns near the viewport have cards.
      const first = nodeIds[0] ?? ''
      await page.locator(`.node[data-node-id="${first}"]`).scrollIntoViewIfNeeded()
      await page.waitForSelector(`.node[data-node-id="${first}"] .task`, { timeout: 60_000 })
      const drawnCards = await page.locator('.task').count()
      await mkdir(`${OUT}dashboard`, { recursive: true })
      await page.screenshot({ path: `${OUT}dashboard/bench-${label}.png` })
      const tasks = cluster.store().view((tx) => tx.tasks.find({ nodeId: first }))
      const lat = await latency(page, cluster, tasks)
      results[label] = {
        nodes,
        tasks: services * perService,
        fillMs,
        snapshotBytes,
        pageLoad: { firstDrawMs: round(firstDrawMs), wallMs: wallLoadMs },
        jsHeapUsedMiB: round(metric('JSHeapUsedSize') / 2 ** 20),
        domNodes: metric('Nodes'),
        drawnCards,
        latencyMs: lat,
      }
      await page.close()
      await server.close()
    }
  } finally {
    await browser.close()
  }
  const cpu = process.cpuUsage(cpu0)
  const report = { package: '@swarmkit-ts/dashboard', date: new Date().toISOString(), changes: CHANGES, source: 'store filled directly (test/store-cluster.ts)', serverProcessCpuMs: Math.round((cpu.user + cpu.system) / 1000), results }
  await mkdir(OUT, { recursive: true })
  await writeFile(`${OUT}dashboard.json`, `${JSON.stringify(report, null, 2)}\n`)
  const rows = Object.entries(results).map(([label, r]) => {
    const x = r as { nodes: number; tasks: number; snapshotBytes: number; pageLoad: { firstDrawMs: number }; jsHeapUsedMiB: number; domNodes: number; drawnCards: number; latencyMs: Sample }
    return `| ${label} | ${x.nodes} | ${x.tasks} | ${x.latencyMs.p50} | ${x.latencyMs.p99} | ${x.pageLoad.firstDrawMs} | ${(x.snapshotBytes / 2 ** 20).toFixed(2)} | ${x.jsHeapUsedMiB} | ${x.domNodes} | ${x.drawnCards} |`
  })
  process.stdout.write(
    [
      '| cluster | nodes | tasks | change→card p50 ms | p99 ms | page load (first draw) ms | snapshot MiB | JS heap MiB | DOM nodes | cards drawn |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
      `server process CPU: ${report.serverProcessCpuMs} ms; ${CHANGES} changes per row; written to bench-results/dashboard.json`,
      '',
    ].join('\n'),
  )
}

await main()
