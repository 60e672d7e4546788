/**
 * Pure-core throughput: 3 RawNodes with MemoryRaftStorage and a synchronous message pump (no
 * driver, no event loop), proposals submitted in batches. Measures what the state machine itself
 * can commit per second — the ceiling the driver and the transports then eat into.
 */
import { cryptoRandom } from '@swarmkit-ts/api'
import { MemoryRaftStorage, RawNode } from '@swarmkit-ts/raft'
import type { Message } from '@swarmkit-ts/raft'

export interface RawNodeResult {
  name: string
  batch: number
  proposals: number
  seconds: number
  perSecond: number
}

export function runRawNode(batch: number, durationMs: number, valueBytes = 256): RawNodeResult {
  const ids = [1n, 2n, 3n]
  const storages = new Map(ids.map((id) => [id, new MemoryRaftStorage()]))
  const nodes = new Map(
    ids.map((id) => [id, new RawNode({ id, storage: storages.get(id) as MemoryRaftStorage, random: cryptoRandom, maxSizePerMsg: 1024 * 1024, maxInflightMsgs: 4096 })]),
  )
  for (const n of nodes.values()) n.bootstrap(ids.map((id) => ({ id })))
  const inbox: Message[] = []
  let committedOnLeader = 0
  const pump = (): void => {
    for (let progress = true; progress; ) {
      progress = false
      for (const [id, n] of nodes) {
        while (n.hasReady()) {
          progress = true
          const rd = n.ready()
          const st = storages.get(id) as MemoryRaftStorage
          if (rd.snapshot !== undefined) st.applySnapshot(rd.snapshot)
          st.append(rd.entries)
          if (rd.hardState !== undefined) st.setHardState(rd.hardState)
          for (const m of rd.messages) inbox.push(m)
          for (const e of rd.committedEntries) {
            if (e.type === 'conf-change') n.applyConfChange({ version: 1, type: 'add-voter', nodeId: ids[e.index - 1] ?? 1n, context: new Uint8Array(0) })
            else if (id === 1n && e.data.byteLength > 0) committedOnLeader++
          }
          n.advance(rd)
        }
      }
      while (inbox.length > 0) {
        progress = true
        const m = inbox.shift() as Message
        nodes.get(m.to)?.step(m)
      }
    }
  }
  pump()
  const leader = nodes.get(1n) as RawNode
  leader.campaign()
  pump()
  const value = new Uint8Array(valueBytes).fill(3)
  const start = performance.now()
  let compactAt = 50_000
  while (performance.now() - start < durationMs) {
    for (let i = 0; i < batch; i++) leader.propose(value)
    pump()
    if (committedOnLeader > compactAt) {
      // Keep memory bounded like a real deployment would: compact behind the applied index.
      for (const [id, st] of storages) {
        const applied = nodes.get(id)?.status().applied ?? 0
        st.createSnapshot(applied, { voters: ids, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }, new Uint8Array(0))
        st.compact(applied)
      }
      compactAt += 50_000
    }
  }
  const seconds = (performance.now() - start) / 1000
  return { name: 'RawNode ×3, synchronous pump', batch, proposals: committedOnLeader, seconds, perSecond: committedOnLeader / seconds }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const b of [1, 64, 256]) {
    const r = runRawNode(b, 2000)
    console.log(`batch ${b}: ${Math.round(r.perSecond)} commits/s`)
  }
}
