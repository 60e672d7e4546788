/**
 * The log broker as a leader component: a fresh {@link LogBroker} on the leader's store for each
 * leader term, stopped when the term ends.
 *
 * @module
 */
import type { LeaderComponent, LeaderComponentHandle, LeaderContext } from '../manager/leader-component.ts'
import { LogBroker } from './log-broker.ts'

/** Construction options of {@link LogBrokerComponent}. */
export interface LogBrokerComponentInit {
  /** Lines held per subscriber before publishers wait. @default 1024 */
  readonly queueLimit?: number
}

/**
 * Runs a {@link LogBroker} while this manager leads (SwarmKit runs its broker on the leader
 * only). `current()` is the running broker or undefined — what `addLogsService` takes as its
 * `broker` getter.
 */
export class LogBrokerComponent implements LeaderComponent {
  /** The component's name in the manager's logs. */
  readonly name = 'log-broker'
  readonly #init: LogBrokerComponentInit
  #broker: LogBroker | undefined

  constructor(init: LogBrokerComponentInit = {}) {
    this.#init = init
  }

  /** The broker of the current leader term, or undefined when this manager does not lead. */
  current(): LogBroker | undefined {
    return this.#broker
  }

  /** Starts a broker on the term's store. */
  start(ctx: LeaderContext): LeaderComponentHandle {
    const broker = new LogBroker({
      store: ctx.store,
      random: ctx.random,
      logger: ctx.logger,
      ...(this.#init.queueLimit === undefined ? {} : { queueLimit: this.#init.queueLimit }),
    })
    broker.start()
    this.#broker = broker
    return {
      stop: async () => {
        if (this.#broker === broker) this.#broker = undefined
        await broker.stop()
      },
    }
  }
}
