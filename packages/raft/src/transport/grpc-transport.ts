/**
 * {@link GrpcRaftTransport}: the {@link RaftTransport} between processes, over gRPC
 * (`swarmkit.raft.v1.Raft`, proto/raft-transport.proto).
 *
 * Each member serves the Raft service — on a server of its own (`listenAddress`), or on a
 * `grpc.Server` the caller owns and shares with other services (`server`) — and, per peer, runs
 * one long-lived client stream of message batches (in order, bounded queue, reconnect with
 * backoff) plus one call per snapshot, whose data travels in chunks. Snapshot messages are not
 * ordered relative to the other messages of the link (they leave the queue in order, but travel
 * on their own call). Inbound calls are authorized (see grpc-transport-auth.ts).
 */
import type { X509Certificate } from 'node:crypto'
import { Server, ServerCredentials, credentials as grpcCredentials, type ChannelCredentials, type ChannelOptions, type ServerOptions } from '@grpc/grpc-js'
import { FailedPreconditionError, InvalidArgumentError, cryptoRandom, silentLogger, systemClock } from '@swarmkit-ts/api'
import type { Clock, Logger, RaftMemberId, Random } from '@swarmkit-ts/api'
import { encodeMessage, messageToWire } from './message-codec.ts'
import { isLocalMessage, type Message } from '../core/types.ts'
import type { RaftTransport, RaftTransportHandlers, UndeliverableReason } from './transport.ts'
import { allowAnyRaftPeer, authorizeClusterManagers, parseCertificate, type RaftAuthorizer } from './grpc-transport-auth.ts'
import { CHUNK_OVERHEAD_BYTES, ENVELOPE_OVERHEAD_BYTES, originMetadata, raftServiceDefinition } from './grpc-transport-wire.ts'
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

/**
 * The options a `grpc.Server` needs to carry raft traffic of up to `maxMessageBytes` (grpc-js
 * refuses messages above 4 MiB by default) and to keep idle peer connections checked. Create a
 * shared server with them (merged with the options of its other services).
 */
export function raftServerOptions(maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES): ServerOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    // channelz bookkeeping costs every call 5–10 % of its CPU (measured on a unary call over mTLS).
    'grpc.enable_channelz': 0,
  }
}

/** Construction options for {@link GrpcRaftTransport}. */
export interface GrpcRaftTransportInit {
  /** This member's id (non-zero). */
  id: RaftMemberId
  /**
   * `host:port` for a server of the transport's own; port 0 lets the OS choose (read
   * {@link GrpcRaftTransport.address} after {@link GrpcRaftTransport.listen}). Exactly one of
   * `listenAddress` and `server`.
   */
  listenAddress?: string | undefined
  /**
   * A server the caller owns (typically shared with other services, bound by the caller, before
   * or after): {@link GrpcRaftTransport.start} adds the Raft service to it and `stop` removes it,
   * leaving the server running. Needs `advertiseAddress` and `authorize`; create it with
   * {@link raftServerOptions} so that it accepts messages of `maxMessageBytes`. Exactly one of
   * `listenAddress` and `server`.
   */
  server?: Server | undefined
  /**
   * The address peers should reach this member at, told to every peer with each call so that a
   * peer that has no address for this member yet can answer it. Required with `server`.
   * @default {@link GrpcRaftTransport.address}
   */
  advertiseAddress?: string | undefined
  /**
   * Decides which peers may send raft messages here, once per inbound call (see
   * {@link RaftAuthorizer}); each message's `from` must then be the authorized member (relayed
   * kinds aside). Required with `server`. @default with TLS `serverCredentials`,
   * {@link authorizeClusterManagers}`()` (manager certificates of the cluster named by this
   * server's own certificate); with insecure credentials {@link allowAnyRaftPeer}.
   */
  authorize?: RaftAuthorizer | undefined
  /** Server credentials of the transport's own server (not with `server`). @default insecure */
  serverCredentials?: ServerCredentials | undefined
  /** Credentials for dialling peers. @default insecure */
  channelCredentials?: ChannelCredentials | undefined
  /** Extra grpc-js channel options (e.g. `grpc.ssl_target_name_override`). */
  channelOptions?: ChannelOptions | undefined
  /** @default silentLogger */
  logger?: Logger | undefined
  /**
   * Largest gRPC message sent or accepted; a batch never exceeds it, a message that does alone is
   * reported `undeliverable` (`'too-large'`) and not sent, and snapshots travel in chunks below it.
   * @default 16 MiB
   */
  maxMessageBytes?: number | undefined
  /** Size of the data chunks of a snapshot (at most `maxMessageBytes` − 64). @default 1 MiB, or less to fit `maxMessageBytes` */
  snapshotChunkBytes?: number | undefined
  /** Bound of each peer's queue; beyond it the oldest non-snapshot message is dropped and reported `undeliverable` (`'queue-full'`). @default 4096 */
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
  /** Of `dropped`, the messages larger than `maxMessageBytes` (reported `undeliverable`, `'too-large'`). */
  tooLarge: number
  /** Snapshot calls in progress. */
  snapshotsInFlight: number
}

