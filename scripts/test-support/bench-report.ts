/**
 * What every benchmark prints and writes the same way: its table with padded columns, and its
 * JSON under `bench-results/` at the repository root. Benchmarks import it relatively; the
 * bench-built bundler inlines it.
 *
 * @module
 */
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** A timed row: the median of repeated runs with their range. */
export interface MedianRow {
  benchmark: string
  load: string
  median: number
  min: number
  max: number
  unit: string
  target?: string | undefined
  note?: string | undefined
}

/** Prints `table` (its first line the header) with every column padded to its widest cell. */
export function printTable(table: readonly (readonly string[])[]): void {
  const widths = table[0]?.map((_, i) => Math.max(...table.map((line) => (line[i] ?? '').length))) ?? []
  for (const line of table) console.log(line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '))
}

/** The repository root: the nearest folder above this module (or its bundle) holding pnpm-workspace.yaml. */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('bench-report: no pnpm-workspace.yaml above this module')
    dir = parent
  }
  return dir
}

/** Writes `json` to `bench-results/<file>` at the repository root; returns the path written. */
export async function writeBenchResults(file: string, json: unknown): Promise<string> {
  const dir = join(repositoryRoot(), 'bench-results')
  await mkdir(dir, { recursive: true })
  const path = join(dir, file)
  await writeFile(path, `${JSON.stringify(json, null, 2)}\n`)
  return path
}

/** The median of `xs` (the mean of the middle two for an even count; NaN when empty). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? Number.NaN) + (s[mid] ?? Number.NaN)) / 2
}

/** Real and CPU milliseconds (this process) since construction. */
export class Stopwatch {
  readonly t0 = performance.now()
  readonly #cpu0 = process.cpuUsage()
  read(): { ms: number; cpuMs: number } {
    const cpu = process.cpuUsage(this.#cpu0)
    return { ms: performance.now() - this.t0, cpuMs: (cpu.user + cpu.system) / 1000 }
  }
}
