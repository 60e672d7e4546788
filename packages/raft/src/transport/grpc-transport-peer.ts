/**
 * The sending side of {@link GrpcRaftTransport} towards one peer: a bounded queue, one
 * long-lived `Stream` call that carries batches of messages in order, reconnection with
 * exponential backoff and jitter, and one `SendSnapshot` call per snapshot message.
 *
 * Life of the stream: `idle` (nothing to send) → `connecting` (call made, waiting for the
 * peer's response headers; messages stay queued) → `open` (queued messages are written) →
 * on failure `backoff` (one `unreachable` report; messages keep queueing) → `idle` → … .
 *
 * @internal
 */
import { Client, type Metadata, type ChannelCredentials, type ChannelOptions, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js'
import type { Clock, Logger, RaftMemberId, Random, Timer } from '@swarmkit-ts/api'
import type { Message, SnapshotMessage } from '../core/types.ts'
import type { UndeliverableReason } from './transport.ts'
import { transportSchema, type WireObject } from './message-codec.ts'
import {
  CHUNK_OVERHEAD_BYTES,
  ENVELOPE_OVERHEAD_BYTES,
  SEND_SNAPSHOT_PATH,
  STREAM_PATH,
  deserializeSnapshotAck,
  deserializeStreamAck,
  serializeChunk,
  serializeEnvelope,
  statusError,
  type OutboundChunk,
  type SnapshotAck,
  type StreamAck,
} from './grpc-transport-wire.ts'

/** A queued message (with its encoding), or a snapshot to stream (with its header, data left out). */
export type QueuedMessage = { kind: 'message'; msg: Message; bytes: Uint8Array } | { kind: 'snapshot'; msg: SnapshotMessage; header: WireObject }

/** The state of a peer's message stream. */
export type PeerStreamState = 'idle' | 'connecting' | 'open' | 'backoff' | 'closed'

/** What a link needs from its transport. */
export interface PeerLinkContext {
  clock: Clock
  random: Random
  logger: Logger
  credentials: ChannelCredentials
  channelOptions: ChannelOptions
  backoff: { initialMs: number; maxMs: number }
  /** How long a new stream may wait for the peer's response headers. */
  connectTimeoutMs: number
  maxQueuedMessages: number
  maxMessageBytes: number
  snapshotChunkBytes: number
  /** The request metadata of every call: who is sending and at which address (see `originMetadata`). */
  metadata(): Metadata
  /** Reports, deferred and dropped once the transport stopped. */
  unreachable(to: RaftMemberId): void
  snapshotStatus(to: RaftMemberId, ok: boolean): void
  /** Counts and reports a message given up on (deferred, dropped once the transport stopped). */
  undeliverable(msg: Message, reason: UndeliverableReason): void
}

/** The backoff before reconnect attempt `attempt` (0-based): exponential, half of it jittered. */
export function backoffDelay(attempt: number, backoff: { initialMs: number; maxMs: number }, random: Random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30))
  return ceiling / 2 + random.float() * (ceiling / 2)
}

/** The outgoing side towards one peer. */
export class PeerLink {
  readonly id: RaftMemberId
  readonly #ctx: PeerLinkContext
  readonly #log: Logger
  #address: string
  #client: Client
  #state: PeerStreamState = 'idle'
  #call: ClientWritableStream<readonly Uint8Array[]> | undefined
  #blocked = false
  #queue: QueuedMessage[] = []
  #dropped = 0
  #tooLarge = 0
  #attempt = 0
  #openedAt = 0
  #timer: Timer | undefined
  #connectTimer: Timer | undefined
  readonly #snapshots = new Set<ClientWritableStream<OutboundChunk>>()

  constructor(id: RaftMemberId, address: string, ctx: PeerLinkContext) {
    this.id = id
    this.#ctx = ctx
    this.#address = address
    this.#log = ctx.logger.child({ peer: id.toString() })
    this.#client = this.#newClient()
  }

