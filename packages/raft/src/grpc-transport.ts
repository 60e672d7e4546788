/**
 * {@link GrpcRaftTransport}: the {@link RaftTransport} between processes, over gRPC
 * (`swarmkit.raft.v1.Raft`, proto/raft-transport.proto).
 *
 * Each member runs one server and, per peer, one long-lived client stream of message batches
 * (in order, bounded queue, reconnect with backoff) plus one call per snapshot, whose data
 * travels in chunks. Snapshot messages are not ordered relative to the other messages of the
 * link (they leave the queue in order, but travel on their own call).
 */
import { Server, ServerCredentials, credentials as grpcCredentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js'
import { FailedPreconditionError, InvalidArgumentError, cryptoRandom, silentLogger, systemClock } from '@swarmkit-ts/api'
import type { Clock, Logger, RaftMemberId, Random } from '@swarmkit-ts/api'
import { encodeMessage, messageToWire } from './message-codec.ts'
import { isLocalMessage, type Message } from './types.ts'
import type { RaftTransport, RaftTransportHandlers } from './transport.ts'
import { CHUNK_OVERHEAD_BYTES, originMetadata, raftServiceDefinition } from './grpc-transport-wire.ts'
import { RaftServiceHandlers } from './grpc-transport-server.ts'
import { PeerLink, type PeerLinkContext, type PeerStreamState, type QueuedMessage } from './grpc-transport-peer.ts'

/** Default largest gRPC message, each way: 16 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
/** Default size of a snapshot data chunk: 1 MiB. */
export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 1024 * 1024
/** Default bound of a peer's queue. */
export const DEFAULT_MAX_QUEUED_MESSAGES = 4096
/** Default reconnect backoff. */
export const DEFAULT_BACKOFF = { initialMs: 100, maxMs: 5000 } as const

/** Construction options for {@link GrpcRaftTransport}. */
export interface GrpcRaftTransportInit {
  /** This member's id (non-zero). */
  id: RaftMemberId
  /** `host:port` to listen on; port 0 lets the OS choose (read {@link GrpcRaftTransport.address}). */
  listenAddress: string
  /**
   * The address peers should reach this member at, told to every peer with each call so that a
   * peer that has no address for this member yet can answer it. @default {@link GrpcRaftTransport.address}
   */
  advertiseAddress?: string | undefined
  /** Server credentials. @default insecure */
  serverCredentials?: ServerCredentials | undefined
  /** Credentials for dialling peers. @default insecure */
  channelCredentials?: ChannelCredentials | undefined
  /** Extra grpc-js channel options (e.g. `grpc.ssl_target_name_override`). */
  channelOptions?: ChannelOptions | undefined
  /** @default silentLogger */
  logger?: Logger | undefined
  /** Largest gRPC message sent or accepted; a batch never exceeds it. @default 16 MiB */
  maxMessageBytes?: number | undefined
  /** Size of the data chunks of a snapshot (at most `maxMessageBytes` − 64). @default 1 MiB, or less to fit `maxMessageBytes` */
  snapshotChunkBytes?: number | undefined
  /** Bound of each peer's queue; beyond it the oldest non-snapshot message is dropped. @default 4096 */
  maxQueuedMessages?: number | undefined
  /** Reconnect backoff: doubles from `initialMs` up to `maxMs`, half of it random. @default 100 ms, 5 s */
  backoff?: { initialMs: number; maxMs: number } | undefined
  /** How long a new stream may wait for the peer to answer before it counts as failed. @default 5000 */
  connectTimeoutMs?: number | undefined
  /** How long `stop()` lets calls drain before forcing the server down. @default 1000 */
  shutdownGraceMs?: number | undefined
  /** Timers for backoff and shutdown. @default systemClock */
  clock?: Clock | undefined
  /** Jitter of the backoff. @default cryptoRandom */
  random?: Random | undefined
}

/** Counters of one peer link, for diagnostics and tests. */
export interface GrpcRaftPeerStats {
  /** The address messages go to. */
  address: string
  /** State of the message stream. */
  stream: PeerStreamState
  /** Messages waiting in the queue. */
  queued: number
  /** Messages dropped: queue overflow, or larger than `maxMessageBytes`. */
  dropped: number
  /** Snapshot calls in progress. */
  snapshotsInFlight: number
}

type Lifecycle = 'new' | 'starting' | 'running' | 'stopped'

function positiveInt(v: number | undefined, dflt: number, field: string): number {
  if (v === undefined) return dflt
  if (!Number.isSafeInteger(v) || v <= 0) throw new InvalidArgumentError(field, `must be a positive integer, got ${v}`)
  return v
}

function checkAddress(address: unknown, field: string): string {
  if (typeof address !== 'string' || !/^.+:\d{1,5}$/.test(address)) throw new InvalidArgumentError(field, `must be host:port, got ${String(address)}`)
  return address
}

/** A {@link RaftTransport} over gRPC (grpc-js), with pluggable credentials (insecure by default). */
export class GrpcRaftTransport implements RaftTransport {
  /** This member's id. */
  readonly id: RaftMemberId
  readonly #listenAddress: string
  readonly #advertiseAddress: string | undefined
  readonly #serverCredentials: ServerCredentials
  readonly #log: Logger
  readonly #clock: Clock
  readonly #maxMessageBytes: number
  readonly #graceMs: number
  readonly #ctx: PeerLinkContext
  readonly #links = new Map<RaftMemberId, PeerLink>()
  readonly #service: RaftServiceHandlers
  #server: Server | undefined
  #handlers: RaftTransportHandlers | undefined
  #state: Lifecycle = 'new'
  #port = 0
  #stopping: Promise<void> | undefined
  /** Settles when a `start` in progress has bound (or failed to). */
  #binding: Promise<unknown> | undefined

  /** @throws InvalidArgumentError naming the field of a bad option. */
  constructor(init: GrpcRaftTransportInit) {
    if (typeof init.id !== 'bigint' || init.id <= 0n || init.id >= 1n << 64n) throw new InvalidArgumentError('id', `must be a non-zero uint64 bigint, got ${String(init.id)}`)
    this.id = init.id
    this.#listenAddress = checkAddress(init.listenAddress, 'listenAddress')
    this.#advertiseAddress = init.advertiseAddress === undefined ? undefined : checkAddress(init.advertiseAddress, 'advertiseAddress')
    this.#serverCredentials = init.serverCredentials ?? ServerCredentials.createInsecure()
    this.#log = (init.logger ?? silentLogger).child({ component: 'raft-transport', member: init.id.toString() })
    this.#clock = init.clock ?? systemClock
    this.#maxMessageBytes = positiveInt(init.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 'maxMessageBytes')
    if (this.#maxMessageBytes < 1024) throw new InvalidArgumentError('maxMessageBytes', `must be at least 1024, got ${this.#maxMessageBytes}`)
    const chunk = positiveInt(init.snapshotChunkBytes, Math.min(DEFAULT_SNAPSHOT_CHUNK_BYTES, this.#maxMessageBytes - CHUNK_OVERHEAD_BYTES), 'snapshotChunkBytes')
    if (chunk + CHUNK_OVERHEAD_BYTES > this.#maxMessageBytes) throw new InvalidArgumentError('snapshotChunkBytes', `must be at most maxMessageBytes (${this.#maxMessageBytes}) - ${CHUNK_OVERHEAD_BYTES}`)
    const backoff = init.backoff ?? DEFAULT_BACKOFF
    const initialMs = positiveInt(backoff.initialMs, DEFAULT_BACKOFF.initialMs, 'backoff.initialMs')
    const maxMs = positiveInt(backoff.maxMs, DEFAULT_BACKOFF.maxMs, 'backoff.maxMs')
    if (maxMs < initialMs) throw new InvalidArgumentError('backoff.maxMs', 'must be at least backoff.initialMs')
    this.#graceMs = init.shutdownGraceMs === undefined ? 1000 : positiveInt(init.shutdownGraceMs, 1000, 'shutdownGraceMs')
    this.#ctx = {
      clock: this.#clock,
      random: init.random ?? cryptoRandom,
      logger: this.#log,
      credentials: init.channelCredentials ?? grpcCredentials.createInsecure(),
      channelOptions: {
        'grpc.max_send_message_length': this.#maxMessageBytes,
        'grpc.max_receive_message_length': this.#maxMessageBytes,
        'grpc.initial_reconnect_backoff_ms': initialMs,
        'grpc.max_reconnect_backoff_ms': maxMs,
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.enable_retries': 0,
        ...init.channelOptions,
      },
      backoff: { initialMs, maxMs },
      connectTimeoutMs: positiveInt(init.connectTimeoutMs, 5000, 'connectTimeoutMs'),
      maxQueuedMessages: positiveInt(init.maxQueuedMessages, DEFAULT_MAX_QUEUED_MESSAGES, 'maxQueuedMessages'),
      maxMessageBytes: this.#maxMessageBytes,
      snapshotChunkBytes: chunk,
      metadata: () => originMetadata(this.id, this.#advertised()),
      unreachable: (to) => this.#emit((h) => h.unreachable?.(to)),
      snapshotStatus: (to, ok) => this.#emit((h) => h.snapshotStatus?.(to, ok)),
    }
    this.#service = new RaftServiceHandlers({
      id: this.id,
      accepting: () => this.#state === 'running',
      deliver: (msg, origin) => this.#call((h) => (origin === undefined ? h.message(msg) : h.message(msg, origin))),
    })
  }

  /** The advertised address: the option, else the bound address once running. */
  #advertised(): string | undefined {
    if (this.#advertiseAddress !== undefined) return this.#advertiseAddress
    return this.#state === 'running' ? this.address : undefined
  }

  /** The address peers reach this member at (`host:port` with the bound port); only after `start`. */
  get address(): string {
    if (this.#state !== 'running') throw new FailedPreconditionError('the transport is not running', { reason: 'not-running' })
    const host = this.#listenAddress.slice(0, this.#listenAddress.lastIndexOf(':'))
    return `${host}:${this.#port}`
  }

  /** The bound port; only after `start`. */
  get port(): number {
    if (this.#state !== 'running') throw new FailedPreconditionError('the transport is not running', { reason: 'not-running' })
    return this.#port
  }

  /**
   * Binds the server and starts delivering to `handlers`.
   *
   * @throws InvalidArgumentError (`listenAddress`) when the address cannot be bound;
   *   FailedPreconditionError when called twice.
   */
  async start(handlers: RaftTransportHandlers): Promise<void> {
    if (this.#state !== 'new') throw new FailedPreconditionError('start may be called once', { reason: 'already-started' })
    this.#state = 'starting'
    this.#handlers = handlers
    const server = new Server({
      'grpc.max_receive_message_length': this.#maxMessageBytes,
      'grpc.max_send_message_length': this.#maxMessageBytes,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
    })
    server.addService(raftServiceDefinition, this.#service.implementation())
    const binding = new Promise<number>((resolve, reject) => {
      server.bindAsync(this.#listenAddress, this.#serverCredentials, (err, port) => (err === null ? resolve(port) : reject(err)))
    })
    this.#binding = binding.catch(() => undefined)
    try {
      this.#port = await binding
    } catch (err) {
      this.#state = 'stopped'
      server.forceShutdown()
      throw new InvalidArgumentError('listenAddress', `cannot listen on ${this.#listenAddress}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
    if (this.#state !== 'starting') {
      // stop() was called while binding.
      server.forceShutdown()
      return
    }
    this.#server = server
    this.#state = 'running'
    this.#log.info('raft transport listening', { address: this.address })
  }

  /**
   * Queues messages for their `to` members. A message to a member without an address is
   * reported `unreachable` (once per call and member); local messages (`unreachable`,
   * `snap-status`) are not sent. After `stop()` this does nothing.
   *
   * @throws InvalidArgumentError when a message cannot be encoded (nothing is queued then);
   *   FailedPreconditionError before `start`.
   */
  send(messages: readonly Message[]): void {
    if (this.#state === 'stopped') return
    if (this.#state !== 'running') throw new FailedPreconditionError('send before start', { reason: 'not-running' })
    const items: Array<[RaftMemberId, QueuedMessage]> = []
    messages.forEach((m, i) => {
      if (isLocalMessage(m.type)) return
      try {
        if (m.type === 'snapshot') items.push([m.to, { kind: 'snapshot', msg: m, header: messageToWire({ ...m, snapshot: { ...m.snapshot, data: new Uint8Array(0) } }) }])
        else items.push([m.to, { kind: 'message', bytes: encodeMessage(m) }])
      } catch (err) {
        if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(`messages[${i}]${err.field === '' ? '' : `.${err.field}`}`, err.message, { cause: err })
        throw err
      }
    })
    const unknown = new Set<RaftMemberId>()
    for (const [to, item] of items) {
      const link = this.#links.get(to)
      if (link === undefined) unknown.add(to)
      else link.enqueue(item)
    }
    for (const to of unknown) this.#ctx.unreachable(to)
  }

  /** Sets the address of a member; a changed address restarts its stream at once. */
  addPeer(id: RaftMemberId, address: string): void {
    checkAddress(address, 'address')
    if (this.#state === 'stopped') return
    const link = this.#links.get(id)
    if (link === undefined) this.#links.set(id, new PeerLink(id, address, this.#ctx))
    else link.setAddress(address)
  }

  /** Forgets a member; its queued messages are dropped and its snapshots reported failed. */
  removePeer(id: RaftMemberId): void {
    const link = this.#links.get(id)
    if (link === undefined) return
    this.#links.delete(id)
    link.close()
  }

  /** Counters of the link to `id`, or `undefined` for an unknown member. */
  peerStats(id: RaftMemberId): GrpcRaftPeerStats | undefined {
    const l = this.#links.get(id)
    if (l === undefined) return undefined
    return { address: l.address, stream: l.state, queued: l.queued, dropped: l.dropped, snapshotsInFlight: l.snapshotsInFlight }
  }

  /**
   * Closes every stream and the server (graceful first, forced after `shutdownGraceMs`).
   * No handler is called once this is called; resolves when the server is down.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async #stop(): Promise<void> {
    const wasRunning = this.#state === 'running'
    this.#state = 'stopped'
    this.#handlers = undefined
    for (const link of this.#links.values()) link.close()
    this.#links.clear()
    // A start in progress shuts its server down itself once bound.
    await this.#binding
    const server = this.#server
    this.#server = undefined
    if (server === undefined) return
    this.#service.closeAll()
    await new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(() => {
        this.#log.warn('raft transport: forcing the server down', { openCalls: this.#service.openCalls })
        server.forceShutdown()
        resolve()
      }, this.#graceMs)
      server.tryShutdown(() => {
        timer.cancel()
        resolve()
      })
    })
    if (wasRunning) this.#log.info('raft transport stopped')
  }

  /** Calls a handler now (inbound traffic is already on the event loop), unless stopped. */
  #call(f: (h: RaftTransportHandlers) => void): void {
    const h = this.#handlers
    if (h === undefined || this.#state !== 'running') return
    try {
      f(h)
    } catch (err) {
      this.#log.error('raft transport handler threw', { error: err instanceof Error ? err.message : String(err) })
    }
  }

  /** Calls a handler on a later microtask (never inside `send`), unless stopped by then. */
  #emit(f: (h: RaftTransportHandlers) => void): void {
    queueMicrotask(() => this.#call(f))
  }
}
