/**
 * {@link LeaderLogsClient}: the logs of a cluster from any node, over gRPC. The broker runs on the
 * Raft leader only and followers answer `NotLeaderError` naming the leader; this client follows
 * that hint, so a subscriber (a `Cluster` handle on a follower, the CLI) and a worker's
 * `LogPublisher` need only the managers' addresses.
 *
 * @module
 */
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js'
import { InvalidArgumentError, UnavailableError } from '@swarmkit-ts/api'
import { LogBrokerClient, LogsClient } from './client.ts'
import type { LogBrokerWorkerApi, LogCallOptions, LogMessage, LogsApi, PublishLogsMessage, SubscribeLogsRequest, SubscriptionMessage } from './types.ts'

/** Construction options of {@link LeaderLogsClient}. */
export interface LeaderLogsClientInit {
  /** The node's mTLS client credentials (pki's `credentials.forClient`). */
  readonly credentials: ChannelCredentials
  /** grpc-js channel options. @default pki's `credentials.channelOptions('manager')` */
  readonly channelOptions?: ChannelOptions
  /** The managers' cluster addresses, in the order to try them (read at every call). */
  readonly managers: () => readonly string[]
}

/** Redirections followed by one call before it gives up. */
const MAX_HOPS = 3

interface Clients {
  readonly logs: LogsClient
  readonly broker: LogBrokerClient
}

const isNotLeader = (err: unknown): err is Error & { leaderAddr?: string } => err instanceof Error && err.name === 'NotLeaderError'

/**
 * Subscribes and publishes at the leader. A call goes to the last leader a `NotLeaderError`
 * named, else to the managers in turn; a stream refused with `NotLeaderError` before its first
 * message is opened again at the named leader (or the next manager). A publish is not replayed
 * (its messages were consumed): it fails, and the next call goes to the leader. A manager that
 * cannot be reached fails the call with `UnavailableError` and is tried last next time.
 */
export class LeaderLogsClient implements LogsApi, LogBrokerWorkerApi {
  readonly #init: LeaderLogsClientInit
  readonly #clients = new Map<string, Clients>()
  #leader: string | undefined
  #skip = new Set<string>()
  #closed = false

  /** @throws InvalidArgumentError naming a bad option. */
  constructor(init: LeaderLogsClientInit) {
    if (typeof init.managers !== 'function') throw new InvalidArgumentError('managers', 'must be a function returning addresses')
    if (init.credentials === undefined || init.credentials === null) throw new InvalidArgumentError('credentials', 'is required')
    this.#init = init
  }

  /** The manager the next call goes to (the known leader first), or undefined when none is known. */
  target(): string | undefined {
    const managers = [...new Set(this.#init.managers())]
    const ordered = [...managers.filter((m) => !this.#skip.has(m)), ...managers.filter((m) => this.#skip.has(m))]
    return this.#leader ?? ordered[0]
  }

  /** See {@link LogsApi.subscribe}. */
  subscribe(request: SubscribeLogsRequest, options: LogCallOptions = {}): AsyncIterable<LogMessage> {
    return this.#stream((c) => c.logs.subscribe(request, options))
  }

  /** See {@link LogBrokerWorkerApi.listenSubscriptions}. */
  listenSubscriptions(options: LogCallOptions = {}): AsyncIterable<SubscriptionMessage> {
    return this.#stream((c) => c.broker.listenSubscriptions(options))
  }

  /** See {@link LogBrokerWorkerApi.publishLogs}. */
  async publishLogs(messages: AsyncIterable<PublishLogsMessage>, options: LogCallOptions = {}): Promise<void> {
    const address = this.#address()
    try {
      await this.#clients$(address).broker.publishLogs(messages, options)
    } catch (err) {
      this.#failed(address, err)
      throw err
    }
  }

  /** Closes every channel; calls in progress fail with `UnavailableError`. Idempotent. */
  close(): void {
    this.#closed = true
    for (const c of this.#clients.values()) {
      c.logs.close()
      c.broker.close()
    }
    this.#clients.clear()
  }

  async *#stream<T>(open: (c: Clients) => AsyncIterable<T>): AsyncGenerator<T> {
    for (let hop = 0; ; hop++) {
      const address = this.#address()
      let received = false
      try {
        for await (const v of open(this.#clients$(address))) {
          received = true
          yield v
        }
        return
      } catch (err) {
        this.#failed(address, err)
        if (received || hop >= MAX_HOPS || !isNotLeader(err)) throw err
      }
    }
  }

  #address(): string {
    if (this.#closed) throw new UnavailableError('the logs client is closed')
    const address = this.target()
    if (address === undefined) throw new UnavailableError('no manager address known')
    return address
  }

  /** Remembers what a failure says about where the leader is. */
  #failed(address: string, err: unknown): void {
    if (isNotLeader(err)) {
      this.#leader = err.leaderAddr !== undefined && err.leaderAddr !== address ? err.leaderAddr : undefined
      this.#skip.add(address)
    } else if (err instanceof Error && err.name === 'UnavailableError') {
      if (this.#leader === address) this.#leader = undefined
      this.#skip.add(address)
    }
    if (this.#skip.size >= new Set(this.#init.managers()).size) this.#skip = new Set([address])
  }

  #clients$(address: string): Clients {
    let c = this.#clients.get(address)
    if (c === undefined) {
      const init = { address, credentials: this.#init.credentials, ...(this.#init.channelOptions === undefined ? {} : { channelOptions: this.#init.channelOptions }) }
      c = { logs: new LogsClient(init), broker: new LogBrokerClient(init) }
      this.#clients.set(address, c)
    }
    return c
  }
}
