/**
 * {@link GrpcDispatcherConnector}: what an `Agent` (`@swarmkit-ts/agent`) needs to reach the
 * managers over gRPC — its `AgentInit.dispatcher`. The agent chooses the manager of each session
 * from its weighted list and fails over on `NotLeaderError` (preferring the leader it names) and
 * on `UnavailableError`; the connector gives it that manager's `DispatcherApi`, keeping one
 * channel per manager address: a channel is opened on the first call to its address and closed
 * once no call uses it and the agent has moved to another manager. Before the agent has a list
 * (its first session), it dials the join address, and then the leader a `NotLeaderError` names.
 *
 * @module
 */
import type { Client } from '@grpc/grpc-js'
import { FailedPreconditionError, NotLeaderError, UnavailableError } from '@swarmkit-ts/api'
import type { DispatcherApi, WeightedManager } from '@swarmkit-ts/api'
import { leasedDispatcherApi, type ClientLease } from './calls.ts'
import { ChannelPool } from './channel-pool.ts'
import { checkAddress, checkChannelOptions, closeOnNextTurn, openClient, type DispatcherChannelOptions } from './client.ts'

/** Construction options of {@link GrpcDispatcherConnector}. */
export interface GrpcDispatcherConnectorInit extends DispatcherChannelOptions {
  /**
   * The manager to dial while the agent knows none (before its first session message carries the
   * list): the address it joined through. Without it, a connection with no manager fails with
   * `UnavailableError`.
   */
  readonly joinAddress?: string
}

/** One open channel: its client, and the signal that cancels its streams when it closes. */
interface Channel {
  readonly client: Client
  readonly closing: AbortController
}

/**
 * Connects an agent to managers over gRPC: pass {@link connect} as `AgentInit.dispatcher`, and
 * `close()` the connector after the agent stopped.
 *
 * ```ts
 * const connector = new GrpcDispatcherConnector({ credentials: credentials.forClient(tls), joinAddress })
 * const agent = new Agent({ dispatcher: connector.connect, executor, stateDir, clock, random })
 * ```
 */
export class GrpcDispatcherConnector {
  readonly #init: DispatcherChannelOptions
  readonly #timeoutMs: number
  readonly #joinAddress: string | undefined
  /** The channels; the address of the latest `connect` is the pool's current one (kept between calls). */
  readonly #pool: ChannelPool<Channel>
  /** The leader a `NotLeaderError` named, for connections without a manager list. */
  #leaderHint: string | undefined

  /** @throws InvalidArgumentError naming a bad option. */
  constructor(init: GrpcDispatcherConnectorInit) {
    this.#timeoutMs = checkChannelOptions(init)
    this.#joinAddress = init.joinAddress === undefined ? undefined : checkAddress(init.joinAddress, 'joinAddress')
    this.#init = init
    this.#pool = new ChannelPool<Channel>({
      open: (address) => ({ client: openClient(address, this.#init), closing: new AbortController() }),
      close: (channel) => {
        channel.closing.abort()
        closeOnNextTurn(channel.client)
      },
    })
  }

  /**
   * The `DispatcherApi` of `manager` (when undefined: of the leader the join address named, else of
   * the join address) — an `AgentInit.dispatcher` (a `DispatcherConnector`). Channels of other
   * managers that no call uses any more are closed.
   */
  readonly connect = (manager?: WeightedManager): DispatcherApi => {
    const address = manager?.addr ?? this.#leaderHint ?? this.#joinAddress
    const pool = this.#pool
    pool.use(address)
    if (address === undefined) return leasedDispatcherApi(this.#nowhere(), this.#timeoutMs)
    return leasedDispatcherApi(
      {
        acquire: () => pool.acquire(address).client,
        release: () => pool.release(address),
        // Read right after acquire: the signal of the channel the call is on.
        get closing(): AbortSignal {
          return pool.channel(address)?.closing.signal ?? NEVER
        },
        failed: manager === undefined ? (err) => this.#noListFailure(address, err) : undefined,
      },
      this.#timeoutMs,
    )
  }

  /**
   * A call made without a manager list failed: a `NotLeaderError` naming the leader sends the next
   * such connection to the leader; any other failure of the leader named so sends it back to the
   * join address. (With a list, the agent's `ManagerList` does this itself.)
   */
  #noListFailure(address: string, err: Error): void {
    if (err instanceof NotLeaderError && err.leaderAddr !== undefined) this.#leaderHint = err.leaderAddr
    else if (address === this.#leaderHint && !(err instanceof FailedPreconditionError)) this.#leaderHint = undefined
  }

  /** The addresses with an open channel, in the order they were opened. */
  get addresses(): readonly string[] {
    return this.#pool.addresses
  }

  /** Cancels every call in progress (`UnavailableError`) and closes every channel; later calls fail. Idempotent. */
  close(): void {
    this.#pool.close()
  }

  /** The lease of a connection to no manager: every call fails with `UnavailableError`. */
  #nowhere(): ClientLease {
    return {
      acquire: () => {
        throw new UnavailableError('no manager known: give the connector a joinAddress')
      },
      release: () => undefined,
      closing: NEVER,
    }
  }
}

const NEVER = new AbortController().signal
