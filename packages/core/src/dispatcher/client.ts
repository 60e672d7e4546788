/**
 * {@link GrpcDispatcherClient}: `DispatcherApi` over one grpc-js channel to one manager, with the
 * node's client credentials (pki's `credentials.forClient`): the node is whoever its certificate
 * names. Sessions and assignments are async iterables that end without an error when their
 * signal aborts; every failure is the typed error the server sent (`fromGrpcError`), transport
 * trouble an `UnavailableError`.
 *
 * @module
 */
import { Client } from '@grpc/grpc-js'
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js'
import { InvalidArgumentError, UnavailableError } from '@swarmkit-ts/api'
import type {
  AssignmentsMessage,
  AssignmentsRequest,
  DispatcherApi,
  DispatcherStreamOptions,
  HeartbeatRequest,
  HeartbeatResponse,
  SessionMessage,
  SessionRequest,
  UpdateTaskStatusRequest,
} from '@swarmkit-ts/api'
import { credentials as pkiCredentials } from '@swarmkit-ts/pki'
import { DEFAULT_MAX_MESSAGE_BYTES } from '@swarmkit-ts/raft/grpc'
import { leasedDispatcherApi } from './calls.ts'

/** Options shared by the dispatcher clients. */
export interface DispatcherChannelOptions {
  /** The node's mTLS client credentials (`credentials.forClient(material, { clusterId })` from pki). */
  readonly credentials: ChannelCredentials
  /**
   * grpc-js channel options, merged over {@link dispatcherChannelOptions} (the TLS server name
   * every manager certificate carries, so a manager is dialled by IP address; messages up to
   * raft's 16 MiB, the node server's limit; keepalive pings every 10 s).
   */
  readonly channelOptions?: ChannelOptions
  /**
   * Deadline of a heartbeat or status update, in ms of real time (0: none). The agent has its own
   * timeout; this one also frees the call on the wire. @default 10000
   */
  readonly callTimeoutMs?: number
}

/** Construction options of {@link GrpcDispatcherClient}. */
export interface GrpcDispatcherClientInit extends DispatcherChannelOptions {
  /** The manager's cluster address, `host:port`. */
  readonly address: string
}

/** Default of {@link DispatcherChannelOptions.callTimeoutMs}. */
export const DEFAULT_DISPATCHER_CALL_TIMEOUT_MS = 10_000

const ADDRESS = /^(.+):(\d{1,5})$/

/** Checks a `host:port` address; `field` names it in the error. */
export function checkAddress(address: unknown, field: string): string {
  const m = typeof address === 'string' ? ADDRESS.exec(address) : null
  if (m === null || Number(m[2]) === 0 || Number(m[2]) > 65535) {
    throw new InvalidArgumentError(field, `must be host:port with a non-zero port, got ${String(address)}`)
  }
  return address as string
}

/** Checks the shared options; returns the call timeout. */
export function checkChannelOptions(init: DispatcherChannelOptions): number {
  if (init.credentials === undefined || init.credentials === null) throw new InvalidArgumentError('credentials', 'is required')
  const timeout = init.callTimeoutMs ?? DEFAULT_DISPATCHER_CALL_TIMEOUT_MS
  if (!Number.isFinite(timeout) || timeout < 0) throw new InvalidArgumentError('callTimeoutMs', `must be a non-negative number of ms, got ${String(timeout)}`)
  return timeout
}

/**
 * The default channel options of the dispatcher clients: pki's `credentials.channelOptions('manager')`,
 * the node server's message size limit (a complete assignments set may exceed gRPC's default
 * 4 MiB) and keepalive as raft's links have it (a dead manager ends the streams within ~15 s).
 */
export function dispatcherChannelOptions(): ChannelOptions {
  return {
    ...pkiCredentials.channelOptions('manager'),
    'grpc.max_receive_message_length': DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
  }
}

/** A grpc-js client (and so a channel) to `address`. */
export function openClient(address: string, init: DispatcherChannelOptions): Client {
  return new Client(address, init.credentials, { ...dispatcherChannelOptions(), ...init.channelOptions })
}

/**
 * `DispatcherApi` of this node on one manager, over one grpc-js channel. The channel connects on
 * the first call; `close()` closes it (streams in progress and later calls fail with
 * `UnavailableError`).
 */
export class GrpcDispatcherClient implements DispatcherApi {
  readonly #client: Client
  readonly #api: DispatcherApi
  readonly #closing = new AbortController()

  /** @throws InvalidArgumentError naming a bad option. */
  constructor(init: GrpcDispatcherClientInit) {
    const address = checkAddress(init.address, 'address')
    const timeout = checkChannelOptions(init)
    this.#client = openClient(address, init)
    this.#api = leasedDispatcherApi(
      {
        acquire: () => {
          if (this.#closing.signal.aborted) throw new UnavailableError(`the dispatcher client of ${address} is closed`)
          return this.#client
        },
        release: () => undefined,
        closing: this.#closing.signal,
      },
      timeout,
    )
  }

  /** Registers the node (named by its certificate) and streams its session. */
  session(request: SessionRequest, options?: DispatcherStreamOptions): AsyncIterable<SessionMessage> {
    return this.#api.session(request, options)
  }

  /** Keeps the session alive; answers when to beat next. */
  heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse> {
    return this.#api.heartbeat(request)
  }

  /** Streams the node's assignments: complete first, then incremental changes. */
  assignments(request: AssignmentsRequest, options?: DispatcherStreamOptions): AsyncIterable<AssignmentsMessage> {
    return this.#api.assignments(request, options)
  }

  /** Queues status updates on the dispatcher. */
  updateTaskStatus(request: UpdateTaskStatusRequest): Promise<void> {
    return this.#api.updateTaskStatus(request)
  }

  /** Cancels the streams in progress (they fail with `UnavailableError`) and closes the channel. Idempotent. */
  close(): void {
    if (this.#closing.signal.aborted) return
    this.#closing.abort()
    closeOnNextTurn(this.#client)
  }
}

/**
 * Closes a grpc-js client on the next turn of the event loop. grpc-js (1.14) resolves a target's
 * address on a later tick; a channel closed before that result lands still creates subchannels
 * from it and connects them, and nothing closes those — the process cannot exit (seen with
 * `Cluster.init` closed at once). The cancelled calls have already failed; on the next turn the
 * resolution has landed and `close()` releases everything.
 */
export function closeOnNextTurn(client: Pick<Client, 'close'>): void {
  setImmediate(() => client.close())
}
