/**
 * Crash safety with real OS processes: three `kv-node.ts` members on loopback over
 * GrpcRaftTransport with FileRaftStorage. Under a write load the leader is killed with SIGKILL
 * and restarted on the same directory (on a new port); afterwards every acknowledged write is on
 * every member and the logs match entry by entry.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { expectConsistent } from './process/checks.ts'
import { ProcessCluster } from './process/process-cluster.ts'
import type { MemberOptions } from './process/process-cluster.ts'
import { WriteLoad } from './process/write-load.ts'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Acknowledged writes to wait for in each phase of a round. */
const PHASE_WRITES = 30

/**
 * One round: load, kill -9 the leader, keep loading the survivors, restart it, stop the load,
 * wait for convergence and check. Returns the killed member.
 */
async function crashRound(cluster: ProcessCluster, load: WriteLoad, label: string): Promise<bigint> {
  const leader = await cluster.waitLeader()
  load.start(label)
  await Promise.all([sleep(1000), load.waitAcked(load.acked.size + PHASE_WRITES)])
  await cluster.crash(leader)
  // The survivors elect a leader and keep acknowledging writes.
  await load.waitAcked(load.acked.size + PHASE_WRITES)
  await cluster.restart(leader)
  await Promise.all([sleep(500), load.waitAcked(load.acked.size + PHASE_WRITES)])
  await load.stop()
  const dumps = await cluster.converged()
  const range = expectConsistent(dumps, load.acked)
  expect(range.hi).toBeGreaterThanOrEqual(range.lo)
  // A linearizable read on the restarted member sees the last acknowledged write.
  const last = [...load.acked].at(-1)
  if (last === undefined) throw new Error('no acknowledged write')
  expect(await cluster.proc(leader).request('read', { key: last[0], timeoutMs: 10_000 })).toEqual({ value: last[1] })
  return leader
}

describe('real processes: 3 members over gRPC with FileRaftStorage', () => {
  let cluster: ProcessCluster | undefined
  let load: WriteLoad | undefined
  afterEach(async () => {
    // Stop the writers first (on a failure they may still run), then kill every process.
    const stopped = load?.stop()
    await cluster?.close()
    await stopped
    cluster = undefined
    load = undefined
  })

  async function run(options: Partial<MemberOptions>): Promise<{ killed: bigint[]; load: WriteLoad }> {
    cluster = new ProcessCluster([1n, 2n, 3n], options)
    await cluster.bootstrap()
    load = new WriteLoad(cluster, { writers: 4 })
    const killed = [await crashRound(cluster, load, 'r1'), await crashRound(cluster, load, 'r2')]
    return { killed, load }
  }

  it('keeps every acknowledged write when the leader is killed with SIGKILL and restarted, twice', async () => {
    const { killed, load: writes } = await run({})
    expect(killed).toHaveLength(2)
    expect(writes.acked.size).toBeGreaterThanOrEqual(6 * PHASE_WRITES)
  }, 180_000)

  it('does the same with automatic snapshots and compaction (a restarted member may catch up by snapshot)', async () => {
    const { load: writes } = await run({ snapshotInterval: 25, logEntriesForSlowFollowers: 5 })
    expect(writes.acked.size).toBeGreaterThanOrEqual(6 * PHASE_WRITES)
    // Every member compacted its log behind a snapshot.
    for (const s of await (cluster as ProcessCluster).statuses()) expect(s.firstIndex).toBeGreaterThan(1)
  }, 180_000)
})
