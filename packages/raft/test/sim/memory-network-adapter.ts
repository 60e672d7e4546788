/**
 * The simulation's network: testkit's {@link MemoryNetwork} carrying Raft messages. Every
 * delivery is a fresh copy — a deep copy, or with `wireCodec` one decoded from the wire encoding
 * (as over gRPC; about twice the cost of a run) — senders need their peers' addresses
 * (`strictPeers`, as a real transport), snapshot outcomes and unreachable peers are reported to
 * the sender.
 *
 * Raft relays some messages with their original sender (as etcd does): a follower forwards a
 * proposal, a ReadIndex request or a transfer request it received to its leader keeping `from`,
 * so that the leader answers the original requester. A real transport just carries them;
 * MemoryNetwork only accepts its own endpoint's id in `from`, so the adapter sends a relayed
 * message under the relay's id and restores the original `from` in the delivered copy.
 *
 * With `resolve`, a sender that has no address for a recipient first looks it up (as SwarmKit's
 * Raft transport does with its ResolveAddress call to a peer). Without it, a member that has not
 * yet applied the change that added the current leader can never answer it (an open bug of the
 * real stack: GrpcRaftTransport reports such a peer unreachable).
 */
import type { Random } from '@swarmkit-ts/api'
import { MemoryNetwork } from '@swarmkit-ts/testkit'
import type { ManualClock } from '@swarmkit-ts/testkit'
import { decodeMessage, encodeMessage } from '../../src/index.ts'
import type { ConfState, Entry, Message, RaftTransport } from '../../src/index.ts'
import type { LinkFaults, SimNetwork } from './sim-network.ts'

/** Chance that a message is held back (and overtaken) while reordering is on. */
const REORDER_CHANCE = 0.3

const copyEntry = (e: Entry): Entry => ({ ...e, data: e.data.slice() })
const copyConfState = (cs: ConfState): ConfState => ({
  voters: [...cs.voters],
  learners: [...cs.learners],
  votersOutgoing: [...cs.votersOutgoing],
  learnersNext: [...cs.learnersNext],
  autoLeave: cs.autoLeave,
})

/** A deep copy of a message: nothing is shared between sender and receiver. */
export function copyMessage(m: Message): Message {
  switch (m.type) {
    case 'app':
    case 'prop':
      return { ...m, entries: m.entries.map(copyEntry) }
    case 'snapshot':
      return { ...m, snapshot: { metadata: { ...m.snapshot.metadata, confState: copyConfState(m.snapshot.metadata.confState) }, data: m.snapshot.data.slice() } }
    case 'heartbeat':
    case 'heartbeat-resp':
    case 'read-index':
    case 'read-index-resp':
      return { ...m, context: m.context.slice() }
    default:
      return { ...m }
  }
}

/** Options of {@link MemorySimNetwork}. */
export interface MemorySimNetworkOptions {
  /** Deliver copies decoded from the wire encoding (else deep copies). @default false */
  wireCodec?: boolean
  /** Looks up the address of a member a sender does not know. @default none */
  resolve?: (id: bigint) => string | undefined
}

/** A {@link SimNetwork} over a {@link MemoryNetwork} of Raft messages. */
export class MemorySimNetwork implements SimNetwork {
  readonly net: MemoryNetwork<Message>
  /** Relayed messages (as sent under the relay's id) → their original sender. */
  readonly #relayed = new WeakMap<Message, bigint>()
  /** Messages relayed so far. */
  relayed = 0
  /** Addresses looked up so far. */
  resolved = 0
  readonly #resolve: ((id: bigint) => string | undefined) | undefined

  constructor(clock: ManualClock, random: Random, options: MemorySimNetworkOptions = {}) {
    const wireCodec = options.wireCodec ?? false
    this.#resolve = options.resolve
    this.net = new MemoryNetwork<Message>({
      clock,
      random,
      defaultDelayMs: [1, 1],
      isSnapshot: (m) => m.type === 'snapshot',
      clone: (m) => {
        const copy = wireCodec ? decodeMessage(encodeMessage(m)) : copyMessage(m)
        const from = this.#relayed.get(m)
        if (from !== undefined) copy.from = from
        return copy
      },
      strictPeers: true,
    })
  }

  endpoint(id: bigint): RaftTransport {
    const ep = this.net.endpoint(id)
    return {
      start: (handlers) => ep.start(handlers),
      send: (msgs) => {
        const resolve = this.#resolve
        if (resolve !== undefined) {
          for (const m of msgs) {
            if (ep.peers().has(m.to)) continue
            const address = resolve(m.to)
            if (address === undefined) continue
            ep.addPeer(m.to, address)
            this.resolved++
          }
        }
        ep.send(msgs.some((m) => m.from !== id) ? msgs.map((m) => (m.from === id ? m : this.#relay(m, id))) : msgs)
      },
      addPeer: (peer, address) => ep.addPeer(peer, address),
      removePeer: (peer) => ep.removePeer(peer),
      stop: () => ep.stop(),
    }
  }

  #relay(m: Message, via: bigint): Message {
    const sent = { ...m, from: via }
    this.#relayed.set(sent, m.from)
    this.relayed++
    return sent
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
