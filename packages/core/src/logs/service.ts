/**
 * The logs over gRPC, server side: {@link addLogsService} serves `Logs.SubscribeLogs` (manager
 * certificates, or whatever the local control socket's authorizer lets in) and the workers'
 * `LogBroker.ListenSubscriptions` / `PublishLogs` (worker and manager certificates; the node is
 * the one its certificate names) on a caller-owned grpc-js `Server`.
 *
 * @module
 */
import type { sendUnaryData, Server, ServerReadableStream, ServerWritableStream } from '@grpc/grpc-js'
import { NotLeaderError, PermissionDeniedError, silentLogger, UnavailableError, type Logger, type NodeRole } from '@swarmkit-ts/api'
import { authorize, type AuthorizeOptions, type CallWithAuthContext, type NodeIdentity } from '@swarmkit-ts/pki'
import { toGrpcError } from '../rpc/errors.ts'
import { drained } from '../rpc/stream.ts'
import type { LogBroker } from './log-broker.ts'
import type { LogsApi, PublishLogsMessage } from './types.ts'
import { logBrokerServerDefinition, logsCodec, logsServerDefinition } from './wire.ts'

/**
 * Decides who a call comes from: the caller's identity when its certificate has one of `roles`,
 * else a throw (`PermissionDeniedError`). See {@link authorizeLogsCaller}.
 */
export type LogsAuthorizer = (call: CallWithAuthContext, roles: readonly NodeRole[]) => NodeIdentity

/** The usual {@link LogsAuthorizer}: pki's `authorize` with the cluster id and deny list of `options`. */
export function authorizeLogsCaller(options?: AuthorizeOptions): LogsAuthorizer {
  return (call, roles) => authorize(call, roles, options)
}

/** What {@link addLogsService} needs. */
export interface LogsServiceInit {
  /** The running broker while this manager leads; `undefined` otherwise (read at every call). */
  readonly broker: () => LogBroker | undefined
  /** Authorizes each call and names its node. */
  readonly authorize: LogsAuthorizer
  /** The leader's cluster address when known, for the `NotLeaderError` of a follower. */
  readonly leaderAddress?: () => string | undefined
  /** Where refused calls are reported (debug level). @default silentLogger */
  readonly logger?: Logger
}

/** The logs services registered on a server. */
export interface LogsService {
  /** Calls in progress (subscriptions, listen streams, publish streams). */
  readonly openCalls: number
  /** Ends every call in progress with `UnavailableError` (the node is closing). */
  closeAll(): void
}

/** Roles allowed to subscribe, and to listen / publish as a node running tasks. */
const SUBSCRIBERS: readonly NodeRole[] = ['manager']
const PUBLISHERS: readonly NodeRole[] = ['worker', 'manager']

class LogsHandlers implements LogsService {
  readonly #init: LogsServiceInit
  readonly #logger: Logger
  readonly #open = new Set<(err: Error) => void>()
  readonly #local: (() => LogsApi) | undefined

  /** `local`: subscriptions go there, unauthorized (the local control socket). */
  constructor(init: LogsServiceInit, local?: () => LogsApi) {
    this.#init = init
    this.#logger = init.logger ?? silentLogger
    this.#local = local
  }

  get openCalls(): number {
    return this.#open.size
  }

