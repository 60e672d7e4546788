/**
 * In-process throughput: 3 RaftNode drivers with MemoryRaftStorage and an in-memory transport
 * (delivery on the next turn of the event loop), N concurrent proposers, real clock.
 * Reports committed (applied on the leader) proposals per second.
 */
import { MemoryRaftStorage, RaftNode } from '@swarmkit-ts/raft'
import type { Message, RaftTransport, RaftTransportHandlers, StateMachine } from '@swarmkit-ts/raft'

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

/** Delivers batches on setImmediate, preserving per-link order. */
class ImmediateBus {
  readonly handlers = new Map<bigint, RaftTransportHandlers>()
  endpoint(self: bigint): RaftTransport {
    return {
      start: (h) => {
        this.handlers.set(self, h)
        return Promise.resolve()
      },
      send: (msgs: readonly Message[]) => {
        const batch = [...msgs]
        setImmediate(() => {
          for (const m of batch) {
            if (m.type === 'snapshot') this.handlers.get(self)?.snapshotStatus?.(m.to, true)
            this.handlers.get(m.to)?.message(m)
          }
        })
      },
      addPeer: () => {},
      removePeer: () => {},
      stop: () => {
        this.handlers.delete(self)
        return Promise.resolve()
      },
    }
  }
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
  const bus = new ImmediateBus()
  const ids = [1n, 2n, 3n]
  const nodes = ids.map(
    (id) =>
      new RaftNode({
        id,
        storage: new MemoryRaftStorage(),
        transport: bus.endpoint(id),
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
  return { name: 'in-process 3 nodes (memory storage)', proposers, valueBytes, proposals: done, seconds, perSecond: done / seconds }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const p of [1, 64, 256, 1024]) {
    const r = await runInProcess(p, 3000)
    console.log(`${p} proposers: ${Math.round(r.perSecond)} proposals/s`)
  }
}
