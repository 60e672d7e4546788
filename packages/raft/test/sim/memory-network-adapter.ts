/**
 * The simulation's network: testkit's {@link MemoryNetwork} carrying Raft messages. Every
 * delivery is a fresh copy — a deep copy, or with `wireCodec` one decoded from the wire encoding
 * (as over gRPC; about twice the cost of a run) — senders need their peers' addresses
 * (`strictPeers`, as a real transport), snapshot outcomes and unreachable peers are reported to
 * the sender.
 *
 * Raft relays some messages with their original sender (as etcd does): a follower forwards a
 * proposal, a ReadIndex request or a transfer request it received to its leader keeping `from`,
 * so that the leader answers the original requester; the network carries them on the relay's
 * links. Every endpoint has the address `sim-<id>`, which receivers are told with each message
 * (as GrpcRaftTransport tells its advertised address): the driver answers a sender it has no
 * address for yet from it.
 */
import type { Random } from '@swarmkit-ts/api'
import { MemoryNetwork } from '@swarmkit-ts/testkit'
import type { ManualClock } from '@swarmkit-ts/testkit'
import { copyMessage, decodeMessage, encodeMessage } from '../../src/index.ts'
import type { Message, RaftTransport } from '../../src/index.ts'
import type { LinkFaults, SimNetwork } from './sim-network.ts'

/** Chance that a message is held back (and overtaken) while reordering is on. */
const REORDER_CHANCE = 0.3

/** Options of {@link MemorySimNetwork}. */
export interface MemorySimNetworkOptions {
  /** Deliver copies decoded from the wire encoding (else deep copies). @default false */
  wireCodec?: boolean
}

/** A {@link SimNetwork} over a {@link MemoryNetwork} of Raft messages. */
export class MemorySimNetwork implements SimNetwork {
  readonly net: MemoryNetwork<Message>

  constructor(clock: ManualClock, random: Random, options: MemorySimNetworkOptions = {}) {
    const wireCodec = options.wireCodec ?? false
    this.net = new MemoryNetwork<Message>({
      clock,
      random,
      defaultDelayMs: [1, 1],
      isSnapshot: (m) => m.type === 'snapshot',
      clone: (m) => (wireCodec ? decodeMessage(encodeMessage(m)) : copyMessage(m)),
      strictPeers: true,
    })
  }

  endpoint(id: bigint): RaftTransport {
    return this.net.endpoint(id, { address: `sim-${id}` })
  }

  partition(sides: readonly (readonly bigint[])[]): void {
    this.net.partition(...sides)
  }

  block(from: bigint, to: bigint): void {
    this.net.block(from, to)
  }

  heal(): void {
    this.net.heal()
  }

  setFaults(f: LinkFaults): void {
    this.net.setFaults({
      drop: f.dropPercent / 100,
      duplicate: f.duplicatePercent / 100,
      ...(f.maxJitterMs > 0 ? { reorder: REORDER_CHANCE, reorderDelayMs: [1, f.maxJitterMs] as const } : {}),
    })
  }
}
