/**
 * In-process throughput: 3 RaftNode drivers with MemoryRaftStorage over testkit's MemoryNetwork
 * (no faults, zero delay: each message arrives on a later turn of the event loop, per-link order
 * kept), N concurrent proposers, real clock.
 * Reports committed (applied on the leader) proposals per second.
 */
import type { Clock } from '@swarmkit-ts/api'
import { MemoryRaftStorage, RaftNode } from '@swarmkit-ts/raft'
import type { Message, StateMachine } from '@swarmkit-ts/raft'
import { MemoryNetwork, SeededRandom } from '@swarmkit-ts/testkit'

class CountingStateMachine implements StateMachine {
  count = 0
  apply(): unknown {
    return ++this.count
  }
  snapshot(): Uint8Array {
    return new Uint8Array(8)
  }
  restore(): void {}
}

/**
 * The real clock for the network, except that a zero delay means "on the next turn of the event
 * loop" (setImmediate) rather than Node's 1 ms minimum for setTimeout.
 */
const immediateClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    if (ms <= 0) {
      const h = setImmediate(callback)
      return { cancel: () => clearImmediate(h) }
    }
    const t = setTimeout(callback, ms)
    t.unref()
    return { cancel: () => clearTimeout(t) }
  },
}

export interface InProcessResult {
  name: string
  proposers: number
  valueBytes: number
  proposals: number
  seconds: number
  perSecond: number
}

export async function runInProcess(proposers: number, durationMs: number, valueBytes = 256): Promise<InProcessResult> {
  const network = new MemoryNetwork<Message>({ clock: immediateClock, random: new SeededRandom(1), defaultDelayMs: [0, 0], isSnapshot: (m) => m.type === 'snapshot' })
  const ids = [1n, 2n, 3n]
  const nodes = ids.map(
    (id) =>
      new RaftNode({
        id,
        storage: new MemoryRaftStorage(),
        transport: network.endpoint(id),
        stateMachine: new CountingStateMachine(),
        tickMs: 50,
        snapshotInterval: 100_000,
        maxSizePerMsg: 1024 * 1024,
      }),
  )
  for (const n of nodes) n.bootstrap(ids.map((id) => ({ id, address: `mem-${id}` })))
  for (const n of nodes) await n.start()
  nodes[0]?.campaign()
  let leader: RaftNode | undefined
  while (leader === undefined) {
    await new Promise((r) => setTimeout(r, 10))
    leader = nodes.find((n) => n.isLeader)
  }
  const value = new Uint8Array(valueBytes).fill(7)
  let done = 0
  let stop = false
  const start = performance.now()
  const worker = async (): Promise<void> => {
    while (!stop) {
      await leader.propose(value)
      done++
    }
  }
  const workers = Array.from({ length: proposers }, () => worker())
  await new Promise((r) => setTimeout(r, durationMs))
  stop = true
  await Promise.all(workers)
  const seconds = (performance.now() - start) / 1000
  for (const n of nodes) await n.stop()
  return { name: 'in-process 3 nodes (memory storage, MemoryNetwork)', proposers, valueBytes, proposals: done, seconds, perSecond: done / seconds }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const p of [1, 64, 256, 1024]) {
    const r = await runInProcess(p, 3000)
    console.log(`${p} proposers: ${Math.round(r.perSecond)} proposals/s`)
  }
}
