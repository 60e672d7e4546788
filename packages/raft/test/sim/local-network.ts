/**
 * A minimal in-process {@link SimNetwork} on a clock: each message is a timer. Used until
 * testkit's MemoryNetwork is available.
 */
import type { Clock, Random, RaftMemberId } from '@swarmkit-ts/api'
import type { Message, RaftTransport, RaftTransportHandlers } from '../../src/index.ts'
import { NO_FAULTS } from './sim-network.ts'
import type { LinkFaults, SimNetwork } from './sim-network.ts'

/** A network whose deliveries are timers on `clock`, with seeded faults. */
export class LocalNetwork implements SimNetwork {
  readonly #clock: Clock
  readonly #random: Random
  readonly #baseDelayMs: number
  readonly #handlers = new Map<RaftMemberId, { token: object; h: RaftTransportHandlers }>()
  #sides = new Map<RaftMemberId, number>()
  #blocked = new Set<string>()
  #faults: LinkFaults = NO_FAULTS
  delivered = 0

  constructor(clock: Clock, random: Random, baseDelayMs = 1) {
    this.#clock = clock
    this.#random = random
    this.#baseDelayMs = baseDelayMs
  }

  endpoint(id: RaftMemberId): RaftTransport {
    const token = {}
    let started = false
    return {
      start: (h) => {
        started = true
        this.#handlers.set(id, { token, h })
        return Promise.resolve()
      },
      send: (msgs: readonly Message[]) => {
        if (!started) return
        for (const m of msgs) this.#send(id, m)
      },
      addPeer: () => {},
      removePeer: () => {},
      stop: () => {
        if (this.#handlers.get(id)?.token === token) this.#handlers.delete(id)
        return Promise.resolve()
      },
    }
  }

  #cut(from: RaftMemberId, to: RaftMemberId): boolean {
    return (this.#sides.get(from) ?? 0) !== (this.#sides.get(to) ?? 0) || this.#blocked.has(`${from}>${to}`)
  }

  #send(from: RaftMemberId, m: Message): void {
    const f = this.#faults
    const copies = f.duplicatePercent > 0 && this.#random.int(100) < f.duplicatePercent ? 2 : 1
    for (let c = 0; c < copies; c++) {
      const lost = f.dropPercent > 0 && this.#random.int(100) < f.dropPercent
      const delay = this.#baseDelayMs + (f.maxJitterMs > 0 ? this.#random.int(f.maxJitterMs + 1) : 0)
      const sender = this.#handlers.get(from)
      this.#clock.setTimeout(() => {
        const target = this.#handlers.get(m.to)
        const ok = !lost && target !== undefined && !this.#cut(from, m.to)
        const now = this.#handlers.get(from)
        const same = now !== undefined && now.token === sender?.token
        if (m.type === 'snapshot' && c === 0 && same) now.h.snapshotStatus?.(m.to, ok)
        // A peer whose process is down refuses the connection: the sender hears of it.
        if (target === undefined && same) now.h.unreachable?.(m.to)
        if (!ok) return
        this.delivered++
        target.h.message(m)
      }, delay)
    }
  }

  partition(sides: readonly (readonly RaftMemberId[])[]): void {
    this.#sides = new Map()
    sides.forEach((side, i) => {
      for (const id of side) this.#sides.set(id, i + 1)
    })
  }

  block(from: RaftMemberId, to: RaftMemberId): void {
    this.#blocked.add(`${from}>${to}`)
  }

  heal(): void {
    this.#sides = new Map()
    this.#blocked = new Set()
  }

  setFaults(faults: LinkFaults): void {
    this.#faults = { ...faults }
  }
}
