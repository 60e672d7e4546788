/**
 * A follower's apply of service-update change sets, the control bench's load (issue 18): CPU µs
 * per update of `applyEncodedChangeSet` (decode + apply) on a follower store, and of the decode
 * alone. A leader `MemoryStore` makes the change sets the way the control API does (the old spec
 * becomes `previousSpec`, labels `gen` bumped), `BENCH_BATCH` updates per change set (group
 * commit); the follower replays them, timed, `BENCH_ROUNDS` times over fresh follower stores. The
 * leader's own CPU per update (one cold run) is printed too.
 *
 * Run: `node scripts/bench-built.mjs packages/store/bench/follower-apply.ts` after `pnpm build`.
 */
import { cpuUsage } from 'node:process'
import type { Service, ServiceSpec } from '@swarmkit-ts/api'
import { decodeChangeSet, encodeChangeSet } from '../src/replication/change-set-codec.ts'
import { MemoryStore } from '../src/memory-store.ts'
import type { ApplyResult, ChangeSet, LocalChangeSet, Proposer } from '../src/proposer.ts'
import type { Draft } from '../src/index.ts'
import { benchId } from './fixtures.ts'

const SERVICES = Number(process.env['BENCH_SERVICES'] ?? 256)
const GENERATIONS = Number(process.env['BENCH_GENERATIONS'] ?? 40)
const BATCH = Number(process.env['BENCH_BATCH'] ?? 16)
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7)

/** The control bench's service spec (packages/core/bench/control-writes.ts `benchServiceSpec`). */
function spec(i: number, gen: number): ServiceSpec {
  return {
    annotations: { name: `bench-${i}`, labels: { team: 'bench', gen: String(gen) } },
    mode: { replicated: { replicas: 0 } },
    task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'], env: ['MODE=bench', `CLIENT=${i}`] } },
  }
}

/** Records every change set, encoded, and applies it on the leader at the next version. */
class RecordingProposer implements Proposer {
  readonly payloads: Uint8Array[] = []
  store: MemoryStore | undefined
  propose(changes: ChangeSet, local: LocalChangeSet): Promise<ApplyResult> {
    this.payloads.push(encodeChangeSet(changes))
    const store = this.store as MemoryStore
    return Promise.resolve(store.applyChangeSet(changes, store.version + 1n, local))
  }
}

async function leaderPayloads(): Promise<{ creates: Uint8Array[]; updates: Uint8Array[]; count: number; leaderUs: number }> {
  const proposer = new RecordingProposer()
  const leader = new MemoryStore({ proposer, historyLimit: 0 })
  proposer.store = leader
  const ids: string[] = []
  for (let i = 0; i < SERVICES; i++) ids.push(benchId('s', i))
  await leader.update((tx) => {
    for (let i = 0; i < SERVICES; i++) {
      const s: Service = { id: ids[i] as string, meta: { version: { index: 0n }, createdAt: 0, updatedAt: 0 }, spec: spec(i, 0) }
      tx.services.create(s)
    }
  })
  const creates = proposer.payloads.splice(0)
  let count = 0
  const t0 = cpuUs()
  for (let gen = 1; gen <= GENERATIONS; gen++) {
    for (let i = 0; i < SERVICES; i += BATCH) {
      await leader.batch((b) => {
        for (let k = i; k < Math.min(SERVICES, i + BATCH); k++) {
          b.update((tx) => {
            const old = tx.services.get(ids[k] as string)
            if (old === undefined) throw new Error('missing')
            tx.services.update(old.id, (s) => {
              s.previousSpec = s.spec
              if (s.specVersion === undefined) delete s.previousSpecVersion
              else s.previousSpecVersion = s.specVersion
              s.spec = spec(k, gen) as Draft<ServiceSpec>
              s.specVersion = { index: old.meta.version.index }
              delete s.updateStatus
            })
          })
          count++
        }
      })
    }
  }
  const leaderUs = (cpuUs() - t0) / count
  return { creates, updates: proposer.payloads.splice(0), count, leaderUs }
}

function cpuUs(): number {
  const u = cpuUsage()
  return u.user + u.system
}

async function main(): Promise<void> {
  const { creates, updates, count, leaderUs } = await leaderPayloads()
  const bytes = updates.reduce((a, p) => a + p.length, 0)
  process.stderr.write(`${SERVICES} services × ${GENERATIONS} generations = ${count} updates in ${updates.length} change sets (${(bytes / count).toFixed(0)} B per update)\n`)
  const applyUs: number[] = []
  const decodeUs: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const follower = new MemoryStore({ historyLimit: 0 })
    let v = 0n
    for (const p of creates) follower.applyEncodedChangeSet(p, ++v)
    let t0 = cpuUs()
    for (const p of updates) {
      const res = follower.applyEncodedChangeSet(p, ++v)
      if (res.results.some((x) => !x.ok)) throw new Error('an update failed')
    }
    applyUs.push((cpuUs() - t0) / count)
    t0 = cpuUs()
    for (const p of updates) decodeChangeSet(p)
    decodeUs.push((cpuUs() - t0) / count)
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN
  const fmt = (xs: number[]): string => `median ${median(xs).toFixed(2)} (${xs.map((x) => x.toFixed(2)).join(' ')})`
  process.stdout.write(`leader (recipe, size, encode, local apply; first run, cold): ${leaderUs.toFixed(2)} CPU µs/update\n`)
  process.stdout.write(`apply (decode + apply): ${fmt(applyUs)} CPU µs/update\n`)
  process.stdout.write(`decode alone:           ${fmt(decodeUs)} CPU µs/update\n`)
}

await main()
