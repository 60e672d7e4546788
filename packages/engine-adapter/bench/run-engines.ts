/**
 * `tsx bench/run-engines.ts` (as root): starts the test engines, runs the concurrent-start
 * benchmark on Docker and containerd with the `docker run -d` loop as baseline, prints the table and
 * writes bench-results/engine-adapter-engines.json at the repository root. BENCH_CONTAINERS sets N (50).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { startEngine, stopEngine } from '../test/helpers/engines.ts'
import { benchStartConcurrently, formatStartBench } from './engine-concurrent-start.ts'

const n = Number(process.env['BENCH_CONTAINERS'] ?? 50)
const startedAt = new Date().toISOString()
const t0 = performance.now()
await startEngine('docker')
const env = await startEngine('containerd')
const engineStartMs = performance.now() - t0
try {
  const rows = await benchStartConcurrently(env, n)
  process.stdout.write(`engines up in ${engineStartMs.toFixed(0)} ms\n${formatStartBench(rows)}\n`)
  const out = fileURLToPath(new URL('../../../bench-results/', import.meta.url))
  await mkdir(out, { recursive: true })
  await writeFile(`${out}engine-adapter-engines.json`, `${JSON.stringify({ package: '@swarmkit-ts/engine-adapter', startedAt, cores: availableParallelism(), node: process.version, engineStartMs, rows }, null, 2)}\n`)
} finally {
  await stopEngine('containerd')
  await stopEngine('docker')
}
