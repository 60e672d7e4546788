import { MemoryNetwork, ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { describeRaftTransportCompliance } from '@swarmkit-ts/raft/compliance'
import type { Message } from '../src/index.ts'

const clock = new ManualClock(0)
const net = new MemoryNetwork<Message>({ clock, random: new SeededRandom(7), strictPeers: true, isSnapshot: (m) => m.type === 'snapshot' })

describeRaftTransportCompliance({
  name: 'MemoryNetwork endpoint',
  create: (id) => net.endpoint(id, { address: `memory-${id}` }),
  address: (t) => t.address ?? '',
  advance: () => clock.advance(5),
})
