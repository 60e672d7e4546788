/**
 * `pnpm --filter @swarmkit-ts/store bench`: the unreplicated figures of issue 4 — get by id, find
 * tasks by service in a 1M-task store, FindByName, single-object update transactions per second
 * with concurrent callers (group commit), watch fan-out to 1,000 watchers, memory per task. Prints
 * a table and writes bench-results/store.json at the repository root. SwarmKit's go-memdb
 * figures from the issue are quoted as reference rows (not measured here). The replicated figure
 * is bench/replicated.ts (bench-results/store-replicated.json).
 *
 * BENCH_SECONDS sets each measurement window (default 3); BENCH_TASKS the large store's size
 * (default 1,000,000, in services of 100 tasks).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { buildLargeStore, gc, measureFanOut, measureFindByName, measureFindByService, measureGets, measureRecipes, measureUpdates } from './measure.ts'

const windowMs = Number(process.env['BENCH_SECONDS'] ?? 3) * 1000
const TASKS = Number(process.env['BENCH_TASKS'] ?? 1_000_000)
const PER_SERVICE = 100
const SERVICES = Math.max(1, Math.floor(TASKS / PER_SERVICE))

interface Row {
  benchmark: string
  load: string
  value: number
  unit: string
  target?: string | undefined
  note?: string | undefined
}
const rows: Row[] = []
const log = (s: string): void => void process.stderr.write(`${s}\n`)
const perCpu = (n: number): string => `${Math.round(n).toLocaleString('en-US')} per CPU-second of this process`

async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const load0 = loadavg()[0] ?? 0
  const tasks = SERVICES * PER_SERVICE

  log(`loading ${tasks} tasks in ${SERVICES} services`)
  let large: ReturnType<typeof buildLargeStore> | undefined = buildLargeStore(SERVICES, PER_SERVICE)
  rows.push({ benchmark: 'load through applyChangeSet (200 creates per change set)', load: `${tasks} tasks`, value: tasks / (large.loadMs / 1000), unit: 'objects/s' })
  rows.push({ benchmark: 'memory per task (heap delta / tasks, indexes included)', load: `${tasks} tasks`, value: large.bytesPerTask, unit: 'bytes' })

  log('get by id')
  const g = measureGets(large.store, tasks, windowMs)
  rows.push({ benchmark: 'get task by id', load: `${tasks} tasks, random ids`, value: g.perSecond, unit: 'ops/s', target: '≥ 1,000,000/s', note: perCpu(g.perCpuSecond) })

  log('find by service')
  const f = measureFindByService(large.store, SERVICES, PER_SERVICE, 10_000)
  rows.push({ benchmark: 'find tasks by service (100 tasks)', load: `${tasks} tasks, mean`, value: f.meanMs, unit: 'ms', target: '< 1 ms' })
  rows.push({ benchmark: 'find tasks by service (100 tasks)', load: `${tasks} tasks, p99`, value: f.p99Ms, unit: 'ms', target: '< 1 ms' })

  log('find by name')
  const byName = measureFindByName(large.store, SERVICES, windowMs)
  rows.push({ benchmark: 'find service by name', load: `${SERVICES} services`, value: byName.perSecond, unit: 'ops/s', note: perCpu(byName.perCpuSecond) })
  large = undefined
  gc()

  for (const callers of [1, 100, 1000]) {
    log(`updates, ${callers} callers`)
    const u = await measureUpdates(callers, windowMs)
    rows.push({
      benchmark: 'single-object update transactions (unreplicated, group commit)',
      load: `${callers} concurrent callers`,
      value: u.perSecond,
      unit: 'tx/s',
      target: callers === 1000 ? '≥ 100,000/s' : undefined,
      note: `${u.proposals} change sets; ${perCpu(u.perCpuSecond)}`,
    })
  }

  log('recipes: store drafts and immer')
  const rc = measureRecipes(windowMs)
  rows.push({ benchmark: 'one recipe (status.timestamp += 1) on a frozen task, store draft', load: '1,000 tasks, no store', value: rc.draftNs, unit: 'ns' })
  rows.push({ benchmark: 'the same recipe through immer 11 (auto-freeze)', load: '1,000 tasks, no store', value: rc.immerNs, unit: 'ns', note: `${(rc.immerNs / rc.draftNs).toFixed(1)}× the draft` })

  log('updates by whole object, 1000 callers')
  const o = await measureUpdates(1000, windowMs, 'object')
  rows.push({
    benchmark: 'single-object update transactions, whole object instead of recipe',
    load: '1000 concurrent callers',
    value: o.perSecond,
    unit: 'tx/s',
    note: `${o.proposals} change sets; ${perCpu(o.perCpuSecond)}`,
  })

  log('watch fan-out')
  const w = await measureFanOut(1000, 2000)
  rows.push({
    benchmark: 'watch fan-out to 1,000 watchers',
    load: '2,000 updates by 100 callers',
    value: w.eventsPerSec,
    unit: 'events/s',
    note: `${w.events} events delivered in ${w.totalMs.toFixed(0)} ms`,
  })

  const ref = 'SwarmKit go-memdb, quoted from issue 4 (same machine, not measured here)'
  rows.push({ benchmark: 'GetNode', load: ref, value: 384_000, unit: 'ops/s' })
  rows.push({ benchmark: 'FindNodeByName', load: ref, value: 716_000, unit: 'ops/s' })
  rows.push({ benchmark: 'one-update transactions', load: ref, value: 14_700, unit: 'tx/s' })

  const fmt = (r: Row): string => (r.unit === 'ms' ? r.value.toFixed(4) : r.unit === 'bytes' ? r.value.toFixed(0) : Math.round(r.value).toLocaleString('en-US'))
  const table = [['benchmark', 'load', 'value', 'unit', 'target', 'note'], ...rows.map((r) => [r.benchmark, r.load, fmt(r), r.unit, r.target ?? '', r.note ?? ''])]
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? []
  for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '))

  const out = new URL('../../../bench-results/', import.meta.url)
  await mkdir(out, { recursive: true })
  const file = new URL('store.json', out)
  const json = { package: '@swarmkit-ts/store', startedAt, cores: availableParallelism(), node: process.version, loadAverageAtStart: load0, windowMs, tasks, rows }
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`)
  log(`wrote ${file.pathname} (load average ${load0.toFixed(1)} at start, ${loadavg()[0]?.toFixed(1) ?? '?'} at end, ${availableParallelism()} cores)`)
}

await main()