/** Counters of the whole transport, for diagnostics and tests. */
export interface GrpcRaftTransportStats {
  /** Messages given up on as too large for `maxMessageBytes` (to any member, known or not). */
  tooLarge: number
  /** Messages dropped from a full peer queue. */
  queueFull: number
  /** Inbound calls refused by authorization (PERMISSION_DENIED). */
  refusedCalls: number
}

type Lifecycle = 'new' | 'binding' | 'listening' | 'running' | 'stopped'

function positiveInt(v: number | undefined, dflt: number, field: string): number {
  if (v === undefined) return dflt
  if (!Number.isSafeInteger(v) || v <= 0) throw new InvalidArgumentError(field, `must be a positive integer, got ${v}`)
  return v
}

function checkAddress(address: unknown, field: string): string {
  if (typeof address !== 'string' || !/^.+:\d{1,5}$/.test(address)) throw new InvalidArgumentError(field, `must be host:port, got ${String(address)}`)
  return address
}

/** A {@link RaftTransport} over gRPC (grpc-js), with pluggable credentials (insecure by default) and authorization of inbound calls. */
export class GrpcRaftTransport implements RaftTransport {
  /** This member's id. */
  readonly id: RaftMemberId
  /** The largest message sent or accepted (see {@link RaftTransport.maxMessageBytes}). */
  readonly maxMessageBytes: number
  readonly #listenAddress: string | undefined
  readonly #sharedServer: Server | undefined
  readonly #advertiseAddress: string | undefined
  readonly #serverCredentials: ServerCredentials
  readonly #authorize: RaftAuthorizer
  readonly #log: Logger
  readonly #clock: Clock
  readonly #graceMs: number
  readonly #ctx: PeerLinkContext
  readonly #links = new Map<RaftMemberId, PeerLink>()
  readonly #service: RaftServiceHandlers
  readonly #stats: GrpcRaftTransportStats = { tooLarge: 0, queueFull: 0, refusedCalls: 0 }
  #localCert: { source: unknown; cert: X509Certificate | undefined } | undefined
  #server: Server | undefined
  #handlers: RaftTransportHandlers | undefined
  #state: Lifecycle = 'new'
  #port = 0
  #stopping: Promise<void> | undefined
  /** Settles when a bind in progress has bound (or failed to). */
  #binding: Promise<void> | undefined

