/**
 * The receiving side of {@link GrpcRaftTransport}: handlers of the `swarmkit.raft.v1.Raft`
 * service. Every call is authorized before anything of it is delivered (see
 * grpc-transport-auth.ts): a call that names no sending member, or that the authorizer refuses,
 * ends with PERMISSION_DENIED; so does a call with a message whose `from` is not the authorized
 * member (relayed types aside), before any message of its batch is delivered. Envelopes whose
 * messages are not all addressed to this member are refused whole (FAILED_PRECONDITION,
 * `FailedPreconditionError` with reason `wrong-member`); malformed input is refused with
 * INVALID_ARGUMENT (`InvalidArgumentError` naming the field). Every open call is tracked so that
 * `closeAll` can end them before the server shuts down.
 *
 * @internal
 */
import { X509Certificate } from 'node:crypto'
import type { sendUnaryData, ServerReadableStream, UntypedServiceImplementation } from '@grpc/grpc-js'
import { Metadata } from '@grpc/grpc-js'
import { FailedPreconditionError, InvalidArgumentError, PermissionDeniedError, UnavailableError } from '@swarmkit-ts/api'
import type { RaftMemberId } from '@swarmkit-ts/api'
import type { MessageOrigin } from './transport.ts'
import type { Message, SnapshotMessage } from '../core/types.ts'
import { RELAYED_MESSAGE_TYPES, type RaftAuthorization, type RaftCallInfo } from './grpc-transport-auth.ts'
import { errorStatus, readOrigin, readOriginId, type Decoded, type InboundChunk, type SnapshotAck, type StreamAck } from './grpc-transport-wire.ts'

/** What the handlers need from the transport. */
export interface InboundSink {
  /** This member's id. */
  readonly id: RaftMemberId
  /** Whether messages may still be delivered (false once stopping). */
  accepting(): boolean
  /** Hands a message to the transport's handlers, with the sender named by the call's metadata. */
  deliver(msg: Message, origin: MessageOrigin | undefined): void
  /** Decides whether a call may speak as its claimed member (the sink adds what it knows of itself). */
  authorize(call: Omit<RaftCallInfo, 'localCertificate'>): RaftAuthorization
  /** Counts a refused call, for diagnostics. */
  refused(reason: string, call: { claimedId: RaftMemberId | undefined; peerAddress: string }): void
}

/** The part of a grpc-js server call that carries the peer (every server call type has it). */
interface PeerOfCall {
  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: { raw?: Buffer } }
  getPeer(): string
  readonly metadata: Metadata
}

interface OpenCall {
  /** Ends the call with `err` (no-op once ended). */
  fail(err: Error): void
}

/** The reason of the refusal of a message to another member. */
export const WRONG_MEMBER_REASON = 'wrong-member'

/** Handlers of the Raft service for one transport, with the set of calls in progress. */
export class RaftServiceHandlers {
  readonly #sink: InboundSink
  readonly #open = new Set<OpenCall>()

  constructor(sink: InboundSink) {
    this.#sink = sink
  }

  /** The implementation object for `Server.addService`. */
  implementation(): UntypedServiceImplementation {
    return {
      Stream: (call: ServerReadableStream<Decoded<Message[]>, StreamAck>, cb: sendUnaryData<StreamAck>) => this.#stream(call, cb),
      SendSnapshot: (call: ServerReadableStream<Decoded<InboundChunk>, SnapshotAck>, cb: sendUnaryData<SnapshotAck>) => this.#snapshot(call, cb),
    }
  }

  /** Number of calls in progress. */
  get openCalls(): number {
    return this.#open.size
  }

