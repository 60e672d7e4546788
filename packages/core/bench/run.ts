/**
 * `pnpm --filter @swarmkit-ts/core bench`: issue 18's two benchmarks, one after the other —
 * `swarm.ts` (against Docker Swarm on the same dockerd) then `control-writes.ts` (control-plane
 * writes through the public API against etcd 3.4) — then issue 21's `simulate.ts` (scale on
 * `Cluster.simulate`; its 1,000,000-task row only with `BENCH_SIM_1M=1`).
 * `BENCH_ONLY=swarm|control|simulate` (comma-separated) runs some of them.
 * Each part prints its own table (CPU model first) and writes its JSON under `bench-results/`.
 *
 * The parts are imported on demand: one that is not in the tree yet is reported and skipped
 * (bundled by `scripts/bench-built.mjs`, an import esbuild cannot resolve inside `try` stays a
 * runtime import that fails here).
 *
 * @module
 */

/** A benchmark part: a module whose `main()` runs it. */
interface BenchPart {
  main(): Promise<void>
}

const PARTS = ['swarm', 'control', 'simulate'] as const
type PartName = (typeof PARTS)[number]

async function load(name: PartName): Promise<BenchPart | undefined> {
  try {
    switch (name) {
      case 'swarm':
        return await import('./swarm.ts')
      case 'control':
        return await import('./control-writes.ts')
      case 'simulate':
        return await import('./simulate.ts')
    }
  } catch (err) {
    process.stderr.write(`bench ${name}: not run, its module did not load (${err instanceof Error ? err.message : String(err)})\n`)
    return undefined
  }
}

/** Runs the parts `BENCH_ONLY` names (default both), in order. */
export async function main(): Promise<void> {
  const only = process.env['BENCH_ONLY']
  const picked = only === undefined ? [...PARTS] : PARTS.filter((p) => only.split(',').includes(p))
  if (picked.length === 0) throw new Error(`BENCH_ONLY: expected swarm, control or simulate, got ${JSON.stringify(only)}`)
  for (const name of picked) {
    const part = await load(name)
    if (part === undefined) continue
    console.log('')
    await part.main()
  }
}

await main()