  /** @throws InvalidArgumentError naming the field of a bad option. */
  constructor(init: GrpcRaftTransportInit) {
    if (typeof init.id !== 'bigint' || init.id <= 0n || init.id >= 1n << 64n) throw new InvalidArgumentError('id', `must be a non-zero uint64 bigint, got ${String(init.id)}`)
    this.id = init.id
    if ((init.listenAddress === undefined) === (init.server === undefined)) throw new InvalidArgumentError('listenAddress', 'give exactly one of listenAddress and server')
    this.#listenAddress = init.listenAddress === undefined ? undefined : checkAddress(init.listenAddress, 'listenAddress')
    this.#sharedServer = init.server
    this.#advertiseAddress = init.advertiseAddress === undefined ? undefined : checkAddress(init.advertiseAddress, 'advertiseAddress')
    if (init.server !== undefined) {
      // Duck-typed: an application may hold another copy of grpc-js than this package.
      const server = init.server as Partial<Server>
      if (typeof server.addService !== 'function' || typeof server.removeService !== 'function') throw new InvalidArgumentError('server', 'must be a grpc-js Server')
      if (this.#advertiseAddress === undefined) throw new InvalidArgumentError('advertiseAddress', 'is required with a caller-owned server')
      if (init.authorize === undefined) throw new InvalidArgumentError('authorize', "is required with a caller-owned server (the transport cannot see that server's credentials)")
      if (init.serverCredentials !== undefined) throw new InvalidArgumentError('serverCredentials', 'the owner of a shared server binds it with its own credentials')
    }
    if (init.authorize !== undefined && typeof init.authorize !== 'function') throw new InvalidArgumentError('authorize', 'must be a function')
    this.#serverCredentials = init.serverCredentials ?? ServerCredentials.createInsecure()
    this.#authorize = init.authorize ?? (this.#serverCredentials._isSecure() ? authorizeClusterManagers() : allowAnyRaftPeer)
    this.#log = (init.logger ?? silentLogger).child({ component: 'raft-transport', member: init.id.toString() })
    this.#clock = init.clock ?? systemClock
    const maxMessageBytes = positiveInt(init.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 'maxMessageBytes')
    if (maxMessageBytes < 1024) throw new InvalidArgumentError('maxMessageBytes', `must be at least 1024, got ${maxMessageBytes}`)
    this.maxMessageBytes = maxMessageBytes
    const chunk = positiveInt(init.snapshotChunkBytes, Math.min(DEFAULT_SNAPSHOT_CHUNK_BYTES, maxMessageBytes - CHUNK_OVERHEAD_BYTES), 'snapshotChunkBytes')
    if (chunk + CHUNK_OVERHEAD_BYTES > maxMessageBytes) throw new InvalidArgumentError('snapshotChunkBytes', `must be at most maxMessageBytes (${maxMessageBytes}) - ${CHUNK_OVERHEAD_BYTES}`)
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
        'grpc.max_send_message_length': maxMessageBytes,
        'grpc.max_receive_message_length': maxMessageBytes,
        'grpc.initial_reconnect_backoff_ms': initialMs,
        'grpc.max_reconnect_backoff_ms': maxMs,
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.enable_retries': 0,
        'grpc.enable_channelz': 0,
        ...init.channelOptions,
      },
      backoff: { initialMs, maxMs },
      connectTimeoutMs: positiveInt(init.connectTimeoutMs, 5000, 'connectTimeoutMs'),
      maxQueuedMessages: positiveInt(init.maxQueuedMessages, DEFAULT_MAX_QUEUED_MESSAGES, 'maxQueuedMessages'),
      maxMessageBytes,
      snapshotChunkBytes: chunk,
      metadata: () => originMetadata(this.id, this.#advertised()),
      unreachable: (to) => this.#emit((h) => h.unreachable?.(to)),
      snapshotStatus: (to, ok) => this.#emit((h) => h.snapshotStatus?.(to, ok)),
      undeliverable: (msg, reason) => this.#undeliverable(msg, reason),
    }
    this.#service = new RaftServiceHandlers({
      id: this.id,
      accepting: () => this.#state === 'running',
      deliver: (msg, origin) => this.#call((h) => (origin === undefined ? h.message(msg) : h.message(msg, origin))),
      authorize: (call) => this.#authorize({ ...call, localCertificate: this.#localCertificate() }),
      refused: (reason, call) => {
        this.#stats.refusedCalls++
        this.#log.warn('raft call refused', { reason, claimedId: call.claimedId?.toString() ?? 'none', peer: call.peerAddress })
      },
    })
  }

  /**
   * This server's own certificate (own server with TLS credentials), parsed once per change.
   * grpc-js exposes the current identity of server credentials (also of renewable ones) only
   * through `_getSecureContextOptions()`, typed but underscore-named; should a future version
   * drop it, this yields `undefined` and the default authorizer refuses every call (fail closed).
   */
  #localCertificate(): X509Certificate | undefined {
    if (this.#sharedServer !== undefined || !this.#serverCredentials._isSecure()) return undefined
    const creds = this.#serverCredentials as Partial<Pick<ServerCredentials, '_getSecureContextOptions'>>
    const source = typeof creds._getSecureContextOptions === 'function' ? creds._getSecureContextOptions()?.cert : undefined
    const cached = this.#localCert
    if (cached !== undefined && cached.source === source) return cached.cert
    const cert = parseCertificate(source)
    this.#localCert = { source, cert }
    return cert
  }

  /** The advertised address: the option, else the bound address once running. */
  #advertised(): string | undefined {
    if (this.#advertiseAddress !== undefined) return this.#advertiseAddress
    return this.#state === 'running' ? this.address : undefined
  }

  /**
   * The address peers reach this member at: the advertised address, else `host:port` with the
   * bound port. With an own server, only once it listens ({@link listen} or {@link start}).
   *
   * @throws FailedPreconditionError before that, and after `stop`.
   */
  get address(): string {
    if (this.#advertiseAddress !== undefined && this.#state !== 'stopped') return this.#advertiseAddress
    return `${this.#host()}:${this.port}`
  }

  /** The port the transport's own server is bound to; only once it listens. */
  get port(): number {
    if (this.#sharedServer !== undefined) throw new FailedPreconditionError('the transport serves on a caller-owned server', { reason: 'shared-server' })
    if (this.#state !== 'listening' && this.#state !== 'running') throw new FailedPreconditionError('the transport is not listening', { reason: 'not-running' })
    return this.#port
  }

  #host(): string {
    const listen = this.#listenAddress ?? ''
    return listen.slice(0, listen.lastIndexOf(':'))
  }

  /**
   * Binds the transport's own server and returns the address peers reach it at, without
   * delivering anything yet: calls that arrive before {@link start} are answered UNAVAILABLE (the
   * peer retries). With port 0 this is how a member learns its address before telling its peers
   * or bootstrapping. Idempotent; with a caller-owned server it only returns `advertiseAddress`.
   *
   * @throws InvalidArgumentError (`listenAddress`) when the address cannot be bound (the
   *   transport is then stopped); FailedPreconditionError after `stop`.
   */
  async listen(): Promise<string> {
    if (this.#state === 'stopped') throw new FailedPreconditionError('the transport is stopped', { reason: 'stopped' })
    if (this.#sharedServer !== undefined) return this.address
    if (this.#state === 'new') this.#binding = this.#bind()
    await this.#binding
    if (this.#stopped()) throw new FailedPreconditionError('the transport was stopped while binding', { reason: 'stopped' })
    return this.address
  }

  async #bind(): Promise<void> {
    this.#state = 'binding'
    const server = new Server(raftServerOptions(this.maxMessageBytes))
    server.addService(raftServiceDefinition, this.#service.implementation())
    const listen = this.#listenAddress as string
    let port: number
    try {
      port = await new Promise<number>((resolve, reject) => {
        server.bindAsync(listen, this.#serverCredentials, (err, p) => (err === null ? resolve(p) : reject(err)))
      })
    } catch (err) {
      server.forceShutdown()
      // A transport that cannot listen is done (send is then a no-op, as after stop).
      this.#state = 'stopped'
      throw new InvalidArgumentError('listenAddress', `cannot listen on ${listen}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
    if (this.#state !== 'binding') {
      // stop() was called while binding.
      server.forceShutdown()
      return
    }
    this.#port = port
    this.#server = server
    this.#state = 'listening'
    this.#log.info('raft transport listening', { address: this.address })
  }

  /**
   * Starts delivering to `handlers`: binds the own server unless {@link listen} did, or adds the
   * Raft service to the caller-owned server.
   *
   * @throws InvalidArgumentError (`listenAddress`) when the address cannot be bound;
   *   FailedPreconditionError when called twice, or (`server`) when the caller-owned server
   *   already serves the Raft service.
   */
  async start(handlers: RaftTransportHandlers): Promise<void> {
    if (this.#handlers !== undefined || this.#state === 'running' || this.#state === 'stopped') throw new FailedPreconditionError('start may be called once', { reason: 'already-started' })
    this.#handlers = handlers
    if (this.#sharedServer !== undefined) {
      try {
        this.#sharedServer.addService(raftServiceDefinition, this.#service.implementation())
      } catch (err) {
        this.#handlers = undefined
        throw new FailedPreconditionError(`cannot add the raft service to the server: ${err instanceof Error ? err.message : String(err)}`, { reason: 'service-registered', cause: err })
      }
      this.#state = 'running'
      this.#log.info('raft transport serving on a shared server', { address: this.address })
      return
    }
    try {
      await this.listen()
    } catch (err) {
      this.#handlers = undefined
      // stop() during the bind: start resolves, as if it had finished just before.
      if (this.#stopping !== undefined) return
      throw err
    }
    if (this.#state !== 'listening') return
    this.#state = 'running'
  }

  /**
   * Queues messages for their `to` members. A message to a member without an address is
   * reported `unreachable` (once per call and member); one larger than `maxMessageBytes` is
   * reported `undeliverable` (`'too-large'`) and not sent; local messages (`unreachable`,
   * `snap-status`) are not sent. After `stop()` this does nothing.
   *
   * @throws InvalidArgumentError when a message cannot be encoded (nothing is queued then);
   *   FailedPreconditionError before `start`.
   */
  send(messages: readonly Message[]): void {
    if (this.#state === 'stopped') return
    if (this.#state !== 'running') throw new FailedPreconditionError('send before start', { reason: 'not-running' })
    const items: Array<[RaftMemberId, QueuedMessage]> = []
    const tooLarge: Message[] = []
    messages.forEach((m, i) => {
      if (isLocalMessage(m.type)) return
      try {
        if (m.type === 'snapshot') items.push([m.to, { kind: 'snapshot', msg: m, header: messageToWire({ ...m, snapshot: { ...m.snapshot, data: new Uint8Array(0) } }) }])
        else {
          const bytes = encodeMessage(m)
          if (bytes.length + ENVELOPE_OVERHEAD_BYTES > this.maxMessageBytes) tooLarge.push(m)
          else items.push([m.to, { kind: 'message', msg: m, bytes }])
        }
      } catch (err) {
        if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(`messages[${i}]${err.field === '' ? '' : `.${err.field}`}`, err.message, { cause: err })
        throw err
      }
    })
    for (const m of tooLarge) {
      this.#links.get(m.to)?.countTooLarge()
      this.#undeliverable(m, 'too-large')
    }
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
    return { address: l.address, stream: l.state, queued: l.queued, dropped: l.dropped, tooLarge: l.tooLarge, snapshotsInFlight: l.snapshotsInFlight }
  }

  /** Counters of the whole transport. */
  stats(): GrpcRaftTransportStats {
    return { ...this.#stats }
  }

  /**
   * Closes every stream and the server (graceful first, forced after `shutdownGraceMs`); a
   * caller-owned server keeps running without the Raft service. No handler is called once this
   * is called; resolves when the own server is down.
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
    if (this.#sharedServer !== undefined) {
      if (wasRunning) {
        this.#sharedServer.removeService(raftServiceDefinition)
        this.#service.closeAll()
        this.#log.info('raft transport stopped')
      }
      return
    }
    // A bind in progress shuts its server down itself once bound.
    await this.#binding?.catch(() => undefined)
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

  /** Whether `stop` was called (a method: the state changes across awaits). */
  #stopped(): boolean {
    return this.#state === 'stopped'
  }

  /** Counts and reports a message given up on. */
  #undeliverable(msg: Message, reason: UndeliverableReason): void {
    if (reason === 'too-large') {
      this.#stats.tooLarge++
      this.#log.error('raft message larger than maxMessageBytes not sent', { type: msg.type, to: msg.to.toString(), maxMessageBytes: this.maxMessageBytes })
    } else {
      this.#stats.queueFull++
    }
    this.#emit((h) => h.undeliverable?.(msg, reason))
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