  closeAll(): void {
    for (const fail of [...this.#open]) fail(new UnavailableError('the manager is closing its log streams'))
  }

  #broker(call: CallWithAuthContext, roles: readonly NodeRole[]): { broker: LogBroker; nodeId: string } {
    const { nodeId } = this.#init.authorize(call, roles)
    const broker = this.#init.broker()
    if (broker === undefined) {
      const leaderAddr = this.#init.leaderAddress?.()
      throw new NotLeaderError(leaderAddr === undefined ? {} : { leaderAddr })
    }
    return { broker, nodeId }
  }

  subscribeLogs = (call: ServerWritableStream<Buffer, Buffer>): void => {
    void this.#serve(call, (signal) => {
      const local = this.#local
      if (local !== undefined) return mapIterable(local().subscribe(logsCodec.decodeSubscribeRequest(call.request), { signal }), (m) => logsCodec.encodeBatch([m]))
      const { broker } = this.#broker(call, SUBSCRIBERS)
      const request = logsCodec.decodeSubscribeRequest(call.request)
      return mapIterable(broker.subscribe(request, { signal }), (m) => logsCodec.encodeBatch([m]))
    })
  }

  listenSubscriptions = (call: ServerWritableStream<Buffer, Buffer>): void => {
    void this.#serve(call, (signal) => {
      const { broker, nodeId } = this.#broker(call, PUBLISHERS)
      return mapIterable(broker.listenSubscriptions(nodeId, { signal }), logsCodec.encodeSubscription)
    })
  }

  publishLogs = (call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
    const inner = new AbortController()
    let failure: Error | undefined
    const fail = (err: Error): void => {
      failure ??= err
      inner.abort()
    }
    const onCancelled = (): void => inner.abort()
    call.on('cancelled', onCancelled)
    this.#open.add(fail)
    const run = async (): Promise<void> => {
      const { broker, nodeId } = this.#broker(call, PUBLISHERS)
      await broker.publishLogs(nodeId, decodedStream(call), { signal: inner.signal })
      if (failure !== undefined) throw failure
    }
    run().then(
      () => callback(null, logsCodec.encodePublished()),
      (err: unknown) => {
        this.#logger.debug('logs service: publish refused', { err: String(err) })
        callback(toGrpcError(err))
      },
    ).finally(() => {
      this.#open.delete(fail)
      call.off('cancelled', onCancelled)
      inner.abort()
    })
  }

  async #serve(call: ServerWritableStream<Buffer, Buffer>, open: (signal: AbortSignal) => AsyncIterable<Buffer>): Promise<void> {
    // Aborting ends the broker's stream without an error: the client cancelled, or `closeAll`.
    const inner = new AbortController()
    let failure: Error | undefined
    let cancelled = false
    const fail = (err: Error): void => {
      failure ??= err
      inner.abort()
    }
    const onCancelled = (): void => {
      cancelled = true
      inner.abort()
    }
    call.on('cancelled', onCancelled)
    this.#open.add(fail)
    try {
      for await (const bytes of open(inner.signal)) {
        if (inner.signal.aborted) break
        if (!call.write(bytes)) await drained(call, inner.signal)
      }
      if (failure !== undefined) throw failure
      if (!cancelled) call.end()
    } catch (err) {
      if (!cancelled) {
        this.#logger.debug('logs service: stream ended with an error', { path: call.getPath(), err: String(err) })
        call.emit('error', toGrpcError(failure ?? err))
      }
    } finally {
      this.#open.delete(fail)
      call.off('cancelled', onCancelled)
      inner.abort()
    }
  }
}

async function* mapIterable<T, U>(it: AsyncIterable<T>, f: (t: T) => U): AsyncGenerator<U> {
  for await (const v of it) yield f(v)
}

/** The messages of a client stream, decoded (a malformed one throws `InvalidArgumentError`). */
async function* decodedStream(call: ServerReadableStream<Buffer, Buffer>): AsyncGenerator<PublishLogsMessage> {
  for await (const chunk of call as AsyncIterable<Buffer>) yield logsCodec.decodePublish(chunk)
}

/** What {@link addLocalLogsService} needs. */
export interface LocalLogsServiceInit {
  /** Where subscriptions go: the manager's client of the leader's broker (`LeaderLogsClient`), read at every call. */
  readonly logs: () => LogsApi
  /** @default silentLogger */
  readonly logger?: Logger
}

/**
 * Registers `swarmkit.core.v1.Logs/SubscribeLogs` on a manager's local control socket (no
 * certificates: the socket's file mode is the guard), each subscription forwarded to the
 * leader's broker through `init.logs()` — SwarmKit serves its logs API on the local socket the
 * same way. Publishing is not served there.
 */
export function addLocalLogsService(server: Server, init: LocalLogsServiceInit): LogsService {
  const refuse = (): never => {
    throw new PermissionDeniedError('the local logs service only subscribes')
  }
  const h = new LogsHandlers({ broker: () => undefined, authorize: refuse, ...(init.logger === undefined ? {} : { logger: init.logger }) }, init.logs)
  server.addService(logsServerDefinition, { SubscribeLogs: h.subscribeLogs })
  return h
}

/**
 * Registers the `swarmkit.core.v1.Logs` and `swarmkit.core.v1.LogBroker` services on `server`.
 * Call it once per server, before it starts. A manager that is not the leader (no running broker)
 * refuses every call with `NotLeaderError` carrying the leader's address when known.
 */
export function addLogsService(server: Server, init: LogsServiceInit): LogsService {
  const h = new LogsHandlers(init)
  server.addService(logsServerDefinition, { SubscribeLogs: h.subscribeLogs })
  server.addService(logBrokerServerDefinition, { ListenSubscriptions: h.listenSubscriptions, PublishLogs: h.publishLogs })
  return h
}
