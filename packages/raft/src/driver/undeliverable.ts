/**
 * What the {@link RaftNode} driver does with a message its transport gave up on for good (see
 * `RaftTransportHandlers.undeliverable`): log and count it, and let the core back off instead of
 * resending blindly. An append (or snapshot) makes the follower unreachable for the core, which
 * probes it again at the heartbeat pace (a snapshot is also reported failed by the transport);
 * our forwarded proposals in a lost `prop` never reached the leader: they are dropped.
 *
 * @internal
 */
import type { Logger, RaftMemberId } from '@swarmkit-ts/api'
import { decodeConfChange } from '../core/conf-change-codec.ts'
import type { Message } from '../core/types.ts'
import { ProposalDroppedError } from '../errors.ts'
import type { UndeliverableReason } from '../transport/transport.ts'
import { decodeMemberContext, decodeProposals } from './raft-node-codec.ts'
import type { RequestWaiters } from './request-waiters.ts'

/** The messages one driver's transport gave up on. */
export class UndeliverableMessages {
  readonly #counts: Record<UndeliverableReason, number> = { 'too-large': 0, 'queue-full': 0 }
  readonly #logger: Logger
  readonly #requests: RequestWaiters
  readonly #reportUnreachable: (to: RaftMemberId) => void

  /** `reportUnreachable`: tells the core a follower is unreachable. */
  constructor(logger: Logger, requests: RequestWaiters, reportUnreachable: (to: RaftMemberId) => void) {
    this.#logger = logger
    this.#requests = requests
    this.#reportUnreachable = reportUnreachable
  }

  /** How many messages were given up on since start, by reason. */
  counts(): Readonly<Record<UndeliverableReason, number>> {
    return { ...this.#counts }
  }

  /** Counts and logs `msg`, drops our proposals it carried, or backs the core off its follower. */
  handle(msg: Message, reason: UndeliverableReason): void {
    this.#counts[reason]++
    const fields = { to: msg.to.toString(16), type: msg.type, reason }
    // 'too-large' means the limits disagree with the transport's (they are derived to agree).
    if (reason === 'too-large') this.#logger.error('raft: the transport cannot carry a message', fields)
    else this.#logger.warn('raft: the transport dropped a message', fields)
    if (msg.type === 'prop') {
      const dropped = new ProposalDroppedError('undeliverable')
      for (const e of msg.entries) {
        if (e.type === 'conf-change') {
          const cc = decodeConfChange(e.data)
          if (cc.context.byteLength > 0) this.#requests.settle(decodeMemberContext(cc.context).requestId, undefined, dropped)
        } else if (e.data.byteLength > 0) {
          for (const p of decodeProposals(e.data)) this.#requests.settle(p.requestId, undefined, dropped)
        }
      }
    } else if (msg.type === 'app' || msg.type === 'snapshot') {
      this.#reportUnreachable(msg.to)
    }
  }
}