  /** Ends every call in progress with UNAVAILABLE (the member is stopping). */
  closeAll(): void {
    for (const c of [...this.#open]) c.fail(new UnavailableError(`raft member ${this.#sink.id} is stopping`))
  }

  /** Tracks a call; `finish` answers it exactly once and forgets it. */
  #track<Req, Res>(call: ServerReadableStream<Req, Res>, cb: sendUnaryData<Res>): { done: () => boolean; finish: (err: Error | null, res?: Res) => void } {
    let ended = false
    const finish = (err: Error | null, res?: Res): void => {
      if (ended) return
      ended = true
      this.#open.delete(entry)
      if (err === null) cb(null, res)
      else cb(errorStatus(err))
    }
    const entry: OpenCall = { fail: (err) => finish(err) }
    this.#open.add(entry)
    // A cancelled call is answered by no one; just forget it.
    call.on('cancelled', () => {
      ended = true
      this.#open.delete(entry)
    })
    call.on('error', () => {
      ended = true
      this.#open.delete(entry)
    })
    return { done: () => ended, finish }
  }

  /** Refuses a message that is not for this member, or not from the authorized one. */
  #check(m: Message, sender: RaftMemberId): Error | undefined {
    if (m.from !== sender && !(RELAYED_MESSAGE_TYPES.has(m.type) && m.from !== 0n)) {
      return new PermissionDeniedError(`a ${m.type} message from member ${m.from} came on a call authorized for member ${sender}`)
    }
    if (m.to === this.#sink.id) return undefined
    return new FailedPreconditionError(`a ${m.type} message for member ${m.to} reached member ${this.#sink.id}`, { reason: WRONG_MEMBER_REASON })
  }

  /** The member a call may speak as, or the PermissionDeniedError that refuses it. */
  #authorize(call: PeerOfCall, kind: RaftCallInfo['kind']): RaftMemberId | PermissionDeniedError {
    const claimedId = readOriginId(call.metadata)
    const peerAddress = call.getPeer()
    const refuse = (reason: string): PermissionDeniedError => {
      this.#sink.refused(reason, { claimedId, peerAddress })
      return new PermissionDeniedError(`raft call refused: ${reason}`)
    }
    if (claimedId === undefined) return refuse('the call names no sending member')
    let peerCertificate: X509Certificate | undefined
    const ctx = call.getAuthContext()
    const raw = ctx.transportSecurityType === 'ssl' ? ctx.sslPeerCertificate?.raw : undefined
    if (raw !== undefined) {
      try {
        peerCertificate = new X509Certificate(raw)
      } catch {
        return refuse('the client certificate cannot be parsed')
      }
    }
    let verdict: RaftAuthorization
    try {
      verdict = this.#sink.authorize({ kind, claimedId, peerCertificate, peerAddress })
    } catch (err) {
      return refuse(`the authorizer failed: ${err instanceof Error ? err.message : String(err)}`)
    }
    return verdict.allowed ? claimedId : refuse(verdict.reason)
  }

  #stream(call: ServerReadableStream<Decoded<Message[]>, StreamAck>, cb: sendUnaryData<StreamAck>): void {
    const c = this.#track(call, cb)
    if (!this.#sink.accepting()) return c.finish(new UnavailableError(`raft member ${this.#sink.id} is stopping`))
    const sender = this.#authorize(call, 'stream')
    if (sender instanceof Error) return c.finish(sender)
    // Answer the headers at once: the sender takes them as "connected".
    call.sendMetadata(new Metadata())
    const origin = readOrigin(call.metadata)
    let delivered = 0
    call.on('data', (d: Decoded<Message[]>) => {
      if (c.done()) return
      if (!d.ok) return c.finish(d.error)
      for (const m of d.value) {
        const wrong = this.#check(m, sender)
        if (wrong !== undefined) return c.finish(wrong)
      }
      for (const m of d.value) this.#sink.deliver(m, origin)
      delivered += d.value.length
    })
    call.on('end', () => c.finish(null, { delivered }))
  }

  #snapshot(call: ServerReadableStream<Decoded<InboundChunk>, SnapshotAck>, cb: sendUnaryData<SnapshotAck>): void {
    const c = this.#track(call, cb)
    if (!this.#sink.accepting()) return c.finish(new UnavailableError(`raft member ${this.#sink.id} is stopping`))
    const sender = this.#authorize(call, 'snapshot')
    if (sender instanceof Error) return c.finish(sender)
    const origin = readOrigin(call.metadata)
    let header: SnapshotMessage | undefined
    let total = 0
    let received = 0
    const parts: Uint8Array[] = []
    call.on('data', (d: Decoded<InboundChunk>) => {
      if (c.done()) return
      if (!d.ok) return c.finish(d.error)
      const chunk = d.value
      if (header === undefined) {
        const m = chunk.message
        if (m === undefined || m.type !== 'snapshot') return c.finish(new InvalidArgumentError('message', 'the first chunk must carry a snapshot message'))
        const wrong = this.#check(m, sender)
        if (wrong !== undefined) return c.finish(wrong)
        header = m
        total = chunk.totalBytes
      } else if (chunk.message !== undefined) {
        return c.finish(new InvalidArgumentError('message', 'only the first chunk carries the message'))
      }
      received += chunk.data.length
      if (received > total) return c.finish(new InvalidArgumentError('data', `more than the announced ${total} bytes`))
      parts.push(chunk.data)
    })
    call.on('end', () => {
      if (c.done()) return
      if (header === undefined) return c.finish(new InvalidArgumentError('message', 'no chunk received'))
      if (received !== total) return c.finish(new InvalidArgumentError('data', `received ${received} of ${total} bytes`))
      const data = new Uint8Array(total)
      let at = 0
      for (const p of parts) {
        data.set(p, at)
        at += p.length
      }
      this.#sink.deliver({ ...header, snapshot: { metadata: header.snapshot.metadata, data } }, origin)
      c.finish(null, { receivedBytes: total })
    })
  }
}