  /** The peer's address. */
  get address(): string {
    return this.#address
  }
  /** The stream's state. */
  get state(): PeerStreamState {
    return this.#state
  }
  /** Messages waiting to be written. */
  get queued(): number {
    return this.#queue.length
  }
  /** Messages dropped: queue overflow, or too large for `maxMessageBytes`. */
  get dropped(): number {
    return this.#dropped
  }
  /** Of {@link dropped}, the messages too large for `maxMessageBytes`. */
  get tooLarge(): number {
    return this.#tooLarge
  }

  /** Counts a message to this peer that the transport refused to queue as too large. */
  countTooLarge(): void {
    this.#dropped++
    this.#tooLarge++
  }
  /** Snapshot calls in progress. */
  get snapshotsInFlight(): number {
    return this.#snapshots.size
  }

  #newClient(): Client {
    return new Client(this.#address, this.#ctx.credentials, this.#ctx.channelOptions)
  }

  /**
   * Queues a message (the transport checked that it fits `maxMessageBytes`), dropping the oldest
   * non-snapshot one beyond the bound; a dropped message is reported `undeliverable`
   * (`'queue-full'`), a dropped snapshot also with `snapshotStatus(false)`.
   */
  enqueue(item: QueuedMessage): void {
    if (this.#state === 'closed') return
    this.#queue.push(item)
    if (this.#queue.length > this.#ctx.maxQueuedMessages) {
      const i = this.#queue.findIndex((q) => q.kind === 'message')
      const [gone] = this.#queue.splice(i < 0 ? 0 : i, 1)
      this.#dropped++
      if (gone !== undefined) this.#ctx.undeliverable(gone.msg, 'queue-full')
      if (gone?.kind === 'snapshot') this.#ctx.snapshotStatus(this.id, false)
    }
    if (this.#state === 'idle') this.#connect()
    else if (this.#state === 'open') this.#pump()
  }

  /** Points the link at a new address: the stream restarts at once, without backoff. */
  setAddress(address: string): void {
    if (this.#state === 'closed' || address === this.#address) return
    this.#log.info('raft peer address changed', { from: this.#address, to: address })
    this.#address = address
    this.#dropCall()
    this.#client.close()
    this.#client = this.#newClient()
    this.#attempt = 0
    this.#state = 'idle'
    if (this.#queue.length > 0) this.#connect()
  }

  /** Stops everything: queued messages are dropped, calls cancelled, snapshots reported failed. */
  close(): void {
    if (this.#state === 'closed') return
    this.#dropCall()
    this.#state = 'closed'
    this.#queue = []
    for (const s of [...this.#snapshots]) s.cancel()
    this.#client.close()
  }

  /** Cancels the stream and the backoff timer (the call's callback then finds it stale). */
  #dropCall(): void {
    this.#timer?.cancel()
    this.#timer = undefined
    this.#connectTimer?.cancel()
    this.#connectTimer = undefined
    const call = this.#call
    this.#call = undefined
    this.#blocked = false
    call?.cancel()
  }

  #connect(): void {
    this.#state = 'connecting'
    const call = this.#client.makeClientStreamRequest<readonly Uint8Array[], StreamAck>(STREAM_PATH, serializeEnvelope, deserializeStreamAck, this.#ctx.metadata(), {}, (err) => this.#ended(call, err))
    this.#call = call
    // A peer that never answers (e.g. packets dropped) counts as a failed attempt.
    this.#connectTimer = this.#ctx.clock.setTimeout(() => {
      this.#connectTimer = undefined
      if (this.#call === call && this.#state === 'connecting') call.cancel()
    }, this.#ctx.connectTimeoutMs)
    call.on('metadata', () => {
      if (this.#call !== call) return
      this.#connectTimer?.cancel()
      this.#connectTimer = undefined
      this.#state = 'open'
      this.#openedAt = this.#ctx.clock.now()
      this.#log.debug('raft stream open', { address: this.#address })
      this.#pump()
    })
  }

  /** The stream's call ended: unless it was replaced or closed, report and back off. */
  #ended(call: ClientWritableStream<readonly Uint8Array[]>, err: ServiceError | null): void {
    if (this.#call !== call) return
    this.#call = undefined
    this.#blocked = false
    this.#connectTimer?.cancel()
    this.#connectTimer = undefined
    // A stream that stayed open for a while starts the backoff over; one that breaks at once
    // (e.g. refused by the peer) keeps growing it.
    if (this.#state === 'open' && this.#ctx.clock.now() - this.#openedAt >= this.#ctx.backoff.maxMs) this.#attempt = 0
    if (err !== null) {
      const cause = statusError(err)
      this.#log.warn('raft stream to peer failed', { address: this.#address, error: cause.name, message: cause.message })
      this.#ctx.unreachable(this.id)
    }
    const delay = backoffDelay(this.#attempt++, this.#ctx.backoff, this.#ctx.random)
    this.#state = 'backoff'
    this.#timer = this.#ctx.clock.setTimeout(() => {
      this.#timer = undefined
      if (this.#state !== 'backoff') return
      this.#state = 'idle'
      if (this.#queue.length > 0) this.#connect()
    }, delay)
  }

  /** Writes queued messages in order, in batches that fit `maxMessageBytes`, until flow control says wait. */
  #pump(): void {
    const call = this.#call
    while (call !== undefined && this.#state === 'open' && !this.#blocked && this.#queue.length > 0) {
      const first = this.#queue[0] as QueuedMessage
      if (first.kind === 'snapshot') {
        this.#queue.shift()
        this.#sendSnapshot(first.msg, first.header)
        continue
      }
      const batch: Uint8Array[] = []
      let size = 0
      for (let q = this.#queue[0]; q?.kind === 'message'; q = this.#queue[0]) {
        const cost = q.bytes.length + ENVELOPE_OVERHEAD_BYTES
        if (batch.length > 0 && size + cost > this.#ctx.maxMessageBytes) break
        batch.push(q.bytes)
        size += cost
        this.#queue.shift()
      }
      if (!call.write(batch)) {
        this.#blocked = true
        call.once('drain', () => {
          if (this.#call !== call) return
          this.#blocked = false
          this.#pump()
        })
      }
    }
  }

  /** Streams one snapshot on its own call; the outcome goes to `snapshotStatus`. */
  #sendSnapshot(msg: SnapshotMessage, header: WireObject): void {
    const data = msg.snapshot.data
    const step = this.#ctx.snapshotChunkBytes
    // The first chunk carries the header too: its data shrinks so that it fits maxMessageBytes.
    const headerBytes = transportSchema().message.encode(header).finish().length
    const firstRoom = Math.min(step, this.#ctx.maxMessageBytes - headerBytes - CHUNK_OVERHEAD_BYTES)
    if (firstRoom < 0) {
      this.#dropped++
      this.#tooLarge++
      this.#ctx.undeliverable(msg, 'too-large')
      this.#ctx.snapshotStatus(this.id, false)
      return
    }
    const call = this.#client.makeClientStreamRequest<OutboundChunk, SnapshotAck>(SEND_SNAPSHOT_PATH, serializeChunk, deserializeSnapshotAck, this.#ctx.metadata(), {}, (err) => {
      if (!this.#snapshots.delete(call)) return
      if (this.#state === 'closed') return this.#ctx.snapshotStatus(this.id, false)
      if (err === null) {
        this.#log.debug('raft snapshot sent', { bytes: data.length, index: msg.snapshot.metadata.index })
        this.#ctx.snapshotStatus(this.id, true)
        return
      }
      const cause = statusError(err)
      this.#log.warn('raft snapshot to peer failed', { address: this.#address, error: cause.name, message: cause.message })
      this.#ctx.unreachable(this.id)
      this.#ctx.snapshotStatus(this.id, false)
    })
    this.#snapshots.add(call)
    let offset = 0
    let first = true
    const writeMore = (): void => {
      while (this.#snapshots.has(call)) {
        const room = first ? firstRoom : step
        const piece = data.subarray(offset, Math.min(offset + room, data.length))
        const chunk: OutboundChunk = first ? { header, totalBytes: data.length, data: piece } : { data: piece }
        first = false
        offset += piece.length
        const flowing = call.write(chunk)
        if (offset >= data.length) {
          call.end()
          return
        }
        if (!flowing) {
          call.once('drain', writeMore)
          return
        }
      }
    }
    writeMore()
  }
}
