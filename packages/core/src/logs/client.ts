/**
 * The logs over gRPC, client side: {@link LogsClient} (a subscriber: the CLI, a `Cluster` handle)
 * and {@link LogBrokerClient} (a worker: what its `LogPublisher` talks to), each over one grpc-js
 * channel to one manager with the node's mTLS client credentials. Streams end without an error
 * when their signal aborts; every failure is the typed error the server sent (`fromGrpcError`),
 * transport trouble an `UnavailableError`.
 *
 * @module
 */
import { Client, type ChannelCredentials, type ChannelOptions, type ClientReadableStream, type ClientWritableStream } from '@grpc/grpc-js'
import { InvalidArgumentError, UnavailableError } from '@swarmkit-ts/api'
import { credentials as pkiCredentials } from '@swarmkit-ts/pki'
import { fromGrpcError } from '../rpc/errors.ts'
import { drained } from '../rpc/stream.ts'
import type { LogBrokerWorkerApi, LogCallOptions, LogMessage, LogsApi, PublishLogsMessage, SubscribeLogsRequest, SubscriptionMessage } from './types.ts'
import { nextOrAbort } from './async-queue.ts'
import { logsClientMethods } from './wire.ts'

/** Construction options of the logs clients. */
export interface LogsClientInit {
  /** The manager's cluster address, `host:port` (or `unix:/path` of its local control socket, with insecure credentials). */
  readonly address: string
  /** The node's mTLS client credentials (pki's `credentials.forClient(material, { clusterId })`). */
  readonly credentials: ChannelCredentials
  /** grpc-js channel options. @default pki's `credentials.channelOptions('manager')` */
  readonly channelOptions?: ChannelOptions
}

function openClient(init: LogsClientInit): Client {
  if (typeof init.address !== 'string' || !(/^.+:\d{1,5}$/.test(init.address) || /^unix:.+/.test(init.address))) {
    throw new InvalidArgumentError('address', `must be host:port or unix:/path, got ${String(init.address)}`)
  }
  if (init.credentials === undefined || init.credentials === null) throw new InvalidArgumentError('credentials', 'is required')
  return new Client(init.address, init.credentials, init.channelOptions ?? pkiCredentials.channelOptions('manager'))
}

/** Whether `signal` aborted (a function, so TypeScript does not narrow across awaits). */
const aborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true

/** A server stream as an async iterable that ends normally when `signal` aborts. */
async function* readStream<T>(open: () => ClientReadableStream<T>, signal: AbortSignal | undefined, closing: AbortSignal): AsyncGenerator<T> {
  if (signal?.aborted === true) return
  if (closing.aborted) throw new UnavailableError('the logs client is closed')
  const call = open()
  const cancel = (): void => call.cancel()
  signal?.addEventListener('abort', cancel, { once: true })
  closing.addEventListener('abort', cancel, { once: true })
  try {
    for await (const value of call as AsyncIterable<T>) yield value
  } catch (err) {
    if (aborted(signal)) return
    if (aborted(closing)) throw new UnavailableError('the logs client is closed', { cause: err })
    throw fromGrpcError(err)
  } finally {
    signal?.removeEventListener('abort', cancel)
    closing.removeEventListener('abort', cancel)
    call.cancel()
  }
}

/** A subscriber's {@link LogsApi} on one manager (the leader: followers answer `NotLeaderError`). */
export class LogsClient implements LogsApi {
  readonly #client: Client
  readonly #closing = new AbortController()

  /** @throws InvalidArgumentError naming a bad option. */
  constructor(init: LogsClientInit) {
    this.#client = openClient(init)
  }

  /** See {@link LogsApi.subscribe}. */
  async *subscribe(request: SubscribeLogsRequest, options: LogCallOptions = {}): AsyncGenerator<LogMessage> {
    const m = logsClientMethods.SubscribeLogs
    const batches = readStream(() => this.#client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, request), options.signal, this.#closing.signal)
    for await (const batch of batches) yield* batch
  }

  /** Cancels the calls in progress and closes the channel. Idempotent. */
  close(): void {
    if (this.#closing.signal.aborted) return
    this.#closing.abort()
    this.#client.close()
  }
}

/** A worker's {@link LogBrokerWorkerApi} on one manager; the node is the one its certificate names. */
export class LogBrokerClient implements LogBrokerWorkerApi {
  readonly #client: Client
  readonly #closing = new AbortController()

  /** @throws InvalidArgumentError naming a bad option. */
  constructor(init: LogsClientInit) {
    this.#client = openClient(init)
  }

  /** See {@link LogBrokerWorkerApi.listenSubscriptions}. */
  listenSubscriptions(options: LogCallOptions = {}): AsyncIterable<SubscriptionMessage> {
    const m = logsClientMethods.ListenSubscriptions
    return readStream(() => this.#client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, {}), options.signal, this.#closing.signal)
  }

  /** See {@link LogBrokerWorkerApi.publishLogs}. Resolves once the broker took every message. */
  async publishLogs(messages: AsyncIterable<PublishLogsMessage>, options: LogCallOptions = {}): Promise<void> {
    if (this.#closing.signal.aborted) throw new UnavailableError('the logs client is closed')
    const m = logsClientMethods.PublishLogs
    let call: ClientWritableStream<PublishLogsMessage> | undefined
    const answered = new Promise<void>((resolve, reject) => {
      call = this.#client.makeClientStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, (err) => (err === null ? resolve() : reject(err)))
    })
    const c = call as unknown as ClientWritableStream<PublishLogsMessage>
    const stop = new AbortController()
    const cancel = (): void => {
      stop.abort()
      c.cancel()
    }
    options.signal?.addEventListener('abort', cancel, { once: true })
    this.#closing.signal.addEventListener('abort', cancel, { once: true })
    // Aborted when the call ends (answered, failed or cancelled): the writer stops reading `messages`.
    const ended = new AbortController()
    void answered.then(
      () => ended.abort(),
      () => ended.abort(),
    )
    stop.signal.addEventListener('abort', () => ended.abort(), { once: true })
    const it = messages[Symbol.asyncIterator]()
    try {
      for (;;) {
        const r = await nextOrAbort(it, ended.signal)
        if (r === 'aborted' || r.done === true) break
        if (!c.write(r.value)) await drained(c, ended.signal)
      }
      c.end()
      await answered
    } catch (err) {
      if (aborted(options.signal)) return
      if (aborted(this.#closing.signal)) throw new UnavailableError('the logs client is closed', { cause: err })
      throw fromGrpcError(err)
    } finally {
      options.signal?.removeEventListener('abort', cancel)
      this.#closing.signal.removeEventListener('abort', cancel)
      void it.return?.()
    }
  }

  /** Cancels the calls in progress and closes the channel. Idempotent. */
  close(): void {
    if (this.#closing.signal.aborted) return
    this.#closing.abort()
    this.#client.close()
  }
}
