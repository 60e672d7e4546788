/**
 * The whole orchestrator under random operations: services created, updated (good and failing
 * images, every failure action and order), scaled and removed; nodes joining, leaving, drained,
 * paused, down and back; tasks failing; leader changes (the runner stopped and a new one started
 * on the same store); time passing. After quiescence every promise of the package must hold
 * (see `checkInvariants`). Failing sequences are kept in `testdata/property-regressions.json`
 * and replayed first.
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkInvariants, quiesce, runOp } from './helpers/cluster-model.ts'
import type { ModelState, Op } from './helpers/cluster-model.ts'
import { Harness } from './helpers/harness.ts'

const RUNS = Number(process.env['ORCHESTRATOR_PROPERTY_RUNS'] ?? 1000)

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('create' as const), kind: fc.constantFrom('replicated' as const, 'global' as const), replicas: fc.integer({ min: 0, max: 5 }), zone: fc.option(fc.constantFrom('a' as const, 'b' as const), { nil: undefined }) }, { requiredKeys: ['op', 'kind', 'replicas'] }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('createJob' as const), maxConcurrent: fc.integer({ min: 1, max: 3 }), totalCompletions: fc.integer({ min: 0, max: 5 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('update' as const),
      service: fc.nat(9),
      image: fc.constantFrom('good' as const, 'bad' as const),
      parallelism: fc.integer({ min: 0, max: 2 }),
      order: fc.constantFrom('stop-first' as const, 'start-first' as const),
      failureAction: fc.constantFrom('pause' as const, 'continue' as const, 'rollback' as const),
      monitorMs: fc.constantFrom(0, 1000, 5000),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('scale' as const), service: fc.nat(9), replicas: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), service: fc.nat(9) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('join' as const), zone: fc.constantFrom('a' as const, 'b' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('leave' as const), node: fc.nat(9) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('availability' as const), node: fc.nat(9), availability: fc.constantFrom('active' as const, 'pause' as const, 'drain' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('down' as const), node: fc.nat(9) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('up' as const), node: fc.nat(9) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('relabel' as const), node: fc.nat(9) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('fail' as const), task: fc.nat(99) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('leaderChange' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('noLeader' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(100, 1000, 5000, 30_000) }) },
)

/**
 * Runs a scenario to quiescence and returns the invariant violations. A scenario that hangs (a
 * promise that never settles: a deadlock, not slowness — everything runs on virtual time) fails
 * after 20 s of real time with its operations, instead of stalling the run.
 */
async function scenario(seed: number, ops: readonly Op[], retention?: number, scheduler = false): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`scenario hung: ${JSON.stringify({ seed, retention, scheduler, ops })}`)), 20_000)
  })
  try {
    return await Promise.race([run(seed, ops, retention, scheduler), hung])
  } finally {
    clearTimeout(timer)
  }
}

async function run(seed: number, ops: readonly Op[], retention?: number, scheduler = false): Promise<string[]> {
  const h = new Harness(retention === undefined ? { seed, scheduler } : { seed, retention, scheduler })
  const m: ModelState = { services: [], nodes: [], images: new Map() }
  try {
    for (const zone of ['a', 'b', 'a'] as const) m.nodes.push(await h.addNode(`n${m.nodes.length}`, { labels: { zone } }))
    for (const o of ops) await runOp(h, m, o)
    await quiesce(h, m)
    return checkInvariants(h, m, retention ?? 5)
  } finally {
    await h.stop()
  }
}

interface Regression {
  readonly seed: number
  readonly ops: readonly Op[]
  /** The cluster's task history retention limit; absent: no cluster object (default 5). */
  readonly retention?: number
  /** Whether the real scheduler placed the tasks (otherwise the test driver did). */
  readonly scheduler?: boolean
  readonly note: string
}

const regressions = JSON.parse(readFileSync(new URL('./testdata/property-regressions.json', import.meta.url), 'utf8')) as Regression[]

describe('orchestrator properties', () => {
  for (const [i, r] of regressions.entries()) {
    it(`regression ${i + 1}: ${r.note}`, async () => {
      expect(await scenario(r.seed, r.ops, r.retention, r.scheduler)).toEqual([])
    })
  }

  it(`after random operations and quiescence, every service is converged as its policy says (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(arbOp, { minLength: 1, maxLength: 24 }),
        fc.constantFrom(undefined, 0, 1, 3),
        fc.boolean(),
        async (seed, ops, retention, scheduler) => {
          const problems = await scenario(seed, ops, retention, scheduler)
          if (problems.length > 0) throw new Error(`${problems.join('\n')}\nops: ${JSON.stringify({ seed, retention, scheduler, ops })}`)
        },
      ),
      { numRuns: RUNS },
    )
  }, 600_000)
})
